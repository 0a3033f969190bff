//! Migration from the first schema version, with a fixture store of schema
//! version 1 committed under `tests/fixtures/store-v1/`.
//!
//! Version 1 kept sessions, appointments and overrides keyed by their id
//! alone and had no index trees. The fixture was written by
//! `write_v1_fixture` below, with the record JSON of version 1 (sessions had
//! no `pain_medication`). To write it again:
//!
//! ```text
//! PRAXIS_WRITE_STORE_FIXTURE=1 cargo test -p praxis-core --test store_migration write_v1_fixture
//! ```

use std::path::{Path, PathBuf};

use praxis_core::store::{AuditAction, SCHEMA_VERSION, SLED_SEGMENT_SIZE, Store, StoreError};
use praxis_sdk::{DateTime, Pressure};
use serde_json::json;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v1")
}

/// Version 1 records, as version 1 wrote them: (tree, key, JSON value).
fn v1_records() -> Vec<(&'static str, Vec<u8>, serde_json::Value)> {
    let session = |id: &str, client: &str, start: &str, before: u8, after: u8| {
        json!({
            "id": id, "client": client, "practitioner": "p-anna", "discipline": "massage",
            "start": start, "minutes": 60, "pressure": "light", "techniques": ["effleurage"],
            "regions": ["upper back"], "pain_before": before, "pain_after": after,
            "adverse_event": {"kind": "none"}, "adjuncts": ["heat_before"]
        })
    };
    let appointment = |id: &str, client: &str, start: &str, status: &str| {
        json!({
            "id": id, "client": client, "practitioner": "p-anna", "room": "r-1", "discipline": "massage",
            "start": start, "minutes": 60, "status": status
        })
    };
    let audit = |seq: u64, actor: &str, entity: &str, key: &str| json!({"seq": seq, "at": "2025-06-01T09:00:00Z", "actor": actor, "action": "create", "entity": entity, "key": key});
    let mut records = vec![
        (
            "practitioners",
            b"p-anna".to_vec(),
            json!({"id": "p-anna", "name": "Anna", "disciplines": ["massage", "yoga"],
                   "availability": [{"day": "monday", "start": "09:00", "end": "17:00"}], "time_off": []}),
        ),
        ("rooms", b"r-1".to_vec(), json!({"id": "r-1", "name": "Room 1", "kind": "treatment_room", "capacity": 1})),
        (
            "clients",
            b"c-ada".to_vec(),
            json!({"id": "c-ada", "name": "Ada", "date_of_birth": "1970-05-04",
                   "conditions": [{"code": "203082005", "name": "Fibromyalgia", "status": "active", "since": "2019-03-01"}],
                   "tender_points": ["upper trapezius"], "preferred_pressure": "light",
                   "insurance": {"payer": "Acme", "requires": "referral", "authorization_on_file": true,
                                 "session_limit": {"sessions": 10, "period": "calendar_year"}, "sessions_used": 3},
                   "consent": {"treatment": true, "data_processing": true, "recorded": "2025-01-10"}}),
        ),
        ("clients", b"c-bo".to_vec(), json!({"id": "c-bo", "name": "Bo"})),
        (
            "intakes",
            b"c-ada".to_vec(),
            json!({"id": "i-1", "client": "c-ada", "recorded": "2025-01-10", "pain_patterns": ["widespread aching"],
                   "sensitivities": ["lavender"], "previous_treatments": ["physical therapy"], "medications": ["duloxetine"]}),
        ),
        ("sessions", b"s-3".to_vec(), session("s-3", "c-ada", "2025-03-01T10:00", 5, 3)),
        ("sessions", b"s-1".to_vec(), session("s-1", "c-ada", "2025-01-15T10:00", 7, 5)),
        ("sessions", b"s-2".to_vec(), session("s-2", "c-ada", "2025-02-01T10:00", 6, 4)),
        ("sessions", b"s-4".to_vec(), session("s-4", "c-bo", "2025-02-01T11:30", 4, 4)),
        ("appointments", b"a-2".to_vec(), appointment("a-2", "c-bo", "2025-06-03T11:00", "booked")),
        ("appointments", b"a-1".to_vec(), appointment("a-1", "c-ada", "2025-06-02T10:00", "booked")),
        ("appointments", b"a-0".to_vec(), appointment("a-0", "c-ada", "2025-03-01T10:00", "completed")),
        (
            "overrides",
            b"o-1".to_vec(),
            json!({"id": "o-1", "client": "c-ada", "rule": "S1", "card_summary": "Inflammatory flare",
                   "reason": "cleared by rheumatologist", "at": "2025-03-01T09:55", "appointment": "a-0"}),
        ),
    ];
    for (seq, entity, key) in [(0u64, "practitioner", "p-anna"), (1, "client", "c-ada"), (2, "session", "s-1")] {
        records.push(("audit", seq.to_be_bytes().to_vec(), audit(seq, "front-desk", entity, key)));
    }
    records
}

/// Writes the version 1 fixture store (only when asked to).
#[test]
fn write_v1_fixture() {
    if std::env::var_os("PRAXIS_WRITE_STORE_FIXTURE").is_none() {
        return;
    }
    let dir = fixture();
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    let db = sled::Config::new().path(&dir).segment_size(SLED_SEGMENT_SIZE).open().unwrap();
    db.open_tree("meta").unwrap().insert("schema_version", &1u32.to_be_bytes()).unwrap();
    for (tree, key, value) in v1_records() {
        db.open_tree(tree).unwrap().insert(key, serde_json::to_vec(&value).unwrap()).unwrap();
    }
    db.flush().unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn schema_version(dir: &Path) -> u32 {
    let db = sled::Config::new().path(dir).segment_size(SLED_SEGMENT_SIZE).open().unwrap();
    let bytes = db.open_tree("meta").unwrap().get("schema_version").unwrap().unwrap();
    u32::from_be_bytes(bytes.as_ref().try_into().unwrap())
}

fn at(s: &str) -> DateTime {
    s.parse().unwrap()
}

#[test]
fn a_version_1_store_is_migrated_on_open_and_keeps_every_record() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), dir.path());
    assert_eq!(schema_version(dir.path()), 1, "the committed fixture is a version 1 store");

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);

    let ids = |sessions: Vec<praxis_core::store::Session>| sessions.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(ids(store.sessions_for("c-ada").unwrap()), ["s-1", "s-2", "s-3"]);
    assert_eq!(ids(store.sessions_for("c-bo").unwrap()), ["s-4"]);
    let s1 = store.get_session("s-1").unwrap().unwrap();
    assert_eq!(
        (s1.pain_before, s1.pain_after, s1.pressure, s1.pain_medication),
        (Some(7), Some(5), Some(Pressure::Light), None)
    );
    store.set_follow_up("s-1", 4, "tester").unwrap();
    assert_eq!(store.get_session("s-1").unwrap().unwrap().follow_up_pain, Some(4));

    let appointment_ids =
        |list: Vec<praxis_core::store::Appointment>| list.into_iter().map(|a| a.id).collect::<Vec<_>>();
    let june = (at("2025-06-01T00:00"), at("2025-07-01T00:00"));
    assert_eq!(appointment_ids(store.appointments_between(june.0, june.1).unwrap()), ["a-1", "a-2"]);
    assert_eq!(appointment_ids(store.appointments_for_room("r-1", june.0, june.1).unwrap()), ["a-1", "a-2"]);
    assert_eq!(appointment_ids(store.appointments_for_practitioner("p-anna", june.0, june.1).unwrap()), ["a-1", "a-2"]);
    assert_eq!(appointment_ids(store.appointments_for_client("c-ada").unwrap()), ["a-0", "a-1"]);
    assert_eq!(store.get_appointment("a-0").unwrap().unwrap().start, at("2025-03-01T10:00"));

    let overrides = store.overrides_for("c-ada").unwrap();
    assert_eq!(overrides.len(), 1);
    assert_eq!((overrides[0].rule.as_str(), overrides[0].appointment.as_deref()), ("S1", Some("a-0")));

    let clients = store.clients().unwrap();
    assert_eq!(clients.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["c-ada", "c-bo"]);
    assert_eq!(clients[0].insurance.as_ref().unwrap().sessions_used, 3);
    assert_eq!(store.intake("c-ada").unwrap().unwrap().medications, ["duloxetine"]);
    assert_eq!(store.practitioners().unwrap().len(), 1);
    assert_eq!(store.rooms().unwrap().len(), 1);
    let snapshot = store.snapshot("c-ada").unwrap();
    assert_eq!(snapshot.sessions.len(), 3);
    assert!(snapshot.intake.is_some());

    let audit = store.audit().unwrap();
    let actions: Vec<_> = audit.iter().map(|e| (e.actor.as_str(), e.action, e.key.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("front-desk", AuditAction::Create, "p-anna"),
            ("front-desk", AuditAction::Create, "c-ada"),
            ("front-desk", AuditAction::Create, "s-1"),
            ("praxis", AuditAction::Migrate, "schema_version"),
            ("praxis", AuditAction::Migrate, "schema_version"),
            ("praxis", AuditAction::Migrate, "schema_version"),
            ("tester", AuditAction::Update, "s-1"),
        ]
    );
    assert_eq!(audit[3].after.as_ref().unwrap()["sessions"], json!(4));
    // Version 3 chains the log (the v1 entries included) and records the
    // state of every record, so the migrated store verifies.
    assert_eq!(audit[4].after.as_ref().unwrap()["schema_version"], json!(3));
    assert_eq!(audit[4].states.len(), 13, "{:?}", audit[4].states.keys());
    let check = store.verify_audit().unwrap();
    assert!(check.ok(), "{:?}", check.problems);
    // Version 4 indexes the sessions by start.
    assert_eq!(audit[5].after.as_ref().unwrap()["sessions_by_start"], json!(4));
    let starts = |from: &str, to: &str| {
        store.sessions_between(at(from), at(to)).unwrap().into_iter().map(|s| s.id).collect::<Vec<_>>()
    };
    assert_eq!(starts("2000-01-01T00:00", "2030-01-01T00:00").len(), 4);
    assert_eq!(starts("2025-03-01T10:00", "2025-03-01T10:01"), ["s-3"]);
    assert_eq!(check.entries, 7);

    let before = store.export().unwrap();
    drop(store);
    assert_eq!(schema_version(dir.path()), SCHEMA_VERSION);
    let again = Store::open(dir.path()).unwrap();
    assert_eq!(again.export().unwrap(), before, "a second open migrates nothing");
}

#[test]
fn every_v1_record_is_in_the_migrated_export() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), dir.path());
    let export = serde_json::to_value(Store::open(dir.path()).unwrap().export().unwrap()).unwrap();
    let list = |tree: &str| match tree {
        "intakes" | "clients" | "sessions" | "appointments" | "overrides" | "practitioners" | "rooms" | "audit" => {
            export[tree].as_array().unwrap().clone()
        }
        other => panic!("unknown tree {other}"),
    };
    for (tree, _, value) in v1_records() {
        let key = if tree == "audit" { "seq" } else { "id" };
        let migrated = list(tree).into_iter().find(|r| r[key] == value[key]);
        let migrated = migrated.unwrap_or_else(|| panic!("{tree}: {} is missing", value[key]));
        assert!(contains(&migrated, &value), "{tree}: {value} did not come through unchanged: {migrated}");
    }
}

/// Whether every field of `old` is in `new` with the same value (`new` may
/// have more: fields added since, with their defaults).
fn contains(new: &serde_json::Value, old: &serde_json::Value) -> bool {
    match (new, old) {
        (serde_json::Value::Object(new), serde_json::Value::Object(old)) => {
            old.iter().all(|(k, v)| new.get(k).is_some_and(|n| contains(n, v)))
        }
        (serde_json::Value::Array(new), serde_json::Value::Array(old)) => {
            new.len() == old.len() && new.iter().zip(old).all(|(n, o)| contains(n, o))
        }
        (new, old) => new == old,
    }
}

#[test]
fn a_store_without_a_version_but_with_records_is_not_guessed_at() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::Config::new().path(dir.path()).segment_size(SLED_SEGMENT_SIZE).open().unwrap();
        db.open_tree("clients").unwrap().insert("c-1", &b"{}"[..]).unwrap();
        db.flush().unwrap();
    }
    match Store::open(dir.path()) {
        Err(StoreError::Corrupt { tree, error, .. }) => {
            assert_eq!((tree.as_str(), error.as_str()), ("meta", "missing while the store holds records"));
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}
