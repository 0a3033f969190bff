//! The practice's records in an embedded sled store.
//!
//! Every record the practice keeps (clients, intake, sessions, appointments,
//! practitioners, rooms, overrides of critical cards) is a typed value with a
//! stable id, checked before it is written ([`ValidationError`] names the
//! record, field and value), written in one sled transaction with its index
//! entries and an [`AuditEntry`], and **flushed to disk before the call
//! returns**: a write the store acknowledges survives a crash.
//!
//! ```
//! use praxis_core::store::{Client, Store};
//! use praxis_sdk::Date;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(dir.path()).unwrap();
//! let today = Date::from_ymd(2026, 11, 21).unwrap();
//! let client = Client::new(praxis_core::store::new_id(), "Ada Lovelace");
//! store.put_client_as_of(&client, today, "front-desk").unwrap();
//! assert_eq!(store.get_client(&client.id).unwrap(), Some(client));
//! assert_eq!(store.audit().unwrap().len(), 1);
//! ```
//!
//! The layout (see the `keys` module source) makes each of the clinic's
//! queries one range scan: a client's session history, a day's or week's
//! appointments, a practitioner's or room's calendar. The schema version is
//! kept in the store; [`Store::open`] migrates older stores and refuses newer
//! ones ([`StoreError::TooNew`]). Only one process may have a store open
//! ([`StoreError::InUse`]).
//!
//! Whole practices move in and out as JSON ([`PracticeExport`], schema in
//! `docs/schema/practice-export.schema.json`, also [`EXPORT_SCHEMA`]).

mod appointments;
mod backend;
mod cds_feedback;
mod chain;
mod checkpoint;
mod copy;
mod error;
mod export;
mod follow_up;
mod group_commit;
mod jsoncheck;
mod keys;
mod migrate;
mod open;
mod pg;
mod private;
mod records;
mod repair;
mod space;
mod tokens;
mod users;
mod validate;

use std::path::{Path, PathBuf};

use praxis_sdk::{ClientSnapshot, Date, DateTime};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, ConflictableTransactionResult, TransactionalTree};

use backend::{Backend, Handles, Scan};
pub use backend::{StoreLocation, is_postgres_url};
pub use pg::{CHANGES_CHANNEL, ChangeListener};

pub use chain::{AuditCheck, AuditProblem, verify_chain};
pub use copy::CopyReport;
pub use error::{Problem, RecordKind, RecordRef, StoreError, ValidationError};
pub use export::{EXPORT_FORMAT_VERSION, EXPORT_SCHEMA, HEALTH_DATA_NOTICE, ImportReport, PracticeExport};
pub use follow_up::{FOLLOW_UP_WINDOW_HOURS, FollowUpTiming};
pub use jsoncheck::DEFAULT_MAX_IMPORT_BYTES;
pub use migrate::SCHEMA_VERSION;
pub use open::{HOLDER_FILE, Holder, RECOVERED_DIR, copy_dir, read_holder};
pub use private::{
    DIR_MODE, FILE_MODE, create_private_dir, open_warnings, readable_by_others, restrict_tree, restrict_umask,
    write_private,
};
pub use records::{AUDIT_GENESIS, state_hash};
pub use records::{
    Appointment, AppointmentStatus, AuditAction, AuditEntry, Authorization, Client, Consent, Contact, ExternalId,
    Insurance, Intake, LimitPeriod, MedicationUse, Override, Practitioner, Room, Session, SessionLimit, Therapy,
    UsedElsewhere, new_id,
};
pub use repair::{RepairReport, StoreCheck, check_store, repair_store};
pub use tokens::{ApiToken, token_hash};
pub use users::{Role, User, valid_login};
pub use validate::{Limits, PAIN_MAX, is_valid_id};

use keys::T;

/// How a store is opened. Every value is a **project default**, not a
/// clinical fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Validation limits.
    pub limits: Limits,
    /// Records per batch (one transaction and one flush) in an import
    /// (project default 1000).
    pub import_batch: usize,
    /// How long [`Store::open`] waits for a store another process holds
    /// before it gives up with [`StoreError::InUse`] (project default 1.5 s;
    /// `[store] lock_wait_seconds` in praxis.toml).
    pub lock_wait: std::time::Duration,
    /// A write is refused with [`StoreError::NoSpace`] when less than this
    /// is free on the store's device (project default 256 KiB).
    pub min_free_bytes: u64,
    /// The longest a flush may take before the write fails with
    /// [`StoreError::Stuck`] (project default 10 s).
    pub flush_timeout: std::time::Duration,
    /// Opening runs the full audit check (every record against its last
    /// audited state) while the store is at most this large on disk
    /// (project default 32 MiB, about 1,000 clients); above it, and on
    /// PostgreSQL, opening checks the chain since the last full check (see
    /// `checkpoint.rs`).
    pub full_audit_check_below: u64,
    /// Opening runs the full audit check when this many entries were written
    /// since the last one (project default 1000).
    pub full_audit_check_every: u64,
}

/// The project default of [`StoreOptions::lock_wait`].
pub const DEFAULT_LOCK_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            limits: Limits::default(),
            import_batch: 1000,
            lock_wait: DEFAULT_LOCK_WAIT,
            min_free_bytes: 256 * 1024,
            flush_timeout: std::time::Duration::from_secs(10),
            full_audit_check_below: 32 * 1024 * 1024,
            full_audit_check_every: 1000,
        }
    }
}

/// sled's segment size for Praxis stores. sled refuses to reopen a store
/// with another segment size, so this is fixed for all stores (and tools
/// that write a store with sled directly must use it): 64 KiB keeps a small
/// practice's store small on disk (sled's default is 512 KiB).
pub const SLED_SEGMENT_SIZE: usize = 64 * 1024;

/// The practice's store. Cheap to share between threads (`&Store` is enough);
/// one process at a time.
pub struct Store {
    /// The storage engine. `None` while the store is released (see
    /// [`Store::released`]) and inside `drop`. Not dropped when sled met a
    /// full disk or a stuck flush: sled's own drop then waits forever for a
    /// buffer it can no longer write (see `space`).
    backend: parking_lot::RwLock<Option<Backend>>,
    /// The sled store's folder; for PostgreSQL, the URL without its password.
    path: PathBuf,
    options: StoreOptions,
    /// Held while an import writes, so two imports never share the journal.
    import_lock: std::sync::Mutex<()>,
    /// What opening found that the user must hear of (a broken audit chain,
    /// a recovered snapshot).
    warnings: Vec<String>,
    /// Set when a flush did not finish in time: no further writes.
    stuck: std::sync::atomic::AtomicBool,
    /// Set when sled itself met a full disk (or a flush got stuck): its
    /// handles are then left undropped, so the process can still exit.
    poisoned: std::sync::atomic::AtomicBool,
    /// Concurrent writers share flushes (`group_commit.rs`).
    flushes: group_commit::FlushGate,
}

impl Drop for Store {
    fn drop(&mut self) {
        if !matches!(*self.backend.get_mut(), Some(Backend::Sled(_))) {
            return;
        }
        open::remove_holder(&self.path);
        if self.poisoned.load(std::sync::atomic::Ordering::SeqCst) {
            std::mem::forget(self.backend.get_mut().take());
            tracing::warn!(
                path = %self.path.display(),
                "sled met a full disk: its handles are not closed (closing would wait forever); \
                 the store is released when this process exits"
            );
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).field("options", &self.options).finish_non_exhaustive()
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Store>();
    assert_send_sync::<StoreError>();
};

type TxResult<A> = ConflictableTransactionResult<A, StoreError>;

fn abort<A>(error: impl Into<StoreError>) -> TxResult<A> {
    Err(ConflictableTransactionError::Abort(error.into()))
}

pub(crate) fn decode<V: DeserializeOwned>(tree: T, key: &[u8], bytes: &[u8]) -> Result<V, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree: tree.name().to_owned(),
        key: keys::show(key),
        error: e.to_string(),
    })
}

pub(crate) fn encode<V: Serialize>(tree: T, key: &[u8], value: &V) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt {
        tree: tree.name().to_owned(),
        key: keys::show(key),
        error: format!("cannot encode: {e}"),
    })
}

fn to_json<V: Serialize>(value: &V) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

/// One transaction over every tree: sled's transactional trees, or one
/// PostgreSQL transaction over the `kv` table. The record code above it is
/// the same for both.
pub(crate) enum Tx<'a> {
    /// sled: the transactional view of every tree (`T::ALL`, then `T::CREDENTIALS`).
    Sled(&'a [TransactionalTree]),
    /// PostgreSQL: one SERIALIZABLE transaction.
    Pg(pg::PgTx<'a>),
}

impl Tx<'_> {
    fn raw(&self, t: T, key: &[u8]) -> TxResult<Option<sled::IVec>> {
        match self {
            Tx::Sled(views) => Ok(views[t as usize].get(key)?),
            Tx::Pg(tx) => tx.get(t, key),
        }
    }

    fn get<V: DeserializeOwned>(&self, t: T, key: &[u8]) -> TxResult<Option<V>> {
        match self.raw(t, key)? {
            None => Ok(None),
            Some(bytes) => match decode(t, key, &bytes) {
                Ok(v) => Ok(Some(v)),
                Err(e) => abort(e),
            },
        }
    }

    fn put<V: Serialize>(&self, t: T, key: &[u8], value: &V) -> TxResult<()> {
        match encode(t, key, value) {
            Ok(bytes) => self.put_raw(t, key, bytes),
            Err(e) => abort(e),
        }
    }

    fn put_raw(&self, t: T, key: &[u8], bytes: impl Into<sled::IVec>) -> TxResult<()> {
        match self {
            Tx::Sled(views) => {
                views[t as usize].insert(key, bytes)?;
                Ok(())
            }
            Tx::Pg(tx) => tx.put(t, key, &bytes.into()),
        }
    }

    fn del(&self, t: T, key: &[u8]) -> TxResult<()> {
        match self {
            Tx::Sled(views) => {
                views[t as usize].remove(key)?;
                Ok(())
            }
            Tx::Pg(tx) => tx.del(t, key),
        }
    }

    /// Appends an audit entry stamped now.
    #[allow(clippy::too_many_arguments)]
    fn audit(
        &self,
        actor: &str,
        action: AuditAction,
        entity: &str,
        key: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> TxResult<()> {
        self.append_audit(new_entry(actor, action, entity, key, before, after)).map(|_| ())
    }

    /// Appends an audit entry under a new sequence number, chained to the
    /// head of the log; returns its key. An entry dated after now is refused.
    fn append_audit(&self, mut entry: AuditEntry) -> TxResult<[u8; 8]> {
        let counter = self.raw(T::Meta, keys::AUDIT_NEXT)?;
        let Some(next) = counter.as_deref().and_then(|b| <[u8; 8]>::try_from(b).ok()).map(u64::from_be_bytes) else {
            return abort(StoreError::Corrupt {
                tree: T::Meta.name().into(),
                key: keys::show(keys::AUDIT_NEXT),
                error: "the audit counter is missing or not 8 bytes".into(),
            });
        };
        if entry.at > jiff::Timestamp::now() {
            let rec = RecordRef::new(RecordKind::AuditEntry, &entry.seq.to_string());
            let problem = Problem::BadValue { expected: "a time that has already happened" };
            return abort(ValidationError::new(rec, "at", entry.at, problem));
        }
        let head = self.raw(T::Meta, keys::AUDIT_HEAD)?;
        entry.prev = match head {
            Some(h) => String::from_utf8_lossy(&h).into_owned(),
            None => records::AUDIT_GENESIS.to_owned(),
        };
        self.put_raw(T::Meta, keys::AUDIT_NEXT, &(next + 1).to_be_bytes())?;
        entry.seq = next;
        let key = keys::seq(entry.seq);
        self.put(T::Audit, &key, &entry)?;
        self.put_raw(T::Meta, keys::AUDIT_HEAD, entry.hash().as_bytes())?;
        Ok(key)
    }

    /// Audits a change of a record from `before` to `after`.
    fn audit_change<V: Serialize>(
        &self,
        actor: &str,
        kind: RecordKind,
        id: &str,
        before: Option<&V>,
        after: &V,
    ) -> TxResult<()> {
        let action = if before.is_some() { AuditAction::Update } else { AuditAction::Create };
        let mut entry = new_entry(actor, action, kind.as_str(), id, before.and_then(to_json), to_json(after));
        entry.state = match encode(T::Audit, id.as_bytes(), after) {
            Ok(bytes) => Some(records::state_hash(&bytes)),
            Err(e) => return abort(e),
        };
        self.append_audit(entry).map(|_| ())
    }
}

/// An audit entry stamped now, not yet numbered or chained.
fn new_entry(
    actor: &str,
    action: AuditAction,
    entity: &str,
    key: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> AuditEntry {
    AuditEntry {
        seq: 0,
        prev: String::new(),
        at: jiff::Timestamp::now(),
        actor: actor.to_owned(),
        action,
        entity: entity.to_owned(),
        key: key.to_owned(),
        before,
        after,
        state: None,
        states: Default::default(),
    }
}

fn unknown(kind: RecordKind, id: &str, field: &str, value: &str, target: RecordKind) -> StoreError {
    ValidationError::new(RecordRef::new(kind, id), field, value, Problem::UnknownReference { kind: target }).into()
}

/// The local calendar date now, for the write methods that do not take "today".
fn local_today() -> Date {
    let now = jiff::Zoned::now().date();
    Date::from_ymd(i32::from(now.year()), now.month() as u32, now.day() as u32).unwrap_or_default()
}

impl Store {
    /// Opens (or creates) the store in `dir` with the default options,
    /// migrating an older schema and finishing or undoing an interrupted import.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, StoreOptions::default())
    }

    /// Opens (or creates) the store at `location`: a sled folder
    /// ([`Store::open_with`]) or a PostgreSQL database ([`Store::open_postgres`]).
    pub fn open_at(location: &StoreLocation, options: StoreOptions) -> Result<Store, StoreError> {
        match location {
            StoreLocation::Folder(dir) => Store::open_with(dir, options),
            StoreLocation::Postgres(url) => Store::open_postgres(url, options),
        }
    }

    /// Opens (or creates) the store in the PostgreSQL database at `url`
    /// (`postgres://user@host/db`, or `postgres:///db?host=/socket/dir`):
    /// its tables are made or checked (one made by a newer Praxis is refused
    /// with [`StoreError::TooNew`]), then the same migrations, import
    /// recovery and audit check as for sled run. See `pg.rs` and STORE.md.
    pub fn open_postgres(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        pg::open(url, options)
    }

    /// Opens (or creates) the store in `dir`: the folder is made 0700 and its
    /// files 0600 (the process umask gets 077 added), a snapshot sled left
    /// unfinished is set aside (see `open.rs`), the audit chain is verified
    /// (a broken chain is a warning, see [`Store::warnings`]).
    pub fn open_with(dir: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        let io = |source| StoreError::io(dir, source);
        private::restrict_umask();
        let warnings = Vec::new();
        private::create_private_dir(dir).map_err(io)?;
        private::restrict_tree(dir).map_err(io)?;
        let (db, recovered) = open_sled(dir, options.lock_wait)?;
        open::write_holder(dir);
        let (handles, found) = sled_handles(db, dir)?;
        let mut store = Store {
            backend: parking_lot::RwLock::new(Some(Backend::Sled(handles))),
            path: dir.to_owned(),
            options,
            import_lock: std::sync::Mutex::new(()),
            warnings,
            stuck: std::sync::atomic::AtomicBool::new(false),
            poisoned: std::sync::atomic::AtomicBool::new(false),
            flushes: group_commit::FlushGate::default(),
        };
        store.finish_open(found)?;
        if !recovered.is_empty() {
            let after = serde_json::json!({ "set_aside": recovered });
            store.write(|tx| {
                tx.audit(migrate::SYSTEM_ACTOR, AuditAction::Recover, "store", "snapshot", None, Some(after.clone()))
            })?;
            store.warnings.push(format!(
                "the store was recovered on open: {} (sled had left an unfinished snapshot after a crash or a full \
                 disk; nothing acknowledged was lost)",
                recovered.join("; ")
            ));
        }
        store.check_audit_on_open()?;
        private::restrict_tree(dir).map_err(io)?;
        tracing::debug!(path = %dir.display(), "store opened");
        Ok(store)
    }

    /// What opening found that the user must be told (each a sentence): a
    /// broken audit chain, a recovered snapshot.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Migrations, then an interrupted import undone: the part of opening
    /// that is the same on every backend.
    fn finish_open(&self, found: Option<u32>) -> Result<(), StoreError> {
        migrate::run(self, found)?;
        self.recover_import()
    }

    /// Verifies the audit log; a broken chain becomes a warning.
    fn check_audit_on_open(&mut self) -> Result<(), StoreError> {
        let check = self.verify_audit_on_open()?;
        if let Some(first) = check.problems.first() {
            let w = format!(
                "the audit log of {} does not verify: {first} ({} problems in all; run `praxis audit verify`)",
                self.path.display(),
                check.problems.len()
            );
            tracing::warn!("{w}");
            self.warnings.push(w);
        }
        Ok(())
    }

    /// The schema version of the store (after the migrations run on open,
    /// always [`SCHEMA_VERSION`]).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        migrate::check_version(self.get_raw(T::Meta, keys::SCHEMA_VERSION)?)?.ok_or_else(|| StoreError::Corrupt {
            tree: "meta".into(),
            key: "schema_version".into(),
            error: "missing".into(),
        })
    }

    /// The store's directory (for a PostgreSQL store, its URL without the
    /// password).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the store is, for people: the folder, or the URL without its password.
    pub fn location(&self) -> String {
        self.path.display().to_string()
    }

    /// A listener for the clients that writers of this database change
    /// (every write on PostgreSQL notifies them on [`CHANGES_CHANNEL`] as it
    /// commits); `None` for sled, which one process holds alone.
    pub fn listen_changes(&self) -> Result<Option<ChangeListener>, StoreError> {
        match &*self.backend()? {
            Backend::Sled(_) => Ok(None),
            Backend::Postgres(p) => p.listen().map(Some),
        }
    }

    /// Whether the store is on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(*self.backend.read_recursive(), Some(Backend::Postgres(_)))
    }

    /// Runs `f` with the sled store closed, so that another Praxis process
    /// can use it meanwhile, then opens it again, waiting up to
    /// [`StoreOptions::lock_wait`] for a process that took it. The command
    /// line runs plugins this way: a slow or hung plugin never locks the
    /// rest of the practice out.
    ///
    /// Everything written before is made durable first. While released, the
    /// store's other methods wait (in this process) for it to be back. If it
    /// cannot be opened again (another process kept it), the error names
    /// that process, and the store answers [`StoreError::InUse`] from then
    /// on. On PostgreSQL, which many processes share, and on a sled store
    /// that met a full disk (whose handles cannot be closed, see `space`),
    /// `f` just runs.
    pub fn released<R>(&self, f: impl FnOnce() -> R) -> Result<R, StoreError> {
        if !self.is_sled() || self.poisoned.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(f());
        }
        self.flush()?;
        let mut slot = self.backend.write();
        drop(slot.take());
        open::remove_holder(&self.path);
        tracing::debug!(path = %self.path.display(), "store released");
        let value = f();
        let (db, recovered) = open_sled(&self.path, self.options.lock_wait)?;
        open::write_holder(&self.path);
        let (handles, found) = sled_handles(db, &self.path)?;
        if found != Some(SCHEMA_VERSION) {
            // Another version of Praxis changed the store meanwhile.
            return Err(StoreError::TooNew { found: found.unwrap_or(0), supported: SCHEMA_VERSION });
        }
        *slot = Some(Backend::Sled(handles));
        drop(slot);
        tracing::debug!(path = %self.path.display(), "store opened again");
        if !recovered.is_empty() {
            tracing::warn!(path = %self.path.display(), set_aside = %recovered.join("; "), "the store was recovered on open");
            let after = serde_json::json!({ "set_aside": recovered });
            self.write(|tx| {
                tx.audit(migrate::SYSTEM_ACTOR, AuditAction::Recover, "store", "snapshot", None, Some(after.clone()))
            })?;
        }
        Ok(value)
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    fn read<V: DeserializeOwned>(&self, t: T, key: &[u8]) -> Result<Option<V>, StoreError> {
        match self.get_raw(t, key)? {
            None => Ok(None),
            Some(bytes) => decode(t, key, &bytes).map(Some),
        }
    }

    fn decode_scan<V: DeserializeOwned>(&self, t: T, scan: Scan) -> Result<Vec<V>, StoreError> {
        self.scan(t, scan)?
            .map(|kv| {
                let (k, v) = kv?;
                decode(t, &k, &v)
            })
            .collect()
    }

    fn all<V: DeserializeOwned>(&self, t: T) -> Result<Vec<V>, StoreError> {
        self.decode_scan(t, Scan::All)
    }

    fn prefixed<V: DeserializeOwned>(&self, t: T, owner: &str) -> Result<Vec<V>, StoreError> {
        self.decode_scan(t, Scan::Prefix(keys::scope(owner)))
    }

    fn contains(&self, t: T, key: &[u8]) -> Result<bool, StoreError> {
        Ok(self.get_raw(t, key)?.is_some())
    }

    // ----- clients -----

    /// Inserts or updates a client, checked against the local calendar date.
    /// Tests and anything that needs to be deterministic use
    /// [`put_client_as_of`](Self::put_client_as_of).
    pub fn put_client(&self, client: &Client, actor: &str) -> Result<(), StoreError> {
        self.put_client_as_of(client, local_today(), actor)
    }

    /// Inserts or updates a client; dates after `today` are refused.
    pub fn put_client_as_of(&self, client: &Client, today: Date, actor: &str) -> Result<(), StoreError> {
        validate::actor(actor)?;
        validate::client(client, today, &self.options.limits, None)?;
        self.write(|tx| {
            let key = client.id.as_bytes();
            let before: Option<Client> = tx.get(T::Clients, key)?;
            if before.as_ref() == Some(client) {
                return Ok(());
            }
            tx.put(T::Clients, key, client)?;
            tx.audit_change(actor, RecordKind::Client, &client.id, before.as_ref(), client)
        })?;
        tracing::info!(client = %client.id, actor, "client saved");
        Ok(())
    }

    /// One client.
    pub fn get_client(&self, id: &str) -> Result<Option<Client>, StoreError> {
        self.read(T::Clients, id.as_bytes())
    }

    /// Every client, by id (oldest first for UUID v7 ids).
    pub fn clients(&self) -> Result<Vec<Client>, StoreError> {
        self.all(T::Clients)
    }

    // ----- intake -----

    /// Records a client's intake (replacing an earlier one), checked against
    /// the local calendar date.
    pub fn put_intake(&self, intake: &Intake, actor: &str) -> Result<(), StoreError> {
        self.put_intake_as_of(intake, local_today(), actor)
    }

    /// Records a client's intake (replacing an earlier one); a `recorded`
    /// date after `today` is refused.
    pub fn put_intake_as_of(&self, intake: &Intake, today: Date, actor: &str) -> Result<(), StoreError> {
        validate::actor(actor)?;
        validate::intake(intake, today, &self.options.limits, None)?;
        self.write(|tx| {
            if tx.raw(T::Clients, intake.client.as_bytes())?.is_none() {
                return abort(unknown(RecordKind::Intake, &intake.id, "client", &intake.client, RecordKind::Client));
            }
            let key = intake.client.as_bytes();
            let before: Option<Intake> = tx.get(T::Intakes, key)?;
            if before.as_ref() == Some(intake) {
                return Ok(());
            }
            tx.put(T::Intakes, key, intake)?;
            tx.audit_change(actor, RecordKind::Intake, &intake.id, before.as_ref(), intake)
        })
    }

    /// A client's intake, if recorded.
    pub fn intake(&self, client_id: &str) -> Result<Option<Intake>, StoreError> {
        self.read(T::Intakes, client_id.as_bytes())
    }

    // ----- practitioners and rooms -----

    /// Inserts or updates a practitioner.
    pub fn put_practitioner(&self, practitioner: &Practitioner, actor: &str) -> Result<(), StoreError> {
        validate::actor(actor)?;
        validate::practitioner(practitioner, &self.options.limits, None)?;
        self.write(|tx| {
            let key = practitioner.id.as_bytes();
            let before: Option<Practitioner> = tx.get(T::Practitioners, key)?;
            if before.as_ref() == Some(practitioner) {
                return Ok(());
            }
            tx.put(T::Practitioners, key, practitioner)?;
            tx.audit_change(actor, RecordKind::Practitioner, &practitioner.id, before.as_ref(), practitioner)
        })
    }

    /// Every practitioner, by id.
    pub fn practitioners(&self) -> Result<Vec<Practitioner>, StoreError> {
        self.all(T::Practitioners)
    }

    /// One practitioner.
    pub fn get_practitioner(&self, id: &str) -> Result<Option<Practitioner>, StoreError> {
        self.read(T::Practitioners, id.as_bytes())
    }

    /// Inserts or updates a room.
    pub fn put_room(&self, room: &Room, actor: &str) -> Result<(), StoreError> {
        validate::actor(actor)?;
        validate::room(room, &self.options.limits, None)?;
        self.write(|tx| {
            let key = room.id.as_bytes();
            let before: Option<Room> = tx.get(T::Rooms, key)?;
            if before.as_ref() == Some(room) {
                return Ok(());
            }
            tx.put(T::Rooms, key, room)?;
            tx.audit_change(actor, RecordKind::Room, &room.id, before.as_ref(), room)
        })
    }

    /// Every room, by id.
    pub fn rooms(&self) -> Result<Vec<Room>, StoreError> {
        self.all(T::Rooms)
    }

    /// One room.
    pub fn get_room(&self, id: &str) -> Result<Option<Room>, StoreError> {
        self.read(T::Rooms, id.as_bytes())
    }

    // ----- sessions -----

    /// Records a session (or corrects one already recorded, same id and
    /// client). A new session for a client with custom insurance terms (no
    /// plan name) and a session limit increments their hand-kept
    /// `sessions_used` in the same transaction, as it always has: it is the
    /// only count such a record has. A client on a plan keeps no counter:
    /// guidance counts their session records in the plan's period.
    pub fn record_session(&self, session: &Session, today: Date, actor: &str) -> Result<(), StoreError> {
        validate::actor(actor)?;
        validate::session(session, today, &self.options.limits, None)?;
        self.write(|tx| {
            let rec = || RecordRef::new(RecordKind::Session, &session.id);
            let Some(mut client) = tx.get::<Client>(T::Clients, session.client.as_bytes())? else {
                return abort(unknown(RecordKind::Session, &session.id, "client", &session.client, RecordKind::Client));
            };
            check_practitioner(tx, rec(), &session.practitioner, &session.discipline)?;
            let key = keys::scoped(&session.client, session.start, &session.id);
            let before: Option<Session> = match tx.raw(T::SessionIds, session.id.as_bytes())? {
                None => None,
                Some(old_key) => {
                    let Some(old) = tx.get::<Session>(T::Sessions, &old_key)? else {
                        return abort(StoreError::Corrupt {
                            tree: T::SessionIds.name().into(),
                            key: session.id.clone(),
                            error: format!("points at missing sessions key `{}`", keys::show(&old_key)),
                        });
                    };
                    if old.client != session.client {
                        let problem = Problem::Immutable { recorded: old.client.clone() };
                        return abort(ValidationError::new(rec(), "client", &session.client, problem));
                    }
                    tx.del(T::Sessions, &old_key)?;
                    tx.del(T::SessionsByStart, &keys::timed(old.start, &old.id))?;
                    Some(old)
                }
            };
            tx.put_raw(T::SessionsByStart, &keys::timed(session.start, &session.id), key.as_slice())?;
            if before.as_ref() == Some(session) {
                tx.put(T::Sessions, &key, session)?;
                return Ok(());
            }
            tx.put(T::Sessions, &key, session)?;
            tx.put_raw(T::SessionIds, session.id.as_bytes(), key.as_slice())?;
            tx.audit_change(actor, RecordKind::Session, &session.id, before.as_ref(), session)?;
            let limited = client.insurance.as_ref().is_some_and(|i| i.plan.is_none() && i.session_limit.is_some());
            if before.is_none() && limited {
                let old = client.clone();
                if let Some(insurance) = client.insurance.as_mut() {
                    insurance.sessions_used = insurance.sessions_used.saturating_add(1);
                }
                tx.put(T::Clients, client.id.as_bytes(), &client)?;
                tx.audit_change(actor, RecordKind::Client, &client.id, Some(&old), &client)?;
            }
            Ok(())
        })?;
        tracing::info!(session = %session.id, client = %session.client, actor, "session recorded");
        Ok(())
    }

    /// Adds the 24-48 hour follow-up pain score (0-10) to a recorded session.
    pub fn set_follow_up(&self, session_id: &str, pain: u8, actor: &str) -> Result<(), StoreError> {
        validate::actor(actor)?;
        validate::follow_up(session_id, pain, &self.options.limits)?;
        self.write(|tx| {
            let Some(key) = tx.raw(T::SessionIds, session_id.as_bytes())? else {
                return abort(StoreError::NotFound { kind: RecordKind::Session, id: session_id.to_owned() });
            };
            let Some(before) = tx.get::<Session>(T::Sessions, &key)? else {
                return abort(StoreError::NotFound { kind: RecordKind::Session, id: session_id.to_owned() });
            };
            let mut after = before.clone();
            after.follow_up_pain = Some(pain);
            tx.put(T::Sessions, &key, &after)?;
            tx.audit_change(actor, RecordKind::Session, session_id, Some(&before), &after)
        })
    }

    /// One session.
    pub fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let Some(key) = self.get_raw(T::SessionIds, id.as_bytes())? else {
            return Ok(None);
        };
        self.read(T::Sessions, &key)
    }

    /// The practice's sessions that started in `[from, to)`, by start time:
    /// one range scan of `sessions_by_start`, then one read per session.
    pub fn sessions_between(&self, from: DateTime, to: DateTime) -> Result<Vec<Session>, StoreError> {
        if to <= from {
            return Ok(Vec::new());
        }
        let range = Scan::Range(keys::minute(from).to_vec(), keys::minute(to).to_vec());
        let mut out = Vec::new();
        for kv in self.scan(T::SessionsByStart, range)? {
            let (k, key) = kv?;
            let Some(session) = self.read::<Session>(T::Sessions, &key)? else {
                return Err(StoreError::Corrupt {
                    tree: T::SessionsByStart.name().into(),
                    key: keys::show(&k),
                    error: format!("points at missing sessions key `{}`", keys::show(&key)),
                });
            };
            out.push(session);
        }
        Ok(out)
    }

    /// A client's sessions, oldest first: one range scan.
    pub fn sessions_for(&self, client_id: &str) -> Result<Vec<Session>, StoreError> {
        self.prefixed(T::Sessions, client_id)
    }

    // ----- appointments -----

    /// Books appointments (or updates ones already booked, by id), all in one
    /// transaction with their index entries: all are written or none.
    pub fn book(&self, appointments: &[Appointment], actor: &str) -> Result<(), StoreError> {
        validate::actor(actor)?;
        let mut seen = std::collections::HashSet::new();
        for a in appointments {
            validate::appointment(a, &self.options.limits, None)?;
            if !seen.insert(a.id.as_str()) {
                let rec = RecordRef::new(RecordKind::Appointment, &a.id);
                return Err(ValidationError::new(rec, "id", &a.id, Problem::AlreadyExists).into());
            }
        }
        self.write(|tx| {
            for a in appointments {
                let rec = || RecordRef::new(RecordKind::Appointment, &a.id);
                if tx.raw(T::Clients, a.client.as_bytes())?.is_none() {
                    return abort(unknown(RecordKind::Appointment, &a.id, "client", &a.client, RecordKind::Client));
                }
                if tx.raw(T::Rooms, a.room.as_bytes())?.is_none() {
                    return abort(unknown(RecordKind::Appointment, &a.id, "room", &a.room, RecordKind::Room));
                }
                check_practitioner(tx, rec(), &a.practitioner, &a.discipline)?;
                let before = remove_appointment(tx, &a.id)?;
                if let Some(old) = &before
                    && old.client != a.client
                {
                    let problem = Problem::Immutable { recorded: old.client.clone() };
                    return abort(ValidationError::new(rec(), "client", &a.client, problem));
                }
                put_appointment(tx, a)?;
                if before.as_ref() != Some(a) {
                    tx.audit_change(actor, RecordKind::Appointment, &a.id, before.as_ref(), a)?;
                }
            }
            Ok(())
        })?;
        tracing::info!(count = appointments.len(), actor, "appointments booked");
        Ok(())
    }

    /// Changes an appointment's status.
    pub fn set_appointment_status(&self, id: &str, status: AppointmentStatus, actor: &str) -> Result<(), StoreError> {
        validate::actor(actor)?;
        self.write(|tx| {
            let Some(before) = remove_appointment(tx, id)? else {
                return abort(StoreError::NotFound { kind: RecordKind::Appointment, id: id.to_owned() });
            };
            let after = Appointment { status, ..before.clone() };
            put_appointment(tx, &after)?;
            if before != after {
                tx.audit_change(actor, RecordKind::Appointment, id, Some(&before), &after)?;
            }
            Ok(())
        })
    }

    /// One appointment.
    pub fn get_appointment(&self, id: &str) -> Result<Option<Appointment>, StoreError> {
        let Some(key) = self.get_raw(T::AppointmentIds, id.as_bytes())? else {
            return Ok(None);
        };
        self.read(T::Appointments, &key)
    }

    /// Appointments starting in `[from, to)`, by start time: one range scan.
    pub fn appointments_between(&self, from: DateTime, to: DateTime) -> Result<Vec<Appointment>, StoreError> {
        if to <= from {
            return Ok(Vec::new());
        }
        self.decode_scan(T::Appointments, Scan::Range(keys::minute(from).to_vec(), keys::minute(to).to_vec()))
    }

    /// A practitioner's appointments starting in `[from, to)`, by start time: one range scan.
    pub fn appointments_for_practitioner(
        &self,
        practitioner_id: &str,
        from: DateTime,
        to: DateTime,
    ) -> Result<Vec<Appointment>, StoreError> {
        self.owned_between(T::ByPractitioner, practitioner_id, from, to)
    }

    /// A room's appointments starting in `[from, to)`, by start time: one range scan.
    pub fn appointments_for_room(
        &self,
        room_id: &str,
        from: DateTime,
        to: DateTime,
    ) -> Result<Vec<Appointment>, StoreError> {
        self.owned_between(T::ByRoom, room_id, from, to)
    }

    /// A client's appointments, by start time: one range scan.
    pub fn appointments_for_client(&self, client_id: &str) -> Result<Vec<Appointment>, StoreError> {
        self.prefixed(T::ByClient, client_id)
    }

    fn owned_between(&self, t: T, owner: &str, from: DateTime, to: DateTime) -> Result<Vec<Appointment>, StoreError> {
        if to <= from {
            return Ok(Vec::new());
        }
        self.decode_scan(t, Scan::Range(keys::scope_at(owner, from), keys::scope_at(owner, to)))
    }

    // ----- overrides and audit -----

    /// Records an override of a critical card with its reason. Overrides are
    /// never changed: recording an id twice is refused. The override also
    /// goes into the audit log.
    pub fn record_override(&self, ov: &Override, actor: &str) -> Result<(), StoreError> {
        validate::actor(actor)?;
        validate::override_(ov, &self.options.limits, None)?;
        self.write(|tx| {
            if tx.raw(T::Clients, ov.client.as_bytes())?.is_none() {
                return abort(unknown(RecordKind::Override, &ov.id, "client", &ov.client, RecordKind::Client));
            }
            if let Some(appointment) = &ov.appointment
                && tx.raw(T::AppointmentIds, appointment.as_bytes())?.is_none()
            {
                return abort(unknown(
                    RecordKind::Override,
                    &ov.id,
                    "appointment",
                    appointment,
                    RecordKind::Appointment,
                ));
            }
            if tx.raw(T::OverrideIds, ov.id.as_bytes())?.is_some() {
                let rec = RecordRef::new(RecordKind::Override, &ov.id);
                return abort(ValidationError::new(rec, "id", &ov.id, Problem::AlreadyExists));
            }
            let key = keys::scoped(&ov.client, ov.at, &ov.id);
            tx.put(T::Overrides, &key, ov)?;
            tx.put_raw(T::OverrideIds, ov.id.as_bytes(), key.as_slice())?;
            let mut entry =
                new_entry(actor, AuditAction::Override, RecordKind::Override.as_str(), &ov.id, None, to_json(ov));
            entry.state = Some(records::state_hash(&serde_json::to_vec(ov).unwrap_or_default()));
            tx.append_audit(entry).map(|_| ())
        })?;
        tracing::warn!(client = %ov.client, rule = %ov.rule, actor, "critical card overridden");
        Ok(())
    }

    /// A client's overrides, oldest first: one range scan.
    pub fn overrides_for(&self, client_id: &str) -> Result<Vec<Override>, StoreError> {
        self.prefixed(T::Overrides, client_id)
    }

    /// The whole audit log, oldest first.
    pub fn audit(&self) -> Result<Vec<AuditEntry>, StoreError> {
        self.all(T::Audit)
    }

    /// The newest audit entries that `keep` accepts, newest first, at most
    /// `limit` of them: a scan backwards from the head of the log that
    /// decodes one entry at a time and stops once it has `limit`.
    pub fn audit_newest(
        &self,
        limit: usize,
        mut keep: impl FnMut(&AuditEntry) -> bool,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        for kv in self.scan_back(T::Audit)? {
            let (k, v) = kv?;
            let entry: AuditEntry = decode(T::Audit, &k, &v)?;
            if keep(&entry) {
                out.push(entry);
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    // ----- snapshots -----

    /// What the plugins and the clinic world see of one client: conditions,
    /// red flags, sensitivities, tender points, preferred pressure, intake,
    /// every session oldest first and the insurance plan.
    pub fn snapshot(&self, client_id: &str) -> Result<ClientSnapshot, StoreError> {
        let Some(client) = self.get_client(client_id)? else {
            return Err(StoreError::NotFound { kind: RecordKind::Client, id: client_id.to_owned() });
        };
        self.snapshot_of(client)
    }

    /// Snapshots of every client, by id.
    pub fn snapshots(&self) -> Result<Vec<ClientSnapshot>, StoreError> {
        self.clients()?.into_iter().map(|c| self.snapshot_of(c)).collect()
    }

    /// The snapshot of a client record already read (see [`Store::snapshot`]).
    pub fn snapshot_of(&self, client: Client) -> Result<ClientSnapshot, StoreError> {
        let intake = self.intake(&client.id)?.map(|i| i.summary());
        let sessions = self.sessions_for(&client.id)?.iter().map(Session::record).collect();
        Ok(ClientSnapshot {
            insurance: client.insurance.as_ref().map(Insurance::summary),
            id: client.id,
            conditions: client.conditions,
            red_flags: client.red_flags,
            sensitivities: client.sensitivities,
            tender_points: client.tender_points,
            preferred_pressure: client.preferred_pressure,
            intake,
            sessions,
        })
    }
}

/// Checks that the practitioner is in the store and qualified in the discipline.
fn check_practitioner(tx: &Tx<'_>, rec: RecordRef, id: &str, discipline: &praxis_sdk::Discipline) -> TxResult<()> {
    let Some(p) = tx.get::<Practitioner>(T::Practitioners, id.as_bytes())? else {
        let problem = Problem::UnknownReference { kind: RecordKind::Practitioner };
        return abort(ValidationError::new(rec, "practitioner", id, problem));
    };
    if !p.disciplines.contains(discipline) {
        let problem = Problem::NotQualified { practitioner: id.to_owned() };
        return abort(ValidationError::new(rec, "discipline", discipline, problem));
    }
    Ok(())
}

/// The writes that put an appointment in its tree and its three indexes.
pub(crate) fn appointment_keys(a: &Appointment) -> [(T, Vec<u8>); 4] {
    [
        (T::Appointments, keys::timed(a.start, &a.id)),
        (T::ByPractitioner, keys::scoped(&a.practitioner, a.start, &a.id)),
        (T::ByRoom, keys::scoped(&a.room, a.start, &a.id)),
        (T::ByClient, keys::scoped(&a.client, a.start, &a.id)),
    ]
}

fn put_appointment(tx: &Tx<'_>, a: &Appointment) -> TxResult<()> {
    let [primary, ..] = appointment_keys(a);
    let bytes = match encode(T::Appointments, &primary.1, a) {
        Ok(bytes) => sled::IVec::from(bytes),
        Err(e) => return abort(e),
    };
    for (t, key) in appointment_keys(a) {
        tx.put_raw(t, &key, bytes.clone())?;
    }
    tx.put_raw(T::AppointmentIds, a.id.as_bytes(), primary.1.as_slice())
}

/// Removes an appointment from its tree and indexes; returns it if it was there.
fn remove_appointment(tx: &Tx<'_>, id: &str) -> TxResult<Option<Appointment>> {
    let Some(key) = tx.raw(T::AppointmentIds, id.as_bytes())? else {
        return Ok(None);
    };
    let Some(old) = tx.get::<Appointment>(T::Appointments, &key)? else {
        return abort(StoreError::Corrupt {
            tree: T::AppointmentIds.name().into(),
            key: id.to_owned(),
            error: format!("points at missing appointments key `{}`", keys::show(&key)),
        });
    };
    for (t, key) in appointment_keys(&old) {
        tx.del(t, &key)?;
    }
    tx.del(T::AppointmentIds, id.as_bytes())?;
    Ok(Some(old))
}

/// Opens sled in `dir`. sled releases its file lock when its background
/// threads let go of the database, a moment after the last handle is
/// dropped: a store closed just now (in this process or one that is exiting)
/// is waited for before it counts as in use; so is a store another process
/// holds, up to `lock_wait`. A snapshot sled left unfinished is set aside
/// (once; see `open.rs`); what was set aside is returned.
fn open_sled(dir: &Path, lock_wait: std::time::Duration) -> Result<(sled::Db, Vec<String>), StoreError> {
    let deadline = std::time::Instant::now() + lock_wait;
    let mut recovered = Vec::new();
    loop {
        match sled::Config::new().path(dir).segment_size(SLED_SEGMENT_SIZE).open() {
            Ok(db) => return Ok((db, recovered)),
            Err(e) => match StoreError::from_sled(e, dir) {
                StoreError::InUse { .. } if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                StoreError::InUse { path, .. } => {
                    return Err(StoreError::InUse { path, holder: open::read_holder(dir) });
                }
                other => {
                    // The lock is ours (sled takes it first): an unfinished
                    // snapshot is the one failure known to be recoverable.
                    let moved = open::recover_snapshots(dir).map_err(|source| StoreError::io(dir, source))?;
                    if moved.is_empty() || !recovered.is_empty() {
                        return Err(other);
                    }
                    recovered = moved;
                }
            },
        }
    }
}

/// The trees of a sled store just opened, and the schema version it has.
fn sled_handles(db: sled::Db, dir: &Path) -> Result<(Handles, Option<u32>), StoreError> {
    let meta = db.open_tree(T::Meta.name()).map_err(|e| StoreError::from_sled(e, dir))?;
    let found = migrate::check_version(meta.get(keys::SCHEMA_VERSION).map_err(|e| StoreError::from_sled(e, dir))?)?;
    let trees = T::OPEN
        .into_iter()
        .map(|t| db.open_tree(t.name()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StoreError::from_sled(e, dir))?;
    Ok((Handles { db, trees }, found))
}
