//! The cost of one evaluation: a direct call of the protocol against the same
//! call through the real ABI (JSON encoding of the request, the `extern "C"`
//! call, decoding of the answer), measured in the same run.
//!
//! `cargo bench -p praxis-fibromyalgia --bench evaluate` prints both medians
//! and the ABI's cost as a multiple of the direct call. The client is a
//! maintenance client with ten years of monthly massages (120 sessions, one
//! flare a year), the heaviest history this plugin reads (it asks for all).

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::Criterion;
use praxis_fibromyalgia::{Fibromyalgia, praxis_plugin_table};
use praxis_sdk::abi::PluginHandle;
use praxis_sdk::prelude::*;
use praxis_sdk::testing::massage;

const GROUP: &str = "fibromyalgia_evaluate";
const DIRECT: &str = "direct_120_sessions";
const ABI: &str = "abi_120_sessions";
const JSON: &str = "request_json_roundtrip_120_sessions";

fn input() -> ProtocolInput {
    let start: Date = "2016-11-01".parse().expect("bench date");
    let mut client = ClientBuilder::new("bench").condition(snomed::FIBROMYALGIA, ConditionStatus::Active);
    for i in 0..120 {
        let on = start.add_days(i * 30).to_string();
        let session = massage(&on).pressure(Pressure::Light);
        client = client.session(if i % 12 == 11 { session.pain(5, 7) } else { session.pain(5, 4) });
    }
    ProtocolInput { as_of: start.add_days(120 * 30), client: client.build(), settings: Settings::new() }
}

fn bench(c: &mut Criterion) {
    let input = input();
    let handle = PluginHandle::from_static(praxis_plugin_table()).expect("table");
    let direct = Fibromyalgia.evaluate(&input).expect("direct");
    assert_eq!(handle.evaluate(&input).expect("abi"), direct, "the ABI and the direct call disagree");
    let mut group = c.benchmark_group(GROUP);
    group.bench_function(DIRECT, |b| b.iter(|| Fibromyalgia.evaluate(black_box(&input)).expect("direct")));
    group.bench_function(ABI, |b| b.iter(|| handle.evaluate(black_box(&input)).expect("abi")));
    // Where the ABI's time goes: encoding and decoding the request alone.
    group.bench_function(JSON, |b| {
        b.iter(|| {
            let bytes = serde_json::to_vec(black_box(&input)).expect("encode");
            serde_json::from_slice::<ProtocolInput>(&bytes).expect("decode")
        })
    });
    group.finish();
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..").join("target"))
}

/// The median of one benchmark, in nanoseconds, from criterion's estimates.
fn median_ns(dir: &Path, name: &str) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join(GROUP).join(name).join("new").join("estimates.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn main() {
    let dir = target_dir().join("criterion");
    let mut criterion = Criterion::default().output_directory(&dir).configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
    match (median_ns(&dir, DIRECT), median_ns(&dir, ABI), median_ns(&dir, JSON)) {
        (Some(direct), Some(abi), Some(json)) => println!(
            "\nfibromyalgia, 120 sessions: direct call {:.1} us, through the ABI {:.1} us ({:.2}x the direct call); \
             encoding and decoding the request alone {:.1} us ({:.0} % of the ABI call)",
            direct / 1e3,
            abi / 1e3,
            abi / direct,
            json / 1e3,
            100.0 * json / abi
        ),
        _ => println!("\n(no ratio: run both benchmarks, without a filter, to compare them)"),
    }
}
