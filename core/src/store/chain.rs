//! The audit log is tamper-evident: a hash chain over its entries, and the
//! hash of each record's state in the entry that describes it.
//!
//! Each entry carries `prev`, the hash of the entry before it (SHA-256 of its
//! JSON), and the store keeps the hash of the last entry (`meta/audit_head`).
//! An entry that is changed, inserted or deleted breaks the chain. Each entry
//! about one record carries `state`, the hash of the record as stored after
//! the change; imports, migrations and rollbacks carry `states` for many
//! records. [`Store::verify_audit`] replays the log and compares the last
//! state of every record with the record in the store: a record changed
//! behind the log's back, or one with no entry at all, is found.
//!
//! What this cannot catch alone: someone with write access to the files who
//! rewrites the whole chain consistently. Against that, keep the head hash
//! somewhere else (`praxis audit verify` prints it; so does every export).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::backend::Scan;
use super::keys::{self, T};
use super::records::{AUDIT_GENESIS, AuditEntry, state_hash};
use super::{Store, StoreError, decode};

/// The trees that hold records, with the audit entity name of their records.
pub(crate) const RECORD_TREES: [(T, &str); 7] = [
    (T::Clients, "client"),
    (T::Intakes, "intake"),
    (T::Sessions, "session"),
    (T::Appointments, "appointment"),
    (T::Practitioners, "practitioner"),
    (T::Rooms, "room"),
    (T::Overrides, "override"),
];

/// Whether an audit entity names a kind of record (rather than `practice` or `store`).
fn is_record_entity(entity: &str) -> bool {
    RECORD_TREES.iter().any(|(_, e)| *e == entity)
}

/// One thing found wrong in the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditProblem {
    /// The entry at fault (or the last entry that describes the record), if any.
    pub seq: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "audit entry {seq}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What [`Store::verify_audit`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditCheck {
    /// Entries in the log.
    pub entries: u64,
    /// Records compared with their last audited state.
    pub records: u64,
    /// The hash of the last entry (the head of the chain): keep it elsewhere
    /// to detect a log rewritten as a whole.
    pub head: String,
    /// What is wrong, the first problem first; empty when the log verifies.
    pub problems: Vec<AuditProblem>,
}

impl AuditCheck {
    /// Whether the chain and every record verify.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks that `entries` form one chain from [`AUDIT_GENESIS`] with
/// increasing sequence numbers and no entry dated after `now`; returns the
/// first problem. Used for an imported log.
pub fn verify_chain(entries: &[AuditEntry], now: jiff::Timestamp) -> Result<(), AuditProblem> {
    let mut prev = AUDIT_GENESIS.to_owned();
    let mut last_seq = None;
    for e in entries {
        let problem = |message: String| AuditProblem { seq: Some(e.seq), message };
        if last_seq.is_some_and(|s| e.seq <= s) {
            return Err(problem(format!("comes after entry {} but is not numbered after it", last_seq.unwrap_or(0))));
        }
        if e.prev != prev {
            return Err(problem(if last_seq.is_none() {
                "is the first entry but does not start the chain (an entry before it is missing, or the log was \
                 written by a Praxis without an audit chain)"
                    .into()
            } else {
                "does not follow the entry before it (that entry was changed or removed, or this one inserted)".into()
            }));
        }
        if e.at > now {
            return Err(problem(format!("is dated {}, after the moment it was checked ({now})", e.at)));
        }
        prev = e.hash();
        last_seq = Some(e.seq);
    }
    Ok(())
}

impl Store {
    /// Verifies the audit log: the chain from the first entry to the head
    /// kept in `meta`, and every record of the store against the state the
    /// log last recorded for it. Problems are listed, first problem first.
    pub fn verify_audit(&self) -> Result<AuditCheck, StoreError> {
        let mut problems = Vec::new();
        let mut prev = AUDIT_GENESIS.to_owned();
        let mut last_seq: Option<u64> = None;
        let mut entries = 0u64;
        // kind/id -> (hash, seq of the entry that set it)
        let mut states: BTreeMap<String, (String, u64)> = BTreeMap::new();
        for kv in self.scan(T::Audit, Scan::All)? {
            let (key, bytes) = kv?;
            let entry: AuditEntry = match decode(T::Audit, &key, &bytes) {
                Ok(e) => e,
                Err(e) => {
                    problems.push(AuditProblem { seq: None, message: format!("an entry cannot be read: {e}") });
                    break;
                }
            };
            entries += 1;
            let seq = entry.seq;
            if key.as_ref() != keys::seq(seq) {
                problems.push(AuditProblem {
                    seq: Some(seq),
                    message: format!("is stored under key {} instead of its own number", keys::show(&key)),
                });
            }
            if entry.prev != prev {
                let message = match last_seq {
                    None => "is the first entry but does not start the chain: entries before it were removed".into(),
                    Some(s) => format!(
                        "does not follow entry {s}: entry {s} was changed, or entries between the two were removed"
                    ),
                };
                problems.push(AuditProblem { seq: Some(seq), message });
            }
            if is_record_entity(&entry.entity)
                && let Some(h) = &entry.state
            {
                states.insert(format!("{}/{}", entry.entity, entry.key), (h.clone(), seq));
            }
            for (r, h) in &entry.states {
                states.insert(r.clone(), (h.clone(), seq));
            }
            prev = entry.hash();
            last_seq = Some(seq);
        }
        let head = self.get_raw(T::Meta, keys::AUDIT_HEAD)?;
        let head = head.map(|h| String::from_utf8_lossy(&h).into_owned());
        let expected_head = if last_seq.is_some() { Some(prev.clone()) } else { None };
        if head != expected_head {
            problems.push(AuditProblem {
                seq: last_seq,
                message: match last_seq {
                    Some(_) => "is not the head the store recorded: the last entry was changed, or entries after \
                                it were removed"
                        .into(),
                    None => "the audit log is empty, but the store recorded entries: they were removed".into(),
                },
            });
        }
        let mut records = 0u64;
        let mut seen = std::collections::BTreeSet::new();
        for (t, entity) in RECORD_TREES {
            for kv in self.scan(t, Scan::All)? {
                let (key, bytes) = kv?;
                records += 1;
                let id = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v.get("id").and_then(|id| id.as_str().map(str::to_owned)))
                    .unwrap_or_else(|| keys::show(&key));
                let name = format!("{entity}/{id}");
                let actual = state_hash(&bytes);
                match states.get(&name) {
                    None => problems.push(AuditProblem {
                        seq: None,
                        message: format!("{entity} `{id}` is in the store but no audit entry records it"),
                    }),
                    Some((h, seq)) if *h != actual => problems.push(AuditProblem {
                        seq: Some(*seq),
                        message: format!(
                            "{entity} `{id}` in the store is not the one this entry recorded: it was changed \
                             without an audit entry"
                        ),
                    }),
                    Some(_) => {}
                }
                seen.insert(name);
            }
        }
        for (name, (h, seq)) in &states {
            if !h.is_empty() && !seen.contains(name) {
                problems.push(AuditProblem {
                    seq: Some(*seq),
                    message: format!("records {name}, which is no longer in the store: it was removed"),
                });
            }
        }
        problems.sort_by_key(|p| p.seq.unwrap_or(u64::MAX));
        Ok(AuditCheck { entries, records, head: head.unwrap_or_default(), problems })
    }

    /// The hashes of every record in the store, `kind/id` to hash, for an
    /// entry that describes many records (a migration).
    pub(crate) fn record_states(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let mut states = BTreeMap::new();
        for (t, entity) in RECORD_TREES {
            for kv in self.scan(t, Scan::All)? {
                let (key, bytes) = kv?;
                let id = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v.get("id").and_then(|id| id.as_str().map(str::to_owned)))
                    .unwrap_or_else(|| keys::show(&key));
                states.insert(format!("{entity}/{id}"), state_hash(&bytes));
            }
        }
        Ok(states)
    }
}
