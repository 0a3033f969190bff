//! The web workspace in real headless Chromium: one day of each role on the
//! demo practice (tests/web/day.mjs, driven by playwright-core), with
//! screenshots of each main page at 1280 and 390 px under
//! `target/screenshots/`.
//!
//! Needs node, `/usr/bin/chromium` and `npm ci` in tests/web; `.ci/run`
//! installs them. Without them the test says it was skipped and how to run
//! it, except under CI (`CI=true`), where it fails.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use praxis_tests::{artifacts, workspace_root};

const PASSWORD: &str = "a long enough password";

fn praxis(data: &Path, args: &[&str], stdin: Option<&str>) -> String {
    praxis_tests::praxis_stdout(&artifacts().praxis_bin, "web-test", data, args, stdin)
}

/// node, Chromium and playwright-core, or why not.
fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let web = workspace_root().join("tests").join("web");
    let chromium = std::env::var_os("CHROMIUM").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromium".into());
    let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    let missing = if !node {
        Some("node is not installed (apt-get install nodejs npm)")
    } else if !chromium.exists() {
        Some("Chromium is not installed (apt-get install chromium)")
    } else if !web.join("node_modules").join("playwright-core").exists() {
        Some("playwright-core is not installed (cd tests/web && npm ci)")
    } else {
        None
    };
    if let Some(why) = missing {
        let message = format!(
            "the browser tests need node, Chromium and playwright-core: {why}; then run `cargo test -p praxis-tests --test web`"
        );
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}");
        }
        eprintln!("skipped: {message}");
        return None;
    }
    Some((web, chromium))
}

struct Demo {
    _dir: tempfile::TempDir,
    server: std::process::Child,
    addr: std::net::SocketAddr,
    client: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

const NOTE: &str = "SECRET-NOTE-7f3a";

/// The demo practice with an owner, a therapist (ana) and a front desk, a
/// session note on its first client, served on a free loopback port.
fn demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    praxis(&data, &["demo"], None);
    for (login, role, practitioner) in
        [("olive", "owner", None), ("tara", "therapist", Some("ana")), ("fran", "front-desk", None)]
    {
        let mut args = vec!["user", "add", login, "--name", login, "--role", role, "--password-stdin"];
        if let Some(p) = practitioner {
            args.extend(["--practitioner", p]);
        }
        praxis(&data, &args, Some(&format!("{PASSWORD}\n")));
    }
    // A session note the front desk must never see.
    let list: serde_json::Value = serde_json::from_str(&praxis(&data, &["client", "list", "--json"], None)).unwrap();
    let client = list[0]["id"].as_str().unwrap().to_owned();
    praxis(
        &data,
        &[
            "session",
            "record",
            &client,
            "--practitioner",
            "ana",
            "--minutes",
            "30",
            "--pain-before",
            "4",
            "--pain-after",
            "3",
            "--notes",
            NOTE,
        ],
        None,
    );
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut server = Command::new(&artifacts().praxis_bin)
        .arg("--data")
        .arg(&data)
        .args(["serve", "--listen", &addr.to_string()])
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut line = [0u8; 7];
    server.stdout.as_mut().unwrap().read_exact(&mut line).unwrap();
    assert_eq!(&line, b"Serving");
    Demo { _dir: dir, server, addr, client }
}

/// One HTTP/1.1 request; status, headers and body.
fn http(addr: std::net::SocketAddr, method: &str, path: &str, cookie: &str, body: &str) -> (u16, String, String) {
    let headers = [("Cookie", cookie), ("Content-Type", "application/x-www-form-urlencoded")];
    let a = praxis_tests::http_exchange(addr, method, path, &headers, body);
    (a.status, a.head, a.body)
}

fn login(addr: std::net::SocketAddr, who: &str) -> String {
    let (status, head, _) =
        http(addr, "POST", "/login", "", &format!("login={who}&password={}", PASSWORD.replace(' ', "+")));
    assert_eq!(status, 303, "{head}");
    let line = head.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).expect("a cookie");
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Strict"), "{line}");
    line[11..].trim().split(';').next().unwrap().to_owned()
}

/// who, method, path, form body, status, text that must not appear.
type Case = (&'static str, &'static str, String, String, u16, &'static str);

/// The pages' rules over plain HTTP (no browser needed): (who, method, path,
/// body, expected status, text that must not appear).
#[test]
fn pages_keep_the_role_rules_and_refuse_forms_without_the_token() {
    let d = demo();
    let (fran, tara) = (login(d.addr, "fran"), login(d.addr, "tara"));
    let id = &d.client;
    let csrf_of = |cookie: &str| {
        let (_, _, page) = http(d.addr, "GET", "/clients", cookie, "");
        let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        page[at..at + 64].to_owned()
    };
    let (fran_csrf, tara_csrf) = (csrf_of(&fran), csrf_of(&tara));
    // A booked appointment of this week, from the calendar's links.
    let (_, _, week) = http(d.addr, "GET", "/calendar", &fran, "");
    let at = week.find("href=\"/appointments/").expect("the calendar links its appointments") + 20;
    let appt = week[at..].split('"').next().unwrap().to_owned();
    let cases: Vec<Case> = vec![
        ("fran", "GET", format!("/appointments/{appt}"), String::new(), 200, NOTE),
        ("tara", "GET", format!("/appointments/{appt}"), String::new(), 200, "Cancel the appointment"),
        ("fran", "GET", "/appointments/no-such-id".into(), String::new(), 404, ""),
        ("fran", "POST", format!("/appointments/{appt}/cancel"), "reason=ill".into(), 403, ""),
        ("fran", "POST", format!("/appointments/{appt}/cancel"), format!("csrf={fran_csrf}&reason=+"), 422, ""),
        (
            "fran",
            "POST",
            format!("/appointments/{appt}/move"),
            format!("csrf={fran_csrf}&date=2026-02-30&time=10:00"),
            422,
            "",
        ),
        (
            "fran",
            "POST",
            format!("/appointments/{appt}/move"),
            format!("csrf={fran_csrf}&date=2026-12-27&time=03:00&practitioner=&room="),
            422,
            "",
        ),
        ("tara", "POST", format!("/appointments/{appt}/cancel"), format!("csrf={tara_csrf}&reason=ill"), 403, ""),
        ("fran", "POST", format!("/appointments/{appt}/cancel"), format!("csrf={fran_csrf}&reason=ill"), 303, ""),
        ("fran", "POST", format!("/appointments/{appt}/cancel"), format!("csrf={fran_csrf}&reason=again"), 422, ""),
        ("nobody", "GET", "/today".into(), String::new(), 303, ""),
        ("nobody", "GET", "/".into(), String::new(), 303, ""),
        ("fran", "GET", format!("/clients/{id}"), String::new(), 200, NOTE),
        ("fran", "GET", format!("/clients/{id}"), String::new(), 200, "Pain before"),
        ("fran", "GET", "/follow-ups".into(), String::new(), 403, NOTE),
        ("fran", "GET", "/outcomes".into(), String::new(), 403, ""),
        ("fran", "GET", "/utilisation".into(), String::new(), 403, ""),
        ("tara", "GET", "/utilisation?days=400".into(), String::new(), 422, ""),
        ("tara", "GET", "/utilisation?from=2026-13-01".into(), String::new(), 422, ""),
        ("tara", "GET", "/utilisation?from=2026-11-30&days=14".into(), String::new(), 200, NOTE),
        ("fran", "GET", "/audit".into(), String::new(), 403, ""),
        ("fran", "POST", "/clients".into(), "name=No+Token".into(), 403, ""),
        ("fran", "POST", "/clients".into(), "name=Wrong+Token&csrf=00".into(), 403, ""),
        ("fran", "POST", "/clients".into(), format!("name=&csrf={fran_csrf}"), 422, ""),
        (
            "fran",
            "POST",
            format!("/clients/{id}/sessions"),
            format!("csrf={fran_csrf}&practitioner=ana&minutes=30"),
            403,
            "",
        ),
        // The desk page's insurance form: the token, the role, bad input, then saved.
        ("fran", "POST", format!("/clients/{id}/insurance"), "plan=healthfirst".into(), 403, ""),
        ("tara", "POST", format!("/clients/{id}/insurance"), format!("csrf={tara_csrf}&plan=healthfirst"), 403, ""),
        (
            "fran",
            "POST",
            format!("/clients/{id}/insurance"),
            format!("csrf={fran_csrf}&sessions_used_elsewhere=two"),
            422,
            "",
        ),
        ("fran", "POST", format!("/clients/{id}/insurance"), format!("csrf={fran_csrf}&plan=no-such-plan"), 422, ""),
        (
            "fran",
            "POST",
            format!("/clients/{id}/insurance"),
            format!("csrf={fran_csrf}&plan=healthfirst&member_id=HF-9&sessions_used_elsewhere=2"),
            303,
            "",
        ),
        ("tara", "GET", format!("/clients/{id}"), String::new(), 200, ""),
        ("tara", "GET", "/plugins".into(), String::new(), 403, ""),
        ("tara", "POST", format!("/clients/{id}/sessions"), "practitioner=ana&minutes=30".into(), 403, ""),
    ];
    for (who, method, path, body, status, absent) in cases {
        let cookie = match who {
            "fran" => fran.as_str(),
            "tara" => tara.as_str(),
            _ => "",
        };
        let (got, head, page) = http(d.addr, method, &path, cookie, &body);
        assert_eq!(got, status, "{who} {method} {path}: {head}\n{page}");
        if !absent.is_empty() {
            assert!(!page.contains(absent), "{who} {method} {path} shows `{absent}`");
        }
    }
    // The saved insurance on the desk page: the plan from praxis.toml, the member id, sessions remaining.
    let (_, _, desk) = http(d.addr, "GET", &format!("/clients/{id}"), &fran, "");
    for shown in ["HealthFirst (healthfirst)", "HF-9", "Sessions remaining", "Used elsewhere"] {
        assert!(desk.contains(shown), "the desk page shows `{shown}`:\n{desk}");
    }
    // The therapist sees the note on the chart; an ended session goes back to the login page.
    let (_, _, chart) = http(d.addr, "GET", &format!("/clients/{id}"), &tara, "");
    assert!(chart.contains(NOTE));
    let (status, head, _) = http(d.addr, "GET", "/today", "praxis_session=0000", "");
    assert_eq!(status, 303);
    assert!(head.contains("location: /login?expired=1"), "{head}");
}

#[test]
fn a_day_of_each_role_in_chromium() {
    let Some((web, chromium)) = browser_tools() else { return };
    let d = demo();
    let (addr, client, note) = (d.addr, d.client.clone(), NOTE);
    let shots = workspace_root().join("target").join("screenshots");
    let out = Command::new("node")
        .arg(web.join("day.mjs"))
        .env("PRAXIS_URL", format!("http://{addr}"))
        .env("PRAXIS_PASSWORD", PASSWORD)
        .env("PRAXIS_SECRET_NOTE", note)
        .env("PRAXIS_NOTE_CLIENT", &client)
        .env("PRAXIS_SCREENSHOTS", &shots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    drop(d);
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(out.status.success(), "the browser day failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    for page in ["therapist-today", "therapist-f4", "front-desk-calendar", "owner-outcomes"] {
        for width in [1280, 390] {
            assert!(shots.join(format!("{page}-{width}.png")).exists(), "no screenshot {page}-{width}.png");
        }
    }
}
