//! What [`Store::open`] checks of the audit log, at a cost that does not
//! grow with the practice.
//!
//! The full check ([`Store::verify_audit`]) replays the whole log and hashes
//! every record: about 2.5 s at 10,000 clients and 250,000 sessions, which a
//! command line cannot pay on every command. So a clean full check leaves a
//! checkpoint in `meta/audit_verified` (the number and hash of the last entry
//! it verified), and opening checks only the chain from that entry to the
//! head the store recorded: an entry changed, inserted or removed since the
//! checkpoint, the checkpoint's own entry changed, or a head that is not the
//! last entry's hash all warn on open. The full check (records against their
//! last audited state too) runs on open when there is no checkpoint, when
//! [`StoreOptions::full_audit_check_every`](super::StoreOptions) entries
//! were written since it, or while the store is small
//! ([`StoreOptions::full_audit_check_below`](super::StoreOptions) bytes on
//! disk), and always in `praxis audit verify` and `praxis store check`.

use serde::{Deserialize, Serialize};

use super::backend::Scan;
use super::chain::{AuditCheck, AuditProblem};
use super::{AuditEntry, Store, StoreError, T, decode, keys};

/// The meta key of the checkpoint.
const AUDIT_VERIFIED: &[u8] = b"audit_verified";

/// The last entry a clean full check verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Checkpoint {
    seq: u64,
    hash: String,
}

impl Store {
    /// The audit check of [`Store::open`]: the chain since the last full
    /// check, or a full check (see the module's documentation).
    pub(crate) fn verify_audit_on_open(&self) -> Result<AuditCheck, StoreError> {
        let small = match self.sled_size_on_disk() {
            Some(size) => size? <= self.options.full_audit_check_below,
            None => false,
        };
        let checkpoint: Option<Checkpoint> = if small { None } else { self.read(T::Meta, AUDIT_VERIFIED)? };
        if let Some(cp) = checkpoint {
            let (check, since) = self.verify_chain_since(&cp)?;
            if !check.ok() || since < self.options.full_audit_check_every {
                return Ok(check);
            }
        }
        self.verify_audit_and_checkpoint()
    }

    /// [`Store::verify_audit`], and when the log verifies, a checkpoint for
    /// the checks of later opens (`praxis serve` runs it after it starts, so
    /// a long-running server keeps the next command's open cheap). The
    /// checkpoint is the last entry written before the check began: entries
    /// written during it are checked by the next open.
    pub fn verify_audit_and_checkpoint(&self) -> Result<AuditCheck, StoreError> {
        // An entry that cannot be read is for the check to report.
        let last = match self.last_key(T::Audit)? {
            None => None,
            Some(key) => self.get_raw(T::Audit, &key)?.and_then(|bytes| {
                decode::<AuditEntry>(T::Audit, &key, &bytes).ok().map(|e| Checkpoint { seq: e.seq, hash: e.hash() })
            }),
        };
        let check = self.verify_audit()?;
        if check.ok()
            && let Some(cp) = last
        {
            let current: Option<Checkpoint> = self.read(T::Meta, AUDIT_VERIFIED)?;
            if current.as_ref() != Some(&cp) {
                self.write(|tx| tx.put(T::Meta, AUDIT_VERIFIED, &cp))?;
            }
        }
        Ok(check)
    }

    /// Checks the chain from the checkpoint's entry to the recorded head;
    /// returns what it found and how many entries follow the checkpoint.
    fn verify_chain_since(&self, cp: &Checkpoint) -> Result<(AuditCheck, u64), StoreError> {
        let mut problems = Vec::new();
        let mut entries = 0u64;
        let mut prev = cp.hash.clone();
        let mut last_seq = cp.seq;
        match self.get_raw(T::Audit, &keys::seq(cp.seq))? {
            None => problems.push(AuditProblem {
                seq: Some(cp.seq),
                message: "was verified before but is no longer in the log: it was removed".into(),
            }),
            Some(bytes) => {
                let entry: Result<AuditEntry, _> = decode(T::Audit, &keys::seq(cp.seq), &bytes);
                if entry.map(|e| e.hash()).ok().as_deref() != Some(cp.hash.as_str()) {
                    problems
                        .push(AuditProblem { seq: Some(cp.seq), message: "was changed after it was verified".into() });
                }
            }
        }
        let from = keys::seq(cp.seq.saturating_add(1)).to_vec();
        for kv in self.scan(T::Audit, Scan::Range(from, vec![0xff; 9]))? {
            let (key, bytes) = kv?;
            let entry: AuditEntry = match decode(T::Audit, &key, &bytes) {
                Ok(e) => e,
                Err(e) => {
                    problems.push(AuditProblem { seq: None, message: format!("an entry cannot be read: {e}") });
                    break;
                }
            };
            entries += 1;
            if key.as_ref() != keys::seq(entry.seq) {
                problems.push(AuditProblem {
                    seq: Some(entry.seq),
                    message: format!("is stored under key {} instead of its own number", keys::show(&key)),
                });
            }
            if entry.prev != prev {
                problems.push(AuditProblem {
                    seq: Some(entry.seq),
                    message: format!(
                        "does not follow entry {last_seq}: entry {last_seq} was changed, or entries between the two \
                         were removed"
                    ),
                });
            }
            prev = entry.hash();
            last_seq = entry.seq;
        }
        let head = self.get_raw(T::Meta, keys::AUDIT_HEAD)?;
        let head = head.map(|h| String::from_utf8_lossy(&h).into_owned()).unwrap_or_default();
        if head != prev {
            problems.push(AuditProblem {
                seq: Some(last_seq),
                message: "is not the head the store recorded: the last entry was changed, or entries after it were \
                          removed"
                    .into(),
            });
        }
        Ok((AuditCheck { entries, records: 0, head, problems }, entries))
    }
}
