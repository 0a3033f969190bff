//! A deterministic generator of planning requests, for the plugin's own
//! tests (the plan-before/after guard, the improvement phase) and for the
//! exact-solver comparison in `benches/cpsat/` (through the example
//! `gen_request`, which includes this file by path).
//!
//! A request of `clients` clients over `days` days: weekday opening hours
//! (and a Saturday morning), about one practitioner per eight clients with
//! a random set of disciplines, some with narrower weeks or a week of leave,
//! treatment, acupuncture and studio rooms, a few group classes, and care
//! plans mixing massage (some with heat before and cold after, some with a
//! last massage or a first allowed day) with other disciplines; about a
//! third of the clients have fibromyalgia (rule C5).

#![allow(dead_code)]

use praxis_sdk::schedule::{
    CarePlan, DisciplineDemand, GroupClass, MassageDemand, Practitioner, Room, RoomKind, ScheduleRequest,
};
use praxis_sdk::{Adjunct, Date, DateRange, Discipline, Range, TimeOfDay, Weekday, WeeklyWindow};

/// xorshift64*: small, fast and the same on every platform.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value, zero included).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number from `lo` to `hi`, both included.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next() % u64::from(hi - lo + 1)) as u32
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.range(1, 100) <= percent
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u32 - 1) as usize]
    }
}

fn t(minutes: u32) -> TimeOfDay {
    TimeOfDay::from_minutes(minutes).expect("a time of day")
}

fn w(day: Weekday, from: u32, to: u32) -> WeeklyWindow {
    WeeklyWindow { day, start: t(from), end: t(to) }
}

/// Monday 23 November 2026, the first day of every generated horizon.
pub fn start() -> Date {
    Date::from_ymd(2026, 11, 23).expect("a date")
}

/// A generated request; the same arguments give the same request.
pub fn request(seed: u64, clients: usize, days: u32) -> ScheduleRequest {
    use Discipline::*;
    let mut rng = Rng::new(seed);
    let weekdays = &Weekday::ALL[..5];
    let mut opening: Vec<WeeklyWindow> = weekdays.iter().map(|&d| w(d, 9 * 60, 17 * 60)).collect();
    if rng.chance(50) {
        opening.push(w(Weekday::Saturday, 9 * 60, 13 * 60));
    }
    let all = [Massage, Yoga, Acupuncture, PhysicalTherapy, TaiChi, Mindfulness];
    let n_pracs = (clients / 8).clamp(2, 200);
    let mut practitioners = Vec::with_capacity(n_pracs);
    for i in 0..n_pracs {
        // The first two cover massage and yoga so that every plan has someone.
        let mut disciplines: Vec<Discipline> = match i {
            0 => vec![Massage],
            1 => vec![Yoga, Mindfulness],
            _ => all.iter().filter(|_| rng.chance(30)).cloned().collect(),
        };
        if disciplines.is_empty() {
            disciplines.push(rng.pick(&all).clone());
        }
        let availability = if rng.chance(35) {
            let (from, to) = if rng.chance(50) { (9 * 60, 13 * 60) } else { (12 * 60, 17 * 60) };
            weekdays.iter().filter(|_| rng.chance(80)).map(|&d| w(d, from, to)).collect()
        } else {
            vec![]
        };
        let time_off = if rng.chance(15) {
            let from = start().add_days(rng.range(0, days.saturating_sub(1)) as i32);
            vec![DateRange { from, to: from.add_days(rng.range(0, 6) as i32) }]
        } else {
            vec![]
        };
        practitioners.push(Practitioner {
            id: format!("p{i:03}"),
            name: String::new(),
            disciplines,
            availability,
            time_off,
        });
    }
    let room = |id: String, kind, capacity| Room { id, name: String::new(), kind, capacity };
    let mut rooms = Vec::new();
    for i in 0..(clients / 25).clamp(1, 100) {
        rooms.push(room(format!("t{i:02}"), RoomKind::TreatmentRoom, if rng.chance(20) { 2 } else { 1 }));
    }
    for i in 0..(clients / 60).clamp(1, 50) {
        rooms.push(room(format!("a{i:02}"), RoomKind::AcupunctureRoom, 1));
    }
    let studio_places = rng.range(4, 12) as u16;
    rooms.push(room("s00".into(), RoomKind::Studio, studio_places));
    let mut classes = Vec::new();
    for k in 0..rng.range(1, 4) {
        let day = *rng.pick(weekdays);
        let discipline = if rng.chance(70) { Yoga } else { Mindfulness };
        let at = rng.pick(&[9 * 60, 12 * 60, 15 * 60]).to_owned();
        classes.push(GroupClass {
            id: format!("class-{k}"),
            name: String::new(),
            discipline,
            day,
            start: t(at),
            minutes: 60,
            practitioner: "p001".into(),
            room: "s00".into(),
            capacity: rng.range(2, studio_places.into()) as u16,
        });
    }
    let others = [Yoga, Acupuncture, PhysicalTherapy, TaiChi, Mindfulness];
    let mut plans = Vec::with_capacity(clients);
    for c in 0..clients {
        let fibromyalgia = rng.chance(35);
        let massage = rng.chance(80).then(|| {
            let interval = *rng.pick(&[(7, 14), (14, 28), (3, 7), (14, 14), (7, 10)]);
            let minutes = *rng.pick(&[(30, 30), (20, 30), (45, 60)]);
            let heat_cold = rng.chance(30);
            let last = rng.chance(50).then(|| start().add_days(-(rng.range(1, interval.1 + 3) as i32)));
            let not_before = rng.chance(10).then(|| start().add_days(rng.range(0, 6) as i32));
            MassageDemand {
                interval_days: Range::new(interval.0, interval.1),
                minutes: Range::new(minutes.0, minutes.1),
                before: if heat_cold { vec![Adjunct::HeatBefore] } else { vec![] },
                after: if heat_cold { vec![Adjunct::ColdAfter] } else { vec![] },
                last,
                not_before,
            }
        });
        let mut other: Vec<DisciplineDemand> = Vec::new();
        for _ in 0..rng.range(0, 2) {
            let discipline = rng.pick(&others).clone();
            if other.iter().any(|o| o.discipline == discipline) {
                continue;
            }
            let every_days = *rng.pick(&[7, 7, 14, 10]);
            let last = rng.chance(40).then(|| start().add_days(-(rng.range(1, every_days) as i32)));
            other.push(DisciplineDemand { discipline, every_days, minutes: *rng.pick(&[30, 45, 60]), last });
        }
        let availability = if rng.chance(30) {
            let (from, to) = if rng.chance(50) { (9 * 60, 13 * 60) } else { (13 * 60, 17 * 60) };
            weekdays.iter().filter(|_| rng.chance(70)).map(|&d| w(d, from, to)).collect()
        } else {
            vec![]
        };
        plans.push(CarePlan { client: format!("c{c:04}"), availability, fibromyalgia, massage, other });
    }
    ScheduleRequest {
        start: start(),
        days,
        opening_hours: opening,
        practitioners,
        rooms,
        classes,
        booked: vec![],
        plans,
        settings: Default::default(),
    }
}
