//! The PostgreSQL arm of the store, for a clinic group whose servers share
//! one database (replication, backups and fail-over are PostgreSQL's own).
//!
//! **Layout.** One table mirrors the sled trees, so that the record code,
//! the validation and the audit chain are the same on both engines:
//!
//! ```sql
//! kv(tree smallint, key bytea, value bytea, primary key (tree, key))
//! ```
//!
//! (`tree` is the index of the tree in `keys::T`; `bytea` compares byte by
//! byte, so key order is the order sled keeps). Beside it, `schema_meta`
//! holds the version of this table layout (`layout`), and `booked_slots`
//! holds one row per appointment that occupies its time (all but
//! cancelled ones), written in the same transaction as the appointment, with
//! exclusion constraints: the database itself refuses two overlapping
//! appointments of one practitioner (other than places in one class) or of
//! one client, from any server (SQLSTATE 23P01, [`StoreError::Conflict`]).
//!
//! **Transactions.** Every write is one transaction at SERIALIZABLE
//! isolation, committed with `synchronous_commit = on` (set on every
//! connection): acknowledged means on disk on the primary (and on the
//! synchronous standbys the administrator names). A serialization failure
//! or a deadlock (40001, 40P01) reruns the whole closure, which is why
//! `Store::write` takes an `Fn`.
//!
//! **Why the synchronous `postgres` crate.** The store's API is synchronous
//! (the CLI calls it directly; the server calls it on tokio's blocking
//! threads, as it does for sled), so the blocking client, a thin wrapper over
//! tokio-postgres with its own small runtime per connection, fits without
//! making the store async. sqlx would bring a second async runtime
//! integration and compile-time query checking that a key-value table does
//! not need.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::Mutex;

use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::{Client, IsolationLevel, NoTls, Statement};
use sled::IVec;
use sled::transaction::ConflictableTransactionError;

use super::backend::{Backend, Scan, prefix_end};
use super::keys::T;
use super::records::{Appointment, AppointmentStatus};
use super::{Store, StoreError, StoreOptions, Tx, TxResult, migrate};

/// The version of the table layout this build writes (`schema_meta.layout`).
pub(crate) const LAYOUT_VERSION: i32 = 1;

/// The channel on which every write names the clients it changed (one
/// notification per client id, sent when the transaction commits).
pub const CHANGES_CHANNEL: &str = "praxis_changes";

/// How often a transaction refused as conflicting is run again.
const MAX_ATTEMPTS: u32 = 50;

/// The advisory lock held while a store is opened (migrations run once, even
/// when several servers start together): "praxis" in ASCII.
const OPEN_LOCK: i64 = 0x7072_6178_6973;

const LAYOUT: &str = "
create extension if not exists btree_gist;
create table if not exists kv (
    tree smallint not null,
    key bytea not null,
    value bytea not null,
    primary key (tree, key)
);
create table if not exists booked_slots (
    appointment text primary key,
    practitioner text not null,
    client text not null,
    -- the class it is a place in, else its own id: places in one class share the practitioner's time
    grp text not null,
    -- minutes since 1970 (practice local time), [start, end)
    during int8range not null,
    constraint booked_slots_practitioner_overlap
        exclude using gist (practitioner with =, grp with <>, during with &&),
    constraint booked_slots_client_overlap
        exclude using gist (client with =, during with &&)
);
";

/// A URL without its password, for messages and logs.
pub(crate) fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest = scheme_end + 3;
        let authority_end = out[rest..].find(['/', '?']).map_or(out.len(), |i| rest + i);
        if let Some(at) = out[rest..authority_end].rfind('@')
            && let Some(colon) = out[rest..rest + at].find(':')
        {
            out.replace_range(rest + colon + 1..rest + at, "***");
        }
    }
    if let Some(i) = out.find("password=") {
        let start = i + "password=".len();
        let end = out[start..].find('&').map_or(out.len(), |j| start + j);
        out.replace_range(start..end, "***");
    }
    out
}

fn db_error(location: &str, e: &postgres::Error) -> StoreError {
    let message = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    };
    StoreError::Database { location: location.to_owned(), message }
}

/// The prepared statements of one connection.
struct Statements {
    get: Statement,
    put: Statement,
    del: Statement,
    all: Statement,
    from: Statement,
    range: Statement,
    first: Statement,
    last: Statement,
    newest: Statement,
    older: Statement,
    clear: Statement,
    slot_del: Statement,
    slot_put: Statement,
    notify: Statement,
}

struct Conn {
    client: Client,
    st: Statements,
}

/// The PostgreSQL database: connections, kept for reuse (one per thread that
/// uses the store at the same moment).
pub(crate) struct Pg {
    url: String,
    location: String,
    pool: Mutex<Vec<Conn>>,
}

impl Drop for Pg {
    fn drop(&mut self) {
        let conns = std::mem::take(self.pool.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner));
        if conns.is_empty() {
            return;
        }
        // Closing a `postgres::Client` blocks on its own runtime, which tokio
        // forbids on its worker threads, where a server's last handle of the
        // store may be dropped at shutdown: close them on a thread of their own.
        if let Ok(closing) = std::thread::Builder::new().name("praxis-pg-close".into()).spawn(move || drop(conns)) {
            let _ = closing.join();
        }
    }
}

/// A connection taken from the pool, given back when dropped (unless broken).
struct Lease<'a> {
    pg: &'a Pg,
    conn: Option<Conn>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && !conn.client.is_closed()
        {
            self.pg.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(conn);
        }
    }
}

impl Lease<'_> {
    fn conn(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("a lease holds its connection until dropped")
    }
}

/// Connects, with the session settings every Praxis connection has.
pub(crate) fn connect(url: &str) -> Result<Client, StoreError> {
    let location = redact(url);
    let mut client = Client::connect(url, NoTls)
        .map_err(|e| StoreError::Database { location: location.clone(), message: format!("cannot connect: {e}") })?;
    client
        .batch_execute("set synchronous_commit = on; set application_name = 'praxis'")
        .map_err(|e| db_error(&location, &e))?;
    Ok(client)
}

impl Pg {
    fn new(url: &str) -> Pg {
        Pg { url: url.to_owned(), location: redact(url), pool: Mutex::new(Vec::new()) }
    }

    fn err(&self, e: &postgres::Error) -> StoreError {
        db_error(&self.location, e)
    }

    fn lease(&self) -> Result<Lease<'_>, StoreError> {
        let pooled = self.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let mut client = connect(&self.url)?;
                let st = self.prepare(&mut client)?;
                Conn { client, st }
            }
        };
        Ok(Lease { pg: self, conn: Some(conn) })
    }

    fn prepare(&self, c: &mut Client) -> Result<Statements, StoreError> {
        let mut p = |sql: &str| c.prepare(sql).map_err(|e| self.err(&e));
        Ok(Statements {
            get: p("select value from kv where tree = $1 and key = $2")?,
            put: p("insert into kv (tree, key, value) values ($1, $2, $3) \
                    on conflict (tree, key) do update set value = excluded.value")?,
            del: p("delete from kv where tree = $1 and key = $2")?,
            all: p("select key, value from kv where tree = $1 order by key")?,
            from: p("select key, value from kv where tree = $1 and key >= $2 order by key")?,
            range: p("select key, value from kv where tree = $1 and key >= $2 and key < $3 order by key")?,
            first: p("select key, value from kv where tree = $1 order by key limit $2")?,
            last: p("select key from kv where tree = $1 order by key desc limit 1")?,
            newest: p("select key, value from kv where tree = $1 order by key desc limit $2")?,
            older: p("select key, value from kv where tree = $1 and key < $2 order by key desc limit $3")?,
            clear: p("delete from kv where tree = $1")?,
            slot_del: p("delete from booked_slots where appointment = $1")?,
            slot_put: p("insert into booked_slots (appointment, practitioner, client, grp, during) \
                         values ($1, $2, $3, $4, int8range($5, $6))")?,
            notify: p("select pg_notify($1, $2)")?,
        })
    }

    pub(crate) fn get(&self, t: T, key: &[u8]) -> Result<Option<IVec>, StoreError> {
        let mut lease = self.lease()?;
        let c = lease.conn();
        let row = c.client.query_opt(&c.st.get, &[&(t as i16), &key]).map_err(|e| self.err(&e))?;
        Ok(row.map(|r| IVec::from(r.get::<_, &[u8]>(0))))
    }

    pub(crate) fn scan(&self, t: T, scan: &Scan) -> Result<Vec<(IVec, IVec)>, StoreError> {
        let mut lease = self.lease()?;
        let c = lease.conn();
        let tree = t as i16;
        let rows = match scan {
            Scan::All => c.client.query(&c.st.all, &[&tree]),
            Scan::Prefix(prefix) => match prefix_end(prefix) {
                Some(end) => c.client.query(&c.st.range, &[&tree, prefix, &end]),
                None => c.client.query(&c.st.from, &[&tree, prefix]),
            },
            Scan::Range(from, to) => c.client.query(&c.st.range, &[&tree, from, to]),
        }
        .map_err(|e| self.err(&e))?;
        Ok(rows.iter().map(|r| (IVec::from(r.get::<_, &[u8]>(0)), IVec::from(r.get::<_, &[u8]>(1)))).collect())
    }

    pub(crate) fn scan_limit(&self, t: T, limit: i64) -> Result<Vec<(IVec, IVec)>, StoreError> {
        let mut lease = self.lease()?;
        let c = lease.conn();
        let rows = c.client.query(&c.st.first, &[&(t as i16), &limit]).map_err(|e| self.err(&e))?;
        Ok(rows.iter().map(|r| (IVec::from(r.get::<_, &[u8]>(0)), IVec::from(r.get::<_, &[u8]>(1)))).collect())
    }

    /// At most `limit` pairs of a tree in descending key order, starting
    /// below `before` (or at the last key).
    pub(crate) fn scan_back(&self, t: T, before: Option<&[u8]>, limit: i64) -> Result<Vec<(IVec, IVec)>, StoreError> {
        let mut lease = self.lease()?;
        let c = lease.conn();
        let tree = t as i16;
        let rows = match before {
            None => c.client.query(&c.st.newest, &[&tree, &limit]),
            Some(key) => c.client.query(&c.st.older, &[&tree, &key, &limit]),
        }
        .map_err(|e| self.err(&e))?;
        Ok(rows.iter().map(|r| (IVec::from(r.get::<_, &[u8]>(0)), IVec::from(r.get::<_, &[u8]>(1)))).collect())
    }

    pub(crate) fn last_key(&self, t: T) -> Result<Option<IVec>, StoreError> {
        let mut lease = self.lease()?;
        let c = lease.conn();
        let row = c.client.query_opt(&c.st.last, &[&(t as i16)]).map_err(|e| self.err(&e))?;
        Ok(row.map(|r| IVec::from(r.get::<_, &[u8]>(0))))
    }

    pub(crate) fn clear(&self, t: T) -> Result<(), StoreError> {
        self.write(true, |tx| {
            let Tx::Pg(tx) = tx else { unreachable!("a PostgreSQL write runs a PostgreSQL transaction") };
            if t == T::Appointments {
                tx.run(|tx, _| tx.execute("delete from booked_slots", &[]).map(|_| ()))?;
            }
            tx.run(|tx, st| tx.execute(&st.clear, &[&(t as i16)]).map(|_| ()))
        })
    }

    /// Runs `f` in one SERIALIZABLE transaction, again on a serialization
    /// failure or deadlock, and commits it (durably unless `durable` is false).
    pub(crate) fn write<A>(&self, durable: bool, f: impl Fn(&Tx<'_>) -> TxResult<A>) -> Result<A, StoreError> {
        let mut lease = self.lease()?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.attempt(lease.conn(), durable, &f) {
                Ok(value) => return Ok(value),
                Err(Attempt::Fail(e)) => return Err(e),
                Err(Attempt::Retry) if attempt < MAX_ATTEMPTS => {
                    tracing::debug!(attempt, "transaction refused as conflicting; running it again");
                    // A little random wait, growing, so that two servers that
                    // collided do not collide again in step.
                    let mut r = [0u8; 1];
                    let _ = getrandom::fill(&mut r);
                    let ms = u64::from(attempt.min(10)) * (1 + u64::from(r[0] % 8));
                    std::thread::sleep(std::time::Duration::from_millis(ms));
                }
                Err(Attempt::Retry) => {
                    return Err(StoreError::Conflict(format!(
                        "the database refused the change {MAX_ATTEMPTS} times as conflicting with changes made at \
                         the same moment by other servers"
                    )));
                }
            }
        }
    }

    fn attempt<A>(&self, conn: &mut Conn, durable: bool, f: &impl Fn(&Tx<'_>) -> TxResult<A>) -> Result<A, Attempt> {
        let classify = |e: postgres::Error| match Attempt::of(&e) {
            Some(a) => a,
            None => Attempt::Fail(self.err(&e)),
        };
        let Conn { client, st } = conn;
        let mut tx =
            client.build_transaction().isolation_level(IsolationLevel::Serializable).start().map_err(classify)?;
        if !durable {
            tx.batch_execute("set local synchronous_commit = off").map_err(classify)?;
        }
        let wrapped = Tx::Pg(PgTx { tx: RefCell::new(tx), st, location: &self.location, changed: RefCell::default() });
        let result = f(&wrapped);
        let Tx::Pg(PgTx { tx, changed, .. }) = wrapped else { unreachable!("a PostgreSQL transaction was made above") };
        let mut tx = tx.into_inner();
        match result {
            Ok(value) => {
                for client_id in changed.into_inner() {
                    tx.execute(&st.notify, &[&CHANGES_CHANNEL, &client_id]).map_err(classify)?;
                }
                tx.commit().map_err(classify)?;
                Ok(value)
            }
            // Dropping the transaction rolls it back.
            Err(ConflictableTransactionError::Conflict) => Err(Attempt::Retry),
            Err(ConflictableTransactionError::Abort(e)) => Err(Attempt::Fail(e)),
            Err(ConflictableTransactionError::Storage(e)) => Err(Attempt::Fail(StoreError::Storage(e))),
        }
    }
}

/// What became of one run of a transaction that did not commit.
enum Attempt {
    /// Refused as conflicting (40001, 40P01): run it again.
    Retry,
    /// Failed: give up with this error.
    Fail(StoreError),
}

impl Attempt {
    /// The retryable and the conflict errors; `None` for the others.
    fn of(e: &postgres::Error) -> Option<Attempt> {
        let code = e.code()?;
        if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED {
            return Some(Attempt::Retry);
        }
        if *code == SqlState::EXCLUSION_VIOLATION {
            return Some(Attempt::Fail(slot_taken(e)));
        }
        None
    }
}

/// The conflict error of an exclusion violation on `booked_slots`.
fn slot_taken(e: &postgres::Error) -> StoreError {
    let constraint = e.as_db_error().and_then(|d| d.constraint()).unwrap_or_default();
    let who = if constraint.contains("client") { "the client" } else { "the practitioner" };
    StoreError::Conflict(format!(
        "{who} already has an appointment at an overlapping time (booked just now, perhaps through another \
         server): choose another time"
    ))
}

/// One PostgreSQL transaction, as the record code sees it through [`Tx`].
pub(crate) struct PgTx<'a> {
    tx: RefCell<postgres::Transaction<'a>>,
    st: &'a Statements,
    location: &'a str,
    /// Clients whose records this transaction changed (notified on commit).
    changed: RefCell<BTreeSet<String>>,
}

impl PgTx<'_> {
    fn fail(&self, e: postgres::Error) -> ConflictableTransactionError<StoreError> {
        match Attempt::of(&e) {
            Some(Attempt::Retry) => ConflictableTransactionError::Conflict,
            Some(Attempt::Fail(err)) => ConflictableTransactionError::Abort(err),
            None => ConflictableTransactionError::Abort(db_error(self.location, &e)),
        }
    }

    fn run<A>(
        &self,
        f: impl FnOnce(&mut postgres::Transaction<'_>, &Statements) -> Result<A, postgres::Error>,
    ) -> TxResult<A> {
        let mut tx = self.tx.borrow_mut();
        f(&mut tx, self.st).map_err(|e| self.fail(e))
    }

    pub(crate) fn get(&self, t: T, key: &[u8]) -> TxResult<Option<IVec>> {
        let row = self.run(|tx, st| tx.query_opt(&st.get, &[&(t as i16), &key]))?;
        Ok(row.map(|r| IVec::from(r.get::<_, &[u8]>(0))))
    }

    pub(crate) fn put(&self, t: T, key: &[u8], value: &IVec) -> TxResult<()> {
        self.run(|tx, st| tx.execute(&st.put, &[&(t as i16), &key, &value.as_ref()]))?;
        self.note(t, key);
        if t == T::Appointments {
            self.free_slot(key)?;
            let a: Appointment = match serde_json::from_slice(value) {
                Ok(a) => a,
                Err(e) => {
                    return Err(ConflictableTransactionError::Abort(StoreError::Corrupt {
                        tree: t.name().into(),
                        key: super::keys::show(key),
                        error: e.to_string(),
                    }));
                }
            };
            if a.status != AppointmentStatus::Cancelled {
                let start = a.start.epoch_minutes();
                let end = start + i64::from(a.minutes);
                let grp = a.class.clone().unwrap_or_else(|| a.id.clone());
                self.run(|tx, st| tx.execute(&st.slot_put, &[&a.id, &a.practitioner, &a.client, &grp, &start, &end]))?;
            }
        }
        Ok(())
    }

    pub(crate) fn del(&self, t: T, key: &[u8]) -> TxResult<()> {
        self.note(t, key);
        self.run(|tx, st| tx.execute(&st.del, &[&(t as i16), &key]))?;
        if t == T::Appointments {
            self.free_slot(key)?;
        }
        Ok(())
    }

    /// Removes the slot of the appointment stored under `key` (start, id).
    fn free_slot(&self, key: &[u8]) -> TxResult<()> {
        let id = String::from_utf8_lossy(key.get(8..).unwrap_or_default()).into_owned();
        self.run(|tx, st| tx.execute(&st.slot_del, &[&id])).map(|_| ())
    }

    /// Notes the client a write to `t` concerns, for the notification.
    /// (Every appointment write also writes `appointments_by_client`.)
    fn note(&self, t: T, key: &[u8]) {
        let client = match t {
            T::Clients | T::Intakes => Some(String::from_utf8_lossy(key).into_owned()),
            T::Sessions | T::Overrides | T::ByClient => {
                key.iter().position(|&b| b == 0).map(|i| String::from_utf8_lossy(&key[..i]).into_owned())
            }
            _ => None,
        };
        if let Some(c) = client {
            self.changed.borrow_mut().insert(c);
        }
    }
}

/// A connection that listens on [`CHANGES_CHANNEL`]: the client ids other
/// servers (and this one) changed, as their transactions commit.
pub struct ChangeListener {
    client: Client,
    location: String,
}

impl std::fmt::Debug for ChangeListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeListener").field("location", &self.location).finish_non_exhaustive()
    }
}

impl ChangeListener {
    pub(crate) fn new(url: &str) -> Result<ChangeListener, StoreError> {
        let location = redact(url);
        let mut client = connect(url)?;
        client.batch_execute(&format!("listen {CHANGES_CHANNEL}")).map_err(|e| db_error(&location, &e))?;
        Ok(ChangeListener { client, location })
    }

    /// The client ids notified, waiting at most `timeout` for the first
    /// (empty when none came); an error when the connection broke.
    pub fn wait(&mut self, timeout: std::time::Duration) -> Result<Vec<String>, StoreError> {
        let location = self.location.clone();
        let err = |e: postgres::Error| db_error(&location, &e);
        let mut ids = Vec::new();
        {
            let mut notes = self.client.notifications();
            let first = notes.timeout_iter(timeout).next().map_err(err)?;
            if let Some(first) = first {
                ids.push(first.payload().to_owned());
                let mut pending = notes.iter();
                while let Some(n) = pending.next().map_err(err)? {
                    ids.push(n.payload().to_owned());
                }
            }
        }
        if self.client.is_closed() {
            return Err(StoreError::Database { location, message: "the listening connection closed".into() });
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }
}

impl Pg {
    pub(crate) fn listen(&self) -> Result<ChangeListener, StoreError> {
        ChangeListener::new(&self.url)
    }
}

/// Opens (or creates) the store in the PostgreSQL database at `url`: the
/// table layout is made or checked (a newer one is refused), then the same
/// migrations and checks as for sled run, under an advisory lock so that
/// servers starting together do this once each, one after the other.
pub(crate) fn open(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
    let location = redact(url);
    let err = |e: postgres::Error| db_error(&location, &e);
    let mut guard = connect(url)?;
    guard.execute("select pg_advisory_lock($1)", &[&OPEN_LOCK]).map_err(err)?;
    let opened = open_locked(&mut guard, url, options);
    let unlocked = guard.execute("select pg_advisory_unlock($1)", &[&OPEN_LOCK]);
    let store = opened?;
    unlocked.map_err(err)?;
    Ok(store)
}

fn open_locked(guard: &mut Client, url: &str, options: StoreOptions) -> Result<Store, StoreError> {
    let location = redact(url);
    let err = |e: postgres::Error| db_error(&location, &e);
    guard
        .batch_execute("create table if not exists schema_meta (key text primary key, value integer not null)")
        .map_err(err)?;
    let layout: Option<i32> =
        guard.query_opt("select value from schema_meta where key = 'layout'", &[]).map_err(err)?.map(|r| r.get(0));
    if let Some(found) = layout
        && found > LAYOUT_VERSION
    {
        return Err(StoreError::TooNew { found: found as u32, supported: LAYOUT_VERSION as u32 });
    }
    if layout != Some(LAYOUT_VERSION) {
        let mut tx = guard.transaction().map_err(err)?;
        tx.batch_execute(LAYOUT).map_err(|e| match e.code() {
            Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE || *c == SqlState::UNDEFINED_FILE => {
                StoreError::Database {
                    location: location.clone(),
                    message: format!(
                        "{} : the btree_gist extension is needed (Debian's postgresql package has it): as a \
                         superuser, run `create extension btree_gist;` in this database, then start Praxis again",
                        e.as_db_error().map(|d| d.message()).unwrap_or_default()
                    ),
                }
            }
            _ => err(e),
        })?;
        tx.execute(
            "insert into schema_meta (key, value) values ('layout', $1) \
             on conflict (key) do update set value = excluded.value",
            &[&LAYOUT_VERSION],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        tracing::info!(location = %location, layout = LAYOUT_VERSION, "PostgreSQL tables made");
    }
    let pg = Pg::new(url);
    let found = migrate::check_version(pg.get(T::Meta, super::keys::SCHEMA_VERSION)?)?;
    let mut store = Store {
        backend: parking_lot::RwLock::new(Some(Backend::Postgres(pg))),
        path: location.clone().into(),
        options,
        import_lock: std::sync::Mutex::new(()),
        warnings: Vec::new(),
        stuck: std::sync::atomic::AtomicBool::new(false),
        poisoned: std::sync::atomic::AtomicBool::new(false),
        flushes: super::group_commit::FlushGate::default(),
    };
    store.finish_open(found)?;
    store.check_audit_on_open()?;
    tracing::debug!(location = %location, "store opened");
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        fn check(url: &str, expected: &str) {
            assert_eq!(redact(url), expected);
        }
        check("postgres://praxis:s3cret@db.example.org/clinic", "postgres://praxis:***@db.example.org/clinic");
        check("postgres://praxis@db/clinic", "postgres://praxis@db/clinic");
        check(
            "postgres:///clinic?host=/run/pg&password=x&user=u",
            "postgres:///clinic?host=/run/pg&password=***&user=u",
        );
        check("postgresql://a:b@h:5432/d?sslmode=disable", "postgresql://a:***@h:5432/d?sslmode=disable");
    }
}
