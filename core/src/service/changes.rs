//! Several servers on one PostgreSQL database: each keeps its live world
//! current with the changes the others make.
//!
//! Every write transaction on PostgreSQL sends a notification per client it
//! changed (`NOTIFY praxis_changes, '<client id>'`, delivered when it
//! commits, never for a rolled-back one). [`follow_other_servers`] starts a
//! thread that LISTENs on its own connection and, for each client named,
//! reads the client from the store and puts it in the live world (the same
//! path as a write made through this server), so the next guidance read
//! re-evaluates it. LISTEN/NOTIFY rather than logical decoding: it needs no
//! replication slot, privilege or output plugin, and a lost notification
//! (while a connection is down) is made good by re-reading everyone when the
//! listener reconnects.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::PracticeService;

/// How long the listener waits for a notification before it checks that
/// the service is still there.
const POLL: Duration = Duration::from_millis(500);

/// Starts the listener thread of a live service on PostgreSQL; `false` (and
/// nothing started) for a sled store, which no other server shares.
pub fn follow_other_servers(service: &Arc<PracticeService>) -> super::Result<bool> {
    let Some(listener) = service.store().listen_changes()? else {
        return Ok(false);
    };
    let weak = Arc::downgrade(service);
    std::thread::Builder::new()
        .name("praxis-listen".into())
        .spawn(move || listen(weak, listener))
        .map_err(|e| super::ServiceError::Failed(format!("cannot start the change listener: {e}")))?;
    tracing::info!("following the changes other servers make to the database (LISTEN praxis_changes)");
    Ok(true)
}

fn listen(weak: Weak<PracticeService>, mut listener: crate::store::ChangeListener) {
    loop {
        let waited = listener.wait(POLL);
        let Some(service) = weak.upgrade() else { return };
        match waited {
            Ok(ids) => {
                for id in ids {
                    if let Err(e) = service.changed_elsewhere(&id) {
                        tracing::debug!(client = %id, error = %e, "a notified client could not be refreshed");
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the change listener lost its connection; reconnecting");
                drop(service);
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                    let Some(service) = weak.upgrade() else { return };
                    match service.store().listen_changes() {
                        Ok(Some(l)) => {
                            listener = l;
                            // What was notified while the connection was down is lost: read everyone.
                            if let Err(e) = service.refresh_all_clients() {
                                tracing::warn!(error = %e, "re-reading the clients after a reconnect failed");
                            }
                            break;
                        }
                        Ok(None) => return,
                        Err(e) => tracing::warn!(error = %e, "the change listener cannot reconnect yet"),
                    }
                }
            }
        }
    }
}

impl PracticeService {
    /// Puts a client whose records changed (through another server, or
    /// this one) into the live world, re-read from the store: the next
    /// guidance read re-evaluates it. Nothing for a service without a live world.
    pub fn changed_elsewhere(&self, client_id: &str) -> super::Result<()> {
        self.touched(client_id)
    }

    /// Re-reads every client into the live world.
    pub fn refresh_all_clients(&self) -> super::Result<()> {
        for client in self.store().clients()? {
            self.touched(&client.id)?;
        }
        Ok(())
    }
}
