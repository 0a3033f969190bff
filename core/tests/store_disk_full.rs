//! A full disk (issue 10, item 2), for real: the store on a 2 MiB tmpfs.
//! Every write completes or fails within seconds with "no space left on the
//! device holding DIR: free space, then retry; nothing was lost"; nothing
//! acknowledged is lost; export does not hang; the store opens and writes
//! again once space is freed.
//!
//! Needs root to mount the tmpfs (CI runs as root); otherwise it says
//! "skipped" and why. `PRAXIS_DISK_FULL_TRIALS=N` sets the number of trials
//! (default 4), each with a different amount of the disk taken beforehand,
//! every other one with the free-space guard off (sled meets ENOSPC itself).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use praxis_core::store::{Client, Store, StoreError, StoreOptions};
use praxis_sdk::Date;

fn today() -> Date {
    Date::from_ymd(2026, 11, 21).unwrap()
}

/// A mounted tmpfs, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        if !rustix::process::geteuid().is_root() {
            return Err("not root, so no tmpfs can be mounted".into());
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!("mount -t tmpfs failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        Ok(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn fill(path: &Path, bytes: usize) {
    std::fs::write(path, vec![0u8; bytes]).unwrap();
}

/// Runs `f` on a thread; `None` if it has not returned after `limit`.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).ok()
}

const LIMIT: Duration = Duration::from_secs(30);

fn client(i: usize, size: usize) -> Client {
    let mut c = Client::new(format!("c-{i:05}"), format!("Client {i}"));
    c.sensitivities = vec!["paracetamol as needed; ".repeat(8); size / 184 + 1];
    c.tender_points = vec!["upper back".into(); 1 + i % 7];
    c
}

const CHILD: &str = "PRAXIS_DISK_FULL_CHILD";

/// The writing side of a trial, in a child process (this test binary): a
/// process whose sled met ENOSPC keeps its handles to the end, as the CLI
/// does. Prints `ACK i` per acknowledged write and `FAIL ms message` per
/// refused one.
#[test]
fn disk_full_child() {
    let Ok(spec) = std::env::var(CHILD) else { return };
    let (dir, spec) = spec.split_once('|').unwrap();
    let store_dir = Path::new(dir);
    if spec == "export" {
        // A new process exports from the still-full disk.
        match Store::open(store_dir).and_then(|s| s.export()) {
            Ok(export) => println!("@@EXPORT {}", export.clients.len()),
            Err(e @ StoreError::NoSpace { .. }) => println!("@@EXPORT_NO_SPACE {e}"),
            Err(e) => println!("@@EXPORT_FAILED {e:?}"),
        }
        return;
    }
    let n: usize = spec.parse().unwrap();
    // Odd trials switch the free-space guard off, so that sled itself meets
    // ENOSPC in the middle of a write.
    let options = StoreOptions { min_free_bytes: if n % 2 == 1 { 0 } else { 256 * 1024 }, ..StoreOptions::default() };
    let store = Store::open_with(store_dir, options).unwrap();
    let mut failures = 0;
    let mut acknowledged = 0;
    for i in 0..100_000 {
        let started = Instant::now();
        let size = 100 + (i * 37 + n * 11) % 3000;
        match store.put_client_as_of(&client(i, size), today(), "disk-full-test") {
            Ok(()) => {
                acknowledged += 1;
                println!("@@ACK {i}");
            }
            Err(e) => {
                let kind = if matches!(e, StoreError::NoSpace { .. }) { "NoSpace" } else { "Other" };
                println!("@@FAIL {} {kind} {e}", started.elapsed().as_millis());
                failures += 1;
                if failures == 3 {
                    break;
                }
            }
        }
    }
    match store.export() {
        Ok(export) => println!("@@EXPORT {} {acknowledged}", export.clients.len()),
        Err(e) => println!("@@EXPORT_FAILED {e}"),
    }
}

/// Runs the child side of a trial; its stdout. Fails if it hangs.
fn run_child(store_dir: &Path, spec: &str) -> String {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "disk_full_child", "--nocapture", "--test-threads=1"])
        .env(CHILD, format!("{}|{spec}", store_dir.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let output = within(LIMIT * 4, move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).unwrap();
        s
    });
    let Some(output) = output else {
        let _ = child.kill();
        panic!("{spec}: the child process did not finish within {:?}: it hangs", LIMIT * 4);
    };
    assert!(child.wait().unwrap().success(), "{spec}: the child process failed:\n{output}");
    output
}

struct Trial {
    acknowledged: usize,
    slowest_failure: Duration,
}

fn trial(fs: &Tmpfs, taken: usize, n: usize) -> Trial {
    let store_dir: PathBuf = fs.path().join(format!("store-{n}"));
    let ballast = fs.path().join("ballast");
    fill(&ballast, 400 * 1024);
    fill(&fs.path().join("taken"), taken);
    let output = run_child(&store_dir, &n.to_string());
    let mut acknowledged = Vec::new();
    let mut slowest_failure = Duration::ZERO;
    let mut exported = None;
    for line in output.lines().filter_map(|l| l.split_once("@@").map(|(_, l)| l)) {
        match line.split_once(' ') {
            Some(("ACK", i)) => acknowledged.push(i.parse::<usize>().unwrap()),
            Some(("FAIL", rest)) => {
                let (ms, rest) = rest.split_once(' ').unwrap();
                let took = Duration::from_millis(ms.parse().unwrap());
                slowest_failure = slowest_failure.max(took);
                assert!(took < Duration::from_secs(10), "trial {n}: a failing write took {took:?}");
                let (kind, text) = rest.split_once(' ').unwrap();
                assert_eq!(kind, "NoSpace", "trial {n}: {text}");
                assert!(
                    text.contains(&format!("no space left on the device holding {}", store_dir.display()))
                        && text.ends_with("free space, then retry; nothing was lost"),
                    "{text}"
                );
            }
            Some(("EXPORT", rest)) => exported = Some(rest.to_owned()),
            Some(("EXPORT_FAILED", rest)) => {
                // sled refuses reads too once it met ENOSPC in this process:
                // a quick, clear refusal is what must hold.
                assert!(rest.starts_with("no space left on the device holding"), "trial {n}: export: {rest}");
                exported = Some(format!("{} {}", acknowledged.len(), acknowledged.len()));
            }
            _ => panic!("trial {n}: unexpected line {line}"),
        }
    }
    // The export has every acknowledged client; when sled itself met ENOSPC
    // in a flush, the write it refused may show in that process too (it was
    // not acknowledged, and may or may not be there after a reopen).
    let exported = exported.unwrap_or_else(|| panic!("trial {n}: no export"));
    let (clients, acked) = exported.split_once(' ').unwrap();
    let clients: usize = clients.parse().unwrap();
    assert_eq!(acked.parse::<usize>().unwrap(), acknowledged.len());
    assert!((acknowledged.len()..=acknowledged.len() + 3).contains(&clients), "trial {n}: export of {clients}");
    // A new process exports from the still-full disk: it returns (and
    // exits), with every acknowledged client or with NoSpace.
    let output = run_child(&store_dir, "export");
    let line = output.lines().find_map(|l| l.split_once("@@").map(|(_, l)| l.to_owned())).unwrap_or_default();
    match line.split_once(' ') {
        Some(("EXPORT", count)) => {
            assert!(count.parse::<usize>().unwrap() >= acknowledged.len(), "trial {n}: export on the full disk")
        }
        Some(("EXPORT_NO_SPACE", _)) => {}
        _ => panic!("trial {n}: export on the full disk: {line}"),
    }
    std::fs::remove_file(&ballast).unwrap();
    std::fs::remove_file(fs.path().join("taken")).unwrap();
    let dir = store_dir.clone();
    let store =
        within(LIMIT, move || Store::open(&dir)).expect("open returns").expect("the store opens once space is freed");
    for i in &acknowledged {
        assert!(
            store.get_client(&format!("c-{i:05}")).unwrap().is_some(),
            "trial {n}: acknowledged client {i} is lost"
        );
    }
    store.put_client_as_of(&client(999_999, 10), today(), "disk-full-test").expect("writes work again");
    let check = store.verify_audit().unwrap();
    assert!(check.ok(), "trial {n}: {:?}", check.problems);
    let store = Arc::new(store);
    within(LIMIT, move || drop(store)).expect("closing the store returns");
    std::fs::remove_dir_all(&store_dir).unwrap();
    Trial { acknowledged: acknowledged.len(), slowest_failure }
}

#[test]
fn a_full_disk_fails_writes_quickly_and_loses_nothing() {
    let fs = match Tmpfs::mount("2m") {
        Ok(fs) => fs,
        Err(why) => {
            eprintln!("skipped: the disk-full test needs a 2 MiB tmpfs ({why})");
            return;
        }
    };
    let trials: usize = std::env::var("PRAXIS_DISK_FULL_TRIALS").ok().and_then(|s| s.parse().ok()).unwrap_or(4);
    let mut total = 0;
    let mut slowest = Duration::ZERO;
    for n in 0..trials {
        let taken = (n * 97 * 1024) % (900 * 1024);
        let t = trial(&fs, taken, n);
        total += t.acknowledged;
        slowest = slowest.max(t.slowest_failure);
    }
    eprintln!(
        "{trials} disk-full trials: {total} writes acknowledged, none lost; every write on the full disk failed \
         with NoSpace, the slowest in {slowest:?}; export and reopen after freeing space worked"
    );
}
