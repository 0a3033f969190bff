//! `praxis serve` end to end, over loopback and the data folder's socket:
//! health without a token, 401 without one elsewhere, the demo's clients
//! with one; the command line beside the server (its writes seen at once);
//! the CLI and the API agreeing on every demo client's guidance; and a
//! concurrent write load, then SIGKILL and restart, with every acknowledged
//! write there exactly once.

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use praxis_tests::artifacts;
use serde_json::Value;

fn praxis(data: &Path, args: &[&str]) -> Output {
    praxis_tests::run_praxis_as(&artifacts().praxis_bin, "e2e-test", data, args, None)
}

/// Adds an owner account (a server refuses to start without one).
fn add_owner(data: &Path) {
    let args = ["user", "add", "olive", "--name", "Olive Owner", "--role", "owner", "--password-stdin"];
    praxis_tests::praxis_stdout(&artifacts().praxis_bin, "e2e-test", data, &args, Some("a long owner password\n"));
}

fn ok(data: &Path, args: &[&str]) -> String {
    praxis_tests::praxis_stdout(&artifacts().praxis_bin, "e2e-test", data, args, None)
}

fn json(data: &Path, args: &[&str]) -> Value {
    let out = ok(data, args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("praxis {args:?}: not JSON ({e}):\n{out}"))
}

/// A running `praxis serve`, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(data: &Path) -> Server {
        // Port 0 is not offered by the CLI; pick a free port and hand it over.
        let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let mut child = Command::new(&artifacts().praxis_bin)
            .arg("--data")
            .arg(data)
            .args(["serve", "--listen", &addr.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start praxis serve");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        out.read_line(&mut first).expect("the server's first line");
        assert!(first.starts_with("Serving"), "praxis serve said: {first}");
        // Keep draining stdout so the server never blocks on it.
        std::thread::spawn(move || {
            let mut sink = String::new();
            let _ = out.read_to_string(&mut sink);
        });
        let server = Server { child, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.get("/api/v1/health", None).0 != 200 {
            assert!(Instant::now() < deadline, "the server did not answer its health check");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn request(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> (u16, String, Value) {
        http(self.addr, method, path, token, body)
    }

    fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let (status, _, body) = self.request("GET", path, token, None);
        (status, body)
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request; the status, the content type and the JSON body.
fn http(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> (u16, String, Value) {
    let body = body.map(Value::to_string).unwrap_or_default();
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a));
    }
    let answer = praxis_tests::http_exchange(addr, method, path, &headers, &body);
    (answer.status, answer.content_type(), serde_json::from_str(&answer.body).unwrap_or(Value::Null))
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn demo_practice() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("clinic");
    let out = praxis(&data, &["demo"]);
    assert!(out.status.success(), "demo failed:\n{}", String::from_utf8_lossy(&out.stderr));
    add_owner(&data);
    (dir, data)
}

fn rules(g: &Value) -> Vec<String> {
    let mut r: Vec<String> =
        g["cards"].as_array().into_iter().flatten().filter_map(|c| c["rule"].as_str().map(str::to_owned)).collect();
    r.sort();
    r
}

#[test]
fn a_team_works_through_one_server() {
    let (_dir, data) = demo_practice();
    let server = Server::start(&data);

    // Health needs no token; nothing else answers without one.
    let (status, health) = server.get("/api/v1/health", None);
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let (status, content_type, problem) = server.request("GET", "/api/v1/clients", None, None);
    assert_eq!(status, 401);
    assert_eq!(content_type, "application/problem+json");
    assert!(problem["detail"].as_str().unwrap().contains("praxis token create"), "{problem}");
    assert_eq!(server.get("/api/v1/clients", Some("praxis_000000000000_bad")).0, 401);

    // A token made by the command line, through the server's socket.
    let token = ok(&data, &["token", "create", "e2e", "--user", "olive"]).trim().to_owned();
    let (status, page) = server.get("/api/v1/clients", Some(&token));
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 13, "the demo has 13 clients: {page}");
    let clients = page["items"].as_array().unwrap().clone();
    assert_eq!(clients.len(), 13);

    // The CLI and the API agree on every demo client's guidance.
    for c in &clients {
        let id = c["id"].as_str().unwrap();
        let cli = json(&data, &["guidance", id, "--json"]);
        let (status, api) = server.get(&format!("/api/v1/clients/{id}/guidance"), Some(&token));
        assert_eq!(status, 200);
        assert_eq!(cli, api, "guidance of {} differs between the CLI and the API", c["name"]);
    }

    // A session recorded by the command line beside the server changes the
    // server's guidance at once: pain rose, so F4 (flare response) appears.
    let maria = clients.iter().find(|c| c["name"] == "Maria Santos").expect("Maria is in the demo");
    let id = maria["id"].as_str().unwrap();
    let before = rules(&server.get(&format!("/api/v1/clients/{id}/guidance"), Some(&token)).1);
    ok(
        &data,
        &[
            "session",
            "record",
            id,
            "--practitioner",
            "ana",
            "--minutes",
            "30",
            "--pain-before",
            "3",
            "--pain-after",
            "6",
        ],
    );
    let after = rules(&server.get(&format!("/api/v1/clients/{id}/guidance"), Some(&token)).1);
    assert!(after.contains(&"F4".to_owned()) && before != after, "before {before:?}, after {after:?}");

    // Bad input through the API: a problem document with the CLI's message.
    let (status, content_type, problem) = server.request(
        "POST",
        &format!("/api/v1/clients/{id}/sessions"),
        Some(&token),
        Some(&serde_json::json!({"practitioner": "nobody", "minutes": 30})),
    );
    assert_eq!((status, content_type.as_str()), (422, "application/problem+json"), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("nobody"), "{problem}");
    let (status, _, _) = server.request("POST", &format!("/api/v1/clients/{id}/sessions"), Some(&token), None);
    assert_eq!(status, 400);
    assert_eq!(server.get("/api/v1/clients/no-such-client", Some(&token)).0, 404);
    assert_eq!(server.get("/api/v1/clients?limit=0", Some(&token)).0, 400);

    // The OpenAPI document is there and is 3.1.
    let (status, doc) = server.get("/api/v1/openapi.json", None);
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    assert!(doc["paths"]["/api/v1/clients/{id}/guidance"].is_object());

    // A revoked token stops working at once.
    ok(&data, &["token", "revoke", "e2e"]);
    assert_eq!(server.get("/api/v1/clients", Some(&token)).0, 401);
    server.kill();
}

/// 4 CLI processes and 4 API clients record sessions at once for a few
/// seconds; the server is then SIGKILLed and started again: every
/// acknowledged session is there, once.
#[test]
fn concurrent_writes_survive_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("clinic");
    ok(&data, &["init", "--template", "clinic", "--name", "Load Clinic"]);
    let client = json(&data, &["client", "add", "--name", "Load Client", "--condition", "low-back-pain", "--json"]);
    let id = client["id"].as_str().unwrap().to_owned();
    add_owner(&data);
    let server = Server::start(&data);
    let token = ok(&data, &["token", "create", "load", "--user", "olive"]).trim().to_owned();

    let deadline = Instant::now() + Duration::from_secs(4);
    let mut workers = Vec::new();
    for w in 0..8 {
        let (data, id, token, addr) = (data.clone(), id.clone(), token.clone(), server.addr);
        workers.push(std::thread::spawn(move || {
            let mut acked = Vec::new();
            let mut i = 0;
            while Instant::now() < deadline && i < 200 {
                let note = format!("w{w}-{i}");
                if w < 4 {
                    let out = praxis(
                        &data,
                        &[
                            "session",
                            "record",
                            &id,
                            "--practitioner",
                            "ana",
                            "--minutes",
                            "30",
                            "--notes",
                            &note,
                            "--json",
                        ],
                    );
                    if out.status.success() {
                        acked.push(note);
                    }
                } else {
                    let body = serde_json::json!({"practitioner": "ana", "minutes": 30, "notes": note});
                    let (status, _, _) =
                        http(addr, "POST", &format!("/api/v1/clients/{id}/sessions"), Some(&token), Some(&body));
                    if status == 201 {
                        acked.push(note);
                    }
                }
                i += 1;
            }
            acked
        }));
    }
    let acked: Vec<String> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    assert!(acked.len() >= 16, "the load made too few writes to mean anything: {}", acked.len());
    server.kill();

    let server = Server::start(&data);
    let (status, page) = server.get(&format!("/api/v1/clients/{id}/sessions?limit=1000"), Some(&token));
    assert_eq!(status, 200);
    let notes: Vec<&str> = page["items"].as_array().unwrap().iter().filter_map(|s| s["notes"].as_str()).collect();
    for note in &acked {
        assert_eq!(
            notes.iter().filter(|n| *n == note).count(),
            1,
            "acknowledged session {note} is not there exactly once"
        );
    }
    assert_eq!(notes.len(), acked.len(), "sessions that were never acknowledged appeared");
    server.kill();
}
