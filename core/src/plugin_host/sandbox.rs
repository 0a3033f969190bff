//! Out-of-process plugins: a child `praxis plugin-host LIBRARY` loads the
//! library and answers the same ABI bytes over a pipe.
//!
//! A plugin from a plugin folder is third-party code: if it segfaults,
//! aborts, calls `exit`, loops, writes to stdout or eats memory, only its
//! child suffers. The host sees a failed call, which becomes a `warning`
//! card for that client; the other plugins' guidance and the store are
//! untouched.
//!
//! ## Wire
//!
//! Both directions are frames: one tag byte, a little-endian `u32` length,
//! then that many bytes.
//!
//! - host → child: tag [`TAG_EVALUATE`] or [`TAG_SCHEDULE`], the request JSON.
//! - child → host: first a hello (tag [`TAG_OK`], JSON [`Hello`]); then, per
//!   request, tag [`TAG_OK`] with the answer's bytes, or [`TAG_ERROR`] with
//!   the call error's message.
//!
//! The child's fd 1 is a non-blocking pipe that the child drains after each
//! call: anything written there is copied to stderr and the call fails with
//! "wrote to stdout". The frames go over a private descriptor (see
//! [`super::stdout`]).
//!
//! ## Limits
//!
//! Each call has a time limit ([`Limits::call_timeout`], project default
//! 2 s): past it the child is killed. The child runs under `RLIMIT_AS`
//! ([`Limits::memory_bytes`], project default 1 GiB). A dead child is
//! restarted on the next call; after [`RESTARTS_BEFORE_BACKOFF`] deaths in a
//! row, calls fail at once for a pause that doubles with each further death
//! (1 s up to 60 s), so a plugin that always crashes costs one spawn per
//! pause, not one per client.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use praxis_sdk::Manifest;
use praxis_sdk::abi::Entry;

/// Frame tag: an `evaluate` request.
pub const TAG_EVALUATE: u8 = 1;
/// Frame tag: a `schedule` request.
pub const TAG_SCHEDULE: u8 = 2;
/// Frame tag: success (the hello, or an answer).
pub const TAG_OK: u8 = 0;
/// Frame tag: the call failed; the bytes are the message.
pub const TAG_ERROR: u8 = 3;
/// Frame tag: the library was refused; the bytes are JSON [`Hello`] with a refusal.
pub const TAG_REFUSED: u8 = 4;

/// Deaths in a row after which restarts back off.
pub const RESTARTS_BEFORE_BACKOFF: u32 = 3;

/// The project default per-call time limit: 2 s.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// The project default memory limit of a child: 1 GiB of address space.
pub const DEFAULT_MEMORY_BYTES: u64 = 1 << 30;

/// The limits of an isolated plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest a call may take before the child is killed.
    pub call_timeout: Duration,
    /// The child's address-space limit (`RLIMIT_AS`), in bytes.
    pub memory_bytes: u64,
    /// The largest answer accepted, in bytes.
    pub max_answer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            call_timeout: DEFAULT_CALL_TIMEOUT,
            memory_bytes: DEFAULT_MEMORY_BYTES,
            max_answer_bytes: super::DEFAULT_MAX_ANSWER_BYTES,
        }
    }
}

/// What the child says once it has loaded (or refused) the library.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Hello {
    /// The table's ABI minor.
    pub abi_minor: u16,
    /// The SDK version the plugin was built with.
    pub sdk_version: String,
    /// The manifest, when it could be read.
    pub manifest: Option<Manifest>,
    /// Why the library was refused, if it was.
    pub refusal: Option<String>,
    /// The manifest exactly as the plugin wrote it (for `plugins verify --strict`).
    #[serde(default)]
    pub manifest_json: Option<serde_json::Value>,
}

fn write_frame(w: &mut impl Write, tag: u8, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| io::Error::other("frame over 4 GiB"))?;
    let mut header = [0u8; 5];
    header[0] = tag;
    header[1..].copy_from_slice(&len.to_le_bytes());
    w.write_all(&header)?;
    w.write_all(bytes)?;
    w.flush()
}

/// Reads one frame; `None` at a clean end of stream. A frame longer than
/// `max` is an error (its bytes are not read).
fn read_frame(r: &mut impl Read, max: usize) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut header = [0u8; 5];
    match r.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if len > max {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("a frame of {len} bytes, over {max}")));
    }
    let mut bytes = vec![0u8; len];
    r.read_exact(&mut bytes)?;
    Ok(Some((header[0], bytes)))
}

// ---------------------------------------------------------------------------
// The child: `praxis plugin-host LIBRARY`.
// ---------------------------------------------------------------------------

/// The child's loop: loads `library` (the parent has checked that it is
/// trusted, and passes its private copy), says hello, then answers requests
/// from stdin until it closes. Returns the process exit code.
pub fn serve(library: &Path, max_answer_bytes: usize) -> u8 {
    if let Err(e) = super::stdout::take_stdout() {
        eprintln!("plugin-host: cannot keep stdout: {e}");
        return 1;
    }
    // fd 1 becomes a pipe nobody else reads: what the plugin writes there
    // is noticed after each call, copied to stderr, and fails the call.
    let watch = match rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK | rustix::pipe::PipeFlags::CLOEXEC) {
        Ok((read, write)) => match rustix::stdio::dup2_stdout(&write) {
            Ok(()) => Some(std::fs::File::from(read)),
            Err(_) => None,
        },
        Err(_) => None,
    };
    let mut out = super::stdout::host_stdout();
    let loaded = super::open_table(library).and_then(|handle| {
        let manifest = handle.manifest().map_err(|e| super::Refusal::Manifest(e.to_string()))?;
        super::check_entries(&handle, &manifest)?;
        Ok((handle, manifest))
    });
    let (handle, hello) = match loaded {
        Ok((handle, manifest)) => {
            let hello = Hello {
                abi_minor: handle.abi_minor(),
                sdk_version: handle.sdk_version(),
                manifest: Some(manifest),
                refusal: None,
                manifest_json: handle.manifest_raw().ok().and_then(|b| serde_json::from_slice(&b).ok()),
            };
            (handle, hello)
        }
        Err(refusal) => {
            let manifest = match &refusal {
                super::Refusal::TableOf(_, m) => Some((**m).clone()),
                _ => None,
            };
            let hello = Hello {
                abi_minor: 0,
                sdk_version: String::new(),
                manifest,
                refusal: Some(refusal.to_string()),
                manifest_json: None,
            };
            let bytes = serde_json::to_vec(&hello).unwrap_or_default();
            let _ = write_frame(&mut out, TAG_REFUSED, &bytes);
            return 0;
        }
    };
    let bytes = serde_json::to_vec(&hello).unwrap_or_default();
    if write_frame(&mut out, TAG_OK, &bytes).is_err() {
        return 1;
    }
    let mut input = io::stdin().lock();
    loop {
        let (tag, request) = match read_frame(&mut input, usize::MAX >> 1) {
            Ok(Some(frame)) => frame,
            Ok(None) => return 0,
            Err(e) => {
                eprintln!("plugin-host: bad request frame: {e}");
                return 1;
            }
        };
        let entry = match tag {
            TAG_EVALUATE => Entry::Evaluate,
            TAG_SCHEDULE => Entry::Schedule,
            other => {
                eprintln!("plugin-host: unknown request tag {other}");
                return 1;
            }
        };
        let answer = handle.call_limited(entry, &request, max_answer_bytes);
        let wrote = watch.as_ref().map_or(0, drain_to_stderr);
        let sent = match answer {
            _ if wrote > 0 => write_frame(
                &mut out,
                TAG_ERROR,
                format!("the plugin wrote {wrote} bytes to stdout (copied to stderr); its answer was dropped")
                    .as_bytes(),
            ),
            Ok(bytes) => write_frame(&mut out, TAG_OK, &bytes),
            Err(e) => write_frame(&mut out, TAG_ERROR, e.to_string().as_bytes()),
        };
        if sent.is_err() {
            return 1;
        }
    }
}

/// Copies what is waiting in the (non-blocking) pipe to stderr; returns how many bytes.
fn drain_to_stderr(mut pipe: &std::fs::File) -> usize {
    let mut total = 0;
    let mut buf = [0u8; 8192];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                total += n;
                let _ = io::stderr().write_all(&buf[..n]);
            }
            Err(_) => break,
        }
    }
    total
}

// ---------------------------------------------------------------------------
// The host side.
// ---------------------------------------------------------------------------

struct Running {
    child: Child,
    stdin: ChildStdin,
    answers: Receiver<io::Result<(u8, Vec<u8>)>>,
}

#[derive(Default)]
struct State {
    running: Option<Running>,
    deaths_in_a_row: u32,
    paused_until: Option<Instant>,
}

/// An isolated plugin: its child processes (one per worker thread, up to
/// [`MAX_CHILDREN`], started as calls need them), each restarted as needed.
pub struct Sandbox {
    program: PathBuf,
    library: PathBuf,
    limits: Limits,
    children: Vec<Mutex<State>>,
}

/// The most children one isolated plugin gets, so that a whole-clinic
/// evaluation on several threads is not serialised through one pipe.
pub const MAX_CHILDREN: usize = 4;

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("program", &self.program).field("library", &self.library).finish()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for state in &mut self.children {
            let Some(mut running) = state.get_mut().map(|s| s.running.take()).unwrap_or_default() else {
                continue;
            };
            drop(running.stdin);
            // Closing stdin ends the child's loop; reap it so no zombie stays.
            if running.child.try_wait().ok().flatten().is_none() {
                let deadline = Instant::now() + Duration::from_millis(200);
                while Instant::now() < deadline && running.child.try_wait().ok().flatten().is_none() {
                    std::thread::sleep(Duration::from_millis(5));
                }
                let _ = running.child.kill();
                let _ = running.child.wait();
            }
        }
    }
}

impl Sandbox {
    /// Starts `program plugin-host LIBRARY` and reads its hello. The child
    /// keeps running for the calls that follow.
    pub fn start(program: &Path, library: &Path, limits: Limits) -> Result<(Sandbox, Hello), String> {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_CHILDREN);
        let sandbox = Sandbox {
            program: program.to_path_buf(),
            library: library.to_path_buf(),
            limits,
            children: (0..workers).map(|_| Mutex::default()).collect(),
        };
        let (running, hello) = sandbox.spawn()?;
        sandbox.children[0].lock().unwrap_or_else(|p| p.into_inner()).running = Some(running);
        Ok((sandbox, hello))
    }

    fn spawn(&self) -> Result<(Running, Hello), String> {
        let mut command = Command::new(&self.program);
        command
            .arg("plugin-host")
            .arg(&self.library)
            .arg("--max-answer-bytes")
            .arg(self.limits.max_answer_bytes.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env_remove("PRAXIS_DATA")
            .env_remove("PRAXIS_CONFIG");
        super::limit_memory(&mut command, self.limits.memory_bytes);
        let mut child =
            command.spawn().map_err(|e| format!("cannot start the plugin host {}: {e}", self.program.display()))?;
        let stdin = child.stdin.take().ok_or("the plugin host has no stdin")?;
        let mut stdout = child.stdout.take().ok_or("the plugin host has no stdout")?;
        let (send, answers) = channel();
        let max = self.limits.max_answer_bytes.saturating_add(64 * 1024);
        std::thread::Builder::new()
            .name("praxis-plugin-reader".into())
            .spawn(move || {
                loop {
                    let frame = read_frame(&mut stdout, max);
                    let done = !matches!(frame, Ok(Some(_)));
                    let frame = frame.and_then(|f| f.ok_or_else(|| io::ErrorKind::UnexpectedEof.into()));
                    if send.send(frame).is_err() || done {
                        return;
                    }
                }
            })
            .map_err(|e| format!("cannot start a reader thread: {e}"))?;
        let mut running = Running { child, stdin, answers };
        let hello = match running.answers.recv_timeout(self.limits.call_timeout.max(Duration::from_secs(10))) {
            Ok(Ok((TAG_OK | TAG_REFUSED, bytes))) => serde_json::from_slice::<Hello>(&bytes)
                .map_err(|e| format!("the plugin host's hello is not valid: {e}"))?,
            Ok(Ok((tag, _))) => return Err(format!("the plugin host said {tag} instead of hello")),
            Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => {
                let status = reap(&mut running.child);
                return Err(format!("the plugin's process died while loading it ({status})"));
            }
            Err(RecvTimeoutError::Timeout) => {
                let _ = running.child.kill();
                let _ = running.child.wait();
                return Err("the plugin's process did not finish loading it within 10 s".into());
            }
        };
        Ok((running, hello))
    }

    /// One call in the child. A crash, an exit, a timeout or a broken pipe
    /// is an error saying which; the child is restarted on the next call.
    pub fn call(&self, entry: Entry, input: &[u8]) -> Result<Vec<u8>, String> {
        // A free child, started ones first; else wait for the first.
        let mut state = self
            .children
            .iter()
            .filter_map(|c| c.try_lock().ok())
            .min_by_key(|s| s.running.is_none())
            .unwrap_or_else(|| self.children[0].lock().unwrap_or_else(|p| p.into_inner()));
        if let Some(until) = state.paused_until {
            let now = Instant::now();
            if now < until {
                return Err(format!(
                    "its process died {} times in a row; the next restart is in {} ms",
                    state.deaths_in_a_row,
                    (until - now).as_millis()
                ));
            }
            state.paused_until = None;
        }
        if state.running.is_none() {
            match self.spawn() {
                Ok((running, _)) => state.running = Some(running),
                Err(e) => {
                    died(&mut state);
                    return Err(e);
                }
            }
        }
        let running = state.running.as_mut().expect("started above");
        let tag = match entry {
            Entry::Evaluate => TAG_EVALUATE,
            Entry::Schedule => TAG_SCHEDULE,
        };
        let outcome = match write_frame(&mut running.stdin, tag, input) {
            Err(_) => Err(None),
            Ok(()) => match running.answers.recv_timeout(self.limits.call_timeout) {
                Ok(Ok((TAG_OK, bytes))) => Ok(Ok(bytes)),
                Ok(Ok((TAG_ERROR, bytes))) => Ok(Err(String::from_utf8_lossy(&bytes).into_owned())),
                Ok(Ok((other, _))) => Err(Some(format!("the plugin host answered with unknown tag {other}"))),
                Ok(Err(e)) if e.kind() == io::ErrorKind::InvalidData => Err(Some(format!("{e}"))),
                Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => Err(None),
                Err(RecvTimeoutError::Timeout) => Err(Some(format!(
                    "no answer within {} ms (`[plugins] call_timeout_ms`): the plugin was stopped",
                    self.limits.call_timeout.as_millis()
                ))),
            },
        };
        match outcome {
            Ok(answer) => {
                state.deaths_in_a_row = 0;
                answer
            }
            Err(reason) => {
                let mut running = state.running.take().expect("running");
                let status = if reason.is_some() {
                    let _ = running.child.kill();
                    let _ = running.child.wait();
                    String::new()
                } else {
                    reap(&mut running.child)
                };
                died(&mut state);
                Err(reason.unwrap_or_else(|| format!("its process {status} during the call")))
            }
        }
    }
}

fn died(state: &mut State) {
    state.deaths_in_a_row += 1;
    if state.deaths_in_a_row >= RESTARTS_BEFORE_BACKOFF {
        let doublings = (state.deaths_in_a_row - RESTARTS_BEFORE_BACKOFF).min(6);
        let pause = Duration::from_secs(1 << doublings).min(Duration::from_secs(60));
        state.paused_until = Some(Instant::now() + pause);
    }
}

/// Waits for a child that is exiting and says how it ended.
fn reap(child: &mut Child) -> String {
    use std::os::unix::process::ExitStatusExt;
    let deadline = Instant::now() + Duration::from_secs(2);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            _ => {
                let _ = child.kill();
                break child.wait().ok();
            }
        }
    };
    match status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exited with status {code}"),
            (None, Some(signal)) => format!("was killed by signal {signal} ({})", signal_name(signal)),
            _ => format!("ended ({s})"),
        },
        None => "ended".to_owned(),
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        4 => "SIGILL: illegal instruction",
        6 => "SIGABRT: the plugin aborted",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV: the plugin crashed",
        _ => "a signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_are_bounded() {
        let mut buf = Vec::new();
        write_frame(&mut buf, TAG_EVALUATE, b"{}").unwrap();
        write_frame(&mut buf, TAG_OK, b"").unwrap();
        let mut r = &buf[..];
        assert_eq!(read_frame(&mut r, 10).unwrap(), Some((TAG_EVALUATE, b"{}".to_vec())));
        assert_eq!(read_frame(&mut r, 10).unwrap(), Some((TAG_OK, Vec::new())));
        assert_eq!(read_frame(&mut r, 10).unwrap(), None);
        let mut big = Vec::new();
        write_frame(&mut big, TAG_OK, &[b' '; 100]).unwrap();
        let err = read_frame(&mut &big[..], 99).unwrap_err();
        assert!(err.to_string().contains("a frame of 100 bytes, over 99"), "{err}");
        // A truncated frame is an error, not a short answer.
        assert!(read_frame(&mut &big[..50], 1000).is_err());
    }

    #[test]
    fn restarts_back_off_after_repeated_deaths() {
        let mut state = State::default();
        for _ in 0..RESTARTS_BEFORE_BACKOFF - 1 {
            died(&mut state);
            assert!(state.paused_until.is_none());
        }
        died(&mut state);
        let first = state.paused_until.expect("paused") - Instant::now();
        assert!(first <= Duration::from_secs(1) && first > Duration::from_millis(900), "{first:?}");
        died(&mut state);
        let second = state.paused_until.expect("paused") - Instant::now();
        assert!(second > Duration::from_millis(1900), "{second:?}");
    }
}
