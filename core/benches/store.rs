//! Store benchmarks, each against raw sled doing the same work in the same run:
//!
//! - `acknowledged_write`: one session recorded (validated, indexed, audited,
//!   flushed) vs one raw sled insert of the same JSON plus a flush;
//! - `bulk_import`: 1000 sessions imported (one flush per batch) vs raw sled
//!   batches of the same inserts with one flush per batch;
//! - `history_read`: a client's 500-session history (range scan and decode)
//!   vs a raw sled prefix scan of the same keys.
//!
//! Run with `cargo bench -p praxis-core --bench store`; the ratio of a `store`
//! line to its `raw_sled` line is the store's overhead.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use praxis_core::store::{Client, PracticeExport, Practitioner, SLED_SEGMENT_SIZE, Session, Store, StoreOptions};
use praxis_sdk::{Adjunct, AdverseEvent, Date, DateTime, Discipline, Pressure};

const ACTOR: &str = "bench";
const BULK: usize = 1000;
const HISTORY: usize = 500;

fn today() -> Date {
    Date::from_ymd(2026, 11, 21).unwrap()
}

fn session(n: usize, client: &str) -> Session {
    Session {
        id: format!("s-{n:08}"),
        client: client.into(),
        practitioner: "p-1".into(),
        discipline: Discipline::Massage,
        start: DateTime::from_epoch_minutes(i64::from(today().add_days(-3000).days()) * 1440 + n as i64 * 7),
        minutes: 60,
        pressure: Some(Pressure::Light),
        techniques: vec!["effleurage".into(), "myofascial release".into()],
        regions: vec!["upper back".into(), "neck".into()],
        pain_before: Some(6),
        pain_after: Some(4),
        follow_up_pain: None,
        follow_up_at: None,
        adverse_event: AdverseEvent::None,
        adjuncts: vec![Adjunct::HeatBefore],
        notes: "Client relaxed well; kept pressure light over tender points.".into(),
        pain_medication: None,
    }
}

fn practitioner() -> Practitioner {
    Practitioner {
        id: "p-1".into(),
        name: "P".into(),
        disciplines: vec![Discipline::Massage],
        availability: vec![],
        time_off: vec![],
    }
}

/// A store with a practitioner and a client.
fn store(options: StoreOptions) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with(dir.path(), options).unwrap();
    store.put_practitioner(&practitioner(), ACTOR).unwrap();
    store.put_client_as_of(&Client::new("c-1", "Bench"), today(), ACTOR).unwrap();
    (dir, store)
}

fn raw() -> (tempfile::TempDir, sled::Db, sled::Tree) {
    let dir = tempfile::tempdir().unwrap();
    let db = sled::Config::new().path(dir.path()).segment_size(SLED_SEGMENT_SIZE).open().unwrap();
    let tree = db.open_tree("sessions").unwrap();
    (dir, db, tree)
}

/// The key the store uses: client, 0, start, id.
fn raw_key(s: &Session) -> Vec<u8> {
    let mut key = s.client.as_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(&((s.start.epoch_minutes() as u64) ^ (1 << 63)).to_be_bytes());
    key.extend_from_slice(s.id.as_bytes());
    key
}

fn acknowledged_write(c: &mut Criterion) {
    let mut group = c.benchmark_group("acknowledged_write");
    group.throughput(Throughput::Elements(1));
    let (_dir, store) = store(StoreOptions::default());
    let next = AtomicUsize::new(0);
    group.bench_function("store_record_session", |b| {
        b.iter(|| {
            let s = session(next.fetch_add(1, Ordering::Relaxed), "c-1");
            store.record_session(&s, today(), ACTOR).unwrap();
        })
    });
    let (_raw_dir, db, tree) = raw();
    let next = AtomicUsize::new(0);
    group.bench_function("raw_sled_insert_flush", |b| {
        b.iter(|| {
            let s = session(next.fetch_add(1, Ordering::Relaxed), "c-1");
            tree.insert(raw_key(&s), serde_json::to_vec(&s).unwrap()).unwrap();
            db.flush().unwrap();
        })
    });
    group.finish();
}

fn bulk_import(c: &mut Criterion) {
    let mut group = c.benchmark_group("bulk_import");
    group.throughput(Throughput::Elements(BULK as u64));
    group.sample_size(10);
    let sessions: Vec<Session> = (0..BULK).map(|n| session(n, "c-1")).collect();
    let export = PracticeExport { sessions: sessions.clone(), ..PracticeExport::default() };
    let options = StoreOptions::default();
    let batch = options.import_batch;
    group.bench_function("store_import_1000_sessions", |b| {
        b.iter_batched(
            || store(options.clone()),
            |(dir, store)| {
                store.import(&export, today(), ACTOR).unwrap();
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("raw_sled_batches_flush_1000", |b| {
        b.iter_batched(
            raw,
            |(dir, db, tree)| {
                for chunk in sessions.chunks(batch) {
                    let mut writes = sled::Batch::default();
                    for s in chunk {
                        writes.insert(raw_key(s), serde_json::to_vec(s).unwrap());
                    }
                    tree.apply_batch(writes).unwrap();
                    db.flush().unwrap();
                }
                (dir, db, tree)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn history_read(c: &mut Criterion) {
    let mut group = c.benchmark_group("history_read");
    group.throughput(Throughput::Elements(HISTORY as u64));
    let (_dir, store) = store(StoreOptions::default());
    let sessions: Vec<Session> = (0..HISTORY).map(|n| session(n, "c-1")).collect();
    let others: Vec<Session> =
        (HISTORY..3 * HISTORY).map(|n| session(n, if n % 2 == 0 { "c-0" } else { "c-2" })).collect();
    for id in ["c-0", "c-2"] {
        store.put_client_as_of(&Client::new(id, "Neighbour"), today(), ACTOR).unwrap();
    }
    let mut all = sessions.clone();
    all.extend(others.iter().cloned());
    store.import(&PracticeExport { sessions: all.clone(), ..PracticeExport::default() }, today(), ACTOR).unwrap();
    assert_eq!(store.sessions_for("c-1").unwrap().len(), HISTORY);
    group.bench_function("store_sessions_for_500", |b| {
        b.iter(|| black_box(store.sessions_for(black_box("c-1")).unwrap()))
    });

    let (_raw_dir, db, tree) = raw();
    for s in &all {
        tree.insert(raw_key(s), serde_json::to_vec(s).unwrap()).unwrap();
    }
    db.flush().unwrap();
    let mut prefix = b"c-1".to_vec();
    prefix.push(0);
    group.bench_function("raw_sled_scan_prefix_500", |b| {
        b.iter(|| {
            let values: Vec<sled::IVec> = tree.scan_prefix(black_box(&prefix)).values().map(Result::unwrap).collect();
            assert_eq!(values.len(), HISTORY);
            black_box(values)
        })
    });
    group.finish();
}

criterion_group!(benches, acknowledged_write, bulk_import, history_read);
criterion_main!(benches);
