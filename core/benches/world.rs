//! The clinic world's change detection: re-evaluating after one recorded
//! session, against a full evaluation of the same 10,000 clients, in one run.
//!
//! `cargo bench -p praxis-core --bench world` prints both times and their
//! ratio (aim: under 1 %). The clients are generated deterministically; the
//! fibromyalgia protocol is compiled in (a bench target may link one plugin).

use std::path::{Path, PathBuf};
use std::time::Duration;

use std::hint::black_box;

use criterion::Criterion;
use praxis_core::plugin_host::PluginRegistry;
use praxis_core::world::{ClinicWorld, HostRules};
use praxis_sdk::testing::{ClientBuilder, massage};
use praxis_sdk::{
    AdverseEvent, ClientSnapshot, ConditionStatus, Date, InsuranceSummary, Pressure, RedFlagKind, snomed,
};

const CLIENTS: usize = 10_000;
const GROUP: &str = "world";
const FULL: &str = "full_evaluation_10000";
const ONE: &str = "after_one_session_10000";
const HOST_ONLY: &str = "full_evaluation_host_rules_only_10000";

/// A small deterministic generator (64-bit LCG), so every run sees the same clinic.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

fn date(s: &str) -> Date {
    s.parse().expect("bench date")
}

fn generate(n: usize) -> Vec<ClientSnapshot> {
    let mut rng = Lcg(42);
    let today = date("2026-11-21");
    (0..n)
        .map(|i| {
            let mut b = ClientBuilder::new(&format!("client-{i:05}"));
            b = match rng.next(10) {
                0..=6 => b.condition(snomed::FIBROMYALGIA, ConditionStatus::Active),
                7 => b.condition(snomed::OSTEOARTHRITIS, ConditionStatus::Active),
                8 => b.condition(snomed::RHEUMATOID_ARTHRITIS, ConditionStatus::Flare),
                _ => b
                    .condition(snomed::FIBROMYALGIA, ConditionStatus::Active)
                    .condition(snomed::OSTEOARTHRITIS, ConditionStatus::Active),
            };
            if rng.next(10) > 0 {
                b = b.intake("2026-01-10");
            }
            if rng.next(20) == 0 {
                b = b.red_flag(RedFlagKind::RecentInjury, Some("shoulder"), Some("2026-11-02"));
            }
            if rng.next(3) == 0 {
                b = b.insurance(InsuranceSummary {
                    payer: "Acme Health".into(),
                    referral_required: rng.next(2) == 0,
                    referral_on_file: rng.next(2) == 0,
                    covered_conditions: vec![snomed::FIBROMYALGIA.into()],
                    session_limit: Some(12),
                    sessions_used: rng.next(13) as u32,
                });
            }
            let sessions = 4 + rng.next(12) as i32;
            let mut on = today.add_days(-(sessions * 14));
            for _ in 0..sessions {
                on = on.add_days(10 + rng.next(8) as i32);
                if on > today {
                    break;
                }
                let before = 3 + rng.next(5) as u8;
                let after = before.saturating_sub(rng.next(4) as u8) + u8::from(rng.next(8) == 0) * 3;
                let mut s = massage(&on.to_string()).minutes(30).pressure(Pressure::Light).pain(before, after.min(10));
                if rng.next(40) == 0 {
                    s = s.adverse(AdverseEvent::StoppedEarly { reason: "pain rose".into() });
                }
                b = b.session(s);
            }
            b.build()
        })
        .collect()
}

fn world(clients: &[ClientSnapshot]) -> ClinicWorld {
    let registry = PluginRegistry::from_tables(&[praxis_fibromyalgia::praxis_plugin_table()]).expect("plugin table");
    world_with(registry, clients)
}

fn world_with(registry: PluginRegistry, clients: &[ClientSnapshot]) -> ClinicWorld {
    let mut world = ClinicWorld::new(registry, HostRules::default(), date("2026-11-21"));
    world.hydrate(clients.to_vec());
    let stats = world.evaluate();
    assert_eq!(stats.clients, clients.len());
    world
}

fn bench(c: &mut Criterion) {
    let clients = generate(CLIENTS);
    let mut group = c.benchmark_group(GROUP);
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    let mut full = world(&clients);
    let days = [date("2026-11-21"), date("2026-11-22")];
    let mut flip = 0;
    group.bench_function(FULL, |b| {
        b.iter(|| {
            flip ^= 1;
            full.set_as_of(days[flip]);
            let stats = full.evaluate();
            assert_eq!(stats.clients, CLIENTS);
            black_box(stats)
        })
    });
    drop(full);
    // The same clinic without plugins: what the host's own rules and the merge cost.
    let mut host_only = world_with(PluginRegistry::default(), &clients);
    group.bench_function(HOST_ONLY, |b| {
        b.iter(|| {
            flip ^= 1;
            host_only.set_as_of(days[flip]);
            black_box(host_only.evaluate())
        })
    });
    drop(host_only);
    let mut incremental = world(&clients);
    let target = clients[CLIENTS / 2].clone();
    let mut recorded = target.clone();
    recorded.sessions.push(massage("2026-11-21").minutes(30).pressure(Pressure::Light).pain(5, 3).0);
    let versions = [recorded, target];
    let mut which = 0;
    group.sample_size(100).measurement_time(Duration::from_secs(5));
    group.bench_function(ONE, |b| {
        b.iter(|| {
            which ^= 1;
            incremental.upsert_client(versions[which].clone());
            let stats = incremental.evaluate();
            assert_eq!(stats.clients, 1);
            black_box(stats)
        })
    });
    group.finish();
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("target"))
}

/// The median of one benchmark, in nanoseconds, from criterion's estimates.
fn median_ns(dir: &Path, name: &str) -> Option<f64> {
    let path = dir.join(GROUP).join(name).join("new").join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn main() {
    let dir = target_dir().join("criterion");
    let mut criterion = Criterion::default().output_directory(&dir).configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
    match (median_ns(&dir, FULL), median_ns(&dir, ONE)) {
        (Some(full), Some(one)) => {
            println!(
                "\nworld, {CLIENTS} clients: full evaluation {:.2} ms, after one recorded session {:.1} us: {:.3} % \
                 of a full evaluation",
                full / 1e6,
                one / 1e3,
                100.0 * one / full
            );
            if let Some(host) = median_ns(&dir, HOST_ONLY) {
                println!(
                    "host rules and merge alone (no plugin): {:.2} ms, {:.1} % of the full evaluation",
                    host / 1e6,
                    100.0 * host / full
                );
            }
        }
        _ => println!("\n(no ratio: run both benchmarks, without a filter, to compare them)"),
    }
}
