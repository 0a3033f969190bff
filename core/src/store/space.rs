//! A full disk fails a write at once instead of hanging it.
//!
//! sled 0.34 writes its log through in-memory IO buffers that a flush (or its
//! background flusher) writes out; when a write of a buffer fails, sled
//! records a global error, and callers waiting for that buffer to become
//! stable depend on being woken by the failing thread. Two guards keep a
//! full disk from ever becoming a hang or a half-done write here:
//!
//! - before each write, the free space of the store's device (`statvfs`,
//!   what this user may use) is compared with [`StoreOptions::min_free_bytes`](super::StoreOptions)
//!   (project default 256 KiB, four sled segments, so that sled always has
//!   room for a new segment): below it the write is refused with
//!   [`StoreError::NoSpace`](super::StoreError::NoSpace) before sled is touched;
//! - every flush runs on a helper thread and is waited for at most
//!   [`StoreOptions::flush_timeout`](super::StoreOptions) (project default
//!   10 s): a stuck flush becomes [`StoreError::Stuck`](super::StoreError::Stuck),
//!   and the handle refuses further writes.
//!
//! An ENOSPC that sled does report is [`StoreError::NoSpace`](super::StoreError::NoSpace) too.

use std::path::Path;

/// Bytes free for an unprivileged user on the device holding `path`.
pub(crate) fn free_bytes(path: &Path) -> Option<u64> {
    let probe = if path.exists() { path } else { path.parent()? };
    let st = rustix::fs::statvfs(probe).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}
