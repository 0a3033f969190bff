//! The store test suite runs on every backend: sled always, and PostgreSQL
//! when `PRAXIS_TEST_POSTGRES_URL` names a server (CI always sets it, from
//! `.ci/postgres`). Each PostgreSQL store gets a schema of its own, dropped
//! when the test's store is.
//!
//! A test runs its body once per backend with [`each`]; inside, the store
//! helpers ([`open`], [`open_with`]) open a fresh store on the backend being
//! run.
#![allow(dead_code)]

use std::cell::RefCell;

use praxis_core::store::{Store, StoreOptions};

/// The environment variable that names a PostgreSQL server for the tests.
pub const URL_VAR: &str = "PRAXIS_TEST_POSTGRES_URL";

/// A backend the suite runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// sled in a temporary folder.
    Sled,
    /// A fresh schema in the database at this URL.
    Postgres(String),
}

thread_local! {
    static CURRENT: RefCell<Backend> = const { RefCell::new(Backend::Sled) };
}

/// The backends to run on: sled, and PostgreSQL when the variable is set
/// (otherwise it says so, once per test).
pub fn backends() -> Vec<Backend> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => vec![Backend::Sled, Backend::Postgres(url)],
        _ => {
            eprintln!("PostgreSQL: skipped: set {URL_VAR} (bash .ci/postgres prints one)");
            vec![Backend::Sled]
        }
    }
}

/// The PostgreSQL URL when the variable is set.
pub fn postgres_url() -> Option<String> {
    backends().into_iter().find_map(|b| match b {
        Backend::Postgres(url) => Some(url),
        Backend::Sled => None,
    })
}

/// Runs `f` once per backend; the store helpers open stores on it.
pub fn each(f: impl Fn(&Backend)) {
    for backend in backends() {
        CURRENT.with(|c| *c.borrow_mut() = backend.clone());
        eprintln!("backend: {backend:?}");
        f(&backend);
    }
    CURRENT.with(|c| *c.borrow_mut() = Backend::Sled);
}

/// The backend being run.
pub fn current() -> Backend {
    CURRENT.with(|c| c.borrow().clone())
}

/// A store opened for a test, with what it lives in.
pub struct TestStore {
    /// The store (`None` once closed).
    pub store: Option<Store>,
    /// Where it is: reopen it with [`TestStore::reopen`].
    pub place: Place,
}

/// What a test store lives in; removed when dropped.
pub enum Place {
    /// A temporary folder.
    Folder(tempfile::TempDir),
    /// A schema of its own, and the URL that selects it.
    Schema { admin_url: String, schema: String, url: String },
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Place::Schema { admin_url, schema, .. } = self
            && let Ok(mut c) = postgres::Client::connect(admin_url, postgres::NoTls)
        {
            let _ = c.batch_execute(&format!("drop schema if exists {schema} cascade"));
        }
    }
}

impl Place {
    /// A new, empty place on `backend`.
    pub fn new(backend: &Backend) -> Place {
        match backend {
            Backend::Sled => Place::Folder(tempfile::tempdir().unwrap()),
            Backend::Postgres(admin_url) => {
                let schema = format!("praxis_test_{}", uuid_like());
                let mut c = postgres::Client::connect(admin_url, postgres::NoTls)
                    .unwrap_or_else(|e| panic!("{URL_VAR}={admin_url}: cannot connect: {e}"));
                // btree_gist lives in `public`, which every test schema
                // sees: an extension made in a test schema would go with it.
                static EXTENSION: std::sync::Once = std::sync::Once::new();
                EXTENSION.call_once(|| {
                    c.batch_execute(
                        "select pg_advisory_lock(1); create extension if not exists btree_gist schema public; \
                         select pg_advisory_unlock(1)",
                    )
                    .unwrap()
                });
                c.batch_execute(&format!("create schema {schema}")).unwrap();
                let sep = if admin_url.contains('?') { '&' } else { '?' };
                let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema},public");
                Place::Schema { admin_url: admin_url.clone(), schema, url }
            }
        }
    }

    /// Opens the store in this place.
    pub fn open_with(&self, options: StoreOptions) -> Result<Store, praxis_core::store::StoreError> {
        match self {
            Place::Folder(dir) => Store::open_with(dir.path(), options),
            Place::Schema { url, .. } => Store::open_postgres(url, options),
        }
    }

    /// Opens the store in this place with the default options.
    pub fn open(&self) -> Result<Store, praxis_core::store::StoreError> {
        self.open_with(StoreOptions::default())
    }

    /// The URL of a PostgreSQL place.
    pub fn url(&self) -> Option<&str> {
        match self {
            Place::Schema { url, .. } => Some(url),
            Place::Folder(_) => None,
        }
    }
}

fn uuid_like() -> String {
    praxis_core::store::new_id().replace('-', "")
}

/// A fresh store on the backend being run, and its place.
pub fn open() -> (Place, Store) {
    open_with(StoreOptions::default())
}

/// [`open`] with options.
pub fn open_with(options: StoreOptions) -> (Place, Store) {
    let place = Place::new(&current());
    let store = place.open_with(options).unwrap();
    (place, store)
}

impl Place {
    /// The folder of a sled place (panics for PostgreSQL: a test that needs
    /// the files is a sled test).
    pub fn path(&self) -> &std::path::Path {
        match self {
            Place::Folder(dir) => dir.path(),
            Place::Schema { .. } => panic!("a PostgreSQL store has no folder"),
        }
    }
}
