//! The private copies the host loads trusted plugins from.
//!
//! Hashing a file and then opening it by path leaves a window: a file (or a
//! symlink) swapped in between the two is opened unchecked. So the host never
//! opens a plugin folder's file at all. It reads the file once, hashing the
//! bytes as it writes them to a new file in a private folder (created 0700,
//! owned by this user, refused otherwise), checks **that** hash against the
//! trust list, and only then renames the copy to `<sha256>.so` and opens the
//! copy. What is opened is exactly the bytes that were hashed; nobody else
//! can write to the folder it sits in.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

/// The default folder: `$XDG_CACHE_HOME/praxis/plugins`, else
/// `$HOME/.cache/praxis/plugins`, else `<temp>/praxis-<uid>/plugins`.
pub fn default_dir() -> PathBuf {
    let from = |var: &str| std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(xdg) = from("XDG_CACHE_HOME") {
        return xdg.join("praxis").join("plugins");
    }
    if let Some(home) = from("HOME") {
        return home.join(".cache").join("praxis").join("plugins");
    }
    std::env::temp_dir().join(format!("praxis-{}", rustix::process::geteuid().as_raw())).join("plugins")
}

/// Creates `dir` (0700) if needed, and checks that it belongs to this user
/// and that nobody else may write to it or read it.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let meta = fs::symlink_metadata(dir)?;
    let me = rustix::process::geteuid().as_raw();
    if !meta.is_dir() || meta.uid() != me {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("the plugin cache {} is not a folder owned by this user (uid {me})", dir.display()),
        ));
    }
    if meta.mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// A trusted file's private copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    /// The copy, `<dir>/<sha256>.so`.
    pub path: PathBuf,
    /// The SHA-256 of the bytes read (and copied).
    pub sha256: String,
}

/// What [`copy_if_trusted`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Copied {
    /// The bytes read are trusted; here is their copy.
    Trusted(Copy),
    /// The bytes read hash to this, which is not trusted; nothing was kept.
    Untrusted(String),
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Reads `source` once, hashing while copying into `dir`; keeps the copy
/// (as `<sha256>.so`) only if `trusted(sha256)`.
pub fn copy_if_trusted(source: &Path, dir: &Path, trusted: impl FnOnce(&str) -> bool) -> io::Result<Copied> {
    ensure_private_dir(dir)?;
    let mut from = File::open(source)?;
    let partial = dir.join(format!(".partial-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed)));
    let result = (|| {
        let mut to = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&partial)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = from.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            to.write_all(&buf[..n])?;
        }
        to.flush()?;
        let sha256 = super::hex(&hasher.finalize());
        if !trusted(&sha256) {
            return Ok(Copied::Untrusted(sha256));
        }
        let path = dir.join(format!("{sha256}{}", std::env::consts::DLL_SUFFIX));
        fs::rename(&partial, &path)?;
        Ok(Copied::Trusted(Copy { path, sha256 }))
    })();
    if !matches!(result, Ok(Copied::Trusted(_))) {
        let _ = fs::remove_file(&partial);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_trusted_bytes_are_kept_and_the_folder_is_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("cache");
        let source = root.path().join("lib.so");
        fs::write(&source, b"some bytes").unwrap();
        let sha = crate::plugin_host::sha256_file(&source).unwrap();
        let check = |trust: bool| copy_if_trusted(&source, &dir, |s| trust && s == sha).unwrap();
        assert_eq!(check(false), Copied::Untrusted(sha.clone()));
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "nothing kept of untrusted bytes");
        let Copied::Trusted(copy) = check(true) else { panic!("trusted") };
        assert_eq!(copy.path, dir.join(format!("{sha}{}", std::env::consts::DLL_SUFFIX)));
        assert_eq!(fs::read(&copy.path).unwrap(), b"some bytes");
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        assert_eq!(fs::metadata(&copy.path).unwrap().mode() & 0o077, 0);
        // A folder others can read is made private again.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
    }
}
