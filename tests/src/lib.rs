//! # praxis-tests
//!
//! The shared build helper of Praxis's end-to-end tests. [`artifacts`] builds,
//! once per test process, everything those tests run:
//!
//! - the `praxis` binary and the first-party plugin libraries
//!   (`libpraxis_*.so`, next to the binary, so it finds them in its own
//!   folder), the misbehaving Rust fixture and the low-back example plugin,
//!   with a nested `cargo build` into `target/e2e` (its own target folder, so
//!   it never waits for the lock of the `cargo test` that runs it);
//! - the C example plugin (`examples/c-plugin`) and the C refusal fixtures
//!   (`tests/fixtures/c`), with the system C compiler (`$CC`, else `cc`);
//! - a text file named like a library, and the header layout probe.
//!
//! ```no_run
//! let artifacts = praxis_tests::artifacts();
//! let status = std::process::Command::new(&artifacts.praxis_bin).arg("--help").status().unwrap();
//! assert!(status.success());
//! let fibromyalgia = artifacts.plugin("praxis_fibromyalgia");
//! assert!(fibromyalgia.exists());
//! ```
//!
//! Every failure here is a panic that says what to do, since a test cannot
//! go on without its artifacts.
#![deny(missing_docs)]

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::SystemTime;

/// The cargo packages the end-to-end build makes, with their library names
/// (`None` for a package whose library is not a plugin).
pub const PACKAGES: &[(&str, Option<&str>)] = &[
    ("praxis-core", None),
    ("praxis-fibromyalgia", Some("praxis_fibromyalgia")),
    ("praxis-arthritis", Some("praxis_arthritis")),
    ("praxis-combined-therapy", Some("praxis_combined_therapy")),
    ("fixture-misbehaving-plugin", Some("fixture_misbehaving")),
    ("lowback-protocol", Some("lowback_protocol")),
];

/// The library names of the first-party plugins, which ship next to the binary.
pub const FIRST_PARTY: &[&str] = &["praxis_fibromyalgia", "praxis_arthritis", "praxis_combined_therapy"];

/// The flags every C plugin and fixture is compiled with (the example's
/// Makefile uses the same): strict C11, every warning an error.
pub const C_FLAGS: &[&str] =
    &["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-O2", "-fPIC", "-shared", "-fvisibility=hidden"];

/// A cargo build profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `dev`, output in `debug/`: what the end-to-end tests use.
    Debug,
    /// `release`, output in `release/`: what benchmarks compare against.
    Release,
}

impl Profile {
    /// The output folder's name under the target folder.
    pub fn dir_name(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
        }
    }
}

/// The workspace's root folder (the parent of this crate's folder).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The end-to-end target folder, `<workspace>/target/e2e`.
pub fn e2e_target_dir() -> PathBuf {
    workspace_root().join("target").join("e2e")
}

/// The file name of a shared library on this platform: `libNAME.so` on Linux.
pub fn library_file_name(lib: &str) -> String {
    format!("{}{lib}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX)
}

/// Variables of the outer cargo that must not reach the nested build: they
/// describe the outer build (its target folder, its package) and would send
/// the nested one to the wrong place or make it rebuild for nothing.
fn is_outer_build_var(key: &str) -> bool {
    // The user's own configuration (where cargo lives, network, registries,
    // output, parallelism, profile settings) is kept.
    const KEEP: &[&str] = &[
        "CARGO_HOME",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
        "CARGO_TERM_",
        "CARGO_BUILD_JOBS",
        "CARGO_INCREMENTAL",
        "CARGO_PROFILE_",
    ];
    if key.starts_with("__CARGO") {
        return true;
    }
    key.starts_with("CARGO_") && !KEEP.iter().any(|k| key.starts_with(k))
}

fn cargo_program() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| OsString::from(env!("CARGO")))
}

fn describe_failure(what: &str, command: &Command, output: &Output) -> String {
    format!(
        "{what} failed ({}):\n  command: {command:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Builds cargo packages into `target/e2e/<profile>` and returns that folder.
///
/// Runs `$CARGO build -p ... --target-dir <workspace>/target/e2e` from the
/// workspace root, without the outer build's `CARGO_*` variables. Panics with
/// cargo's output if the build fails.
pub fn cargo_build(profile: Profile, packages: &[&str]) -> PathBuf {
    let workspace = workspace_root();
    let target_dir = e2e_target_dir();
    let mut command = Command::new(cargo_program());
    command.current_dir(&workspace).arg("build").arg("--target-dir").arg(&target_dir);
    if profile == Profile::Release {
        command.arg("--release");
    }
    for package in packages {
        command.arg("-p").arg(package);
    }
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(is_outer_build_var) {
            command.env_remove(&key);
        }
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo ({:?}): {e}; is cargo on the PATH?", cargo_program()));
    if !output.status.success() {
        panic!("{}", describe_failure("the end-to-end cargo build", &command, &output));
    }
    target_dir.join(profile.dir_name())
}

/// The C compiler: `$CC`, else `cc`.
pub fn c_compiler() -> OsString {
    std::env::var_os("CC").filter(|cc| !cc.is_empty()).unwrap_or_else(|| OsString::from("cc"))
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Compiles C `sources` into `output` with `args` (flags, defines), unless
/// `output` is newer than every input and was made by the same command.
///
/// The result is written to a temporary file and renamed into place, so a
/// process that has the previous file open or loaded is never disturbed.
/// Panics if there is no C compiler (saying how to install one) or if the
/// compiler reports an error.
pub fn compile_c(sources: &[&Path], inputs: &[&Path], args: &[String], output: &Path) {
    let cc = c_compiler();
    let mut command = Command::new(&cc);
    command.args(args).arg("-o");
    let line = format!("{cc:?} {args:?} {sources:?}");
    let stamp = output.with_extension("cmd");
    let newest_input = sources.iter().chain(inputs).filter_map(|p| modified(p)).max();
    let up_to_date = match (modified(output), newest_input) {
        (Some(out), Some(input)) => out >= input,
        _ => false,
    };
    if up_to_date && std::fs::read_to_string(&stamp).is_ok_and(|s| s == line) {
        return;
    }
    if let Some(dir) = output.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    }
    let file_name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = output.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    command.arg(&temporary).args(sources);
    let result = match command.output() {
        Ok(result) => result,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "no C compiler: cannot run {cc:?} ({e}). The end-to-end tests compile the C plugin and the C \
             fixtures: install one (for example `apt-get install gcc`), or set CC to a compiler's path"
        ),
        Err(e) => panic!("cannot run the C compiler {cc:?}: {e}"),
    };
    if !result.status.success() {
        let _ = std::fs::remove_file(&temporary);
        panic!("{}", describe_failure("compiling C", &command, &result));
    }
    std::fs::rename(&temporary, output)
        .unwrap_or_else(|e| panic!("cannot move {} to {}: {e}", temporary.display(), output.display()));
    std::fs::write(&stamp, line).unwrap_or_else(|e| panic!("cannot write {}: {e}", stamp.display()));
}

/// A C refusal fixture: each breaks one thing the plugin host checks. All
/// are built from `tests/fixtures/c/fixture.c` (except [`CFixture::NotALibrary`],
/// a text file) into `target/e2e/c-fixtures/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CFixture {
    /// A text file named like a library.
    NotALibrary,
    /// A library that exports `praxis_plugin_v0` but not `praxis_plugin_v1`.
    NoSymbol,
    /// `praxis_plugin_v1` returns a null table.
    NullTable,
    /// The table's magic is not `PRAXISPL`.
    WrongMagic,
    /// The table says ABI major 2.
    AbiMajor2,
    /// The table says ABI minor 99, newer than any host.
    AbiMinor99,
    /// The manifest is not JSON.
    ManifestNotJson,
    /// The manifest is JSON with an invalid plugin id.
    ManifestInvalid,
    /// The manifest function returns an error status.
    ManifestFails,
    /// Loads; `evaluate` answers bytes that are not JSON.
    EvaluateNotJson,
    /// Loads; `evaluate` answers bytes that are not UTF-8.
    EvaluateNotUtf8,
    /// Loads; `evaluate` answers a card whose indicator is `urgent`.
    EvaluateBadIndicator,
    /// A good plugin whose load-time constructor writes `<its path>.opened`.
    Marker,
    /// The table's required `free_buffer` is NULL.
    NullFreeBuffer,
    /// The table's required `manifest` is NULL.
    NullManifest,
    /// The manifest declares a protocol; the table's `evaluate` is NULL.
    NoEvaluate,
    /// Loads; `evaluate` writes through a null pointer (SIGSEGV).
    Segfault,
    /// Loads; `evaluate` calls `abort()`.
    Abort,
    /// Loads; `evaluate` calls `exit(0)`.
    Exit,
    /// Loads; `evaluate` never returns.
    Loop,
    /// Loads; `evaluate` prints to stdout (and flushes), then answers one card.
    Stdout,
    /// Loads; `evaluate` answers 8 MiB: `{"cards":[]}` padded with spaces (valid JSON).
    Huge,
    /// Loads and answers well-formed guidance with the C author's slips: a
    /// card's `override_reasons`, a recommendation's `focusRegions` and
    /// `pressureMax`, and a manifest's `historyDays` (for `verify --strict`).
    Slips,
}

impl CFixture {
    /// Every fixture.
    pub const ALL: [CFixture; 23] = [
        CFixture::NotALibrary,
        CFixture::NoSymbol,
        CFixture::NullTable,
        CFixture::WrongMagic,
        CFixture::AbiMajor2,
        CFixture::AbiMinor99,
        CFixture::ManifestNotJson,
        CFixture::ManifestInvalid,
        CFixture::ManifestFails,
        CFixture::EvaluateNotJson,
        CFixture::EvaluateNotUtf8,
        CFixture::EvaluateBadIndicator,
        CFixture::Marker,
        CFixture::NullFreeBuffer,
        CFixture::NullManifest,
        CFixture::NoEvaluate,
        CFixture::Segfault,
        CFixture::Abort,
        CFixture::Exit,
        CFixture::Loop,
        CFixture::Stdout,
        CFixture::Huge,
        CFixture::Slips,
    ];

    /// A short name, such as `wrong-magic`.
    pub fn name(self) -> &'static str {
        match self {
            CFixture::NotALibrary => "not-a-library",
            CFixture::NoSymbol => "no-symbol",
            CFixture::NullTable => "null-table",
            CFixture::WrongMagic => "wrong-magic",
            CFixture::AbiMajor2 => "abi-major-2",
            CFixture::AbiMinor99 => "abi-minor-99",
            CFixture::ManifestNotJson => "manifest-not-json",
            CFixture::ManifestInvalid => "manifest-invalid",
            CFixture::ManifestFails => "manifest-fails",
            CFixture::EvaluateNotJson => "evaluate-not-json",
            CFixture::EvaluateNotUtf8 => "evaluate-not-utf8",
            CFixture::EvaluateBadIndicator => "evaluate-bad-indicator",
            CFixture::Marker => "marker",
            CFixture::NullFreeBuffer => "null-free-buffer",
            CFixture::NullManifest => "null-manifest",
            CFixture::NoEvaluate => "no-evaluate",
            CFixture::Segfault => "segfault",
            CFixture::Abort => "abort",
            CFixture::Exit => "exit",
            CFixture::Loop => "loop",
            CFixture::Stdout => "stdout",
            CFixture::Huge => "huge",
            CFixture::Slips => "slips",
        }
    }

    /// The plugin id in its manifest, for the fixtures whose manifest is good:
    /// `c-fixture-<name>`.
    pub fn plugin_id(self) -> String {
        format!("c-fixture-{}", self.name())
    }

    fn library_name(self) -> String {
        format!("fixture_c_{}", self.name().replace('-', "_"))
    }

    fn define(self) -> Option<&'static str> {
        Some(match self {
            CFixture::NotALibrary => return None,
            CFixture::NoSymbol => "FIXTURE_NO_SYMBOL",
            CFixture::NullTable => "FIXTURE_NULL_TABLE",
            CFixture::WrongMagic => "FIXTURE_WRONG_MAGIC",
            CFixture::AbiMajor2 => "FIXTURE_ABI_MAJOR_2",
            CFixture::AbiMinor99 => "FIXTURE_ABI_MINOR_99",
            CFixture::ManifestNotJson => "FIXTURE_MANIFEST_NOT_JSON",
            CFixture::ManifestInvalid => "FIXTURE_MANIFEST_INVALID",
            CFixture::ManifestFails => "FIXTURE_MANIFEST_FAILS",
            CFixture::EvaluateNotJson => "FIXTURE_EVALUATE_NOT_JSON",
            CFixture::EvaluateNotUtf8 => "FIXTURE_EVALUATE_NOT_UTF8",
            CFixture::EvaluateBadIndicator => "FIXTURE_EVALUATE_BAD_INDICATOR",
            CFixture::Marker => "FIXTURE_MARKER",
            CFixture::NullFreeBuffer => "FIXTURE_NULL_FREE_BUFFER",
            CFixture::NullManifest => "FIXTURE_NULL_MANIFEST",
            CFixture::NoEvaluate => "FIXTURE_NO_EVALUATE",
            CFixture::Segfault => "FIXTURE_SEGFAULT",
            CFixture::Abort => "FIXTURE_ABORT",
            CFixture::Exit => "FIXTURE_EXIT",
            CFixture::Loop => "FIXTURE_LOOP",
            CFixture::Stdout => "FIXTURE_STDOUT",
            CFixture::Huge => "FIXTURE_HUGE",
            CFixture::Slips => "FIXTURE_SLIPS",
        })
    }
}

impl fmt::Display for CFixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything [`artifacts`] built, by path.
#[derive(Debug)]
pub struct Artifacts {
    /// The workspace root.
    pub workspace: PathBuf,
    /// `target/e2e`.
    pub target_dir: PathBuf,
    /// `target/e2e/debug`: the binary and every Rust plugin library.
    pub bin_dir: PathBuf,
    /// `target/e2e/debug/praxis`. The first-party `libpraxis_*` libraries
    /// sit next to it, so it finds them in its own folder.
    pub praxis_bin: PathBuf,
    /// The C example plugin (`examples/c-plugin`), alone in `target/e2e/c-plugin/`.
    pub c_plugin: PathBuf,
    /// The folder of the C fixtures, `target/e2e/c-fixtures/`.
    pub c_fixture_dir: PathBuf,
    /// A program that prints the C header's sizes, offsets and constants.
    pub layout_probe: PathBuf,
    /// The C plugin's source compiled into a program that answers one
    /// request from stdin (`drive-c-plugin evaluate|manifest`), printing
    /// `status=N` and the answer: for feeding its JSON reader bad input.
    pub c_plugin_driver: PathBuf,
}

impl Artifacts {
    /// A Rust plugin library built by the end-to-end build, by library name
    /// (`praxis_fibromyalgia`) or package name (`praxis-fibromyalgia`).
    /// Panics on a name the build does not make.
    pub fn plugin(&self, name: &str) -> PathBuf {
        let lib = PACKAGES
            .iter()
            .find_map(|(package, lib)| lib.filter(|lib| *lib == name || *package == name))
            .unwrap_or_else(|| {
                let known: Vec<&str> = PACKAGES.iter().filter_map(|(_, lib)| *lib).collect();
                panic!("no plugin library `{name}` in the end-to-end build; known: {}", known.join(", "))
            });
        self.bin_dir.join(library_file_name(lib))
    }

    /// The first-party plugin libraries, as the binary finds them next to itself.
    pub fn first_party_plugins(&self) -> Vec<PathBuf> {
        FIRST_PARTY.iter().map(|lib| self.plugin(lib)).collect()
    }

    /// A C refusal fixture's file.
    pub fn c_fixture(&self, fixture: CFixture) -> PathBuf {
        self.c_fixture_dir.join(library_file_name(&fixture.library_name()))
    }
}

/// Builds the binary, the plugins and the fixtures the first time it is
/// called in a process, and returns where they are.
///
/// If the build fails, every call in the process panics with the same
/// message, without building again.
pub fn artifacts() -> &'static Artifacts {
    static ARTIFACTS: OnceLock<Result<Artifacts, String>> = OnceLock::new();
    let built = ARTIFACTS.get_or_init(|| {
        std::panic::catch_unwind(build_artifacts).map_err(|payload| {
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "building the end-to-end artifacts panicked".to_owned())
        })
    });
    match built {
        Ok(artifacts) => artifacts,
        Err(message) => panic!("{message}"),
    }
}

fn build_artifacts() -> Artifacts {
    eprintln!(
        "building plugins and the praxis binary for end-to-end tests (target/e2e; the first time takes a while)..."
    );
    let workspace = workspace_root();
    let target_dir = e2e_target_dir();
    let packages: Vec<&str> = PACKAGES.iter().map(|(package, _)| *package).collect();
    let bin_dir = cargo_build(Profile::Debug, &packages);
    let praxis_bin = bin_dir.join(format!("praxis{}", std::env::consts::EXE_SUFFIX));
    assert!(praxis_bin.is_file(), "the end-to-end build made no {}", praxis_bin.display());

    eprintln!("compiling the C plugin and the C fixtures with {:?}...", c_compiler());
    let header_dir = workspace.join("sdk").join("include");
    let header = header_dir.join("praxis_plugin.h");
    let include = format!("-I{}", header_dir.display());
    let flags = || C_FLAGS.iter().map(|f| (*f).to_owned()).chain([include.clone()]);

    let c_plugin = target_dir.join("c-plugin").join(library_file_name("neck_care"));
    let plugin_source = workspace.join("examples").join("c-plugin").join("plugin.c");
    compile_c(&[&plugin_source], &[&header], &flags().collect::<Vec<_>>(), &c_plugin);

    let c_fixture_dir = target_dir.join("c-fixtures");
    let fixture_source = workspace.join("tests").join("fixtures").join("c").join("fixture.c");
    let artifacts = Artifacts {
        workspace: workspace.clone(),
        target_dir: target_dir.clone(),
        bin_dir,
        praxis_bin,
        c_plugin,
        c_fixture_dir,
        layout_probe: target_dir.join("c-fixtures").join(format!("layout-probe{}", std::env::consts::EXE_SUFFIX)),
        c_plugin_driver: target_dir.join("c-plugin").join(format!("drive-c-plugin{}", std::env::consts::EXE_SUFFIX)),
    };
    for fixture in CFixture::ALL {
        let output = artifacts.c_fixture(fixture);
        match fixture.define() {
            None => write_text_library(&output),
            Some(define) => {
                let mut args: Vec<String> = flags().collect();
                args.push(format!("-D{define}"));
                args.push(format!("-DFIXTURE_ID=\"{}\"", fixture.plugin_id()));
                compile_c(&[&fixture_source], &[&header], &args, &output);
            }
        }
    }
    let program_flags = || ["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"].map(str::to_owned);
    let probe_source = workspace.join("tests").join("fixtures").join("c").join("layout.c");
    let probe_args: Vec<String> = program_flags().into_iter().chain([include.clone()]).collect();
    compile_c(&[&probe_source], &[&header], &probe_args, &artifacts.layout_probe);
    let driver_source = workspace.join("tests").join("fixtures").join("c").join("drive_plugin.c");
    let plugin_dir = format!("-I{}", workspace.join("examples").join("c-plugin").display());
    let driver_args: Vec<String> = program_flags().into_iter().chain([plugin_dir, include]).collect();
    compile_c(&[&driver_source], &[&header, &plugin_source], &driver_args, &artifacts.c_plugin_driver);
    artifacts
}

fn write_text_library(path: &Path) {
    const TEXT: &str = "This is a text file named like a shared library. A plugin host must refuse it.\n";
    if std::fs::read_to_string(path).is_ok_and(|s| s == TEXT) {
        return;
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    }
    let temporary = path.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&temporary, TEXT).unwrap_or_else(|e| panic!("cannot write {}: {e}", temporary.display()));
    std::fs::rename(&temporary, path).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// The Python interpreter of the validators' virtualenv (`.ci/pyenv` makes it
/// from `.ci/requirements.txt`): `PRAXIS_PYTHON`, else `target/venv/bin/python`.
///
/// Returns `None` when there is none, after printing that the test was
/// skipped and how to run it. Under CI (`CI=true`) a missing interpreter is a
/// failure, never a skip.
pub fn python() -> Option<PathBuf> {
    let found = std::env::var_os("PRAXIS_PYTHON")
        .map(PathBuf::from)
        .or_else(|| Some(workspace_root().join("target").join("venv").join("bin").join("python")))
        .filter(|p| p.exists());
    if found.is_none() {
        let message = "no Python validators: run `bash .ci/pyenv` (it creates target/venv), then run the test again";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}");
        }
        eprintln!("skipped: {message}");
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outer_build_variables_are_dropped() {
        fn check(key: &str, dropped: bool) {
            assert_eq!(is_outer_build_var(key), dropped, "{key}");
        }
        check("CARGO_TARGET_DIR", true);
        check("CARGO_BUILD_TARGET_DIR", true);
        check("CARGO_MANIFEST_DIR", true);
        check("CARGO_PKG_NAME", true);
        check("CARGO_PRIMARY_PACKAGE", true);
        check("CARGO_ENCODED_RUSTFLAGS", true);
        check("__CARGO_FIX_PLZ", true);
        check("CARGO_HOME", false);
        check("CARGO_NET_OFFLINE", false);
        check("CARGO_HTTP_TIMEOUT", false);
        check("CARGO_REGISTRIES_CRATES_IO_PROTOCOL", false);
        check("CARGO_TERM_COLOR", false);
        check("CARGO_BUILD_JOBS", false);
        check("CARGO_PROFILE_RELEASE_DEBUG", false);
        check("CARGO", false);
        check("RUSTFLAGS", false);
        check("PATH", false);
    }

    #[test]
    fn names() {
        fn check(got: String, expected: &str) {
            assert_eq!(got, expected);
        }
        #[cfg(target_os = "linux")]
        check(library_file_name("praxis_arthritis"), "libpraxis_arthritis.so");
        #[cfg(target_os = "macos")]
        check(library_file_name("praxis_arthritis"), "libpraxis_arthritis.dylib");
        check(CFixture::WrongMagic.plugin_id(), "c-fixture-wrong-magic");
        check(CFixture::AbiMinor99.library_name(), "fixture_c_abi_minor_99");
        check(e2e_target_dir().strip_prefix(workspace_root()).unwrap().display().to_string(), "target/e2e");
    }

    #[test]
    fn the_workspace_root_is_the_workspace() {
        let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
        assert!(manifest.contains("[workspace]"), "{manifest}");
        // Every package the end-to-end build names exists in a member folder.
        let members = ["core", "plugins/fibromyalgia", "plugins/arthritis", "plugins/combined-therapy"]
            .into_iter()
            .chain(["tests/fixtures/misbehaving-plugin", "examples/low-back-protocol"]);
        let names: Vec<String> =
            members.map(|m| std::fs::read_to_string(workspace_root().join(m).join("Cargo.toml")).unwrap()).collect();
        for (package, _) in PACKAGES {
            let line = format!("name = \"{package}\"");
            assert!(names.iter().any(|m| m.contains(&line)), "no member package `{package}`");
        }
    }

    #[test]
    fn every_fixture_has_its_own_file() {
        let mut names: Vec<String> = CFixture::ALL.iter().map(|f| f.library_name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CFixture::ALL.len());
    }
}

/// Runs `bin --data DATA ARGS` with `PRAXIS_USER=user` (the audit actor),
/// quiet logs, none of the caller's `PRAXIS_DATA`, `PRAXIS_CONFIG` or
/// `PRAXIS_PLUGIN_PATH`, and `stdin` as its input (none when `None`); its
/// output, whatever its exit status.
pub fn run_praxis_as(
    bin: &std::path::Path,
    user: &str,
    data: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new(bin)
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("PRAXIS_DATA")
        .env_remove("PRAXIS_CONFIG")
        .env_remove("PRAXIS_PLUGIN_PATH")
        .env("PRAXIS_USER", user)
        .env("RUST_LOG", "error")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes()).expect("write praxis's input");
    }
    child.wait_with_output().expect("wait for praxis")
}

/// [`run_praxis_as`], insisting that the command succeeded; its stdout.
#[track_caller]
pub fn praxis_stdout(
    bin: &std::path::Path,
    user: &str,
    data: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> String {
    let out = run_praxis_as(bin, user, data, args, stdin);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "praxis {args:?} failed ({:?}):\n{}\n{stdout}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// What an HTTP/1.1 server answered.
#[derive(Debug, Clone)]
pub struct HttpAnswer {
    /// The status code (0 when the answer had no status line).
    pub status: u16,
    /// The status line and the headers, as sent.
    pub head: String,
    /// The body, de-chunked.
    pub body: String,
}

impl HttpAnswer {
    /// The `Content-Type` header's value, lowercased (empty when absent).
    pub fn content_type(&self) -> String {
        self.head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type: ").map(str::to_owned))
            .unwrap_or_default()
    }
}

/// One HTTP/1.1 request on a new connection (`Connection: close`), with
/// `headers` besides Host and Content-Length; waits at most 60 s.
pub fn http_exchange(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> HttpAnswer {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the server");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60))).expect("a read timeout");
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send the request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(rest) } else { rest.to_owned() };
    HttpAnswer { status, head: head.to_owned(), body }
}

/// The payload of a chunked body.
fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}
