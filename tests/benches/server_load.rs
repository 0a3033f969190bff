//! Clinic scale through the real binary: a generated practice of 10,000
//! clients and 250,000 sessions (`praxis generate`, seed 1), imported, then
//!
//! - the command line without a server: each command's wall time over the
//!   time of a command that only opens the store (`praxis token list`),
//!   at 1,000 and at 10,000 clients, so growth shows;
//! - `praxis serve` under a bounded load on loopback, with 1 and with 32
//!   concurrent connections: guidance for one client, and an acknowledged
//!   (flushed) session write, p50/p99 against `GET /api/v1/health` in the
//!   same run; afterwards every acknowledged session is checked to be there.
//!
//! `cargo bench -p praxis-tests --bench server_load` (release build; a few
//! minutes). `PRAXIS_LOAD_CLIENTS=N` changes the large size.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use praxis_tests::{Profile, cargo_build};

fn praxis(bin: &Path, data: &Path, args: &[&str], stdin: Option<&str>) -> (Duration, String) {
    let t = Instant::now();
    let out = praxis_tests::praxis_stdout(bin, "bench", data, args, stdin);
    (t.elapsed(), out)
}

/// Median of `runs` timings of a command.
fn time(bin: &Path, data: &Path, args: &[&str], runs: usize) -> Duration {
    let mut t: Vec<Duration> = (0..runs).map(|_| praxis(bin, data, args, None).0).collect();
    t.sort();
    t[t.len() / 2]
}

fn practice(bin: &Path, root: &Path, clients: u32) -> (PathBuf, Duration, String) {
    let data = root.join(format!("clinic-{clients}"));
    praxis(bin, &data, &["init", "--template", "clinic", "--name", "Load Clinic"], None);
    let export = root.join(format!("gen-{clients}.json"));
    let sessions = clients * 25;
    let (gen_time, _) = praxis(
        bin,
        &data,
        &["generate", "--clients", &clients.to_string(), "--sessions", &sessions.to_string(), "--seed", "1", "--out"]
            .iter()
            .copied()
            .chain([export.to_str().unwrap()])
            .collect::<Vec<_>>(),
        None,
    );
    let (import_time, _) = praxis(bin, &data, &["import", export.to_str().unwrap()], None);
    eprintln!("{clients} clients, {sessions} sessions: generated in {gen_time:.1?}, imported in {import_time:.1?}");
    praxis(
        bin,
        &data,
        &["user", "add", "olive", "--name", "Olive", "--role", "owner", "--password-stdin"],
        Some("bench password 123\n"),
    );
    let (_, list) = praxis(bin, &data, &["client", "list", "--json"], None);
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    let first = v[clients as usize / 2]["id"].as_str().unwrap().to_owned();
    (data, import_time, first)
}

fn cli_table(bin: &Path, data: &Path, client: &str) -> Vec<(String, Duration)> {
    let runs = 5;
    let mut rows = vec![("store open (`token list`): baseline".to_owned(), time(bin, data, &["token", "list"], runs))];
    for (name, args) in [
        ("`guidance ONE --json`", vec!["guidance", client, "--json"]),
        ("`client show ONE --json`", vec!["client", "show", client, "--json"]),
        (
            "`session record`",
            vec![
                "session",
                "record",
                client,
                "--practitioner",
                "ana",
                "--minutes",
                "30",
                "--pain-before",
                "4",
                "--pain-after",
                "3",
            ],
        ),
        ("`guidance --all --json`", vec!["guidance", "--all", "--json"]),
        ("`report outcomes --json`", vec!["report", "outcomes", "--json"]),
    ] {
        let r = if name.contains("--all") || name.contains("outcomes") { 1 } else { runs };
        rows.push((name.to_owned(), time(bin, data, &args, r)));
    }
    rows
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
    fn request(&mut self, method: &str, path: &str, token: &str, body: &str) -> u16 {
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: l\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// `requests` requests spread over `concurrency` connections; p50, p99.
fn load(
    addr: SocketAddr,
    token: &str,
    concurrency: usize,
    requests: usize,
    make: impl Fn(usize) -> (&'static str, String, String) + Sync,
) -> (Duration, Duration, Vec<String>) {
    let per = requests / concurrency;
    let results: Vec<(Vec<Duration>, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..concurrency)
            .map(|w| {
                let make = &make;
                s.spawn(move || {
                    let mut conn = Conn::open(addr);
                    let mut times = Vec::with_capacity(per);
                    let mut acked = Vec::new();
                    let deadline = Instant::now() + Duration::from_secs(120);
                    for i in 0..per {
                        if Instant::now() > deadline {
                            break;
                        }
                        let (method, path, body) = make(w * per + i);
                        let t = Instant::now();
                        let status = conn.request(method, &path, token, &body);
                        times.push(t.elapsed());
                        assert!(status == 200 || status == 201, "{method} {path}: {status}");
                        if status == 201 {
                            acked.push(body);
                        }
                    }
                    (times, acked)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<Duration> = results.iter().flat_map(|r| r.0.iter().copied()).collect();
    all.sort();
    let acked = results.into_iter().flat_map(|r| r.1).collect();
    (percentile(&all, 0.5), percentile(&all, 0.99), acked)
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
    let large: u32 = std::env::var("PRAXIS_LOAD_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);

    // The command line without a server, at two sizes.
    let mut tables = Vec::new();
    for clients in [large / 10, large] {
        let (data, import, client) = practice(&bin, root.path(), clients);
        tables.push((clients, import, cli_table(&bin, &data, &client), data, client));
    }
    println!("\n## Command line without a server\n");
    println!("| command | {} clients | × open | {} clients | × open |", tables[0].0, tables[1].0);
    println!("|---|---|---|---|---|");
    for i in 0..tables[0].2.len() {
        let (name, a) = &tables[0].2[i];
        let b = tables[1].2[i].1;
        let (oa, ob) = (tables[0].2[0].1.as_secs_f64(), tables[1].2[0].1.as_secs_f64());
        println!("| {name} | {a:.1?} | {:.2} | {b:.1?} | {:.2} |", a.as_secs_f64() / oa, b.as_secs_f64() / ob);
    }
    println!(
        "| `import` (whole practice) | {:.1?} | | {:.1?} | ×{:.1} for ×10 records |",
        tables[0].1,
        tables[1].1,
        tables[1].1.as_secs_f64() / tables[0].1.as_secs_f64()
    );

    // The server, on the large practice.
    let (_, _, _, data, client) = tables.pop().unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let started = Instant::now();
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
    let start_time = started.elapsed();
    let (_, token) = praxis(&bin, &data, &["token", "create", "bench", "--user", "olive"], None);
    let token = token.trim().to_owned();
    println!("\n## Through `praxis serve` ({large} clients; server start, world evaluated: {start_time:.1?})\n");
    println!("| request | connections | p50 | p99 | p99 × health p99 |");
    println!("|---|---|---|---|---|");
    let mut acked_all = Vec::new();
    for concurrency in [1, 32] {
        let n = 2_000;
        let (h50, h99, _) = load(addr, &token, concurrency, n, |_| ("GET", "/api/v1/health".into(), String::new()));
        println!("| `GET /api/v1/health` (baseline) | {concurrency} | {h50:.2?} | {h99:.2?} | 1 |");
        let guidance = format!("/api/v1/clients/{client}/guidance");
        let (g50, g99, _) = load(addr, &token, concurrency, n, |_| ("GET", guidance.clone(), String::new()));
        println!(
            "| `GET /clients/{{id}}/guidance` | {concurrency} | {g50:.2?} | {g99:.2?} | {:.1} |",
            g99.as_secs_f64() / h99.as_secs_f64()
        );
        let sessions = format!("/api/v1/clients/{client}/sessions");
        let (w50, w99, acked) = load(addr, &token, concurrency, 1_000, |i| {
            (
                "POST",
                sessions.clone(),
                format!(r#"{{"practitioner":"ana","minutes":30,"notes":"load-{concurrency}-{i}"}}"#),
            )
        });
        println!(
            "| `POST /clients/{{id}}/sessions` (flushed) | {concurrency} | {w50:.2?} | {w99:.2?} | {:.1} |",
            w99.as_secs_f64() / h99.as_secs_f64()
        );
        acked_all.extend(acked);
    }
    let _ = server.kill();
    let _ = server.wait();
    // Nothing lost: every acknowledged session is in the store once.
    let (_, show) = praxis(&bin, &data, &["client", "show", &client, "--json"], None);
    let v: serde_json::Value = serde_json::from_str(&show).unwrap();
    let notes: Vec<&str> = v["sessions"].as_array().unwrap().iter().filter_map(|s| s["notes"].as_str()).collect();
    let missing = acked_all
        .iter()
        .filter_map(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        .filter(|b| notes.iter().filter(|n| **n == b["notes"].as_str().unwrap()).count() != 1)
        .count();
    println!(
        "\nacknowledged session writes: {}, missing or duplicated after the server was killed: {missing}",
        acked_all.len()
    );
    assert_eq!(missing, 0);
}
