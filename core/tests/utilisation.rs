//! Utilisation per practitioner and room (issue 13): available time from
//! the opening hours and the practitioners' own windows and days off,
//! booked time from the calendar.

use praxis_core::store::{Appointment, AppointmentStatus};
use praxis_core::utilisation::{UtilisationRow, utilisation};
use praxis_sdk::schedule::{Practitioner, Room};
use praxis_sdk::{Date, DateRange, Discipline, RoomKind, TimeOfDay, Weekday, WeeklyWindow};

fn day(d: u32) -> Date {
    // 2026-11-30 is a Monday.
    Date::from_ymd(2026, 11, 30).unwrap().add_days(d as i32)
}

fn window(day: Weekday, from: u32, to: u32) -> WeeklyWindow {
    WeeklyWindow { day, start: TimeOfDay::from_hm(from, 0).unwrap(), end: TimeOfDay::from_hm(to, 0).unwrap() }
}

fn appointment(
    who: &str,
    room: &str,
    on: u32,
    minutes: u16,
    status: AppointmentStatus,
    class: Option<&str>,
) -> Appointment {
    Appointment {
        id: format!("a-{who}-{on}-{minutes}-{}", class.unwrap_or("")),
        client: "c1".into(),
        practitioner: who.into(),
        room: room.into(),
        discipline: Discipline::Massage,
        start: praxis_sdk::DateTime::new(day(on), TimeOfDay::from_hm(10, 0).unwrap()),
        minutes,
        status,
        visit: None,
        adjunct: None,
        class: class.map(str::to_owned),
        status_reason: None,
    }
}

/// Opening hours Monday 09-17 and Tuesday 09-13; `ana` works whenever the
/// practice is open, `bo` only Monday 12-20 (so 12-17 counts) and is off on
/// Monday of the second week. One week or two, from Monday.
#[track_caller]
fn check(
    days: u32,
    appointments: &[Appointment],
    want_ana: (u32, u32, u32),
    want_bo: (u32, u32, u32),
    want_room: (u32, u32, u32),
) {
    let hours = [window(Weekday::Monday, 9, 17), window(Weekday::Tuesday, 9, 13)];
    let person = |id: &str, availability: Vec<WeeklyWindow>, time_off: Vec<DateRange>| Practitioner {
        id: id.into(),
        name: String::new(),
        disciplines: vec![Discipline::Massage],
        availability,
        time_off,
    };
    let practitioners = [
        person("ana", vec![], vec![]),
        person("bo", vec![window(Weekday::Monday, 12, 20)], vec![DateRange { from: day(7), to: day(7) }]),
    ];
    let rooms = [Room { id: "r1".into(), name: "Room one".into(), kind: RoomKind::TreatmentRoom, capacity: 1 }];
    let u = utilisation(&hours, &practitioners, &rooms, appointments, day(0), days);
    let got = |r: &UtilisationRow| (r.available_minutes, r.booked_minutes, r.no_show_minutes);
    assert_eq!(got(&u.practitioners[0]), want_ana, "ana");
    assert_eq!(got(&u.practitioners[1]), want_bo, "bo");
    assert_eq!(got(&u.rooms[0]), want_room, "room");
    assert_eq!((u.practitioners[1].name.as_str(), u.rooms[0].name.as_str()), ("bo", "Room one"));
}

#[test]
fn available_and_booked_time() {
    use AppointmentStatus::*;
    // Nothing booked: ana 8 h + 4 h a week, bo 5 h on Mondays, the room as the practice.
    check(7, &[], (720, 0, 0), (300, 0, 0), (720, 0, 0));
    // Two weeks: bo's second Monday is a day off.
    check(14, &[], (1440, 0, 0), (300, 0, 0), (1440, 0, 0));
    // Booked and completed count; a no-show apart; a cancellation not at all;
    // an appointment after the last day is ignored.
    let a = [
        appointment("ana", "r1", 0, 60, Booked, None),
        appointment("ana", "r1", 1, 30, Completed, None),
        appointment("ana", "r1", 0, 45, NoShow, None),
        appointment("bo", "r1", 0, 90, Cancelled, None),
        appointment("bo", "r1", 7, 60, Booked, None),
    ];
    check(7, &a, (720, 90, 45), (300, 0, 0), (720, 90, 45));
    // A class of three places is one hour for its leader and its room.
    let class: Vec<Appointment> = (0..3)
        .map(|i| {
            let mut a = appointment("bo", "r1", 0, 60, Booked, Some("yoga"));
            a.id = format!("place-{i}");
            a
        })
        .collect();
    check(7, &class, (720, 0, 0), (300, 60, 0), (720, 60, 0));
}

#[test]
fn percent_rounds_and_never_divides_by_zero() {
    let row = |available, booked| UtilisationRow {
        id: "x".into(),
        name: "x".into(),
        available_minutes: available,
        booked_minutes: booked,
        no_show_minutes: 0,
    };
    for (available, booked, want) in [(0, 0, 0), (0, 30, 0), (480, 240, 50), (300, 1, 0), (300, 2, 1), (60, 90, 150)] {
        assert_eq!(row(available, booked).percent(), want, "{booked} of {available}");
    }
}
