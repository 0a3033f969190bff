//! The plugin boundary through the `praxis` binary: a module that is missing,
//! refused, untrusted or misconfigured is a warning card on screen (exit 0);
//! `plugins verify` says whether a file is trusted before it runs any of its
//! code, and `plugins trust` refuses what `verify` refuses; a plugin's stdout
//! never reaches the host's; an answer over the size limit is a warning card.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use praxis_tests::{CFixture, artifacts, library_file_name};
use serde_json::Value;

/// A practice folder driven through a `praxis` binary.
struct Practice {
    dir: tempfile::TempDir,
    bin: PathBuf,
}

impl Practice {
    fn new() -> Practice {
        Practice::with_bin(artifacts().praxis_bin.clone())
    }

    fn with_bin(bin: PathBuf) -> Practice {
        let p = Practice { dir: tempfile::tempdir().expect("temp dir"), bin };
        p.ok(&["init"]);
        p
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("clinic")
    }

    /// `XDG_CACHE_HOME` of this practice's commands.
    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    fn config(&self) -> PathBuf {
        self.data().join("praxis.toml")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .arg("--data")
            .arg(self.data())
            .args(args)
            .env_remove("PRAXIS_DATA")
            .env_remove("PRAXIS_CONFIG")
            .env_remove("PRAXIS_PLUGIN_PATH")
            .env("PRAXIS_USER", "e2e-test")
            .env("XDG_CACHE_HOME", self.cache())
            .env("RUST_LOG", "error");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run praxis")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "praxis {args:?} failed ({:?}):\n{stderr}\n{stdout}", out.status.code());
        stdout
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("praxis {args:?}: not JSON ({e}):\n{out}"))
    }

    /// Puts a file in the practice's plugin folder.
    fn install(&self, file: &Path, name: &str) -> PathBuf {
        let to = self.data().join("plugins").join(library_file_name(name));
        std::fs::copy(file, &to).unwrap_or_else(|e| panic!("copy {}: {e}", file.display()));
        to
    }

    /// Adds a file's SHA-256 to the trust list by editing praxis.toml (as an
    /// administrator could), bypassing `plugins trust`'s verification.
    fn trust_by_hand(&self, file: &Path) {
        let sha = praxis_core::plugin_host::sha256_file(file).unwrap();
        self.edit_config(|text| text.replacen("trusted = []", &format!("trusted = [\"{sha}\"]"), 1));
    }

    fn edit_config(&self, f: impl FnOnce(&str) -> String) {
        let text = std::fs::read_to_string(self.config()).unwrap();
        let new = f(&text);
        assert_ne!(new, text, "the config edit changed nothing");
        std::fs::write(self.config(), new).unwrap();
    }

    fn add_client(&self, name: &str, conditions: &[&str]) {
        let mut args = vec!["client", "add", "--name", name];
        for c in conditions {
            args.extend(["--condition", c]);
        }
        self.ok(&args);
    }
}

/// The host's warning cards (rule HOST-PLUGIN) in one client's guidance, as (summary, detail).
fn host_warnings(guidance: &Value) -> Vec<(String, String)> {
    guidance["cards"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["rule"] == "HOST-PLUGIN")
        .map(|c| {
            assert_eq!(c["indicator"], "warning", "{c}");
            (c["summary"].as_str().unwrap().to_owned(), c["detail"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

fn cards_from(guidance: &Value, plugin: &str) -> usize {
    guidance["cards"].as_array().unwrap().iter().filter(|c| c["source"]["plugin"] == plugin).count()
}

#[test]
fn a_settings_typo_is_a_configuration_error_on_screen_and_in_plugins_list() {
    let p = Practice::new();
    p.add_client("Flare Client", &["fibromyalgia:flare"]);
    p.edit_config(|t| {
        t.replacen(
            "[plugins.fibromyalgia]\n",
            "[plugins.fibromyalgia.settings]\nbogus_key = 1\n\n[plugins.fibromyalgia]\n",
            1,
        )
    });
    let line =
        std::fs::read_to_string(p.config()).unwrap().lines().position(|l| l.starts_with("bogus_key")).unwrap() + 1;
    let g = p.json(&["guidance", "Flare Client", "--json"]);
    let warnings = host_warnings(&g);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let (summary, detail) = &warnings[0];
    assert!(summary.contains("`fibromyalgia`"), "{summary}");
    for part in
        ["configuration error", &format!("line {line}"), "`plugins.fibromyalgia.settings.bogus_key`", "unknown setting"]
    {
        assert!(detail.contains(part), "`{part}` not in {detail}");
    }
    assert!(!detail.contains("bad manifest"), "{detail}");
    // On screen too, exit 0.
    let text = p.ok(&["guidance", "Flare Client"]);
    assert!(text.contains("fibromyalgia") && text.contains("configuration error"), "{text}");
    let list = p.json(&["plugins", "list", "--json"]);
    let r = list.as_array().unwrap().iter().find(|r| r["id"] == "fibromyalgia").unwrap();
    assert_eq!(r["status"], "refused");
    assert!(r["reason"].as_str().unwrap().contains("configuration error"), "{r}");
}

#[test]
fn a_missing_first_party_module_is_a_warning_card_naming_it() {
    // A copy of the binary with the arthritis module beside it but not the fibromyalgia one.
    let a = artifacts();
    let exe = tempfile::tempdir().unwrap();
    let bin = exe.path().join(a.praxis_bin.file_name().unwrap());
    std::fs::copy(&a.praxis_bin, &bin).unwrap();
    std::fs::copy(a.plugin("praxis_arthritis"), exe.path().join(library_file_name("praxis_arthritis"))).unwrap();
    let p = Practice::with_bin(bin);
    p.add_client("Both", &["fibromyalgia:active", "osteoarthritis:active"]);
    let g = p.json(&["guidance", "Both", "--json"]);
    let warnings = host_warnings(&g);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(warnings[0].0.contains("`fibromyalgia`"), "{warnings:?}");
    assert!(warnings[0].1.contains("not found: no libpraxis_fibromyalgia.so"), "{warnings:?}");
    assert!(cards_from(&g, "arthritis") > 0, "the arthritis cards stand: {g}");
    let list = p.ok(&["plugins", "list"]);
    assert!(list.contains("missing") && list.contains("not found: no libpraxis_fibromyalgia.so"), "{list}");
}

#[test]
fn a_null_free_buffer_is_refused_everywhere_without_a_crash() {
    let a = artifacts();
    let p = Practice::new();
    p.add_client("Neck", &["neck-pain:active", "fibromyalgia:active"]);
    let file = p.install(&a.c_fixture(CFixture::NullFreeBuffer), "nullfree");
    let null_manifest = a.c_fixture(CFixture::NullManifest);
    for (fixture, message) in [
        (file.clone(), "the table's required function `free_buffer` is NULL"),
        (null_manifest.clone(), "the table's required function `manifest` is NULL"),
    ] {
        for command in ["verify", "trust"] {
            let out = p.run(&["plugins", command, fixture.to_str().unwrap()]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "plugins {command}: {stderr}");
            assert!(stderr.contains(message), "plugins {command}: {stderr}");
        }
    }
    assert!(
        !std::fs::read_to_string(p.config()).unwrap().contains(&praxis_core::plugin_host::sha256_file(&file).unwrap()),
        "trust refused"
    );
    p.trust_by_hand(&file);
    let list = p.json(&["plugins", "list", "--json"]);
    let r = list.as_array().unwrap().iter().find(|r| r["id"] == "c-fixture-null-free-buffer").unwrap();
    assert_eq!(r["status"], "refused");
    let g = p.json(&["guidance", "Neck", "--json"]);
    let warnings = host_warnings(&g);
    assert!(
        warnings.iter().any(|(s, d)| s.contains("c-fixture-null-free-buffer") && d.contains("`free_buffer` is NULL")),
        "{warnings:#?}"
    );
    assert!(cards_from(&g, "fibromyalgia") > 0, "the other plugins' cards stand: {g}");
}

#[test]
fn verify_says_whether_a_file_is_trusted_before_running_it_and_takes_bare_names() {
    let a = artifacts();
    let p = Practice::new();
    let marker = p.install(&a.c_fixture(CFixture::Marker), "marker");
    let sha = praxis_core::plugin_host::sha256_file(&marker).unwrap();
    let opened = p.cache().join("praxis/plugins").join(format!("{sha}{}.opened", std::env::consts::DLL_SUFFIX));
    // A bare name is the file in the current folder.
    let mut command = p.command(&["plugins", "verify", marker.file_name().unwrap().to_str().unwrap()]);
    let out = command.current_dir(marker.parent().unwrap()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let trusted_at = stdout.find("trusted:   no").unwrap_or_else(|| panic!("{stdout}"));
    let verdict_at = stdout.find("verdict:   accepted").unwrap_or_else(|| panic!("{stdout}"));
    assert!(trusted_at < verdict_at, "trust first:\n{stdout}");
    assert!(stdout.contains(&format!("file:      {}", marker.canonicalize().unwrap().display())), "{stdout}");
    assert!(opened.exists(), "verify did open the named file");
}

#[test]
fn a_plugins_stdout_never_reaches_the_hosts() {
    let a = artifacts();
    let p = Practice::new();
    p.add_client("Neck", &["neck-pain:active"]);
    let file = p.install(&a.c_fixture(CFixture::Stdout), "chatty");
    // `plugins trust` refuses it (isolated, its answer is dropped): trust it by hand.
    let out = p.run(&["plugins", "trust", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bytes to stdout"));
    p.trust_by_hand(&file);
    let run = || {
        let out = p.run(&["guidance", "--all", "--json"]);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"));
        assert!(!stdout.contains("PLUGIN WAS HERE"), "{stdout}");
        assert!(stderr.contains("PLUGIN WAS HERE"), "the plugin's text goes to stderr: {stderr}");
        v
    };
    // Isolated (the default for a plugin folder): writing to stdout fails the call.
    let v = run();
    let warnings = host_warnings(&v[0]);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(warnings[0].1.contains("wrote 62 bytes to stdout"), "{warnings:?}");
    // In process, by the practice's choice: fd 1 is stderr, the answer stands.
    p.edit_config(|t| format!("{t}\n[plugins.c-fixture-stdout]\nisolation = \"in-process\"\n"));
    let v = run();
    assert!(host_warnings(&v[0]).is_empty(), "{v}");
    assert_eq!(cards_from(&v[0], "c-fixture-stdout"), 1, "{v}");
    let list = p.json(&["plugins", "list", "--json"]);
    let r = list.as_array().unwrap().iter().find(|r| r["id"] == "c-fixture-stdout").unwrap();
    assert_eq!(r["isolation"], "in-process", "{r}");
}

#[test]
fn misbehaving_plugins_in_the_plugin_folder_become_warning_cards_and_the_others_stand() {
    let a = artifacts();
    let p = Practice::new();
    p.add_client("Neck", &["neck-pain:active", "fibromyalgia:active"]);
    let fixtures = [
        (CFixture::NullFreeBuffer, "`free_buffer` is NULL"),
        (CFixture::Segfault, "killed by signal 11 (SIGSEGV"),
        (CFixture::Abort, "killed by signal 6 (SIGABRT"),
        (CFixture::Exit, "exited with status 0 during the call"),
        (CFixture::Loop, "no answer within 2000 ms"),
        (CFixture::Stdout, "bytes to stdout"),
        (CFixture::Huge, "over the practice's limit of 4194304 bytes"),
    ];
    let mut shas = Vec::new();
    for (fixture, _) in fixtures {
        let file = p.install(&a.c_fixture(fixture), fixture.name());
        shas.push(format!("\"{}\"", praxis_core::plugin_host::sha256_file(&file).unwrap()));
    }
    p.edit_config(|t| t.replacen("trusted = []", &format!("trusted = [{}]", shas.join(", ")), 1));
    let list = p.json(&["plugins", "list", "--json"]);
    for (fixture, _) in &fixtures[1..] {
        let r = list.as_array().unwrap().iter().find(|r| r["id"] == fixture.plugin_id().as_str()).unwrap();
        assert_eq!((r["status"].as_str(), r["isolation"].as_str()), (Some("loaded"), Some("process")), "{r}");
    }
    let started = std::time::Instant::now();
    let out = p.run(&["guidance", "Neck", "--json"]);
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(took < std::time::Duration::from_secs(20), "guidance took {took:?}");
    let g: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"));
    let warnings = host_warnings(&g);
    for (fixture, why) in fixtures {
        let id = fixture.plugin_id();
        assert!(
            warnings.iter().any(|(s, d)| s.contains(&format!("`{id}`")) && d.contains(why)),
            "no warning card for {id} ({why}) in {warnings:#?}"
        );
    }
    assert_eq!(warnings.len(), fixtures.len(), "{warnings:#?}");
    assert!(cards_from(&g, "fibromyalgia") > 0, "the other plugins' cards stand: {g}");
    // The store is unaffected: the next command works.
    p.ok(&["client", "list"]);
}

#[test]
fn a_hung_plugin_does_not_hold_the_store_other_commands_work_meanwhile() {
    let a = artifacts();
    let p = Practice::new();
    p.add_client("Neck", &["neck-pain:active"]);
    let file = p.install(&a.c_fixture(CFixture::Loop), CFixture::Loop.name());
    p.trust_by_hand(&file);
    let mut guidance = p
        .command(&["guidance", "Neck", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start praxis guidance");
    // The plugin hangs until the call limit (2 s) stops it. While it does,
    // another command opens the store and adds a client; before, it waited
    // `lock_wait_seconds` and failed "in use" until the guidance ended.
    let mut added_while_hung = false;
    let mut n = 0;
    while guidance.try_wait().unwrap().is_none() {
        n += 1;
        let out = p.run(&["client", "add", "--name", &format!("Walk-in {n}")]);
        if out.status.success() && guidance.try_wait().unwrap().is_none() {
            added_while_hung = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = guidance.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(added_while_hung, "no other command got the store while the plugin hung ({n} tries)");
    let g: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"));
    let warnings = host_warnings(&g);
    assert!(warnings.iter().any(|(_, d)| d.contains("no answer within 2000 ms")), "{warnings:#?}");
    // Both processes wrote to one audit chain, and it verifies.
    let names = p.ok(&["client", "list"]);
    assert!(names.contains("Walk-in"), "{names}");
    p.ok(&["audit", "verify"]);
}

#[test]
fn an_answer_over_the_size_limit_is_a_warning_card() {
    let a = artifacts();
    let p = Practice::new();
    p.add_client("Neck", &["neck-pain:active"]);
    let file = p.install(&a.c_fixture(CFixture::Huge), "huge");
    p.trust_by_hand(&file);
    let g = p.json(&["guidance", "Neck", "--json"]);
    let warnings = host_warnings(&g);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(warnings[0].1.contains("over the practice's limit of 4194304 bytes"), "{warnings:?}");
    // A practice that allows more gets the (empty) answer.
    p.edit_config(|t| t.replacen("[plugins]\n", "[plugins]\nmax_answer_bytes = 16777216\n", 1));
    let g = p.json(&["guidance", "Neck", "--json"]);
    assert!(host_warnings(&g).is_empty(), "{g}");
}

#[test]
fn verify_strict_reports_every_unknown_field_in_a_plugins_answers() {
    let a = artifacts();
    let p = Practice::new();
    let slips = a.c_fixture(CFixture::Slips);
    let slips_arg = slips.to_str().unwrap();
    // Without --strict the slips pass: the host ignores what it does not know.
    let plain = p.ok(&["plugins", "verify", slips_arg]);
    assert!(plain.contains("verdict:   accepted"), "{plain}");
    // With it, each is named, with the field it looks like, and the exit is 2.
    let out = p.run(&["plugins", "verify", "--strict", slips_arg]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    for line in [
        "manifest: $.historyDays: unknown field `historyDays` (did you mean `history_days`?)",
        "guidance for verify-new: $.cards[0].override_reasons: unknown field `override_reasons` (did you mean `overrideReasons`?)",
        "guidance for verify-flare: $.recommendation.focusRegions: unknown field `focusRegions` (did you mean `focus_regions`?)",
        "guidance for verify-sample: $.recommendation.pressureMax: unknown field `pressureMax` (did you mean `pressure_max`?)",
    ] {
        assert!(stdout.contains(line), "`{line}` not in:\n{stdout}");
    }
    assert!(stdout.contains("read 6 answer(s)") && stdout.contains("16 unknown field(s)"), "{stdout}");
    assert!(stderr.contains("16 unknown field(s) in the plugin's answers"), "{stderr}");
    // The same as JSON, still exit 2.
    let out = p.run(&["plugins", "verify", "--strict", "--json", slips_arg]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut paths: Vec<&str> =
        v["strict"]["unknown"].as_array().unwrap().iter().map(|s| s["path"].as_str().unwrap()).collect();
    paths.sort_unstable();
    paths.dedup();
    assert_eq!(
        paths,
        [
            "$.cards[0].override_reasons",
            "$.historyDays",
            "$.recommendation.focusRegions",
            "$.recommendation.pressureMax"
        ]
    );
    // The first-party plugins make none, protocol and scheduler alike.
    for lib in praxis_tests::FIRST_PARTY {
        let out = p.ok(&["plugins", "verify", "--strict", a.plugin(lib).to_str().unwrap()]);
        assert!(out.contains("; 0 unknown field(s)"), "{lib}:\n{out}");
        let answers = if *lib == "praxis_combined_therapy" { "read 2 answer(s)" } else { "read 6 answer(s)" };
        assert!(out.contains(answers), "{lib}:\n{out}");
    }
    // Bad input: a missing file, a file that is not a plugin. Exit 2 and why.
    let missing = p.dir.path().join("no-such-plugin.so");
    let not_a_library = a.c_fixture(CFixture::NotALibrary);
    for (file, why) in [(missing.as_path(), "is not a file"), (not_a_library.as_path(), "REFUSED")] {
        let out = p.run(&["plugins", "verify", "--strict", file.to_str().unwrap()]);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(text.contains(why), "`{why}` not in:\n{text}");
        assert!(!text.contains("strict:"), "nothing to check strictly:\n{text}");
    }
}
