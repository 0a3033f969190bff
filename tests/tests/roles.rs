//! Staff accounts and roles through the real HTTP server: the role table
//! (every role x operation, allowed or a 403 problem), cookie flags, CSRF,
//! idle logout, login backoff and lockout, a disabled account stopping at
//! once, an auditor changing nothing, and a front desk that never sees a
//! clinical field.

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use praxis_tests::artifacts;
use serde_json::{Value, json};

fn praxis(data: &Path, args: &[&str], stdin: Option<&str>) -> String {
    praxis_tests::praxis_stdout(&artifacts().praxis_bin, "roles-test", data, args, stdin)
}

struct Answer {
    status: u16,
    headers: String,
    body: Value,
}

fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Answer {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    let a = praxis_tests::http_exchange(addr, method, path, &all, &body);
    Answer { status: a.status, headers: a.head, body: serde_json::from_str(&a.body).unwrap_or(Value::Null) }
}

struct Clinic {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    server: Child,
    addr: SocketAddr,
    client: String,
    session: String,
}

impl Drop for Clinic {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

const PASSWORD: &str = "a long enough password";

fn clinic(extra_config: &str) -> Clinic {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("clinic");
    praxis(&data, &["init", "--template", "clinic", "--name", "Roles Clinic"], None);
    if !extra_config.is_empty() {
        let path = data.join("praxis.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{text}\n{extra_config}\n")).unwrap();
    }
    // An injury a few days ago: rule S1 gives a critical card to override.
    let days = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 86_400;
    let injured = praxis_sdk::Date::from_days(days as i32 - 3);
    let red_flag = format!("recent-injury:left knee:{injured}");
    let client: Value = serde_json::from_str(&praxis(
        &data,
        &["client", "add", "--name", "Maria Roles", "--condition", "fibromyalgia", "--red-flag", &red_flag, "--json"],
        None,
    ))
    .unwrap();
    let id = client["id"].as_str().unwrap().to_owned();
    praxis(&data, &["intake", &id, "--pain-pattern", "aching shoulders"], None);
    // Two days ago (in UTC, so before today in any practice time zone): a
    // follow-up taken now comes after the session, whatever the clock says.
    let utc_days = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() / 86_400;
    let two_days_ago = praxis_sdk::Date::from_days(i32::try_from(utc_days).unwrap() - 2).to_string();
    let session: Value = serde_json::from_str(&praxis(
        &data,
        &[
            "session",
            "record",
            &id,
            "--date",
            &two_days_ago,
            "--practitioner",
            "ana",
            "--minutes",
            "30",
            "--pain-before",
            "5",
            "--pain-after",
            "4",
            "--notes",
            "SECRET-NOTE",
            "--json",
        ],
        None,
    ))
    .unwrap();
    for (login, role, practitioner) in [
        ("olive", "owner", None),
        ("tara", "therapist", Some("ana")),
        ("fran", "front-desk", None),
        ("audrey", "auditor", None),
    ] {
        let mut args = vec!["user", "add", login, "--name", login, "--role", role, "--password-stdin"];
        if let Some(p) = practitioner {
            args.extend(["--practitioner", p]);
        }
        praxis(&data, &args, Some(&format!("{PASSWORD}\n")));
    }
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
    let session = session["id"].as_str().unwrap().to_owned();
    Clinic { _dir: dir, data, server, addr, client: id, session }
}

impl Clinic {
    fn token(&self, user: &str) -> String {
        praxis(&self.data, &["token", "create", &format!("{user}-token"), "--user", user], None).trim().to_owned()
    }
}

/// Allowed (the operation's success status) or refused with 403, for
/// owner, therapist, front-desk, auditor.
const O: u16 = 0;
const X: u16 = 403;

/// (method, path, body, success status, [owner, therapist, front-desk, auditor])
type Row = (&'static str, String, Option<Value>, u16, [u16; 4]);

#[test]
#[allow(clippy::type_complexity)]
fn the_role_table_through_the_api() {
    let c = clinic("");
    let tokens: Vec<String> = ["olive", "tara", "fran", "audrey"].iter().map(|u| c.token(u)).collect();
    let id = &c.client;
    let sid = &c.session;
    let table: Vec<Row> = vec![
        ("GET", "/api/v1/me".into(), None, 200, [O, O, O, O]),
        ("GET", "/api/v1/clients".into(), None, 200, [O, O, O, X]),
        ("GET", format!("/api/v1/clients/{id}"), None, 200, [O, O, O, X]),
        ("POST", "/api/v1/clients".into(), Some(json!({"name": "New Client"})), 201, [O, X, O, X]),
        ("PATCH", format!("/api/v1/clients/{id}"), Some(json!({"phone": "555-0100"})), 200, [O, X, O, X]),
        ("PATCH", format!("/api/v1/clients/{id}"), Some(json!({"conditions": ["neck-pain"]})), 200, [O, O, X, X]),
        ("GET", format!("/api/v1/clients/{id}/intake"), None, 200, [O, O, X, X]),
        ("PUT", format!("/api/v1/clients/{id}/intake"), Some(json!({"pain_patterns": ["x"]})), 200, [O, O, X, X]),
        ("GET", format!("/api/v1/clients/{id}/guidance"), None, 200, [O, O, X, X]),
        ("GET", format!("/api/v1/clients/{id}/insurance"), None, 200, [O, O, O, X]),
        ("GET", "/api/v1/guidance".into(), None, 200, [O, O, X, X]),
        ("GET", format!("/api/v1/clients/{id}/sessions"), None, 200, [O, O, X, X]),
        (
            "POST",
            format!("/api/v1/clients/{id}/sessions"),
            Some(json!({"practitioner": "ana", "minutes": 30})),
            201,
            [O, O, X, X],
        ),
        ("POST", format!("/api/v1/sessions/{sid}/follow-up"), Some(json!({"pain": 3})), 200, [O, O, X, X]),
        (
            "POST",
            format!("/api/v1/clients/{id}/overrides"),
            Some(json!({"rule": "S1", "reason": "provider-cleared"})),
            201,
            [O, O, X, X],
        ),
        ("GET", "/api/v1/reports/outcomes".into(), None, 200, [O, O, X, O]),
        ("GET", "/api/v1/reports/utilisation?days=14".into(), None, 200, [O, O, X, O]),
        ("GET", "/api/v1/appointments".into(), None, 200, [O, O, O, X]),
        ("GET", "/api/v1/audit".into(), None, 200, [O, X, X, O]),
        ("GET", "/api/v1/export".into(), None, 200, [O, X, X, X]),
        ("GET", "/api/v1/plugins".into(), None, 200, [O, X, X, X]),
        ("POST", "/api/v1/config/reload".into(), None, 200, [O, X, X, X]),
    ];
    let roles = ["owner", "therapist", "front-desk", "auditor"];
    let mut wrong = Vec::new();
    for (method, path, body, success, expected) in &table {
        for (r, token) in tokens.iter().enumerate() {
            let want = if expected[r] == O { *success } else { expected[r] };
            let auth = format!("Bearer {token}");
            let a = http(c.addr, method, path, &[("Authorization", &auth)], body.as_ref());
            let problem_ok = want != 403
                || (a.headers.to_ascii_lowercase().contains("content-type: application/problem+json")
                    && a.body["status"] == 403
                    && a.body["detail"].as_str().is_some_and(|d| d.contains("may not")));
            if a.status != want || !problem_ok {
                wrong.push(format!("{method} {path} as {}: got {} {}, want {want}", roles[r], a.status, a.body));
            }
        }
    }
    assert!(wrong.is_empty(), "the role table does not hold:\n{}", wrong.join("\n"));
}

#[test]
fn front_desk_never_sees_clinical_fields_and_auditor_changes_nothing() {
    let c = clinic("");
    let fran = format!("Bearer {}", c.token("fran"));
    let id = &c.client;
    // The front desk puts the client on a plan with sessions used elsewhere,
    // and sees the sessions remaining: the one recorded here counts.
    let plan = json!({"plan": "healthfirst", "referral_on_file": true, "sessions_used_elsewhere": 3});
    let a = http(c.addr, "PATCH", &format!("/api/v1/clients/{id}"), &[("Authorization", &fran)], Some(&plan));
    assert_eq!(a.status, 200, "{}", a.body);
    let a = http(c.addr, "GET", &format!("/api/v1/clients/{id}/insurance"), &[("Authorization", &fran)], None);
    assert_eq!(a.status, 200, "{}", a.body);
    let seen = (&a.body["plan"], &a.body["session_limit"], &a.body["sessions_used"], &a.body["sessions_remaining"]);
    assert_eq!(seen, (&json!("healthfirst"), &json!(10), &json!(4), &json!(6)), "{}", a.body);
    assert_eq!(a.body["sessions_used_elsewhere"], 3);
    for path in [
        "/api/v1/clients".to_owned(),
        format!("/api/v1/clients/{id}"),
        format!("/api/v1/clients/{id}/insurance"),
        "/api/v1/appointments".to_owned(),
    ] {
        let a = http(c.addr, "GET", &path, &[("Authorization", &fran)], None);
        assert_eq!(a.status, 200, "{path}");
        let text = a.body.to_string();
        for clinical in ["SECRET-NOTE", "203082005", "recent_injury", "left knee", "pain_before", "aching"] {
            assert!(!text.contains(clinical), "front desk saw `{clinical}` in {path}: {text}");
        }
    }
    // Every state-changing operation refuses an auditor.
    let audrey = format!("Bearer {}", c.token("audrey"));
    let before = praxis(&c.data, &["export"], None);
    for (method, path, body) in [
        ("POST", "/api/v1/clients".to_owned(), json!({"name": "X"})),
        ("PATCH", format!("/api/v1/clients/{id}"), json!({"phone": "1"})),
        ("PUT", format!("/api/v1/clients/{id}/intake"), json!({"pain_patterns": ["x"]})),
        ("POST", format!("/api/v1/clients/{id}/sessions"), json!({"practitioner": "ana", "minutes": 30})),
        ("POST", format!("/api/v1/clients/{id}/overrides"), json!({"rule": "S1", "reason": "x"})),
        ("POST", "/api/v1/import".to_owned(), json!({})),
        ("POST", "/api/v1/config/reload".to_owned(), json!({})),
    ] {
        let a = http(c.addr, method, &path, &[("Authorization", &audrey)], Some(&body));
        assert!(a.status == 403 || a.status == 422, "{method} {path} as auditor: {} {}", a.status, a.body);
    }
    let strip = |s: &str| {
        let mut v: Value = serde_json::from_str(s).unwrap();
        v.as_object_mut().unwrap().remove("audit");
        v.as_object_mut().unwrap().remove("audit_head");
        v
    };
    assert_eq!(strip(&before), strip(&praxis(&c.data, &["export"], None)), "the auditor changed a record");
}

#[test]
fn sessions_cookies_csrf_backoff_lockout_and_disabling() {
    let c = clinic("[security]\nlockout_after = 3\n");
    // Login: cookie flags, and the CSRF token in the answer.
    let login = http(c.addr, "POST", "/api/v1/login", &[], Some(&json!({"login": "tara", "password": PASSWORD})));
    assert_eq!(login.status, 200, "{}", login.body);
    let cookie_line = login
        .headers
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .expect("a session cookie")
        .to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie_line.contains(flag), "{cookie_line}");
    }
    assert!(!cookie_line.contains("Secure"), "no Secure flag over plain HTTP on loopback: {cookie_line}");
    let cookie = cookie_line.split_once(':').unwrap().1.trim().split(';').next().unwrap().to_owned();
    let csrf = login.body["csrf"].as_str().unwrap().to_owned();

    // A read with the cookie works; a change without the CSRF token does not.
    let id = &c.client;
    assert_eq!(http(c.addr, "GET", "/api/v1/me", &[("Cookie", &cookie)], None).body["login"], "tara");
    let session = json!({"practitioner": "ana", "minutes": 30});
    let path = format!("/api/v1/clients/{id}/sessions");
    let no_csrf = http(c.addr, "POST", &path, &[("Cookie", &cookie)], Some(&session));
    assert_eq!(no_csrf.status, 403, "{}", no_csrf.body);
    assert!(no_csrf.body["detail"].as_str().unwrap().contains("CSRF"));
    let bad_csrf = http(c.addr, "POST", &path, &[("Cookie", &cookie), ("X-CSRF-Token", "0000")], Some(&session));
    assert_eq!(bad_csrf.status, 403);
    let with_csrf = http(c.addr, "POST", &path, &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)], Some(&session));
    assert_eq!(with_csrf.status, 201, "{}", with_csrf.body);

    // Failed logins: growing delays, then a lockout that even the right password cannot pass.
    let mut delays = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let a = http(c.addr, "POST", "/api/v1/login", &[], Some(&json!({"login": "fran", "password": "wrong wrong"})));
        assert_eq!(a.status, 401);
        delays.push(t.elapsed());
    }
    assert!(delays[0] >= Duration::from_millis(250), "{delays:?}");
    assert!(delays[1] >= Duration::from_millis(500), "{delays:?}");
    assert!(delays[2] >= Duration::from_millis(1000), "{delays:?}");
    let locked = http(c.addr, "POST", "/api/v1/login", &[], Some(&json!({"login": "fran", "password": PASSWORD})));
    assert_eq!(locked.status, 401);
    assert!(locked.body["detail"].as_str().unwrap().contains("locked"), "{}", locked.body);

    // A disabled account's token and session stop working at once.
    let token = format!("Bearer {}", c.token("tara"));
    assert_eq!(http(c.addr, "GET", "/api/v1/clients", &[("Authorization", &token)], None).status, 200);
    praxis(&c.data, &["user", "disable", "tara"], None);
    assert_eq!(http(c.addr, "GET", "/api/v1/clients", &[("Authorization", &token)], None).status, 401);
    assert_eq!(http(c.addr, "GET", "/api/v1/me", &[("Cookie", &cookie)], None).status, 401);

    // Every login, failure and lockout is in the audit log.
    let audit: Value =
        serde_json::from_str(&praxis(&c.data, &["audit", "show", "--user", "fran", "--json"], None)).unwrap();
    let events: Vec<String> =
        audit.as_array().unwrap().iter().filter_map(|e| e["after"]["event"].as_str().map(str::to_owned)).collect();
    assert!(events.iter().filter(|e| e.starts_with("login failed")).count() == 3, "{events:?}");
    assert!(events.iter().any(|e| e.contains("locked until")), "{events:?}");
    assert!(events.iter().any(|e| e == "login refused: locked"), "{events:?}");
}

#[test]
fn an_idle_session_is_logged_out() {
    let c = clinic("[security]\nidle_logout_minutes = 1\n");
    let login = http(c.addr, "POST", "/api/v1/login", &[], Some(&json!({"login": "olive", "password": PASSWORD})));
    let cookie_line = login.headers.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).unwrap();
    let cookie = cookie_line.split_once(':').unwrap().1.trim().split(';').next().unwrap().to_owned();
    assert_eq!(http(c.addr, "GET", "/api/v1/me", &[("Cookie", &cookie)], None).status, 200);
    std::thread::sleep(Duration::from_secs(62));
    let a = http(c.addr, "GET", "/api/v1/me", &[("Cookie", &cookie)], None);
    assert_eq!(a.status, 401, "{}", a.body);
    assert!(a.body["detail"].as_str().unwrap().contains("idle"), "{}", a.body);
}
