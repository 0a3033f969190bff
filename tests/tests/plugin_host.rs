//! The plugin host over real shared libraries, through the real ABI.
//!
//! Every first-party plugin, the low-back example and the C example plugin
//! load from their built files and answer; each thing the host must refuse
//! has a fixture (`praxis_tests::CFixture`, the misbehaving Rust fixture, a
//! copied library for duplicate ids and trust) and the refusal message must
//! say what is wrong; a failing plugin becomes a warning card while the other
//! plugins' guidance stands; plugin logs reach this process's subscriber; a
//! plugin that aborts is run in a child process. The C header is checked
//! against the Rust layout.
//!
//! The artifacts come from `praxis_tests::artifacts()` (a nested cargo build
//! into `target/e2e` plus the system C compiler).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, Once};

use praxis_core::plugin_host::{
    Candidate, DefaultPolicy, Origin, PLUGIN_FAILURE_RULE, PluginFailure, PluginPolicy, PluginRegistry, PluginReport,
    PluginSearch, sha256_file,
};
use praxis_sdk::abi::{self, PluginHandle, PluginTableV1, PraxisBuffer};
use praxis_sdk::testing::{ClientBuilder, massage, rules};
use praxis_sdk::{
    ClientSnapshot, ConditionStatus, Date, Guidance, Indicator, PluginKind, Pressure, ScheduleRequest, Settings, snomed,
};
use praxis_tests::{Artifacts, CFixture, FIRST_PARTY, artifacts, library_file_name};

// ---------------------------------------------------------------------------
// A tracing subscriber that records every event, with the spans around it.
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Recorded {
    target: String,
    fields: BTreeMap<String, String>,
    /// The spans the event happened in, outermost first: name and fields.
    spans: Vec<(String, BTreeMap<String, String>)>,
}

static EVENTS: Mutex<Vec<Recorded>> = Mutex::new(Vec::new());

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

struct Recorder;

impl<S> tracing_subscriber::Layer<S> for Recorder
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let spans = ctx
            .event_scope(event)
            .map(|scope| {
                scope
                    .from_root()
                    .map(|span| {
                        let fields = span.extensions().get::<Fields>().map(|f| f.0.clone()).unwrap_or_default();
                        (span.name().to_owned(), fields)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let recorded = Recorded { target: event.metadata().target().to_owned(), fields: fields.0, spans };
        EVENTS.lock().unwrap_or_else(|e| e.into_inner()).push(recorded);
    }
}

/// Installs the recorder (before any plugin is loaded, so plugins are told
/// to send every level) and builds the artifacts.
fn init() -> &'static Artifacts {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        use tracing_subscriber::layer::SubscriberExt;
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Recorder))
            .expect("no other global subscriber in this test binary");
    });
    artifacts()
}

fn events_where(predicate: impl Fn(&Recorded) -> bool) -> Vec<Recorded> {
    EVENTS.lock().unwrap_or_else(|e| e.into_inner()).iter().filter(|e| predicate(e)).cloned().collect()
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const AS_OF: &str = "2026-11-21";

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn sha(path: &Path) -> String {
    sha256_file(path).unwrap_or_else(|e| panic!("cannot hash {}: {e}", path.display()))
}

fn trust(paths: &[&Path]) -> BTreeSet<String> {
    paths.iter().map(|p| sha(p)).collect()
}

/// Copies a file into a folder, under a new name.
fn copy_to(file: &Path, dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(file, &to).unwrap_or_else(|e| panic!("cannot copy {} to {}: {e}", file.display(), to.display()));
    to
}

/// The plugin cache of this test process (never the user's own).
fn test_cache() -> PathBuf {
    static CACHE: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| tempfile::tempdir().expect("temp dir")).path().join("plugin-cache")
}

/// Loads one file into a fresh registry.
fn load_with(path: &Path, origin: Origin, trusted: &BTreeSet<String>) -> (PluginRegistry, PluginReport) {
    load_cached(path, origin, trusted, &test_cache())
}

/// Loads one file into a fresh registry whose trusted copies go to `cache`.
fn load_cached(
    path: &Path,
    origin: Origin,
    trusted: &BTreeSet<String>,
    cache: &Path,
) -> (PluginRegistry, PluginReport) {
    let mut registry = PluginRegistry::with_cache_dir(Some(cache.to_path_buf()));
    let candidate = Candidate { path: path.to_path_buf(), origin };
    let report = registry.load_file(&candidate, trusted, &DefaultPolicy).clone();
    (registry, report)
}

/// Loads one file from a practice's plugin folder, its SHA-256 trusted.
fn load_trusted(path: &Path) -> (PluginRegistry, PluginReport) {
    load_with(path, Origin::ConfigFolder, &trust(&[path]))
}

fn assert_loaded(report: &PluginReport) {
    assert_eq!(report.status, "loaded", "{} did not load: {:?}", report.path, report.reason);
    assert_eq!(report.reason, None);
}

fn assert_refused(registry: &PluginRegistry, report: &PluginReport, expected: &str) {
    let reason = report.reason.as_deref().unwrap_or("");
    assert_eq!(report.status, "refused", "{} was not refused: {report:?}", report.path);
    assert!(reason.contains(expected), "refusal of {}\n     got: {reason}\nexpected: {expected}", report.path);
    assert!(registry.all().is_empty(), "a refused file left a plugin in the registry");
}

fn neck_client(id: &str) -> ClientSnapshot {
    ClientBuilder::new(id).condition(snomed::NECK_PAIN, ConditionStatus::Active).intake("2026-10-01").build()
}

/// A registry with the misbehaving fixture (in `mode`) and the C plugin.
fn misbehaving_with_c_plugin(a: &Artifacts, mode: &str) -> PluginRegistry {
    let misbehaving = a.plugin("fixture_misbehaving");
    let trusted = trust(&[&misbehaving, &a.c_plugin]);
    let mut registry = PluginRegistry::default();
    for path in [&misbehaving, &a.c_plugin] {
        let report = registry.load_file(
            &Candidate { path: path.clone(), origin: Origin::ConfigFolder },
            &trusted,
            &DefaultPolicy,
        );
        assert_loaded(report);
    }
    let mut settings = Settings::new();
    settings.insert("mode".into(), mode.into());
    registry.set_settings("misbehaving", settings).unwrap();
    registry
}

// ---------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------

#[test]
fn each_broken_library_is_refused_with_a_message_that_says_what_is_wrong() {
    let a = init();
    let check = |fixture: CFixture, expected: &str| {
        let path = a.c_fixture(fixture);
        let (registry, report) = load_trusted(&path);
        assert_refused(&registry, &report, expected);
        assert_eq!(report.sha256.as_deref(), Some(sha(&path).as_str()), "{fixture}: the report names the file's hash");
    };
    check(CFixture::NotALibrary, "not a loadable shared library: ");
    check(CFixture::NoSymbol, "no `praxis_plugin_v1` symbol: not a Praxis plugin");
    check(CFixture::NullTable, "`praxis_plugin_v1` returned a null table");
    check(CFixture::WrongMagic, "wrong magic number 0x0123456789abcdef (expected 0x4c50534958415250)");
    check(CFixture::AbiMajor2, "plugin speaks ABI major 2, this host speaks 1: rebuild the plugin");
    check(CFixture::AbiMinor99, "plugin needs ABI 1.99 but this host knows only up to 1.1: upgrade Praxis");
    check(CFixture::ManifestNotJson, "bad manifest: plugin returned malformed output: expected value at line 1");
    check(CFixture::ManifestInvalid, "bad manifest: plugin returned malformed output: plugin id `Not A Valid Id` must");
    check(CFixture::ManifestFails, "bad manifest: plugin failed (status 1): the fixture cannot describe itself");
    check(CFixture::NullFreeBuffer, "the table's required function `free_buffer` is NULL");
    check(CFixture::NullManifest, "the table's required function `manifest` is NULL");
    check(CFixture::NoEvaluate, "declares kind `protocol` but the table's `evaluate` entry point is NULL");
}

#[test]
fn a_table_with_a_null_free_buffer_is_refused_but_named() {
    let a = init();
    let (_, report) = load_trusted(&a.c_fixture(CFixture::NullFreeBuffer));
    assert_eq!(report.id.as_deref(), Some("c-fixture-null-free-buffer"));
    assert_eq!(report.conditions, [snomed::NECK_PAIN]);
    let (_, report) = load_trusted(&a.c_fixture(CFixture::NullManifest));
    assert_eq!(report.id, None, "a NULL manifest cannot be read");
}

/// A policy with settings for one plugin and a small answer limit.
struct Practice {
    settings: BTreeMap<String, Settings>,
    configured: Vec<String>,
    max_answer_bytes: usize,
}

impl PluginPolicy for Practice {
    fn enabled(&self, _: &str) -> bool {
        true
    }
    fn settings(&self, id: &str) -> Settings {
        self.settings.get(id).cloned().unwrap_or_default()
    }
    fn setting_location(&self, id: &str, key: &str) -> String {
        format!("praxis.toml, line 9: `plugins.{id}.settings.{key}`")
    }
    fn configured(&self) -> Vec<String> {
        self.configured.clone()
    }
    fn max_answer_bytes(&self) -> usize {
        self.max_answer_bytes
    }
}

#[test]
fn a_client_whose_module_is_not_working_gets_a_warning_card_saying_why() {
    let a = init();
    // An executable folder with only the arthritis module; fibromyalgia is missing.
    let exe = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    copy_to(&a.plugin("praxis_arthritis"), exe.path(), &library_file_name("praxis_arthritis"));
    let null_free = copy_to(&a.c_fixture(CFixture::NullFreeBuffer), folder.path(), &library_file_name("nullfree"));
    let minor = copy_to(&a.c_fixture(CFixture::AbiMinor99), folder.path(), &library_file_name("praxis_fibromyalgia"));
    let low_back = copy_to(&a.plugin("lowback_protocol"), folder.path(), &library_file_name("lowback"));
    let untrusted_copy = copy_to(&a.c_fixture(CFixture::Marker), folder.path(), &library_file_name("stranger"));
    let search = |trusted: BTreeSet<String>, with_minor: bool| {
        if !with_minor {
            let _ = std::fs::remove_file(&minor);
        }
        PluginSearch {
            exe_dir: Some(exe.path().to_path_buf()),
            folders: vec![folder.path().to_path_buf()],
            env_folders: vec![],
            trusted,
            cache_dir: Some(test_cache()),
        }
    };
    let policy = Practice {
        settings: [("low-back".to_owned(), serde_json::json!({"bogus_key": 1}).as_object().unwrap().clone())].into(),
        configured: vec!["low-back".into(), "ghost".into()],
        max_answer_bytes: 1 << 20,
    };
    let registry = PluginRegistry::discover(&search(trust(&[&null_free, &minor, &low_back]), true), &policy);
    let reasons: BTreeMap<&str, &str> =
        registry.unavailable().iter().map(|u| (u.id.as_str(), u.reason.as_str())).collect();
    let check = |id: &str, expected: &str| {
        let got = reasons.get(id).unwrap_or_else(|| panic!("{id} not unavailable: {reasons:?}"));
        assert!(
            got.contains(expected),
            "{id}
     got: {got}
expected: {expected}"
        );
    };
    check("c-fixture-null-free-buffer", "the table's required function `free_buffer` is NULL");
    check("fibromyalgia", "refused: plugin needs ABI 1.99 but this host knows only up to 1.1");
    check(
        "low-back",
        "configuration error: praxis.toml, line 9: `plugins.low-back.settings.bogus_key`: unknown setting `bogus_key`",
    );
    assert!(!reasons.contains_key("arthritis"), "arthritis works: {reasons:?}");
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    // `plugins list` shows the configured module that has no file, and the untrusted one.
    let status = |id_or_file: &str| {
        registry
            .reports()
            .iter()
            .find(|r| r.id.as_deref() == Some(id_or_file) || r.path.ends_with(id_or_file))
            .map(|r| (r.status.clone(), r.reason.clone().unwrap_or_default()))
            .unwrap_or_else(|| panic!("no report for {id_or_file}"))
    };
    let (ghost, why) = status("ghost");
    assert_eq!(ghost, "missing");
    assert!(why.contains("praxis.toml configures `[plugins.ghost]`"), "{why}");
    let (stranger, why) = status(&library_file_name("stranger"));
    assert_eq!(stranger, "refused");
    assert!(why.starts_with("not trusted"), "{why}");
    assert!(untrusted_copy.exists());

    // The guidance of a client with fibromyalgia, neck pain and low back pain:
    // a warning card for each module that is not working, naming it.
    let client = ClientBuilder::new("c1")
        .condition(snomed::FIBROMYALGIA, ConditionStatus::Active)
        .condition(snomed::NECK_PAIN, ConditionStatus::Active)
        .condition(snomed::LOW_BACK_PAIN, ConditionStatus::Active)
        .condition(snomed::OSTEOARTHRITIS, ConditionStatus::Active)
        .intake("2026-10-01")
        .build();
    let g = praxis_core::world::evaluate_client(&registry, &Default::default(), date(AS_OF), &client);
    let warnings: Vec<(&str, &str)> = g
        .cards
        .iter()
        .filter(|c| c.rule == PLUGIN_FAILURE_RULE)
        .map(|c| (c.summary.as_str(), c.detail.as_str()))
        .collect();
    for (id, why) in [
        ("fibromyalgia", "ABI 1.99"),
        ("c-fixture-null-free-buffer", "`free_buffer` is NULL"),
        ("low-back", "configuration error"),
    ] {
        assert!(
            warnings.iter().any(|(s, d)| s.contains(&format!("`{id}`")) && d.contains(why)),
            "no warning card for {id} ({why}) in {warnings:#?}"
        );
    }
    assert_eq!(warnings.len(), 3, "{warnings:#?}");
    assert!(g.cards.iter().any(|c| c.source.plugin.as_deref() == Some("arthritis")), "arthritis still answers");

    // With the fibromyalgia file gone: "not found".
    let registry = PluginRegistry::discover(&search(BTreeSet::new(), false), &DefaultPolicy);
    let fibro = registry.unavailable().iter().find(|u| u.id == "fibromyalgia").expect("fibromyalgia unavailable");
    assert!(fibro.reason.starts_with("not found: no libpraxis_fibromyalgia.so"), "{}", fibro.reason);
    let untrusted = registry.unavailable().iter().find(|u| u.id == "c-fixture-null-free-buffer");
    assert!(untrusted.is_none(), "an untrusted file is never opened, so its conditions are unknown");
}

#[test]
fn an_answer_over_the_size_limit_becomes_a_failure_without_being_read() {
    let a = init();
    let huge = a.c_fixture(CFixture::Huge);
    let check = |max: usize, expected: Result<(), &str>| {
        let policy = Practice { settings: BTreeMap::new(), configured: vec![], max_answer_bytes: max };
        let mut registry = PluginRegistry::default();
        let report = registry
            .load_file(&Candidate { path: huge.clone(), origin: Origin::ConfigFolder }, &trust(&[&huge]), &policy)
            .clone();
        assert_loaded(&report);
        let got = registry.get("c-fixture-huge").unwrap().evaluate(date(AS_OF), &neck_client("c1"));
        match (got, expected) {
            (Ok(_), Ok(())) => {}
            (Err(e), Err(m)) => assert!(e.message.contains(m), "{}", e.message),
            (got, expected) => panic!("max {max}: got {got:?}, expected {expected:?}"),
        }
    };
    check(4 << 20, Err("answer is 8388608 bytes, over the practice's limit of 4194304 bytes"));
    check(16 << 20, Ok(()));
}

#[test]
fn a_file_outside_the_executable_folder_is_refused_before_it_is_opened_unless_trusted() {
    let a = init();
    let dir = tempfile::tempdir().unwrap();
    let copy = copy_to(&a.c_fixture(CFixture::Marker), dir.path(), &library_file_name("untrusted_marker"));
    let digest = sha(&copy);
    // A trusted file is loaded from its private copy, so the marker is written beside that copy.
    let cache = dir.path().join("cache");
    let marker = cache.join(format!("{digest}{}.opened", std::env::consts::DLL_SUFFIX));
    let other_file_trusted = trust(&[&a.c_plugin]);
    let check = |origin: Origin, trusted: &BTreeSet<String>| {
        let (registry, report) = load_cached(&copy, origin, trusted, &cache);
        let expected = format!("not trusted: its SHA-256 {digest} is not in the practice's trust list");
        assert_refused(&registry, &report, &expected);
        assert!(report.reason.as_deref().unwrap().contains("praxis plugins trust FILE"), "says how to trust it");
        assert!(!marker.exists(), "the host opened an untrusted library ({origin:?})");
    };
    check(Origin::ConfigFolder, &BTreeSet::new());
    check(Origin::EnvPath, &BTreeSet::new());
    check(Origin::Direct, &BTreeSet::new());
    check(Origin::ConfigFolder, &other_file_trusted);
    // The same file, trusted, is opened (so the marker above could appear).
    assert!(!PathBuf::from(format!("{}.opened", copy.display())).exists(), "the file itself is never opened");
    let (registry, report) = load_cached(&copy, Origin::ConfigFolder, &trust(&[&copy]), &cache);
    assert_loaded(&report);
    assert_eq!(registry.all()[0].id(), CFixture::Marker.plugin_id());
    assert!(marker.exists(), "the trusted fixture's constructor should have written {}", marker.display());
}

#[test]
fn flipping_a_trusted_symlink_never_gets_an_untrusted_library_opened() {
    let a = init();
    let dir = tempfile::tempdir().unwrap();
    let good = copy_to(&a.c_fixture(CFixture::EvaluateNotJson), dir.path(), "good.so");
    let bad = copy_to(&a.c_fixture(CFixture::Marker), dir.path(), "bad.so");
    let link = dir.path().join(library_file_name("flip"));
    std::os::unix::fs::symlink(&good, &link).unwrap();
    let cache = dir.path().join("cache");
    let trusted = trust(&[&good]);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (mut loaded, mut refused, mut opened_bad) = (0, 0, 0);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            // Swap the link between the trusted and the untrusted file, atomically, as fast as possible.
            let temporary = dir.path().join("flip.tmp");
            let mut to_bad = true;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = std::fs::remove_file(&temporary);
                std::os::unix::fs::symlink(if to_bad { &bad } else { &good }, &temporary).unwrap();
                std::fs::rename(&temporary, &link).unwrap();
                to_bad = !to_bad;
            }
        });
        for _ in 0..300 {
            let (registry, report) = load_cached(&link, Origin::ConfigFolder, &trusted, &cache);
            match registry.all().first().map(|p| p.id().to_owned()) {
                Some(id) if id == CFixture::EvaluateNotJson.plugin_id() => loaded += 1,
                Some(_) => opened_bad += 1,
                None => {
                    assert!(report.reason.as_deref().unwrap().starts_with("not trusted"), "{report:?}");
                    refused += 1;
                }
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let bad_marker = cache.join(format!("{}{}.opened", sha(&bad), std::env::consts::DLL_SUFFIX));
    assert_eq!(opened_bad, 0, "an untrusted library was loaded");
    assert!(!bad_marker.exists(), "the untrusted library's code ran");
    assert_eq!(loaded + refused, 300);
    eprintln!("symlink flip: {loaded} loaded the trusted file, {refused} refused the untrusted one, 0 of 300 ran it");
}

#[test]
fn only_praxis_libraries_next_to_the_executable_are_trusted_without_a_hash() {
    let a = init();
    let exe_dir = tempfile::tempdir().unwrap();
    let marker_fixture = a.c_fixture(CFixture::Marker);
    let first_party = copy_to(&marker_fixture, exe_dir.path(), &library_file_name("praxis_marker"));
    let stranger = copy_to(&marker_fixture, exe_dir.path(), &library_file_name("stranger_marker"));
    let opened = |p: &Path| PathBuf::from(format!("{}.opened", p.display())).exists();
    let search = PluginSearch {
        exe_dir: Some(exe_dir.path().to_path_buf()),
        cache_dir: Some(test_cache()),
        ..PluginSearch::default()
    };
    let registry = PluginRegistry::discover(&search, &DefaultPolicy);
    let reports: Vec<(String, String)> =
        registry.reports().iter().map(|r| (r.path.clone(), r.status.clone())).collect();
    let missing = |lib: &str| (library_file_name(lib), "missing".to_owned());
    assert_eq!(
        reports,
        vec![
            (first_party.display().to_string(), "loaded".to_owned()),
            // The first-party protocols are not in this folder: reported missing.
            missing("praxis_fibromyalgia"),
            missing("praxis_arthritis"),
        ]
    );
    assert_eq!(registry.reports()[0].origin, "executable folder");
    assert!(opened(&first_party), "the first-party library was loaded without a hash");
    assert!(!opened(&stranger), "a library not named praxis_* next to the executable must not be opened");
}

#[test]
fn a_second_plugin_with_an_id_already_loaded_is_refused() {
    let a = init();
    let check = |original: &Path, exe_dir: Option<&Path>, id: &str| {
        let folder = tempfile::tempdir().unwrap();
        let name = original.file_name().unwrap().to_str().unwrap();
        let copy = copy_to(original, folder.path(), name);
        let mut folders = vec![folder.path().to_path_buf()];
        if exe_dir.is_none() {
            // Without the executable folder, the original comes from a plugin folder of its own.
            folders.insert(0, original.parent().unwrap().to_path_buf());
        }
        let search = PluginSearch {
            exe_dir: exe_dir.map(Path::to_path_buf),
            folders,
            env_folders: Vec::new(),
            trusted: trust(&[original]),
            cache_dir: Some(test_cache()),
        };
        let registry = PluginRegistry::discover(&search, &DefaultPolicy);
        let report = registry.reports().iter().find(|r| r.path == copy.display().to_string()).unwrap();
        let expected = format!(
            "a plugin with id `{id}` is already loaded from {}; remove one of the two files",
            original.display()
        );
        assert_eq!(report.status, "refused");
        assert_eq!(report.reason.as_deref(), Some(expected.as_str()));
        assert_eq!(registry.all().iter().filter(|p| p.id() == id).count(), 1);
        assert_eq!(registry.get(id).unwrap().path(), Some(original));
    };
    check(&a.plugin("praxis_fibromyalgia"), Some(&a.bin_dir), "fibromyalgia");
    check(&a.plugin("praxis_combined_therapy"), Some(&a.bin_dir), "combined-therapy");
    check(&a.c_plugin, None, "neck-care-c");
}

// ---------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------

#[test]
fn candidates_come_from_the_executable_folder_then_plugin_folders_then_the_env_path() {
    let root = tempfile::tempdir().unwrap();
    let mk = |dir: &str, files: &[&str]| {
        let dir = root.path().join(dir);
        std::fs::create_dir_all(&dir).unwrap();
        for f in files {
            std::fs::write(dir.join(f), b"not read by candidates()").unwrap();
        }
        dir
    };
    let exe = mk("exe", &["libpraxis_b.so", "libpraxis_a.so", "libother.so", "praxis", "libpraxis_c.so.txt"]);
    let config = mk("config", &["libz.so", "liby.so", "README.md"]);
    let env = mk("env", &["libx.so"]);
    std::fs::create_dir_all(exe.join("libpraxis_dir.so")).unwrap();
    let check = |search: PluginSearch, expected: &[(&str, Origin)]| {
        let got: Vec<(String, Origin)> = search
            .candidates()
            .into_iter()
            .map(|c| (c.path.strip_prefix(root.path()).unwrap().display().to_string(), c.origin))
            .collect();
        let expected: Vec<(String, Origin)> = expected.iter().map(|(p, o)| ((*p).to_owned(), *o)).collect();
        assert_eq!(got, expected);
    };
    let search = |exe_dir: Option<&PathBuf>, folders: &[&PathBuf], env_folders: &[&PathBuf]| PluginSearch {
        exe_dir: exe_dir.cloned(),
        folders: folders.iter().map(|p| (*p).clone()).collect(),
        env_folders: env_folders.iter().map(|p| (*p).clone()).collect(),
        trusted: BTreeSet::new(),
        cache_dir: Some(test_cache()),
    };
    let (e, c, v) = (Origin::ExecutableFolder, Origin::ConfigFolder, Origin::EnvPath);
    check(search(None, &[], &[]), &[]);
    check(search(Some(&exe), &[], &[]), &[("exe/libpraxis_a.so", e), ("exe/libpraxis_b.so", e)]);
    check(search(None, &[&config], &[]), &[("config/liby.so", c), ("config/libz.so", c)]);
    check(search(None, &[], &[&env]), &[("env/libx.so", v)]);
    check(
        search(Some(&exe), &[&config], &[&env]),
        &[
            ("exe/libpraxis_a.so", e),
            ("exe/libpraxis_b.so", e),
            ("config/liby.so", c),
            ("config/libz.so", c),
            ("env/libx.so", v),
        ],
    );
    // A folder named twice, or the executable folder named as a plugin folder: each file once, first origin wins.
    check(search(None, &[&config, &config], &[&config]), &[("config/liby.so", c), ("config/libz.so", c)]);
    check(
        search(Some(&exe), &[&exe], &[]),
        &[("exe/libpraxis_a.so", e), ("exe/libpraxis_b.so", e), ("exe/libother.so", c)],
    );
    // A folder that does not exist is skipped.
    check(search(None, &[&root.path().join("missing")], &[&env]), &[("env/libx.so", v)]);
}

#[test]
fn discovery_loads_what_a_practice_configures_and_reports_what_it_refuses() {
    let a = init();
    let config = tempfile::tempdir().unwrap();
    let env = tempfile::tempdir().unwrap();
    let c_plugin = copy_to(&a.c_plugin, config.path(), &library_file_name("neck_care"));
    let low_back = copy_to(&a.plugin("lowback_protocol"), env.path(), &library_file_name("lowback_protocol"));
    let untrusted = copy_to(&a.c_fixture(CFixture::Marker), env.path(), &library_file_name("untrusted"));
    let not_a_library = copy_to(&a.c_fixture(CFixture::NotALibrary), config.path(), &library_file_name("text"));
    let search = PluginSearch {
        exe_dir: Some(a.bin_dir.clone()),
        folders: vec![config.path().to_path_buf()],
        env_folders: vec![env.path().to_path_buf()],
        trusted: trust(&[&c_plugin, &low_back, &not_a_library]),
        cache_dir: Some(test_cache()),
    };
    let registry = PluginRegistry::discover(&search, &DefaultPolicy);
    let summary: Vec<(String, &str, &str)> = registry
        .reports()
        .iter()
        .map(|r| {
            (
                Path::new(&r.path).file_name().unwrap().to_string_lossy().into_owned(),
                r.origin.as_str(),
                r.status.as_str(),
            )
        })
        .collect();
    let lib = |name: &str| library_file_name(name);
    let expected = [
        (lib("praxis_arthritis"), "executable folder", "loaded"),
        (lib("praxis_combined_therapy"), "executable folder", "loaded"),
        (lib("praxis_fibromyalgia"), "executable folder", "loaded"),
        (lib("neck_care"), "plugin folder", "loaded"),
        (lib("text"), "plugin folder", "refused"),
        (lib("lowback_protocol"), "PRAXIS_PLUGIN_PATH", "loaded"),
        (lib("untrusted"), "PRAXIS_PLUGIN_PATH", "refused"),
    ];
    let expected: Vec<(String, &str, &str)> = expected.iter().map(|(f, o, s)| (f.clone(), *o, *s)).collect();
    assert_eq!(summary, expected);
    let reason = |file: &Path| {
        registry.reports().iter().find(|r| r.path == file.display().to_string()).unwrap().reason.clone().unwrap()
    };
    assert!(reason(&untrusted).starts_with("not trusted: its SHA-256"), "{}", reason(&untrusted));
    assert!(reason(&not_a_library).starts_with("not a loadable shared library"), "{}", reason(&not_a_library));
    let mut protocols: Vec<&str> = registry.protocols().map(|p| p.id()).collect();
    protocols.sort_unstable();
    assert_eq!(protocols, ["arthritis", "fibromyalgia", "low-back", "neck-care-c"]);
    assert_eq!(registry.scheduler().map(|p| p.id()), Some("combined-therapy"));
}

// ---------------------------------------------------------------------------
// Plugins that load and answer
// ---------------------------------------------------------------------------

#[test]
fn every_first_party_plugin_loads_and_answers_through_the_real_abi() {
    let a = init();
    assert_eq!(FIRST_PARTY.len(), 3);
    let check = |lib: &str, id: &str, kind: PluginKind, condition: Option<&str>| {
        let path = a.plugin(lib);
        assert_eq!(path.parent(), Some(a.praxis_bin.parent().unwrap()), "{lib} ships next to the binary");
        let (registry, report) = load_with(&path, Origin::ExecutableFolder, &BTreeSet::new());
        assert_loaded(&report);
        assert_eq!(report.id.as_deref(), Some(id));
        assert_eq!(report.abi.as_deref(), Some("1.1"));
        assert_eq!(report.sdk_version.as_deref(), abi::SDK_VERSION_C.to_str().ok());
        assert_eq!(report.kinds, [kind.as_str()]);
        let plugin = registry.get(id).unwrap();
        assert_eq!(plugin.sha256(), Some(sha(&path).as_str()));
        match condition {
            Some(code) => {
                assert!(plugin.manifest().handles(code), "{id} handles {code}");
                let client =
                    ClientBuilder::new("c1").condition(code, ConditionStatus::Active).intake("2026-10-01").build();
                let guidance = plugin.evaluate(date(AS_OF), &client).unwrap_or_else(|e| panic!("{e}"));
                assert!(!guidance.cards.is_empty(), "{id} says nothing about a client with its condition");
                for card in &guidance.cards {
                    assert_eq!(card.source.plugin.as_deref(), Some(id), "the host stamps the plugin id");
                    assert_eq!(card.source.version.as_deref(), Some(plugin.manifest().version.as_str()));
                }
            }
            None => {
                let request = ScheduleRequest {
                    start: date(AS_OF),
                    days: 14,
                    opening_hours: Vec::new(),
                    practitioners: Vec::new(),
                    rooms: Vec::new(),
                    classes: Vec::new(),
                    booked: Vec::new(),
                    plans: Vec::new(),
                    settings: Settings::new(),
                };
                let proposal = plugin.schedule(&request).unwrap_or_else(|e| panic!("{e}"));
                assert!(proposal.appointments.is_empty() && proposal.unmet.is_empty(), "{proposal:?}");
            }
        }
    };
    check("praxis_fibromyalgia", "fibromyalgia", PluginKind::Protocol, Some(snomed::FIBROMYALGIA));
    check("praxis_arthritis", "arthritis", PluginKind::Protocol, Some(snomed::OSTEOARTHRITIS));
    check("praxis_arthritis", "arthritis", PluginKind::Protocol, Some(snomed::RHEUMATOID_ARTHRITIS));
    check("praxis_combined_therapy", "combined-therapy", PluginKind::Scheduler, None);
}

#[test]
fn the_loaded_fibromyalgia_library_answers_as_the_compiled_in_one_does() {
    let a = init();
    let (registry, report) = load_with(&a.plugin("praxis_fibromyalgia"), Origin::ExecutableFolder, &BTreeSet::new());
    assert_loaded(&report);
    let loaded = registry.get(praxis_fibromyalgia::PLUGIN_ID).unwrap();
    let compiled_in = PluginHandle::from_static(praxis_fibromyalgia::praxis_plugin_table()).unwrap();
    assert_eq!(&compiled_in.manifest().unwrap(), loaded.manifest());
    let check = |client: ClientSnapshot| {
        let input = praxis_sdk::ProtocolInput {
            as_of: date(AS_OF),
            client: client.clone(),
            settings: loaded.settings().clone(),
        };
        let expected = compiled_in.evaluate(&input).unwrap();
        let mut got = loaded.evaluate(date(AS_OF), &client).unwrap();
        for card in &mut got.cards {
            card.source.plugin = None;
            card.source.version = None;
        }
        assert_eq!(got, expected);
    };
    let fibro =
        || ClientBuilder::new("c1").condition(snomed::FIBROMYALGIA, ConditionStatus::Active).intake("2026-01-05");
    check(fibro().build());
    check(fibro().massages(8, 14, "2026-11-10").build());
    check(
        fibro()
            .massages(3, 10, "2026-11-01")
            .session(massage("2026-11-14").pressure(Pressure::Light).pain(4, 7))
            .build(),
    );
    check(fibro().tender_point("neck").massages(2, 7, "2026-08-01").build());
}

#[test]
fn the_low_back_example_loads_only_from_a_trusted_folder_and_answers() {
    let a = init();
    let path = a.plugin("lowback_protocol");
    let (registry, report) = load_with(&path, Origin::ConfigFolder, &BTreeSet::new());
    assert_refused(&registry, &report, "not trusted");
    let (registry, report) = load_trusted(&path);
    assert_loaded(&report);
    let plugin = registry.get("low-back").unwrap();
    assert!(plugin.manifest().is(PluginKind::Protocol));
    let client = ClientBuilder::new("c1").condition(snomed::LOW_BACK_PAIN, ConditionStatus::Active).build();
    let guidance = plugin.evaluate(date(AS_OF), &client).unwrap_or_else(|e| panic!("{e}"));
    assert!(guidance.validate().is_ok());
}

#[test]
fn the_c_plugin_loads_and_returns_guidance() {
    let a = init();
    let (registry, report) = load_trusted(&a.c_plugin);
    assert_loaded(&report);
    assert_eq!(report.abi.as_deref(), Some("1.1"));
    assert_eq!(report.sdk_version.as_deref(), Some("0.2.0"));
    assert_eq!(report.conditions, [snomed::NECK_PAIN]);
    let plugin = registry.get("neck-care-c").unwrap();
    assert_eq!(plugin.manifest().name, "Neck care (C example)");
    assert_eq!(plugin.manifest().history_days, Some(0));
    let check = |client: ClientSnapshot, expected_rules: &[&str]| {
        let guidance = plugin.evaluate(date(AS_OF), &client).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rules(&guidance), expected_rules, "{guidance:#?}");
        guidance
    };
    let guidance = check(neck_client("c1"), &["NECK-1"]);
    let card = &guidance.cards[0];
    assert_eq!(card.indicator, Indicator::Info);
    assert_eq!(card.source.plugin.as_deref(), Some("neck-care-c"));
    assert_eq!(card.source.version.as_deref(), Some("0.1.0"));
    assert!(card.detail.contains("trigger point therapy and Swedish massage"), "{}", card.detail);
    assert!(card.detail.contains("status active") && card.detail.contains(AS_OF), "{}", card.detail);
    let recommendation = guidance.recommendation.as_ref().unwrap();
    assert_eq!(recommendation.prefer, ["trigger point therapy", "swedish massage"]);
    assert_eq!(recommendation.focus_regions, ["neck", "shoulders"]);
    check(ClientBuilder::new("c2").condition(snomed::FIBROMYALGIA, ConditionStatus::Active).build(), &[]);
    check(ClientBuilder::new("c3").build(), &[]);
    let remission = ClientBuilder::new("c4").condition(snomed::NECK_PAIN, ConditionStatus::Remission).build();
    assert!(check(remission, &["NECK-1"]).cards[0].detail.contains("status remission"));
    let with_history = ClientBuilder::new("c5")
        .condition(snomed::NECK_PAIN, ConditionStatus::Flare)
        .massages(24, 7, "2026-11-20")
        .build();
    check(with_history, &["NECK-1"]);
    let failure = plugin.schedule(&ScheduleRequest {
        start: date(AS_OF),
        days: 7,
        opening_hours: Vec::new(),
        practitioners: Vec::new(),
        rooms: Vec::new(),
        classes: Vec::new(),
        booked: Vec::new(),
        plans: Vec::new(),
        settings: Settings::new(),
    });
    let failure = failure.unwrap_err();
    assert_eq!(failure.plugin, "neck-care-c");
    assert_eq!(failure.message, "plugin does not implement `schedule`");
}

/// Sends one request to the C plugin's JSON reader (compiled into a driver
/// program) and checks the status and the answer.
#[test]
fn the_c_plugin_reads_its_request_strictly() {
    let a = init();
    let run = |args: &[&str], input: &[u8]| {
        use std::io::Write;
        let mut child = Command::new(&a.c_plugin_driver)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "driver failed: {output:?}");
        let text = String::from_utf8(output.stdout).expect("the C plugin answers UTF-8");
        let (status, answer) = text.split_once('\n').unwrap();
        (status.to_owned(), answer.to_owned())
    };
    let check = |input: &str, expected_status: i32, expected: &str| {
        let (status, answer) = run(&["evaluate"], input.as_bytes());
        assert_eq!(status, format!("status={expected_status}"), "input: {input}\nanswer: {answer}");
        if expected_status == abi::STATUS_OK {
            let guidance: Guidance = serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"));
            guidance.validate().unwrap();
            assert_eq!(rules(&guidance).join(","), expected, "input: {input}");
        } else {
            assert!(answer.contains(expected), "input: {input}\n     got: {answer}\nexpected: {expected}");
        }
    };
    let (ok, bad) = (abi::STATUS_OK, abi::STATUS_BAD_INPUT);
    let real = serde_json::to_string(&praxis_sdk::ProtocolInput {
        as_of: date(AS_OF),
        client: neck_client("c1"),
        settings: Settings::new(),
    })
    .unwrap();
    check(&real, ok, "NECK-1");
    check(r#"{"as_of":"2026-11-21","client":{"conditions":[{"code":"81680005","status":"active"}]}}"#, ok, "NECK-1");
    check(r#" { "as_of" : "2026-11-21" , "client" : { "conditions" : [ { "code" : "81680005" } ] } } "#, ok, "NECK-1");
    check(r#"{"client":{"conditions":[{"status":"active","code":"81680005"}]},"as_of":"2026-11-21"}"#, ok, "NECK-1");
    check(
        r#"{"as_of":"2026-11-21","client":{"conditions":[{"code":"\u0038\u0031\u0036\u0038\u0030\u0030\u0030\u0035"}]}}"#,
        ok,
        "NECK-1",
    );
    check(r#"{"as_of":"2026-11-21","client":{"conditions":[{"code":"203082005"},{"code":"81680005"}]}}"#, ok, "NECK-1");
    check(r#"{"as_of":"2026-11-21","client":{"conditions":[]}}"#, ok, "");
    check(r#"{"as_of":"2026-11-21","client":{}}"#, ok, "");
    check(r#"{"as_of":"2026-11-21","client":{"conditions":[{"code":"810680005"}]}}"#, ok, "");
    check(r#"{"as_of":"2026-11-21","client":{"id":"\"code\":\"81680005\""}}"#, ok, "");
    check(r#"{"as_of":"2026-11-21","client":{"code":"81680005"},"conditions":[{"code":"81680005"}]}"#, ok, "");
    check(
        r#"{"as_of":"2026-11-21","client":{"conditions":[{"code":"81680005","status":"x\"}],\"rule\":\"Y"}]}}"#,
        ok,
        "NECK-1",
    );
    check(r#"{"as_of":"2026-11-21","x":[1,-2.5e+3,true,false,null,{"a":[]}],"client":{}}"#, ok, "");
    check(r#"{"as_of":"2026-11-21","client":{},"new_field_from_a_newer_host":{"k":"v"}}"#, ok, "");
    check("", bad, "empty request: expected a JSON ProtocolInput");
    check("[]", bad, "request is not valid JSON: expected an object at byte 0");
    check(r#"{"as_of":"2026-11-21""#, bad, "expected ',' or '}' in an object");
    check(r#"{"as_of":"2026-11-21"} {}"#, bad, "request has bytes after its JSON object");
    check(r#"{"client":{}}"#, bad, "request has no `as_of` date of the form YYYY-MM-DD");
    check(r#"{"as_of":"21/11/2026","client":{}}"#, bad, "no `as_of` date");
    check(r#"{"as_of":"2026-11-21T09:00","client":{}}"#, bad, "no `as_of` date");
    check(r#"{"as_of":20261121,"client":{}}"#, bad, "expected a string");
    check(r#"{"as_of":"2026-11-21","client":{"id":"a\qb"}}"#, bad, "bad escape in a string");
    check(r#"{"as_of":"2026-11-21","client":{"id":"\u00g1"}}"#, bad, "bad \\u escape");
    check("{\"as_of\":\"2026-11-21\",\"client\":{\"id\":\"a\tb\"}}", bad, "control character in a string");
    check(r#"{"as_of":"2026-11-21","client":{"id":"open}}"#, bad, "unterminated string");
    check(r#"{"as_of":"2026-11-21","n":-}"#, bad, "bad number");
    check(r#"{"as_of":"2026-11-21","n":1.}"#, bad, "bad number");
    check(r#"{"as_of":"2026-11-21","b":tru}"#, bad, "unexpected character");
    check(r#"{"as_of" "2026-11-21"}"#, bad, "expected ':' after a key");
    check(r#"{"as_of":"2026-11-21","a":[1 2]}"#, bad, "expected ',' or ']' in an array");
    let deep = format!(r#"{{"as_of":"2026-11-21","a":{}{}}}"#, "[".repeat(200), "]".repeat(200));
    check(&deep, bad, "nested too deeply");
    let (status, _) = run(&["evaluate"], b"{\"as_of\":\"2026-11-21\",\"client\":{\"id\":\"\xff\xfe\"}}");
    assert_eq!(status, "status=0", "bytes that are not UTF-8 inside a string are tolerated, not copied out");
    let (status, manifest) = run(&["manifest"], b"");
    assert_eq!(status, "status=0");
    let manifest: praxis_sdk::Manifest = serde_json::from_str(&manifest).unwrap();
    manifest.validate().unwrap();
    assert_eq!(manifest.id, "neck-care-c");
}

// ---------------------------------------------------------------------------
// Plugins that fail
// ---------------------------------------------------------------------------

#[test]
fn a_failing_plugin_becomes_a_warning_card_naming_it_while_other_plugins_answer() {
    let a = init();
    let check = |mode: &str, expected: Result<&str, &str>| {
        let registry = misbehaving_with_c_plugin(a, mode);
        let client = neck_client(&format!("client-{mode}"));
        let misbehaving = registry.get("misbehaving").unwrap().evaluate(date(AS_OF), &client);
        match (misbehaving, expected) {
            (Ok(guidance), Ok(rule)) => assert_eq!(rules(&guidance), [rule]),
            (Err(failure), Err(message)) => {
                assert_eq!(failure.plugin, "misbehaving");
                assert!(
                    failure.message.contains(message),
                    "mode {mode}\n     got: {}\nexpected: {message}",
                    failure.message
                );
                let card = failure.to_card();
                assert_eq!(card.indicator, Indicator::Warning);
                assert_eq!(card.rule, PLUGIN_FAILURE_RULE);
                assert!(card.summary.starts_with("Plugin `misbehaving` failed ("), "{}", card.summary);
                assert!(card.summary.chars().count() <= 140, "{}", card.summary);
                assert!(card.detail.contains(&failure.message), "{}", card.detail);
                assert!(card.detail.contains("The other modules' guidance still stands"));
                assert_eq!(card.source.plugin.as_deref(), Some("host"));
                Guidance { cards: vec![card], ..Guidance::default() }.validate().unwrap();
            }
            (got, expected) => panic!("mode {mode}: got {got:?}, expected {expected:?}"),
        }
        // The other plugin in the same registry still answers.
        let other = registry.get("neck-care-c").unwrap().evaluate(date(AS_OF), &client).unwrap();
        assert_eq!(rules(&other), ["NECK-1"]);
    };
    check("ok", Ok("X1"));
    check("panic", Err("plugin panicked: the fixture panics on purpose"));
    check("error", Err("plugin failed (status 1): the fixture fails on purpose"));
    check("nonsense", Err("plugin failed (status 1): bad settings: unknown mode `nonsense`"));
    check("empty-summary", Err("invalid guidance: card 0 (rule `X1`) has an empty summary"));
    check("bad-interval", Err("invalid guidance: recommendation.interval_days has min 14 above max 7"));
    // After a panic the library still answers the next call.
    check("panic", Err("plugin panicked"));
    check("ok", Ok("X1"));
}

#[test]
fn malformed_answers_are_refused_and_the_plugin_named() {
    let a = init();
    let check = |fixture: CFixture, expected: &str| {
        let path = a.c_fixture(fixture);
        let (registry, report) = load_trusted(&path);
        assert_loaded(&report);
        let id = fixture.plugin_id();
        let failure: PluginFailure = registry.get(&id).unwrap().evaluate(date(AS_OF), &neck_client("c1")).unwrap_err();
        assert_eq!(failure.plugin, id);
        assert!(failure.message.contains(expected), "{fixture}\n     got: {}\nexpected: {expected}", failure.message);
        assert!(failure.to_card().summary.contains(&format!("`{id}`")));
    };
    check(CFixture::EvaluateNotJson, "plugin returned malformed output: expected value at line 1 column 1");
    check(CFixture::EvaluateNotUtf8, "plugin returned malformed output: ");
    check(CFixture::EvaluateBadIndicator, "plugin returned malformed output: unknown variant `urgent`");
}

#[test]
fn settings_a_plugin_does_not_declare_are_refused() {
    let a = init();
    let registry = misbehaving_with_c_plugin(a, "ok");
    let mut registry = registry;
    let check = |registry: &mut PluginRegistry, id: &str, settings: serde_json::Value, expected: &str| {
        let settings = settings.as_object().unwrap().clone();
        let error = registry.set_settings(id, settings).unwrap_err().to_string();
        assert!(error.contains(expected), "\n     got: {error}\nexpected: {expected}");
    };
    check(
        &mut registry,
        "misbehaving",
        serde_json::json!({"mood": "ok"}),
        "unknown setting `mood`; plugin `misbehaving` accepts: mode",
    );
    check(&mut registry, "misbehaving", serde_json::json!({"mode": 3}), "setting `mode` must be a string");
    check(&mut registry, "neck-care-c", serde_json::json!({"x": 1}), "plugin `neck-care-c` accepts: no settings");
    check(&mut registry, "nobody", serde_json::json!({}), "no plugin with id `nobody` is loaded");
}

#[test]
fn a_practice_policy_switches_plugins_off_and_gives_their_settings() {
    struct Policy;
    impl PluginPolicy for Policy {
        fn enabled(&self, id: &str) -> bool {
            id != "neck-care-c"
        }
        fn settings(&self, id: &str) -> Settings {
            let mut settings = Settings::new();
            if id == "misbehaving" {
                settings.insert("mode".into(), "error".into());
            }
            settings
        }
    }
    let a = init();
    let misbehaving = a.plugin("fixture_misbehaving");
    let trusted = trust(&[&misbehaving, &a.c_plugin]);
    let mut registry = PluginRegistry::default();
    for path in [&misbehaving, &a.c_plugin] {
        registry.load_file(&Candidate { path: path.clone(), origin: Origin::ConfigFolder }, &trusted, &Policy);
    }
    let statuses: Vec<&str> = registry.reports().iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["loaded", "disabled"]);
    let protocols: Vec<&str> = registry.protocols().map(|p| p.id()).collect();
    assert_eq!(protocols, ["misbehaving"]);
    let failure = registry.get("misbehaving").unwrap().evaluate(date(AS_OF), &neck_client("c1")).unwrap_err();
    assert!(failure.message.contains("the fixture fails on purpose"), "{}", failure.message);
}

// ---------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------

#[test]
fn plugin_logs_reach_the_host_subscriber_inside_the_call_span() {
    let a = init();
    let registry = misbehaving_with_c_plugin(a, "ok");
    registry.get("misbehaving").unwrap().evaluate(date(AS_OF), &neck_client("log-client-7")).unwrap();
    let check = |plugin: &str, message: &str, client: &str, plugin_target: &str| {
        let found = events_where(|e| {
            e.target == "praxis::plugin"
                && e.fields.get("plugin").map(String::as_str) == Some(plugin)
                && e.fields.get("message").is_some_and(|m| m.contains(message))
        });
        let [event] = found.as_slice() else { panic!("expected one `{message}` event from {plugin}, got {found:#?}") };
        assert_eq!(event.fields.get("plugin_target").map(String::as_str), Some(plugin_target));
        let span = event.spans.iter().find(|(name, _)| name == "plugin.evaluate");
        let Some((_, fields)) = span else { panic!("the plugin's log is not inside the host's call span: {event:#?}") };
        assert_eq!(fields.get("plugin").map(String::as_str), Some(plugin));
        assert_eq!(fields.get("client").map(String::as_str), Some(client));
    };
    // The plugin's own fields travel with its message.
    let message = r#"misbehaving fixture called mode="ok" client=log-client-7"#;
    check("misbehaving", message, "log-client-7", "fixture_misbehaving");
    let as_of = "2031-03-15";
    registry.get("neck-care-c").unwrap().evaluate(date(as_of), &neck_client("log-client-8")).unwrap();
    check(
        "neck-care-c",
        "evaluated for 2031-03-15: neck pain on record (active), card NECK-1",
        "log-client-8",
        "neck_care_c",
    );
    // The host logs each refusal as a warning naming the file.
    let path = a.c_fixture(CFixture::WrongMagic);
    load_trusted(&path);
    let refusals = events_where(|e| {
        e.fields.get("message").map(String::as_str) == Some("plugin refused")
            && e.fields.get("path") == Some(&path.display().to_string())
    });
    assert!(!refusals.is_empty(), "no `plugin refused` event for {}", path.display());
    assert!(refusals[0].fields["reason"].starts_with("wrong magic number"), "{:?}", refusals[0]);
}

// ---------------------------------------------------------------------------
// A plugin that aborts the process
// ---------------------------------------------------------------------------

const ABORT_CHILD: &str = "PRAXIS_TEST_ABORT_CHILD_PLUGIN";
const CHILD_CALLING: &str = "child: calling the plugin in abort mode";

/// In the child (the env var names the fixture): load it and make it abort.
/// In the parent: run this same test in a child process and check that the
/// child died by SIGABRT after reaching the call, while this process lives on.
#[test]
fn a_plugin_that_aborts_kills_only_the_process_it_runs_in() {
    if let Some(fixture) = std::env::var_os(ABORT_CHILD) {
        let fixture = PathBuf::from(fixture);
        let mut registry = PluginRegistry::default();
        let trusted = trust(&[&fixture]);
        assert_loaded(registry.load_file(
            &Candidate { path: fixture, origin: Origin::ConfigFolder },
            &trusted,
            &DefaultPolicy,
        ));
        let mut settings = Settings::new();
        settings.insert("mode".into(), "abort".into());
        registry.set_settings("misbehaving", settings).unwrap();
        println!("{CHILD_CALLING}");
        let result = registry.get("misbehaving").unwrap().evaluate(date(AS_OF), &neck_client("c1"));
        panic!("the abort fixture returned instead of aborting: {result:?}");
    }
    let a = init();
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_plugin_that_aborts_kills_only_the_process_it_runs_in", "--nocapture", "--test-threads=1"])
        .env(ABORT_CHILD, a.plugin("fixture_misbehaving"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(CHILD_CALLING), "the child did not reach the call: {output:?}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        const SIGABRT: i32 = 6;
        assert_eq!(output.status.signal(), Some(SIGABRT), "the child should die by SIGABRT: {output:?}");
    }
    assert!(!output.status.success());
    assert!(!stdout.contains("test result: ok"), "{stdout}");
}

// ---------------------------------------------------------------------------
// The C header
// ---------------------------------------------------------------------------

#[test]
fn the_c_header_matches_the_rust_abi() {
    use std::mem::{align_of, offset_of, size_of};
    let a = init();
    let output = Command::new(&a.layout_probe).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let mut probed: BTreeMap<String, String> = text
        .lines()
        .map(|line| {
            let (k, v) = line.split_once('=').unwrap_or_else(|| panic!("bad probe line `{line}`"));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let mut check = |name: &str, rust: String| {
        let c = probed.remove(name).unwrap_or_else(|| panic!("the probe does not print `{name}`"));
        assert_eq!(c, rust, "{name}: C header says {c}, Rust says {rust}");
    };
    check("size_of(PraxisBuffer)", size_of::<PraxisBuffer>().to_string());
    check("align_of(PraxisBuffer)", align_of::<PraxisBuffer>().to_string());
    check("offset_of(PraxisBuffer.ptr)", offset_of!(PraxisBuffer, ptr).to_string());
    check("offset_of(PraxisBuffer.len)", offset_of!(PraxisBuffer, len).to_string());
    check("offset_of(PraxisBuffer.cap)", offset_of!(PraxisBuffer, cap).to_string());
    check("size_of(PraxisPluginTableV1)", size_of::<PluginTableV1>().to_string());
    check("align_of(PraxisPluginTableV1)", align_of::<PluginTableV1>().to_string());
    // The table's fields are private (safe code cannot change them), so the
    // SDK gives their offsets.
    for (field, offset) in PluginTableV1::FIELD_OFFSETS {
        check(&format!("offset_of(PraxisPluginTableV1.{field})"), offset.to_string());
    }
    check("PRAXIS_MAGIC", abi::MAGIC.to_string());
    check("PRAXIS_ABI_MAJOR", abi::ABI_MAJOR.to_string());
    check("PRAXIS_ABI_MINOR", abi::ABI_MINOR.to_string());
    check("PRAXIS_STATUS_OK", abi::STATUS_OK.to_string());
    check("PRAXIS_STATUS_ERROR", abi::STATUS_ERROR.to_string());
    check("PRAXIS_STATUS_PANIC", abi::STATUS_PANIC.to_string());
    check("PRAXIS_STATUS_BAD_INPUT", abi::STATUS_BAD_INPUT.to_string());
    check("PRAXIS_STATUS_UNSUPPORTED", abi::STATUS_UNSUPPORTED.to_string());
    check("PRAXIS_LOG_ERROR", abi::LOG_ERROR.to_string());
    check("PRAXIS_LOG_WARN", abi::LOG_WARN.to_string());
    check("PRAXIS_LOG_INFO", abi::LOG_INFO.to_string());
    check("PRAXIS_LOG_DEBUG", abi::LOG_DEBUG.to_string());
    check("PRAXIS_LOG_TRACE", abi::LOG_TRACE.to_string());
    check("PRAXIS_SDK_VERSION", abi::SDK_VERSION_C.to_str().unwrap().to_owned());
    check("PRAXIS_SYMBOL_V1", String::from_utf8(abi::SYMBOL_V1.to_vec()).unwrap());
    assert!(probed.is_empty(), "the probe prints values this test does not check: {probed:?}");
}

// ---------------------------------------------------------------------------
// Unknown fields in answers
// ---------------------------------------------------------------------------

#[test]
fn unknown_fields_in_a_plugins_manifest_and_first_answer_are_logged_once() {
    let a = init();
    let path = a.c_fixture(CFixture::Slips);
    let (registry, report) = load_trusted(&path);
    assert_loaded(&report);
    let id = CFixture::Slips.plugin_id();
    let warnings = |answer: &str| {
        events_where(|e| {
            e.fields.get("plugin") == Some(&id)
                && e.fields.get("answer").map(String::as_str) == Some(answer)
                && e.fields.get("message").is_some_and(|m| m.contains("fields the host does not know"))
        })
    };
    let manifest = warnings("manifest");
    assert_eq!(manifest.len(), 1, "{manifest:#?}");
    assert!(manifest[0].fields["fields"].contains("$.historyDays: unknown field `historyDays`"), "{manifest:#?}");
    let plugin = registry.get(&id).unwrap();
    for n in 0..3 {
        let guidance = plugin.evaluate(date(AS_OF), &neck_client(&format!("slips-{n}"))).unwrap();
        // The slips are dropped: the card stands, without what was misspelt.
        assert_eq!(guidance.cards.len(), 1);
        assert!(guidance.cards[0].override_reasons.is_empty());
        assert_eq!(guidance.recommendation.as_ref().and_then(|r| r.pressure_max), None);
    }
    let answers = warnings("guidance");
    assert_eq!(answers.len(), 1, "once per plugin, not per client: {answers:#?}");
    let fields = &answers[0].fields["fields"];
    for slip in ["override_reasons` (did you mean `overrideReasons`", "focusRegions", "pressureMax"] {
        assert!(fields.contains(slip), "`{slip}` not in {fields}");
    }
    // A plugin without slips is not warned about.
    let (registry, _) = load_with(&a.plugin("praxis_fibromyalgia"), Origin::ExecutableFolder, &BTreeSet::new());
    let client = ClientBuilder::new("fm").condition(snomed::FIBROMYALGIA, ConditionStatus::Active).build();
    registry.get("fibromyalgia").unwrap().evaluate(date(AS_OF), &client).unwrap();
    let clean = events_where(|e| {
        e.fields.get("plugin").map(String::as_str) == Some("fibromyalgia")
            && e.fields.get("message").is_some_and(|m| m.contains("fields the host does not know"))
    });
    assert!(clean.is_empty(), "{clean:#?}");
}
