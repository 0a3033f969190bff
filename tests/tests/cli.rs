//! The `praxis` binary end to end: a new user's day, the guidance rule table
//! through `--json`, and bad input to each command (clear message, exit code
//! 2, store unchanged).

use std::path::PathBuf;
use std::process::{Command, Output};

use praxis_tests::artifacts;
use serde_json::Value;

/// A practice folder driven through the real binary.
struct Practice {
    dir: tempfile::TempDir,
}

impl Practice {
    fn new() -> Practice {
        Practice { dir: tempfile::tempdir().expect("temp dir") }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("clinic")
    }

    fn run(&self, args: &[&str]) -> Output {
        let a = artifacts();
        Command::new(&a.praxis_bin)
            .arg("--data")
            .arg(self.data())
            .args(args)
            .env_remove("PRAXIS_DATA")
            .env_remove("PRAXIS_CONFIG")
            .env_remove("PRAXIS_PLUGIN_PATH")
            .env("PRAXIS_USER", "e2e-test")
            .env("RUST_LOG", "error")
            .output()
            .expect("run praxis")
    }

    /// Runs and expects success; returns stdout.
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

    /// The store's content as an export, without the audit log (which
    /// records reads that sync the calendar).
    fn records(&self) -> Value {
        let mut v = self.json(&["export"]);
        v.as_object_mut().expect("object").remove("audit");
        v
    }
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

#[test]
fn a_new_users_day() {
    let p = Practice::new();
    let out = p.ok(&["init", "--template", "clinic", "--name", "E2E Clinic"]);
    assert!(out.contains("Created practice \"E2E Clinic\""), "{out}");

    // Register clients with intake.
    let maria = p.json(&[
        "client",
        "add",
        "--name",
        "Maria Santos",
        "--condition",
        "fibromyalgia:active",
        "--tender-point",
        "trapezius",
        "--available",
        "monday 09:00-19:00",
        "--available",
        "tuesday 09:00-19:00",
        "--available",
        "wednesday 09:00-19:00",
        "--available",
        "thursday 09:00-19:00",
        "--therapy",
        "yoga:7",
        "--consent",
        "--json",
    ]);
    let maria_id = id_of(&maria);
    p.ok(&["intake", "Maria Santos", "--pain-pattern", "aching neck in the morning", "--previous-treatment", "physio"]);
    let robert =
        p.json(&["client", "add", "--name", "Robert King", "--condition", "rheumatoid-arthritis:flare", "--json"]);
    let robert_id = id_of(&robert);
    p.ok(&["intake", &robert_id, "--pain-pattern", "hot swollen knuckles"]);
    let list = p.json(&["client", "list", "--json"]);
    assert_eq!(list.as_array().map(Vec::len), Some(2));

    // Record past sessions, then read guidance.
    let today = p.json(&["guidance", "Maria Santos", "--json"])["as_of"].as_str().unwrap().to_owned();
    let day = |ago: i64| {
        let d: praxis_sdk::Date = today.parse().unwrap();
        d.add_days(-(ago as i32)).to_string()
    };
    for (ago, before, after) in [(30, "7", "5"), (20, "6", "5"), (9, "5", "7")] {
        p.ok(&[
            "session",
            "record",
            "Maria Santos",
            "--practitioner",
            "ana",
            "--date",
            &day(ago),
            "--minutes",
            "30",
            "--pressure",
            "light",
            "--pain-before",
            before,
            "--pain-after",
            after,
            "--region",
            "neck",
        ]);
    }
    let g = p.json(&["guidance", &maria_id, "--json"]);
    let rules: Vec<&str> = g["cards"].as_array().unwrap().iter().map(|c| c["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"F4"), "a flare after the last session gives F4: {rules:?}");
    assert_eq!(g["recommendation"]["pressure_max"], "light_touch", "one step lighter after the flare");
    assert_eq!(g["recommendation"]["interval_days"], serde_json::json!({"min": 14, "max": 14}));
    let text = p.ok(&["guidance", "Maria Santos"]);
    assert!(text.contains("[F4]"), "{text}");

    // Override a critical card with a reason; it is in the audit log.
    let rg = p.json(&["guidance", "Robert King", "--json"]);
    assert_eq!(rg["hold"]["rule"], "R2");
    p.ok(&["override", "Robert King", "--rule", "S1", "--reason", "healthcare provider cleared treatment"]);
    let export = p.json(&["export"]);
    let audit = export["audit"].as_array().unwrap();
    assert!(
        audit.iter().any(|e| e["action"] == "override" && e["actor"] == "e2e-test"),
        "the override is audited with its actor"
    );

    // Plan and book a schedule; Robert stays held by R2 (no override for it).
    let plan = p.json(&["schedule", "plan", "--weeks", "4", "--json"]);
    let appts = plan["appointments"].as_array().unwrap();
    assert!(!appts.is_empty(), "something is planned for Maria: {plan}");
    assert!(appts.iter().all(|a| a["client"] == maria_id.as_str()), "nothing is planned for the held client");
    assert!(plan["blocked"].as_array().unwrap().iter().any(|b| b["client"] == robert_id.as_str()));
    let booked = p.json(&["schedule", "book", "--json"]);
    assert_eq!(booked.as_array().unwrap().len(), appts.len());
    let shown = p.json(&["schedule", "show", "--from", &day(-1), "--days", "28", "--json"]);
    assert_eq!(shown.as_array().unwrap().len(), appts.len());
    let again = p.run(&["schedule", "book"]);
    assert_eq!(again.status.code(), Some(2), "no proposal left to book");

    // Record a follow-up; report outcomes with a chart.
    let sessions = p.json(&["client", "show", "Maria Santos", "--json"])["sessions"].clone();
    let last = sessions.as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_owned();
    p.ok(&["session", "follow-up", &last, "--pain", "4"]);
    let svg = p.dir.path().join("maria.svg");
    let report = p.json(&["report", "outcomes", "--client", "Maria Santos", "--svg", svg.to_str().unwrap(), "--json"]);
    assert_eq!(report["clients"][0]["flares"], 1);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<polyline"));

    // Export, import into a new folder, compare.
    let file = p.dir.path().join("export.json");
    p.ok(&["export", "--out", file.to_str().unwrap()]);
    let q = Practice::new();
    q.ok(&["init", "--template", "clinic"]);
    q.ok(&["import", file.to_str().unwrap()]);
    assert_eq!(p.records(), q.records(), "export then import gives back the same practice");
}

/// The guidance rule table through the binary: the demo practice has one
/// client per rule; `praxis guidance --all --json` must show it.
#[test]
fn rule_table_through_the_binary() {
    let p = Practice::new();
    let out = p.run(&["demo"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "demo failed:\n{}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("every rule id of GUIDANCE-RULES.md showed at least once"), "{stdout}");
    let clients = p.json(&["client", "list", "--json"]);
    let all = p.json(&["guidance", "--all", "--json"]);
    let by_name = |name: &str| -> Value {
        let id = clients.as_array().unwrap().iter().find(|c| c["name"] == name).map(id_of).unwrap();
        all.as_array().unwrap().iter().find(|g| g["client"] == id.as_str()).cloned().unwrap()
    };

    #[track_caller]
    fn check(g: &Value, rule: &str, indicator: &str, hold: Option<&str>, pressure: Option<&str>) {
        let card = g["cards"].as_array().unwrap().iter().find(|c| c["rule"] == rule);
        let card = card.unwrap_or_else(|| panic!("no {rule} card in {g:#}"));
        assert_eq!(card["indicator"], indicator, "{rule}");
        assert!(!card["summary"].as_str().unwrap().is_empty() && card["source"]["plugin"].is_string(), "{rule}");
        assert_eq!(g["hold"]["rule"].as_str(), hold, "hold with {rule}");
        assert_eq!(g["recommendation"]["pressure_max"].as_str(), pressure, "pressure with {rule}");
        let order: Vec<u8> = g["cards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| match c["indicator"].as_str().unwrap() {
                "critical" => 0,
                "warning" => 1,
                _ => 2,
            })
            .collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "cards ordered critical, warning, info");
    }

    check(&by_name("Sofia Rossi"), "S1", "critical", None, None);
    check(&by_name("Michael Green"), "S1", "critical", None, Some("moderate"));
    check(&by_name("Robert King"), "S1", "critical", Some("R2"), Some("moderate"));
    check(&by_name("David Brown"), "S2", "critical", Some("S2"), Some("light_touch"));
    check(&by_name("Emma Wilson"), "S3", "warning", None, None);
    check(&by_name("Maria Santos"), "F1", "info", None, Some("light"));
    check(&by_name("Maria Santos"), "F2", "info", None, Some("light"));
    check(&by_name("Maria Santos"), "F3", "info", None, Some("light"));
    check(&by_name("John Miller"), "F4", "warning", None, Some("light_touch"));
    check(&by_name("Priya Shah"), "F4", "warning", None, Some("light_touch"));
    check(&by_name("Tom Becker"), "F5", "warning", None, Some("light"));
    check(&by_name("Lena Fischer"), "F6", "info", None, Some("moderate"));
    check(&by_name("Maria Santos"), "F7", "info", None, Some("light"));
    check(&by_name("Grace Lee"), "R1", "info", None, Some("moderate"));
    check(&by_name("Robert King"), "R2", "critical", Some("R2"), Some("moderate"));
    check(&by_name("Grace Lee"), "R3", "info", None, Some("moderate"));
    check(&by_name("Grace Lee"), "R4", "info", None, Some("moderate"));
    check(&by_name("Omar Haddad"), "I1", "warning", None, Some("light"));
    check(&by_name("Omar Haddad"), "I2", "warning", None, Some("light"));
    check(&by_name("Hannah Clarke"), "I2", "critical", None, Some("moderate"));
    check(&by_name("Hannah Clarke"), "I3", "info", None, Some("moderate"));

    // The merge (fibromyalgia + osteoarthritis): lowest pressure, shortest
    // duration, intervals intersected, lists united.
    let omar = by_name("Omar Haddad");
    let rec = &omar["recommendation"];
    assert_eq!(rec["interval_days"], serde_json::json!({"min": 7, "max": 7}), "7-14 and 3-7 intersect at 7");
    assert_eq!(rec["minutes"]["max"], 30);
    assert_eq!(rec["before"], serde_json::json!(["heat_before"]));
    let avoid = rec["avoid"].as_array().unwrap();
    assert!(
        avoid.iter().any(|a| a == "deep pressure on tender points")
            && avoid.iter().any(|a| a == "direct pressure on inflamed joints")
    );
    let (f, r) = (
        omar["cards"].as_array().unwrap().iter().filter(|c| c["source"]["plugin"] == "fibromyalgia").count(),
        omar["cards"].as_array().unwrap().iter().filter(|c| c["source"]["plugin"] == "arthritis").count(),
    );
    assert!(f > 0 && r > 0, "cards of both modules are kept");

    // The booked demo schedule is valid: no practitioner or room double-booked.
    let shown = p.json(&["schedule", "show", "--days", "60", "--json"]);
    let list = shown.as_array().unwrap();
    assert!(list.len() > 20, "the demo books its 8-week plan");
    for (i, a) in list.iter().enumerate() {
        for b in &list[i + 1..] {
            let (s1, e1) = span(a);
            let (s2, e2) = span(b);
            let overlap = s1 < e2 && s2 < e1;
            if overlap && a["class"].is_null() && b["class"].is_null() {
                assert_ne!(a["practitioner"], b["practitioner"], "practitioner double-booked: {a} {b}");
                assert_ne!(a["room"], b["room"], "room double-booked: {a} {b}");
            }
        }
    }
}

fn span(a: &Value) -> (i64, i64) {
    let start: praxis_sdk::DateTime = a["start"].as_str().unwrap().parse().unwrap();
    let s = start.epoch_minutes();
    (s, s + a["minutes"].as_i64().unwrap())
}

/// Bad input to each command: exit code 2, a message saying what is wrong,
/// and the store unchanged.
#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let p = Practice::new();
    p.ok(&["init", "--template", "clinic"]);
    p.ok(&["client", "add", "--name", "Ana Silva", "--condition", "fibromyalgia"]);
    let export_file = p.dir.path().join("good.json");
    p.ok(&["export", "--out", export_file.to_str().unwrap()]);
    let bad_json = p.dir.path().join("bad.json");
    std::fs::write(&bad_json, r#"{"format_version": 1, "clients": [{"id": "x", "name": ""}]}"#).unwrap();
    let not_json = p.dir.path().join("not.json");
    std::fs::write(&not_json, "hello").unwrap();
    let not_lib = p.dir.path().join("libfake.so");
    std::fs::write(&not_lib, "not a library").unwrap();
    let before = p.records();

    let cases: &[(&[&str], &str)] = &[
        (&["client", "add"], "needs a name"),
        (&["client", "add", "--name", "X", "--condition", "gout"], "unknown condition `gout`"),
        (&["client", "add", "--name", "X", "--condition", "fibromyalgia:angry"], "unknown status `angry`"),
        (&["client", "add", "--name", "X", "--dob", "1970-13-01"], "not a valid date"),
        (&["client", "add", "--name", "X", "--pressure", "crushing"], "unknown pressure"),
        (&["client", "add", "--name", "X", "--available", "someday 9-5"], "not an availability window"),
        (&["client", "add", "--name", "X", "--plan", "nope"], "no insurance plan `nope`"),
        (&["client", "add", "--name", "X", "--therapy", "yoga"], "EVERY_DAYS"),
        (&["client", "add", "--name", "X", "--red-flag", "sprain"], "unknown red flag kind"),
        (&["client", "show", "Nobody"], "no client `Nobody`"),
        (&["client", "update", "Ana Silva", "--remove-condition", "neck-pain"], "has no condition"),
        (&["intake", "Ana Silva"], "at least the client's pain patterns"),
        (&["session", "record", "Ana Silva", "--practitioner", "ana", "--minutes", "30", "--pain-before", "11"], "11"),
        (&["session", "record", "Ana Silva", "--practitioner", "nobody", "--minutes", "30"], "nobody"),
        (&["session", "record", "Ana Silva", "--practitioner", "ana", "--minutes", "0"], "minutes"),
        (
            &["session", "record", "Ana Silva", "--practitioner", "ana", "--minutes", "30", "--date", "2999-01-01"],
            "is after today",
        ),
        (
            &[
                "session",
                "record",
                "Ana Silva",
                "--practitioner",
                "ana",
                "--minutes",
                "30",
                "--adverse",
                "stopped-early",
            ],
            "--reason",
        ),
        (&["session", "follow-up", "no-such-session", "--pain", "3"], "no-such-session"),
        (&["guidance"], "name a client"),
        (&["guidance", "Ana Silva", "--as-of", "tomorrow"], "not a valid date"),
        (&["override", "Ana Silva", "--rule", "S1", "--reason", "x"], "no critical card of rule `S1`"),
        (&["schedule", "book"], "no current proposal"),
        (&["schedule", "show", "--practitioner", "zed"], "no practitioner `zed`"),
        (&["report", "outcomes", "--svg", "x.svg"], "--client"),
        (&["import", "/no/such/file.json"], "cannot read"),
        (&["import", not_json.to_str().unwrap()], "export"),
        (&["import", bad_json.to_str().unwrap()], "name"),
        (&["import", export_file.to_str().unwrap()], "already"),
        (&["plugins", "verify", not_lib.to_str().unwrap()], "not a loadable shared library"),
        (&["plugins", "verify", "/no/such/lib.so"], "is not a file"),
        (&["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, message) in cases {
        let out = p.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "praxis {args:?} should exit 2:\n{stderr}");
        assert!(stderr.contains(message), "praxis {args:?}: `{stderr}` should mention `{message}`");
        assert!(!stderr.contains("panicked"), "praxis {args:?} panicked:\n{stderr}");
    }
    assert_eq!(p.records(), before, "bad input left the store as it was");
}

#[test]
fn bad_config_names_file_line_and_key() {
    let p = Practice::new();
    p.ok(&["init"]);
    let config = p.data().join("praxis.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n[rules]\nrecent_injury_dayz = 3\n")).unwrap();
    let out = p.run(&["client", "list"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("praxis.toml") && stderr.contains("recent_injury_dayz") && stderr.contains("line"),
        "{stderr}"
    );
}

#[test]
fn praxis_data_and_praxis_config_work_like_the_flags() {
    let p = Practice::new();
    p.ok(&["init"]);
    p.ok(&["client", "add", "--name", "Env Client"]);
    let run = |vars: &[(&str, &std::path::Path)]| {
        let mut cmd = Command::new(&artifacts().praxis_bin);
        cmd.args(["client", "list", "--json"]).env_remove("PRAXIS_DATA").env_remove("PRAXIS_CONFIG");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let by_data = run(&[("PRAXIS_DATA", &p.data())]);
    assert_eq!(by_data[0]["name"], "Env Client");
    let config = p.data().join("praxis.toml");
    let by_config = run(&[("PRAXIS_CONFIG", &config)]);
    assert_eq!(by_config, by_data, "the config's folder is the data folder by default");
}

#[test]
fn no_practice_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(&artifacts().praxis_bin)
        .args(["--data", dir.path().join("none").to_str().unwrap(), "client", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("praxis init --data DIR"));
}

#[test]
fn plugins_list_shows_first_party_plugins_from_shared_libraries() {
    let p = Practice::new();
    p.ok(&["init", "--template", "clinic"]);
    let list = p.json(&["plugins", "list", "--json"]);
    for id in ["fibromyalgia", "arthritis", "combined-therapy"] {
        let r = list.as_array().unwrap().iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("{id} in {list}"));
        assert_eq!(r["status"], "loaded", "{r}");
        assert_eq!(r["abi"], "1.1");
        assert!(r["path"].as_str().unwrap().ends_with(std::env::consts::DLL_SUFFIX));
        assert_eq!(r["sha256"].as_str().map(str::len), Some(64));
    }
    // Trust a third-party plugin, then it loads from the practice's plugin folder.
    let lowback = artifacts().plugin("lowback_protocol");
    let dest = p.data().join("plugins").join(lowback.file_name().unwrap());
    std::fs::copy(&lowback, &dest).unwrap();
    let refused = p.json(&["plugins", "list", "--json"]);
    let r = refused.as_array().unwrap().iter().find(|r| r["path"] == dest.to_str().unwrap()).unwrap();
    assert_eq!(r["status"], "refused");
    assert!(r["reason"].as_str().unwrap().contains("not trusted"));
    let out = p.ok(&["plugins", "verify", dest.to_str().unwrap()]);
    assert!(out.contains("accepted") && out.contains("low-back"), "{out}");
    p.ok(&["plugins", "trust", dest.to_str().unwrap()]);
    let trusted = p.json(&["plugins", "list", "--json"]);
    let r = trusted.as_array().unwrap().iter().find(|r| r["id"] == "low-back").unwrap();
    assert_eq!(r["status"], "loaded");
}
