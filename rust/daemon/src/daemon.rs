//! Start-up and shut-down: state directory, key, store, control socket,
//! pending work, the ofono agent; then serve until SIGTERM/SIGINT.

use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use dmnonce_store::{FallbackLimit, IntegrityCheck, KeyFile, OpenOutcome, Store, StoreError};

use crate::config::Config;
use crate::listener::{self, ListenError, Origin};
use crate::shared::{lock, now, Shared};

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The state directory could not be created or secured, or another
    /// uid owns it.
    #[error(transparent)]
    StateDir(#[from] crate::state_dir::DirError),
    /// Another daemon holds the state directory, or its lock file failed.
    #[error(transparent)]
    Locked(#[from] crate::state_dir::LockError),
    /// The key file or the store could not be opened.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The control socket could not be set up.
    #[error(transparent)]
    Listen(#[from] ListenError),
    /// The HTTP client could not be configured (CA file).
    #[error(transparent)]
    Transport(#[from] crate::http::TransportError),
    /// A thread or the wake-up channel could not be created.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A started daemon: the socket is listening; [`Daemon::run`] serves.
pub struct Daemon {
    shared: Arc<Shared>,
    listener: UnixListener,
    origin: Origin,
    wake_rx: UnixStream,
    wake_tx: UnixStream,
    #[cfg(all(feature = "ofono", target_os = "linux", not(target_os = "android")))]
    _ofono: Option<crate::ofono::OfonoAgent>,
    /// Held until [`Daemon::run`] has stopped every session and
    /// checkpointed the store (the last field: dropped last).
    _state_lock: crate::state_dir::StateLock,
}

/// Asks a running daemon to stop (from a signal thread or a test).
#[derive(Clone)]
pub struct StopHandle {
    shared: Arc<Shared>,
    wake: Arc<UnixStream>,
}

impl StopHandle {
    /// Requests a graceful stop.
    pub fn stop(&self) {
        use std::io::Write;
        self.shared.stopping.store(true, Ordering::SeqCst);
        let _ = (&*self.wake).write_all(b"x");
    }
}

impl Daemon {
    /// Opens everything; the socket accepts connections when this returns
    /// (they are served once [`Daemon::run`] is called).
    pub fn start(config: Config) -> Result<Daemon, StartError> {
        // Fail early on a bad CA file rather than at the first resync.
        crate::http::Transport::new(&config.http)?;
        let dir = &config.state_dir;
        crate::state_dir::prepare(dir)?;
        // Before the key and the store: a second daemon must not touch them.
        let state_lock = crate::state_dir::lock(dir)?;
        let key = KeyFile::load_or_create(&config.key_path())?;
        let mirror_path = config.provisioning_path();
        let mirror = crate::provisioning::open(&mirror_path, &key);
        let provisioning = mirror.as_ref().ok().map(|m| m.accounts()).transpose();
        let provisioning = provisioning.unwrap_or_else(|e| {
            log::error!("provisioning mirror unreadable ({e}); opening the store alone");
            None
        });
        let at = now();
        let (store, report) = Store::open(&config.db_path(), &key, provisioning.as_deref(), at)?;
        drop(provisioning);
        match &report.integrity {
            IntegrityCheck::Quick => log::info!("store integrity: quick checks (clean stop)"),
            IntegrityCheck::Full { reason } => {
                log::warn!("store integrity: full check ({reason})")
            }
        }
        if let Some(r) = &report.rolled_back {
            log::error!(
                "store rolled back: {} account(s) set needs-resync: {}",
                r.accounts.len(),
                r.accounts
                    .iter()
                    .map(|id| crate::logging::peer(id).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        match &report.outcome {
            OpenOutcome::Created => log::info!("store created at {}", config.db_path().display()),
            OpenOutcome::Opened => log::info!("store opened at {}", config.db_path().display()),
            OpenOutcome::Recovered { moved_aside, .. } => log::error!(
                "store was damaged and set aside ({} file(s) moved); {} account(s) re-created \
                 from the provisioning mirror as needs-resync",
                moved_aside.len(),
                report.provisioned.len()
            ),
        }
        let mirror = crate::provisioning::settle(mirror, &mirror_path, &key, &store, &report, at);
        drop(key);
        store.set_fallback_limit(FallbackLimit {
            max_accepted: config.fallback.max_per_hour,
            window_secs: 3600,
        });
        let (listener, origin) = match listener::inherited()? {
            Some(x) => x,
            None => {
                let own = crate::sys::own_uid();
                let open = config.allowed_uids.iter().any(|&u| u != own && u != 0);
                let l = listener::bind(&config.socket, open)?;
                (l, Origin::Bound(config.socket.clone()))
            }
        };
        let (wake_rx, wake_tx) = UnixStream::pair()?;
        let shared = Shared::new(Arc::new(store), mirror, config);
        crate::resync::resume_pending(&shared);
        #[cfg(all(feature = "ofono", target_os = "linux", not(target_os = "android")))]
        let ofono = start_ofono(&shared);
        #[cfg(not(all(feature = "ofono", target_os = "linux", not(target_os = "android"))))]
        if shared.config.ofono.enabled {
            // Android has its own WAP-push receiver; elsewhere the feature
            // was left out of the build.
            log::info!("ofono push agent not built into this dmnonced; [ofono] ignored");
        }
        Ok(Daemon {
            shared,
            listener,
            origin,
            wake_rx,
            wake_tx,
            #[cfg(all(feature = "ofono", target_os = "linux", not(target_os = "android")))]
            _ofono: ofono,
            _state_lock: state_lock,
        })
    }

    /// The shared state (for embedding and tests).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Where the socket came from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// A handle that stops [`Daemon::run`].
    pub fn stop_handle(&self) -> Result<StopHandle, std::io::Error> {
        Ok(StopHandle {
            shared: self.shared.clone(),
            wake: Arc::new(self.wake_tx.try_clone()?),
        })
    }

    /// Serves until stopped; then removes a socket file it bound and lets
    /// running sessions notice the stop (their pending work stays).
    pub fn run(self) -> Result<(), std::io::Error> {
        let result = crate::server::serve(&self.shared, &self.listener, &self.wake_rx);
        self.shared.stopping.store(true, Ordering::SeqCst);
        if let Origin::Bound(path) = &self.origin {
            let _ = std::fs::remove_file(path);
        }
        let threads: Vec<_> = std::mem::take(&mut *lock(&self.shared.session_threads));
        for t in threads {
            // Sessions stop between HTTP exchanges; a request in flight is
            // bounded by http.request_timeout_ms.
            let _ = t.join();
        }
        // Leave a self-contained database file behind (empty WAL).
        match self.shared.store.checkpoint() {
            Ok(true) => {}
            Ok(false) => log::warn!("store checkpoint at stop: WAL still in use"),
            Err(e) => log::warn!("store checkpoint at stop: {e}"),
        }
        log::info!("stopped");
        result
    }
}

#[cfg(all(feature = "ofono", target_os = "linux", not(target_os = "android")))]
fn start_ofono(shared: &Arc<Shared>) -> Option<crate::ofono::OfonoAgent> {
    match crate::ofono::spawn_agent(shared.clone(), &shared.config.ofono) {
        Ok(agent) => agent,
        // No D-Bus at all (containers, tests, systems without ofono): the
        // control socket still works, and nothing needs fixing, so no
        // warning at every start.
        Err(e) if e.is_no_bus() => {
            log::info!("ofono push agent not started: {e} ([ofono] enabled = false skips it)");
            None
        }
        Err(e) => {
            log::warn!("ofono push agent not started: {e}");
            None
        }
    }
}
