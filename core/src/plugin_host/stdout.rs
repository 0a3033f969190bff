//! The host's stdout is the host's alone.
//!
//! A plugin loaded in process shares the process's file descriptors, so a
//! `printf` in a C plugin (or a `println!` in a Rust one) writes to fd 1, the
//! same descriptor as the host's machine-readable output (`--json`). To make
//! that impossible rather than unlikely, the binary calls [`take_stdout`] once
//! at start, before any plugin is loaded: it duplicates fd 1 to a private
//! descriptor (close-on-exec, so no child inherits it) and points fd 1 at
//! stderr. From then on every write to fd 1 (a plugin's, or a stray
//! `println!` of the host's) lands on stderr, and only [`host_stdout`]
//! reaches the real stdout. C stdio buffers that a plugin flushes at exit go
//! to stderr too, since fd 1 stays pointed there for the life of the process.

use std::fs::File;
use std::io::{self, LineWriter, Write};
use std::os::fd::AsFd;
use std::sync::{Mutex, OnceLock};

static PRIVATE: OnceLock<Mutex<LineWriter<File>>> = OnceLock::new();

/// Moves the process's stdout to a private descriptor and points fd 1 at
/// stderr. Idempotent: a second call does nothing.
pub fn take_stdout() -> io::Result<()> {
    if PRIVATE.get().is_some() {
        return Ok(());
    }
    io::stdout().flush()?;
    // `try_clone_to_owned` is F_DUPFD_CLOEXEC: a new descriptor, never 0-2,
    // closed in any child we spawn.
    let private = io::stdout().as_fd().try_clone_to_owned()?;
    rustix::stdio::dup2_stdout(io::stderr().as_fd())?;
    let _ = PRIVATE.set(Mutex::new(LineWriter::new(File::from(private))));
    Ok(())
}

/// Whether [`take_stdout`] has moved stdout.
pub fn is_taken() -> bool {
    PRIVATE.get().is_some()
}

/// The host's real stdout: the private descriptor after [`take_stdout`],
/// else the process's stdout.
pub fn host_stdout() -> HostStdout {
    HostStdout
}

/// A writer to the host's real stdout (see [`host_stdout`]).
#[derive(Debug, Clone, Copy)]
pub struct HostStdout;

impl Write for HostStdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match PRIVATE.get() {
            Some(w) => w.lock().unwrap_or_else(|p| p.into_inner()).write(buf),
            None => io::stdout().write(buf),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match PRIVATE.get() {
            Some(w) => w.lock().unwrap_or_else(|p| p.into_inner()).write_all(buf),
            None => io::stdout().write_all(buf),
        }
    }
    fn write_fmt(&mut self, args: std::fmt::Arguments<'_>) -> io::Result<()> {
        match PRIVATE.get() {
            // One lock for the whole formatted line.
            Some(w) => w.lock().unwrap_or_else(|p| p.into_inner()).write_fmt(args),
            None => io::stdout().lock().write_fmt(args),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match PRIVATE.get() {
            Some(w) => w.lock().unwrap_or_else(|p| p.into_inner()).flush(),
            None => io::stdout().flush(),
        }
    }
}
