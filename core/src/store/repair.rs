//! `praxis store check` and `praxis store repair`: what can be done for a
//! store that will not open, without ever losing the original.
//!
//! - [`check_store`] changes nothing: it copies the store into a private
//!   temporary folder beside it, opens the copy (with the recovery that
//!   [`Store::open`] does) and verifies the audit log there.
//! - [`repair_store`] first copies the whole store folder to
//!   `<store>.backup-<time>`, then opens it; if sled still reports
//!   corruption, it sets aside its snapshot files newest first (sled then
//!   rebuilds its page table from the log) until the store opens, and audits
//!   what it did (`recover`).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::chain::AuditCheck;
use super::open::{self, snapshot_files};
use super::{AuditAction, Store, StoreError};

/// What [`check_store`] found.
#[derive(Debug, Clone, Serialize)]
pub struct StoreCheck {
    /// The store folder.
    pub path: PathBuf,
    /// Snapshots sled left unfinished (opening sets them aside).
    pub unfinished_snapshots: Vec<String>,
    /// Whether the store opens (after that recovery).
    pub opens: bool,
    /// Why it does not open.
    pub error: Option<String>,
    /// Records of each kind, when it opens.
    pub records: u64,
    /// The audit log's verification, when it opens.
    pub audit: Option<AuditCheck>,
}

/// What [`repair_store`] did.
#[derive(Debug, Clone, Serialize)]
pub struct RepairReport {
    /// The copy of the store as it was, made before anything was changed.
    pub backup: PathBuf,
    /// What was done, in order.
    pub actions: Vec<String>,
    /// The audit log's verification after the repair.
    pub audit: AuditCheck,
}

fn io(dir: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: dir.to_owned(), source }
}

/// Checks the store in `dir` without changing it (see the module docs).
pub fn check_store(dir: &Path) -> Result<StoreCheck, StoreError> {
    if !dir.join("db").exists() {
        return Err(StoreError::Io {
            path: dir.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no store here (no `db` file)"),
        });
    }
    let unfinished = snapshot_files(dir)
        .into_iter()
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
        .filter(|n| n.ends_with(".generating"))
        .collect();
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    super::private::restrict_umask();
    let scratch = tempfile::Builder::new().prefix(".praxis-check-").tempdir_in(parent).map_err(io(dir))?;
    let copy = scratch.path().join("store");
    open::copy_dir(dir, &copy).map_err(io(dir))?;
    let _ = std::fs::remove_file(copy.join(open::HOLDER_FILE));
    let mut check = StoreCheck {
        path: dir.to_owned(),
        unfinished_snapshots: unfinished,
        opens: false,
        error: None,
        records: 0,
        audit: None,
    };
    match Store::open(&copy) {
        Ok(store) => {
            check.opens = true;
            let audit = store.verify_audit()?;
            check.records = audit.records;
            check.audit = Some(audit);
        }
        Err(e) => check.error = Some(e.to_string()),
    }
    Ok(check)
}

/// Repairs the store in `dir` as far as it can (see the module docs); the
/// original is copied to the returned [`RepairReport::backup`] first.
pub fn repair_store(dir: &Path) -> Result<RepairReport, StoreError> {
    let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("store");
    let backup = dir.with_file_name(format!("{name}.backup-{stamp}"));
    open::copy_dir(dir, &backup).map_err(io(dir))?;
    let mut actions = vec![format!("copied the store to {}", backup.display())];
    tracing::warn!(backup = %backup.display(), "store repair: copied the store before changing it");
    let mut snapshots = snapshot_files(dir);
    let store = loop {
        match Store::open(dir) {
            Ok(store) => break store,
            Err(e @ (StoreError::InUse { .. } | StoreError::TooNew { .. })) => return Err(e),
            Err(e) => {
                let Some(newest) = snapshots.pop() else {
                    tracing::error!(error = %e, "store repair: the store does not open even without snapshots");
                    return Err(e);
                };
                if !newest.exists() {
                    continue;
                }
                let kept = open::set_aside(dir, &newest).map_err(io(dir))?;
                let what = format!(
                    "set aside snapshot {} (sled said: {e}); kept as {}",
                    newest.file_name().and_then(|n| n.to_str()).unwrap_or_default(),
                    kept.display()
                );
                tracing::warn!("store repair: {what}");
                actions.push(what);
            }
        }
    };
    actions.extend(store.warnings().iter().cloned());
    let after = serde_json::json!({ "backup": backup.display().to_string(), "actions": actions });
    store.write(|tx| {
        tx.audit(super::migrate::SYSTEM_ACTOR, AuditAction::Recover, "store", "repair", None, Some(after.clone()))
    })?;
    let audit = store.verify_audit()?;
    Ok(RepairReport { backup, actions, audit })
}
