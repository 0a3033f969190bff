//! Health data is never readable by other users of the machine.
//!
//! Every folder Praxis creates for a practice is 0700 and every file it writes
//! 0600, whatever the umask it was started with:
//!
//! - [`restrict_umask`] adds 077 to the process's umask, so that files sled
//!   creates later on its own (snapshots, blobs) are private too;
//!   [`Store::open`](super::Store::open) calls it.
//! - [`create_private_dir`] makes a folder (and missing parents) 0700.
//! - [`write_private`] writes a file atomically (temporary file, fsync,
//!   rename) with mode 0600: exports, charts, proposals, configuration.
//! - [`restrict_tree`] sets what is already in a store folder to 0700 / 0600
//!   (a store made by an older Praxis under umask 022).
//! - [`readable_by_others`] tells whether a folder's mode lets other users in.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use rustix::fs::Mode;

/// The mode of every folder Praxis creates.
pub const DIR_MODE: u32 = 0o700;
/// The mode of every file Praxis writes.
pub const FILE_MODE: u32 = 0o600;

/// Adds 077 to the process's file creation mask (group and others get no
/// bits on anything created from now on). Process-wide and idempotent.
pub fn restrict_umask() {
    let old = rustix::process::umask(Mode::from_raw_mode(0o077));
    let wanted = old.as_raw_mode() | 0o077;
    if wanted != 0o077 {
        rustix::process::umask(Mode::from_raw_mode(wanted));
    }
}

/// Creates `dir` (and missing parents) and sets it to 0700.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    restrict_umask();
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
}

/// Writes `contents` to `path` atomically with mode 0600: a temporary file in
/// the same folder (created 0600), fsync, rename, fsync of the folder.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".praxis-")
        .permissions(std::fs::Permissions::from_mode(FILE_MODE))
        .tempfile_in(dir)?;
    tmp.write_all(contents)?;
    tmp.as_file().set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Sets every folder under `dir` (and `dir`) to 0700 and every file to 0600.
pub fn restrict_tree(dir: &Path) -> std::io::Result<()> {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            restrict_tree(&entry.path())?;
        } else if kind.is_file() {
            let mode = entry.metadata()?.permissions().mode() & 0o777;
            if mode != FILE_MODE {
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(FILE_MODE))?;
            }
        }
    }
    Ok(())
}

/// Whether group or other users may read or enter `dir` (mode & 077 is not 0).
pub fn readable_by_others(dir: &Path) -> bool {
    std::fs::metadata(dir).map(|m| m.permissions().mode() & 0o077 != 0).unwrap_or(false)
}

/// What the user of a practice must hear when its store opens: the store's
/// own warnings ([`Store::warnings`](super::Store::warnings)), and a data
/// folder that other users can read (logged as well).
pub fn open_warnings(data_dir: &Path, store: &super::Store) -> Vec<String> {
    let mut warnings = Vec::new();
    if readable_by_others(data_dir) {
        let w = format!(
            "the data folder {} can be read by other users of this machine, and it holds health data: run `chmod 700 {}`",
            data_dir.display(),
            data_dir.display()
        );
        tracing::warn!("{w}");
        warnings.push(w);
    }
    warnings.extend(store.warnings().iter().cloned());
    warnings
}
