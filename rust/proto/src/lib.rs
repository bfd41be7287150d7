//! dmnonce-proto: the sans-IO protocol core of dmnonce.
//!
//! Bytes in, bytes and decisions out: no sockets, files, clocks, random
//! sources or logging in this crate (secrets and nonces pass through it).
#![forbid(unsafe_code)]

pub mod digest;
