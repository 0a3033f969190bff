//! Properties over randomly generated practices and care plans: the host's
//! checker finds no violation in what the combined-therapy plugin proposes,
//! and the plugin gives the same plan for the same input.

#[path = "calendar_support.rs"]
mod support;

use praxis_core::calendar::{Calendar, CalendarRules};
use praxis_sdk::abi::PluginHandle;
use praxis_sdk::schedule::{
    Appointment, CarePlan, DisciplineDemand, GroupClass, MassageDemand, Practitioner, Room, RoomKind, ScheduleRequest,
};
use praxis_sdk::{Adjunct, Date, DateRange, DateTime, Discipline, Range, TimeOfDay, Weekday, WeeklyWindow};
use proptest::prelude::*;

/// A small xorshift generator: the practice is a function of the seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// A number in `lo..=hi`.
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next() % u64::from(hi - lo + 1)) as u32
    }
    fn chance(&mut self, percent: u32) -> bool {
        self.range(1, 100) <= percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u32 - 1) as usize]
    }
}

fn tod(minutes: u32) -> TimeOfDay {
    TimeOfDay::from_minutes(minutes).expect("within a day")
}

/// One to three windows on some days, between 07:00 and 21:00.
fn windows(rng: &mut Rng, days_percent: u32) -> Vec<WeeklyWindow> {
    let mut out = Vec::new();
    for day in Weekday::ALL {
        if !rng.chance(days_percent) {
            continue;
        }
        let mut t = rng.range(14, 20) * 30;
        for _ in 0..rng.range(1, 3) {
            let end = (t + rng.range(2, 16) * 30).min(21 * 60);
            if end <= t {
                break;
            }
            out.push(WeeklyWindow { day, start: tod(t), end: tod(end) });
            t = end + rng.range(0, 4) * 30;
        }
    }
    out
}

/// The minutes of `day` inside every list (an empty list means no limit), as (start, end) runs.
fn common(day: Weekday, lists: &[&[WeeklyWindow]]) -> Vec<(u32, u32)> {
    let mut free: Vec<(u32, u32)> = vec![(0, 24 * 60)];
    for list in lists.iter().filter(|l| !l.is_empty()) {
        let mut spans: Vec<(u32, u32)> = list
            .iter()
            .filter(|w| w.day == day)
            .map(|w| (u32::from(w.start.minutes()), u32::from(w.end.minutes())))
            .collect();
        spans.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::new();
        for (s, e) in spans {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        let mut next = Vec::new();
        for &(a, b) in &free {
            for &(c, d) in &merged {
                let (s, e) = (a.max(c), b.min(d));
                if s < e {
                    next.push((s, e));
                }
            }
        }
        free = next;
    }
    free
}

struct Practice {
    calendar: Calendar,
    request: ScheduleRequest,
}

fn practice(seed: u64, clients: usize, days: u32, booked: usize) -> Practice {
    let mut rng = Rng::new(seed);
    let start = Date::from_ymd(2026, 11, 23).unwrap().add_days(rng.range(0, 6) as i32);
    let opening = windows(&mut rng, 85);
    let known = Discipline::KNOWN;
    let practitioners: Vec<Practitioner> = (0..rng.range(1, 6))
        .map(|i| {
            let mut disciplines: Vec<Discipline> = known.iter().filter(|_| rng.chance(35)).cloned().collect();
            if disciplines.is_empty() {
                disciplines.push(rng.pick(&known).clone());
            }
            let availability = if rng.chance(40) { vec![] } else { windows(&mut rng, 70) };
            let time_off = if rng.chance(30) {
                let from = start.add_days(rng.range(0, days) as i32);
                vec![DateRange { from, to: from.add_days(rng.range(0, 5) as i32) }]
            } else {
                vec![]
            };
            Practitioner { id: format!("p{i}"), name: String::new(), disciplines, availability, time_off }
        })
        .collect();
    let kinds = [RoomKind::TreatmentRoom, RoomKind::AcupunctureRoom, RoomKind::Studio];
    let rooms: Vec<Room> = (0..rng.range(1, 5))
        .map(|i| {
            let kind = *rng.pick(&kinds);
            let capacity = if kind == RoomKind::Studio { rng.range(1, 12) } else { rng.range(1, 2) } as u16;
            Room { id: format!("r{i}"), name: String::new(), kind, capacity }
        })
        .collect();
    let group = [Discipline::Yoga, Discipline::TaiChi, Discipline::Mindfulness];
    let mut classes = Vec::new();
    for i in 0..rng.range(0, 4) {
        let discipline = rng.pick(&group).clone();
        let leaders: Vec<&Practitioner> =
            practitioners.iter().filter(|p| p.disciplines.contains(&discipline)).collect();
        let studios: Vec<&Room> = rooms.iter().filter(|r| r.kind == RoomKind::Studio).collect();
        if leaders.is_empty() || studios.is_empty() {
            continue;
        }
        let leader = *rng.pick(&leaders);
        let studio = *rng.pick(&studios);
        let day = *rng.pick(&Weekday::ALL);
        let minutes = *rng.pick(&[30u32, 45, 60]);
        let fits: Vec<(u32, u32)> = common(day, &[&opening, &leader.availability])
            .into_iter()
            .filter(|(s, e)| s.div_ceil(15) * 15 + minutes <= *e)
            .collect();
        let Some(&(s, e)) = fits.first() else { continue };
        let first = s.div_ceil(15) * 15;
        let begin = first + rng.range(0, (e - minutes - first) / 15) * 15;
        classes.push(GroupClass {
            id: format!("k{i}"),
            name: String::new(),
            discipline,
            day,
            start: tod(begin),
            minutes: minutes as u16,
            practitioner: leader.id.clone(),
            room: studio.id.clone(),
            capacity: rng.range(1, 6) as u16,
        });
    }
    let rules = CalendarRules {
        weekly_cap: rng.range(1, 4),
        same_day_bundled_only: rng.chance(80),
        ..CalendarRules::default()
    };
    // A generated class can straddle what the calendar counts as one opening
    // window (seen with merged adjacent windows); such a practice is not a
    // valid input, so it is planned without its classes rather than skipped.
    let calendar =
        match Calendar::new("Europe/London", opening.clone(), practitioners.clone(), rooms.clone(), classes, rules) {
            Ok(c) => c,
            Err(_) => Calendar::new("Europe/London", opening, practitioners, rooms, Vec::new(), rules)
                .unwrap_or_else(|e| panic!("generated calendar refused: {e}")),
        };

    let others = [
        Discipline::Yoga,
        Discipline::TaiChi,
        Discipline::Mindfulness,
        Discipline::Acupuncture,
        Discipline::PhysicalTherapy,
        Discipline::Other("reiki".into()),
    ];
    let plans: Vec<CarePlan> = (0..clients)
        .map(|i| {
            let massage = rng.chance(70).then(|| {
                let min = rng.range(1, 10);
                let max = min + rng.range(0, 14);
                let mmin = rng.range(15, 60);
                MassageDemand {
                    interval_days: Range::new(min, max),
                    minutes: Range::new(mmin, mmin + rng.range(0, 30)),
                    before: if rng.chance(50) { vec![Adjunct::HeatBefore] } else { vec![] },
                    after: if rng.chance(50) { vec![Adjunct::ColdAfter] } else { vec![] },
                    last: rng.chance(60).then(|| start.add_days(-(rng.range(0, 40) as i32))),
                    not_before: rng.chance(20).then(|| start.add_days(rng.range(0, days) as i32)),
                }
            });
            let mut other: Vec<DisciplineDemand> = Vec::new();
            for _ in 0..rng.range(0, 3) {
                let discipline = rng.pick(&others).clone();
                if other.iter().any(|o| o.discipline == discipline) {
                    continue;
                }
                let every_days = *rng.pick(&[1, 3, 7, 7, 7, 14, 14, 21]);
                let last = rng.chance(30).then(|| start.add_days(-(rng.range(0, 20) as i32)));
                other.push(DisciplineDemand { discipline, every_days, minutes: rng.range(15, 90) as u16, last });
            }
            CarePlan {
                client: format!("c{i:02}"),
                availability: if rng.chance(30) { vec![] } else { windows(&mut rng, 60) },
                fibromyalgia: rng.chance(35),
                massage,
                other,
            }
        })
        .collect();

    let mut booked_list = Vec::new();
    for n in 0..booked {
        let cal = &calendar;
        let class = (!cal.classes.is_empty() && rng.chance(30)).then(|| rng.pick(&cal.classes).clone());
        let client = if plans.is_empty() || rng.chance(20) { format!("x{n}") } else { rng.pick(&plans).client.clone() };
        let date = start.add_days(rng.range(0, days + 10) as i32 - 7);
        let a = match class {
            Some(k) => {
                let date = date.add_days((k.day.index() as i32 - date.weekday().index() as i32).rem_euclid(7));
                Appointment {
                    client,
                    practitioner: k.practitioner.clone(),
                    room: k.room.clone(),
                    discipline: k.discipline.clone(),
                    start: DateTime::new(date, k.start),
                    minutes: k.minutes,
                    visit: None,
                    adjunct: None,
                    class: Some(k.id.clone()),
                }
            }
            None => Appointment {
                client,
                practitioner: rng.pick(&cal.practitioners).id.clone(),
                room: rng.pick(&cal.rooms).id.clone(),
                discipline: rng.pick(&known).clone(),
                start: DateTime::new(date, tod(rng.range(7 * 12, 19 * 12) * 5)),
                minutes: rng.range(10, 90) as u16,
                visit: rng.chance(30).then(|| format!("b{n}")),
                adjunct: None,
                class: None,
            },
        };
        booked_list.push(a);
    }
    let mut settings = praxis_sdk::Settings::new();
    settings.insert("weekly_cap".into(), calendar.rules.weekly_cap.into());
    settings.insert("same_day_bundled_only".into(), calendar.rules.same_day_bundled_only.into());
    if rng.chance(30) {
        settings.insert("slot_minutes".into(), (*rng.pick(&[5u32, 10, 30])).into());
    }
    if rng.chance(30) {
        settings.insert("prefer_classes".into(), false.into());
    }
    if rng.chance(30) {
        settings.insert("tolerance_days".into(), rng.range(0, 5).into());
    }
    let request = calendar.request(start, days, booked_list, plans, settings);
    Practice { calendar, request }
}

fn handle() -> PluginHandle {
    PluginHandle::from_static(praxis_combined_therapy::praxis_plugin_table()).expect("ABI table")
}

/// 300 cases by default; `PROPTEST_CASES=5000` for a longer run.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn the_checker_finds_nothing_wrong_with_the_plan(
        seed in any::<u64>(),
        clients in 1usize..16,
        days in 1u32..36,
        booked in 0usize..12,
    ) {
        let Practice { calendar, request } = practice(seed, clients, days, booked);
        let proposal = handle().schedule(&request).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let violations = calendar.check_with_late(&request, &proposal.appointments, &proposal.late);
        let text: Vec<String> = violations.iter().map(ToString::to_string).collect();
        prop_assert!(violations.is_empty(), "{:#?}", text);
        let review = calendar.review(&request, proposal.clone());
        prop_assert!(review.refused.is_empty());
        prop_assert_eq!(review.accepted.len(), proposal.appointments.len());
        // Every unmet demand says why.
        prop_assert!(proposal.unmet.iter().all(|u| !u.reason.trim().is_empty()));
    }

    #[test]
    fn the_same_input_gives_the_same_plan(seed in any::<u64>(), clients in 1usize..12, days in 7u32..29) {
        let Practice { request, .. } = practice(seed, clients, days, 4);
        let first = handle().schedule(&request).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let second = handle().schedule(&request).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&first, &second);
        let mut reordered = request.clone();
        reordered.plans.reverse();
        let third = handle().schedule(&reordered).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&first, &third);
    }
}

/// The generator itself: practices differ by seed and are valid calendars.
#[test]
fn generated_practices_vary() {
    let a = practice(1, 8, 28, 4);
    let b = practice(2, 8, 28, 4);
    assert_ne!(a.request, b.request);
    assert_eq!(practice(1, 8, 28, 4).request, a.request);
    assert_eq!(a.calendar.validate(), Ok(()));
    let _ = support::MONDAY;
}
