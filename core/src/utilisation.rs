//! Utilisation: how much of each practitioner's and each room's available
//! time the booked calendar fills, over a run of days.
//!
//! Available time is the opening hours of each day, narrowed to the
//! practitioner's own weekly windows when they have any (as the scheduler
//! reads them), with no time on their days off; a room is available for
//! the opening hours. Booked time is the minutes of booked and completed
//! appointments (heat and cold steps included, since they occupy the
//! practitioner and the room); a group class counts once, however many
//! places are taken. No-shows are counted apart.
//!
//! ```
//! use praxis_core::utilisation::utilisation;
//! use praxis_sdk::{Date, TimeOfDay, Weekday, WeeklyWindow};
//! use praxis_sdk::schedule::Practitioner;
//!
//! let monday = Date::from_ymd(2026, 11, 30).unwrap();
//! let hours = [WeeklyWindow {
//!     day: Weekday::Monday,
//!     start: TimeOfDay::from_hm(9, 0).unwrap(),
//!     end: TimeOfDay::from_hm(17, 0).unwrap(),
//! }];
//! let ana = Practitioner {
//!     id: "ana".into(),
//!     name: "Ana".into(),
//!     disciplines: vec![],
//!     availability: vec![],
//!     time_off: vec![],
//! };
//! let u = utilisation(&hours, &[ana], &[], &[], monday, 7);
//! assert_eq!(u.practitioners[0].available_minutes, 8 * 60);
//! assert_eq!(u.practitioners[0].booked_minutes, 0);
//! ```

use std::collections::BTreeSet;

use praxis_sdk::schedule::{Practitioner, Room};
use praxis_sdk::{Date, WeeklyWindow};
use serde::Serialize;

use crate::store::{Appointment, AppointmentStatus};

/// One practitioner's or room's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UtilisationRow {
    /// The practitioner's or room's id.
    pub id: String,
    /// Its name for people.
    pub name: String,
    /// Minutes it was available.
    pub available_minutes: u32,
    /// Minutes of booked and completed appointments.
    pub booked_minutes: u32,
    /// Minutes of appointments the client did not come to.
    pub no_show_minutes: u32,
}

impl UtilisationRow {
    /// Booked minutes over available minutes, in percent (0 when nothing
    /// was available).
    pub fn percent(&self) -> u32 {
        if self.available_minutes == 0 {
            return 0;
        }
        ((u64::from(self.booked_minutes) * 100 + u64::from(self.available_minutes) / 2)
            / u64::from(self.available_minutes)) as u32
    }
}

/// Utilisation over `days` days from `from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Utilisation {
    /// First day.
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    /// Number of days.
    pub days: u32,
    /// Per practitioner, in the config's order.
    pub practitioners: Vec<UtilisationRow>,
    /// Per room, in the config's order.
    pub rooms: Vec<UtilisationRow>,
}

/// Booked and completed count alike; no-shows and cancellations apart.
fn bucket(status: AppointmentStatus) -> u8 {
    match status {
        AppointmentStatus::Booked | AppointmentStatus::Completed => 0,
        AppointmentStatus::NoShow => 1,
        AppointmentStatus::Cancelled => 2,
    }
}

/// Minutes of `windows` on `day` that fall inside `within` on that day.
fn overlap(windows: &[WeeklyWindow], within: &[WeeklyWindow], day: Date) -> u32 {
    let weekday = day.weekday();
    let mut minutes = 0u32;
    for w in windows.iter().filter(|w| w.day == weekday) {
        for o in within.iter().filter(|o| o.day == weekday) {
            let start = w.start.minutes().max(o.start.minutes());
            let end = w.end.minutes().min(o.end.minutes());
            minutes += u32::from(end.saturating_sub(start));
        }
    }
    minutes
}

/// The figures for `practitioners` and `rooms` from the practice's opening
/// `hours` and its `appointments` (any status; those outside the days are
/// ignored).
pub fn utilisation(
    hours: &[WeeklyWindow],
    practitioners: &[Practitioner],
    rooms: &[Room],
    appointments: &[Appointment],
    from: Date,
    days: u32,
) -> Utilisation {
    let days_i = i32::try_from(days).unwrap_or(i32::MAX);
    let inside = |a: &Appointment| {
        let d = a.start.date.days_since(from);
        (0..days_i).contains(&d)
    };
    // A class's places are one entry for its practitioner and its room.
    let mut classes = BTreeSet::new();
    let counted: Vec<&Appointment> = appointments
        .iter()
        .filter(|a| inside(a))
        .filter(|a| match &a.class {
            Some(class) => classes.insert((class.clone(), a.start, bucket(a.status))),
            None => true,
        })
        .collect();
    let sums = |matches: &dyn Fn(&Appointment) -> bool| {
        let (mut booked, mut no_show) = (0u32, 0u32);
        for a in counted.iter().filter(|a| matches(a)) {
            match a.status {
                AppointmentStatus::Booked | AppointmentStatus::Completed => booked += u32::from(a.minutes),
                AppointmentStatus::NoShow => no_show += u32::from(a.minutes),
                AppointmentStatus::Cancelled => {}
            }
        }
        (booked, no_show)
    };
    let name_or_id = |name: &str, id: &str| if name.is_empty() { id.to_owned() } else { name.to_owned() };
    let practitioners = practitioners
        .iter()
        .map(|p| {
            let available = (0..days_i)
                .map(|d| from.add_days(d))
                .filter(|day| !p.time_off.iter().any(|off| off.contains(*day)))
                .map(|day| {
                    if p.availability.is_empty() {
                        overlap(hours, hours, day)
                    } else {
                        overlap(&p.availability, hours, day)
                    }
                })
                .sum();
            let (booked, no_show) = sums(&|a: &Appointment| a.practitioner == p.id);
            UtilisationRow {
                id: p.id.clone(),
                name: name_or_id(&p.name, &p.id),
                available_minutes: available,
                booked_minutes: booked,
                no_show_minutes: no_show,
            }
        })
        .collect();
    let rooms = rooms
        .iter()
        .map(|r| {
            let available = (0..days_i).map(|d| overlap(hours, hours, from.add_days(d))).sum();
            let (booked, no_show) = sums(&|a: &Appointment| a.room == r.id);
            UtilisationRow {
                id: r.id.clone(),
                name: name_or_id(&r.name, &r.id),
                available_minutes: available,
                booked_minutes: booked,
                no_show_minutes: no_show,
            }
        })
        .collect();
    Utilisation { from, days, practitioners, rooms }
}
