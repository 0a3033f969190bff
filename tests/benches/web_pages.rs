//! Page loads of the web workspace at clinic scale: a generated practice of
//! 10,000 clients and 250,000 sessions (`praxis generate`, seed 1), served by
//! `praxis serve`; each page requested over one keep-alive loopback
//! connection by a logged-in owner (who sees every page), p50 and p99
//! against `GET /api/v1/health` in the same run. The week being measured
//! is booked full (`praxis generate --booked-weeks 1`: every practitioner's
//! hours in one-hour visits), so Today and the calendars show full days; a
//! day's worth of sessions 30 to 42 hours old is recorded through the API
//! first, so the follow-ups page has rows.
//!
//! `cargo bench -p praxis-tests --bench web_pages` (release build; a few
//! minutes, most of it generating and importing). `PRAXIS_LOAD_CLIENTS=N`
//! changes the size, `PRAXIS_PAGE_RUNS=N` the requests per page (default 30).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use praxis_tests::{Profile, cargo_build};

fn praxis(bin: &Path, data: &Path, args: &[&str], stdin: Option<&str>) -> String {
    praxis_tests::praxis_stdout(bin, "bench", data, args, stdin)
}

struct Conn {
    stream: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: SocketAddr) -> Conn {
        let s = TcpStream::connect(addr).unwrap();
        s.set_nodelay(true).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Conn { stream: BufReader::new(s) }
    }

    /// One keep-alive request; the status.
    fn request(&mut self, method: &str, path: &str, headers: &str, body: &str) -> u16 {
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: l\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream.get_mut().write_all(req.as_bytes()).unwrap();
        let mut line = String::new();
        self.stream.read_line(&mut line).unwrap();
        let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0usize;
        let mut chunked = false;
        loop {
            line.clear();
            self.stream.read_line(&mut line).unwrap();
            let l = line.trim_end().to_ascii_lowercase();
            if l.is_empty() {
                break;
            }
            if let Some(v) = l.strip_prefix("content-length: ") {
                length = v.parse().unwrap();
            }
            chunked |= l == "transfer-encoding: chunked";
        }
        if chunked {
            loop {
                line.clear();
                self.stream.read_line(&mut line).unwrap();
                let n = usize::from_str_radix(line.trim(), 16).unwrap();
                let mut buf = vec![0; n + 2];
                self.stream.read_exact(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
            }
        } else {
            let mut buf = vec![0; length];
            self.stream.read_exact(&mut buf).unwrap();
        }
        status
    }
}

/// The session cookie of a login.
fn login(addr: SocketAddr, password: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    let body = format!("login=olive&password={}", password.replace(' ', "+"));
    write!(
        s,
        "POST /login HTTP/1.1\r\nHost: l\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let cookie = text
        .lines()
        .find_map(|l| l.to_ascii_lowercase().starts_with("set-cookie:").then(|| l[11..].trim().to_owned()))
        .expect("a session cookie");
    cookie.split(';').next().unwrap().to_owned()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn timed(conn: &mut Conn, path: &str, headers: &str, runs: usize) -> (Duration, Duration) {
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let status = conn.request("GET", path, headers, "");
            assert_eq!(status, 200, "GET {path}");
            start.elapsed()
        })
        .collect();
    t.sort();
    (percentile(&t, 0.5), percentile(&t, 0.99))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let bin_dir = cargo_build(
        Profile::Release,
        &["praxis-core", "praxis-fibromyalgia", "praxis-arthritis", "praxis-combined-therapy"],
    );
    let bin = bin_dir.join("praxis");
    let root = tempfile::tempdir().unwrap();
    let clients: u32 = std::env::var("PRAXIS_LOAD_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let runs: usize = std::env::var("PRAXIS_PAGE_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    let data = root.path().join("clinic");
    praxis(&bin, &data, &["init", "--template", "clinic", "--name", "Load Clinic"], None);
    let export = root.path().join("gen.json");
    let sessions = (clients * 25).to_string();
    let n = clients.to_string();
    praxis(
        &bin,
        &data,
        &[
            "generate",
            "--clients",
            &n,
            "--sessions",
            &sessions,
            "--seed",
            "1",
            "--booked-weeks",
            "1",
            "--out",
            export.to_str().unwrap(),
        ],
        None,
    );
    praxis(&bin, &data, &["import", export.to_str().unwrap()], None);
    let password = "bench password 123";
    praxis(
        &bin,
        &data,
        &["user", "add", "olive", "--name", "Olive", "--role", "owner", "--password-stdin"],
        Some(&format!("{password}\n")),
    );
    let list = praxis(&bin, &data, &["client", "list", "--json"], None);
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    let client = v[clients as usize / 2]["id"].as_str().unwrap().to_owned();
    let name = v[clients as usize / 2]["name"].as_str().unwrap().to_owned();
    let first_word = name.split(' ').next().unwrap_or("a").to_owned();

    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut server = Command::new(&bin)
        .arg("--data")
        .arg(&data)
        .args(["serve", "--listen", &addr.to_string()])
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let cookie = format!("Cookie: {}\r\n", login(addr, password));
    let mut conn = Conn::open(addr);
    // The generated history ends days ago; give the follow-ups page a day's
    // worth of sessions (sessions / 730, a client each) 30 to 42 hours old,
    // recorded through the API like any other session.
    let token = praxis(&bin, &data, &["token", "create", "bench", "--user", "olive"], None).trim().to_owned();
    let bearer = format!("Authorization: Bearer {token}\r\n");
    let recent = (clients as usize * 25 / 730).max(1);
    for i in 0..recent {
        let hours_ago = 30 + (i * 12 / recent);
        let when = Command::new("date")
            .args(["-u", "-d", &format!("{hours_ago} hours ago"), "+%Y-%m-%d %H:%M"])
            .output()
            .unwrap();
        let when = String::from_utf8(when.stdout).unwrap();
        let (date, time) = when.trim().split_once(' ').unwrap();
        let id = v[i % clients as usize]["id"].as_str().unwrap();
        let body = format!(
            r#"{{"practitioner":"ana","minutes":30,"date":"{date}","time":"{time}","pain_before":6,"pain_after":4}}"#
        );
        let status = conn.request("POST", &format!("/api/v1/clients/{id}/sessions"), &bearer, &body);
        assert!(status == 200 || status == 201, "POST a recent session: {status}");
    }
    // Warm up: the first guidance read evaluates the whole clinic once.
    conn.request("GET", "/outcomes", &cookie, "");

    println!("\n## Workspace pages at {clients} clients, {sessions} sessions ({runs} requests each, one connection)\n");
    println!("| page | p50 | p99 | p50 × health p50 |");
    println!("|---|---|---|---|");
    let (h50, h99) = timed(&mut conn, "/api/v1/health", "", runs.max(200));
    println!("| `GET /api/v1/health` (baseline) | {h50:.2?} | {h99:.2?} | 1 |");
    let pages = [
        ("/today".to_owned(), "Today (every practitioner's appointments, with guidance)"),
        ("/clients".to_owned(), "Clients (first 50 of all)"),
        (format!("/clients?q={first_word}"), "Client search by name"),
        (format!("/clients/{client}"), "A client's chart (record, sessions, guidance, pain chart)"),
        ("/follow-ups".to_owned(), "Follow-ups due (a day's sessions)"),
        ("/calendar".to_owned(), "Week calendar by practitioner"),
        ("/calendar?by=room".to_owned(), "Week calendar by room"),
        ("/outcomes".to_owned(), "Outcomes (every client)"),
        ("/plugins".to_owned(), "Plugins"),
        ("/users".to_owned(), "Users"),
        ("/audit".to_owned(), "Audit log (newest 200)"),
    ];
    for (path, what) in pages {
        let r = if path == "/outcomes" { runs.min(5) } else { runs };
        let (p50, p99) = timed(&mut conn, &path, &cookie, r);
        println!("| {what}: `{path}` | {p50:.1?} | {p99:.1?} | {:.0} |", p50.as_secs_f64() / h50.as_secs_f64());
    }
    // After a change: one session recorded, then the outcomes page (only
    // that client's outcomes are computed again).
    let sessions = format!("/api/v1/clients/{client}/sessions");
    let mut after: Vec<Duration> = (0..runs.min(10))
        .map(|i| {
            let body = format!(r#"{{"practitioner":"ana","minutes":30,"notes":"bench-{i}"}}"#);
            let status = conn.request("POST", &sessions, &bearer, &body);
            assert!(status == 200 || status == 201, "POST {sessions}: {status}");
            let start = Instant::now();
            assert_eq!(conn.request("GET", "/outcomes", &cookie, ""), 200);
            start.elapsed()
        })
        .collect();
    after.sort();
    let (a50, a99) = (percentile(&after, 0.5), percentile(&after, 0.99));
    println!(
        "| Outcomes after one session write: `/outcomes` | {a50:.1?} | {a99:.1?} | {:.0} |",
        a50.as_secs_f64() / h50.as_secs_f64()
    );
    let _ = server.kill();
    let _ = server.wait();
}
