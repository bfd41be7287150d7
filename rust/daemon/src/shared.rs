//! State every part of the daemon shares: the store, the configuration,
//! the event bus, counters, the SMS reassembler and the resync sessions'
//! claims and slots.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use dmnonce_control::{Counters, ErrorCode, WireError};
use dmnonce_push::{Limits, Reassembler};
use dmnonce_store::{ProvisioningMirror, Store, StoreError, UnixTime};

use crate::config::Config;
use crate::events::EventBus;
use crate::sessions::Sessions;

/// Counters since start (the `status` request shows them).
#[derive(Default)]
pub struct Stats {
    pub(crate) pushes: AtomicU64,
    pub(crate) alerts: AtomicU64,
    pub(crate) fallbacks: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) replays: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) resyncs_finished: AtomicU64,
    pub(crate) resyncs_failed: AtomicU64,
    pub(crate) store_errors: AtomicU64,
}

impl Stats {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A snapshot for the wire.
    pub fn snapshot(&self) -> Counters {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Counters {
            pushes: g(&self.pushes),
            alerts: g(&self.alerts),
            fallbacks: g(&self.fallbacks),
            rejected: g(&self.rejected),
            replays: g(&self.replays),
            refused: g(&self.refused),
            resyncs_finished: g(&self.resyncs_finished),
            resyncs_failed: g(&self.resyncs_failed),
            store_errors: g(&self.store_errors),
        }
    }
}

/// Everything the request handlers, the push intake and the session runner
/// work on. Cheap to share as `Arc<Shared>`.
pub struct Shared {
    /// The encrypted store.
    pub store: Arc<Store>,
    /// The configuration in force.
    pub config: Config,
    /// Event fan-out.
    pub events: EventBus,
    /// Counters.
    pub stats: Stats,
    /// The provisioning mirror (`None` when it could not be opened or
    /// replaced); its lock also serializes account add/remove.
    pub(crate) provisioning: Mutex<Option<ProvisioningMirror>>,
    pub(crate) sms: Mutex<Reassembler>,
    /// Resync session claims and slots.
    pub(crate) sessions: Sessions,
    pub(crate) session_threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    pub(crate) stopping: AtomicBool,
    started: Instant,
}

impl Shared {
    /// Builds the shared state around an open store and its provisioning
    /// mirror.
    pub fn new(
        store: Arc<Store>,
        provisioning: Option<ProvisioningMirror>,
        config: Config,
    ) -> Arc<Shared> {
        let limits = Limits {
            timeout: Duration::from_millis(config.sms.reassembly_timeout_ms),
            max_pending_messages: config.sms.max_pending,
            ..Limits::default()
        };
        let sessions = Sessions::new(config.http.max_sessions);
        Arc::new(Shared {
            sessions,
            store,
            events: EventBus::new(config.control.subscriber_queue),
            config,
            stats: Stats::default(),
            provisioning: Mutex::new(provisioning),
            sms: Mutex::new(Reassembler::new(limits)),
            session_threads: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            started: Instant::now(),
        })
    }

    /// Seconds since start.
    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Monotonic time since start, for the SMS reassembler.
    pub(crate) fn monotonic(&self) -> Duration {
        self.started.elapsed()
    }

    /// A store write failed where what was asked still stands (the push was
    /// handled, the session's commit was made): never silent, it is logged
    /// and counted (`store_errors` in `status`). Store messages carry no
    /// secrets.
    pub(crate) fn store_failed(&self, what: &str, e: &StoreError) {
        Stats::bump(&self.stats.store_errors);
        log::error!("store: could not write {what}: {e}");
    }

    /// Whether a stop was requested.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}

/// Wall-clock time for the store.
pub fn now() -> UnixTime {
    UnixTime::from_system_time(SystemTime::now())
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A store error as the wire shows it. Store messages carry no secrets.
pub fn store_error(e: StoreError) -> WireError {
    let code = match &e {
        StoreError::UnknownAccount(_) => ErrorCode::UnknownAccount,
        StoreError::AccountExists(_) | StoreError::AccountExistsIgnoringCase(_) => {
            ErrorCode::AccountExists
        }
        StoreError::InvalidInput { .. } => ErrorCode::BadRequest,
        _ => ErrorCode::Store,
    };
    WireError::new(code, e.to_string())
}
