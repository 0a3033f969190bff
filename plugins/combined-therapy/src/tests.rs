//! Plugin-level tests: settings, data checks, reasons for unmet demand and
//! the planner's choices, called through the trait and through the ABI.

use praxis_sdk::abi::PluginHandle;
use praxis_sdk::schedule::{
    Appointment, CarePlan, DisciplineDemand, GroupClass, MassageDemand, Practitioner, Room, RoomKind,
};
use praxis_sdk::{
    Adjunct, Date, Discipline, Range, ScheduleProposal, ScheduleRequest, Scheduler, Weekday, WeeklyWindow,
};

use crate::CombinedTherapy;

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn window(day: Weekday, from: &str, to: &str) -> WeeklyWindow {
    WeeklyWindow { day, start: from.parse().unwrap(), end: to.parse().unwrap() }
}

fn prac(id: &str, disciplines: &[Discipline]) -> Practitioner {
    Practitioner {
        id: id.into(),
        name: String::new(),
        disciplines: disciplines.to_vec(),
        availability: vec![],
        time_off: vec![],
    }
}

fn room(id: &str, kind: RoomKind, capacity: u16) -> Room {
    Room { id: id.into(), name: String::new(), kind, capacity }
}

fn client(id: &str) -> CarePlan {
    CarePlan { client: id.into(), availability: vec![], fibromyalgia: false, massage: None, other: vec![] }
}

fn massage(mut p: CarePlan, min: u32, max: u32, last: Option<&str>) -> CarePlan {
    p.massage = Some(MassageDemand {
        interval_days: Range::new(min, max),
        minutes: Range::new(20, 30),
        before: vec![],
        after: vec![],
        last: last.map(date),
        not_before: None,
    });
    p
}

fn other(mut p: CarePlan, discipline: Discipline, every_days: u32) -> CarePlan {
    p.other.push(DisciplineDemand { discipline, every_days, minutes: 30, last: None });
    p
}

/// Monday 2026-11-23, weekdays 09:00-17:00, one massage therapist `m`, one
/// yoga teacher `y` with a Wednesday 09:00 class of 1 place, rooms `t1`, `s1`.
fn request(days: u32, plans: Vec<CarePlan>) -> ScheduleRequest {
    ScheduleRequest {
        start: date("2026-11-23"),
        days,
        opening_hours: Weekday::ALL[..5].iter().map(|&d| window(d, "09:00", "17:00")).collect(),
        practitioners: vec![prac("m", &[Discipline::Massage]), prac("y", &[Discipline::Yoga])],
        rooms: vec![room("t1", RoomKind::TreatmentRoom, 1), room("s1", RoomKind::Studio, 8)],
        classes: vec![GroupClass {
            id: "yoga-wed".into(),
            name: String::new(),
            discipline: Discipline::Yoga,
            day: Weekday::Wednesday,
            start: "09:00".parse().unwrap(),
            minutes: 60,
            practitioner: "y".into(),
            room: "s1".into(),
            capacity: 1,
        }],
        booked: vec![],
        plans,
        settings: Default::default(),
    }
}

/// Plans by the trait and through the ABI; both must agree.
fn run(req: &ScheduleRequest) -> ScheduleProposal {
    let by_call = CombinedTherapy.schedule(req).unwrap_or_else(|e| panic!("{e}"));
    let handle = PluginHandle::from_static(crate::praxis_plugin_table()).unwrap();
    let by_abi = handle.schedule(req).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(by_call, by_abi, "the static call and the ABI call disagree");
    by_abi
}

fn starts(p: &ScheduleProposal, discipline: &Discipline) -> Vec<String> {
    p.appointments
        .iter()
        .filter(|a| &a.discipline == discipline && a.adjunct.is_none())
        .map(|a| a.start.to_string())
        .collect()
}

#[test]
fn refuses_bad_requests() {
    fn check(change: impl FnOnce(&mut ScheduleRequest), expected: &str) {
        let mut req = request(7, vec![massage(client("c1"), 7, 14, None)]);
        change(&mut req);
        let err = CombinedTherapy.schedule(&req).expect_err(expected).to_string();
        assert!(err.contains(expected), "`{err}` lacks `{expected}`");
    }
    check(|r| r.days = 400, "horizon of 400 days is outside 1-366");
    check(|r| r.practitioners[1].id = "m".into(), "practitioner `m` appears twice");
    check(|r| r.practitioners[0].id = " ".into(), "practitioner number 1 has an empty id");
    check(|r| r.rooms[0].capacity = 0, "room `t1` has capacity 0");
    check(|r| r.classes[0].room = "t1".into(), "which is not a studio");
    check(|r| r.classes[0].practitioner = "m".into(), "`m` is not qualified in it");
    check(|r| r.classes[0].minutes = 0, "does not fit in one day");
    check(|r| r.classes.push(r.classes[0].clone()), "group class `yoga-wed` appears twice");
    check(|r| r.plans[0].client = String::new(), "empty client id");
    check(|r| r.plans[0].massage.as_mut().unwrap().interval_days = Range::new(0, 7), "massage interval 0-7");
    check(|r| r.plans[0].massage.as_mut().unwrap().minutes = Range::new(30, 300), "massage minutes 30-300");
    check(|r| r.plans[0].massage.as_mut().unwrap().before = vec![Adjunct::ColdAfter], "only one heat step");
    check(|r| r.plans[0].massage.as_mut().unwrap().after = vec![Adjunct::ColdAfter; 2], "only one cold step");
    check(|r| r.plans[0] = other(other(client("c1"), Discipline::Yoga, 7), Discipline::Yoga, 14), "yoga appears twice");
    check(|r| r.plans[0] = other(client("c1"), Discipline::Yoga, 0), "yoga every 0 days");
    check(
        |r| r.plans[0].availability = vec![window(Weekday::Friday, "10:00", "10:00")],
        "client `c1` has a window on friday",
    );
    check(|r| drop(r.settings.insert("slot_minutes".into(), 7.into())), "slot_minutes 7");
}

#[test]
fn settings_change_the_plan() {
    fn check(settings: &str, plan: CarePlan, days: u32, expected: &[&str]) {
        let mut req = request(days, vec![plan]);
        req.settings = serde_json::from_str(settings).unwrap();
        let p = run(&req);
        let got: Vec<String> =
            p.appointments.iter().map(|a| format!("{} {} {:?}", a.start, a.minutes, a.adjunct)).collect();
        assert_eq!(got, expected, "{settings}");
    }
    let hc = || {
        let mut p = massage(client("c1"), 7, 14, None);
        p.massage.as_mut().unwrap().before = vec![Adjunct::HeatBefore];
        p.massage.as_mut().unwrap().after = vec![Adjunct::ColdAfter];
        p
    };
    check(
        "{}",
        hc(),
        1,
        &["2026-11-23T09:00 10 Some(HeatBefore)", "2026-11-23T09:10 30 None", "2026-11-23T09:40 10 Some(ColdAfter)"],
    );
    check(
        r#"{"heat_minutes": 15, "cold_minutes": 5}"#,
        hc(),
        1,
        &["2026-11-23T09:00 15 Some(HeatBefore)", "2026-11-23T09:15 30 None", "2026-11-23T09:45 5 Some(ColdAfter)"],
    );
    let mut busy_morning = massage(client("c1"), 7, 14, None);
    busy_morning.availability = vec![window(Weekday::Monday, "09:10", "12:00")];
    check("{}", busy_morning.clone(), 1, &["2026-11-23T09:15 30 None"]);
    check(r#"{"slot_minutes": 60}"#, busy_morning, 1, &["2026-11-23T10:00 30 None"]);
    // Weekly yoga: the Wednesday class, or (prefer_classes off) an individual session on the first day.
    let yoga = || other(client("c1"), Discipline::Yoga, 7);
    check("{}", yoga(), 7, &["2026-11-25T09:00 60 None"]);
    check(r#"{"prefer_classes": false}"#, yoga(), 7, &["2026-11-23T09:00 30 None"]);
}

#[test]
fn weekly_cap_setting() {
    let plan = || {
        let mut p =
            other(other(massage(client("c1"), 1, 2, None), Discipline::Yoga, 7), Discipline::Other("reiki".into()), 7);
        p.fibromyalgia = true;
        p
    };
    let mut req = request(7, vec![plan()]);
    req.practitioners[0].disciplines.push(Discipline::Other("reiki".into()));
    let visits = |p: &ScheduleProposal| p.appointments.len();
    assert_eq!(visits(&run(&req)), 3);
    req.settings.insert("weekly_cap".into(), 2.into());
    assert_eq!(visits(&run(&req)), 2);
    req.settings.insert("weekly_cap".into(), 5.into());
    assert_eq!(visits(&run(&req)), 5);
}

#[test]
fn a_massage_that_misses_its_window_is_placed_late_and_the_chain_goes_on() {
    // An exact 7-day interval (one-day window); the therapist is away on its day, Monday 23 November.
    fn check(min: u32, max: u32, away: (&str, &str), expected_starts: &[&str], expected_late: &[(&str, u32)]) {
        let mut req = request(21, vec![massage(client("c1"), min, max, Some("2026-11-16"))]);
        req.practitioners[0].time_off = vec![praxis_sdk::DateRange { from: date(away.0), to: date(away.1) }];
        let p = run(&req);
        assert_eq!(starts(&p, &Discipline::Massage), expected_starts, "{p:#?}");
        let late: Vec<(String, u32)> = p.late.iter().map(|l| (l.placed.to_string(), l.days)).collect();
        let expected: Vec<(String, u32)> = expected_late.iter().map(|(d, n)| ((*d).to_owned(), *n)).collect();
        assert_eq!(late, expected, "{p:#?}");
        assert!(p.unmet.is_empty(), "{:#?}", p.unmet);
        assert!(p.late.iter().all(|l| l.reason.contains("no slot from")), "{:#?}", p.late);
    }
    // One day away: a day late, then every 7 days from there.
    check(
        7,
        7,
        ("2026-11-23", "2026-11-23"),
        &["2026-11-24T09:00", "2026-12-01T09:00", "2026-12-08T09:00"],
        &[("2026-11-24", 1)],
    );
    // Away for the whole window and two days more: placed on the first day back, never before.
    check(7, 9, ("2026-11-23", "2026-11-27"), &["2026-11-30T09:00", "2026-12-07T09:00"], &[("2026-11-30", 5)]);
    // A window with room: nothing late.
    check(7, 9, ("2026-11-23", "2026-11-23"), &["2026-11-24T09:00", "2026-12-01T09:00", "2026-12-08T09:00"], &[]);
}

#[test]
fn fibromyalgia_cap_counts_any_seven_days() {
    // Yoga every 7 days and reiki every 7 days and massage every 2-3 days: with a cap of 3 in any 7 days, no run of
    // 7 days holds 4 visits, across week boundaries too.
    let mut p =
        other(other(massage(client("c1"), 2, 3, None), Discipline::Yoga, 7), Discipline::Other("reiki".into()), 7);
    p.fibromyalgia = true;
    p.availability = Weekday::ALL.iter().map(|&d| window(d, "09:00", "17:00")).collect();
    let mut req = request(28, vec![p]);
    req.opening_hours = Weekday::ALL.iter().map(|&d| window(d, "09:00", "17:00")).collect();
    req.practitioners[0].disciplines.push(Discipline::Other("reiki".into()));
    let got = run(&req);
    let mut days: Vec<Date> = got.appointments.iter().map(|a| a.start.date).collect();
    days.dedup();
    assert!(days.len() >= 8, "{days:?}");
    for (k, d) in days.iter().enumerate() {
        let in_run = days[k..].iter().take_while(|e| e.days_since(*d) < 7).count();
        assert!(in_run <= 3, "4 visits in 7 days from {d}: {days:?}");
    }
}

#[test]
fn unmet_demand_says_why() {
    fn check(req: ScheduleRequest, expected: &[(&str, &str, &str)]) {
        let p = run(&req);
        let got: Vec<(String, String, String)> =
            p.unmet.iter().map(|u| (u.discipline.to_string(), u.due.to_string(), u.reason.clone())).collect();
        assert_eq!(got.len(), expected.len(), "{got:#?}");
        for ((d, due, reason), (ed, edue, part)) in got.iter().zip(expected) {
            assert_eq!((d.as_str(), due.as_str()), (*ed, *edue), "{reason}");
            assert!(reason.contains(part), "`{reason}` lacks `{part}`");
        }
    }
    // No acupuncture room.
    let mut req = request(7, vec![other(client("c1"), Discipline::Acupuncture, 7)]);
    req.practitioners.push(prac("a", &[Discipline::Acupuncture]));
    check(req, &[("acupuncture", "2026-11-23", "no room suitable for acupuncture")]);
    // The client is free only on Saturdays.
    let mut weekend = massage(client("c1"), 7, 7, Some("2026-11-16"));
    weekend.availability = vec![window(Weekday::Saturday, "09:00", "12:00")];
    check(
        request(14, vec![weekend]),
        &[("massage", "2026-11-23", "1 day the client is not available while the practice is open")],
    );
    let mut weekend = massage(client("c1"), 7, 7, Some("2026-11-16"));
    weekend.availability = vec![window(Weekday::Saturday, "09:00", "12:00")];
    check(request(14, vec![weekend]), &[("massage", "2026-11-23", "no day after it up to the horizon's end had room")]);
    // The yoga class is full and the teacher teaches nothing else: no individual session either.
    let mut req = request(7, vec![other(client("c1"), Discipline::Yoga, 7)]);
    req.booked.push(Appointment {
        client: "c0".into(),
        practitioner: "y".into(),
        room: "s1".into(),
        discipline: Discipline::Yoga,
        start: "2026-11-25T09:00".parse().unwrap(),
        minutes: 60,
        visit: None,
        adjunct: None,
        class: Some("yoga-wed".into()),
    });
    req.practitioners[1].availability = vec![window(Weekday::Wednesday, "09:00", "10:00")];
    check(req, &[("yoga", "2026-11-23", "the group classes that fit were full")]);
}

#[test]
fn rooms_with_capacity_and_booked_time() {
    // Two tables in one treatment room, two therapists: two clients at 09:00.
    let mut req = request(1, vec![massage(client("c1"), 7, 14, None), massage(client("c2"), 7, 14, None)]);
    req.rooms[0].capacity = 2;
    req.practitioners.push(prac("m2", &[Discipline::Massage]));
    let p = run(&req);
    let got: Vec<(String, String)> =
        p.appointments.iter().map(|a| (a.start.to_string(), a.practitioner.clone())).collect();
    assert_eq!(
        got,
        [("2026-11-23T09:00".to_owned(), "m".to_owned()), ("2026-11-23T09:00".to_owned(), "m2".to_owned())]
    );
    // A booked session takes 09:00-10:00 of the therapist.
    let mut req = request(1, vec![massage(client("c1"), 7, 14, None)]);
    req.booked.push(Appointment {
        client: "c9".into(),
        practitioner: "m".into(),
        room: "t1".into(),
        discipline: Discipline::Massage,
        start: "2026-11-23T09:00".parse().unwrap(),
        minutes: 60,
        visit: None,
        adjunct: None,
        class: None,
    });
    assert_eq!(starts(&run(&req), &Discipline::Massage), ["2026-11-23T10:00"]);
    // A booked individual session of the yoga teacher during the class: no place in that class.
    let mut req = request(7, vec![other(client("c1"), Discipline::Yoga, 7)]);
    req.booked.push(Appointment {
        client: "c9".into(),
        practitioner: "y".into(),
        room: "s1".into(),
        discipline: Discipline::Yoga,
        start: "2026-11-25T09:30".parse().unwrap(),
        minutes: 30,
        visit: None,
        adjunct: None,
        class: None,
    });
    let p = run(&req);
    assert!(p.appointments.iter().all(|a| a.class.is_none()), "{:#?}", p.appointments);
}

#[test]
fn massage_booked_after_the_horizon_is_respected() {
    let mut req = request(7, vec![massage(client("c1"), 7, 14, Some("2026-11-16"))]);
    req.booked.push(Appointment {
        client: "c1".into(),
        practitioner: "m".into(),
        room: "t1".into(),
        discipline: Discipline::Massage,
        start: "2026-12-01T09:00".parse().unwrap(),
        minutes: 30,
        visit: None,
        adjunct: None,
        class: None,
    });
    let p = run(&req);
    // At least 7 days before the booked 2026-12-01: no later than 2026-11-24.
    assert_eq!(starts(&p, &Discipline::Massage), ["2026-11-23T09:00"]);
    let mut req2 = req.clone();
    req2.days = 8;
    req2.plans[0].massage.as_mut().unwrap().not_before = Some(date("2026-11-25"));
    let p = run(&req2);
    assert!(starts(&p, &Discipline::Massage).is_empty());
    assert!(
        p.unmet.iter().any(|u| u.reason.contains("a massage booked later would follow too soon (C4)")),
        "{:#?}",
        p.unmet
    );
}

#[test]
fn proposals_are_sorted_and_deterministic() {
    let plans: Vec<CarePlan> =
        (0..12).map(|i| other(massage(client(&format!("c{i:02}")), 7, 14, None), Discipline::Yoga, 7)).collect();
    let req = request(28, plans);
    let a = run(&req);
    let b = run(&req);
    assert_eq!(a, b);
    assert!(a.appointments.windows(2).all(|w| (w[0].start, &w[0].client) <= (w[1].start, &w[1].client)));
    assert!(a.unmet.windows(2).all(|w| (&w[0].client, w[0].due) <= (&w[1].client, w[1].due)));
}

#[test]
fn waiting_for_a_massage_loses_no_day() {
    /// Four weeks in the fixture practice plus an acupuncturist `a` who works
    /// Monday, Wednesday and Friday and an acupuncture room: the acupuncture
    /// days and the massage days as given, nothing unmet.
    fn check(plan: CarePlan, acupuncture: &[&str], massage: &[&str]) {
        let mut req = request(28, vec![plan]);
        let mut a = prac("a", &[Discipline::Acupuncture]);
        a.availability = [Weekday::Monday, Weekday::Wednesday, Weekday::Friday]
            .into_iter()
            .map(|d| window(d, "09:00", "17:00"))
            .collect();
        req.practitioners.push(a);
        req.rooms.push(room("a1", RoomKind::AcupunctureRoom, 1));
        let p = run(&req);
        assert_eq!(starts(&p, &Discipline::Acupuncture), acupuncture, "{:#?}", p.unmet);
        assert_eq!(starts(&p, &Discipline::Massage), massage);
        assert!(p.unmet.is_empty(), "{:#?}", p.unmet);
    }
    let acupuncture = |p: CarePlan| other(p, Discipline::Acupuncture, 14);
    check(acupuncture(client("c1")), &["2026-11-23T09:00", "2026-12-04T09:00"], &[]);
    // Massage every 3-7 days lands on Mondays and Thursdays: the acupuncture
    // used to wait from one massage to the next, past every Monday. It goes
    // right after the Monday massages now, sharing their trips.
    check(
        acupuncture(massage(client("c1"), 3, 7, None)),
        &["2026-11-23T09:30", "2026-12-07T09:30"],
        &[
            "2026-11-23T09:00",
            "2026-11-26T09:00",
            "2026-11-30T09:00",
            "2026-12-03T09:00",
            "2026-12-07T09:00",
            "2026-12-10T09:00",
            "2026-12-14T09:00",
            "2026-12-17T09:00",
        ],
    );
}

/// FNV-1a over the proposal's JSON: a short, stable fingerprint of a whole plan.
fn digest(p: &ScheduleProposal) -> u64 {
    let json = serde_json::to_string(p).unwrap();
    json.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The generated instances of the guard below: (seed, clients, days), and whether half of a first plan is booked
/// before planning again (so booked appointments are exercised too).
const GUARD: &[(u64, usize, u32, bool)] = &[
    (1, 20, 14, false),
    (2, 20, 28, true),
    (3, 40, 14, false),
    (4, 40, 28, true),
    (5, 60, 21, false),
    (6, 80, 28, true),
    (7, 100, 14, false),
    (8, 100, 28, true),
    (9, 150, 28, false),
    (10, 150, 21, true),
    (11, 300, 56, false),
    (12, 30, 56, true),
];

fn guard_plan(seed: u64, clients: usize, days: u32, booked: bool) -> ScheduleProposal {
    let mut req = crate::testgen::request(seed, clients, days);
    req.settings.insert("improve_ms".into(), 0.into());
    if booked {
        let first = CombinedTherapy.schedule(&req).unwrap_or_else(|e| panic!("{e}"));
        let mid = req.start.add_days(days as i32 / 2);
        req.booked = first.appointments.into_iter().filter(|a| a.start.date < mid).step_by(2).collect();
    }
    CombinedTherapy.schedule(&req).unwrap_or_else(|e| panic!("{e}"))
}

/// The greedy construction's plans, fingerprinted before the planner was split into a validated request, an
/// index and an occupancy (issue 16, item 8): a change of structure must not change one plan.
#[test]
fn restructuring_keeps_every_greedy_plan() {
    let expected: &[u64] = &[
        9297657100408992492,
        13404730482647073829,
        6684577037903917281,
        12812785450124504424,
        16308406659198329027,
        11036933570220260306,
        9517854982984896737,
        15178678781022468750,
        13094730713082404800,
        17310215243877169624,
        9509740931461092823,
        15162364803134288320,
    ];
    let got: Vec<u64> = GUARD.iter().map(|&(s, c, d, b)| digest(&guard_plan(s, c, d, b))).collect();
    let sizes: Vec<usize> = GUARD.iter().map(|&(s, c, d, b)| guard_plan(s, c, d, b).appointments.len()).collect();
    assert!(sizes.iter().all(|&n| n > 0), "a guard instance plans nothing: {sizes:?}");
    assert_eq!(got, expected, "sizes {sizes:?}");
}

fn improved(mut req: ScheduleRequest, seed: u64) -> ScheduleProposal {
    req.settings.insert("improve_ms".into(), 10_000.into());
    req.settings.insert("improve_seed".into(), seed.into());
    run(&req)
}

/// The number of sessions a plan places (a heat-massage-cold visit counts once), and how many of its massages
/// are late.
fn score(p: &ScheduleProposal) -> (usize, usize) {
    (p.appointments.iter().filter(|a| a.adjunct.is_none()).count(), p.late.len())
}

/// The improved plans (seed 7, a budget the phase never reaches here), fingerprinted before the occupancy
/// kept indexes of what is free (issue 16, item 7): the indexes give the same candidates in the same order, so
/// they must not change one plan.
#[test]
fn the_occupancys_indexes_keep_every_improved_plan() {
    let expected: &[u64] = &[
        9297657100408992492,
        12848009768313561560,
        6684577037903917281,
        14816925378785246328,
        16308406659198329027,
        2228742320621342805,
        9517854982984896737,
        2654472391283628208,
    ];
    let got: Vec<u64> =
        GUARD[..8].iter().map(|&(s, c, d, _)| digest(&improved(crate::testgen::request(s, c, d), 7))).collect();
    assert_eq!(got, expected);
}

#[test]
fn the_improvement_phase_is_deterministic_for_a_seed_and_never_worse() {
    for &(seed, clients, days, _) in &GUARD[..8] {
        let req = crate::testgen::request(seed, clients, days);
        let mut greedy = req.clone();
        greedy.settings.insert("improve_ms".into(), 0.into());
        let greedy = run(&greedy);
        let a = improved(req.clone(), 7);
        let b = improved(req.clone(), 7);
        assert_eq!(digest(&a), digest(&b), "seed {seed}: the same improvement seed gave two plans");
        let (placed, late) = (score(&greedy), score(&a));
        assert!(late.0 >= placed.0, "seed {seed}: the improved plan places fewer sessions ({late:?} < {placed:?})");
        assert!(
            a.unmet.len() <= greedy.unmet.len(),
            "seed {seed}: more unmet after improving ({} > {})",
            a.unmet.len(),
            greedy.unmet.len()
        );
    }
}

#[test]
fn the_improvement_phase_places_what_greedy_leaves_unmet() {
    // One acupuncturist and one room, open one hour on Monday and one on Tuesday. Client `a` can come either
    // day, `b` only on Monday. The sweep takes `a` first on Monday (same window, `a` before `b`), so `b` is
    // unmet; moving `a` to Tuesday places both.
    let acu = || DisciplineDemand { discipline: Discipline::Acupuncture, every_days: 7, minutes: 60, last: None };
    let plan = |id: &str, days: &[Weekday]| CarePlan {
        client: id.into(),
        availability: days.iter().map(|&d| window(d, "09:00", "10:00")).collect(),
        fibromyalgia: false,
        massage: None,
        other: vec![acu()],
    };
    let req = ScheduleRequest {
        start: date("2026-11-23"),
        days: 7,
        opening_hours: vec![window(Weekday::Monday, "09:00", "10:00"), window(Weekday::Tuesday, "09:00", "10:00")],
        practitioners: vec![prac("ac", &[Discipline::Acupuncture])],
        rooms: vec![room("a1", RoomKind::AcupunctureRoom, 1)],
        classes: vec![],
        booked: vec![],
        plans: vec![plan("a", &[Weekday::Monday, Weekday::Tuesday]), plan("b", &[Weekday::Monday])],
        settings: Default::default(),
    };
    let mut greedy = req.clone();
    greedy.settings.insert("improve_ms".into(), 0.into());
    let greedy = run(&greedy);
    let who = |p: &ScheduleProposal| -> Vec<String> {
        p.appointments.iter().map(|a| format!("{} {}", a.client, a.start)).collect()
    };
    assert_eq!(who(&greedy), ["a 2026-11-23T09:00"]);
    assert_eq!(greedy.unmet.len(), 1, "{:#?}", greedy.unmet);
    let better = improved(req, 1);
    assert_eq!(who(&better), ["b 2026-11-23T09:00", "a 2026-11-24T09:00"]);
    assert!(better.unmet.is_empty(), "{:#?}", better.unmet);
}
