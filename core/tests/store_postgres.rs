//! What only the PostgreSQL store does: the database refuses double
//! bookings made through different servers at the same moment, a newer
//! table layout or schema is refused, two handles (two servers) see each
//! other's writes, and a change made behind the store's back in SQL is
//! found by the audit check. Skipped (said so) without
//! `PRAXIS_TEST_POSTGRES_URL`.

use std::sync::{Arc, Barrier};

use praxis_core::store::{
    Appointment, AppointmentStatus, Client, Practitioner, Room, SCHEMA_VERSION, Store, StoreError,
};
use praxis_sdk::{Date, DateTime, Discipline, RoomKind};

mod backends;

const ACTOR: &str = "tester";

fn today() -> Date {
    Date::from_ymd(2026, 11, 21).unwrap()
}

fn at(s: &str) -> DateTime {
    s.parse().unwrap()
}

/// A new PostgreSQL place, or `None` (and the skip said) without a server.
fn place() -> Option<backends::Place> {
    let url = backends::postgres_url()?;
    Some(backends::Place::new(&backends::Backend::Postgres(url)))
}

/// A practice: practitioners p-1 and p-2, rooms r-1 and r-2, clients c-1 to c-4.
fn practice(store: &Store) {
    for p in ["p-1", "p-2"] {
        let p = Practitioner {
            id: p.into(),
            name: p.into(),
            disciplines: vec![Discipline::Massage, Discipline::Yoga],
            availability: vec![],
            time_off: vec![],
        };
        store.put_practitioner(&p, ACTOR).unwrap();
    }
    for r in ["r-1", "r-2"] {
        store.put_room(&Room { id: r.into(), name: r.into(), kind: RoomKind::Studio, capacity: 10 }, ACTOR).unwrap();
    }
    for c in ["c-1", "c-2", "c-3", "c-4"] {
        store.put_client_as_of(&Client::new(c, c), today(), ACTOR).unwrap();
    }
}

fn appointment(id: &str, client: &str, practitioner: &str, start: DateTime, minutes: u16) -> Appointment {
    Appointment {
        id: id.into(),
        client: client.into(),
        practitioner: practitioner.into(),
        room: "r-1".into(),
        discipline: Discipline::Massage,
        start,
        minutes,
        status: AppointmentStatus::Booked,
        visit: None,
        adjunct: None,
        class: None,
        status_reason: None,
    }
}

#[test]
fn the_database_refuses_overlapping_bookings() {
    let Some(place) = place() else { return };
    let store = place.open().unwrap();
    practice(&store);
    let nine = at("2026-12-01T09:00");
    store.book(&[appointment("a-1", "c-1", "p-1", nine, 60)], ACTOR).unwrap();
    // (what is booked, whether the database takes it)
    let check = |a: Appointment, taken: bool| {
        let id = a.id.clone();
        let got = store.book(std::slice::from_ref(&a), ACTOR);
        match (got, taken) {
            (Ok(()), true) => assert_eq!(store.get_appointment(&id).unwrap(), Some(a)),
            (Err(StoreError::Conflict(why)), false) => {
                assert!(why.contains("overlapping time"), "{why}");
                assert_eq!(store.get_appointment(&id).unwrap(), None, "a refused booking writes nothing");
            }
            (other, _) => panic!("{id}: expected taken = {taken}, got {other:?}"),
        }
    };
    check(appointment("a-2", "c-2", "p-1", nine.add_minutes(30), 60), false); // the practitioner's time
    check(appointment("a-3", "c-1", "p-2", nine.add_minutes(59), 30), false); // the client's time
    check(appointment("a-4", "c-2", "p-1", nine.add_minutes(60), 30), true); // right after: free
    check(appointment("a-5", "c-3", "p-2", nine, 60), true); // someone else entirely
    // Places in one class share the practitioner's time.
    let class = |id: &str, client: &str| Appointment {
        class: Some("yoga-tuesday".into()),
        discipline: Discipline::Yoga,
        ..appointment(id, client, "p-1", at("2026-12-02T18:00"), 60)
    };
    check(class("a-6", "c-1"), true);
    check(class("a-7", "c-2"), true);
    check(Appointment { class: Some("other-class".into()), ..class("a-8", "c-3") }, false);
    // A cancelled appointment frees its time; moving one keeps its own.
    store.set_appointment_status("a-1", AppointmentStatus::Cancelled, ACTOR).unwrap();
    check(appointment("a-9", "c-2", "p-1", nine.add_minutes(30), 30), true);
    check(appointment("a-5", "c-3", "p-2", nine.add_minutes(10), 60), true);
    // The conflict is the API's 409.
    let err = store.book(&[appointment("a-10", "c-4", "p-2", nine, 30)], ACTOR).unwrap_err();
    let service = praxis_core::service::ServiceError::from(err);
    assert_eq!(service.kind(), praxis_core::service::ErrorKind::Conflict);
    assert!(store.verify_audit().unwrap().ok());
}

#[test]
fn two_servers_booking_one_slot_at_once_have_exactly_one_winner() {
    let Some(place) = place() else { return };
    let first = Arc::new(place.open().unwrap());
    practice(&first);
    // A second handle is a second server: its own connections.
    let second = Arc::new(place.open().unwrap());
    const TRIALS: usize = 40;
    for trial in 0..TRIALS {
        let start = at("2026-12-07T08:00").add_minutes(90 * trial as i64);
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = [(&first, "c-1"), (&second, "c-2")]
            .into_iter()
            .map(|(store, client)| {
                let (store, barrier) = (Arc::clone(store), Arc::clone(&barrier));
                let a = appointment(&format!("t{trial}-{client}"), client, "p-1", start, 60);
                std::thread::spawn(move || {
                    barrier.wait();
                    store.book(&[a], ACTOR)
                })
            })
            .collect();
        let results: Vec<_> = racers.into_iter().map(|r| r.join().unwrap()).collect();
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "trial {trial}: {results:?}");
        for r in &results {
            if let Err(e) = r {
                assert!(matches!(e, StoreError::Conflict(_)), "trial {trial}: the loser gets a conflict: {e:?}");
            }
        }
        let booked = first.appointments_for_practitioner("p-1", start, start.add_minutes(1)).unwrap();
        assert_eq!(booked.len(), 1, "trial {trial}: {booked:?}");
    }
    assert!(second.verify_audit().unwrap().ok(), "{:?}", second.verify_audit().unwrap().problems);
}

#[test]
fn two_handles_see_each_others_writes() {
    let Some(place) = place() else { return };
    let first = place.open().unwrap();
    let second = place.open().unwrap();
    practice(&first);
    assert_eq!(second.clients().unwrap().len(), 4);
    second.put_client_as_of(&Client::new("c-9", "Nine"), today(), ACTOR).unwrap();
    assert_eq!(first.get_client("c-9").unwrap().map(|c| c.name), Some("Nine".into()));
    // One audit chain, whoever writes.
    assert!(first.verify_audit().unwrap().ok());
    assert_eq!(first.audit().unwrap(), second.audit().unwrap());
}

#[test]
fn a_store_from_a_newer_praxis_is_refused_and_left_untouched() {
    let Some(place) = place() else { return };
    drop(place.open().unwrap());
    let url = place.url().unwrap().to_owned();
    let mut sql = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let check = |sql: &mut postgres::Client, found: u32| {
        let before: i64 = sql.query_one("select count(*) from kv", &[]).unwrap().get(0);
        match Store::open_postgres(&url, Default::default()) {
            Err(StoreError::TooNew { found: f, .. }) => assert_eq!(f, found),
            other => panic!("expected TooNew, got {:?}", other.map(drop)),
        }
        let after: i64 = sql.query_one("select count(*) from kv", &[]).unwrap().get(0);
        assert_eq!(before, after, "left untouched");
    };
    // The store's schema version (the same check as sled's).
    let newer = (SCHEMA_VERSION + 1).to_be_bytes().to_vec();
    sql.execute("update kv set value = $1 where tree = 0 and key = 'schema_version'::bytea", &[&newer]).unwrap();
    check(&mut sql, SCHEMA_VERSION + 1);
    // The table layout.
    let version = SCHEMA_VERSION.to_be_bytes().to_vec();
    sql.execute("update kv set value = $1 where tree = 0 and key = 'schema_version'::bytea", &[&version]).unwrap();
    sql.execute("update schema_meta set value = 99 where key = 'layout'", &[]).unwrap();
    check(&mut sql, 99);
}

#[test]
fn a_change_made_in_sql_behind_the_stores_back_is_found() {
    let Some(place) = place() else { return };
    let store = place.open().unwrap();
    practice(&store);
    assert!(store.verify_audit().unwrap().ok());
    let url = place.url().unwrap().to_owned();
    let mut sql = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let changed = serde_json::to_vec(&Client::new("c-2", "Someone Else")).unwrap();
    // tree 1 is `clients`
    sql.execute("update kv set value = $1 where tree = 1 and key = 'c-2'::bytea", &[&changed]).unwrap();
    let check = store.verify_audit().unwrap();
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.message.contains("client `c-2` in the store is not the one this entry recorded")),
        "{:?}",
        check.problems
    );
    drop(store);
    let reopened = place.open().unwrap();
    assert!(reopened.warnings().iter().any(|w| w.contains("does not verify")), "{:?}", reopened.warnings());
}

#[test]
fn a_bad_url_is_a_clear_error() {
    let err = Store::open_postgres("postgres://praxis:secret@127.0.0.1:1/none", Default::default()).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, StoreError::Database { .. }), "{err:?}");
    assert!(message.contains("cannot connect") && message.contains("[store] url"), "{message}");
    assert!(!message.contains("secret"), "the password is never shown: {message}");
}

#[test]
fn a_copy_to_postgres_and_back_exports_the_same_practice() {
    let Some(pg_place) = place() else { return };
    let (_sled_place, sled) = {
        let place = backends::Place::new(&backends::Backend::Sled);
        let store = place.open().unwrap();
        (place, store)
    };
    practice(&sled);
    let nine = at("2026-12-01T09:00");
    sled.book(&[appointment("a-1", "c-1", "p-1", nine, 60), appointment("a-2", "c-2", "p-2", nine, 45)], ACTOR)
        .unwrap();
    let user = praxis_core::store::User {
        login: "anna".into(),
        name: "Anna".into(),
        role: praxis_core::store::Role::Therapist,
        practitioner: Some("p-1".into()),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        disabled: false,
        failed_logins: 0,
        locked_until: None,
        created: "2026-11-21T09:00:00Z".into(),
    };
    sled.put_user(&user, "created", ACTOR).unwrap();
    let exported = sled.export().unwrap();

    let pg = pg_place.open().unwrap();
    let report = sled.copy_to(&pg).unwrap();
    assert_eq!((report.records, report.credentials), (10, 1), "{report:?}");
    assert_eq!(pg.export().unwrap(), exported, "the same practice, audit log and head included");
    assert_eq!(pg.get_user("anna").unwrap(), Some(user.clone()), "accounts move too");
    assert!(pg.verify_audit().unwrap().ok());
    // The copy's slots are booked: the database refuses a double booking in it.
    let err = pg.book(&[appointment("a-3", "c-3", "p-1", nine, 30)], ACTOR).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // A second copy into a store that holds a practice is refused, and changes nothing.
    let again = sled.copy_to(&pg).unwrap_err();
    assert!(again.to_string().contains("is not empty"), "{again}");

    let back_place = backends::Place::new(&backends::Backend::Sled);
    let back = back_place.open().unwrap();
    pg.copy_to(&back).unwrap();
    assert_eq!(back.export().unwrap(), exported, "a round trip gives an identical export");
    assert_eq!(back.get_user("anna").unwrap(), Some(user));
    assert_eq!(back.verify_audit().unwrap().head, sled.verify_audit().unwrap().head);
}

/// A live service (a server's) on the PostgreSQL store at `url`, with a data folder of its own.
fn server(url: &str) -> (tempfile::TempDir, Arc<praxis_core::service::PracticeService>) {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[practice]\nname = \"Group\"\n[[practitioners]]\nid = \"ana\"\nname = \"Ana\"\ndisciplines = [\"massage\"]\n\
         [store]\nurl = \"{url}\"\n"
    );
    let path = dir.path().join("praxis.toml");
    std::fs::write(&path, toml).unwrap();
    let config = praxis_core::config::PracticeConfig::load(&path, None).unwrap();
    let service = Arc::new(praxis_core::service::PracticeService::open_live(config).unwrap());
    assert!(praxis_core::service::follow_other_servers(&service).unwrap(), "a PostgreSQL store is followed");
    (dir, service)
}

#[test]
fn a_session_recorded_through_one_server_changes_the_others_guidance_within_a_second() {
    use praxis_core::service::{Actor, ClientChanges, SessionInput};
    let Some(place) = place() else { return };
    let url = place.url().unwrap().to_owned();
    let (_a_dir, a) = server(&url);
    let (_b_dir, b) = server(&url);
    let desk = Actor::new("desk").unwrap();
    let changes = ClientChanges { name: Some("Rosa Group".into()), ..ClientChanges::default() };
    let client = a.add_client(&changes, &desk).unwrap().id;
    let s2 = |service: &praxis_core::service::PracticeService| {
        let g = service.guidance(&client, None, &desk).unwrap();
        g.rules().contains(&"S2")
    };
    // B hears of the new client, and neither has an S2 card yet.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while b.guidance(&client, None, &desk).is_err() {
        assert!(std::time::Instant::now() < deadline, "server B never heard of the client added through A");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(!s2(&a) && !s2(&b));
    let stopped = SessionInput {
        practitioner: "ana".into(),
        minutes: 30,
        pain_before: Some(4),
        pain_after: Some(8),
        adverse: "stopped-early".into(),
        reason: Some("pain rose".into()),
        ..SessionInput::default()
    };
    a.record_session(&client, &stopped, &desk).unwrap();
    let recorded = std::time::Instant::now();
    assert!(s2(&a), "the server that recorded it shows rule S2 at once");
    while !s2(&b) {
        assert!(recorded.elapsed() < std::time::Duration::from_secs(1), "server B's guidance did not change in 1 s");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    eprintln!("server B's guidance changed {} ms after A's write returned", recorded.elapsed().as_millis());
}
