//! The `x-syncml-hmac` HTTP header (OMA-TS-DM_Security-V1_2 §5.4):
//!
//! `x-syncml-hmac: algorithm=MD5, username="NAME", mac=MAC` with
//! `MAC = B64( H( B64(H(NAME ":" password)) ":" nonce ":" B64(H(body)) ) )`
//! over the exact bytes of the HTTP body.

use std::fmt;

use dmnonce_proto::digest::{b64, b64_md5_parts, ct_eq, md5_parts};
use thiserror::Error;

/// The HTTP header name.
pub const HEADER_NAME: &str = "x-syncml-hmac";

/// Why an `x-syncml-hmac` header was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum HmacError {
    /// The message has no header although the scheme needs one.
    #[error("x-syncml-hmac header missing")]
    Missing,
    /// The header does not parse.
    #[error("x-syncml-hmac header malformed: {0}")]
    Malformed(&'static str),
    /// An algorithm other than MD5.
    #[error("x-syncml-hmac algorithm is not MD5")]
    Algorithm,
    /// The username is not the expected account's.
    #[error("x-syncml-hmac username does not match the account")]
    Username,
    /// The MAC does not match.
    #[error("x-syncml-hmac MAC does not match")]
    Mac,
}

/// A parsed header.
#[derive(Clone, PartialEq, Eq)]
pub struct HmacHeader {
    /// `algorithm` (MD5 when absent, the specified default).
    pub algorithm: String,
    /// `username`.
    pub username: String,
    /// `mac`, Base64.
    pub mac: String,
}

impl fmt::Debug for HmacHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacHeader")
            .field("algorithm", &self.algorithm)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The MAC of a body.
pub fn compute_mac(username: &[u8], password: &[u8], nonce: &[u8], body: &[u8]) -> String {
    let id = b64_md5_parts(&[username, b":", password]);
    let body_digest = b64_md5_parts(&[body]);
    b64(&md5_parts(&[&id, b":", nonce, b":", &body_digest]))
}

/// The header value for a body.
pub fn header_value(username: &str, password: &[u8], nonce: &[u8], body: &[u8]) -> String {
    format!(
        "algorithm=MD5, username=\"{username}\", mac={}",
        compute_mac(username.as_bytes(), password, nonce, body)
    )
}

/// Parses a header value: comma-separated `key=value` pairs, keys
/// case-insensitive, values optionally quoted, unknown keys ignored.
pub fn parse(value: &str) -> Result<HmacHeader, HmacError> {
    let (mut algorithm, mut username, mut mac) = (None, None, None);
    for part in value.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (k, v) = part
            .split_once('=')
            .ok_or(HmacError::Malformed("pair without '='"))?;
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v)
            .to_string();
        match k.trim().to_ascii_lowercase().as_str() {
            "algorithm" => algorithm = Some(v),
            "username" => username = Some(v),
            "mac" => mac = Some(v),
            _ => {}
        }
    }
    Ok(HmacHeader {
        algorithm: algorithm.unwrap_or_else(|| "MD5".into()),
        username: username.ok_or(HmacError::Malformed("no username"))?,
        mac: mac.ok_or(HmacError::Malformed("no mac"))?,
    })
}

/// Checks a header against the expected account, secret, nonce and body.
pub fn verify(
    value: Option<&str>,
    username: &str,
    password: &[u8],
    nonce: &[u8],
    body: &[u8],
) -> Result<(), HmacError> {
    let h = parse(value.ok_or(HmacError::Missing)?)?;
    if !h.algorithm.eq_ignore_ascii_case("MD5") {
        return Err(HmacError::Algorithm);
    }
    if h.username != username {
        return Err(HmacError::Username);
    }
    let expected = compute_mac(username.as_bytes(), password, nonce, body);
    if ct_eq(h.mac.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(HmacError::Mac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_verifies() {
        let v = header_value("srv", b"pw", b"\0\x01", b"<SyncML/>");
        assert!(verify(Some(&v), "srv", b"pw", b"\0\x01", b"<SyncML/>").is_ok());
        assert_eq!(
            verify(Some(&v), "srv", b"pw", b"\0\x02", b"<SyncML/>"),
            Err(HmacError::Mac)
        );
        assert_eq!(
            verify(Some(&v), "srv", b"pw", b"\0\x01", b"<SyncML />"),
            Err(HmacError::Mac)
        );
        assert_eq!(
            verify(Some(&v), "dev", b"pw", b"\0\x01", b"<SyncML/>"),
            Err(HmacError::Username)
        );
        assert_eq!(
            verify(None, "srv", b"pw", b"", b""),
            Err(HmacError::Missing)
        );
    }

    #[test]
    fn parse_tolerates_spacing_case_and_missing_algorithm() {
        let h = parse(" USERNAME = \"a b\" ,mac=xyz== ").unwrap();
        assert_eq!(
            (h.algorithm.as_str(), h.username.as_str(), h.mac.as_str()),
            ("MD5", "a b", "xyz==")
        );
        assert!(matches!(parse("username=a"), Err(HmacError::Malformed(_))));
    }
}
