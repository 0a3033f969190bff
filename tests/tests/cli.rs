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
        v.as_object_mut().expect("object").remove("audit_head");
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
    // F4: at least the top of the initial 7-14 days, with a window of 3 days (flare_window_days).
    assert_eq!(g["recommendation"]["interval_days"], serde_json::json!({"min": 14, "max": 17}));
    let text = p.ok(&["guidance", "Maria Santos"]);
    assert!(text.contains("[F4]"), "{text}");

    // Override a critical card with a reason; it is in the audit log.
    let rg = p.json(&["guidance", "Robert King", "--json"]);
    assert_eq!(rg["hold"]["rule"], "R2");
    // The booking verdict names both blockers (S1 sets no hold), each without an override yet.
    let blockers = |g: &Value| -> Vec<(String, String, bool)> {
        g["booking"]["blockers"]
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .map(|b| {
                (
                    b["rule"].as_str().unwrap().to_owned(),
                    b["kind"].as_str().unwrap().to_owned(),
                    b["override_reason"].is_string(),
                )
            })
            .collect()
    };
    assert_eq!(rg["booking"]["status"], "blocked");
    assert_eq!(blockers(&rg), [("R2".into(), "hold".into(), false), ("S1".into(), "critical".into(), false)]);
    p.ok(&["override", "Robert King", "--rule", "S1", "--reason", "healthcare provider cleared treatment"]);
    let rg = p.json(&["guidance", "Robert King", "--json"]);
    assert_eq!(rg["booking"]["status"], "blocked", "R2 still holds");
    assert_eq!(blockers(&rg), [("R2".into(), "hold".into(), false), ("S1".into(), "critical".into(), true)]);
    let page = p.ok(&["guidance", "Robert King"]);
    assert!(page.starts_with("Guidance for Robert King on "), "the page is headed with the name: {page}");
    assert!(page.contains("(overridden for the next booking: healthcare provider cleared treatment)"), "{page}");
    assert_eq!(p.json(&["guidance", "Maria Santos", "--json"])["booking"], serde_json::json!({"status": "bookable"}));
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

    // The booking verdict: S1 and I2 block although they set no hold; two blockers both appear.
    let verdict = |name: &str| -> (String, Vec<String>) {
        let g = by_name(name);
        let rules = g["booking"]["blockers"].as_array().map_or(Vec::new(), |l| {
            l.iter()
                .filter(|b| b["override_reason"].is_null())
                .map(|b| b["rule"].as_str().unwrap().to_owned())
                .collect()
        });
        (g["booking"]["status"].as_str().unwrap().to_owned(), rules)
    };
    assert_eq!(verdict("Sofia Rossi"), ("blocked".into(), vec!["S1".into()]));
    assert_eq!(verdict("Robert King"), ("blocked".into(), vec!["R2".into(), "S1".into()]));
    assert_eq!(verdict("David Brown"), ("blocked".into(), vec!["S2".into()]));
    assert_eq!(verdict("Hannah Clarke"), ("blocked".into(), vec!["I2".into()]));
    assert_eq!(verdict("Maria Santos"), ("bookable".into(), vec![]));
    assert_eq!(verdict("Tom Becker"), ("bookable".into(), vec![]));
    // Maintenance sessions have a length (project default 30-60), not `null`.
    assert_eq!(by_name("Lena Fischer")["recommendation"]["minutes"], serde_json::json!({"min": 30, "max": 60}));

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

/// `schedule plan --from` is reproducible; a booked appointment can be moved
/// (checked by the host), cancelled with a reason, and a no-show is refused
/// before its day; bad input exits 2.
#[test]
fn schedule_plan_from_a_day_and_an_appointments_life() {
    let p = Practice::new();
    p.ok(&["init", "--template", "clinic"]);
    p.ok(&["client", "add", "--name", "Tom Reed", "--therapy", "physical_therapy:7:60"]);
    let today: praxis_sdk::Date =
        p.json(&["guidance", "Tom Reed", "--json"])["as_of"].as_str().unwrap().parse().unwrap();
    let from = today.add_days(10).to_string();
    let first = p.json(&["schedule", "plan", "--from", &from, "--weeks", "2", "--json"]);
    let request = p.dir.path().join("request.json");
    let second = p.json(&[
        "schedule",
        "plan",
        "--from",
        &from,
        "--weeks",
        "2",
        "--json",
        "--request-out",
        request.to_str().unwrap(),
    ]);
    assert_eq!(first, second, "the same day and store give the same plan");
    assert_eq!(first["start"], from.as_str());
    let sent: Value = serde_json::from_str(&std::fs::read_to_string(&request).unwrap()).unwrap();
    assert_eq!(sent["start"], from.as_str());
    assert_eq!(sent["plans"].as_array().unwrap().len(), 1, "the request the plugin receives: {sent}");
    assert_eq!(p.json(&["schedule", "book", "--json"]).as_array().unwrap().len(), 2);
    let shown = p.json(&["schedule", "show", "--from", &from, "--days", "14", "--json"]);
    let list = shown.as_array().unwrap();
    assert_eq!(list.len(), 2, "{shown}");
    let (a, b) = (id_of(&list[0]), id_of(&list[1]));
    let start: praxis_sdk::DateTime = list[0]["start"].as_str().unwrap().parse().unwrap();

    let sunday = (1..=7).map(|k| start.date.add_days(k)).find(|d| d.weekday() == praxis_sdk::Weekday::Sunday).unwrap();
    let bad: &[(&[&str], &str)] = &[
        (&["schedule", "plan", "--from", &today.to_string()], "is not after today"),
        (&["schedule", "cancel", "no-such-id", "--reason", "x"], "no appointment `no-such-id`"),
        (&["schedule", "cancel", &a], "--reason"),
        (&["schedule", "move", &a, "--to", "soon"], "not a valid date and time"),
        (&["schedule", "move", &a, "--to", &format!("{sunday}T10:00")], "outside opening hours"),
        (&["schedule", "no-show", &b], "after today"),
    ];
    for (args, message) in bad {
        let out = p.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "praxis {args:?} should exit 2:\n{stderr}");
        assert!(stderr.contains(message), "praxis {args:?}: `{stderr}` should mention `{message}`");
    }
    let later = start.add_minutes(60).to_string();
    let moved = p.json(&["schedule", "move", &a, "--to", &later, "--json"]);
    assert_eq!(moved[0]["start"], later.as_str());
    let cancelled = p.json(&["schedule", "cancel", &b, "--reason", "client away", "--json"]);
    assert_eq!(
        (cancelled[0]["status"].as_str(), cancelled[0]["status_reason"].as_str()),
        (Some("cancelled"), Some("client away"))
    );
    let shown = p.json(&["schedule", "show", "--from", &from, "--days", "14", "--json"]);
    let status: Vec<(&str, &str)> = shown
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["start"].as_str().unwrap(), x["status"].as_str().unwrap()))
        .collect();
    assert!(status.contains(&(later.as_str(), "booked")) && status.iter().any(|s| s.1 == "cancelled"), "{status:?}");
    // The cancelled session's demand is planned again.
    let replan = p.json(&["schedule", "plan", "--from", &from, "--weeks", "2", "--json"]);
    assert_eq!(replan["appointments"].as_array().unwrap().len(), 1, "{replan}");
}

/// Issue 10 through the binary: private files whatever the umask, exports
/// that say they hold health data, `audit verify` and `store check`, and bad
/// input that was once accepted (exit 2, store unchanged).
#[test]
fn health_data_stays_private_and_bad_input_once_accepted_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let p = Practice::new();
    let under_umask_022 = |args: &[&str]| {
        let out = Command::new("sh")
            .arg("-c")
            .arg("umask 022; exec \"$@\"")
            .arg("sh")
            .arg(&artifacts().praxis_bin)
            .arg("--data")
            .arg(p.data())
            .args(args)
            .env("PRAXIS_USER", "e2e-test")
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        assert!(out.status.success(), "praxis {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    under_umask_022(&["init", "--template", "clinic"]);
    under_umask_022(&["client", "add", "--name", "Ana Silva", "--condition", "fibromyalgia"]);
    let export_file = p.dir.path().join("backup.json");
    under_umask_022(&["export", "--out", export_file.to_str().unwrap()]);
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&p.data()), 0o700);
    assert_eq!(mode(&p.data().join("store")), 0o700);
    assert_eq!(mode(&p.data().join("praxis.toml")), 0o600);
    assert_eq!(mode(&export_file), 0o600);
    for entry in std::fs::read_dir(p.data().join("store")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            assert_eq!(mode(&entry.path()), 0o600, "{}", entry.path().display());
        }
    }
    let export: Value = serde_json::from_str(&std::fs::read_to_string(&export_file).unwrap()).unwrap();
    assert!(export["notice"].as_str().unwrap().contains("health data"), "{export}");
    let help = String::from_utf8_lossy(&p.run(&["export", "--help"]).stdout).into_owned();
    assert!(help.contains("health data"), "{help}");
    assert!(p.ok(&["audit", "verify"]).contains("audit log verified"));
    assert!(p.ok(&["store", "check"]).contains("audit log verified"));
    std::fs::set_permissions(p.data(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = p.run(&["client", "list"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("can be read by other users"), "{out:?}");
    std::fs::set_permissions(p.data(), std::fs::Permissions::from_mode(0o700)).unwrap();

    // Imports: an appointment at 03:00 and one on a closed Sunday, through
    // the practice's calendar checker; duplicate keys; an endless input.
    let client = export["clients"][0]["id"].as_str().unwrap().to_owned();
    let with_appointment = |start: &str| {
        let mut e = export.clone();
        // The target has the configured practitioners and rooms already.
        e["practitioners"] = serde_json::json!([]);
        e["rooms"] = serde_json::json!([]);
        e["appointments"] = serde_json::json!([{
            "id": "a-imported", "client": client, "practitioner": "ana", "room": "room-1",
            "discipline": "massage", "start": start, "minutes": 60, "status": "booked"
        }]);
        let path = p.dir.path().join(format!("import-{}.json", start.replace(':', "")));
        std::fs::write(&path, e.to_string()).unwrap();
        path
    };
    let at_3am = with_appointment("2026-11-23T03:00");
    let on_sunday = with_appointment("2026-11-22T10:00");
    let duplicate = p.dir.path().join("duplicate.json");
    std::fs::write(&duplicate, r#"{"format_version":1,"clients":[{"id":"c9","name":"Ana","name":"Shadow"}]}"#).unwrap();
    let target = Practice::new();
    target.ok(&["init", "--template", "clinic"]);
    target.ok(&["client", "list"]); // brings the configured practitioners and rooms into the store
    // A small import limit, so the endless input is cut after 1 MiB.
    let target_config = target.data().join("praxis.toml");
    let mut text = std::fs::read_to_string(&target_config).unwrap();
    text.push_str("\n[store]\nmax_import_mib = 1\n");
    std::fs::write(&target_config, text).unwrap();
    let before = target.records();
    let cases: &[(&[&str], &str)] = &[
        (&["import", at_3am.to_str().unwrap()], "refused by the practice's calendar"),
        (&["import", on_sunday.to_str().unwrap()], "refused by the practice's calendar"),
        (&["import", duplicate.to_str().unwrap()], "appears twice"),
        (&["import", "/dev/zero"], "larger than the import limit of 1 MiB"),
        (&["client", "add", "--name", "Ana\nSilva"], "one line of text"),
        (&["client", "add", "--name", "Old", "--dob", "1800-01-01"], "a date from 1900 on"),
        (&["--as", "", "client", "add", "--name", "Nobody"], "--as (or PRAXIS_USER) is empty"),
    ];
    for (args, message) in cases {
        let out = target.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "praxis {args:?} should exit 2:\n{stderr}");
        assert!(stderr.contains(message), "praxis {args:?}: `{stderr}` should mention `{message}`");
        assert!(stderr.len() < 2_000, "praxis {args:?}: {} bytes on stderr", stderr.len());
    }
    assert_eq!(target.records(), before, "bad input left the store as it was");
    target.ok(&["client", "add", "--name", "Ana Silva"]);
    let session_cases: &[(&[&str], &str)] = &[
        (
            &["session", "record", "Ana Silva", "--practitioner", "ana", "--minutes", "30", "--date", "0000-01-01"],
            "1900",
        ),
        (
            &[
                "session",
                "record",
                "Ana Silva",
                "--practitioner",
                "ana",
                "--minutes",
                "240",
                "--date",
                "2026-11-20",
                "--time",
                "23:30",
            ],
            "midnight",
        ),
    ];
    let before = target.records();
    for (args, message) in session_cases {
        let out = target.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "praxis {args:?} should exit 2:\n{stderr}");
        assert!(stderr.contains(message), "praxis {args:?}: `{stderr}` should mention `{message}`");
    }
    assert_eq!(target.records(), before, "bad input left the store as it was");

    // A data_dir that does not exist is refused, and not created.
    let config = target.data().join("praxis.toml");
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "[practice]",
        "[practice]\ndata_dir = \"/nonexistent/praxis-dir\"",
        1,
    );
    let other = target.dir.path().join("other.toml");
    std::fs::write(&other, text).unwrap();
    let out =
        Command::new(&artifacts().praxis_bin).arg("--config").arg(&other).args(["client", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    assert!(!std::path::Path::new("/nonexistent/praxis-dir").exists());
}

/// The audit actor: `--as`, else `$USER`, else the OS account name; an empty
/// `--as` is refused. Logs carry no colour codes when stderr is not a terminal.
#[test]
fn actor_and_logs() {
    let p = Practice::new();
    p.ok(&["init", "--template", "solo"]);
    let a = artifacts();
    let run = |args: &[&str], envs: &[(&str, &str)], unset: &[&str]| {
        let mut cmd = Command::new(&a.praxis_bin);
        cmd.arg("--data").arg(p.data()).args(args).env_remove("PRAXIS_DATA").env_remove("PRAXIS_CONFIG");
        cmd.env_remove("PRAXIS_USER").env("RUST_LOG", "error");
        for key in unset {
            cmd.env_remove(key);
        }
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output().expect("run praxis")
    };
    // An empty --as is bad usage, and nothing is written.
    let before = p.records();
    for args in
        [&["--as", "", "client", "add", "--name", "Nobody"][..], &["--as", "  ", "client", "add", "--name", "Nobody"]]
    {
        let out = run(args, &[], &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("--as (or PRAXIS_USER) is empty"), "{stderr}");
    }
    assert_eq!(p.records(), before);
    // Without $USER and --as, the OS account name is the actor, never "unknown".
    let account = Command::new("id").arg("-un").output().expect("id -un");
    let account = String::from_utf8_lossy(&account.stdout).trim().to_owned();
    let out = run(&["client", "add", "--name", "Ann Other", "--json"], &[], &["USER"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let audit = p.json(&["export"])["audit"].clone();
    let last = audit.as_array().unwrap().iter().rev().find(|e| e["entity"] == "client").unwrap().clone();
    assert_ne!(last["actor"], "unknown");
    if !account.is_empty() {
        assert_eq!(last["actor"], account.as_str(), "{last}");
    }
    let out = run(&["client", "add", "--name", "Ben Other"], &[("USER", "from-user")], &[]);
    assert!(out.status.success());
    let audit = p.json(&["export"])["audit"].clone();
    assert!(audit.as_array().unwrap().iter().any(|e| e["actor"] == "from-user"));
    // Debug logs to a pipe (a file, not a terminal): no ANSI escape codes, with or without NO_COLOR.
    for envs in [&[("RUST_LOG", "debug")][..], &[("RUST_LOG", "debug"), ("NO_COLOR", "1")]] {
        let out = run(&["guidance", "--all"], envs, &[]);
        assert!(out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("DEBUG"), "debug logs are written: {stderr}");
        assert!(!stderr.contains('\u{1b}'), "no colour codes in a log file: {stderr:?}");
    }
}

/// Records that say what happened: practitioners from `init` on, the consent
/// date, the follow-up's time, both spellings where a person types, and
/// future appointments (not sessions) on import.
#[test]
fn records_say_what_happened() {
    let p = Practice::new();
    p.ok(&["init", "--template", "clinic"]);
    // "Today" in the practice's time zone, as the binary sees it.
    p.ok(&["client", "add", "--name", "Probe"]);
    let today: praxis_sdk::Date = p.json(&["guidance", "Probe", "--json"])["as_of"].as_str().unwrap().parse().unwrap();
    let day = |offset: i32| today.add_days(offset).to_string();

    // The config's practitioners and rooms are in the store right after init.
    let export = p.json(&["export"]);
    let ids: Vec<&str> =
        export["practitioners"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"ana") && ids.contains(&"ben"), "{ids:?}");
    assert!(!export["rooms"].as_array().unwrap().is_empty());

    // Consent given before today, as intake can be.
    let ann = p.json(&[
        "client",
        "add",
        "--name",
        "Ann Lee",
        "--condition",
        "203082005:active",
        "--consent-date",
        &day(-30),
        "--json",
    ]);
    assert_eq!(ann["consent"]["recorded"], day(-30).as_str());
    assert_eq!(ann["consent"]["treatment"], true);
    assert_eq!(ann["conditions"][0]["code"], "203082005", "a SNOMED CT code is accepted as well as a name");
    let future = p.run(&["client", "add", "--name", "Too Soon", "--consent-date", &day(3)]);
    assert_eq!(future.status.code(), Some(2), "{}", String::from_utf8_lossy(&future.stderr));
    let ann_id = id_of(&ann);

    // Both spellings of an adverse event and of medication use; --help says the canonical one.
    let record = |adverse: &str, medication: &str, ago: i32| {
        p.json(&[
            "session",
            "record",
            &ann_id,
            "--practitioner",
            "ana",
            "--date",
            &day(-ago),
            "--minutes",
            "30",
            "--pain-before",
            "5",
            "--pain-after",
            "4",
            "--adverse",
            adverse,
            "--reason",
            "pain rose",
            "--medication",
            medication,
            "--json",
        ])
    };
    let s1 = record("stopped-early", "less", 10);
    assert_eq!(s1["adverse_event"], serde_json::json!({"kind": "stopped_early", "reason": "pain rose"}), "{s1}");
    assert_eq!(s1["pain_medication"], "less_than_usual");
    let s2 = record("stopped_early", "less_than_usual", 9);
    assert_eq!(
        (s2["adverse_event"].clone(), s2["pain_medication"].clone()),
        (s1["adverse_event"].clone(), s1["pain_medication"].clone())
    );
    let help = p.ok(&["session", "record", "--help"]);
    assert!(help.contains("stopped_early") && help.contains("less_than_usual"), "{help}");
    let bad =
        p.run(&["session", "record", &ann_id, "--practitioner", "ana", "--minutes", "30", "--adverse", "stopped"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("use none, soreness, flare or stopped_early"));

    // The follow-up records when it was taken; outside the 24-48 hour window it is flagged.
    let s1_id = id_of(&s1);
    let on_time = format!("{}T10:00", day(-9));
    let out = p.run(&["session", "follow-up", &s1_id, "--pain", "4", "--at", &on_time, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let saved: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(saved["follow_up_at"], on_time.as_str());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("note:"), "on time: no flag");
    let s2_id = id_of(&s2);
    let late = p.run(&["session", "follow-up", &s2_id, "--pain", "4", "--at", &format!("{}T12:00", day(-5))]);
    assert!(late.status.success());
    let stderr = String::from_utf8_lossy(&late.stderr);
    assert!(stderr.contains("after the 24-48 hour window"), "{stderr}");
    let now = p.json(&["session", "follow-up", &s2_id, "--pain", "3", "--json"]);
    assert!(now["follow_up_at"].as_str().unwrap().starts_with(&day(0)), "default now: {now}");
    let early = p.run(&["session", "follow-up", &s2_id, "--pain", "3", "--at", &format!("{}T08:00", day(-9))]);
    assert_eq!(early.status.code(), Some(2), "before the session ended");

    // Import: booked future appointments come along; future sessions are refused.
    let mut export = p.json(&["export"]);
    export.as_object_mut().unwrap().remove("audit");
    let appointment = serde_json::json!({
        "id": "ext-1", "client": ann_id, "practitioner": "ana", "room": "room-1", "discipline": "massage",
        "start": format!("{}T10:00", day(20)), "minutes": 30, "status": "booked"
    });
    export["appointments"] = serde_json::json!([appointment]);
    let q = Practice::new();
    q.ok(&["init", "--template", "clinic"]);
    let file = q.dir.path().join("in.json");
    std::fs::write(&file, serde_json::to_string(&export).unwrap()).unwrap();
    q.ok(&["import", file.to_str().unwrap()]);
    let shown = q.json(&["schedule", "show", "--from", &day(19), "--days", "3", "--json"]);
    assert_eq!(shown.as_array().unwrap().len(), 1, "the future appointment was imported: {shown}");
    let r = Practice::new();
    r.ok(&["init", "--template", "clinic"]);
    let file = r.dir.path().join("in.json");
    let mut bad_export = export.clone();
    bad_export["appointments"] = serde_json::json!([]);
    bad_export["sessions"][0]["start"] = serde_json::json!(format!("{}T09:00", day(2)));
    std::fs::write(&file, serde_json::to_string(&bad_export).unwrap()).unwrap();
    let refused = r.run(&["import", file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("is after today"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

/// Insurance through the binary: the client keeps the plan's name, its
/// terms come from praxis.toml (an edit reaches the client), the sessions
/// used are counted from the session records in the period (also after an
/// import), and sessions used elsewhere are an audited client change.
#[test]
fn insurance_follows_the_plan_in_the_config_and_counts_the_session_records() {
    let p = Practice::new();
    p.ok(&["init"]); // the solo template: healthfirst needs a referral, covers fibromyalgia
    let config = p.data().join("praxis.toml");
    let template = std::fs::read_to_string(&config).unwrap();
    assert!(template.contains("session_limit = 10\n"), "the solo template's healthfirst plan");
    let write = |limit: &str| std::fs::write(&config, template.replace("session_limit = 10\n", limit)).unwrap();

    // A bad period is refused at load, naming the file, line and key.
    for (bad, key) in [
        ("session_limit = 5\nperiod = \"fortnightly\"\n", "insurance.healthfirst.period"),
        ("session_limit = 5\nperiod = \"plan-year\"\nperiod_start = \"02-30\"\n", "insurance.healthfirst.period_start"),
        ("session_limit = 5\nperiod = \"plan-year\"\n", "insurance.healthfirst.period_start"),
    ] {
        write(bad);
        let out = p.run(&["client", "list"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("praxis.toml") && stderr.contains(key) && stderr.contains("line "), "{bad}: {stderr}");
    }
    write("session_limit = 5\nperiod = \"rolling-12-months\"\n");

    let c = p.json(&[
        "client",
        "add",
        "--name",
        "Ada Plan",
        "--condition",
        "fibromyalgia",
        "--plan",
        "healthfirst",
        "--referral-on-file",
        "--member-id",
        "HF-77",
        "--json",
    ]);
    let id = id_of(&c);
    assert_eq!((c["insurance"]["plan"].as_str(), c["insurance"]["payer"].as_str()), (Some("healthfirst"), Some("")));
    p.ok(&["intake", &id, "--pain-pattern", "aching"]);
    let days = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 86_400;
    let ago = |n: i32| praxis_sdk::Date::from_days(days as i32 - n).to_string();
    // Three sessions in the last 12 months, one before them (the previous period).
    for n in [400, 3, 2, 1] {
        p.ok(&["session", "record", &id, "--date", &ago(n), "--practitioner", "sam", "--minutes", "30"]);
    }
    let i2 = |p: &Practice| -> Option<(String, String)> {
        let g = p.json(&["guidance", &id, "--json"]);
        let card = g["cards"].as_array().unwrap().iter().find(|c| c["rule"] == "I2")?.clone();
        Some((card["indicator"].as_str()?.to_owned(), card["summary"].as_str()?.to_owned()))
    };
    assert_eq!(
        i2(&p),
        Some(("warning".into(), "2 covered sessions remain in the plan (3 of 5 used)".into())),
        "the session 400 days ago is in the previous period"
    );
    let shown = p.json(&["client", "show", &id, "--json"]);
    assert_eq!(shown["insurance"]["sessions_used"], 3, "{shown:#}");
    assert_eq!(shown["insurance"]["sessions_remaining"], 2);
    assert_eq!(shown["insurance"]["member_id"], "HF-77");
    assert_eq!(shown["client"]["insurance"].get("sessions_used"), Some(&Value::from(0)), "no hand-kept counter");

    // The hand-kept count is refused for a plan, naming the flag to use.
    let out = p.run(&["client", "update", &id, "--sessions-used", "4"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--sessions-used-elsewhere"), "{stderr}");

    // Sessions used elsewhere: counted, and audited as a client change.
    p.ok(&["client", "update", &id, "--sessions-used-elsewhere", "2"]);
    assert_eq!(i2(&p).map(|(i, _)| i), Some("critical".into()), "3 here + 2 elsewhere = the limit of 5");
    let audit = p.json(&["audit", "show", "--client", &id, "--json"]);
    let change = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entity"] == "client" && e["after"]["insurance"]["used_elsewhere"]["sessions"] == 2)
        .unwrap_or_else(|| panic!("no audited change of the sessions used elsewhere: {audit:#}"));
    assert_eq!(change["actor"], "e2e-test");
    assert!(change["before"]["insurance"].get("used_elsewhere").is_none(), "{change:#}");

    // The practice raises the plan's limit in praxis.toml: the client, untouched, sees it.
    write("session_limit = 6\nperiod = \"rolling-12-months\"\n");
    assert_eq!(i2(&p), Some(("warning".into(), "1 covered session remains in the plan (5 of 6 used)".into())));

    // After an import there is no counter to forget: the same count.
    let file = p.dir.path().join("export.json");
    p.ok(&["export", "--out", file.to_str().unwrap()]);
    let q = Practice::new();
    q.ok(&["init"]);
    std::fs::copy(&config, q.data().join("praxis.toml")).unwrap();
    q.ok(&["import", file.to_str().unwrap()]);
    assert_eq!(q.json(&["client", "show", &id, "--json"])["insurance"]["sessions_used"], 5);
    assert_eq!(i2(&q), i2(&p));

    // The plan gone from praxis.toml: a warning card, never silence.
    std::fs::write(&config, template.replace("[insurance.healthfirst]", "[insurance.healthfirst-old]")).unwrap();
    let g = p.json(&["guidance", &id, "--json"]);
    let rules: Vec<&str> = g["cards"].as_array().unwrap().iter().filter_map(|c| c["rule"].as_str()).collect();
    assert!(rules.contains(&"HOST-PLAN") && !rules.contains(&"I2"), "{rules:?}");
    let out = p.run(&["client", "update", &id, "--plan", "healthfirst"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("healthfirst-old"), "the known plans are listed");
}
