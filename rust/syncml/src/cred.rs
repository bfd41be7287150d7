//! `Cred` and `Chal` (OMA-TS-DM_Security-V1_2 §5.3, docs/design.md "Formats").
//!
//! `syncml:auth-md5`: `B64( H( B64(H(username ":" password)) ":" nonce ) )`;
//! `syncml:auth-basic`: `B64(username ":" password)`. Nonces are raw bytes;
//! comparisons are constant-time.

use dmnonce_proto::digest::{b64, b64_md5_parts, ct_eq, md5_parts};

use crate::model::{Chal, Cred, Meta};

/// Meta Type of MD5 digest credentials.
pub const AUTH_MD5: &str = "syncml:auth-md5";
/// Meta Type of basic credentials.
pub const AUTH_BASIC: &str = "syncml:auth-basic";
/// Meta Type naming the HMAC transport header in a `Chal`.
pub const AUTH_MAC: &str = "syncml:auth-MAC";
/// Meta Format of every credential and nonce.
pub const FORMAT_B64: &str = "b64";

/// The `syncml:auth-md5` credential text.
pub fn md5_credential(username: &[u8], password: &[u8], nonce: &[u8]) -> String {
    let inner = b64_md5_parts(&[username, b":", password]);
    b64(&md5_parts(&[&inner, b":", nonce]))
}

/// The `syncml:auth-basic` credential text.
pub fn basic_credential(username: &[u8], password: &[u8]) -> String {
    b64(&[username, b":", password].concat())
}

/// A `Cred` element with an MD5 digest credential.
pub fn md5_cred(username: &[u8], password: &[u8], nonce: &[u8]) -> Cred {
    Cred {
        meta: Meta {
            format: Some(FORMAT_B64.into()),
            type_: Some(AUTH_MD5.into()),
            ..Meta::default()
        },
        data: md5_credential(username, password, nonce),
    }
}

/// A `Cred` element with a basic credential.
pub fn basic_cred(username: &[u8], password: &[u8]) -> Cred {
    Cred {
        meta: Meta {
            format: Some(FORMAT_B64.into()),
            type_: Some(AUTH_BASIC.into()),
            ..Meta::default()
        },
        data: basic_credential(username, password),
    }
}

/// Whether `cred` proves knowledge of `password` for `username` with
/// `nonce` (ignored for basic credentials). A Cred without a Type is read
/// as basic (SyncML RepPro 1.2 default); unknown types never match.
pub fn verify_cred(cred: &Cred, username: &[u8], password: &[u8], nonce: &[u8]) -> bool {
    let expected = match cred.meta.type_.as_deref().map(str::trim) {
        Some(AUTH_MD5) => md5_credential(username, password, nonce),
        None | Some(AUTH_BASIC) => basic_credential(username, password),
        Some(_) => return false,
    };
    ct_eq(cred.data.trim().as_bytes(), expected.as_bytes())
}

/// A `Chal` asking the peer to use `nonce` next, for `auth_type`
/// ([`AUTH_MD5`] or [`AUTH_MAC`]).
pub fn chal(auth_type: &str, nonce: &[u8]) -> Chal {
    Chal {
        meta: Meta {
            format: Some(FORMAT_B64.into()),
            type_: Some(auth_type.into()),
            next_nonce: Some(nonce.to_vec()),
            ..Meta::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_cred_verifies_only_with_its_nonce() {
        let c = md5_cred(b"dev", b"pw", &[0, 1, 2]);
        assert!(verify_cred(&c, b"dev", b"pw", &[0, 1, 2]));
        assert!(!verify_cred(&c, b"dev", b"pw", &[0, 1, 3]));
        assert!(!verify_cred(&c, b"dev", b"pX", &[0, 1, 2]));
    }

    #[test]
    fn basic_cred_is_base64_of_user_colon_password() {
        assert_eq!(
            basic_credential(b"Aladdin", b"open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert!(verify_cred(&basic_cred(b"a", b"b"), b"a", b"b", b""));
    }

    #[test]
    fn unknown_cred_type_never_verifies() {
        let mut c = md5_cred(b"dev", b"pw", b"n");
        c.meta.type_ = Some("syncml:auth-x".into());
        assert!(!verify_cred(&c, b"dev", b"pw", b"n"));
    }
}
