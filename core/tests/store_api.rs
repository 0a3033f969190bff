//! The store's public API: validation, queries, audit, snapshots, versioning,
//! locking, corruption, import and export, and the published JSON Schema.

use praxis_core::store::{
    Appointment, AppointmentStatus, AuditAction, Authorization, Client, Consent, Contact, EXPORT_SCHEMA, Insurance,
    Intake, LimitPeriod, MedicationUse, Override, PracticeExport, Practitioner, Problem, RecordKind, Room,
    SCHEMA_VERSION, SLED_SEGMENT_SIZE, Session, SessionLimit, Store, StoreError, StoreOptions, Therapy, UsedElsewhere,
    ValidationError,
};
use praxis_sdk::{
    Adjunct, AdverseEvent, Condition, ConditionStatus, Date, DateRange, DateTime, Discipline, Pressure, RedFlag,
    RedFlagKind, RoomKind, Weekday, WeeklyWindow, snomed,
};
use serde_json::{Value, json};

fn day(s: &str) -> Date {
    s.parse().unwrap()
}

fn at(s: &str) -> DateTime {
    s.parse().unwrap()
}

fn today() -> Date {
    day("2026-11-21")
}

const ACTOR: &str = "tester";

mod backends;

struct Practice {
    _place: backends::Place,
    store: Store,
}

fn practitioner(id: &str, disciplines: &[Discipline]) -> Practitioner {
    Practitioner {
        id: id.into(),
        name: format!("Practitioner {id}"),
        disciplines: disciplines.to_vec(),
        availability: vec![WeeklyWindow {
            day: Weekday::Monday,
            start: "09:00".parse().unwrap(),
            end: "17:00".parse().unwrap(),
        }],
        time_off: vec![DateRange { from: day("2026-12-24"), to: day("2026-12-31") }],
    }
}

fn room(id: &str, kind: RoomKind, capacity: u16) -> Room {
    Room { id: id.into(), name: format!("Room {id}"), kind, capacity }
}

fn client(id: &str) -> Client {
    Client {
        date_of_birth: Some(day("1970-05-04")),
        contact: Contact { phone: Some("+1 555 0100".into()), email: Some("ada@example.org".into()), address: None },
        conditions: vec![Condition {
            code: snomed::FIBROMYALGIA.into(),
            name: "Fibromyalgia".into(),
            status: ConditionStatus::Active,
            since: Some(day("2019-03-01")),
        }],
        sensitivities: vec!["lavender oil".into()],
        tender_points: vec!["upper trapezius".into()],
        preferred_pressure: Some(Pressure::Light),
        insurance: Some(Insurance {
            payer: "Acme Health".into(),
            requires: Some(Authorization::Referral),
            authorization_on_file: true,
            covered_conditions: vec![snomed::FIBROMYALGIA.into()],
            session_limit: Some(SessionLimit { sessions: 10, period: LimitPeriod::CalendarYear }),
            sessions_used: 0,
            plan: None,
            member_id: None,
            used_elsewhere: None,
        }),
        consent: Consent { treatment: true, data_processing: true, recorded: Some(day("2026-01-10")) },
        ..Client::new(id, format!("Client {id}"))
    }
}

fn session(id: &str, client: &str, start: &str) -> Session {
    Session {
        id: id.into(),
        client: client.into(),
        practitioner: "p-anna".into(),
        discipline: Discipline::Massage,
        start: at(start),
        minutes: 60,
        pressure: Some(Pressure::Light),
        techniques: vec!["effleurage".into()],
        regions: vec!["back".into()],
        pain_before: Some(6),
        pain_after: Some(4),
        follow_up_pain: None,
        follow_up_at: None,
        adverse_event: AdverseEvent::None,
        adjuncts: vec![Adjunct::HeatBefore],
        notes: String::new(),
        pain_medication: Some(MedicationUse::AsUsual),
    }
}

fn appointment(id: &str, client: &str, room: &str, start: &str) -> Appointment {
    Appointment {
        id: id.into(),
        client: client.into(),
        practitioner: "p-anna".into(),
        room: room.into(),
        discipline: Discipline::Massage,
        start: at(start),
        minutes: 60,
        status: AppointmentStatus::Booked,
        visit: None,
        adjunct: None,
        class: None,
        status_reason: None,
    }
}

/// A store with two practitioners, two rooms and two clients.
fn practice() -> Practice {
    let (place, store) = backends::open();
    store.put_practitioner(&practitioner("p-anna", &[Discipline::Massage, Discipline::Yoga]), ACTOR).unwrap();
    store.put_practitioner(&practitioner("p-ben", &[Discipline::Acupuncture]), ACTOR).unwrap();
    store.put_room(&room("r-1", RoomKind::TreatmentRoom, 1), ACTOR).unwrap();
    store.put_room(&room("studio", RoomKind::Studio, 12), ACTOR).unwrap();
    store.put_client_as_of(&client("c1"), today(), ACTOR).unwrap();
    store.put_client_as_of(&client("c10"), today(), ACTOR).unwrap();
    Practice { _place: place, store }
}

#[track_caller]
fn invalid(result: Result<impl std::fmt::Debug, StoreError>) -> ValidationError {
    match result {
        Err(StoreError::Invalid(v)) => *v,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

// ----- validation -----

#[track_caller]
fn check_session(edit: impl FnOnce(&mut Session), field: &str, problem: Problem) {
    let p = practice();
    let mut s = session("s-1", "c1", "2026-11-20T10:00");
    edit(&mut s);
    let err = invalid(p.store.record_session(&s, today(), ACTOR));
    assert!(err.field == field && same_problem(&err.problem, &problem), "expected {field}: {problem:?}, got {err:?}");
    assert_eq!(err.record.kind, RecordKind::Session);
    assert!(err.to_string().contains(field), "{err}");
    assert_eq!(p.store.get_session(&s.id).unwrap(), None);
    assert_eq!(p.store.sessions_for("c1").unwrap(), vec![]);
}

#[test]
fn bad_sessions_are_refused_naming_field_and_value() {
    backends::each(|_| {
        let pain = Problem::OutOfRange { min: 0, max: 10 };
        let minutes = Problem::OutOfRange { min: 5, max: 240 };
        check_session(|s| s.pain_before = Some(11), "pain_before", pain.clone());
        check_session(|s| s.pain_after = Some(255), "pain_after", pain.clone());
        check_session(|s| s.follow_up_pain = Some(11), "follow_up_pain", pain);
        check_session(|s| s.minutes = 0, "minutes", minutes.clone());
        check_session(|s| s.minutes = 4, "minutes", minutes.clone());
        check_session(|s| s.minutes = 241, "minutes", minutes);
        check_session(|s| s.start = at("2026-11-22T00:00"), "start", Problem::InFuture { today: today() });
        check_session(|s| s.start = at("2026-11-20T24:00"), "start", bad_value());
        check_session(|s| s.client = "nobody".into(), "client", Problem::UnknownReference { kind: RecordKind::Client });
        check_session(
            |s| s.practitioner = "nobody".into(),
            "practitioner",
            Problem::UnknownReference { kind: RecordKind::Practitioner },
        );
        check_session(
            |s| s.discipline = Discipline::Acupuncture,
            "discipline",
            Problem::NotQualified { practitioner: "p-anna".into() },
        );
        check_session(|s| s.discipline = Discipline::Other("Hot Stones!".into()), "discipline", bad_value());
        check_session(
            |s| s.adverse_event = AdverseEvent::StoppedEarly { reason: " ".into() },
            "adverse_event.reason",
            Problem::Empty,
        );
        check_session(|s| s.adverse_event = AdverseEvent::Unknown, "adverse_event.kind", bad_value());
        check_session(|s| s.adjuncts = vec![Adjunct::ColdAfter, Adjunct::ColdAfter], "adjuncts", bad_value());
        check_session(|s| s.notes = "bell \u{7}".into(), "notes", bad_value());
        check_session(|s| s.regions = vec![String::new()], "regions[0]", Problem::Empty);
        check_session(|s| s.regions = vec!["x".repeat(201)], "regions[0]", Problem::TooLong { max: 200 });
        check_session(|s| s.id = String::new(), "id", Problem::BadId);
        check_session(|s| s.id = "has space".into(), "id", Problem::BadId);
    });
}

/// Any `BadValue`: the expected text is for people, not for matching.
fn bad_value() -> Problem {
    Problem::BadValue { expected: "" }
}

fn same_problem(got: &Problem, want: &Problem) -> bool {
    match (got, want) {
        (Problem::BadValue { .. }, Problem::BadValue { .. }) => true,
        (a, b) => a == b,
    }
}

#[track_caller]
fn check_client(edit: impl FnOnce(&mut Client), field: &str, problem: Problem) {
    let p = practice();
    let mut c = client("c-new");
    edit(&mut c);
    let err = invalid(p.store.put_client_as_of(&c, today(), ACTOR));
    assert!(err.field == field && same_problem(&err.problem, &problem), "expected {field}: {problem:?}, got {err:?}");
    assert_eq!(p.store.get_client("c-new").unwrap(), None);
}

#[test]
fn bad_clients_are_refused_naming_field_and_value() {
    backends::each(|_| {
        let future = Problem::InFuture { today: today() };
        check_client(|c| c.name = "  ".into(), "name", Problem::Empty);
        check_client(|c| c.date_of_birth = Some(day("2026-11-22")), "date_of_birth", future.clone());
        check_client(|c| c.conditions[0].code = "fibro".into(), "conditions[0].code", bad_value());
        check_client(|c| c.conditions[0].status = ConditionStatus::Unknown, "conditions[0].status", bad_value());
        check_client(|c| c.conditions[0].since = Some(day("2027-01-01")), "conditions[0].since", future.clone());
        let flag = |kind, region: Option<&str>, date: Option<&str>| RedFlag {
            kind,
            region: region.map(Into::into),
            date: date.map(day),
            resolved: None,
            note: String::new(),
        };
        check_client(
            |c| c.red_flags = vec![flag(RedFlagKind::RecentInjury, Some("knee"), None)],
            "red_flags[0].kind",
            Problem::Missing { needed: "a recent injury needs its region and date" },
        );
        check_client(
            |c| c.red_flags = vec![flag(RedFlagKind::NerveCompression, None, None)],
            "red_flags[0].kind",
            Problem::Missing { needed: "a nerve compression needs its region" },
        );
        check_client(
            |c| c.red_flags = vec![flag(RedFlagKind::RecentInjury, Some("knee"), Some("2026-12-01"))],
            "red_flags[0].date",
            future.clone(),
        );
        check_client(
            |c| {
                let mut f = flag(RedFlagKind::RecentInjury, Some("knee"), Some("2026-10-01"));
                f.resolved = Some(day("2026-09-01"));
                c.red_flags = vec![f];
            },
            "red_flags[0].resolved",
            Problem::BeforeOther { other: "date" },
        );
        check_client(|c| c.red_flags = vec![flag(RedFlagKind::Unknown, None, None)], "red_flags[0].kind", bad_value());
        check_client(|c| c.contact.email = Some("ada.example.org".into()), "contact.email", bad_value());
        check_client(
            |c| c.consent.recorded = None,
            "consent.recorded",
            Problem::Missing { needed: "consent given needs the day it was given" },
        );
        check_client(|c| c.consent.recorded = Some(day("2026-12-01")), "consent.recorded", future);
        check_client(
            |c| {
                c.insurance.as_mut().unwrap().session_limit =
                    Some(SessionLimit { sessions: 0, period: LimitPeriod::PlanYear })
            },
            "insurance.session_limit.sessions",
            Problem::OutOfRange { min: 1, max: u32::MAX.into() },
        );
        check_client(
            |c| c.insurance.as_mut().unwrap().covered_conditions = vec!["x".into()],
            "insurance.covered_conditions[0]",
            bad_value(),
        );
        check_client(|c| c.insurance.as_mut().unwrap().payer = String::new(), "insurance.payer", Problem::Empty);
        // A client on a plan keeps no copy of its terms, and sessions used elsewhere need a plan.
        check_client(|c| c.insurance.as_mut().unwrap().plan = Some("acme".into()), "insurance.payer", bad_value());
        let elsewhere = |sessions, recorded: &str| {
            Some(Insurance {
                used_elsewhere: Some(UsedElsewhere { sessions, recorded: day(recorded) }),
                ..Insurance::on_plan("acme")
            })
        };
        check_client(
            |c| c.insurance = elsewhere(0, "2026-11-01"),
            "insurance.used_elsewhere.sessions",
            Problem::OutOfRange { min: 1, max: u32::MAX.into() },
        );
        check_client(
            |c| c.insurance = elsewhere(2, "2026-12-01"),
            "insurance.used_elsewhere.recorded",
            Problem::InFuture { today: today() },
        );
        check_client(
            |c| c.insurance.as_mut().unwrap().used_elsewhere = elsewhere(2, "2026-11-01").unwrap().used_elsewhere,
            "insurance.used_elsewhere",
            Problem::Missing { needed: "sessions used elsewhere need a plan (insurance.plan)" },
        );
        check_client(
            |c| c.insurance = Some(Insurance { plan: Some("two\nlines".into()), ..Insurance::on_plan("") }),
            "insurance.plan",
            bad_value(),
        );
        let yoga = |every_days, minutes| Therapy { discipline: Discipline::Yoga, every_days, minutes };
        check_client(
            |c| c.therapies = vec![yoga(0, 60)],
            "therapies[0].every_days",
            Problem::OutOfRange { min: 1, max: 365 },
        );
        check_client(
            |c| c.therapies = vec![yoga(7, 500)],
            "therapies[0].minutes",
            Problem::OutOfRange { min: 5, max: 240 },
        );
        check_client(|c| c.therapies = vec![yoga(7, 60), yoga(14, 30)], "therapies[1].discipline", bad_value());
        check_client(
            |c| {
                let (start, end) = ("12:00".parse().unwrap(), "09:00".parse().unwrap());
                c.availability = vec![WeeklyWindow { day: Weekday::Friday, start, end }];
            },
            "availability[0].end",
            Problem::BeforeOther { other: "start" },
        );
    });
}

#[test]
fn error_messages_say_what_is_wrong_and_what_to_do() {
    backends::each(|_| {
        fn check(edit: impl FnOnce(&mut Session), expected: &str) {
            let p = practice();
            let mut s = session("s-1", "c1", "2026-11-20T10:00");
            edit(&mut s);
            let err = p.store.record_session(&s, today(), ACTOR).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
        check(
            |s| s.pain_before = Some(11),
            "session `s-1`: pain_before 11 is outside 0-10: give a whole number from 0 to 10",
        );
        check(
            |s| s.start = at("2026-11-23T09:00"),
            "session `s-1`: start 2026-11-23 is after today (2026-11-21): give a date that has already happened",
        );
        check(
            |s| s.client = "c-x".into(),
            "session `s-1`: client `c-x` names no client in the store: add the client first or correct the id",
        );
    });
}

#[test]
fn bad_actors_other_records_and_follow_ups_are_refused() {
    backends::each(|_| {
        let p = practice();
        let s = session("s-1", "c1", "2026-11-20T10:00");
        assert!(matches!(p.store.record_session(&s, today(), " "), Err(StoreError::BadActor(_))));
        assert!(matches!(p.store.put_client_as_of(&client("c2"), today(), ""), Err(StoreError::BadActor(_))));
        p.store.record_session(&s, today(), ACTOR).unwrap();

        let err = invalid(p.store.set_follow_up("s-1", 11, ACTOR));
        assert_eq!((err.field.as_str(), err.problem), ("follow_up_pain", Problem::OutOfRange { min: 0, max: 10 }));
        assert!(matches!(
            p.store.set_follow_up("s-404", 3, ACTOR),
            Err(StoreError::NotFound { kind: RecordKind::Session, .. })
        ));
        assert_eq!(p.store.get_session("s-1").unwrap().unwrap().follow_up_pain, None);

        let err = invalid(p.store.put_room(&room("r-0", RoomKind::Studio, 0), ACTOR));
        assert_eq!(err.field, "capacity");
        let err = invalid(p.store.put_room(&room("r-0", RoomKind::Unknown, 2), ACTOR));
        assert_eq!(err.field, "kind");
        let err = invalid(p.store.put_practitioner(&practitioner("p-0", &[]), ACTOR));
        assert_eq!(err.field, "disciplines");
        let mut leave = practitioner("p-0", &[Discipline::Yoga]);
        leave.time_off = vec![DateRange { from: day("2026-12-02"), to: day("2026-12-01") }];
        assert_eq!(invalid(p.store.put_practitioner(&leave, ACTOR)).field, "time_off[0].to");

        let intake = Intake {
            id: "i-1".into(),
            client: "c1".into(),
            recorded: day("2026-11-22"),
            pain_patterns: vec![],
            sensitivities: vec![],
            previous_treatments: vec![],
            medications: vec![],
        };
        assert_eq!(
            invalid(p.store.put_intake_as_of(&intake, today(), ACTOR)).problem,
            Problem::InFuture { today: today() }
        );
        let orphan = Intake { client: "nobody".into(), recorded: today(), ..intake };
        let err = invalid(p.store.put_intake_as_of(&orphan, today(), ACTOR));
        assert_eq!(err.problem, Problem::UnknownReference { kind: RecordKind::Client });
        assert_eq!(p.store.intake("nobody").unwrap(), None);
    });
}

#[test]
fn bad_appointments_leave_the_whole_booking_unwritten() {
    backends::each(|_| {
        fn check(edit: impl FnOnce(&mut Appointment), field: &str, problem: Problem) {
            let p = practice();
            let good = appointment("a-good", "c1", "r-1", "2026-11-23T09:00");
            let mut bad = appointment("a-bad", "c1", "r-1", "2026-11-23T11:00");
            edit(&mut bad);
            let err = invalid(p.store.book(&[good, bad], ACTOR));
            assert!(
                err.field == field && same_problem(&err.problem, &problem),
                "expected {field}: {problem:?}, got {err:?}"
            );
            assert_eq!(p.store.get_appointment("a-good").unwrap(), None);
            assert_eq!(p.store.appointments_between(at("2026-11-23T00:00"), at("2026-11-24T00:00")).unwrap(), vec![]);
            assert_eq!(p.store.appointments_for_client("c1").unwrap(), vec![]);
        }
        check(|a| a.room = "r-404".into(), "room", Problem::UnknownReference { kind: RecordKind::Room });
        check(|a| a.client = "c-404".into(), "client", Problem::UnknownReference { kind: RecordKind::Client });
        check(
            |a| a.practitioner = "p-404".into(),
            "practitioner",
            Problem::UnknownReference { kind: RecordKind::Practitioner },
        );
        check(
            |a| a.discipline = Discipline::TaiChi,
            "discipline",
            Problem::NotQualified { practitioner: "p-anna".into() },
        );
        check(|a| a.minutes = 300, "minutes", Problem::OutOfRange { min: 5, max: 240 });
        check(|a| a.start = at("2026-11-23T24:00"), "start", bad_value());
        check(|a| a.id = "a-good".into(), "id", Problem::AlreadyExists);
        check(|a| a.visit = Some(String::new()), "visit", Problem::BadId);
    });
}

// ----- queries -----

#[test]
fn a_clients_history_is_its_own_sessions_oldest_first() {
    backends::each(|_| {
        let p = practice();
        for (id, client, start) in [
            ("s-3", "c1", "2026-11-20T10:00"),
            ("s-1", "c1", "2025-01-02T09:00"),
            ("s-x", "c10", "2026-01-01T09:00"),
            ("s-2", "c1", "2026-02-03T16:30"),
        ] {
            p.store.record_session(&session(id, client, start), today(), ACTOR).unwrap();
        }
        let ids = |c: &str| p.store.sessions_for(c).unwrap().into_iter().map(|s| s.id).collect::<Vec<_>>();
        assert_eq!(ids("c1"), ["s-1", "s-2", "s-3"]);
        assert_eq!(ids("c10"), ["s-x"]);
        assert_eq!(ids("c"), Vec::<String>::new());

        let mut moved = session("s-1", "c1", "2026-11-21T08:00");
        moved.notes = "corrected start".into();
        p.store.record_session(&moved, today(), ACTOR).unwrap();
        assert_eq!(ids("c1"), ["s-2", "s-3", "s-1"]);
        assert_eq!(p.store.get_session("s-1").unwrap(), Some(moved));

        let err = invalid(p.store.record_session(&session("s-1", "c10", "2026-11-21T08:00"), today(), ACTOR));
        assert_eq!(err.problem, Problem::Immutable { recorded: "c1".into() });
    });
}

fn starts(store: &Store, from: &str, to: &str) -> Vec<String> {
    store.sessions_between(at(from), at(to)).unwrap().into_iter().map(|s| format!("{} {}", s.id, s.start)).collect()
}

#[test]
fn the_practices_sessions_by_start_follow_writes_corrections_and_imports() {
    backends::each(|_| {
        let p = practice();
        for (id, client, start) in [
            ("s-3", "c1", "2026-11-20T10:00"),
            ("s-1", "c10", "2026-11-19T09:00"),
            ("s-2", "c1", "2026-11-19T09:00"),
            ("s-0", "c10", "2025-01-02T09:00"),
        ] {
            p.store.record_session(&session(id, client, start), today(), ACTOR).unwrap();
        }
        let check = |store: &Store, from: &str, to: &str, expected: &[&str]| {
            assert_eq!(starts(store, from, to), expected, "{from} to {to}");
        };
        let all = ["s-0 2025-01-02T09:00", "s-1 2026-11-19T09:00", "s-2 2026-11-19T09:00", "s-3 2026-11-20T10:00"];
        check(&p.store, "2000-01-01T00:00", "2030-01-01T00:00", &all);
        check(&p.store, "2026-11-19T09:00", "2026-11-20T10:00", &all[1..3]); // from is in, to is out
        check(&p.store, "2026-11-19T09:01", "2026-11-20T10:01", &all[3..]);
        check(&p.store, "2026-11-20T10:00", "2026-11-20T10:00", &[]); // an empty range
        check(&p.store, "2026-11-21T00:00", "2026-11-19T00:00", &[]); // a reversed one

        // A corrected start moves the session; a follow-up changes the session, not its place.
        let mut moved = session("s-1", "c10", "2026-11-21T08:00");
        moved.notes = "corrected start".into();
        p.store.record_session(&moved, today(), ACTOR).unwrap();
        p.store.set_follow_up("s-3", 2, ACTOR).unwrap();
        let after = ["s-0 2025-01-02T09:00", "s-2 2026-11-19T09:00", "s-3 2026-11-20T10:00", "s-1 2026-11-21T08:00"];
        check(&p.store, "2000-01-01T00:00", "2030-01-01T00:00", &after);
        let s3 = p.store.sessions_between(at("2026-11-20T00:00"), at("2026-11-21T00:00")).unwrap();
        assert_eq!(s3[0].follow_up_pain, Some(2));

        // An import writes the index with the sessions.
        let copy = empty_store();
        copy.store.import(&p.store.export().unwrap(), today(), ACTOR).unwrap();
        check(&copy.store, "2000-01-01T00:00", "2030-01-01T00:00", &after);
    });
}

#[test]
fn the_newest_audit_entries_are_read_backwards_with_the_filter() {
    backends::each(|_| {
        let p = full_practice();
        // More entries than the PostgreSQL backend reads in one page.
        for i in 0..300 {
            p.store.put_room(&room(&format!("r-x{i}"), RoomKind::TreatmentRoom, 1), ACTOR).unwrap();
        }
        let all = p.store.audit().unwrap();
        let check = |limit: usize, keep: &dyn Fn(&praxis_core::store::AuditEntry) -> bool| {
            let want: Vec<u64> = all.iter().rev().filter(|e| keep(e)).take(limit).map(|e| e.seq).collect();
            let got: Vec<u64> = p.store.audit_newest(limit, |e| keep(e)).unwrap().iter().map(|e| e.seq).collect();
            assert_eq!(got, want, "limit {limit}");
            got.len()
        };
        let n = all.len();
        assert!(n > 300);
        assert_eq!(check(0, &|_| true), 0);
        assert_eq!(check(1, &|_| true), 1);
        assert_eq!(check(200, &|_| true), 200);
        assert_eq!(check(n, &|_| true), n);
        assert_eq!(check(n + 5, &|_| true), n);
        assert_eq!(check(300, &|e| e.key == "c2"), all.iter().filter(|e| e.key == "c2").count());
        assert_eq!(check(2, &|e| e.key.starts_with("r-x")), 2);
        assert_eq!(check(5, &|e| e.entity == "session"), 2);
        assert_eq!(check(5, &|_| false), 0);
    });
}

#[test]
fn new_sessions_count_against_a_limited_plan_in_the_same_write() {
    backends::each(|_| {
        let p = practice();
        let mut unlimited = client("c-free");
        unlimited.insurance.as_mut().unwrap().session_limit = None;
        p.store.put_client_as_of(&unlimited, today(), ACTOR).unwrap();
        for (i, start) in ["2026-11-01T09:00", "2026-11-08T09:00", "2026-11-15T09:00"].into_iter().enumerate() {
            p.store.record_session(&session(&format!("s-{i}"), "c1", start), today(), ACTOR).unwrap();
            p.store.record_session(&session(&format!("f-{i}"), "c-free", start), today(), ACTOR).unwrap();
        }
        let used = |c: &str| p.store.get_client(c).unwrap().unwrap().insurance.unwrap().sessions_used;
        assert_eq!((used("c1"), used("c-free")), (3, 0));
        let mut corrected = session("s-0", "c1", "2026-11-01T09:00");
        corrected.pain_after = Some(3);
        p.store.record_session(&corrected, today(), ACTOR).unwrap();
        assert_eq!(used("c1"), 3, "a correction is not a new session");
        let snapshot = p.store.snapshot("c1").unwrap();
        assert_eq!(snapshot.insurance.unwrap().sessions_used, 3);
        // A client on a plan keeps no counter (guidance counts the session
        // records): recording a session writes the session and nothing else.
        let mut planned = client("c-plan");
        planned.insurance = Some(Insurance { authorization_on_file: true, ..Insurance::on_plan("acme") });
        p.store.put_client_as_of(&planned, today(), ACTOR).unwrap();
        let before = p.store.audit().unwrap().len();
        p.store.record_session(&session("p-0", "c-plan", "2026-11-01T09:00"), today(), ACTOR).unwrap();
        let log = p.store.audit().unwrap();
        assert_eq!(log.len(), before + 1, "only the session is audited: {:?}", log.last());
        assert_eq!(p.store.get_client("c-plan").unwrap().unwrap(), planned);
    });
}

#[test]
fn follow_up_pain_is_added_to_the_same_session_and_audited() {
    backends::each(|_| {
        let p = practice();
        p.store.record_session(&session("s-1", "c1", "2026-11-20T10:00"), today(), ACTOR).unwrap();
        p.store.set_follow_up("s-1", 3, "therapist").unwrap();
        let s = p.store.get_session("s-1").unwrap().unwrap();
        assert_eq!(s.follow_up_pain, Some(3));
        assert_eq!(p.store.sessions_for("c1").unwrap(), vec![s]);
        let last = p.store.audit().unwrap().pop().unwrap();
        assert_eq!(
            (last.actor.as_str(), last.action, last.entity.as_str(), last.key.as_str()),
            ("therapist", AuditAction::Update, "session", "s-1")
        );
        assert_eq!(last.before.unwrap().get("follow_up_pain"), None);
        assert_eq!(last.after.unwrap()["follow_up_pain"], json!(3));
    });
}

#[test]
fn calendars_by_day_week_practitioner_room_and_client() {
    backends::each(|_| {
        let p = practice();
        let mut yoga = appointment("a-yoga", "c10", "studio", "2026-11-24T18:00");
        yoga.discipline = Discipline::Yoga;
        let mut acu = appointment("a-acu", "c1", "r-1", "2026-11-23T13:00");
        acu.practitioner = "p-ben".into();
        acu.discipline = Discipline::Acupuncture;
        let visit = Some("v-1".to_string());
        let heat =
            Appointment { visit: visit.clone(), minutes: 15, ..appointment("a-heat", "c1", "r-1", "2026-11-23T09:00") };
        let massage = Appointment { visit: visit.clone(), ..appointment("a-massage", "c1", "r-1", "2026-11-23T09:15") };
        let late = Appointment { minutes: 5, ..appointment("a-late", "c10", "r-1", "2026-11-29T23:55") };
        let next_week = appointment("a-next", "c10", "r-1", "2026-11-30T00:00");
        p.store.book(&[yoga, acu, late, next_week], ACTOR).unwrap();
        p.store.book(&[massage, heat], ACTOR).unwrap();

        let ids = |list: Vec<Appointment>| list.into_iter().map(|a| a.id).collect::<Vec<_>>();
        let between = |from: &str, to: &str| ids(p.store.appointments_between(at(from), at(to)).unwrap());
        assert_eq!(between("2026-11-23T00:00", "2026-11-24T00:00"), ["a-heat", "a-massage", "a-acu"]);
        assert_eq!(
            between("2026-11-23T00:00", "2026-11-30T00:00"),
            ["a-heat", "a-massage", "a-acu", "a-yoga", "a-late"]
        );
        assert_eq!(between("2026-11-23T09:00", "2026-11-23T09:15"), ["a-heat"]);
        assert_eq!(between("2026-11-30T00:00", "2026-11-23T00:00"), Vec::<String>::new());
        let week = (at("2026-11-23T00:00"), at("2026-11-30T00:00"));
        assert_eq!(
            ids(p.store.appointments_for_practitioner("p-anna", week.0, week.1).unwrap()),
            ["a-heat", "a-massage", "a-yoga", "a-late"]
        );
        assert_eq!(ids(p.store.appointments_for_practitioner("p-ben", week.0, week.1).unwrap()), ["a-acu"]);
        assert_eq!(ids(p.store.appointments_for_room("studio", week.0, week.1).unwrap()), ["a-yoga"]);
        assert_eq!(
            ids(p.store.appointments_for_room("r-1", week.0, week.1).unwrap()),
            ["a-heat", "a-massage", "a-acu", "a-late"]
        );
        assert_eq!(ids(p.store.appointments_for_client("c1").unwrap()), ["a-heat", "a-massage", "a-acu"]);
        assert_eq!(ids(p.store.appointments_for_client("c10").unwrap()), ["a-yoga", "a-late", "a-next"]);
        assert_eq!(p.store.get_appointment("a-massage").unwrap().unwrap().visit, visit);

        p.store.set_appointment_status("a-acu", AppointmentStatus::Cancelled, ACTOR).unwrap();
        let status = |list: Vec<Appointment>| list.into_iter().find(|a| a.id == "a-acu").map(|a| a.status);
        assert_eq!(status(p.store.appointments_between(week.0, week.1).unwrap()), Some(AppointmentStatus::Cancelled));
        assert_eq!(
            status(p.store.appointments_for_practitioner("p-ben", week.0, week.1).unwrap()),
            Some(AppointmentStatus::Cancelled)
        );
        assert_eq!(
            status(p.store.appointments_for_room("r-1", week.0, week.1).unwrap()),
            Some(AppointmentStatus::Cancelled)
        );
        assert_eq!(status(p.store.appointments_for_client("c1").unwrap()), Some(AppointmentStatus::Cancelled));
        assert!(matches!(
            p.store.set_appointment_status("a-404", AppointmentStatus::NoShow, ACTOR),
            Err(StoreError::NotFound { kind: RecordKind::Appointment, .. })
        ));

        let moved = appointment("a-late", "c10", "studio", "2026-12-01T10:00");
        p.store.book(&[moved], ACTOR).unwrap();
        assert_eq!(
            ids(p.store.appointments_for_room("r-1", week.0, week.1).unwrap()),
            ["a-heat", "a-massage", "a-acu"]
        );
        assert_eq!(between("2026-12-01T00:00", "2026-12-02T00:00"), ["a-late"]);
        assert_eq!(ids(p.store.appointments_for_client("c10").unwrap()), ["a-yoga", "a-next", "a-late"]);
    });
}

#[test]
fn snapshots_map_the_record_for_plugins() {
    backends::each(|_| {
        let p = practice();
        let intake = Intake {
            id: "i-1".into(),
            client: "c1".into(),
            recorded: day("2026-11-01"),
            pain_patterns: vec!["widespread aching".into()],
            sensitivities: vec!["cold".into()],
            previous_treatments: vec!["physical therapy".into()],
            medications: vec!["duloxetine".into()],
        };
        p.store.put_intake_as_of(&intake, today(), ACTOR).unwrap();
        p.store.record_session(&session("s-2", "c1", "2026-11-20T10:00"), today(), ACTOR).unwrap();
        let mut flare = session("s-1", "c1", "2026-11-10T10:00");
        flare.adverse_event = AdverseEvent::StoppedEarly { reason: "pain rose".into() };
        p.store.record_session(&flare, today(), ACTOR).unwrap();

        let snap = p.store.snapshot("c1").unwrap();
        let c = p.store.get_client("c1").unwrap().unwrap();
        assert_eq!(snap.id, "c1");
        assert_eq!(snap.conditions, c.conditions);
        assert_eq!((snap.sensitivities, snap.tender_points), (c.sensitivities, c.tender_points));
        assert_eq!(snap.preferred_pressure, Some(Pressure::Light));
        assert_eq!(snap.intake, Some(intake.summary()));
        assert_eq!(snap.sessions.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["s-1", "s-2"]);
        assert!(snap.sessions[0].is_flare() && !snap.sessions[1].is_flare());
        assert_eq!(snap.sessions[1].date, day("2026-11-20"));
        let insurance = snap.insurance.unwrap();
        assert!(insurance.referral_required && insurance.referral_on_file);
        assert_eq!((insurance.session_limit, insurance.sessions_used), (Some(10), 2));
        assert_eq!(p.store.snapshots().unwrap().iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["c1", "c10"]);
        assert!(matches!(p.store.snapshot("c-404"), Err(StoreError::NotFound { kind: RecordKind::Client, .. })));
    });
}

// ----- overrides and audit -----

#[test]
fn overrides_are_append_only_and_audited() {
    backends::each(|_| {
        let p = practice();
        p.store.book(&[appointment("a-1", "c1", "r-1", "2026-11-23T09:00")], ACTOR).unwrap();
        let ov = Override {
            id: "o-1".into(),
            client: "c1".into(),
            rule: "S1".into(),
            card_summary: "Recent injury: consult the client's healthcare provider".into(),
            reason: "Physician cleared light massage away from the knee (letter on file)".into(),
            at: at("2026-11-21T08:55"),
            appointment: Some("a-1".into()),
        };
        p.store.record_override(&ov, "dr-jones").unwrap();
        assert_eq!(p.store.overrides_for("c1").unwrap(), vec![ov.clone()]);
        assert_eq!(p.store.overrides_for("c10").unwrap(), vec![]);
        let last = p.store.audit().unwrap().pop().unwrap();
        assert_eq!((last.action, last.actor.as_str(), last.key.as_str()), (AuditAction::Override, "dr-jones", "o-1"));
        assert_eq!(last.after.unwrap()["reason"], json!(ov.reason));

        assert_eq!(invalid(p.store.record_override(&ov, ACTOR)).problem, Problem::AlreadyExists);
        let check = |edit: fn(&mut Override), field: &str| {
            let mut bad = Override { id: "o-2".into(), ..ov.clone() };
            edit(&mut bad);
            assert_eq!(invalid(p.store.record_override(&bad, ACTOR)).field, field);
        };
        check(|o| o.reason = "  ".into(), "reason");
        check(|o| o.rule = "S 1".into(), "rule");
        check(|o| o.card_summary = String::new(), "card_summary");
        check(|o| o.client = "c-404".into(), "client");
        check(|o| o.appointment = Some("a-404".into()), "appointment");
        assert_eq!(p.store.overrides_for("c1").unwrap().len(), 1);
    });
}

#[test]
fn every_change_is_in_the_audit_log_with_who_and_what() {
    backends::each(|_| every_change_is_audited());
}

fn every_change_is_audited() {
    let (place, store) = backends::open();
    store.put_practitioner(&practitioner("p-anna", &[Discipline::Massage]), "owner").unwrap();
    let mut c = client("c1");
    store.put_client_as_of(&c, today(), "desk").unwrap();
    store.put_client_as_of(&c, today(), "desk").unwrap();
    c.preferred_pressure = Some(Pressure::Moderate);
    store.put_client_as_of(&c, today(), "desk-2").unwrap();
    store.record_session(&session("s-1", "c1", "2026-11-20T10:00"), today(), "anna").unwrap();

    let log = store.audit().unwrap();
    let summary: Vec<_> = log.iter().map(|e| (e.actor.as_str(), e.action, e.entity.as_str(), e.key.as_str())).collect();
    assert_eq!(
        summary,
        [
            ("owner", AuditAction::Create, "practitioner", "p-anna"),
            ("desk", AuditAction::Create, "client", "c1"),
            ("desk-2", AuditAction::Update, "client", "c1"),
            ("anna", AuditAction::Create, "session", "s-1"),
            ("anna", AuditAction::Update, "client", "c1"),
        ],
        "an unchanged write is not a change"
    );
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq && w[0].at <= w[1].at));
    assert_eq!(log[2].before.as_ref().unwrap()["preferred_pressure"], json!("light"));
    assert_eq!(log[2].after.as_ref().unwrap()["preferred_pressure"], json!("moderate"));
    assert_eq!(log[4].after.as_ref().unwrap()["insurance"]["sessions_used"], json!(1));
    drop(store);
    assert_eq!(place.open().unwrap().audit().unwrap(), log, "the log survives reopening");
}

// ----- opening: lock, versions, corruption -----

fn raw_sled(dir: &std::path::Path) -> sled::Db {
    // sled lets go of its file lock a moment after the last handle drops.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match sled::Config::new().path(dir).segment_size(SLED_SEGMENT_SIZE).open() {
            Ok(db) => return db,
            Err(e) if std::time::Instant::now() < deadline && e.to_string().contains("could not acquire lock") => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("opening the store with raw sled: {e}"),
        }
    }
}

#[test]
fn a_second_open_of_a_store_in_use_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Store::open(dir.path()).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(&err, StoreError::InUse { path, .. } if path == dir.path()), "{err:?}");
    assert!(err.to_string().contains("in use by another Praxis process"), "{err}");
}

#[test]
fn a_released_store_can_be_used_by_another_opener_meanwhile_and_sees_its_writes_after() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.put_client_as_of(&client("c1"), today(), ACTOR).unwrap();
    let inner = store
        .released(|| {
            // What another process does while this one runs a plugin.
            let other = Store::open(dir.path()).expect("the released store opens");
            assert_eq!(other.clients().unwrap().len(), 1, "the write before the release is durable");
            other.put_client_as_of(&client("c2"), today(), "other").unwrap();
            "done"
        })
        .unwrap();
    assert_eq!(inner, "done");
    let ids: Vec<String> = store.clients().unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(ids, ["c1", "c2"], "the store opened again sees the other's write");
    store.put_client_as_of(&client("c3"), today(), ACTOR).unwrap();
    assert!(store.verify_audit().unwrap().ok(), "one chain across both openers");
    // Held again: a second opener is refused once more.
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::InUse { .. }), "{err:?}");
}

#[test]
fn a_store_kept_by_another_opener_after_a_release_answers_in_use_and_does_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions { lock_wait: std::time::Duration::from_millis(100), ..StoreOptions::default() };
    let store = Store::open_with(dir.path(), options).unwrap();
    let mut kept = None;
    let err = store.released(|| kept = Some(Store::open(dir.path()).unwrap())).unwrap_err();
    assert!(matches!(err, StoreError::InUse { .. }), "{err:?}");
    assert!(err.to_string().contains("in use by another Praxis process"), "{err}");
    let err = store.clients().unwrap_err();
    assert!(matches!(err, StoreError::InUse { .. }), "later calls say so too: {err:?}");
    drop(kept);
}

#[test]
fn a_store_from_a_newer_praxis_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    {
        let db = raw_sled(dir.path());
        db.open_tree("meta").unwrap().insert("schema_version", &(SCHEMA_VERSION + 1).to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found, supported } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
        "{err:?}"
    );
    assert!(err.to_string().contains("upgrade Praxis"), "{err}");
    let db = raw_sled(dir.path());
    assert_eq!(
        db.open_tree("meta").unwrap().get("schema_version").unwrap().unwrap().as_ref(),
        &(SCHEMA_VERSION + 1).to_be_bytes()
    );
}

#[test]
fn a_version_3_store_gets_its_sessions_by_start_on_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.put_practitioner(&practitioner("p-anna", &[Discipline::Massage]), ACTOR).unwrap();
        store.put_client_as_of(&client("c1"), today(), ACTOR).unwrap();
        store.put_client_as_of(&client("c10"), today(), ACTOR).unwrap();
        for (id, client, start) in
            [("s-2", "c10", "2026-11-20T10:00"), ("s-1", "c1", "2026-11-19T09:00"), ("s-3", "c1", "2026-11-20T10:00")]
        {
            store.record_session(&session(id, client, start), today(), ACTOR).unwrap();
        }
    }
    {
        // What version 3 left: no `sessions_by_start`.
        let db = raw_sled(dir.path());
        db.drop_tree("sessions_by_start").unwrap();
        db.open_tree("meta").unwrap().insert("schema_version", &3u32.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(
        starts(&store, "2026-11-01T00:00", "2026-12-01T00:00"),
        ["s-1 2026-11-19T09:00", "s-2 2026-11-20T10:00", "s-3 2026-11-20T10:00"]
    );
    let audit = store.audit().unwrap();
    let last = audit.last().unwrap();
    assert_eq!((last.action, last.key.as_str()), (AuditAction::Migrate, "schema_version"));
    assert_eq!(last.after.as_ref().unwrap()["sessions_by_start"], json!(3));
    assert!(store.verify_audit().unwrap().ok());
    // New writes keep it.
    store.record_session(&session("s-4", "c10", "2026-11-19T12:00"), today(), ACTOR).unwrap();
    assert_eq!(starts(&store, "2026-11-19T10:00", "2026-11-20T00:00"), ["s-4 2026-11-19T12:00"]);
}

#[test]
fn undecodable_values_are_reported_with_tree_and_key() {
    fn check(tree: &str, key: &[u8], value: &[u8], read: fn(&Store) -> Result<(), StoreError>, expected_key: &str) {
        let Practice { _place: dir, store } = practice();
        store.record_session(&session("s-1", "c1", "2026-11-20T10:00"), today(), ACTOR).unwrap();
        drop(store);
        {
            let db = raw_sled(dir.path());
            db.open_tree(tree).unwrap().insert(key, value).unwrap();
            db.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        match read(&store) {
            Err(StoreError::Corrupt { tree: t, key: k, error }) => {
                assert_eq!((t.as_str(), k.as_str()), (tree, expected_key), "{error}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }
    check("clients", b"c-bad", b"{not json", |s| s.clients().map(drop), "c-bad");
    check("clients", b"c1", b"{\"id\":\"c1\"}", |s| s.get_client("c1").map(drop), "c1");
    check("clients", b"c1", b"[]", |s| s.snapshot("c1").map(drop), "c1");
    check("rooms", b"r-9", b"\xff\xfe", |s| s.rooms().map(drop), "r-9");
    check(
        "audit",
        &[0, 0, 0, 0, 0, 0, 1, 0],
        b"null",
        |s| s.audit().map(drop),
        "\\x00\\x00\\x00\\x00\\x00\\x00\\x01\\x00",
    );
    check(
        "sessions",
        b"c1\0\x80\0\0\0\0\0\0\0s-9",
        b"{\"pain_before\":11}",
        |s| s.sessions_for("c1").map(drop),
        "c1\\x00\\x80\\x00\\x00\\x00\\x00\\x00\\x00\\x00s-9",
    );
}

#[test]
fn a_malformed_schema_version_is_reported_not_guessed() {
    fn check(value: &[u8], expected: &str) {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        {
            let db = raw_sled(dir.path());
            db.open_tree("meta").unwrap().insert("schema_version", value).unwrap();
            db.flush().unwrap();
        }
        match Store::open(dir.path()) {
            Err(StoreError::Corrupt { tree, key, error }) => {
                assert_eq!((tree.as_str(), key.as_str(), error.as_str()), ("meta", "schema_version", expected));
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }
    check(b"\x02", "expected 4 bytes, found 1");
    check(&[0, 0, 0, 0], "version 0 does not exist");
}

// ----- import and export -----

/// A practice where every optional field of every record is filled.
fn full_practice() -> Practice {
    let p = practice();
    let mut c = client("c2");
    c.contact.address = Some("1 Main Street\nSpringfield".into());
    c.red_flags = vec![RedFlag {
        kind: RedFlagKind::RecentInjury,
        region: Some("left knee".into()),
        date: Some(day("2026-10-01")),
        resolved: Some(day("2026-11-01")),
        note: "sprain".into(),
    }];
    c.availability =
        vec![WeeklyWindow { day: Weekday::Tuesday, start: "08:00".parse().unwrap(), end: "12:30".parse().unwrap() }];
    c.therapies = vec![Therapy { discipline: Discipline::Yoga, every_days: 7, minutes: 60 }];
    // On a plan of the config: the plan's name and what is the client's own.
    c.insurance = Some(Insurance {
        member_id: Some("HF-1234".into()),
        authorization_on_file: true,
        used_elsewhere: Some(UsedElsewhere { sessions: 2, recorded: day("2026-11-02") }),
        ..Insurance::on_plan("healthfirst")
    });
    p.store.put_client_as_of(&c, today(), ACTOR).unwrap();
    let intake = Intake {
        id: "i-2".into(),
        client: "c2".into(),
        recorded: day("2026-11-01"),
        pain_patterns: vec!["morning stiffness".into()],
        sensitivities: vec!["pressure on shins".into()],
        previous_treatments: vec!["hydrotherapy".into()],
        medications: vec!["ibuprofen".into()],
    };
    p.store.put_intake_as_of(&intake, today(), ACTOR).unwrap();
    let mut s = session("s-2", "c2", "2026-11-18T14:00");
    s.follow_up_pain = Some(5);
    s.adverse_event = AdverseEvent::StoppedEarly { reason: "pain rose to 8".into() };
    s.adjuncts = vec![Adjunct::HeatBefore, Adjunct::ColdAfter];
    s.notes = "stopped after 20 minutes".into();
    p.store.record_session(&s, today(), ACTOR).unwrap();
    p.store.record_session(&session("s-1", "c1", "2026-11-17T09:00"), today(), ACTOR).unwrap();
    let a = Appointment {
        visit: Some("v-1".into()),
        adjunct: Some(Adjunct::HeatBefore),
        class: Some("tuesday-yoga".into()),
        ..appointment("a-1", "c2", "r-1", "2026-11-25T10:00")
    };
    // The massage of a-1's visit (a heat step belongs to a visit with its massage).
    let massage = Appointment { visit: Some("v-1".into()), ..appointment("a-3", "c2", "r-1", "2026-11-25T11:00") };
    p.store.book(&[a, appointment("a-2", "c1", "r-1", "2026-11-26T10:00"), massage], ACTOR).unwrap();
    let ov = Override {
        id: "o-1".into(),
        client: "c2".into(),
        rule: "S1".into(),
        card_summary: "Recent injury".into(),
        reason: "cleared by physician".into(),
        at: at("2026-11-21T09:00"),
        appointment: Some("a-1".into()),
    };
    p.store.record_override(&ov, ACTOR).unwrap();
    p
}

fn empty_store() -> Practice {
    let (place, store) = backends::open();
    Practice { _place: place, store }
}

/// An export without its audit log (and its head), and the audit log
/// without sequence numbers and chain links (an import renumbers and rechains).
fn split(mut e: PracticeExport) -> (PracticeExport, Vec<Value>) {
    e.audit_head.clear();
    let audit = std::mem::take(&mut e.audit)
        .into_iter()
        .map(|entry| {
            let mut v = serde_json::to_value(entry).unwrap();
            v.as_object_mut().unwrap().remove("seq");
            v.as_object_mut().unwrap().remove("prev");
            v
        })
        .collect();
    (e, audit)
}

#[test]
fn export_then_import_gives_back_the_same_practice() {
    backends::each(|_| {
        let original = full_practice();
        let exported = original.store.export().unwrap();
        let text = exported.to_json().unwrap();
        let read = PracticeExport::from_json(&text).unwrap();
        assert_eq!(read, exported);

        let copy = empty_store();
        let report = copy.store.import(&read, today(), "migration-tool").unwrap();
        assert_eq!((report.clients, report.sessions, report.appointments, report.overrides), (3, 2, 3, 1));
        assert_eq!(report.audit_entries, exported.audit.len());
        let (records, audit) = split(exported);
        let (records_again, audit_again) = split(copy.store.export().unwrap());
        assert_eq!(records_again, records);
        assert_eq!(audit_again[..audit.len()], audit[..]);
        assert_eq!(audit_again.len(), audit.len() + 1);
        assert_eq!(audit_again[audit.len()]["action"], json!("import"));
        assert_eq!(audit_again[audit.len()]["actor"], json!("migration-tool"));
        for id in ["c1", "c2"] {
            assert_eq!(copy.store.snapshot(id).unwrap(), original.store.snapshot(id).unwrap());
        }
        assert_eq!(
            copy.store.appointments_for_room("r-1", at("2026-11-01T00:00"), at("2026-12-01T00:00")).unwrap().len(),
            3
        );
        assert_eq!(copy.store.overrides_for("c2").unwrap(), original.store.overrides_for("c2").unwrap());
    });
}

#[test]
fn small_batches_write_the_same_practice() {
    backends::each(|backend| {
        let original = full_practice();
        let exported = original.store.export().unwrap();
        let (_place, store) = backends::open_with(StoreOptions { import_batch: 3, ..StoreOptions::default() });
        let report = store.import(&exported, today(), ACTOR).unwrap();
        // The audit entries go in with the import's final commit, not in
        // batches; on PostgreSQL the whole import is one transaction.
        let batches = match backend {
            backends::Backend::Sled => (exported.len() - exported.audit.len()).div_ceil(3),
            backends::Backend::Postgres(_) => 1,
        };
        assert_eq!(report.batches, batches);
        assert_eq!(split(store.export().unwrap()).0, split(exported).0);
    });
}

#[track_caller]
fn check_import(edit: impl FnOnce(&mut PracticeExport), record: &str, field: &str, problem: Problem) {
    let exported = full_practice().store.export().unwrap();
    let mut bad = exported;
    edit(&mut bad);
    let target = full_practice_target();
    let before = target.store.export().unwrap();
    let (_place, store) = backends::open_with(StoreOptions { import_batch: 2, ..StoreOptions::default() });
    for store in [&target.store, &store] {
        let err = invalid(store.import(&bad, today(), ACTOR));
        assert!(
            err.record.to_string() == record && err.field == field && same_problem(&err.problem, &problem),
            "expected {record} {field}: {problem:?}, got {err:?}"
        );
    }
    assert_eq!(target.store.export().unwrap(), before, "a refused import leaves the store as it was");
    assert!(store.export().unwrap().is_empty(), "a refused import leaves the store as it was");
}

/// A store that already holds a practitioner and a client, under ids the export does not use.
fn full_practice_target() -> Practice {
    let p = empty_store();
    p.store.put_practitioner(&practitioner("p-other", &[Discipline::Mindfulness]), ACTOR).unwrap();
    p.store.put_client_as_of(&client("c-other"), today(), ACTOR).unwrap();
    p
}

#[test]
fn a_bad_record_leaves_the_store_as_it_was_and_is_named() {
    backends::each(|_| {
        let pain = Problem::OutOfRange { min: 0, max: 10 };
        check_import(|e| e.sessions[1].pain_after = Some(12), "session #1 (id `s-2`)", "pain_after", pain);
        check_import(
            |e| e.sessions[0].start = at("2027-01-01T09:00"),
            "session #0 (id `s-1`)",
            "start",
            Problem::InFuture { today: today() },
        );
        check_import(
            |e| e.sessions[0].client = "c-nobody".into(),
            "session #0 (id `s-1`)",
            "client",
            Problem::UnknownReference { kind: RecordKind::Client },
        );
        check_import(
            |e| e.appointments[1].room = "r-nowhere".into(),
            "appointment #1 (id `a-3`)",
            "room",
            Problem::UnknownReference { kind: RecordKind::Room },
        );
        check_import(
            |e| e.appointments[0].discipline = Discipline::Acupuncture,
            "appointment #0 (id `a-1`)",
            "discipline",
            Problem::NotQualified { practitioner: "p-anna".into() },
        );
        check_import(|e| e.clients[2].id = "c1".into(), "client #2 (id `c1`)", "id", Problem::AlreadyExists);
        check_import(
            |e| e.intakes.push(Intake { id: "i-3".into(), ..e.intakes[0].clone() }),
            "intake #1 (id `i-3`)",
            "client",
            Problem::AlreadyExists,
        );
        check_import(
            |e| e.overrides[0].appointment = Some("a-404".into()),
            "override #0 (id `o-1`)",
            "appointment",
            Problem::UnknownReference { kind: RecordKind::Appointment },
        );
        check_import(
            |e| e.rooms[0].capacity = 0,
            "room #0 (id `r-1`)",
            "capacity",
            Problem::OutOfRange { min: 1, max: 65535 },
        );
        check_import(|e| e.audit[0].actor = String::new(), "audit entry #0 (id `0`)", "actor", Problem::Empty);
        check_import(
            |e| e.sessions[1].minutes = 1,
            "session #1 (id `s-2`)",
            "minutes",
            Problem::OutOfRange { min: 5, max: 240 },
        );
    });
}

#[test]
fn references_may_point_into_the_store() {
    backends::each(|_| {
        let target = full_practice_target();
        let mut s = session("s-9", "c-other", "2026-11-20T10:00");
        s.practitioner = "p-other".into();
        s.discipline = Discipline::Mindfulness;
        let e = PracticeExport { sessions: vec![s.clone()], ..PracticeExport::default() };
        target.store.import(&e, today(), ACTOR).unwrap();
        assert_eq!(target.store.sessions_for("c-other").unwrap(), vec![s]);
        assert!(
            matches!(target.store.import(&e, today(), ACTOR), Err(StoreError::Invalid(v)) if v.problem == Problem::AlreadyExists)
        );
    });
}

#[test]
fn unreadable_exports_are_refused_naming_the_record() {
    fn check(text: &str, expected: &str) {
        let err = PracticeExport::from_json(text).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(expected), "`{message}` should contain `{expected}`");
    }
    let session = |extra: &str| {
        format!(
            r#"{{"format_version":1,"sessions":[{{"id":"s-1","client":"c1","practitioner":"p","discipline":"massage","start":"2026-11-20T10:00","minutes":60{extra}}}]}}"#
        )
    };
    check("not json", "at export: expected ident");
    check("[]", "at export: missing field `format_version`");
    check("{}", "at export: missing field `format_version`");
    check(r#"{"format_version":"1"}"#, "format_version \"1\" is not a whole number");
    check(r#"{"format_version":2}"#, "format_version 2, but this Praxis reads version 1");
    check(r#"{"format_version":1,"patients":[]}"#, "at export: unknown field `patients`");
    check(r#"{"format_version":1,"clients":{}}"#, "at export: invalid type: map");
    check(&session(r#","pressure":"firmest""#), "at sessions[0] (id \"s-1\"): unknown variant `firmest`");
    check(&session(r#","pain_before":-1"#), "sessions[0] (id \"s-1\"): invalid value: integer `-1`");
    check(&session(r#","pain_before":300"#), "sessions[0] (id \"s-1\"): invalid value: integer `300`");
    check(&session(r#","painbefore":3"#), "sessions[0] (id \"s-1\"): unknown field `painbefore`");
    check(
        &session("").replace("2026-11-20T10:00", "2026-11-20"),
        "sessions[0] (id \"s-1\"): `2026-11-20` is not a valid date and time",
    );
    check(&session(r#","start":"2026-11-20""#), "`sessions[0].start` appears twice in the same object");
    check(
        &session(r#","adverse_event":{"kind":"stopped_early","reason":7}"#),
        "sessions[0] (id \"s-1\"): invalid type: integer `7`",
    );
    check(&session(r#","discipline":"""#).replace(r#""discipline":"massage","#, ""), "discipline must not be empty");
    check(
        r#"{"format_version":1,"clients":[{"id":"c1","name":"A","date_of_birth":"2026-02-30"}]}"#,
        "clients[0] (id \"c1\"): `2026-02-30` is not a valid date",
    );
    check(r#"{"format_version":1,"clients":[{"name":"A"}]}"#, "clients[0]: missing field `id`");
    check(r#"{"format_version":1,"appointments":[{"id":"a","status":"maybe"}]}"#, "appointments[0] (id \"a\")");
    check(r#"{"format_version":1,"rooms":[{"id":"r","kind":"studio","capacity":70000}]}"#, "rooms[0] (id \"r\")");
    check(r#"{"format_version":1,"audit":[{"seq":1,"at":"yesterday"}]}"#, "audit[0] (id 1)");
}

#[test]
fn an_unknown_discipline_is_refused_with_the_discipline_named() {
    backends::each(|_| {
        let p = practice();
        let mut s = session("s-1", "c1", "2026-11-20T10:00");
        s.discipline = Discipline::parse("reiki");
        let err = invalid(p.store.record_session(&s, today(), ACTOR));
        assert_eq!((err.field.as_str(), err.value.as_str()), ("discipline", "reiki"));
        assert!(err.to_string().contains("`reiki` is not a discipline of practitioner `p-anna`"), "{err}");
    });
}

// ----- the published JSON Schema -----

/// A small JSON Schema checker for the keywords the published schema uses
/// (`pattern` and `format` are documentation here: the importer checks them).
fn schema_errors(root: &Value, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else { return };
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.strip_prefix("#/$defs/").expect("local $ref");
        let target = &root["$defs"][name];
        assert!(!target.is_null(), "unresolved $ref {reference}");
        schema_errors(root, target, value, path, errors);
    }
    let mut fail = |message: String| errors.push(format!("{path}: {message}"));
    if let Some(expected) = schema.get("const")
        && expected != value
    {
        fail(format!("{value} is not {expected}"));
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        fail(format!("{value} is not one of {options:?}"));
    }
    if let Some(kind) = schema.get("type").and_then(Value::as_str) {
        let ok = match kind {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "boolean" => value.is_boolean(),
            other => panic!("type {other} not handled"),
        };
        if !ok {
            fail(format!("{value} is not of type {kind}"));
            return;
        }
    }
    if let Some(n) = value.as_f64() {
        if schema.get("minimum").and_then(Value::as_f64).is_some_and(|min| n < min) {
            fail(format!("{n} is below the minimum"));
        }
        if schema.get("maximum").and_then(Value::as_f64).is_some_and(|max| n > max) {
            fail(format!("{n} is above the maximum"));
        }
    }
    if let Some(s) = value.as_str() {
        let len = s.chars().count() as u64;
        if schema.get("minLength").and_then(Value::as_u64).is_some_and(|min| len < min) {
            fail(format!("{s:?} is too short"));
        }
        if schema.get("maxLength").and_then(Value::as_u64).is_some_and(|max| len > max) {
            fail(format!("{s:?} is too long"));
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !object.contains_key(required.as_str().unwrap()) {
                fail(format!("missing required {required}"));
            }
        }
        for (key, item) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(sub) => schema_errors(root, sub, item, &format!("{path}.{key}"), errors),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{path}: unknown property {key}"));
                }
                None => {}
            }
        }
    }
    if let Some(items) = value.as_array() {
        if let Some(sub) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                schema_errors(root, sub, item, &format!("{path}[{i}]"), errors);
            }
        }
        if schema.get("minItems").and_then(Value::as_u64).is_some_and(|min| (items.len() as u64) < min) {
            errors.push(format!("{path}: too few items"));
        }
        if schema.get("uniqueItems") == Some(&Value::Bool(true))
            && (1..items.len()).any(|i| items[..i].contains(&items[i]))
        {
            errors.push(format!("{path}: items are not unique"));
        }
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options
            .iter()
            .filter(|option| {
                let mut sub = Vec::new();
                schema_errors(root, option, value, path, &mut sub);
                sub.is_empty()
            })
            .count();
        if matching != 1 {
            errors.push(format!("{path}: {value} matches {matching} of the oneOf options"));
        }
    }
}

fn schema() -> Value {
    serde_json::from_str(EXPORT_SCHEMA).expect("the published schema is JSON")
}

#[test]
fn the_published_schema_accepts_every_field_of_a_full_export() {
    backends::each(|_| {
        let schema = schema();
        let export = serde_json::to_value(full_practice().store.export().unwrap()).unwrap();
        let mut errors = Vec::new();
        schema_errors(&schema, &schema, &export, "$", &mut errors);
        assert_eq!(errors, Vec::<String>::new());
        let on_disk =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/schema/practice-export.schema.json"));
        if let Ok(on_disk) = on_disk {
            assert_eq!(on_disk, EXPORT_SCHEMA);
        }
    });
}

#[test]
fn the_published_schema_refuses_what_the_importer_refuses() {
    backends::each(|_| {
        fn check(edit: fn(&mut Value)) {
            let schema = schema();
            let mut export = serde_json::to_value(full_practice().store.export().unwrap()).unwrap();
            edit(&mut export);
            let mut errors = Vec::new();
            schema_errors(&schema, &schema, &export, "$", &mut errors);
            assert!(!errors.is_empty(), "the schema accepts {export}");
            let imported = PracticeExport::from_json(&export.to_string())
                .and_then(|e| empty_store().store.import(&e, today(), ACTOR).map(drop));
            assert!(imported.is_err(), "the importer accepts what the schema refuses: {errors:?}");
        }
        check(|e| e["sessions"][0]["pain_before"] = json!(11));
        check(|e| e["sessions"][0]["pressure"] = json!("firmest"));
        check(|e| e["sessions"][0]["minutes"] = json!(-5));
        check(|e| e["sessions"][0]["painbefore"] = json!(1));
        check(|e| e["sessions"][1]["adverse_event"] = json!({"kind": "stopped_early", "reason": ""}));
        check(|e| e["sessions"][1]["adjuncts"] = json!(["cold_after", "cold_after"]));
        check(|e| e["clients"][0]["conditions"][0]["status"] = json!("cured"));
        check(|e| e["clients"][0]["insurance"]["session_limit"]["sessions"] = json!(0));
        check(|e| e["appointments"][0]["status"] = json!("maybe"));
        check(|e| {
            e["appointments"][0].as_object_mut().unwrap().remove("room");
        });
        check(|e| e["rooms"][0]["kind"] = json!("sauna"));
        check(|e| e["clients"][2]["therapies"][0]["every_days"] = json!(0));
        check(|e| e["appointments"][0]["adjunct"] = json!("sauna_after"));
        check(|e| e["practitioners"][0]["disciplines"] = json!([]));
        check(|e| e["overrides"][0]["reason"] = json!(""));
        check(|e| e["format_version"] = json!(2));
        check(|e| {
            e.as_object_mut().unwrap().remove("format_version");
        });
        check(|e| e["extra"] = json!(true));
    });
}

// ----- bad input that was once accepted (issue 10, item 7) -----

#[test]
fn bad_dates_lengths_and_names_are_refused() {
    backends::each(|_| {
        let bad = bad_value();
        check_client(|c| c.date_of_birth = Some(day("1800-01-01")), "date_of_birth", bad.clone());
        check_client(|c| c.name = "Ada\nLovelace".into(), "name", bad.clone());
        check_client(|c| c.name = "Ada\tLovelace".into(), "name", bad.clone());
        let p = practice();
        let check_session = |edit: &dyn Fn(&mut Session), field: &str| {
            let mut s = session("s-new", "c1", "2026-11-20T10:00");
            edit(&mut s);
            let err = invalid(p.store.record_session(&s, today(), ACTOR));
            assert!(err.field == field && same_problem(&err.problem, &bad_value()), "{field}: got {err:?}");
            assert!(p.store.get_session("s-new").unwrap().is_none());
        };
        check_session(&|s| s.start = at("0000-01-01T10:00"), "start");
        check_session(&|s| s.start = at("1899-12-31T10:00"), "start");
        check_session(
            &|s| {
                s.start = at("2026-11-20T23:30");
                s.minutes = 240;
            },
            "minutes",
        );
        check_session(
            &|s| {
                s.start = at("2026-11-20T23:30");
                s.minutes = 31;
            },
            "minutes",
        );
        let mut s = session("s-ok", "c1", "2026-11-20T23:30");
        s.minutes = 30;
        p.store.record_session(&s, today(), ACTOR).expect("a session may end at midnight");
        let mut a = appointment("a-late", "c1", "r-1", "2026-11-23T23:00");
        a.minutes = 90;
        let err = invalid(p.store.book(&[a], ACTOR));
        assert_eq!(err.field, "minutes", "{err:?}");
        assert!(matches!(p.store.put_client_as_of(&client("c-x"), today(), ""), Err(StoreError::BadActor(_))));
    });
}

#[test]
fn bad_imports_once_accepted_are_refused() {
    backends::each(|_| {
        // A heat step whose visit has no massage.
        check_import(
            |e| {
                let mut heat = e.appointments[0].clone();
                heat.id = "a-heat".into();
                heat.adjunct = Some(Adjunct::HeatBefore);
                heat.visit = Some("v-nowhere".into());
                e.appointments.push(heat);
            },
            "appointment #3 (id `a-heat`)",
            "visit",
            Problem::UnknownReference { kind: RecordKind::Visit },
        );
        // Control characters in a discipline.
        check_import(
            |e| e.sessions[0].discipline = Discipline::Other("massage\u{7}".into()),
            "session #0 (id `s-1`)",
            "discipline",
            bad_value(),
        );
        check_import(|e| e.clients[0].name = "Ada\nShadow".into(), "client #0 (id `c1`)", "name", bad_value());
        check_import(
            |e| e.clients[0].date_of_birth = Some(day("1800-05-01")),
            "client #0 (id `c1`)",
            "date_of_birth",
            bad_value(),
        );
    });
}

#[test]
fn imported_appointments_pass_the_calendar_checker() {
    backends::each(|_| {
        let exported = full_practice().store.export().unwrap();
        let target = empty_store();
        // A checker that refuses the second appointment, as the practice's
        // calendar refuses 03:00 or a closed Sunday.
        let refuse_second =
            |list: &[Appointment]| if list.len() > 1 { Err((1, "closed on Sunday".to_owned())) } else { Ok(()) };
        let err = invalid(target.store.import_checked(&exported, today(), ACTOR, &refuse_second));
        assert_eq!((err.record.index, err.field.as_str()), (Some(1), "start"), "{err:?}");
        assert!(err.to_string().contains("refused by the practice's calendar: closed on Sunday"), "{err}");
        assert!(target.store.export().unwrap().is_empty(), "nothing was written");
    });
}

#[test]
fn unreadable_exports_once_accepted_are_refused() {
    backends::each(|_| {
        // Duplicate keys: the last would silently win.
        let err =
            PracticeExport::from_json(r#"{"format_version":1,"clients":[{"id":"c1","name":"Ada","name":"Shadow"}]}"#)
                .unwrap_err();
        assert!(err.to_string().contains("`clients[0].name` appears twice"), "{err}");
        let err = PracticeExport::from_json(r#"{"format_version":1,"format_version":1}"#).unwrap_err();
        assert!(err.to_string().contains("`format_version` appears twice"), "{err}");
        // An endless input is cut at the limit, in bounded memory.
        let zero = std::fs::File::open("/dev/zero").unwrap();
        let started = std::time::Instant::now();
        let err = PracticeExport::from_reader(zero, 4 * 1024 * 1024).unwrap_err();
        assert!(err.to_string().contains("larger than the import limit of 4 MiB"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        // A 10 MB value is quoted as a short excerpt, never whole.
        let huge = "x".repeat(10_000_000);
        let text = format!(r#"{{"format_version":1,"clients":[{{"id":"c1","name":"A","pressure":"{huge}"}}]}}"#);
        let err = PracticeExport::from_json(&text).unwrap_err();
        assert!(err.to_string().len() < 1_000, "{} bytes of message", err.to_string().len());
        let p = practice();
        let mut c = client("c-huge");
        c.name = huge.clone();
        let err = invalid(p.store.put_client_as_of(&c, today(), ACTOR));
        assert!(err.to_string().len() < 1_000, "{} bytes of message", err.to_string().len());
        c.name = format!("{}\n", "y".repeat(150));
        let err = invalid(p.store.put_client_as_of(&c, today(), ACTOR));
        assert!(err.to_string().len() < 400, "{err}");
        let actor = "z".repeat(5_000_000);
        let err = p.store.put_client_as_of(&client("c-a"), today(), &actor).unwrap_err();
        assert!(err.to_string().len() < 1_000, "{} bytes of message", err.to_string().len());
    });
}
