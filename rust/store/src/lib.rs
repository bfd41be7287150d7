//! `dmnonce-store`: the encrypted store of OMA DM accounts, AuthSecrets and
//! nonces that `dmnonced` owns.
//!
//! The store is one SQLCipher database (AES-256, HMAC-SHA512 per page) opened
//! with a raw 256-bit [`Key`] — no passphrase KDF on the start-up path — in
//! WAL mode with `synchronous=FULL`: every nonce change is one transaction,
//! never half-written, even if the process is killed mid-write.
//!
//! What it keeps, and the typed API over it (no SQL leaves this crate):
//!
//! - accounts ([`Store::create_account`], [`Store::account`],
//!   [`Store::update_account`], …) with their two AuthSecrets
//!   ([`Store::account_secrets`]); a server AuthSecret replaced by the server
//!   keeps the old one as *previous* until
//!   [`Store::confirm_server_secret_used`] sees the new one in use;
//! - nonces with **two-phase server-nonce rotation**
//!   ([`Store::commit_new_server_nonce`] keeps the old nonce as *previous*
//!   until [`Store::confirm_server_nonce_used`] sees the server use the new
//!   one) and an atomic [`Store::commit_resync`];
//! - the bounds on the change request's default-nonce fallback: policy,
//!   replay cache and per-account rate limit, decided in one transaction by
//!   [`Store::check_and_record_default_nonce_notification`];
//! - pending work that must survive a restart ([`Store::record_pending`]);
//! - an audit log without secrets ([`Store::append_audit`]);
//! - a provisioning mirror ([`ProvisioningMirror`], a second small file)
//!   that survives damage to the store and feeds its recovery.
//!
//! [`Store::open`] checks the key and the schema (and, after an unclean
//! stop, every page's MAC and the b-tree; [`Store::check`] on demand),
//! detects a store that came back older than it was (rollback), migrates
//! by `user_version`, and turns a damaged file into a fresh store whose accounts
//! (from provisioning data) are marked `needs-resync` — the situation the
//! nonce-resynchronization change request repairs. The old file is moved
//! aside, never deleted.
//!
//! Time is always passed in by the caller ([`UnixTime`]); the store has no
//! clock and no network. Nonces and secrets are held in zeroizing types whose
//! `Debug` output is redacted; nothing here logs them.
//!
//! Threads: [`Store`] is `Send + Sync`. It owns one SQLite connection behind
//! a `Mutex`; calls from several threads are serialized (each call is short,
//! one transaction). Share it as `Arc<Store>`.
//!
//! ```
//! use dmnonce_store::*;
//! # fn main() -> Result<(), StoreError> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let state_dir = dir.path();
//! let now = UnixTime(1_795_917_310);
//! let key = KeyFile::load_or_create(&state_dir.join(KEY_FILE_NAME))?;
//! let account = AccountProvisioning {
//!     server_id: "dm.example.net".into(),
//!     server_url: "https://127.0.0.1:8443/dm".into(),
//!     client_name: "device-1".into(),
//!     client_secret: AuthSecret::new(b"device-to-server".to_vec())?,
//!     server_secret: AuthSecret::new(b"server-to-device".to_vec())?,
//!     server_secret_previous: None,
//!     auth_scheme: AuthScheme::Md5,
//!     encoding: Encoding::Wbxml,
//!     policy: Policy::Allow,
//!     client_nonce: None,
//!     server_nonce: Some(Nonce::new(b"initial".to_vec())?),
//! };
//! let (store, report) =
//!     Store::open(&state_dir.join(DB_FILE_NAME), &key, Some(&[account]), now)?;
//! assert_eq!(report.outcome, OpenOutcome::Created);
//!
//! // Our Chal carried a fresh server nonce: phase one keeps the old one.
//! store.commit_new_server_nonce("dm.example.net", &Nonce::new(b"fresh".to_vec())?, now)?;
//! assert_eq!(store.server_nonce_candidates("dm.example.net")?.len(), 2);
//! // The server authenticated with the fresh nonce: phase two retires the old.
//! let used = Nonce::new(b"fresh".to_vec())?;
//! assert_eq!(
//!     store.confirm_server_nonce_used("dm.example.net", &used, now)?,
//!     Confirmation::RetiredPrevious
//! );
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/store.md` for the schema, the open/recovery procedure and the
//! wrong-key-versus-corruption heuristic.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// Without a SQLCipher backend rusqlite would link plain SQLite, where
// `PRAGMA key` is silently ignored: the store would be written unencrypted.
#[cfg(not(any(
    feature = "vendored-openssl",
    feature = "system-libcrypto",
    feature = "libtomcrypt"
)))]
compile_error!(
    "dmnonce-store needs a SQLCipher backend: enable feature `vendored-openssl`, `system-libcrypto` or `libtomcrypt`"
);

mod accounts;
mod audit;
mod check_marker;
mod connection;
mod error;
mod fallback;
mod fallback_limit;
mod files;
mod key;
mod keycheck;
mod model;
mod nonces;
mod open;
mod pending;
mod provisioning;
mod recovery;
mod rollback;
mod schema;
mod secret;
mod server_secret;
mod store;
pub mod text;
mod time;
mod view;

/// The negative unit tests' SQLCipher errors go to a file, not the test
/// output (one helper with the integration tests).
#[cfg(test)]
#[path = "../tests/common/sqlcipher_log.rs"]
mod sqlcipher_log;

pub use audit::{AuditEntry, AuditEvent};
pub use error::{KeyFileProblem, StoreError};
pub use fallback::{DefaultNonceNotification, FallbackVerdict};
pub use fallback_limit::FallbackLimit;
pub use key::{Key, KeyFile};
pub use model::{
    Account, AccountProvisioning, AccountSecrets, AccountUpdate, AuthScheme, Encoding, Policy,
    SyncState,
};
pub use nonces::{Confirmation, NonceSet, ResyncCommit, ServerNonceCandidate, ServerNonceSlot};
pub use open::{IntegrityCheck, OpenOutcome, OpenReport, RollbackReport};
pub use pending::{PendingId, PendingKind, PendingWork};
pub use provisioning::{MirrorSync, ProvisioningMirror, PROVISIONING_FILE_NAME};
pub use secret::{AuthSecret, Nonce};
pub use server_secret::{SecretConfirmation, SecretSlot, ServerSecretCandidate};
pub use store::{CheckReport, Store, DB_FILE_NAME, KEY_FILE_NAME};
pub use time::UnixTime;
pub use view::AccountView;

/// Result type of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
