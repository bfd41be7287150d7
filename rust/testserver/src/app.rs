//! The server as a whole: configuration, the persisted state behind a lock,
//! the sessions in flight, request routing and the fallback watcher.

use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use anyhow::Result;
use dmnonce_proto::DefaultNonce;

use crate::admin::{self, UpdateError};
use crate::dm::Sessions;
use crate::fault::Faults;
use crate::http::{Request, Response};
use crate::notify::{self, NonceChoice};
use crate::state::{ServerState, StateFile};
use crate::timeline::now_ms;

/// What the command line sets.
#[derive(Clone, Debug)]
pub struct Config {
    /// The server's id (Package #0, SyncHdr Source).
    pub server_id: String,
    /// Which default-nonce reading the fallback signs with.
    pub default_nonce: DefaultNonce,
    /// How long a stored-nonce notification may go unanswered.
    pub fallback_after_ms: u64,
    /// Replace the server AuthSecret at Pkg#4 of a resync session.
    pub rotate_secret: bool,
    /// DM tree URI of the device's SRVCRED AAuthSecret (for the rotation).
    pub secret_node_uri: String,
    /// Our URL as put in the SyncHdr Source.
    pub server_uri: String,
    /// Shell command that delivers a notification (bytes on stdin).
    pub deliver_cmd: Option<String>,
    /// Shell command that takes the link down for `$DMNONCE_OUTAGE_MS`
    /// (fault injection; without it the outage is emulated).
    pub fault_hook: Option<String>,
}

/// Shared by every connection thread.
pub struct App {
    /// Configuration.
    pub config: Config,
    /// Where the state lives.
    pub file: StateFile,
    state: Mutex<ServerState>,
    /// DM sessions in flight.
    pub sessions: Sessions,
    /// Fault injection (field test).
    pub faults: Faults,
}

impl App {
    /// Loads (or creates) the state in `file`.
    pub fn new(config: Config, file: StateFile) -> Result<App> {
        let mut seed = [0u8; 2];
        getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("random source: {e}"))?;
        let state = file.load_or_init(u16::from_be_bytes(seed))?;
        Ok(App {
            config,
            file,
            state: Mutex::new(state),
            sessions: Sessions::default(),
            faults: Faults::default(),
        })
    }

    /// The current state (read only).
    pub fn state(&self) -> MutexGuard<'_, ServerState> {
        // A panicking handler thread must not take the server down with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `f` to a copy of the state, saves it atomically, then makes
    /// it current. If `f` refuses or the save fails, nothing changes.
    pub fn update<T, E>(
        &self,
        f: impl FnOnce(&mut ServerState) -> Result<T, E>,
    ) -> Result<T, UpdateError<E>> {
        let mut guard = self.state();
        let mut next = guard.clone();
        let value = f(&mut next).map_err(UpdateError::Handler)?;
        self.file.save(&next).map_err(UpdateError::Store)?;
        *guard = next;
        Ok(value)
    }

    /// Replaces the live state with the snapshot; sessions in flight are
    /// forgotten (the "database" they belonged to is gone).
    pub fn restore(&self) -> Result<usize> {
        let mut guard = self.state();
        let restored = self.file.restore()?;
        let n = restored.devices.len();
        *guard = restored;
        self.sessions.clear();
        Ok(n)
    }

    /// Whether a DM session with this device is in flight.
    pub fn session_active(&self, client_name: &str) -> bool {
        self.sessions.is_active(client_name)
    }

    /// Routes one request.
    pub fn handle(&self, req: &Request) -> Response {
        if req.path == "/dm" || req.path.starts_with("/dm/") {
            if req.method != "POST" {
                return Response::error(405, "the DM endpoint takes POST");
            }
            if self.faults.link_down() {
                log::info!("/dm request dropped: link down (emulated)");
                return Response::dropped();
            }
            return crate::dm::handle(self, req);
        }
        if req.path.starts_with("/admin/") {
            return admin::handle(self, req);
        }
        Response::error(404, "not found")
    }
}

/// Sends the default-nonce notification through the delivery hook for
/// every device whose hook-delivered stored-nonce notification went
/// unanswered for `--fallback-after-ms` (the change request's server side:
/// "MAY take a different action", here the default nonce).
pub fn spawn_fallback_watcher(app: Arc<App>) {
    thread::Builder::new()
        .name("fallback".into())
        .spawn(move || loop {
            thread::sleep(Duration::from_millis(100));
            let now = now_ms();
            let due: Vec<(String, bool)> = app
                .state()
                .devices
                .values()
                .filter(|d| notify::fallback_due(d, now, app.config.fallback_after_ms))
                .filter_map(|d| d.pending.as_ref().and_then(|p| p.deliver_wsp).map(|w| (d.client_name.clone(), w)))
                .collect();
            for (name, wsp) in due {
                log::info!(
                    "no session from {name} within {} ms of the stored-nonce Pkg#0: falling back to the default nonce",
                    app.config.fallback_after_ms
                );
                if let Err(admin::NotifyFailure::Delivery(e) | admin::NotifyFailure::Store(e)) =
                    app.notify(&name, NonceChoice::Auto, None, wsp, true)
                {
                    log::warn!("fallback notification for {name} failed: {e:#}");
                }
            }
        })
        .map(|_| ())
        .unwrap_or_else(|e| log::error!("fallback watcher not started: {e}"));
}
