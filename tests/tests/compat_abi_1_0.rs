//! ABI 1.0 plugins keep working: a plugin built against a frozen copy of
//! praxis-sdk 0.1.0 (`tests/fixtures/abi-1.0/`, its own workspace and lock
//! file) loads in this host, in process and in its own process, and gives
//! exactly the cards of `golden.json` for the clients of `clients.json`.
//!
//! This test and its fixture never change: the golden file was written once,
//! by the ABI 1.1 host the fixture was made with. If it fails, the host broke
//! ABI 1.0 plugins; fix the host, not the fixture.

use std::path::{Path, PathBuf};
use std::process::Command;

use praxis_core::plugin_host::{Candidate, Isolation, Origin, PluginPolicy, PluginRegistry};
use praxis_sdk::{ClientSnapshot, Date, Guidance, Settings};

fn fixture_dir() -> PathBuf {
    praxis_tests::workspace_root().join("tests").join("fixtures").join("abi-1.0")
}

/// Builds the fixture with its own lock file into `target/e2e/abi-1.0`.
fn build_fixture() -> PathBuf {
    let target = praxis_tests::e2e_target_dir().join("abi-1.0");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(fixture_dir())
        .args(["build", "--locked", "-p", "fixture-abi-1-0", "--target-dir"])
        .arg(&target)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    assert!(out.status.success(), "the ABI 1.0 fixture does not build:\n{}", String::from_utf8_lossy(&out.stderr));
    target.join("debug").join(praxis_tests::library_file_name("fixture_abi_1_0"))
}

struct Policy {
    isolation: Isolation,
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
        Some(praxis_tests::artifacts().praxis_bin.clone())
    }
}

fn guidance(library: &Path, isolation: Isolation) -> Vec<Guidance> {
    let text = std::fs::read_to_string(fixture_dir().join("clients.json")).unwrap();
    let mut input: serde_json::Value = serde_json::from_str(&text).unwrap();
    let as_of: Date = serde_json::from_value(input["as_of"].take()).unwrap();
    let clients: Vec<ClientSnapshot> = serde_json::from_value(input["clients"].take()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut registry = PluginRegistry::with_cache_dir(Some(cache.path().to_path_buf()));
    let sha = praxis_core::plugin_host::sha256_file(library).unwrap();
    let candidate = Candidate { path: library.to_path_buf(), origin: Origin::ConfigFolder };
    let report = registry.load_file(&candidate, &[sha].into(), &Policy { isolation }).clone();
    assert_eq!(report.reason, None, "the ABI 1.0 fixture is refused");
    assert_eq!(report.abi.as_deref(), Some("1.0"));
    assert_eq!(report.sdk_version.as_deref(), Some("0.1.0"));
    assert_eq!(report.isolation, Some(isolation));
    let plugin = registry.get("abi-1-0-fixture").expect("loaded");
    clients.iter().map(|c| plugin.evaluate(as_of, c).unwrap_or_else(|e| panic!("{}: {e}", c.id))).collect()
}

#[test]
fn a_plugin_built_with_the_abi_1_0_sdk_loads_and_gives_the_same_cards() {
    let library = build_fixture();
    let golden_path = fixture_dir().join("golden.json");
    let golden: Vec<Guidance> =
        std::fs::read_to_string(&golden_path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    for isolation in [Isolation::InProcess, Isolation::Process] {
        let got = guidance(&library, isolation);
        if got != golden {
            let actual = praxis_tests::e2e_target_dir().join("abi-1.0-actual.json");
            std::fs::write(&actual, serde_json::to_string_pretty(&got).unwrap()).unwrap();
            panic!(
                "{isolation:?}: the ABI 1.0 fixture's cards differ from {}; this host's are in {}",
                golden_path.display(),
                actual.display()
            );
        }
    }
    assert_eq!(golden.len(), 4);
    assert!(golden.iter().map(|g| g.cards.len()).sum::<usize>() >= 12, "the golden cards say something");
}
