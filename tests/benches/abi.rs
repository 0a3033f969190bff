//! The cost of the plugin boundary: one fibromyalgia protocol evaluation of a
//! client with 24 sessions of history,
//!
//! - `static_trait_call`: the plugin linked in, called through `Protocol::evaluate` (the baseline);
//! - `abi_in_process`: the same code called through its C table in this
//!   binary (`PluginHandle::from_static`): JSON encode, `extern "C"` call,
//!   JSON decode inside the plugin, encode the answer, copy, free, decode;
//! - `abi_in_process_request_encoded_once`: as above with the request
//!   already encoded, as a host pays per plugin when it encodes a client once
//!   for all its plugins (`PluginHandle::evaluate_encoded`);
//! - `abi_loaded_library`: the release-built `libpraxis_fibromyalgia.so`
//!   opened by the real host (`PluginRegistry` + `LoadedPlugin::evaluate`),
//!   which also validates and stamps the guidance;
//!
//! and, to show what dominates, the JSON work alone (`json_*`) and the host's
//! own check of the answer alone (`host_validate`).
//!
//! Run: `cargo bench -p praxis-tests --bench abi`. The loaded library is
//! built by the bench itself (`cargo build --release -p praxis-fibromyalgia`
//! into `target/e2e`) so both sides are optimised alike.

use std::collections::BTreeSet;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use praxis_core::plugin_host::{Candidate, DefaultPolicy, Origin, PluginRegistry};
use praxis_fibromyalgia::{Fibromyalgia, PLUGIN_ID};
use praxis_sdk::abi::PluginHandle;
use praxis_sdk::testing::{ClientBuilder, massage};
use praxis_sdk::{
    AdverseEvent, ClientSnapshot, ConditionStatus, Date, Guidance, Plugin, Pressure, Protocol, ProtocolInput, snomed,
};
use praxis_tests::{Profile, cargo_build, library_file_name};

const AS_OF: &str = "2026-11-21";

/// A fibromyalgia client with 24 sessions over most of a year: mostly light
/// massages with pain scores and techniques, two flares, a stopped session.
fn client() -> ClientSnapshot {
    let mut builder = ClientBuilder::new("bench-client")
        .condition(snomed::FIBROMYALGIA, ConditionStatus::Active)
        .condition(snomed::OSTEOARTHRITIS, ConditionStatus::Active)
        .tender_point("neck")
        .tender_point("upper back")
        .intake("2026-01-05");
    let first: Date = "2026-01-12".parse().unwrap();
    for i in 0..24 {
        let on = first.add_days(i * 13).to_string();
        let before = 6 - (i % 3) as u8;
        let mut session =
            massage(&on).minutes(30).pressure(Pressure::Light).pain(before, before - 1).follow_up(before - 2);
        if i == 9 || i == 17 {
            session = session.pain(before, before + 2).adverse(AdverseEvent::Flare);
        }
        if i == 12 {
            session = session.adverse(AdverseEvent::StoppedEarly { reason: "pain rose during the session".into() });
        }
        session.0.techniques = vec!["swedish".into(), "myofascial release".into()];
        session.0.regions = vec!["neck".into(), "shoulders".into(), "upper back".into()];
        builder = builder.session(session);
    }
    let client = builder.build();
    assert_eq!(client.sessions.len(), 24);
    client
}

fn bench(c: &mut Criterion) {
    let as_of: Date = AS_OF.parse().unwrap();
    let client = client();
    let plugin = Fibromyalgia;
    let settings = plugin.manifest().default_settings();
    let input = ProtocolInput { as_of, client: client.clone(), settings };
    let in_process = PluginHandle::from_static(praxis_fibromyalgia::praxis_plugin_table()).unwrap();

    let lib_dir = cargo_build(Profile::Release, &["praxis-fibromyalgia"]);
    let path = lib_dir.join(library_file_name("praxis_fibromyalgia"));
    let mut registry = PluginRegistry::default();
    let candidate = Candidate { path: path.clone(), origin: Origin::ExecutableFolder };
    let report = registry.load_file(&candidate, &BTreeSet::new(), &DefaultPolicy);
    assert_eq!(report.status, "loaded", "{}: {:?}", path.display(), report.reason);
    let loaded = registry.get(PLUGIN_ID).unwrap();

    // All three must give the same answer, or the comparison means nothing.
    let expected = plugin.evaluate(&input).unwrap();
    assert!(!expected.cards.is_empty(), "the benchmark client should get guidance");
    assert_eq!(in_process.evaluate(&input).unwrap(), expected);
    let mut stamped = loaded.evaluate(as_of, &client).unwrap();
    for card in &mut stamped.cards {
        card.source.plugin = None;
        card.source.version = None;
    }
    assert_eq!(stamped, expected);

    let request = serde_json::to_vec(&input).unwrap();
    let answer = serde_json::to_vec(&expected).unwrap();
    eprintln!("request {} bytes, answer {} bytes, {} cards", request.len(), answer.len(), expected.cards.len());

    let mut group = c.benchmark_group("evaluate_24_sessions");
    group.bench_function("static_trait_call", |b| b.iter(|| plugin.evaluate(black_box(&input)).unwrap()));
    group.bench_function("abi_in_process", |b| b.iter(|| in_process.evaluate(black_box(&input)).unwrap()));
    // What a host pays per plugin when it encodes a client once for all plugins.
    group.bench_function("abi_in_process_request_encoded_once", |b| {
        b.iter(|| in_process.evaluate_encoded(black_box(&request)).unwrap())
    });
    group.bench_function("abi_loaded_library", |b| b.iter(|| loaded.evaluate(as_of, black_box(&client)).unwrap()));
    group.bench_function("json_round_trip", |b| {
        b.iter(|| {
            let request = serde_json::to_vec(black_box(&input)).unwrap();
            let decoded: ProtocolInput = serde_json::from_slice(&request).unwrap();
            let answer = serde_json::to_vec(black_box(&expected)).unwrap();
            let guidance: Guidance = serde_json::from_slice(&answer).unwrap();
            (decoded, guidance)
        })
    });
    group.bench_function("json_encode_request", |b| b.iter(|| serde_json::to_vec(black_box(&input)).unwrap()));
    group.bench_function("json_decode_request", |b| {
        b.iter(|| serde_json::from_slice::<ProtocolInput>(black_box(&request)).unwrap())
    });
    group.bench_function("json_encode_answer", |b| b.iter(|| serde_json::to_vec(black_box(&expected)).unwrap()));
    group.bench_function("json_decode_answer", |b| {
        b.iter(|| serde_json::from_slice::<Guidance>(black_box(&answer)).unwrap())
    });
    group.bench_function("host_validate", |b| b.iter(|| black_box(&expected).validate().unwrap()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
