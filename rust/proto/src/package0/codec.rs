//! Package #0 wire format (OMA-TS-DM_Notification-V1_2 §6.2): decode, and
//! encode for the server role.
//!
//! ```text
//! offset  size      field
//! 0       16 bytes  digest (raw MD5)
//! 16      64 bits   one big-endian word: version (63..54), ui-mode (53..52),
//!                   initiator (51), future use (50..24), session id (23..8),
//!                   server-identifier length in bytes (7..0, must be > 0)
//! 24      n bytes   server identifier
//! 24+n    rest      vendor-specific data
//! ```
//! The *trigger* is everything after the digest.

use super::fields::{is_supported_version, Initiator, UiMode, VERSION_11};
use crate::digest::{ct_eq, NotificationDigester, MD5_LEN};

/// Length of the fixed header word that follows the digest.
const HEADER_LEN: usize = 8;

/// Offset of the server identifier: digest plus header word.
const SERVER_ID_OFFSET: usize = MD5_LEN + HEADER_LEN;

/// Longest server identifier the 8-bit length field can carry.
pub const MAX_SERVER_ID_LEN: usize = 255;

/// Why bytes are not a Package #0 this crate accepts, or why a
/// [`Notification`] cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Package0Error {
    /// Fewer bytes than the digest and the header word need.
    #[error(
        "Package #0 too short: {len} bytes, at least {SERVER_ID_OFFSET} needed \
         (16-byte digest + 8-byte header) before the server identifier"
    )]
    TooShort {
        /// Bytes received.
        len: usize,
    },
    /// The server-identifier length is zero.
    #[error("Package #0 server identifier is empty (length 0; it must be 1 to 255 bytes)")]
    EmptyServerId,
    /// The server-identifier length runs past the end of the message.
    #[error(
        "Package #0 server identifier length {declared} runs past the end: \
         only {available} bytes follow the header"
    )]
    ServerIdPastEnd {
        /// Length from the header.
        declared: usize,
        /// Bytes present after the header.
        available: usize,
    },
    /// A version other than 11 or 12.
    #[error("Package #0 version {0} is not supported (only 11 and 12 are)")]
    UnsupportedVersion(u16),
    /// The server identifier is not UTF-8 text.
    #[error("Package #0 server identifier is not valid UTF-8 (byte {valid_up_to} is not)")]
    ServerIdNotUtf8 {
        /// Length of the valid UTF-8 prefix.
        valid_up_to: usize,
    },
    /// Encoding only: a server identifier the 8-bit length cannot carry.
    #[error("server identifier is {0} bytes; a Package #0 carries at most 255")]
    ServerIdTooLong(usize),
}

/// The trigger fields of a Package #0: what the server tells the device.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Notification {
    /// Protocol version (11 or 12; servers send 11, SCR-DM-NOTI-S-003).
    pub version: u16,
    /// How the session is to be shown to the user.
    pub ui_mode: UiMode,
    /// Initiator bit (meaning unsure, see [`Initiator`]).
    pub initiator: Initiator,
    /// DM session id; the client puts it in Pkg#1's `SessionID`.
    pub session_id: u16,
    /// Server identifier (DMAcc ServerID), 1 to 255 bytes of UTF-8.
    pub server_id: String,
    /// Vendor-specific data, opaque.
    pub vendor: Vec<u8>,
}

impl Notification {
    /// A version-11 notification with unspecified ui-mode, server initiator
    /// and no vendor data.
    pub fn new(server_id: impl Into<String>, session_id: u16) -> Self {
        Self {
            version: VERSION_11,
            ui_mode: UiMode::NotSpecified,
            initiator: Initiator::Server,
            session_id,
            server_id: server_id.into(),
            vendor: Vec::new(),
        }
    }

    /// Whether these fields can be encoded into a Package #0 that
    /// [`Package0::decode`] gives back unchanged.
    pub fn validate(&self) -> Result<(), Package0Error> {
        if !is_supported_version(self.version) {
            return Err(Package0Error::UnsupportedVersion(self.version));
        }
        match self.server_id.len() {
            0 => Err(Package0Error::EmptyServerId),
            n if n > MAX_SERVER_ID_LEN => Err(Package0Error::ServerIdTooLong(n)),
            _ => Ok(()),
        }
    }

    /// The trigger: the Package #0 after its digest. Future-use bits are zero.
    pub fn trigger_bytes(&self) -> Result<Vec<u8>, Package0Error> {
        self.validate()?;
        let id = self.server_id.as_bytes();
        let word = (u64::from(self.version) << 54)
            | (u64::from(self.ui_mode.bits()) << 52)
            | (u64::from(self.initiator.bit()) << 51)
            | (u64::from(self.session_id) << 8)
            // validate() bounded the length to 1..=255.
            | id.len() as u64;
        let mut trigger = Vec::with_capacity(HEADER_LEN + id.len() + self.vendor.len());
        trigger.extend_from_slice(&word.to_be_bytes());
        trigger.extend_from_slice(id);
        trigger.extend_from_slice(&self.vendor);
        Ok(trigger)
    }

    /// The complete Package #0 (digest then trigger), signed with the
    /// server's password towards the client and the nonce to sign with
    /// (server role).
    pub fn sign(&self, password: &[u8], nonce: &[u8]) -> Result<Vec<u8>, Package0Error> {
        let trigger = self.trigger_bytes()?;
        let digest =
            NotificationDigester::new(self.server_id.as_bytes(), password, &trigger).digest(nonce);
        let mut package = Vec::with_capacity(MD5_LEN + trigger.len());
        package.extend_from_slice(&digest);
        package.extend_from_slice(&trigger);
        Ok(package)
    }

    /// Parse a trigger (the Package #0 without its digest).
    fn decode_trigger(trigger: &[u8]) -> Result<Self, Package0Error> {
        let (header, rest) =
            trigger
                .split_first_chunk::<HEADER_LEN>()
                .ok_or(Package0Error::TooShort {
                    len: MD5_LEN + trigger.len(),
                })?;
        let word = u64::from_be_bytes(*header);
        // Masks make the casts lossless: 10, 2, 1, 16 and 8 bits.
        let version = ((word >> 54) & 0x3ff) as u16;
        if !is_supported_version(version) {
            return Err(Package0Error::UnsupportedVersion(version));
        }
        let ui_mode = UiMode::from_bits(((word >> 52) & 0b11) as u8);
        let initiator = Initiator::from_bit(((word >> 51) & 1) as u8);
        // Bits 50..24 are future use: ignored when read (they stay in the
        // raw trigger, so the digest still covers them).
        let session_id = ((word >> 8) & 0xffff) as u16;
        let id_len = (word & 0xff) as usize;
        if id_len == 0 {
            return Err(Package0Error::EmptyServerId);
        }
        let (id, vendor) = rest
            .split_at_checked(id_len)
            .ok_or(Package0Error::ServerIdPastEnd {
                declared: id_len,
                available: rest.len(),
            })?;
        let server_id = std::str::from_utf8(id)
            .map_err(|e| Package0Error::ServerIdNotUtf8 {
                valid_up_to: e.valid_up_to(),
            })?
            .to_owned();
        Ok(Self {
            version,
            ui_mode,
            initiator,
            session_id,
            server_id,
            vendor: vendor.to_vec(),
        })
    }
}

/// A decoded Package #0: the trigger fields, the digest it carries, and the
/// raw trigger bytes the digest covers (kept verbatim, future-use bits
/// included, so verification hashes exactly what was received).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package0 {
    /// The trigger fields.
    pub notification: Notification,
    /// The digest the message carries.
    pub digest: [u8; MD5_LEN],
    trigger: Vec<u8>,
}

impl Package0 {
    /// Decode a Package #0. Any byte string gives a value or a typed error.
    pub fn decode(bytes: &[u8]) -> Result<Self, Package0Error> {
        let (digest, trigger) = bytes
            .split_first_chunk::<MD5_LEN>()
            .filter(|(_, trigger)| trigger.len() >= HEADER_LEN)
            .ok_or(Package0Error::TooShort { len: bytes.len() })?;
        let notification = Notification::decode_trigger(trigger)?;
        Ok(Self {
            notification,
            digest: *digest,
            trigger: trigger.to_vec(),
        })
    }

    /// The raw trigger bytes (everything after the digest).
    pub fn trigger(&self) -> &[u8] {
        &self.trigger
    }

    /// The message bytes: digest then raw trigger.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(MD5_LEN + self.trigger.len());
        bytes.extend_from_slice(&self.digest);
        bytes.extend_from_slice(&self.trigger);
        bytes
    }

    /// Precompute the nonce-independent halves of the digest for `password`,
    /// to try several nonces at one MD5 each.
    pub fn digester(&self, password: &[u8]) -> NotificationDigester {
        NotificationDigester::new(
            self.notification.server_id.as_bytes(),
            password,
            &self.trigger,
        )
    }

    /// Whether the carried digest is the one `password` and `nonce` give.
    /// Constant-time comparison.
    pub fn digest_matches(&self, password: &[u8], nonce: &[u8]) -> bool {
        ct_eq(&self.digester(password).digest(nonce), &self.digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(word: u64, rest: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0xa5; MD5_LEN];
        bytes.extend_from_slice(&word.to_be_bytes());
        bytes.extend_from_slice(rest);
        bytes
    }

    const V11: u64 = 11 << 54;

    #[test]
    fn decodes_every_header_field() {
        let word = (12 << 54) | (2 << 52) | (1 << 51) | (0xbeef << 8) | 3;
        let p = Package0::decode(&package(word, b"abcXY")).unwrap();
        assert_eq!(p.digest, [0xa5; 16]);
        assert_eq!(p.notification.version, 12);
        assert_eq!(p.notification.ui_mode, UiMode::Informative);
        assert_eq!(p.notification.initiator, Initiator::User);
        assert_eq!(p.notification.session_id, 0xbeef);
        assert_eq!(p.notification.server_id, "abc");
        assert_eq!(p.notification.vendor, b"XY");
        assert_eq!(p.trigger(), &package(word, b"abcXY")[16..]);
    }

    #[test]
    fn future_use_bits_are_ignored_but_kept_in_the_trigger() {
        let word = V11 | (0x7ff_ffff << 24) | (7 << 8) | 1;
        let bytes = package(word, b"s");
        let p = Package0::decode(&bytes).unwrap();
        assert_eq!(p.notification, Notification::new("s", 7));
        assert_eq!(p.to_bytes(), bytes);
        // Re-encoding from the fields clears them, so the raw trigger differs.
        assert_ne!(p.notification.trigger_bytes().unwrap(), p.trigger());
    }

    #[test]
    fn too_short_inputs_are_typed_errors() {
        for len in [0, 1, 15, 16, 23] {
            assert_eq!(
                Package0::decode(&vec![0; len]),
                Err(Package0Error::TooShort { len })
            );
        }
    }

    #[test]
    fn zero_length_server_id_is_rejected() {
        assert_eq!(
            Package0::decode(&package(V11, b"vendor")),
            Err(Package0Error::EmptyServerId)
        );
    }

    #[test]
    fn server_id_length_past_end_is_rejected() {
        assert_eq!(
            Package0::decode(&package(V11 | 5, b"abcd")),
            Err(Package0Error::ServerIdPastEnd {
                declared: 5,
                available: 4
            })
        );
        assert_eq!(
            Package0::decode(&package(V11 | 255, b"")),
            Err(Package0Error::ServerIdPastEnd {
                declared: 255,
                available: 0
            })
        );
    }

    #[test]
    fn unknown_versions_are_rejected() {
        for version in [0u64, 1, 10, 13, 1023] {
            assert_eq!(
                Package0::decode(&package((version << 54) | 1, b"s")),
                Err(Package0Error::UnsupportedVersion(version as u16))
            );
        }
    }

    #[test]
    fn non_utf8_server_id_is_rejected() {
        assert_eq!(
            Package0::decode(&package(V11 | 3, b"a\xffb")),
            Err(Package0Error::ServerIdNotUtf8 { valid_up_to: 1 })
        );
    }

    #[test]
    fn error_messages_name_the_problem() {
        let msg = |e: Package0Error| e.to_string();
        assert!(msg(Package0Error::TooShort { len: 3 }).contains("too short: 3 bytes"));
        assert!(msg(Package0Error::EmptyServerId).contains("server identifier is empty"));
        assert!(msg(Package0Error::ServerIdPastEnd {
            declared: 9,
            available: 2
        })
        .contains("length 9 runs past the end"));
        assert!(msg(Package0Error::UnsupportedVersion(13)).contains("version 13"));
        assert!(msg(Package0Error::ServerIdNotUtf8 { valid_up_to: 0 }).contains("UTF-8"));
        assert!(msg(Package0Error::ServerIdTooLong(256)).contains("256 bytes"));
    }

    #[test]
    fn encoding_rejects_what_cannot_be_decoded_back() {
        let mut n = Notification::new("", 1);
        assert_eq!(n.trigger_bytes(), Err(Package0Error::EmptyServerId));
        n.server_id = "x".repeat(256);
        assert_eq!(
            n.sign(b"pw", b"n"),
            Err(Package0Error::ServerIdTooLong(256))
        );
        n.server_id = "x".repeat(255);
        assert!(n.sign(b"pw", b"n").is_ok());
        n.version = 10;
        assert_eq!(n.validate(), Err(Package0Error::UnsupportedVersion(10)));
    }

    #[test]
    fn encodes_the_header_word_big_endian() {
        let n = Notification {
            version: 11,
            ui_mode: UiMode::Background,
            initiator: Initiator::Server,
            session_id: 0x0102,
            server_id: "id".into(),
            vendor: vec![9],
        };
        // 0000001011 01 0 ... -> 0x02d0, then session 01 02, length 02.
        assert_eq!(
            n.trigger_bytes().unwrap(),
            [0x02, 0xd0, 0, 0, 0, 0x01, 0x02, 0x02, b'i', b'd', 9]
        );
    }

    #[test]
    fn digest_matches_only_the_signing_password_and_nonce() {
        let bytes = Notification::new("srv", 42).sign(b"pw", b"nonce").unwrap();
        let p = Package0::decode(&bytes).unwrap();
        assert!(p.digest_matches(b"pw", b"nonce"));
        assert!(!p.digest_matches(b"pw", b"nonce2"));
        assert!(!p.digest_matches(b"pw2", b"nonce"));
    }
}
