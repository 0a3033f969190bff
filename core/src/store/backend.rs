//! The storage engine behind the store: the seam between the record code
//! (records, validation, audit chain, migrations, import), which is written
//! once, and the two engines that keep the trees:
//!
//! - **sled** (embedded, the default): one sled tree per [`T`], a write is
//!   one sled transaction over all trees and then an fsync; the disk-full
//!   guard, the stuck-flush timeout, poisoning and the holder file are sled's
//!   alone.
//! - **PostgreSQL** (`pg`): one `kv(tree, key, value)` table mirroring the
//!   trees, a write is one SERIALIZABLE transaction committed with
//!   `synchronous_commit = on`.
//!
//! Everything above this module reads through [`Store::get_raw`] and
//! [`Store::scan`] and writes through [`Store::write`] (and, for the few
//! writes that are not transactions of their own, the `*_raw` methods).

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use parking_lot::{MappedRwLockReadGuard, RwLockReadGuard};
use sled::transaction::{TransactionError, TransactionalTree};
use sled::{IVec, Transactional};

use super::keys::T;
use super::{Store, StoreError, TxResult, pg, space};

/// Where a store is: a folder for sled, or a PostgreSQL URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded sled store in this folder.
    Folder(PathBuf),
    /// A PostgreSQL database (`postgres://...` or `postgresql://...`).
    Postgres(String),
}

impl StoreLocation {
    /// The location named by `text`: a `postgres://` (or `postgresql://`)
    /// URL, or a folder.
    pub fn parse(text: &str) -> StoreLocation {
        if is_postgres_url(text) {
            StoreLocation::Postgres(text.to_owned())
        } else {
            StoreLocation::Folder(text.into())
        }
    }
}

impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Folder(dir) => write!(f, "{}", dir.display()),
            StoreLocation::Postgres(url) => f.write_str(&pg::redact(url)),
        }
    }
}

/// Whether `text` is a PostgreSQL URL.
pub fn is_postgres_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// The engine of an open store.
pub(crate) enum Backend {
    /// The embedded sled database.
    Sled(Handles),
    /// A PostgreSQL database.
    Postgres(pg::Pg),
}

/// The sled database and its trees (`T::ALL`, then `T::CREDENTIALS`).
pub(crate) struct Handles {
    pub(crate) db: sled::Db,
    pub(crate) trees: Vec<sled::Tree>,
}

/// Which keys of a tree a scan reads, in key order.
pub(crate) enum Scan {
    /// Every key.
    All,
    /// Keys starting with these bytes.
    Prefix(Vec<u8>),
    /// Keys in `[from, to)`.
    Range(Vec<u8>, Vec<u8>),
}

/// Rows a backwards scan reads from PostgreSQL at a time.
const BACK_PAGE: i64 = 256;

/// Key-value pairs of a scan, in key order.
pub(crate) type KvIter<'a> = Box<dyn Iterator<Item = Result<(IVec, IVec), StoreError>> + 'a>;

impl Store {
    /// The engine. Waits while the store is released (see
    /// [`Store::released`]); a recursive read, so a method that holds it may
    /// call another that takes it.
    /// It is missing only when opening the store again after a release
    /// failed (another process kept it): the store is then in use.
    pub(crate) fn backend(&self) -> Result<MappedRwLockReadGuard<'_, Backend>, StoreError> {
        RwLockReadGuard::try_map(self.backend.read_recursive(), Option::as_ref)
            .map_err(|_| StoreError::InUse { path: self.path.clone(), holder: super::open::read_holder(&self.path) })
    }

    /// Whether the engine is sled.
    pub(crate) fn is_sled(&self) -> bool {
        matches!(*self.backend.read_recursive(), Some(Backend::Sled(_)))
    }

    /// sled's size on disk; `None` on PostgreSQL.
    pub(crate) fn sled_size_on_disk(&self) -> Option<Result<u64, StoreError>> {
        match &*self.backend.read_recursive() {
            Some(Backend::Sled(h)) => Some(h.db.size_on_disk().map_err(|e| self.sled_err(e))),
            _ => None,
        }
    }

    fn sled_tree(&self, h: &'_ Handles, t: T) -> sled::Tree {
        let _ = self;
        h.trees[t as usize].clone()
    }

    /// A sled error; a full disk leaves sled with a buffer it cannot write
    /// (reads fail then too), so the handle is poisoned (see `poisoned`).
    pub(crate) fn sled_err(&self, e: sled::Error) -> StoreError {
        let e = StoreError::from_sled(e, &self.path);
        if matches!(e, StoreError::NoSpace { .. }) {
            self.poisoned.store(true, Ordering::SeqCst);
        }
        e
    }

    /// One value.
    pub(crate) fn get_raw(&self, t: T, key: &[u8]) -> Result<Option<IVec>, StoreError> {
        match &*self.backend()? {
            Backend::Sled(h) => h.trees[t as usize].get(key).map_err(|e| self.sled_err(e)),
            Backend::Postgres(p) => p.get(t, key),
        }
    }

    /// The pairs of a tree that `scan` selects, in key order.
    pub(crate) fn scan(&self, t: T, scan: Scan) -> Result<KvIter<'_>, StoreError> {
        match &*self.backend()? {
            Backend::Sled(h) => {
                let tree = self.sled_tree(h, t);
                let iter = match scan {
                    Scan::All => tree.iter(),
                    Scan::Prefix(prefix) => tree.scan_prefix(prefix),
                    Scan::Range(from, to) => tree.range(from..to),
                };
                Ok(Box::new(iter.map(move |kv| kv.map_err(|e| self.sled_err(e)))))
            }
            Backend::Postgres(p) => Ok(Box::new(p.scan(t, &scan)?.into_iter().map(Ok))),
        }
    }

    /// Every pair of a tree in descending key order, read lazily: sled
    /// iterates backwards, PostgreSQL reads pages of [`BACK_PAGE`] rows. A
    /// caller that stops early reads little of a large tree.
    pub(crate) fn scan_back(&self, t: T) -> Result<KvIter<'_>, StoreError> {
        let backend = self.backend()?;
        match &*backend {
            Backend::Sled(h) => {
                let tree = self.sled_tree(h, t);
                Ok(Box::new(tree.iter().rev().map(move |kv| kv.map_err(|e| self.sled_err(e)))))
            }
            Backend::Postgres(_) => {
                let mut page: std::vec::IntoIter<(IVec, IVec)> = Vec::new().into_iter();
                let mut last: Option<IVec> = None;
                let mut done = false;
                Ok(Box::new(std::iter::from_fn(move || {
                    loop {
                        if let Some((k, v)) = page.next() {
                            last = Some(k.clone());
                            return Some(Ok((k, v)));
                        }
                        if done {
                            return None;
                        }
                        // The iterator keeps the read guard: PostgreSQL is never released.
                        let Backend::Postgres(p) = &*backend else { return None };
                        match p.scan_back(t, last.as_deref(), BACK_PAGE) {
                            Ok(rows) => {
                                done = rows.len() < BACK_PAGE as usize;
                                page = rows.into_iter();
                            }
                            Err(e) => {
                                done = true;
                                return Some(Err(e));
                            }
                        }
                    }
                })))
            }
        }
    }

    /// The last key of a tree.
    pub(crate) fn last_key(&self, t: T) -> Result<Option<IVec>, StoreError> {
        match &*self.backend()? {
            Backend::Sled(h) => Ok(h.trees[t as usize].last().map_err(|e| self.sled_err(e))?.map(|(k, _)| k)),
            Backend::Postgres(p) => p.last_key(t),
        }
    }

    /// Whether a tree holds nothing.
    pub(crate) fn tree_is_empty(&self, t: T) -> Result<bool, StoreError> {
        match &*self.backend()? {
            Backend::Sled(h) => Ok(h.trees[t as usize].is_empty()),
            Backend::Postgres(p) => Ok(p.scan_limit(t, 1)?.is_empty()),
        }
    }

    /// Writes one value outside a transaction (durable at the next flush;
    /// on PostgreSQL committed at once).
    pub(crate) fn insert_raw(&self, t: T, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        match &*self.backend()? {
            Backend::Sled(h) => h.trees[t as usize].insert(key, value).map(|_| ()).map_err(|e| self.sled_err(e)),
            Backend::Postgres(p) => p.write(true, |tx| tx.put_raw(t, key, value)),
        }
    }

    /// Removes one value outside a transaction; returns what was there.
    pub(crate) fn remove_raw(&self, t: T, key: &[u8]) -> Result<Option<IVec>, StoreError> {
        match &*self.backend()? {
            Backend::Sled(h) => h.trees[t as usize].remove(key).map_err(|e| self.sled_err(e)),
            Backend::Postgres(p) => p.write(true, |tx| {
                let old = tx.raw(t, key)?;
                tx.del(t, key)?;
                Ok(old)
            }),
        }
    }

    /// Removes everything in a tree.
    pub(crate) fn clear_tree(&self, t: T) -> Result<(), StoreError> {
        match &*self.backend()? {
            Backend::Sled(h) => h.trees[t as usize].clear().map_err(|e| self.sled_err(e)),
            Backend::Postgres(p) => p.clear(t),
        }
    }

    /// Makes everything written so far durable: sled's flush (waited for at
    /// most `flush_timeout`, see the `space` module); nothing on PostgreSQL,
    /// where every commit is durable already.
    pub(crate) fn flush(&self) -> Result<(), StoreError> {
        if !self.is_sled() {
            return Ok(());
        }
        let waited = self.options.flush_timeout;
        // Concurrent writers share one flush (`group_commit.rs`); waiting
        // covers the flush running now and the next one.
        self.flushes.flush(waited * 2, || self.flush_now(), || StoreError::Stuck { path: self.path.clone(), waited })
    }

    /// One sled flush, waited for at most `flush_timeout`.
    fn flush_now(&self) -> Result<(), StoreError> {
        let backend = self.backend()?;
        let Backend::Sled(h) = &*backend else {
            return Ok(());
        };
        let waited = self.options.flush_timeout;
        if self.stuck.load(Ordering::SeqCst) {
            return Err(StoreError::Stuck { path: self.path.clone(), waited });
        }
        let db = h.db.clone();
        drop(backend);
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let spawned = std::thread::Builder::new().name("praxis-flush".into()).spawn(move || {
            let _ = tx.send(db.flush());
        });
        if let Err(e) = spawned {
            return Err(StoreError::io(&self.path, e));
        }
        match rx.recv_timeout(waited) {
            Ok(result) => result.map(|_| ()).map_err(|e| self.sled_err(e)),
            Err(_) => {
                self.stuck.store(true, Ordering::SeqCst);
                self.poisoned.store(true, Ordering::SeqCst);
                tracing::error!(path = %self.path.display(), ?waited, "a flush did not finish: refusing further writes");
                Err(StoreError::Stuck { path: self.path.clone(), waited })
            }
        }
    }

    /// Refuses a write when the sled store's device is (nearly) full.
    pub(crate) fn check_space(&self) -> Result<(), StoreError> {
        if !self.is_sled() {
            return Ok(());
        }
        match space::free_bytes(&self.path) {
            Some(free) if free < self.options.min_free_bytes => {
                tracing::warn!(path = %self.path.display(), free, "write refused: the disk is full");
                Err(StoreError::NoSpace { path: self.path.clone(), free: Some(free) })
            }
            _ => Ok(()),
        }
    }

    /// Runs `f` as one transaction over every tree and makes it durable
    /// before it returns (sled: then flushes; PostgreSQL: SERIALIZABLE,
    /// retried on a serialization failure, committed synchronously). `f` may
    /// run more than once.
    pub(crate) fn write<A>(&self, f: impl Fn(&super::Tx<'_>) -> TxResult<A>) -> Result<A, StoreError> {
        self.write_with(true, f)
    }

    /// [`Store::write`]; without `durable`, the change rides on the next
    /// flush (sled) or is committed without waiting for the disk
    /// (PostgreSQL's `synchronous_commit = off` for this transaction).
    pub(crate) fn write_with<A>(
        &self,
        durable: bool,
        f: impl Fn(&super::Tx<'_>) -> TxResult<A>,
    ) -> Result<A, StoreError> {
        let backend = self.backend()?;
        let h = match &*backend {
            Backend::Sled(h) => h,
            Backend::Postgres(p) => return p.write(durable, f),
        };
        self.check_space()?;
        if durable && self.poisoned.load(Ordering::SeqCst) && !self.stuck.load(Ordering::SeqCst) {
            // sled cannot write again in this process once it met ENOSPC.
            return Err(StoreError::NoSpace { path: self.path.clone(), free: space::free_bytes(&self.path) });
        }
        if durable && self.stuck.load(Ordering::SeqCst) {
            return Err(StoreError::Stuck { path: self.path.clone(), waited: self.options.flush_timeout });
        }
        let refs: Vec<&sled::Tree> = h.trees.iter().collect();
        let value =
            refs.as_slice().transaction(|views: &Vec<TransactionalTree>| f(&super::Tx::Sled(views))).map_err(|e| {
                match e {
                    TransactionError::Abort(e) => e,
                    TransactionError::Storage(e) => self.sled_err(e),
                }
            })?;
        if durable {
            self.flush()?;
        }
        Ok(value)
    }
}

/// The first key after every key that starts with `prefix`, if there is one.
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_first_key_after_the_prefix() {
        fn check(prefix: &[u8], expected: Option<&[u8]>) {
            assert_eq!(prefix_end(prefix).as_deref(), expected, "{prefix:?}");
        }
        check(b"c1\0", Some(b"c1\x01"));
        check(b"a\xff", Some(b"b"));
        check(b"\xff\xff", None);
        check(b"", None);
    }

    #[test]
    fn locations_are_told_apart() {
        fn check(text: &str, postgres: bool) {
            assert_eq!(matches!(StoreLocation::parse(text), StoreLocation::Postgres(_)), postgres, "{text}");
        }
        check("postgres://praxis@db/clinic", true);
        check("postgresql:///clinic?host=/run/pg", true);
        check("/var/lib/praxis/store", false);
        check("postgres", false);
    }
}
