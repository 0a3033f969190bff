//! The schema version and the migrations run on open.
//!
//! - Version 1 kept sessions, appointments and overrides keyed by their id
//!   alone, with no index trees: a client's history or a day's calendar meant
//!   reading every record.
//! - Version 2 keys sessions by client and start, appointments by start (with
//!   copies by practitioner, room and client) and overrides by client and
//!   time, with id-to-key trees (`session_ids`, `appointment_ids`,
//!   `override_ids`).
//!
//! - Version 3 chains the audit log: each entry carries the hash of the one
//!   before it and of the record state it describes, and `meta/audit_head`
//!   the hash of the last entry. The migration links the existing entries in
//!   their order and appends a `migrate` entry with the state of every record.
//!
//! - Version 4 adds `sessions_by_start`, the practice's sessions in time
//!   order (the follow-ups due are one range scan of it). The migration
//!   writes it from `sessions` and appends a `migrate` entry with the count.
//!
//! Values are JSON in all; fields added since version 1 have defaults.

use sled::IVec;

use super::backend::Scan;
use super::keys::{self, T};
use super::records::{AUDIT_GENESIS, Appointment, AuditAction, AuditEntry, Override, Session};
use super::{Store, StoreError, decode, put_appointment};

/// The schema version this build writes; it opens this one and older ones.
pub const SCHEMA_VERSION: u32 = 4;

/// The actor named in the audit log for changes the store makes itself.
pub(crate) const SYSTEM_ACTOR: &str = "praxis";

fn corrupt_version(error: impl Into<String>) -> StoreError {
    StoreError::Corrupt { tree: T::Meta.name().into(), key: keys::show(keys::SCHEMA_VERSION), error: error.into() }
}

/// Reads the schema version before anything else is touched, and refuses a
/// store written by a newer Praxis. `None` for a store without one.
/// `stored` is the value of `meta/schema_version`, read by the backend.
pub(crate) fn check_version(stored: Option<IVec>) -> Result<Option<u32>, StoreError> {
    let Some(bytes) = stored else {
        return Ok(None);
    };
    let Ok(raw) = <[u8; 4]>::try_from(bytes.as_ref()) else {
        return Err(corrupt_version(format!("expected 4 bytes, found {}", bytes.len())));
    };
    let found = u32::from_be_bytes(raw);
    if found == 0 {
        return Err(corrupt_version("version 0 does not exist"));
    }
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew { found, supported: SCHEMA_VERSION });
    }
    Ok(Some(found))
}

/// Brings the store to [`SCHEMA_VERSION`].
pub(crate) fn run(store: &Store, found: Option<u32>) -> Result<(), StoreError> {
    let Some(mut version) = found else {
        for t in T::ALL {
            if t != T::Meta && !store.tree_is_empty(t)? {
                return Err(corrupt_version("missing while the store holds records"));
            }
        }
        store.insert_raw(T::Meta, keys::SCHEMA_VERSION, &SCHEMA_VERSION.to_be_bytes())?;
        return ensure_audit_counter(store);
    };
    ensure_audit_counter(store)?;
    while version < SCHEMA_VERSION {
        match version {
            1 => v1_to_v2(store)?,
            2 => v2_to_v3(store)?,
            3 => v3_to_v4(store)?,
            other => return Err(corrupt_version(format!("no migration is known from version {other}"))),
        }
        version += 1;
        tracing::info!(path = %store.path.display(), version, "store migrated");
    }
    Ok(())
}

/// Sets the audit counter after the last entry of the log if it is not set
/// (a new store, or a version 1 store, which had none).
fn ensure_audit_counter(store: &Store) -> Result<(), StoreError> {
    if store.contains(T::Meta, keys::AUDIT_NEXT)? {
        return Ok(());
    }
    let next = match store.last_key(T::Audit)? {
        None => 0,
        Some(key) => match <[u8; 8]>::try_from(key.as_ref()) {
            Ok(raw) => u64::from_be_bytes(raw) + 1,
            Err(_) => {
                return Err(StoreError::Corrupt {
                    tree: T::Audit.name().into(),
                    key: keys::show(&key),
                    error: "an audit key is 8 bytes".into(),
                });
            }
        },
    };
    store.insert_raw(T::Meta, keys::AUDIT_NEXT, &next.to_be_bytes())?;
    store.flush()
}

fn read_all<V: serde::de::DeserializeOwned>(store: &Store, t: T) -> Result<Vec<(IVec, V)>, StoreError> {
    store
        .scan(t, Scan::All)?
        .map(|kv| {
            let (k, v) = kv?;
            let value = decode(t, &k, &v)?;
            Ok((k, value))
        })
        .collect()
}

fn v1_to_v2(store: &Store) -> Result<(), StoreError> {
    let sessions: Vec<(IVec, Session)> = read_all(store, T::Sessions)?;
    let appointments: Vec<(IVec, Appointment)> = read_all(store, T::Appointments)?;
    let overrides: Vec<(IVec, Override)> = read_all(store, T::Overrides)?;
    let counts = serde_json::json!({
        "schema_version": 2,
        "sessions": sessions.len(),
        "appointments": appointments.len(),
        "overrides": overrides.len(),
    });
    store.write(|tx| {
        for (old, s) in &sessions {
            tx.del(T::Sessions, old)?;
            let key = keys::scoped(&s.client, s.start, &s.id);
            tx.put(T::Sessions, &key, s)?;
            tx.put_raw(T::SessionIds, s.id.as_bytes(), key.as_slice())?;
        }
        for (old, a) in &appointments {
            tx.del(T::Appointments, old)?;
            put_appointment(tx, a)?;
        }
        for (old, o) in &overrides {
            tx.del(T::Overrides, old)?;
            let key = keys::scoped(&o.client, o.at, &o.id);
            tx.put(T::Overrides, &key, o)?;
            tx.put_raw(T::OverrideIds, o.id.as_bytes(), key.as_slice())?;
        }
        tx.put_raw(T::Meta, keys::SCHEMA_VERSION, &2u32.to_be_bytes())?;
        let before = Some(serde_json::json!({ "schema_version": 1 }));
        tx.audit(SYSTEM_ACTOR, AuditAction::Migrate, "store", "schema_version", before, Some(counts.clone()))
    })
}

fn v2_to_v3(store: &Store) -> Result<(), StoreError> {
    let entries: Vec<(IVec, AuditEntry)> = read_all(store, T::Audit)?;
    let states = store.record_states()?;
    let after =
        serde_json::json!({ "schema_version": 3, "audit_entries_chained": entries.len(), "records": states.len() });
    store.write(|tx| {
        let mut prev = AUDIT_GENESIS.to_owned();
        for (key, entry) in &entries {
            let mut entry = entry.clone();
            entry.prev = prev;
            prev = entry.hash();
            tx.put(T::Audit, key, &entry)?;
        }
        if !entries.is_empty() {
            tx.put_raw(T::Meta, keys::AUDIT_HEAD, prev.as_bytes())?;
        }
        tx.put_raw(T::Meta, keys::SCHEMA_VERSION, &3u32.to_be_bytes())?;
        let before = Some(serde_json::json!({ "schema_version": 2 }));
        let mut entry = super::new_entry(
            SYSTEM_ACTOR,
            AuditAction::Migrate,
            "store",
            "schema_version",
            before,
            Some(after.clone()),
        );
        entry.states = states.clone();
        tx.append_audit(entry).map(|_| ())
    })
}

fn v3_to_v4(store: &Store) -> Result<(), StoreError> {
    let mut index = Vec::new();
    for kv in store.scan(T::Sessions, Scan::All)? {
        let (key, value) = kv?;
        let s: Session = decode(T::Sessions, &key, &value)?;
        index.push((keys::timed(s.start, &s.id), key));
    }
    let after = serde_json::json!({ "schema_version": 4, "sessions_by_start": index.len() });
    store.write(|tx| {
        for (k, v) in &index {
            tx.put_raw(T::SessionsByStart, k, v)?;
        }
        tx.put_raw(T::Meta, keys::SCHEMA_VERSION, &4u32.to_be_bytes())?;
        let before = Some(serde_json::json!({ "schema_version": 3 }));
        tx.audit(SYSTEM_ACTOR, AuditAction::Migrate, "store", "schema_version", before, Some(after.clone()))
    })
}
