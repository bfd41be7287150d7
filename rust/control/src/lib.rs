//! The dmnonced control protocol.
//!
//! One JSON object per line over a Unix stream socket (`docs/protocol.md` is
//! the contract). This crate holds the message types and the line framing,
//! shared by the daemon (server side) and by every client (the C ABI, the JNI
//! bindings, `dmnoncectl`), plus a small blocking [`Client`].
//!
//! Secrets travel in one direction only: an AuthSecret can be handed *to* the
//! daemon (`account_add`), but no response or event carries a secret or a
//! stored nonce. The only nonce that leaves the daemon is the fresh one inside
//! the `Chal` fragment of `issue_chal`, which the caller must put on the wire
//! anyway.
#![forbid(unsafe_code)]

mod client;
pub mod defaults;
mod error;
mod frame;
mod message;
pub mod trace;

pub use client::{Client, ClientError, EventStream};
pub use error::{ErrorCode, WireError};
pub use frame::{encode_line, FrameError, FrameReader, MAX_FRAME_LEN};
pub use message::*;

/// Version of the control protocol spoken by this crate. A request carrying
/// another major version is answered with `unsupported_version`.
pub const PROTOCOL_VERSION: u32 = 1;

/// Base64 (standard alphabet, padded) as used for every binary field.
pub fn b64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes a binary field; the error names the field so that a client sees
/// which part of its request was wrong.
///
/// The error gives the position of a bad character, never the character:
/// base64's own message quotes it, and these fields carry nonces
/// (`server_nonce_b64` of `account_add`, `next_nonce_b64`).
pub fn b64_decode(field: &str, text: &str) -> Result<Vec<u8>, WireError> {
    use base64::{DecodeError, Engine};
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| {
            let why = match e {
                DecodeError::InvalidByte(at, _) => format!("invalid character at offset {at}"),
                DecodeError::InvalidLastSymbol(at, _) => {
                    format!("invalid last character at offset {at}")
                }
                DecodeError::InvalidLength(_) => "invalid length".to_string(),
                DecodeError::InvalidPadding => "invalid padding".to_string(),
            };
            WireError::new(
                ErrorCode::BadRequest,
                format!("{field}: not Base64 ({why})"),
            )
        })
}
