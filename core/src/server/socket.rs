//! The data folder's Unix socket: how the command line works beside a
//! running server.
//!
//! While `praxis serve` runs, it listens on `DATA/praxis.sock`, created with
//! mode 0600 inside the 0700 data folder, and it accepts only connections
//! from its own user id (checked with `SO_PEERCRED`): local access, like
//! PostgreSQL's peer authentication. Each connection carries one
//! [`Envelope`] line and gets one [`Reply`] line back.

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};

use crate::service::protocol::{Envelope, Reply, Request, Response};
use crate::service::{Actor, PracticeService, ServiceError};

/// What a request line may carry beyond the largest import (`[store]
/// max_import_mib`, which bounds the line as a whole): 16 MiB.
pub const REQUEST_SLACK: u64 = 16 * 1024 * 1024;

/// Where the socket of the practice whose data folder is `data_dir` lives.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(super::SOCKET_NAME)
}

/// Binds the socket (removing a stale one left by a killed server) and
/// restricts it to the owner.
pub fn bind(path: &Path) -> std::io::Result<tokio::net::UnixListener> {
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("another server already answers on {}: stop it first", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = tokio::net::UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Serves the socket until the task is dropped.
pub async fn serve(listener: tokio::net::UnixListener, service: Arc<PracticeService>) {
    // This process's user id is the owner of the socket it just created.
    let me = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_pathname().map(Path::to_owned))
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m));
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "socket accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let peer = stream.peer_cred().ok().map(|c| c.uid());
        if me.is_none() || peer != me {
            tracing::warn!(?peer, "refused a socket connection from another user");
            continue;
        }
        let service = service.clone();
        tokio::spawn(async move {
            if let Err(e) = handle(stream, service).await {
                tracing::debug!(error = %e, "socket connection ended");
            }
        });
    }
}

async fn handle(stream: tokio::net::UnixStream, service: Arc<PracticeService>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let max = service.config().max_import_bytes() + REQUEST_SLACK;
    let mut reader = tokio::io::BufReader::new(read.take(max + 1));
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).await?;
    let reply = if line.len() as u64 > max {
        Reply::from(&ServiceError::BadInput(format!(
            "the request is larger than {} MiB: raise `[store] max_import_mib` in praxis.toml for a larger import",
            max / (1024 * 1024)
        )))
    } else {
        match serde_json::from_slice::<Envelope>(&line) {
            Err(e) => Reply::from(&ServiceError::BadInput(format!("the server could not read the request: {e}"))),
            Ok(envelope) => {
                let op = op_name(&envelope.request);
                let span = tracing::info_span!("socket", op, actor = %envelope.actor);
                let _enter = span.enter();
                tokio::task::spawn_blocking(move || {
                    let actor = Actor::new(&envelope.actor)?;
                    service.execute(envelope.request, &actor)
                })
                .await
                .map_err(|e| ServiceError::Failed(format!("the request's task failed: {e}")))
                .and_then(|r| r)
                .map_or_else(|e| Reply::from(&e), Reply::Ok)
            }
        }
    };
    let mut bytes = serde_json::to_vec(&reply).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    write.write_all(&bytes).await?;
    write.shutdown().await
}

fn op_name(request: &Request) -> String {
    serde_json::to_value(request)
        .ok()
        .and_then(|v| v.get("op").and_then(|o| o.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// The command line's side: a connection to a running server, if one
/// answers on the data folder's socket.
#[derive(Debug, Clone)]
pub struct ServerClient {
    path: PathBuf,
}

impl ServerClient {
    /// The server of the practice in `data_dir`, if one is running there.
    pub fn find(data_dir: &Path) -> Option<ServerClient> {
        let path = socket_path(data_dir);
        // A socket left by a killed server refuses connections: then there
        // is no server, and the command opens the store itself.
        std::os::unix::net::UnixStream::connect(&path).ok().map(|_| ServerClient { path })
    }

    /// Sends one request and waits for its answer.
    pub fn call(&self, actor: &Actor, request: Request) -> Result<Response, ServiceError> {
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            ServiceError::Failed(format!(
                "{what} the server at {}: {e}; is `praxis serve` still running?",
                self.path.display()
            ))
        };
        let mut stream = std::os::unix::net::UnixStream::connect(&self.path).map_err(|e| failed("cannot reach", &e))?;
        let envelope = Envelope { actor: actor.name().to_owned(), request };
        let mut bytes = serde_json::to_vec(&envelope).map_err(|e| failed("cannot encode a request for", &e))?;
        bytes.push(b'\n');
        stream.write_all(&bytes).map_err(|e| failed("cannot send to", &e))?;
        stream.shutdown(std::net::Shutdown::Write).map_err(|e| failed("cannot send to", &e))?;
        let mut line = Vec::new();
        BufReader::new(stream).read_until(b'\n', &mut line).map_err(|e| failed("no answer from", &e))?;
        let reply: Reply = serde_json::from_slice(&line).map_err(|e| failed("an unreadable answer from", &e))?;
        reply.into_result()
    }
}
