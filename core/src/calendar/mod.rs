//! The practice calendar and the host's appointment checker.
//!
//! [`Calendar`] holds what the practice's configuration says about time and
//! place: opening hours and time zone, practitioners (disciplines, weekly
//! availability, time off), rooms (kind, capacity) and recurring group
//! classes. [`Calendar::request`] turns it, with the booked appointments and
//! the clients' care plans, into the [`ScheduleRequest`] a scheduler plugin
//! answers; [`Calendar::check`] then validates every proposed appointment on
//! its own, against rules C2 to C5 of `GUIDANCE-RULES.md` (architecture
//! invariant 6: the host never trusts plugin output), and
//! [`Calendar::review`] refuses each visit that breaks one, naming the
//! constraint. The checker shares no code with any plugin: independence is
//! the point. [`Calendar::check_booking`] validates an appointment the front
//! desk asks for by hand.
//!
//! Booking what a review accepted is one store transaction: pass
//! [`Review::accepted`] to the store's `book` in one call.
//!
//! ```
//! use praxis_core::calendar::{Calendar, CalendarRules};
//! use praxis_sdk::schedule::{Appointment, Practitioner, Room, RoomKind};
//! use praxis_sdk::{Discipline, Weekday, WeeklyWindow};
//!
//! let open = WeeklyWindow { day: Weekday::Monday, start: "09:00".parse().unwrap(), end: "17:00".parse().unwrap() };
//! let calendar = Calendar::new(
//!     "Europe/London",
//!     vec![open],
//!     vec![Practitioner {
//!         id: "ana".into(),
//!         name: String::new(),
//!         disciplines: vec![Discipline::Massage],
//!         availability: vec![],
//!         time_off: vec![],
//!     }],
//!     vec![Room { id: "t1".into(), name: String::new(), kind: RoomKind::TreatmentRoom, capacity: 1 }],
//!     vec![],
//!     CalendarRules::default(),
//! )
//! .unwrap();
//! // A Monday at 08:30: before the practice opens.
//! let early = Appointment {
//!     client: "c1".into(),
//!     practitioner: "ana".into(),
//!     room: "t1".into(),
//!     discipline: Discipline::Massage,
//!     start: "2026-11-23T08:30".parse().unwrap(),
//!     minutes: 30,
//!     visit: None,
//!     adjunct: None,
//!     class: None,
//! };
//! let today = "2026-11-21".parse().unwrap();
//! let refused = calendar.check_booking(today, &[], None, &[early]).unwrap_err();
//! assert!(refused[0].to_string().contains("outside opening hours"));
//! ```

mod check;

use std::collections::{HashMap, HashSet};
use std::fmt;

use praxis_sdk::schedule::{
    Appointment, CarePlan, GroupClass, Late, Practitioner, Room, ScheduleProposal, ScheduleRequest, Unmet,
};
use praxis_sdk::{Date, Discipline, Settings, WeeklyWindow};

pub use check::{Constraint, Violation, suitable_room_kinds};

/// The planning horizon when none is given: 8 weeks (project default).
pub const DEFAULT_HORIZON_DAYS: u32 = 56;
/// The cap of rule C5 when the practice sets none (project default): visits in any run of
/// [`DEFAULT_CAP_WINDOW_DAYS`] consecutive days.
pub const DEFAULT_WEEKLY_CAP: u32 = 3;
/// The run of consecutive days rule C5's cap counts over (project default: 7, "a week").
pub const DEFAULT_CAP_WINDOW_DAYS: u32 = 7;

/// The values of rules C5 that the checker enforces. They are the same keys
/// as the combined-therapy plugin's settings, so the practice sets them once:
/// build them with [`CalendarRules::from_settings`] from that plugin's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarRules {
    /// At most this many visits in any `window_days` consecutive days for a client with fibromyalgia (C5,
    /// project default 3).
    pub weekly_cap: u32,
    /// The run of consecutive days the cap counts over (C5 says "a week"; project default 7). Settings key
    /// `cap_window_days`.
    pub window_days: u32,
    /// No two visits on one day for a client with fibromyalgia (C5, project default `true`).
    pub same_day_bundled_only: bool,
}

impl Default for CalendarRules {
    fn default() -> CalendarRules {
        CalendarRules {
            weekly_cap: DEFAULT_WEEKLY_CAP,
            window_days: DEFAULT_CAP_WINDOW_DAYS,
            same_day_bundled_only: true,
        }
    }
}

impl CalendarRules {
    /// Reads `weekly_cap`, `cap_window_days` and `same_day_bundled_only` from a scheduler plugin's
    /// settings; absent keys keep their defaults, other keys are not the checker's.
    pub fn from_settings(settings: &Settings) -> Result<CalendarRules, CalendarError> {
        let mut rules = CalendarRules::default();
        if let Some(v) = settings.get("weekly_cap") {
            match v.as_u64() {
                Some(n @ 1..=21) => rules.weekly_cap = n as u32,
                _ => {
                    return Err(CalendarError::BadRule(format!(
                        "weekly_cap {v} is not a whole number from 1 to 21: give the visits allowed per week (C5)"
                    )));
                }
            }
        }
        if let Some(v) = settings.get("cap_window_days") {
            match v.as_u64() {
                Some(n @ 1..=28) => rules.window_days = n as u32,
                _ => {
                    return Err(CalendarError::BadRule(format!(
                        "cap_window_days {v} is not a whole number from 1 to 28: give the run of days the C5 cap counts over, such as 7"
                    )));
                }
            }
        }
        if let Some(v) = settings.get("same_day_bundled_only") {
            rules.same_day_bundled_only = v.as_bool().ok_or_else(|| {
                CalendarError::BadRule(format!("same_day_bundled_only {v} is not true or false (C5)"))
            })?;
        }
        Ok(rules)
    }
}

/// Why a calendar is not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarError {
    /// The time zone is not in the time zone database.
    UnknownTimeZone {
        /// The name given.
        name: String,
        /// What the database said.
        error: String,
    },
    /// Two entries of one kind share an id.
    DuplicateId {
        /// `practitioner`, `room` or `class`.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// An id is empty.
    EmptyId {
        /// `practitioner`, `room` or `class`.
        kind: &'static str,
    },
    /// A weekly window ends before it starts.
    BadWindow {
        /// Whose window.
        whose: String,
        /// The window.
        window: WeeklyWindow,
    },
    /// Time off ends before it starts.
    BadTimeOff {
        /// The practitioner.
        practitioner: String,
        /// First day.
        from: Date,
        /// Last day.
        to: Date,
    },
    /// A room or class holds nobody.
    ZeroCapacity {
        /// `room` or `class`.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// A class names a practitioner or room that is not in the calendar.
    UnknownReference {
        /// The class.
        class: String,
        /// `practitioner` or `room`.
        kind: &'static str,
        /// The missing id.
        id: String,
    },
    /// A class breaks a scheduling rule on its own (its practitioner is not
    /// qualified, its room is not a studio, it lies outside hours...).
    BadClass {
        /// The class.
        class: String,
        /// What is wrong.
        problem: String,
    },
    /// A C5 value is out of range.
    BadRule(String),
}

impl fmt::Display for CalendarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalendarError::UnknownTimeZone { name, error } => {
                write!(f, "time zone `{name}` is not known ({error}): give an IANA name such as `Europe/London`")
            }
            CalendarError::DuplicateId { kind, id } => {
                write!(f, "{kind} `{id}` appears twice in the calendar: give each {kind} one entry")
            }
            CalendarError::EmptyId { kind } => write!(f, "a {kind} has an empty id: give every {kind} an id"),
            CalendarError::BadWindow { whose, window } => write!(
                f,
                "{whose} has a window on {} from {} to {} that does not end after it starts: give an end later than the start",
                window.day, window.start, window.end
            ),
            CalendarError::BadTimeOff { practitioner, from, to } => write!(
                f,
                "practitioner `{practitioner}` has time off from {from} to {to}: the last day is before the first"
            ),
            CalendarError::ZeroCapacity { kind, id } => {
                write!(f, "{kind} `{id}` has capacity 0: give how many clients it takes at once")
            }
            CalendarError::UnknownReference { class, kind, id } => write!(
                f,
                "group class `{class}` names {kind} `{id}`, which is not in the calendar: add it or correct the class"
            ),
            CalendarError::BadClass { class, problem } => write!(f, "group class `{class}`: {problem}"),
            CalendarError::BadRule(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CalendarError {}

/// The practice's calendar: hours, time zone, practitioners, rooms, classes
/// and the C5 values. Build it with [`Calendar::new`] (which checks it) or as
/// a struct literal followed by [`Calendar::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    /// IANA time zone name of the practice; all times are local to it.
    pub time_zone: String,
    /// Opening hours, week by week.
    pub opening_hours: Vec<WeeklyWindow>,
    /// Practitioners.
    pub practitioners: Vec<Practitioner>,
    /// Rooms.
    pub rooms: Vec<Room>,
    /// Recurring group classes.
    pub classes: Vec<GroupClass>,
    /// The C5 values the checker enforces.
    pub rules: CalendarRules,
}

/// What the host made of a scheduler's proposal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Review {
    /// Appointments that passed every check, in the proposal's order: book them in one store transaction.
    pub accepted: Vec<Appointment>,
    /// Visits refused, each with the constraints it broke.
    pub refused: Vec<Refusal>,
    /// Demand the plugin reported it could not meet.
    pub unmet: Vec<Unmet>,
    /// Accepted massages the plugin placed after their window, for the front desk to confirm.
    pub late: Vec<Late>,
}

/// One refused visit: all its appointments (heat, massage and cold go together) and why.
/// A violation's `index` is the appointment's place in the round of checking that refused it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Refusal {
    /// The appointments of the visit.
    pub appointments: Vec<Appointment>,
    /// The constraints broken.
    pub violations: Vec<Violation>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for v in &self.violations {
            if !first {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
            first = false;
        }
        Ok(())
    }
}

impl Calendar {
    /// A checked calendar.
    pub fn new(
        time_zone: &str,
        opening_hours: Vec<WeeklyWindow>,
        practitioners: Vec<Practitioner>,
        rooms: Vec<Room>,
        classes: Vec<GroupClass>,
        rules: CalendarRules,
    ) -> Result<Calendar, CalendarError> {
        let calendar =
            Calendar { time_zone: time_zone.to_owned(), opening_hours, practitioners, rooms, classes, rules };
        calendar.validate()?;
        Ok(calendar)
    }

    /// Checks the calendar's own shape; the first problem found.
    pub fn validate(&self) -> Result<(), CalendarError> {
        jiff::tz::TimeZone::get(&self.time_zone)
            .map_err(|e| CalendarError::UnknownTimeZone { name: self.time_zone.clone(), error: e.to_string() })?;
        let windows = |whose: &str, list: &[WeeklyWindow]| {
            list.iter()
                .find(|w| w.start >= w.end)
                .map_or(Ok(()), |w| Err(CalendarError::BadWindow { whose: whose.to_owned(), window: *w }))
        };
        windows("the practice's opening hours", &self.opening_hours)?;
        if !(1..=21).contains(&self.rules.weekly_cap) {
            return Err(CalendarError::BadRule(format!(
                "weekly_cap {} is not from 1 to 21: give the visits allowed per week (C5)",
                self.rules.weekly_cap
            )));
        }
        if !(1..=28).contains(&self.rules.window_days) {
            return Err(CalendarError::BadRule(format!(
                "cap_window_days {} is not from 1 to 28: give the run of days the C5 cap counts over, such as 7",
                self.rules.window_days
            )));
        }
        let mut seen = HashSet::new();
        for p in &self.practitioners {
            if p.id.trim().is_empty() {
                return Err(CalendarError::EmptyId { kind: "practitioner" });
            }
            if !seen.insert(p.id.as_str()) {
                return Err(CalendarError::DuplicateId { kind: "practitioner", id: p.id.clone() });
            }
            windows(&format!("practitioner `{}`", p.id), &p.availability)?;
            if let Some(r) = p.time_off.iter().find(|r| r.from > r.to) {
                return Err(CalendarError::BadTimeOff { practitioner: p.id.clone(), from: r.from, to: r.to });
            }
        }
        let mut seen = HashSet::new();
        for r in &self.rooms {
            if r.id.trim().is_empty() {
                return Err(CalendarError::EmptyId { kind: "room" });
            }
            if !seen.insert(r.id.as_str()) {
                return Err(CalendarError::DuplicateId { kind: "room", id: r.id.clone() });
            }
            if r.capacity == 0 {
                return Err(CalendarError::ZeroCapacity { kind: "room", id: r.id.clone() });
            }
        }
        let mut seen = HashSet::new();
        for c in &self.classes {
            if c.id.trim().is_empty() {
                return Err(CalendarError::EmptyId { kind: "class" });
            }
            if !seen.insert(c.id.as_str()) {
                return Err(CalendarError::DuplicateId { kind: "class", id: c.id.clone() });
            }
            if c.capacity == 0 {
                return Err(CalendarError::ZeroCapacity { kind: "class", id: c.id.clone() });
            }
            let unknown =
                |kind, id: &str| CalendarError::UnknownReference { class: c.id.clone(), kind, id: id.to_owned() };
            let practitioner = self
                .practitioners
                .iter()
                .find(|p| p.id == c.practitioner)
                .ok_or_else(|| unknown("practitioner", &c.practitioner))?;
            let room = self.rooms.iter().find(|r| r.id == c.room).ok_or_else(|| unknown("room", &c.room))?;
            let bad = |problem: String| Err(CalendarError::BadClass { class: c.id.clone(), problem });
            if !practitioner.disciplines.contains(&c.discipline) {
                return bad(format!("practitioner `{}` is not qualified in {} (C3)", c.practitioner, c.discipline));
            }
            if room.kind != praxis_sdk::schedule::RoomKind::Studio {
                return bad(format!("room `{}` is not a studio; group classes need one (C3)", c.room));
            }
            let end = u32::from(c.start.minutes()) + u32::from(c.minutes);
            if c.minutes == 0 || end > 24 * 60 {
                return bad(format!("{} minutes from {} do not fit in one day", c.minutes, c.start));
            }
            let inside = |list: &[WeeklyWindow]| check::within_windows(list, c.day, c.start.minutes(), end as u16);
            if !inside(&self.opening_hours) {
                return bad(format!("{} {}-{} is outside opening hours (C3)", c.day, c.start, check::hhmm(end as u16)));
            }
            if !practitioner.availability.is_empty() && !inside(&practitioner.availability) {
                return bad(format!(
                    "{} {}-{} is outside practitioner `{}`'s availability (C3)",
                    c.day,
                    c.start,
                    check::hhmm(end as u16),
                    c.practitioner
                ));
            }
        }
        Ok(())
    }

    /// The request a scheduler plugin answers: this calendar, the booked
    /// appointments, the care plans, the horizon (`days`, usually
    /// [`DEFAULT_HORIZON_DAYS`]) and the plugin's settings.
    pub fn request(
        &self,
        start: Date,
        days: u32,
        booked: Vec<Appointment>,
        plans: Vec<CarePlan>,
        settings: Settings,
    ) -> ScheduleRequest {
        ScheduleRequest {
            start,
            days,
            opening_hours: self.opening_hours.clone(),
            practitioners: self.practitioners.clone(),
            rooms: self.rooms.clone(),
            classes: self.classes.clone(),
            booked,
            plans,
            settings,
        }
    }

    /// Every violation in `proposal`, checked against this calendar and the
    /// request's horizon, booked appointments and care plans. Empty when all
    /// is well. Each violation names the appointment (its index in
    /// `proposal`) and the constraint.
    pub fn check(&self, request: &ScheduleRequest, proposal: &[Appointment]) -> Vec<Violation> {
        self.check_with_late(request, proposal, &[])
    }

    /// [`Calendar::check`], accepting the massages `late` names (by client and
    /// day) as placed after their window: their interval may exceed the
    /// guidance's maximum (C4), never fall short of its minimum.
    pub fn check_with_late(
        &self,
        request: &ScheduleRequest,
        proposal: &[Appointment],
        late: &[Late],
    ) -> Vec<Violation> {
        check::Checker::new(
            self,
            Some((request.start, request.days)),
            request.start,
            &request.booked,
            &request.plans,
            true,
        )
        .with_late(late)
        .run(proposal)
    }

    /// Checks appointments the front desk asks to book by hand (usually one
    /// visit) on `today` against the calendar, the booked appointments and,
    /// when given, the client's care plan (availability, massage interval,
    /// C5). Without a plan, only what the calendar says is checked. A massage
    /// interval that closed before `today` is overdue, not broken.
    pub fn check_booking(
        &self,
        today: Date,
        booked: &[Appointment],
        plan: Option<&CarePlan>,
        new: &[Appointment],
    ) -> Result<(), Vec<Violation>> {
        let plans: Vec<CarePlan> = plan.cloned().into_iter().collect();
        let violations = check::Checker::new(self, None, today, booked, &plans, false).run(new);
        if violations.is_empty() { Ok(()) } else { Err(violations) }
    }

    /// Reviews a scheduler's proposal: each visit with a violation is refused
    /// whole (heat, massage and cold together), then the rest is checked again,
    /// since refusing one massage can break the interval of the next, until
    /// what remains passes every check.
    pub fn review(&self, request: &ScheduleRequest, proposal: ScheduleProposal) -> Review {
        let mut current = proposal.appointments;
        let late = proposal.late;
        let mut refused = Vec::new();
        loop {
            let violations = self.check_with_late(request, &current, &late);
            if violations.is_empty() {
                break;
            }
            let visit_of = |a: &Appointment, i: usize| match &a.visit {
                Some(v) => (a.client.clone(), v.clone()),
                None => (a.client.clone(), format!("#{i}")),
            };
            let bad: HashSet<(String, String)> =
                violations.iter().map(|v| visit_of(&current[v.index], v.index)).collect();
            let mut keep = Vec::with_capacity(current.len());
            let mut order: Vec<(String, String)> = Vec::new();
            let mut groups: HashMap<(String, String), Refusal> = HashMap::new();
            for (i, a) in current.into_iter().enumerate() {
                let key = visit_of(&a, i);
                if !bad.contains(&key) {
                    keep.push(a);
                    continue;
                }
                let group = groups.entry(key.clone()).or_insert_with(|| {
                    order.push(key);
                    Refusal::default()
                });
                group.violations.extend(violations.iter().filter(|v| v.index == i).cloned());
                group.appointments.push(a);
            }
            for key in order {
                if let Some(group) = groups.remove(&key) {
                    tracing::warn!(refusal = %group, "scheduler proposal refused");
                    refused.push(group);
                }
            }
            current = keep;
        }
        // Only what was accepted is late; a late mark without its massage means nothing.
        let late: Vec<Late> = late
            .into_iter()
            .filter(|l| {
                current.iter().any(|a| {
                    a.client == l.client
                        && a.start.date == l.placed
                        && a.discipline == Discipline::Massage
                        && a.adjunct.is_none()
                })
            })
            .collect();
        Review { accepted: current, refused, unmet: proposal.unmet, late }
    }
}
