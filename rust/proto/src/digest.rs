//! The MD5 and Base64 building blocks of every OMA DM 1.2 digest.
//!
//! One small function per step, each taking byte slices. libdmclient (the
//! only open implementation of the nonce-resync change request) built these
//! inputs with ad-hoc string helpers and lost bytes at the first zero of a
//! binary MD5 value; keeping every intermediate value as raw bytes, with
//! explicit lengths, avoids that whole class of bug.
//!
//! Nothing here logs: the inputs are secrets and nonces.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use md5::{Digest as _, Md5};
use subtle::ConstantTimeEq as _;

/// Length of a raw MD5 digest.
pub const MD5_LEN: usize = 16;

/// Length of the padded standard Base64 text of a raw MD5 digest.
pub const B64_MD5_LEN: usize = 24;

/// Raw MD5 of `data`.
pub fn md5(data: &[u8]) -> [u8; MD5_LEN] {
    md5_parts(&[data])
}

/// Raw MD5 of the concatenation of `parts`, without building the
/// concatenation in memory (the DM formulas join fields with `:`).
pub fn md5_parts(parts: &[&[u8]]) -> [u8; MD5_LEN] {
    let mut hasher = Md5::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// Standard Base64 (RFC 4648 alphabet `+/`, with `=` padding), as DM uses.
pub fn b64(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// `B64(H(data))`: the Base64 text of the raw MD5 of `data`.
pub fn b64_md5(data: &[u8]) -> String {
    let text = b64_md5_parts(&[data]);
    // Base64 output is ASCII by construction.
    String::from_utf8_lossy(&text).into_owned()
}

/// `B64(H(parts…))` into a fixed buffer, so the verification hot path does
/// not allocate.
pub fn b64_md5_parts(parts: &[&[u8]]) -> [u8; B64_MD5_LEN] {
    let raw = md5_parts(parts);
    let mut out = [0u8; B64_MD5_LEN];
    // 16 bytes always encode to exactly 24 Base64 characters, so this
    // cannot fail; the fallback keeps the function total anyway.
    if STANDARD.encode_slice(raw, &mut out).is_err() {
        out = [b'='; B64_MD5_LEN];
    }
    out
}

/// Constant-time equality of two byte strings. Slices of different lengths
/// are unequal (the length itself is not secret: digests are fixed-size).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// The two trigger-independent and nonce-independent halves of the Package #0
/// digest, computed once so that trying several nonces (stored, previous,
/// default readings) costs one MD5 each.
#[derive(Clone)]
pub struct NotificationDigester {
    id_password_b64: [u8; B64_MD5_LEN],
    trigger_b64: [u8; B64_MD5_LEN],
}

impl NotificationDigester {
    /// Precompute `B64(H(server-id ":" password))` and `B64(H(trigger))`.
    pub fn new(server_id: &[u8], password: &[u8], trigger: &[u8]) -> Self {
        Self {
            id_password_b64: b64_md5_parts(&[server_id, b":", password]),
            trigger_b64: b64_md5_parts(&[trigger]),
        }
    }

    /// The digest for one candidate nonce (raw bytes).
    pub fn digest(&self, nonce: &[u8]) -> [u8; MD5_LEN] {
        md5_parts(&[&self.id_password_b64, b":", nonce, b":", &self.trigger_b64])
    }
}

impl std::fmt::Debug for NotificationDigester {
    // The first half is derived from the password: keep it out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NotificationDigester { .. }")
    }
}

/// The Package #0 digest of OMA-TS-DM_Notification-V1_2 §6.2:
///
/// `H( B64(H(server-id ":" password)) ":" nonce ":" B64(H(trigger)) )`
///
/// `trigger` is the Package #0 after its 16-byte digest; `nonce` is the raw
/// server nonce (AAuthData), not its Base64 text.
pub fn notification_digest(
    server_id: &[u8],
    password: &[u8],
    nonce: &[u8],
    trigger: &[u8],
) -> [u8; MD5_LEN] {
    NotificationDigester::new(server_id, password, trigger).digest(nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_rfc1321_test_suite() {
        // RFC 1321 appendix A.5.
        assert_eq!(hex::encode(md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex::encode(md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            hex::encode(md5(b"message digest")),
            "f96b697d7cb7938d525a2f31aaf161d0"
        );
    }

    #[test]
    fn md5_parts_equals_md5_of_concatenation() {
        assert_eq!(
            md5_parts(&[b"mess", b"", b"age digest"]),
            md5(b"message digest")
        );
        assert_eq!(md5_parts(&[]), md5(b""));
    }

    #[test]
    fn b64_is_standard_alphabet_with_padding() {
        // RFC 4648 §10 vectors, plus bytes that exercise '+' and '/'.
        assert_eq!(b64(b""), "");
        assert_eq!(b64(b"f"), "Zg==");
        assert_eq!(b64(b"fo"), "Zm8=");
        assert_eq!(b64(b"foo"), "Zm9v");
        assert_eq!(b64(b"foobar"), "Zm9vYmFy");
        assert_eq!(b64(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn b64_md5_is_b64_of_raw_md5() {
        // md5("abc") = 900150983cd24fb0d6963f7d28e17f72, whose Base64 is below.
        assert_eq!(b64_md5(b"abc"), "kAFQmDzST7DWlj99KOF/cg==");
        assert_eq!(b64_md5(b"abc"), b64(&md5(b"abc")));
        assert_eq!(b64_md5(b"abc").len(), B64_MD5_LEN);
        assert_eq!(&b64_md5_parts(&[b"a", b"bc"]), b"kAFQmDzST7DWlj99KOF/cg==");
    }

    #[test]
    fn ct_eq_compares_content_and_length() {
        assert!(ct_eq(b"", b""));
        assert!(ct_eq(&[0, 1, 2], &[0, 1, 2]));
        assert!(!ct_eq(&[0, 1, 2], &[0, 1, 3]));
        assert!(!ct_eq(&[0, 1, 2], &[0, 1]));
        // A zero byte is data, not a terminator (libdmclient's strncmp bug).
        assert!(!ct_eq(&[0, 1], &[0, 2]));
    }

    #[test]
    fn notification_digest_follows_the_formula_step_by_step() {
        // Built by hand with the md-5 and base64 crates, not with this module.
        use base64::engine::general_purpose::STANDARD as B64;
        let (id, pw, nonce, trigger) = (
            b"dm.example.net".as_slice(),
            b"public-pw".as_slice(),
            [0xca, 0xfe, 0xba, 0xbe],
            hex::decode("02d000000001020e646d2e6578616d706c652e6e6574").unwrap(),
        );
        let h1 = Md5::digest(b"dm.example.net:public-pw");
        let b1 = B64.encode(h1);
        assert_eq!(b1, "ZXBMWXJswlpjD9cQTyBGeg==");
        let b2 = B64.encode(Md5::digest(&trigger));
        let mut input = Vec::new();
        input.extend_from_slice(b1.as_bytes());
        input.push(b':');
        input.extend_from_slice(&nonce);
        input.push(b':');
        input.extend_from_slice(b2.as_bytes());
        let expected: [u8; 16] = Md5::digest(&input).into();
        assert_eq!(notification_digest(id, pw, &nonce, &trigger), expected);
        assert_eq!(hex::encode(expected), "cc6a83acbc1dabd527db6216ff2839ad");
    }

    #[test]
    fn digester_reuses_halves_across_nonces() {
        let d = NotificationDigester::new(b"id", b"pw", b"trigger");
        for nonce in [&b""[..], b"0x00000000", &[0, 0, 0, 0], &[0xff; 64]] {
            assert_eq!(
                d.digest(nonce),
                notification_digest(b"id", b"pw", nonce, b"trigger")
            );
        }
        assert_ne!(d.digest(b"0x00000000"), d.digest(&[0, 0, 0, 0]));
        assert_eq!(format!("{d:?}"), "NotificationDigester { .. }");
    }
}
