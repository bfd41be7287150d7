//! dmnonce-syncml: SyncML DM 1.2 messages and the nonce-resync session of
//! the DM 1.2 Notification change request, both roles, sans-IO.
//!
//! - [`model`]: typed messages; [`xml`] and [`wbxml`] codecs over a shared
//!   [`element`] tree; [`encode`] / [`decode`] pick the codec.
//! - [`cred`] and [`hmac`]: `syncml:auth-md5`, `syncml:auth-basic`, `Chal`
//!   and the `x-syncml-hmac` header.
//! - [`client`]: the device side of Pkg#1..Pkg#4 ([`ClientSession`]).
//! - [`server`]: the server side ([`ServerSession`]) and Package #0
//!   building with the default-nonce fallback ([`ServerNotifier`]).
//!
//! ```
//! use dmnonce_syncml::*;
//! let server_secret = Secret::new(b"server-secret".to_vec());
//! let server = ServerParams {
//!     server_id: "dm.example.net".into(),
//!     server_uri: "https://127.0.0.1/dm".into(),
//!     client_name: "dev".into(),
//!     client_secret: Secret::new(b"client-secret".to_vec()),
//!     server_secret: server_secret.clone(),
//!     session_id: 7,
//!     session_id_format: None,
//!     scheme: AuthScheme::Hmac,
//!     nonces: StartingNonces::Default(DefaultNonce::Text),
//!     management: vec![],
//!     rotate_server_secret: None,
//!     max_commands_per_message: None,
//! };
//! let client = ClientParams {
//!     server_id: "dm.example.net".into(),
//!     client_name: "dev".into(),
//!     server_uri: "https://127.0.0.1/dm".into(),
//!     client_secret: Secret::new(b"client-secret".to_vec()),
//!     server_secret,
//!     session_id: 7,
//!     session_id_format: SessionIdFormat::HexUpper,
//!     encoding: Encoding::Wbxml,
//!     scheme: AuthScheme::Hmac,
//!     default_nonce: DefaultNonce::Text,
//!     dev_info: DevInfo { dev_id: "IMEI:1".into(), man: "m".into(), model: "x".into(),
//!                         dm_v: "1.2".into(), lang: "en".into() },
//!     max_msg_size: None,
//!     server_secret_uri: None,
//! };
//! let (mut c, mut out) = ClientSession::start(client, [0; 16]).unwrap();
//! let mut s = ServerSession::new(server);
//! let outcome = loop {
//!     let reply = match s.on_request(&out.body, out.hmac_header.as_deref(), [1; 16]) {
//!         ServerStep::Reply { out, .. } | ServerStep::Finish { out, .. } => out,
//!         ServerStep::Failed { failure, .. } => panic!("{}", failure.reason),
//!     };
//!     match c.on_response(&reply.body, reply.hmac_header.as_deref(), [2; 16]) {
//!         Step::Send(o) | Step::CommitThenSend(_, o) => out = o, // persist the commit first
//!         Step::Done(outcome) => break outcome,
//!         Step::Failed(f) => panic!("{}", f.reason),
//!     }
//! };
//! assert!(outcome.committed.confirmed.server_nonce);
//! ```
//!
//! No sockets, files, clocks, random sources or logging: callers pass
//! bytes and randomness in and get bytes and decisions out. Nonces and
//! secrets never appear in `Debug` output or error messages.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod cred;
pub mod element;
mod error;
pub mod hmac;
mod mapping;
pub mod model;
pub mod notify;
mod secret;
pub mod server;
mod session;
mod settings;
pub mod wbxml;
pub mod xml;

pub use client::{ClientParams, ClientSession, Step};
pub use error::{DecodeError, EncodeError};
pub use model::*;
pub use notify::{NotificationPlan, ServerNotifier};
pub use secret::{Nonce, Secret};
pub use server::{ServerParams, ServerSession, ServerStep};
pub use session::{Confirmed, Failure, FailureReason, NonceCommit, Outgoing, SessionOutcome};
pub use settings::*;

/// Encodes a message (XML without DOCTYPE, or WBXML).
pub fn encode(msg: &SyncMl, encoding: Encoding) -> Result<Vec<u8>, EncodeError> {
    match encoding {
        Encoding::Xml => xml::write(&mapping::lower(msg), false),
        Encoding::Wbxml => wbxml::write(&mapping::lower(msg)),
    }
}

/// Encodes a message as XML, with the SyncML 1.2 DOCTYPE when `doctype`.
pub fn encode_xml(msg: &SyncMl, doctype: bool) -> Result<Vec<u8>, EncodeError> {
    xml::write(&mapping::lower(msg), doctype)
}

/// Encodes a message as WBXML with encoder [`wbxml::Options`] (string
/// table, opaque item data): the same message, other bytes.
pub fn encode_wbxml_with(msg: &SyncMl, options: wbxml::Options) -> Result<Vec<u8>, EncodeError> {
    wbxml::write_with(&mapping::lower(msg), options)
}

/// Decodes an XML message.
pub fn decode_xml(bytes: &[u8]) -> Result<SyncMl, DecodeError> {
    mapping::lift(&xml::read(bytes)?)
}

/// Decodes a WBXML message.
pub fn decode_wbxml(bytes: &[u8]) -> Result<SyncMl, DecodeError> {
    mapping::lift(&wbxml::read(bytes)?)
}

/// The encoding of a body, from its first bytes: `<` (after an optional
/// UTF-8 BOM and whitespace) is XML, a WBXML version byte 0x01..0x03 is
/// WBXML.
pub fn sniff(bytes: &[u8]) -> Option<Encoding> {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match b.first()? {
        0x01..=0x03 => Some(Encoding::Wbxml),
        _ => match b.iter().find(|c| !c.is_ascii_whitespace())? {
            b'<' => Some(Encoding::Xml),
            _ => None,
        },
    }
}

/// Decodes a message in whichever encoding it is.
pub fn decode(bytes: &[u8]) -> Result<(SyncMl, Encoding), DecodeError> {
    match sniff(bytes).ok_or(DecodeError::UnknownEncoding)? {
        Encoding::Xml => Ok((decode_xml(bytes)?, Encoding::Xml)),
        Encoding::Wbxml => Ok((decode_wbxml(bytes)?, Encoding::Wbxml)),
    }
}
