//! Scheduling benchmark: a generated practice of 1,000 clients, 12
//! practitioners, 6 rooms and 4 disciplines (massage, yoga, acupuncture,
//! physical therapy), planned 8 weeks ahead by the combined-therapy plugin
//! through the real ABI, then checked by the host.
//!
//! Run with `cargo bench -p praxis-core --bench schedule`. Before the timings
//! it prints the plan's adherence (met demand / demand) next to an upper bound
//! on what capacity allows, computed here without the planner:
//!
//! - **resource bound**: per room kind, the open minutes of those rooms (minus
//!   class sessions in studios) and the working minutes of practitioners
//!   qualified for that kind's disciplines; the shortest demands are counted
//!   first until the minutes run out (the most sessions any planner could fit
//!   in that many minutes); yoga adds the places of every class session;
//! - **client bound**: a client with fibromyalgia has at most `weekly_cap`
//!   visits a week (C5);
//!
//! and the bound is the smaller of the two, capped by the demand. It ignores
//! client availability and interval windows, so it is optimistic: a planner
//! can only come close to it.
//!
//! Timings, each in the same run: `plan` (encode, ABI call, decode), `check`
//! (the host's checker on the plan), and the baseline `request_json`
//! (encoding and decoding the request alone, the fixed cost of crossing the
//! ABI): the ratio plan / request_json is what planning adds.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use praxis_core::calendar::{Calendar, CalendarRules};
use praxis_sdk::abi::PluginHandle;
use praxis_sdk::schedule::{
    Appointment, CarePlan, DisciplineDemand, GroupClass, MassageDemand, Practitioner, Room, RoomKind, ScheduleProposal,
    ScheduleRequest,
};
use praxis_sdk::{Adjunct, Date, DateRange, Discipline, Range, TimeOfDay, Weekday, WeeklyWindow};

const CLIENTS: usize = 1000;
const DAYS: u32 = 56;
const SEED: u64 = 0x5EED_2026_1123;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next() % u64::from(hi - lo + 1)) as u32
    }
    fn chance(&mut self, percent: u32) -> bool {
        self.range(1, 100) <= percent
    }
}

fn t(hhmm: &str) -> TimeOfDay {
    hhmm.parse().expect("time")
}

fn w(day: Weekday, from: &str, to: &str) -> WeeklyWindow {
    WeeklyWindow { day, start: t(from), end: t(to) }
}

fn start() -> Date {
    Date::from_ymd(2026, 11, 23).expect("date")
}

fn practice() -> (Calendar, ScheduleRequest) {
    practice_of(CLIENTS, 1)
}

/// `clients` clients and `copies` copies of the practice's practitioners, rooms and classes (the same clinic,
/// `copies` times over: one per 1,000 clients keeps the load per practitioner the same).
fn practice_of(clients: usize, copies: usize) -> (Calendar, ScheduleRequest) {
    use Discipline::*;
    use Weekday::*;
    let mut rng = Rng(SEED);
    let weekdays = [Monday, Tuesday, Wednesday, Thursday, Friday];
    let mut opening: Vec<WeeklyWindow> = weekdays.iter().map(|&d| w(d, "08:00", "20:00")).collect();
    opening.push(w(Saturday, "09:00", "14:00"));
    let early: Vec<WeeklyWindow> = weekdays.iter().map(|&d| w(d, "08:00", "15:00")).collect();
    let late: Vec<WeeklyWindow> = weekdays.iter().map(|&d| w(d, "13:00", "20:00")).collect();
    let p = |id: &str, disciplines: &[Discipline], availability: &[WeeklyWindow]| Practitioner {
        id: id.into(),
        name: String::new(),
        disciplines: disciplines.to_vec(),
        availability: availability.to_vec(),
        time_off: vec![],
    };
    let mut practitioners = vec![
        p("mt-1", &[Massage], &early),
        p("mt-2", &[Massage], &late),
        p("mt-3", &[Massage, PhysicalTherapy], &early),
        p("mt-4", &[Massage, PhysicalTherapy], &late),
        p("mt-5", &[Massage], &[early.clone(), vec![w(Saturday, "09:00", "14:00")]].concat()),
        p("mt-6", &[Massage], &late),
        p("pt-1", &[PhysicalTherapy], &early),
        p("pt-2", &[PhysicalTherapy], &late),
        p("ac-1", &[Acupuncture], &early),
        p("ac-2", &[Acupuncture], &late),
        p("yo-1", &[Yoga], &early),
        p("yo-2", &[Yoga], &[late.clone(), vec![w(Saturday, "09:00", "14:00")]].concat()),
    ];
    // A week of leave each for two practitioners.
    practitioners[0].time_off = vec![DateRange { from: start().add_days(14), to: start().add_days(20) }];
    practitioners[8].time_off = vec![DateRange { from: start().add_days(28), to: start().add_days(34) }];
    let r = |id: &str, kind, capacity| Room { id: id.into(), name: String::new(), kind, capacity };
    let rooms = [
        r("treat-1", RoomKind::TreatmentRoom, 1),
        r("treat-2", RoomKind::TreatmentRoom, 1),
        r("treat-3", RoomKind::TreatmentRoom, 1),
        r("acu-1", RoomKind::AcupunctureRoom, 1),
        r("acu-2", RoomKind::AcupunctureRoom, 1),
        r("studio", RoomKind::Studio, 16),
    ];
    let mut classes = Vec::new();
    for (i, (day, at, who)) in [
        (Monday, "09:00", "yo-1"),
        (Monday, "18:00", "yo-2"),
        (Tuesday, "12:00", "yo-1"),
        (Tuesday, "18:00", "yo-2"),
        (Wednesday, "09:00", "yo-1"),
        (Wednesday, "18:00", "yo-2"),
        (Thursday, "12:00", "yo-1"),
        (Thursday, "18:00", "yo-2"),
        (Friday, "09:00", "yo-1"),
        (Saturday, "10:00", "yo-2"),
    ]
    .into_iter()
    .enumerate()
    {
        classes.push(GroupClass {
            id: format!("yoga-{i}"),
            name: String::new(),
            discipline: Yoga,
            day,
            start: t(at),
            minutes: 60,
            practitioner: who.into(),
            room: "studio".into(),
            capacity: 14,
        });
    }
    let suffix = |id: &str, k: usize| if k == 0 { id.to_owned() } else { format!("{id}~{k}") };
    let practitioners: Vec<Practitioner> = (0..copies)
        .flat_map(|k| practitioners.iter().map(move |p| Practitioner { id: suffix(&p.id, k), ..p.clone() }))
        .collect();
    let rooms: Vec<Room> =
        (0..copies).flat_map(|k| rooms.iter().map(move |r| Room { id: suffix(&r.id, k), ..r.clone() })).collect();
    let classes: Vec<GroupClass> = (0..copies)
        .flat_map(|k| {
            classes.iter().map(move |c| GroupClass {
                id: suffix(&c.id, k),
                practitioner: suffix(&c.practitioner, k),
                room: suffix(&c.room, k),
                ..c.clone()
            })
        })
        .collect();
    let calendar = Calendar::new("Europe/London", opening, practitioners, rooms, classes, CalendarRules::default())
        .expect("bench calendar");

    let slots = [
        ("08:00", "12:00"),
        ("09:00", "13:00"),
        ("12:00", "16:00"),
        ("14:00", "18:00"),
        ("16:00", "20:00"),
        ("10:00", "19:00"),
    ];
    let plans: Vec<CarePlan> = (0..clients)
        .map(|i| {
            let fibromyalgia = rng.chance(35);
            let mut availability = Vec::new();
            for day in weekdays {
                if rng.chance(55) {
                    let (from, to) = slots[rng.range(0, slots.len() as u32 - 1) as usize];
                    availability.push(w(day, from, to));
                }
            }
            if rng.chance(25) {
                availability.push(w(Saturday, "09:00", "14:00"));
            }
            let massage = rng.chance(45).then(|| {
                let (interval, minutes) = if fibromyalgia {
                    if rng.chance(60) {
                        (Range::new(7, 14), Range::new(30, 30))
                    } else {
                        (Range::new(14, 28), Range::new(30, 45))
                    }
                } else if rng.chance(50) {
                    (Range::new(7, 14), Range::new(45, 60))
                } else {
                    (Range::new(14, 28), Range::new(45, 60))
                };
                let heat = !fibromyalgia && rng.chance(40);
                MassageDemand {
                    interval_days: interval,
                    minutes,
                    before: if heat { vec![Adjunct::HeatBefore] } else { vec![] },
                    after: if heat { vec![Adjunct::ColdAfter] } else { vec![] },
                    last: rng.chance(70).then(|| start().add_days(-(rng.range(1, 21) as i32))),
                    not_before: None,
                }
            });
            // Most clients are under way (a last session some days ago); some are new.
            let demand = |rng: &mut Rng, discipline: Discipline, every_days: u32, minutes: u16| {
                let last = rng.chance(70).then(|| start().add_days(-(rng.range(1, every_days) as i32)));
                DisciplineDemand { discipline, every_days, minutes, last }
            };
            let mut other = Vec::new();
            if rng.chance(35) {
                other.push(demand(&mut rng, Yoga, 7, 60));
            }
            if rng.chance(20) {
                other.push(demand(&mut rng, Acupuncture, 14, 45));
            }
            if rng.chance(20) {
                other.push(demand(&mut rng, PhysicalTherapy, 7, 45));
            }
            if massage.is_none() && other.is_empty() {
                other.push(demand(&mut rng, Yoga, 7, 60));
            }
            CarePlan { client: format!("client-{i:05}"), availability, fibromyalgia, massage, other }
        })
        .collect();
    let request = calendar.request(start(), DAYS, Vec::new(), plans, Default::default());
    (calendar, request)
}

fn handle() -> PluginHandle {
    PluginHandle::from_static(praxis_combined_therapy::praxis_plugin_table()).expect("ABI table")
}

fn minutes_in(windows: &[WeeklyWindow], day: Weekday) -> Vec<(u32, u32)> {
    let mut v: Vec<(u32, u32)> = windows
        .iter()
        .filter(|w| w.day == day)
        .map(|w| (u32::from(w.start.minutes()), u32::from(w.end.minutes())))
        .collect();
    v.sort_unstable();
    v
}

fn overlap(a: &[(u32, u32)], b: &[(u32, u32)]) -> u32 {
    a.iter().flat_map(|&(s, e)| b.iter().map(move |&(c, d)| e.min(d).saturating_sub(s.max(c)))).sum()
}

/// Demand per room kind as session lengths, and the bound described at the top.
fn capacity_bound(calendar: &Calendar, request: &ScheduleRequest, demand: &[(String, Discipline, u32)]) -> usize {
    let days: Vec<Date> = (0..DAYS as i32).map(|d| start().add_days(d)).collect();
    let open = |day: Weekday| minutes_in(&calendar.opening_hours, day);
    // Room-minutes, times each room's capacity (a studio of 16 holds 16 at once), minus class sessions.
    let room_minutes = |kind: RoomKind| -> u64 {
        calendar
            .rooms
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| {
                let open: u64 =
                    days.iter().map(|d| open(d.weekday()).iter().map(|(s, e)| u64::from(e - s)).sum::<u64>()).sum();
                let classes: u64 = days
                    .iter()
                    .map(|d| {
                        let here = calendar.classes.iter().filter(|c| c.room == r.id && c.day == d.weekday());
                        here.map(|c| u64::from(c.minutes)).sum::<u64>()
                    })
                    .sum();
                u64::from(r.capacity) * (open - classes)
            })
            .sum()
    };
    // Working minutes inside opening hours, minus leave and the classes they lead.
    let prac_minutes = |disciplines: &[Discipline]| -> u64 {
        calendar
            .practitioners
            .iter()
            .filter(|p| p.disciplines.iter().any(|d| disciplines.contains(d)))
            .map(|p| {
                days.iter()
                    .filter(|d| !p.time_off.iter().any(|r| r.contains(**d)))
                    .map(|d| {
                        let work = u64::from(overlap(&minutes_in(&p.availability, d.weekday()), &open(d.weekday())));
                        let leading =
                            calendar.classes.iter().filter(|c| c.practitioner == p.id && c.day == d.weekday());
                        work.saturating_sub(leading.map(|c| u64::from(c.minutes)).sum::<u64>())
                    })
                    .sum::<u64>()
            })
            .sum()
    };
    let fit = |mut lengths: Vec<u32>, budget: u64| -> usize {
        lengths.sort_unstable();
        let mut used = 0u64;
        lengths
            .into_iter()
            .take_while(|&l| {
                used += u64::from(l);
                used <= budget
            })
            .count()
    };
    let of = |pred: &dyn Fn(&Discipline) -> bool| -> Vec<u32> {
        demand.iter().filter(|(_, d, _)| pred(d)).map(|(_, _, l)| *l).collect()
    };
    let treatment = of(&|d| matches!(d, Discipline::Massage | Discipline::PhysicalTherapy));
    let treatment_bound = fit(treatment.clone(), room_minutes(RoomKind::TreatmentRoom))
        .min(fit(treatment, prac_minutes(&[Discipline::Massage, Discipline::PhysicalTherapy])));
    let acupuncture = of(&|d| *d == Discipline::Acupuncture);
    let acupuncture_bound = fit(acupuncture.clone(), room_minutes(RoomKind::AcupunctureRoom))
        .min(fit(acupuncture, prac_minutes(&[Discipline::Acupuncture])));
    let yoga = of(&|d| *d == Discipline::Yoga);
    let places: usize = days
        .iter()
        .map(|d| {
            calendar.classes.iter().filter(|c| c.day == d.weekday()).map(|c| usize::from(c.capacity)).sum::<usize>()
        })
        .sum();
    let yoga_bound =
        yoga.len().min(places + fit(yoga, room_minutes(RoomKind::Studio).min(prac_minutes(&[Discipline::Yoga]))));
    let resource = treatment_bound + acupuncture_bound + yoga_bound;
    // C5: a client with fibromyalgia has at most weekly_cap visits a week.
    let mut weeks: Vec<Date> = days.iter().map(|d| d.week_start()).collect();
    weeks.dedup();
    let cap = calendar.rules.weekly_cap as usize * weeks.len();
    let client: usize = request
        .plans
        .iter()
        .map(|p| {
            let n = demand.iter().filter(|(c, _, _)| *c == p.client).count();
            if p.fibromyalgia { n.min(cap) } else { n }
        })
        .sum();
    resource.min(client).min(demand.len())
}

/// Demand as the plugin counts it (met + reported unmet), with each session's length for the bound.
fn demand_of(request: &ScheduleRequest, p: &ScheduleProposal) -> Vec<(String, Discipline, u32)> {
    let plans: std::collections::HashMap<&str, &CarePlan> =
        request.plans.iter().map(|x| (x.client.as_str(), x)).collect();
    let length = |client: &str, d: &Discipline| -> u32 {
        let plan = plans[client];
        match d {
            Discipline::Massage => {
                let m = plan.massage.as_ref().expect("massage demand");
                let heat = u32::from(praxis_combined_therapy::DEFAULT_HEAT_MINUTES) * m.before.len() as u32;
                let cold = u32::from(praxis_combined_therapy::DEFAULT_COLD_MINUTES) * m.after.len() as u32;
                m.minutes.max + heat + cold
            }
            other => plan.other.iter().find(|o| &o.discipline == other).map_or(0, |o| u32::from(o.minutes)),
        }
    };
    let met = p
        .appointments
        .iter()
        .filter(|a| a.adjunct.is_none())
        .map(|a| (a.client.clone(), a.discipline.clone(), length(&a.client, &a.discipline)));
    let unmet = p.unmet.iter().map(|u| (u.client.clone(), u.discipline.clone(), length(&u.client, &u.discipline)));
    met.chain(unmet).collect()
}

fn report(calendar: &Calendar, request: &ScheduleRequest, p: &ScheduleProposal) {
    let demand = demand_of(request, p);
    let met = p.appointments.iter().filter(|a| a.adjunct.is_none()).count();
    let bound = capacity_bound(calendar, request, &demand);
    let share = |n: usize| 100.0 * n as f64 / demand.len() as f64;
    println!(
        "schedule: {CLIENTS} clients, {} practitioners, {} rooms, {DAYS} days",
        calendar.practitioners.len(),
        calendar.rooms.len()
    );
    for d in [Discipline::Massage, Discipline::Yoga, Discipline::Acupuncture, Discipline::PhysicalTherapy] {
        let want = demand.iter().filter(|(_, x, _)| *x == d).count();
        let got = p.appointments.iter().filter(|a| a.adjunct.is_none() && a.discipline == d).count();
        println!("  {d:<17} demand {want:>6}  met {got:>6}  ({:.1} %)", 100.0 * got as f64 / want.max(1) as f64);
    }
    println!(
        "  adherence: met {met} of {} demanded = {:.1} %; capacity bound {bound} = {:.1} %; met / bound = {:.1} %",
        demand.len(),
        share(met),
        share(bound),
        100.0 * met as f64 / bound.max(1) as f64
    );
    // How much of each room kind's time the plan uses (individual sessions; classes count as the class's time).
    for kind in [RoomKind::TreatmentRoom, RoomKind::AcupunctureRoom, RoomKind::Studio] {
        let open: u64 = (0..DAYS as i32)
            .map(|d| {
                let day = start().add_days(d).weekday();
                calendar
                    .opening_hours
                    .iter()
                    .filter(|w| w.day == day)
                    .map(|w| u64::from(w.end.minutes() - w.start.minutes()))
                    .sum::<u64>()
            })
            .sum();
        let rooms: Vec<&Room> = calendar.rooms.iter().filter(|r| r.kind == kind).collect();
        let used: u64 = p
            .appointments
            .iter()
            .filter(|a| a.class.is_none() && rooms.iter().any(|r| r.id == a.room))
            .map(|a| u64::from(a.minutes))
            .sum();
        println!(
            "  {kind:?}: {} room(s), individual sessions use {:.1} % of their open hours (one client per room at a time)",
            rooms.len(),
            100.0 * used as f64 / (open * rooms.len() as u64).max(1) as f64
        );
    }
    // How much of each practitioner's working time (inside opening hours, leave excluded) the plan uses.
    let mut line = String::from("  practitioners' working time used:");
    for pr in &calendar.practitioners {
        let work: u64 = (0..DAYS as i32)
            .map(|d| start().add_days(d))
            .filter(|d| !pr.time_off.iter().any(|r| r.contains(*d)))
            .map(|d| {
                u64::from(overlap(
                    &minutes_in(&pr.availability, d.weekday()),
                    &minutes_in(&calendar.opening_hours, d.weekday()),
                ))
            })
            .sum();
        let mut used: u64 = p
            .appointments
            .iter()
            .filter(|a| a.practitioner == pr.id && a.class.is_none())
            .map(|a| u64::from(a.minutes))
            .sum();
        let class_days =
            (0..DAYS as i32).map(|d| start().add_days(d)).filter(|d| !pr.time_off.iter().any(|r| r.contains(*d)));
        used += class_days
            .map(|d| {
                calendar
                    .classes
                    .iter()
                    .filter(|c| c.practitioner == pr.id && c.day == d.weekday())
                    .map(|c| u64::from(c.minutes))
                    .sum::<u64>()
            })
            .sum::<u64>();
        line.push_str(&format!(" {} {:.0} %", pr.id, 100.0 * used as f64 / work.max(1) as f64));
    }
    println!("{line}");
    // Why demand went unmet: how many reasons mention each cause (a reason can name several).
    for cause in [
        "visits in 7 days",
        "already had a visit that day",
        "not available while the practice is open",
        "no free time long enough",
        "no qualified practitioner was free",
        "no suitable room was free",
        "group classes that fit were full",
    ] {
        let n = p.unmet.iter().filter(|u| u.reason.contains(cause)).count();
        println!("  unmet, reason names \"{cause}\": {n}");
    }
    let late_days: u32 = p.late.iter().map(|l| l.days).sum();
    println!(
        "  late: {} massages placed after their window, {late_days} days in all, at most {}",
        p.late.len(),
        p.late.iter().map(|l| l.days).max().unwrap_or(0)
    );
    let violations = calendar.check_with_late(request, &p.appointments, &p.late);
    println!("  checker: {} violations in {} appointments", violations.len(), p.appointments.len());
    assert!(violations.is_empty(), "the plugin proposed violations: {}", violations[0]);
}

fn bench(c: &mut Criterion) {
    let (calendar, request) = practice();
    let handle = handle();
    let proposal = handle.schedule(&request).expect("plan");
    report(&calendar, &request, &proposal);
    // The greedy construction alone (improvement phase off), for the phase's gain and cost.
    let mut greedy_request = request.clone();
    greedy_request.settings.insert("improve_ms".into(), 0.into());
    let greedy = handle.schedule(&greedy_request).expect("greedy plan");
    let sessions = |p: &ScheduleProposal| p.appointments.iter().filter(|a| a.adjunct.is_none()).count();
    println!(
        "  improvement phase (improve_ms {}): sessions {} -> {}, unmet {} -> {}, late {} -> {}",
        praxis_combined_therapy::DEFAULT_IMPROVE_MS,
        sessions(&greedy),
        sessions(&proposal),
        greedy.unmet.len(),
        proposal.unmet.len(),
        greedy.late.len(),
        proposal.late.len()
    );
    let mut group = c.benchmark_group("schedule");
    group.sample_size(10).measurement_time(Duration::from_secs(20)).warm_up_time(Duration::from_secs(2));
    group.bench_function("request_json", |b| {
        b.iter(|| {
            let bytes = serde_json::to_vec(black_box(&request)).expect("encode");
            let back: ScheduleRequest = serde_json::from_slice(&bytes).expect("decode");
            black_box(back)
        })
    });
    group.bench_function("plan", |b| b.iter(|| black_box(handle.schedule(black_box(&request)).expect("plan"))));
    group.bench_function("plan_greedy", |b| {
        b.iter(|| black_box(handle.schedule(black_box(&greedy_request)).expect("plan")))
    });
    let appointments: &[Appointment] = &proposal.appointments;
    group.bench_function("check", |b| {
        b.iter(|| black_box(calendar.check_with_late(black_box(&request), appointments, &proposal.late)))
    });
    group.finish();
}

/// Planning at 1k, 10k and 50k clients, one plan each timed with a clock (a plan at 50k takes too long for
/// criterion's samples), as a ratio to the 1k plan timed in the same run. Two shapes of growth: the same clinic
/// with more clients (`fixed`), and the clinic copied once per 1,000 clients (`scaled`: the same load per
/// practitioner). Each size is planned twice: with the default settings, and greedy alone (`improve_ms` 0: the
/// improvement phase stops at its time budget, so only the greedy sweep shows how planning grows). Set
/// `PRAXIS_BENCH_SCALE=0` to skip, or to a list such as `scaled:20000,fixed:10000` for only those sizes (after
/// the baseline).
fn scale(_: &mut Criterion) {
    let only = std::env::var("PRAXIS_BENCH_SCALE").unwrap_or_default();
    if only == "0" {
        return;
    }
    let mut sizes: Vec<(String, usize)> =
        [("fixed", 10_000usize), ("fixed", 50_000), ("scaled", 10_000), ("scaled", 50_000)]
            .iter()
            .map(|&(shape, clients)| (shape.to_owned(), clients))
            .collect();
    if !only.is_empty() {
        sizes = only
            .split(',')
            .map(|s| {
                let (shape, clients) =
                    s.split_once(':').expect("PRAXIS_BENCH_SCALE: give shape:clients, e.g. scaled:20000");
                assert!(
                    shape == "fixed" || shape == "scaled",
                    "PRAXIS_BENCH_SCALE: the shape is fixed or scaled, not {shape}"
                );
                (shape.to_owned(), clients.parse().expect("PRAXIS_BENCH_SCALE: the clients are a number, e.g. 20000"))
            })
            .collect();
    }
    let handle = handle();
    let time = |clients: usize, copies: usize, greedy: bool| {
        let (_, mut request) = practice_of(clients, copies);
        if greedy {
            request.settings.insert("improve_ms".into(), 0.into());
        }
        let started = std::time::Instant::now();
        let p = handle.schedule(&request).expect("plan");
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        (ms, p.appointments.len(), p.unmet.len(), p.late.len(), request.practitioners.len())
    };
    let (base, ..) = time(1_000, 1, false);
    let (base_greedy, ..) = time(1_000, 1, true);
    println!("scale: baseline, 1,000 clients and 12 practitioners: {base:.0} ms, greedy alone {base_greedy:.0} ms");
    for (shape, clients) in sizes {
        let copies = if shape == "fixed" { 1 } else { (clients / 1000).max(1) };
        for greedy in [false, true] {
            let (ms, appointments, unmet, late, pracs) = time(clients, copies, greedy);
            let (kind, b) = if greedy { ("greedy", base_greedy) } else { ("plan", base) };
            println!(
                "scale: {shape:<6} {kind:<6} {clients:>6} clients, {pracs:>4} practitioners: {ms:>8.0} ms = {:>6.1} x \
                 the baseline for {:>3} x the clients; {appointments} appointments, {unmet} unmet, {late} late",
                ms / b,
                clients / 1000
            );
        }
    }
}

criterion_group!(benches, bench, scale);
criterion_main!(benches);
