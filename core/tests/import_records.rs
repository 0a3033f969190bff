//! What a clinic brings from another system, and the records that say what
//! happened: future appointments (accepted when booked) and future sessions
//! (refused) on import, an identical practitioner or room imported again (a
//! no-op), messages that name no code, and the follow-up's time against the
//! 24-48 hour window.

use praxis_core::store::{
    Appointment, AppointmentStatus, Client, FollowUpTiming, PracticeExport, Practitioner, Problem, Room, Session,
    Store, StoreError,
};
use praxis_sdk::{AdverseEvent, Date, DateTime, Discipline, RoomKind};

fn day(s: &str) -> Date {
    s.parse().unwrap()
}

fn at(s: &str) -> DateTime {
    s.parse().unwrap()
}

const TODAY: &str = "2026-11-21";
const ACTOR: &str = "tester";

fn practitioner(id: &str) -> Practitioner {
    Practitioner {
        id: id.into(),
        name: format!("Practitioner {id}"),
        disciplines: vec![Discipline::Massage],
        availability: Vec::new(),
        time_off: Vec::new(),
    }
}

fn room(id: &str) -> Room {
    Room { id: id.into(), name: format!("Room {id}"), kind: RoomKind::TreatmentRoom, capacity: 1 }
}

fn session(id: &str, start: &str) -> Session {
    Session {
        id: id.into(),
        client: "c1".into(),
        practitioner: "sam".into(),
        discipline: Discipline::Massage,
        start: at(start),
        minutes: 60,
        pressure: None,
        techniques: Vec::new(),
        regions: Vec::new(),
        pain_before: Some(5),
        pain_after: Some(4),
        follow_up_pain: None,
        follow_up_at: None,
        adverse_event: AdverseEvent::None,
        adjuncts: Vec::new(),
        notes: String::new(),
        pain_medication: None,
    }
}

fn appointment(id: &str, start: &str, status: AppointmentStatus) -> Appointment {
    Appointment {
        id: id.into(),
        client: "c1".into(),
        practitioner: "sam".into(),
        room: "r1".into(),
        discipline: Discipline::Massage,
        start: at(start),
        minutes: 60,
        status,
        visit: None,
        adjunct: None,
        class: None,
        status_reason: None,
    }
}

/// A store that already holds practitioner `sam` and room `r1` (as `praxis init` puts them there from the config).
fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.put_practitioner(&practitioner("sam"), ACTOR).unwrap();
    store.put_room(&room("r1"), ACTOR).unwrap();
    (dir, store)
}

fn export(f: impl FnOnce(&mut PracticeExport)) -> PracticeExport {
    let mut e = PracticeExport { clients: vec![Client::new("c1", "Client One")], ..PracticeExport::default() };
    f(&mut e);
    e
}

/// Imports into a fresh store: `Ok` with (practitioners, rooms, appointments, sessions) imported, or the problem.
fn check(e: PracticeExport, expect: Result<(usize, usize, usize, usize), (&str, Problem)>) {
    let (_dir, store) = store();
    let before = store.export().unwrap();
    match (store.import(&e, day(TODAY), ACTOR), expect) {
        (Ok(r), Ok(counts)) => assert_eq!((r.practitioners, r.rooms, r.appointments, r.sessions), counts),
        (Err(StoreError::Invalid(v)), Err((field, problem))) => {
            assert_eq!((v.field.as_str(), &v.problem), (field, &problem), "{v}");
            let text = v.to_string();
            assert!(!text.contains("store::") && !text.contains("new_id"), "the message names code: {text}");
            let after = store.export().unwrap();
            assert_eq!(after.clients, before.clients, "nothing is half-written");
            assert_eq!(after.appointments, before.appointments);
        }
        (got, want) => panic!("got {got:?}, expected {want:?}"),
    }
}

#[test]
fn import_dates() {
    use AppointmentStatus::{Booked, Cancelled, Completed, NoShow};
    let future = Problem::InFuture { today: day(TODAY) };
    // Booked appointments may lie ahead: a clinic brings its calendar along.
    check(export(|e| e.appointments = vec![appointment("a1", "2027-01-10T09:00", Booked)]), Ok((0, 0, 1, 0)));
    check(export(|e| e.appointments = vec![appointment("a1", "2027-01-10T09:00", Cancelled)]), Ok((0, 0, 1, 0)));
    check(export(|e| e.appointments = vec![appointment("a1", "2026-11-21T17:00", Completed)]), Ok((0, 0, 1, 0)));
    // Any appointment is accepted whatever its date: it is a plan, not a record of what happened.
    check(export(|e| e.appointments = vec![appointment("a1", "2027-01-10T09:00", NoShow)]), Ok((0, 0, 1, 0)));
    // Sessions are what took place: never after today.
    check(export(|e| e.sessions = vec![session("s1", "2026-11-21T09:00")]), Ok((0, 0, 0, 1)));
    check(export(|e| e.sessions = vec![session("s1", "2026-11-22T09:00")]), Err(("start", future)));
}

#[test]
fn import_practitioners_and_rooms_again() {
    // The same practitioner and room as the store's: nothing to do, and the records naming them import.
    check(
        export(|e| {
            e.practitioners = vec![practitioner("sam")];
            e.rooms = vec![room("r1")];
            e.appointments = vec![appointment("a1", "2027-01-10T09:00", AppointmentStatus::Booked)];
        }),
        Ok((0, 0, 1, 0)),
    );
    // New ones are imported.
    check(export(|e| e.practitioners = vec![practitioner("ana")]), Ok((1, 0, 0, 0)));
    // A different record under a store's id is refused, with a message that names no code.
    let mut renamed = practitioner("sam");
    renamed.name = "Samuel".into();
    check(export(|e| e.practitioners = vec![renamed]), Err(("id", Problem::AlreadyExists)));
    let mut bigger = room("r1");
    bigger.capacity = 4;
    check(export(|e| e.rooms = vec![bigger]), Err(("id", Problem::AlreadyExists)));
    // Listed twice in one export: the second is refused.
    check(
        export(|e| e.practitioners = vec![practitioner("sam"), practitioner("sam")]),
        Err(("id", Problem::AlreadyExists)),
    );
    // The whole export of a store imports again into a store set up from the same config.
    let (_dir, store) = store();
    store.import(&export(|_| {}), day(TODAY), ACTOR).unwrap();
    let all = store.export().unwrap();
    let (_dir2, other) = self::store();
    let report = other.import(&all, day(TODAY), ACTOR).unwrap();
    assert_eq!((report.practitioners, report.rooms, report.clients), (0, 0, 1));
}

#[test]
fn follow_up_time_and_window() {
    let (_dir, store) = store();
    store.import(&export(|_| {}), day(TODAY), ACTOR).unwrap();
    store.record_session(&session("s1", "2026-11-18T09:00"), day(TODAY), ACTOR).unwrap();
    // The session ended at 10:00 on the 18th.
    let check = |when: &str, expect: Result<FollowUpTiming, (&str, Problem)>| {
        let got = store.record_follow_up("s1", 3, at(when), day(TODAY), ACTOR);
        match (got, expect) {
            (Ok(timing), Ok(want)) => {
                assert_eq!(timing, want, "{when}");
                let saved = store.get_session("s1").unwrap().unwrap();
                assert_eq!((saved.follow_up_pain, saved.follow_up_at), (Some(3), Some(at(when))));
                assert_eq!(saved.follow_up_timing(), Some(want));
            }
            (Err(StoreError::Invalid(v)), Err((field, problem))) => {
                assert_eq!((v.field.as_str(), v.problem), (field, problem))
            }
            (got, want) => panic!("{when}: got {got:?}, expected {want:?}"),
        }
    };
    check("2026-11-19T10:00", Ok(FollowUpTiming::Within { hours_after: 24 }));
    check("2026-11-20T10:00", Ok(FollowUpTiming::Within { hours_after: 48 }));
    check("2026-11-19T09:59", Ok(FollowUpTiming::Early { hours_after: 23 }));
    check("2026-11-20T10:01", Ok(FollowUpTiming::Late { hours_after: 48 }));
    check("2026-11-21T12:00", Ok(FollowUpTiming::Late { hours_after: 74 }));
    check("2026-11-18T09:30", Err(("follow_up_at", Problem::BeforeOther { other: "the end of the session" })));
    check("2026-11-22T10:00", Err(("follow_up_at", Problem::InFuture { today: day(TODAY) })));
    assert!(matches!(
        store.record_follow_up("nope", 3, at("2026-11-19T10:00"), day(TODAY), ACTOR),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.record_follow_up("s1", 11, at("2026-11-19T10:00"), day(TODAY), ACTOR),
        Err(StoreError::Invalid(_))
    ));
    assert!(FollowUpTiming::Within { hours_after: 30 }.note().is_none());
    assert!(FollowUpTiming::Late { hours_after: 74 }.note().unwrap().contains("after the 24-48 hour window"));
    assert!(FollowUpTiming::Early { hours_after: 3 }.note().unwrap().contains("before the 24-48 hour window"));
    // Audited: the last session change records the time.
    let audit = store.audit().unwrap();
    let last = audit.iter().rev().find(|e| e.key == "s1").unwrap();
    assert_eq!(last.after.as_ref().unwrap()["follow_up_at"], "2026-11-21T12:00");
    // JSON of the timing, for integrations.
    assert_eq!(
        serde_json::to_value(FollowUpTiming::Late { hours_after: 74 }).unwrap(),
        serde_json::json!({"timing": "late", "hours_after": 74})
    );
}
