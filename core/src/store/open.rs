//! What happens around sled's own open: private permissions, recovery of a
//! snapshot left unfinished by a crash or a full disk, the holder file that
//! names the process that has the store, and the wait for a store in use.
//!
//! **Recovery.** sled 0.34.7 writes a snapshot of its page table while it
//! opens: to `snap.<lsn>.generating`, fsync, then a rename to `snap.<lsn>`
//! (older snapshots are removed only after the rename). A process killed, or
//! a disk that fills, before the rename leaves an empty or partial
//! `.generating` file, and sled's next open reads it as the newest snapshot
//! and fails with "Read corrupted data at file offset None" (sled issue
//! #1527). Such a file is never needed: the snapshot before it is still there
//! (or, for a new store, sled rebuilds its table from the log). So before sled
//! opens, every `snap.*.generating` file is moved into `recovered/` in the
//! store folder (kept, not deleted), logged, and audited once the store is
//! open (`recover`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::private;

/// The folder inside a store where files set aside by recovery are kept.
pub const RECOVERED_DIR: &str = "recovered";
/// The file inside a store that names the process holding it (0600; removed on close).
pub const HOLDER_FILE: &str = "holder.json";

/// The process that has a store open, as written in [`HOLDER_FILE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Its process id.
    pub pid: u32,
    /// Its command line (cut to 200 characters).
    pub command: String,
    /// Since when (UTC).
    pub since: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "process {} (`{}`, since {})", self.pid, self.command, self.since)
    }
}

/// Reads the holder file of the store in `dir`, if there is one.
pub fn read_holder(dir: &Path) -> Option<Holder> {
    let text = std::fs::read(dir.join(HOLDER_FILE)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Writes the holder file for this process.
pub(crate) fn write_holder(dir: &Path) {
    let mut command: String = std::env::args().collect::<Vec<_>>().join(" ");
    if command.chars().count() > 200 {
        command = command.chars().take(197).collect::<String>() + "...";
    }
    let command = command.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let holder = Holder { pid: std::process::id(), command, since: jiff::Timestamp::now().to_string() };
    let bytes = serde_json::to_vec(&holder).unwrap_or_default();
    if let Err(e) = private::write_private(&dir.join(HOLDER_FILE), &bytes) {
        tracing::warn!(path = %dir.display(), error = %e, "cannot write the store's holder file");
    }
}

/// Removes the holder file if it names this process.
pub(crate) fn remove_holder(dir: &Path) {
    if read_holder(dir).is_some_and(|h| h.pid == std::process::id()) {
        let _ = std::fs::remove_file(dir.join(HOLDER_FILE));
    }
}

/// Files that sled's snapshot code would read: `snap.*` in the store folder.
pub(crate) fn snapshot_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("snap.") && !n.ends_with(".in___motion"))
        })
        .collect();
    files.sort();
    files
}

/// Moves `file` into the store's `recovered/` folder under a name that says
/// when; returns the new path.
pub(crate) fn set_aside(dir: &Path, file: &Path) -> std::io::Result<PathBuf> {
    let folder = dir.join(RECOVERED_DIR);
    private::create_private_dir(&folder)?;
    let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S%.fZ").to_string();
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let target = folder.join(format!("{stamp}-{name}"));
    std::fs::rename(file, &target)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(target)
}

/// Sets aside every snapshot sled left unfinished (`snap.*.generating`).
/// Returns a description of each file moved.
pub(crate) fn recover_snapshots(dir: &Path) -> Result<Vec<String>, std::io::Error> {
    let mut moved = Vec::new();
    for file in snapshot_files(dir) {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if !name.ends_with(".generating") {
            continue;
        }
        let len = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        let target = set_aside(dir, &file)?;
        tracing::warn!(
            file = %file.display(),
            bytes = len,
            kept = %target.display(),
            "store recovery: set aside a snapshot that sled left unfinished (a crash or a full disk during open)"
        );
        moved.push(format!(
            "{name} ({len} bytes) moved to {}/{}",
            RECOVERED_DIR,
            target.file_name().and_then(|n| n.to_str()).unwrap_or_default()
        ));
    }
    Ok(moved)
}

/// Copies the folder `from` to `to` (which must not exist), files 0600.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<u64> {
    private::create_private_dir(to)?;
    let mut bytes = 0;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            bytes += copy_dir(&entry.path(), &target)?;
        } else if entry.file_type()?.is_file() {
            let mut src = std::fs::File::open(entry.path())?;
            let mut dst = std::fs::OpenOptions::new().write(true).create_new(true).open(&target)?;
            bytes += std::io::copy(&mut src, &mut dst)?;
            dst.flush()?;
            dst.sync_all()?;
        }
    }
    Ok(bytes)
}
