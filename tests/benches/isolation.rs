//! The cost of running a plugin in its own process (`praxis plugin-host`),
//! against the same release-built `libpraxis_fibromyalgia.so` loaded in
//! process, in one run:
//!
//! - `one_call_in_process` / `one_call_isolated`: one evaluation of a client
//!   with 24 sessions through `LoadedPlugin::evaluate`;
//! - `clinic_10000_in_process` / `clinic_10000_isolated`: a full evaluation
//!   of 10,000 generated clients through the clinic world (safety screen,
//!   plugin, insurance, merge), the isolated plugin's calls spread over its
//!   children (one per worker thread).
//!
//! Run: `cargo bench -p praxis-tests --bench isolation`. The bench builds the
//! release `praxis` binary and the plugin into `target/e2e/release` first,
//! and prints the two ratios at the end.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::Criterion;
use praxis_core::plugin_host::{Candidate, Isolation, Origin, PluginPolicy, PluginRegistry, sha256_file};
use praxis_core::world::{ClinicWorld, HostRules};
use praxis_sdk::testing::{ClientBuilder, massage};
use praxis_sdk::{ClientSnapshot, ConditionStatus, Date, Pressure, Settings, snomed};
use praxis_tests::{Profile, cargo_build, library_file_name};

const CLIENTS: usize = 10_000;
const AS_OF: &str = "2026-11-21";

struct Policy {
    isolation: Isolation,
    program: PathBuf,
}

impl PluginPolicy for Policy {
    fn enabled(&self, _: &str) -> bool {
        true
    }
    fn settings(&self, _: &str) -> Settings {
        Settings::new()
    }
    fn isolation(&self, _: &str, _: Origin) -> Isolation {
        self.isolation
    }
    fn plugin_host_program(&self) -> Option<PathBuf> {
        Some(self.program.clone())
    }
}

fn registry(lib: &Path, program: &Path, isolation: Isolation, cache: &Path) -> PluginRegistry {
    let mut registry = PluginRegistry::with_cache_dir(Some(cache.to_path_buf()));
    let trusted: BTreeSet<String> = [sha256_file(lib).unwrap()].into();
    let policy = Policy { isolation, program: program.to_path_buf() };
    let report =
        registry.load_file(&Candidate { path: lib.to_path_buf(), origin: Origin::ConfigFolder }, &trusted, &policy);
    assert_eq!(report.status, "loaded", "{:?}", report.reason);
    assert_eq!(registry.all()[0].isolation(), isolation);
    registry
}

/// A small deterministic generator (64-bit LCG), so every run sees the same clinic.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

/// 10,000 fibromyalgia clients with 4-15 sessions each (as the world bench's clinic).
fn clinic(n: usize) -> Vec<ClientSnapshot> {
    let mut rng = Lcg(42);
    let today: Date = AS_OF.parse().unwrap();
    (0..n)
        .map(|i| {
            let mut b = ClientBuilder::new(&format!("client-{i:05}"))
                .condition(snomed::FIBROMYALGIA, ConditionStatus::Active)
                .intake("2026-01-10");
            let sessions = 4 + rng.next(12) as i32;
            let mut on = today.add_days(-(sessions * 14));
            for _ in 0..sessions {
                on = on.add_days(10 + rng.next(8) as i32);
                if on > today {
                    break;
                }
                let before = 3 + rng.next(5) as u8;
                let after = before.saturating_sub(rng.next(4) as u8);
                b = b.session(massage(&on.to_string()).minutes(30).pressure(Pressure::Light).pain(before, after));
            }
            b.build()
        })
        .collect()
}

fn one_client() -> ClientSnapshot {
    let mut b = ClientBuilder::new("bench-client")
        .condition(snomed::FIBROMYALGIA, ConditionStatus::Active)
        .intake("2026-01-05");
    let first: Date = "2026-01-12".parse().unwrap();
    for i in 0..24 {
        let before = 6 - (i % 3) as u8;
        b = b.session(
            massage(&first.add_days(i * 13).to_string()).minutes(30).pressure(Pressure::Light).pain(before, before - 1),
        );
    }
    b.build()
}

fn median_ns(dir: &Path, name: &str) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join("isolation").join(name).join("new").join("estimates.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn main() {
    let bin = cargo_build(Profile::Release, &["praxis-core", "praxis-fibromyalgia"]);
    let program = bin.join("praxis");
    let lib = bin.join(library_file_name("praxis_fibromyalgia"));
    let cache = tempfile::tempdir().unwrap();
    let as_of: Date = AS_OF.parse().unwrap();
    let in_process = registry(&lib, &program, Isolation::InProcess, cache.path());
    let isolated = registry(&lib, &program, Isolation::Process, cache.path());
    let client = one_client();
    let expected = in_process.all()[0].evaluate(as_of, &client).unwrap();
    assert_eq!(isolated.all()[0].evaluate(as_of, &client).unwrap(), expected, "same answer both ways");

    let dir = praxis_tests::e2e_target_dir().parent().unwrap().join("criterion");
    let mut c = Criterion::default().output_directory(&dir).configure_from_args();
    {
        let mut group = c.benchmark_group("isolation");
        for (name, registry) in [("one_call_in_process", &in_process), ("one_call_isolated", &isolated)] {
            let plugin = &registry.all()[0];
            group.bench_function(name, |b| b.iter(|| plugin.evaluate(as_of, black_box(&client)).unwrap()));
        }
        let clients = clinic(CLIENTS);
        group.sample_size(10).measurement_time(Duration::from_secs(20));
        for (name, registry) in [("clinic_10000_in_process", &in_process), ("clinic_10000_isolated", &isolated)] {
            let mut world = ClinicWorld::new(registry.clone(), HostRules::default(), as_of);
            world.hydrate(clients.clone());
            world.evaluate();
            let days = [as_of, as_of.add_days(1)];
            let mut flip = 0;
            group.bench_function(name, |b| {
                b.iter(|| {
                    flip ^= 1;
                    world.set_as_of(days[flip]);
                    let stats = world.evaluate();
                    assert_eq!(stats.clients, CLIENTS);
                    black_box(stats)
                })
            });
        }
        group.finish();
    }
    c.final_summary();
    // The machine is shared: also measure the two clinic evaluations
    // interleaved (A, B, A, B...), so that load drifting during the run
    // weighs on both alike, and report the ratio of their medians.
    let clients = clinic(CLIENTS);
    let mut worlds: Vec<ClinicWorld> = [&in_process, &isolated]
        .iter()
        .map(|r| {
            let mut w = ClinicWorld::new((*r).clone(), HostRules::default(), as_of);
            w.hydrate(clients.clone());
            w.evaluate();
            w
        })
        .collect();
    let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for round in 0..7 {
        for (i, world) in worlds.iter_mut().enumerate() {
            world.set_as_of(as_of.add_days(1 + round % 2));
            let started = std::time::Instant::now();
            black_box(world.evaluate());
            times[i].push(started.elapsed().as_secs_f64());
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (a, b) = (median(&mut times[1]), median(&mut times[0]));
    eprintln!(
        "interleaved clinic_10000: isolated {:.0} ms, in process {:.0} ms, ratio {:.2}×",
        a * 1e3,
        b * 1e3,
        a / b
    );
    for (isolated, baseline) in
        [("one_call_isolated", "one_call_in_process"), ("clinic_10000_isolated", "clinic_10000_in_process")]
    {
        if let (Some(a), Some(b)) = (median_ns(&dir, isolated), median_ns(&dir, baseline)) {
            eprintln!("{isolated}: {:.1} µs, {baseline}: {:.1} µs, ratio {:.2}×", a / 1e3, b / 1e3, a / b);
        }
    }
}
