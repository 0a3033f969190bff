//! `praxis store copy`: a practice moved between stores (sled to
//! PostgreSQL, or back), whole.
//!
//! Every tree is copied key for key (records, indexes, the audit log as it
//! is, its counter and head, staff accounts and API tokens) in **one
//! transaction** on the target: all or nothing. Unlike an import, which
//! re-chains the log and appends an `import` entry, a copy is the same
//! practice in another engine: its export is identical, so a round trip
//! gives back the export it started from, and `audit verify` gives the same
//! head. The target must be empty; the source is only read.

use serde::Serialize;

use super::backend::Scan;
use super::keys::T;
use super::{Store, StoreError};

/// What [`Store::copy_to`] copied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    /// Keys copied, over all trees.
    pub keys: usize,
    /// Records (clients, intakes, sessions, appointments, practitioners,
    /// rooms, overrides).
    pub records: usize,
    /// Audit entries.
    pub audit_entries: usize,
    /// Staff accounts and API tokens.
    pub credentials: usize,
}

impl Store {
    /// Copies this whole store into `target`, which must be empty, in one
    /// transaction there; then checks that the target's export is this
    /// store's and that its audit log verifies. Read this store while no one
    /// writes to it (stop the servers).
    pub fn copy_to(&self, target: &Store) -> Result<CopyReport, StoreError> {
        for t in T::ALL.into_iter().chain(T::CREDENTIALS) {
            if t != T::Meta && !target.tree_is_empty(t)? {
                return Err(StoreError::Conflict(format!(
                    "the target store at {} is not empty (its `{}` has entries): copy into a new, empty database \
                     or folder",
                    target.location(),
                    t.name()
                )));
            }
        }
        let mut pairs = Vec::new();
        let mut report = CopyReport::default();
        for t in T::ALL.into_iter().chain(T::CREDENTIALS) {
            if t == T::Journal {
                continue;
            }
            for kv in self.scan(t, Scan::All)? {
                let (k, v) = kv?;
                if t == T::Meta && k.as_ref() == super::keys::IMPORT_PENDING {
                    continue;
                }
                report.keys += 1;
                match t {
                    T::Audit => report.audit_entries += 1,
                    T::Users | T::Tokens => report.credentials += 1,
                    _ if super::chain::RECORD_TREES.iter().any(|(rt, _)| *rt == t) => report.records += 1,
                    _ => {}
                }
                pairs.push((t, k, v));
            }
        }
        target.write(|tx| {
            for (t, k, v) in &pairs {
                tx.put_raw(*t, k, v.clone())?;
            }
            Ok(())
        })?;
        let (mine, theirs) = (self.export()?, target.export()?);
        if mine != theirs {
            return Err(StoreError::Conflict(format!(
                "the copy at {} does not export the same practice as {} (was the source written to during the \
                 copy?): remove the copy and run it again with the servers stopped",
                target.location(),
                self.location()
            )));
        }
        let check = target.verify_audit()?;
        if let Some(first) = check.problems.first() {
            tracing::warn!(problem = %first, "the copied audit log does not verify (nor did the source's)");
        }
        tracing::info!(from = %self.location(), to = %target.location(), keys = report.keys, "store copied");
        Ok(report)
    }
}
