//! The API against its own OpenAPI document, checked by schemathesis (from
//! PyPI, in the validators' virtualenv that `.ci/pyenv` makes): no server
//! error, every status, content type and body as documented, bad input
//! refused with a documented 4xx. Bounded in examples and time.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use praxis_tests::{artifacts, python};

fn praxis(data: &Path, args: &[&str]) -> String {
    praxis_tests::praxis_stdout(&artifacts().praxis_bin, "contract-test", data, args, None)
}

#[test]
fn the_api_keeps_its_openapi_contract() {
    let Some(python) = python() else { return };
    let schemathesis = python.with_file_name("schemathesis");
    assert!(schemathesis.exists(), "{} is missing: run `bash .ci/pyenv`", schemathesis.display());

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("clinic");
    praxis(&data, &["init", "--template", "clinic", "--name", "Contract Clinic"]);
    praxis(&data, &["client", "add", "--name", "Ada Contract", "--condition", "fibromyalgia"]);
    let mut add = Command::new(&artifacts().praxis_bin)
        .arg("--data")
        .arg(&data)
        .args(["user", "add", "olive", "--name", "Olive Owner", "--role", "owner", "--password-stdin"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut add.stdin.take().unwrap(), b"a long owner password\n").unwrap();
    assert!(add.wait().unwrap().success());
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut server = Command::new(&artifacts().praxis_bin)
        .arg("--data")
        .arg(&data)
        .args(["serve", "--listen", &addr.to_string()])
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start praxis serve");
    let mut first = String::new();
    let mut out = BufReader::new(server.stdout.take().unwrap());
    out.read_line(&mut first).unwrap();
    assert!(first.starts_with("Serving"), "{first}");
    // Keep reading what the server prints, so that it never writes to a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let token = praxis(&data, &["token", "create", "schemathesis", "--user", "olive"]).trim().to_owned();

    let mut run = Command::new(&schemathesis)
        .args(["run", &format!("http://{addr}/api/v1/openapi.json")])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--max-examples", "15", "--seed", "7", "--request-timeout", "30", "--workers", "1"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        // An import replaces nothing but writes a whole practice: its
        // refusals are tested in tests/cli.rs; reloading is tested there too.
        .args(["--exclude-path", "/api/v1/import", "--exclude-path", "/api/v1/config/reload"])
        // Failed logins are answered slowly on purpose; their table is in tests/roles.rs.
        .args(["--exclude-path", "/api/v1/login"])
        // Its example database goes to the test's temporary folder, not the repository.
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("SCHEMATHESIS_HOOKS", "")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run schemathesis");
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(status) = run.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = run.kill();
            panic!("schemathesis ran for more than 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = run.wait_with_output().unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let report = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(status.success(), "schemathesis found contract violations:\n{report}");
    println!("{report}");
}
