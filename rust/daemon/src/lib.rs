//! `dmnonced`: the daemon that owns the OMA DM secrets and nonces of a
//! device, takes in WAP-push notifications, and runs the nonce
//! resynchronisation session of the DM 1.2 Notification change request over
//! HTTP(S) (see `docs/design.md`, `docs/protocol.md`, `docs/configuration.md`).
//!
//! # Embedding and the push intake
//!
//! ```no_run
//! use dmnonced::{config::{Config, Environment, Overrides}, Daemon};
//! let config = Config::load(&Overrides::default(), &Environment::from_process()).unwrap();
//! let daemon = Daemon::start(config).unwrap();      // socket listening
//! let shared = daemon.shared().clone();
//! // Any push source hands its bytes to the one intake:
//! let result = dmnonced::intake::handle_push(
//!     &shared,
//!     dmnonced::intake::PushInput::Wsp(vec![/* WSP push PDU */]),
//! );
//! daemon.run().unwrap();                             // serve until stopped
//! ```
//!
//! - [`intake::handle_push`]`(&Arc<Shared>, PushInput) -> Result<PushResult, WireError>`
//!   is the entry point of every push: the control socket's `push`, the
//!   ofono agent ([`intake::wsp_intake`] adapts it to the agent's
//!   `Fn(&[u8]) -> String`), SMS PDUs.
//! - [`requests::handle`] answers every other request of the protocol.
//! - [`resync`] runs the session; [`events::EventBus`] fans events out;
//!   an alert with no subscriber is kept in the store for the next one.
//!
//! Nothing here logs or returns a secret or a nonce.

#![deny(unsafe_code)]

mod alerts;
pub mod chal;
pub mod config;
pub mod daemon;
pub mod decision;
pub mod events;
pub mod http;
pub mod intake;
pub mod listener;
pub mod logging;
pub mod notify;
#[cfg(all(feature = "ofono", target_os = "linux", not(target_os = "android")))]
pub mod ofono;
mod provisioning;
mod report;
pub mod requests;
pub mod resync;
mod server;
mod sessions;
pub mod shared;
mod slots;
pub mod state_dir;
mod store_check;
#[allow(unsafe_code)]
mod sys;
mod trail;
pub mod verification;
pub mod vocabulary;

pub use daemon::{Daemon, StartError, StopHandle};
pub use shared::Shared;

/// Blocks the stop signals in the calling thread (call first thing in
/// `main`, before any thread starts) and returns a function that waits for
/// one and stops `handle`.
pub fn block_stop_signals() -> std::io::Result<()> {
    sys::block_stop_signals()
}

/// Once the daemon is ready: gives back the mappings of the program pages
/// that starting touched (see `sys::release_program_pages` for why this
/// is sound); the bytes unmapped.
#[cfg(all(feature = "release-start-pages", target_os = "linux"))]
pub fn release_start_pages() -> std::io::Result<usize> {
    sys::release_program_pages()
}

/// One malloc arena for all threads (see `sys::one_malloc_arena` for why);
/// call first thing in `main`, before any thread starts.
#[cfg(all(feature = "one-malloc-arena", target_os = "linux", target_env = "gnu"))]
pub fn one_malloc_arena() -> std::io::Result<()> {
    sys::one_malloc_arena()
}

/// Waits for SIGTERM/SIGINT/SIGHUP, then stops the daemon.
pub fn stop_on_signal(handle: StopHandle) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let sig = sys::wait_for_stop_signal();
            log::info!("signal {sig} received; stopping");
            handle.stop();
        })
}
