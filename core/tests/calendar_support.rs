//! Shared fixtures of the calendar tests: a small practice and builders for
//! care plans and appointments. Included by `calendar_rules.rs` and
//! `calendar_props.rs` with `#[path]`; as a target of its own it has no tests.
#![allow(dead_code)]

use praxis_core::calendar::{Calendar, CalendarRules};
use praxis_sdk::schedule::{
    Appointment, CarePlan, DisciplineDemand, GroupClass, MassageDemand, Practitioner, Room, RoomKind, ScheduleRequest,
};
use praxis_sdk::{Adjunct, Date, DateRange, DateTime, Discipline, Range, Weekday, WeeklyWindow};

/// The first day of every test horizon: a Monday.
pub const MONDAY: &str = "2026-11-23";

pub fn date(s: &str) -> Date {
    s.parse().unwrap_or_else(|e| panic!("test date: {e}"))
}

pub fn at(s: &str) -> DateTime {
    s.parse().unwrap_or_else(|e| panic!("test date-time: {e}"))
}

pub fn window(day: Weekday, from: &str, to: &str) -> WeeklyWindow {
    WeeklyWindow { day, start: from.parse().unwrap(), end: to.parse().unwrap() }
}

pub fn weekdays(from: &str, to: &str) -> Vec<WeeklyWindow> {
    Weekday::ALL[..5].iter().map(|&d| window(d, from, to)).collect()
}

pub fn practitioner(id: &str, disciplines: &[Discipline]) -> Practitioner {
    Practitioner {
        id: id.into(),
        name: String::new(),
        disciplines: disciplines.to_vec(),
        availability: vec![],
        time_off: vec![],
    }
}

pub fn room(id: &str, kind: RoomKind, capacity: u16) -> Room {
    Room { id: id.into(), name: String::new(), kind, capacity }
}

/// Mon-Fri 09:00-17:00 in London.
/// - `mass`: massage and physical therapy; `mass2`: massage, works Mondays only;
/// - `acu`: acupuncture, on leave Friday 2026-11-27;
/// - `yogi`: yoga, tai chi, mindfulness, leads `yoga-tue` (Tuesday 10:00-11:00, 2 places, studio `s1`);
/// - rooms `t1`, `t2` (treatment), `a1` (acupuncture), `s1` (studio, 10).
pub fn calendar() -> Calendar {
    let mut mass2 = practitioner("mass2", &[Discipline::Massage]);
    mass2.availability = vec![window(Weekday::Monday, "09:00", "17:00")];
    let mut acu = practitioner("acu", &[Discipline::Acupuncture]);
    acu.time_off = vec![DateRange { from: date("2026-11-27"), to: date("2026-11-27") }];
    Calendar::new(
        "Europe/London",
        weekdays("09:00", "17:00"),
        vec![
            practitioner("mass", &[Discipline::Massage, Discipline::PhysicalTherapy]),
            mass2,
            acu,
            practitioner("yogi", &[Discipline::Yoga, Discipline::TaiChi, Discipline::Mindfulness]),
        ],
        vec![
            room("t1", RoomKind::TreatmentRoom, 1),
            room("t2", RoomKind::TreatmentRoom, 1),
            room("a1", RoomKind::AcupunctureRoom, 1),
            room("s1", RoomKind::Studio, 10),
        ],
        vec![GroupClass {
            id: "yoga-tue".into(),
            name: "Tuesday yoga".into(),
            discipline: Discipline::Yoga,
            day: Weekday::Tuesday,
            start: "10:00".parse().unwrap(),
            minutes: 60,
            practitioner: "yogi".into(),
            room: "s1".into(),
            capacity: 2,
        }],
        CalendarRules::default(),
    )
    .expect("the fixture calendar is valid")
}

/// A care plan with nothing in it.
pub fn plan(client: &str) -> CarePlan {
    CarePlan { client: client.into(), availability: vec![], fibromyalgia: false, massage: None, other: vec![] }
}

/// Adds a massage demand: interval `min-max` days, `minutes` (a single value), last massage.
pub fn with_massage(mut p: CarePlan, min: u32, max: u32, minutes: u32, last: Option<&str>) -> CarePlan {
    p.massage = Some(MassageDemand {
        interval_days: Range::new(min, max),
        minutes: Range::new(minutes, minutes),
        before: vec![],
        after: vec![],
        last: last.map(date),
        not_before: None,
    });
    p
}

/// Adds heat before and cold after to the massage demand.
pub fn heat_cold(mut p: CarePlan) -> CarePlan {
    let m = p.massage.as_mut().expect("a massage demand first");
    m.before = vec![Adjunct::HeatBefore];
    m.after = vec![Adjunct::ColdAfter];
    p
}

pub fn with_other(mut p: CarePlan, discipline: Discipline, every_days: u32, minutes: u16) -> CarePlan {
    p.other.push(DisciplineDemand { discipline, every_days, minutes, last: None });
    p
}

pub fn fibro(mut p: CarePlan) -> CarePlan {
    p.fibromyalgia = true;
    p
}

pub fn request(calendar: &Calendar, days: u32, plans: Vec<CarePlan>, booked: Vec<Appointment>) -> ScheduleRequest {
    calendar.request(date(MONDAY), days, booked, plans, Default::default())
}

/// An individual appointment.
pub fn appt(
    client: &str,
    practitioner: &str,
    room: &str,
    discipline: Discipline,
    start: &str,
    minutes: u16,
) -> Appointment {
    Appointment {
        client: client.into(),
        practitioner: practitioner.into(),
        room: room.into(),
        discipline,
        start: at(start),
        minutes,
        visit: None,
        adjunct: None,
        class: None,
    }
}

pub fn in_visit(mut a: Appointment, visit: &str) -> Appointment {
    a.visit = Some(visit.into());
    a
}

pub fn adjunct(mut a: Appointment, adjunct: Adjunct) -> Appointment {
    a.adjunct = Some(adjunct);
    a
}

/// A place in the Tuesday yoga class on `day` (a Tuesday).
pub fn yoga_place(client: &str, day: &str) -> Appointment {
    let mut a = appt(client, "yogi", "s1", Discipline::Yoga, &format!("{day}T10:00"), 60);
    a.class = Some("yoga-tue".into());
    a
}

/// A heat (10) + massage + cold (10) visit in `room` with `practitioner`, starting at `start`.
pub fn massage_visit(client: &str, practitioner: &str, room: &str, start: &str, minutes: u16) -> Vec<Appointment> {
    let s = at(start);
    let visit = format!("{client}/{start}");
    let mk = |offset: i64, len: u16, adj: Option<Adjunct>| Appointment {
        client: client.into(),
        practitioner: practitioner.into(),
        room: room.into(),
        discipline: Discipline::Massage,
        start: s.add_minutes(offset),
        minutes: len,
        visit: Some(visit.clone()),
        adjunct: adj,
        class: None,
    };
    vec![
        mk(0, 10, Some(Adjunct::HeatBefore)),
        mk(10, minutes, None),
        mk(10 + i64::from(minutes), 10, Some(Adjunct::ColdAfter)),
    ]
}
