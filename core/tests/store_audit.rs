//! The audit log is tamper-evident (issue 10, item 4): a program that edits
//! the sled store directly, as an attacker with the files would, changes a
//! record, rewrites or deletes an entry; `Store::verify_audit` names the
//! first entry where the chain or a record no longer matches, and opening
//! the store warns. An import refuses a log that does not verify.

use praxis_core::store::{
    AuditAction, AuditEntry, Client, Override, PracticeExport, Practitioner, Room, SLED_SEGMENT_SIZE, Session, Store,
    StoreError, StoreOptions,
};
use praxis_sdk::{AdverseEvent, Date, DateTime, Discipline, RoomKind};

const ACTOR: &str = "front-desk";

mod backends;

fn today() -> Date {
    Date::from_ymd(2026, 11, 21).unwrap()
}

fn at(s: &str) -> DateTime {
    s.parse().unwrap()
}

/// A small practice: a practitioner, a room, a client, a session with pain
/// after 5, an override, on the backend being run. Returns where it is.
fn practice() -> backends::Place {
    let (dir, store) = backends::open();
    let p = Practitioner {
        id: "p-1".into(),
        name: "Anna".into(),
        disciplines: vec![Discipline::Massage],
        availability: vec![],
        time_off: vec![],
    };
    store.put_practitioner(&p, ACTOR).unwrap();
    store
        .put_room(&Room { id: "r-1".into(), name: "One".into(), kind: RoomKind::TreatmentRoom, capacity: 1 }, ACTOR)
        .unwrap();
    store.put_client_as_of(&Client::new("c-1", "Ada"), today(), ACTOR).unwrap();
    let session = Session {
        id: "s-1".into(),
        client: "c-1".into(),
        practitioner: "p-1".into(),
        discipline: Discipline::Massage,
        start: at("2026-11-20T10:00"),
        minutes: 45,
        pressure: None,
        techniques: vec![],
        regions: vec![],
        pain_before: Some(7),
        pain_after: Some(5),
        follow_up_pain: None,
        follow_up_at: None,
        adverse_event: AdverseEvent::None,
        adjuncts: vec![],
        notes: String::new(),
        pain_medication: None,
    };
    store.record_session(&session, today(), "therapist").unwrap();
    let ov = Override {
        id: "o-1".into(),
        client: "c-1".into(),
        rule: "S1".into(),
        card_summary: "Recent injury".into(),
        reason: "cleared by physician".into(),
        at: at("2026-11-21T09:00"),
        appointment: None,
    };
    store.record_override(&ov, "therapist").unwrap();
    store.put_client_as_of(&Client::new("c-2", "Bo"), today(), ACTOR).unwrap();
    assert!(store.verify_audit().unwrap().ok(), "{:?}", store.verify_audit().unwrap().problems);
    assert!(store.warnings().is_empty(), "{:?}", store.warnings());
    dir
}

fn raw_sled(dir: &std::path::Path) -> sled::Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        match sled::Config::new().path(dir).segment_size(SLED_SEGMENT_SIZE).open() {
            Ok(db) => return db,
            Err(_) if std::time::Instant::now() < deadline => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(e) => panic!("{e}"),
        }
    }
}

fn entry_of(db: &sled::Db, pred: impl Fn(&AuditEntry) -> bool) -> (sled::IVec, AuditEntry) {
    let audit = db.open_tree("audit").unwrap();
    audit
        .iter()
        .map(Result::unwrap)
        .map(|(k, v)| (k, serde_json::from_slice::<AuditEntry>(&v).unwrap()))
        .find(|(_, e)| pred(e))
        .expect("the entry is in the log")
}

/// Tampers with the store through sled, then checks that verification names
/// `seq` (if given) and says `words`, and that opening warns.
#[track_caller]
fn check(tamper: impl FnOnce(&sled::Db) -> Option<u64>, words: &str) {
    let dir = practice();
    let seq = {
        let db = raw_sled(dir.path());
        let seq = tamper(&db);
        db.flush().unwrap();
        seq
    };
    let store = Store::open(dir.path()).expect("a tampered store still opens");
    let warning = store.warnings().iter().find(|w| w.contains("audit log")).cloned();
    let warning = warning.expect("opening a tampered store warns");
    assert!(warning.contains("praxis audit verify"), "{warning}");
    let check = store.verify_audit().unwrap();
    let first = check.problems.first().expect("verification finds the tampering");
    assert_eq!(first.seq, seq, "{first}");
    assert!(first.message.contains(words), "{first}");
}

#[test]
fn tampering_through_sled_is_found() {
    // The session's pain-after changed from 5 to 0, the log left alone.
    check(
        |db| {
            let sessions = db.open_tree("sessions").unwrap();
            let (k, v) = sessions.iter().next().unwrap().unwrap();
            let mut s: serde_json::Value = serde_json::from_slice(&v).unwrap();
            assert_eq!(s["pain_after"], 5);
            s["pain_after"] = 0.into();
            sessions.insert(k, serde_json::to_vec(&s).unwrap()).unwrap();
            let (_, e) = entry_of(db, |e| e.key == "s-1");
            Some(e.seq)
        },
        "session `s-1` in the store is not the one this entry recorded",
    );
    // ... and its audit entry rewritten to match, actor and all.
    check(
        |db| {
            let sessions = db.open_tree("sessions").unwrap();
            let (k, v) = sessions.iter().next().unwrap().unwrap();
            let mut s: serde_json::Value = serde_json::from_slice(&v).unwrap();
            s["pain_after"] = 0.into();
            let bytes = serde_json::to_vec(&s).unwrap();
            sessions.insert(k, bytes.clone()).unwrap();
            let (key, mut e) = entry_of(db, |e| e.key == "s-1");
            e.actor = "someone-else".into();
            e.after = Some(s);
            e.state = Some(praxis_core::store::state_hash(&bytes));
            db.open_tree("audit").unwrap().insert(key, serde_json::to_vec(&e).unwrap()).unwrap();
            Some(e.seq + 1)
        },
        "does not follow entry ",
    );
    // Only the actor of an entry rewritten.
    check(
        |db| {
            let (key, mut e) = entry_of(db, |e| e.key == "c-1");
            e.actor = "someone-else".into();
            db.open_tree("audit").unwrap().insert(key, serde_json::to_vec(&e).unwrap()).unwrap();
            Some(e.seq + 1)
        },
        "was changed",
    );
    // The override's entry deleted.
    check(
        |db| {
            let (key, e) = entry_of(db, |e| e.action == AuditAction::Override);
            db.open_tree("audit").unwrap().remove(key).unwrap();
            Some(e.seq + 1)
        },
        "removed",
    );
    // The last entry deleted (nothing follows it to break).
    check(
        |db| {
            let (key, e) = db.open_tree("audit").unwrap().last().unwrap().unwrap();
            let e: AuditEntry = serde_json::from_slice(&e).unwrap();
            db.open_tree("audit").unwrap().remove(key).unwrap();
            Some(e.seq - 1)
        },
        "is not the head the store recorded",
    );
    // A record slipped in without an entry.
    check(
        |db| {
            let c = Client::new("c-9", "Shadow");
            db.open_tree("clients").unwrap().insert("c-9", serde_json::to_vec(&c).unwrap()).unwrap();
            None
        },
        "client `c-9` is in the store but no audit entry records it",
    );
    // A record removed behind the log's back.
    check(
        |db| {
            db.open_tree("clients").unwrap().remove("c-2").unwrap();
            let (_, e) = entry_of(db, |e| e.key == "c-2");
            Some(e.seq)
        },
        "no longer in the store",
    );
}

/// An import refuses a log that does not verify, naming the entry.
#[track_caller]
fn check_import(edit: impl FnOnce(&mut Vec<AuditEntry>), words: &str) {
    let dir = practice();
    let mut export = dir.open().unwrap().export().unwrap();
    edit(&mut export.audit);
    let text = export.to_json().unwrap();
    let export = PracticeExport::from_json(&text).unwrap();
    let target = backends::Place::new(&backends::current());
    let store = target.open().unwrap();
    let err = store.import(&export, today(), ACTOR).unwrap_err();
    assert!(matches!(err, StoreError::Format { .. }), "{err:?}");
    assert!(err.to_string().contains(words), "{err}");
    assert!(store.audit().unwrap().is_empty(), "a refused import writes nothing");
    assert!(store.clients().unwrap().is_empty(), "a refused import writes nothing");
}

#[test]
fn an_import_refuses_a_log_that_does_not_verify() {
    backends::each(|_| an_import_refuses_a_bad_log());
}

fn an_import_refuses_a_bad_log() {
    // A made-up entry dated 2099 (chained correctly).
    check_import(
        |log| {
            let mut extra = log.last().unwrap().clone();
            extra.at = "2099-01-01T00:00:00Z".parse().unwrap();
            log.push(extra);
            let first = log[0].seq;
            AuditEntry::chain(log, first);
        },
        "is dated 2099-01-01T00:00:00Z, after the moment it was checked",
    );
    // A duplicated entry.
    check_import(
        |log| {
            let copy = log[1].clone();
            log.insert(2, copy);
        },
        "is not numbered after it",
    );
    // An entry's actor rewritten.
    check_import(|log| log[1].actor = "someone-else".into(), "audit[2] (seq 2)");
    // An entry removed.
    check_import(|log| drop(log.remove(1)), "does not follow the entry before it");
    // A log that does not start at the beginning.
    check_import(|log| drop(log.remove(0)), "is the first entry but does not start the chain");
    // The exported log, untouched, goes in and the copy verifies.
    let dir = practice();
    let export = dir.open().unwrap().export().unwrap();
    assert!(export.notice.contains("health data"), "{}", export.notice);
    assert_eq!(export.audit_head, export.audit.last().unwrap().hash());
    let target = backends::Place::new(&backends::current());
    let store = target.open().unwrap();
    store.import(&export, today(), ACTOR).unwrap();
    let check = store.verify_audit().unwrap();
    assert!(check.ok(), "{:?}", check.problems);
    assert_eq!(check.records, 6);
}

#[test]
fn audit_entries_are_never_dated_after_the_moment_of_writing() {
    backends::each(|_| {
        let dir = practice();
        let store = dir.open().unwrap();
        let now = jiff::Timestamp::now();
        for e in store.audit().unwrap() {
            assert!(e.at <= now, "entry {} is dated {}", e.seq, e.at);
        }
    });
}

/// The hostile tester's program, for trying a real practice by hand:
/// `PRAXIS_TAMPER_DIR=clinic/store cargo test -p praxis-core --test store_audit tamper_a_store -- --ignored`
/// sets every session's pain-after to 0 and every entry's actor of the first
/// client to `someone-else` (through sled, behind the log's back), then
/// `praxis audit verify` must fail.
#[test]
#[ignore]
fn tamper_a_store() {
    let dir = std::env::var("PRAXIS_TAMPER_DIR").expect("PRAXIS_TAMPER_DIR");
    let db = raw_sled(std::path::Path::new(&dir));
    let sessions = db.open_tree("sessions").unwrap();
    for kv in sessions.iter() {
        let (k, v) = kv.unwrap();
        let mut s: serde_json::Value = serde_json::from_slice(&v).unwrap();
        s["pain_after"] = 0.into();
        sessions.insert(k, serde_json::to_vec(&s).unwrap()).unwrap();
    }
    let audit = db.open_tree("audit").unwrap();
    if let Some(kv) = audit.iter().nth(1) {
        let (k, v) = kv.unwrap();
        let mut e: serde_json::Value = serde_json::from_slice(&v).unwrap();
        e["actor"] = "someone-else".into();
        audit.insert(k, serde_json::to_vec(&e).unwrap()).unwrap();
    }
    db.flush().unwrap();
}

/// A store too large for the full check on every open (here: any store):
/// opening checks the chain from the last full check's checkpoint to the
/// head, and runs the full check again after `full_audit_check_every`
/// entries. `tamper` edits the store after a checkpoint at client c-2's
/// entry and two later entries (clients c-3, c-4); `warns` is what opening
/// with `every` then says.
#[track_caller]
fn check_large(every: u64, tamper: impl FnOnce(&sled::Db), warns: Option<&str>) {
    let options = StoreOptions { full_audit_check_below: 0, full_audit_check_every: every, ..StoreOptions::default() };
    let dir = practice();
    {
        // No checkpoint yet: a full check, which leaves one.
        let store = Store::open_with(dir.path(), options.clone()).unwrap();
        assert!(store.warnings().is_empty(), "{:?}", store.warnings());
        store.put_client_as_of(&Client::new("c-3", "Cy"), today(), ACTOR).unwrap();
        store.put_client_as_of(&Client::new("c-4", "Di"), today(), ACTOR).unwrap();
    }
    {
        let db = raw_sled(dir.path());
        tamper(&db);
        db.flush().unwrap();
    }
    let store = Store::open_with(dir.path(), options).expect("a tampered store still opens");
    let warning = store.warnings().iter().find(|w| w.contains("audit log")).cloned();
    match (warns, warning) {
        (Some(words), Some(w)) => assert!(w.contains(words) && w.contains("praxis audit verify"), "{w}"),
        (None, None) => {}
        (want, got) => panic!("opening warned {got:?}, expected a warning with {want:?}"),
    }
    // The full check finds every kind of tampering, whatever opening did.
    assert!(!store.verify_audit().unwrap().ok(), "the full check finds the tampering");
}

#[test]
fn a_large_store_checks_the_chain_since_its_last_full_check_on_open() {
    let rewrite = |db: &sled::Db, key: &str| {
        let (k, mut e) = entry_of(db, |e| e.key == key);
        e.actor = "someone-else".into();
        db.open_tree("audit").unwrap().insert(k, serde_json::to_vec(&e).unwrap()).unwrap();
    };
    // An entry after the checkpoint rewritten; the checkpoint's own entry rewritten.
    check_large(1000, |db| rewrite(db, "c-3"), Some("does not follow entry"));
    check_large(1000, |db| rewrite(db, "c-2"), Some("was changed after it was verified"));
    // The last entry deleted.
    check_large(
        1000,
        |db| {
            let audit = db.open_tree("audit").unwrap();
            audit.remove(audit.last().unwrap().unwrap().0).unwrap();
        },
        Some("is not the head the store recorded"),
    );
    // A record changed behind the log's back: only the full check reads the
    // records, so opening says nothing until it runs again ...
    let change_session = |db: &sled::Db| {
        let sessions = db.open_tree("sessions").unwrap();
        let (k, v) = sessions.iter().next().unwrap().unwrap();
        let mut s: serde_json::Value = serde_json::from_slice(&v).unwrap();
        s["pain_after"] = 0.into();
        sessions.insert(k, serde_json::to_vec(&s).unwrap()).unwrap();
    };
    check_large(1000, change_session, None);
    // ... which it does once `full_audit_check_every` entries follow the checkpoint.
    check_large(2, change_session, Some("session `s-1` in the store is not the one this entry recorded"));
}
