//! The PostgreSQL store against the sled store, in one run, doing the same
//! work through the same `Store` API:
//!
//! - `backend_write`: one session recorded and acknowledged (validated,
//!   indexed, audited; sled: flushed; PostgreSQL: SERIALIZABLE commit with
//!   `synchronous_commit = on`);
//! - `backend_import`: 1000 sessions imported (sled: one flush per batch of
//!   1000; PostgreSQL: one transaction);
//! - `backend_history`: a client's 500-session history read;
//! - `backend_open`: opening a store that holds 2000 sessions (migrations
//!   checked, import recovery checked, the audit chain verified).
//!
//! Run with `PRAXIS_TEST_POSTGRES_URL=$(bash .ci/postgres) cargo bench -p
//! praxis-core --bench store_backends`; the ratio of a `postgres` line to its
//! `sled` line is what PostgreSQL costs. Without the variable only the sled
//! lines run (and it says so).

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use praxis_core::store::{Client, PracticeExport, Practitioner, Session, Store, StoreOptions};
use praxis_sdk::{AdverseEvent, Date, DateTime, Discipline, Pressure};

const ACTOR: &str = "bench";

fn today() -> Date {
    Date::from_ymd(2026, 11, 21).unwrap()
}

fn session(n: usize, client: &str) -> Session {
    Session {
        id: format!("s-{n:08}"),
        client: client.into(),
        practitioner: "p-1".into(),
        discipline: Discipline::Massage,
        // Twenty a day from 08:00, half an hour apart: none runs past midnight.
        start: DateTime::from_epoch_minutes(
            i64::from(today().add_days(-3000).days()) * 1440 + (n / 20) as i64 * 1440 + 480 + (n % 20) as i64 * 30,
        ),
        minutes: 60,
        pressure: Some(Pressure::Light),
        techniques: vec!["effleurage".into()],
        regions: vec!["upper back".into(), "neck".into()],
        pain_before: Some(6),
        pain_after: Some(4),
        follow_up_pain: None,
        follow_up_at: None,
        adverse_event: AdverseEvent::None,
        adjuncts: vec![],
        notes: "Client relaxed well; kept pressure light over tender points.".into(),
        pain_medication: None,
    }
}

/// Where a bench store lives; the schema is dropped with it.
enum Place {
    Folder(tempfile::TempDir),
    Schema { admin: String, schema: String, url: String },
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Place::Schema { admin, schema, .. } = self
            && let Ok(mut c) = postgres::Client::connect(admin, postgres::NoTls)
        {
            let _ = c.batch_execute(&format!("drop schema if exists {schema} cascade"));
        }
    }
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl Place {
    fn new(postgres: Option<&str>) -> Place {
        let Some(admin) = postgres else { return Place::Folder(tempfile::tempdir().unwrap()) };
        let schema = format!("praxis_bench_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let mut c = postgres::Client::connect(admin, postgres::NoTls).unwrap();
        c.batch_execute(&format!(
            "create extension if not exists btree_gist schema public; drop schema if exists {schema} cascade; \
             create schema {schema}"
        ))
        .unwrap();
        let sep = if admin.contains('?') { '&' } else { '?' };
        let url = format!("{admin}{sep}options=-c%20search_path%3D{schema},public");
        Place::Schema { admin: admin.to_owned(), schema, url }
    }

    fn open(&self) -> Store {
        match self {
            Place::Folder(dir) => Store::open_with(dir.path(), StoreOptions::default()).unwrap(),
            Place::Schema { url, .. } => Store::open_postgres(url, StoreOptions::default()).unwrap(),
        }
    }
}

/// A store with a practitioner and a client.
fn store(postgres: Option<&str>) -> (Place, Store) {
    let place = Place::new(postgres);
    let store = place.open();
    let p = Practitioner {
        id: "p-1".into(),
        name: "P".into(),
        disciplines: vec![Discipline::Massage],
        availability: vec![],
        time_off: vec![],
    };
    store.put_practitioner(&p, ACTOR).unwrap();
    store.put_client_as_of(&Client::new("c-1", "Bench"), today(), ACTOR).unwrap();
    (place, store)
}

/// The backends of this run: sled, and PostgreSQL when the variable is set.
fn backends() -> Vec<(&'static str, Option<String>)> {
    match std::env::var("PRAXIS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => vec![("sled", None), ("postgres", Some(url))],
        _ => {
            eprintln!("PostgreSQL: skipped: set PRAXIS_TEST_POSTGRES_URL (bash .ci/postgres prints one)");
            vec![("sled", None)]
        }
    }
}

fn backend_write(c: &mut Criterion) {
    let mut group = c.benchmark_group("backend_write");
    group.throughput(Throughput::Elements(1));
    for (name, url) in backends() {
        let (_place, store) = store(url.as_deref());
        let next = AtomicUsize::new(0);
        group.bench_function(format!("{name}_record_session"), |b| {
            b.iter(|| {
                let s = session(next.fetch_add(1, Ordering::Relaxed), "c-1");
                store.record_session(&s, today(), ACTOR).unwrap();
            })
        });
    }
    group.finish();
}

fn backend_import(c: &mut Criterion) {
    let mut group = c.benchmark_group("backend_import");
    group.throughput(Throughput::Elements(1000));
    group.sample_size(10);
    let export = PracticeExport { sessions: (0..1000).map(|n| session(n, "c-1")).collect(), ..Default::default() };
    for (name, url) in backends() {
        group.bench_function(format!("{name}_import_1000_sessions"), |b| {
            b.iter_batched(
                || store(url.as_deref()),
                |(place, store)| {
                    store.import(&export, today(), ACTOR).unwrap();
                    (place, store)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

fn filled(url: Option<&str>, sessions: usize) -> (Place, Store) {
    let (place, store) = store(url);
    let export = PracticeExport { sessions: (0..sessions).map(|n| session(n, "c-1")).collect(), ..Default::default() };
    store.import(&export, today(), ACTOR).unwrap();
    (place, store)
}

fn backend_history(c: &mut Criterion) {
    let mut group = c.benchmark_group("backend_history");
    group.throughput(Throughput::Elements(500));
    for (name, url) in backends() {
        let (_place, store) = filled(url.as_deref(), 500);
        group.bench_function(format!("{name}_sessions_for_500"), |b| {
            b.iter(|| black_box(store.sessions_for(black_box("c-1")).unwrap()))
        });
    }
    group.finish();
}

fn backend_open(c: &mut Criterion) {
    let mut group = c.benchmark_group("backend_open");
    group.sample_size(10);
    for (name, url) in backends() {
        let (place, store) = filled(url.as_deref(), 2000);
        drop(store);
        group.bench_function(format!("{name}_open_2000_sessions"), |b| b.iter(|| black_box(place.open())));
    }
    group.finish();
}

criterion_group!(benches, backend_write, backend_import, backend_history, backend_open);
criterion_main!(benches);
