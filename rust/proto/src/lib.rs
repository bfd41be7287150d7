//! dmnonce-proto: the sans-IO protocol core of dmnonce.
//!
//! Bytes in, bytes and decisions out: no sockets, files, clocks, random
//! sources or logging in this crate (secrets and nonces pass through it).
#![forbid(unsafe_code)]

pub mod digest;
pub mod package0;

pub use package0::{
    verify, verify_with_secrets, Authentication, DefaultNonce, Fallback, Initiator, Notification,
    Package0, Package0Error, UiMode, Verdict,
};
