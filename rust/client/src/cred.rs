//! Credentials and `Chal`s: the daemon computes and checks every digest, so
//! the agent never holds an AuthSecret or a nonce.

use crate::buffer::{
    bytes_arg, check_out, check_ptr, opt_str_arg, str_arg, write_bytes, write_text,
};
use crate::client::{dmnonce_client, with_client};
use crate::result::{dmnonce_result, dmnonce_result::*, Failure};
use dmnonce_control::{AuthScheme, Encoding};
use std::ffi::c_char;

/// Capacity `dmnonce_issue_chal()` demands before it asks the daemon: a
/// `Chal` fragment is about 200 bytes; issuing has a side effect (a new
/// server nonce), so it is not repeated just to learn a size.
pub const DMNONCE_CHAL_MIN_CAP: usize = 1024;

/// Authentication scheme of an account (DMAcc AAuthType).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dmnonce_auth_scheme {
    /// `syncml:auth-md5` in `SyncHdr/Cred` (Meta Type `syncml:auth-md5`, Format `b64`).
    DMNONCE_AUTH_MD5 = 1,
    /// The `x-syncml-hmac` HTTP header.
    DMNONCE_AUTH_HMAC = 2,
    /// `syncml:auth-basic` in `SyncHdr/Cred` (only over TLS).
    DMNONCE_AUTH_BASIC = 3,
}

/// Message encoding.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dmnonce_encoding {
    /// Input only: whatever the account is provisioned with.
    DMNONCE_ENCODING_ACCOUNT = 0,
    /// SyncML DM XML.
    DMNONCE_ENCODING_XML = 1,
    /// SyncML DM WBXML.
    DMNONCE_ENCODING_WBXML = 2,
}

impl From<AuthScheme> for dmnonce_auth_scheme {
    fn from(s: AuthScheme) -> Self {
        match s {
            AuthScheme::Md5 => dmnonce_auth_scheme::DMNONCE_AUTH_MD5,
            AuthScheme::Hmac => dmnonce_auth_scheme::DMNONCE_AUTH_HMAC,
            AuthScheme::Basic => dmnonce_auth_scheme::DMNONCE_AUTH_BASIC,
        }
    }
}

pub(crate) fn auth_scheme_arg(v: u32) -> Result<AuthScheme, Failure> {
    match v {
        1 => Ok(AuthScheme::Md5),
        2 => Ok(AuthScheme::Hmac),
        3 => Ok(AuthScheme::Basic),
        other => Err(Failure::invalid(format!(
            "auth scheme {other} is not a dmnonce_auth_scheme"
        ))),
    }
}

/// `None` = the account's encoding.
pub(crate) fn encoding_arg(v: u32) -> Result<Option<Encoding>, Failure> {
    match v {
        0 => Ok(None),
        1 => Ok(Some(Encoding::Xml)),
        2 => Ok(Some(Encoding::Wbxml)),
        other => Err(Failure::invalid(format!(
            "encoding {other} is not a dmnonce_encoding"
        ))),
    }
}

/// Computes the client's credential for an outgoing message to `server_id`.
///
/// `body`/`body_len`: the exact bytes of the outgoing HTTP body (needed for
/// HMAC; may be NULL/0 for md5 and basic). `*scheme` receives the account's
/// scheme, and `buf` the value to send, NUL-terminated:
/// - `DMNONCE_AUTH_MD5`, `DMNONCE_AUTH_BASIC`: the `SyncHdr/Cred/Data` text
///   (Base64; Meta Type `syncml:auth-md5` resp. `syncml:auth-basic`, Format `b64`);
/// - `DMNONCE_AUTH_HMAC`: the value of the `x-syncml-hmac` header.
///
/// `*out_len` receives the length (`DMNONCE_E_INSUFFICIENT_SIZE` when
/// `cap <= *out_len`; the call has no side effect, so retry with a larger
/// buffer). Unknown server id: `DMNONCE_E_UNKNOWN_ACCOUNT`.
///
/// Ownership: inputs only read during the call; caller owns the outputs.
/// Thread-safety: one thread per handle.
///
/// # Safety
/// `client` NULL or live; `server_id` NUL-terminated; `body` valid for
/// `body_len` bytes; `scheme` and `out_len` valid for a write; `buf` for `cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_client_cred(
    client: *mut dmnonce_client,
    server_id: *const c_char,
    body: *const u8,
    body_len: usize,
    scheme: *mut dmnonce_auth_scheme,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> dmnonce_result {
    // SAFETY: forwarded contract. (`with_client` is the panic boundary.)
    unsafe {
        with_client(client, |c| {
            let server_id = str_arg(server_id, "server_id")?;
            let body = bytes_arg(body, body_len, "body")?;
            check_ptr(scheme, "scheme")?;
            check_out(buf, cap, out_len)?;
            let body = (!body.is_empty()).then_some(body);
            let result = c.client_cred(server_id, body)?;
            let text = match result.scheme {
                AuthScheme::Hmac => result.hmac_header,
                AuthScheme::Md5 | AuthScheme::Basic => result.cred_data,
            };
            let text = text.ok_or_else(|| {
                Failure::new(
                    DMNONCE_E_PROTOCOL,
                    "client_cred answer lacks the credential",
                )
            })?;
            scheme.write(result.scheme.into());
            write_text(buf, cap, out_len, &text, "credential")
        })
    }
}

/// Checks the server's credential on an incoming message from `server_id`.
///
/// Pass the `SyncHdr/Cred/Data` text as received in `cred_data` (md5,
/// basic) or the `x-syncml-hmac` header value in `hmac_header` (hmac; then
/// `body` must be the exact HTTP body); the other one NULL. `*valid`
/// receives the answer: a wrong credential is `DMNONCE_OK` with
/// `*valid == false`, not an error. A server nonce issued by
/// `dmnonce_issue_chal()` is accepted next to the previous one.
///
/// Ownership: inputs only read during the call. Thread-safety: one thread
/// per handle.
///
/// # Safety
/// `client` NULL or live; strings NULL or NUL-terminated; `body` valid for
/// `body_len` bytes; `valid` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_check_server_cred(
    client: *mut dmnonce_client,
    server_id: *const c_char,
    body: *const u8,
    body_len: usize,
    cred_data: *const c_char,
    hmac_header: *const c_char,
    valid: *mut bool,
) -> dmnonce_result {
    // SAFETY: forwarded contract. (`with_client` is the panic boundary.)
    unsafe {
        with_client(client, |c| {
            let server_id = str_arg(server_id, "server_id")?;
            let body = bytes_arg(body, body_len, "body")?;
            let cred_data = opt_str_arg(cred_data, "cred_data")?;
            let hmac_header = opt_str_arg(hmac_header, "hmac_header")?;
            check_ptr(valid, "valid")?;
            if cred_data.is_none() && hmac_header.is_none() {
                return Err(Failure::null("cred_data and hmac_header"));
            }
            let body = (!body.is_empty()).then_some(body);
            let ok = c.check_server_cred(server_id, body, cred_data, hmac_header)?;
            valid.write(ok);
            Ok(())
        })
    }
}

/// Accepts the server's `Chal`: stores its `NextNonce` as the new client
/// nonce of `server_id`. `next_nonce_b64` is the `NextNonce` text as
/// received (Base64, XML encoding). For WBXML, where `NextNonce` may arrive
/// as opaque bytes, use `dmnonce_accept_chal_bytes()`.
///
/// Ownership: inputs only read. Thread-safety: one thread per handle.
///
/// # Safety
/// `client` NULL or live; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_accept_chal(
    client: *mut dmnonce_client,
    server_id: *const c_char,
    next_nonce_b64: *const c_char,
) -> dmnonce_result {
    // SAFETY: forwarded contract. (`with_client` is the panic boundary.)
    unsafe {
        with_client(client, |c| {
            let server_id = str_arg(server_id, "server_id")?;
            let nonce = str_arg(next_nonce_b64, "next_nonce_b64")?;
            c.accept_chal(server_id, nonce)?;
            Ok(())
        })
    }
}

/// As `dmnonce_accept_chal()`, with the new client nonce as raw bytes.
///
/// Ownership: inputs only read. Thread-safety: one thread per handle.
///
/// # Safety
/// `client` NULL or live; `server_id` NUL-terminated; `nonce` valid for
/// `nonce_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_accept_chal_bytes(
    client: *mut dmnonce_client,
    server_id: *const c_char,
    nonce: *const u8,
    nonce_len: usize,
) -> dmnonce_result {
    // SAFETY: forwarded contract. (`with_client` is the panic boundary.)
    unsafe {
        with_client(client, |c| {
            let server_id = str_arg(server_id, "server_id")?;
            let nonce = bytes_arg(nonce, nonce_len, "nonce")?;
            if nonce.is_empty() {
                return Err(Failure::invalid("nonce is empty"));
            }
            c.accept_chal(server_id, &dmnonce_control::b64_encode(nonce))?;
            Ok(())
        })
    }
}

/// Issues a `Chal` for `server_id`: the daemon creates a fresh server nonce
/// (the previous one stays valid until the server is seen using the new
/// one) and returns the `<Chal>` element that carries it, to put into the
/// `Status` for the server's `SyncHdr`.
///
/// `encoding` is a `dmnonce_encoding` (`DMNONCE_ENCODING_ACCOUNT` for the
/// account's); `*encoding_out` receives the fragment's encoding and `buf`
/// its bytes (XML text without a NUL, or WBXML), `*out_len` their count.
/// `cap` must be at least `DMNONCE_CHAL_MIN_CAP`; a smaller buffer gives
/// `DMNONCE_E_INSUFFICIENT_SIZE` before the daemon is asked (issuing is not
/// repeatable without creating yet another nonce).
///
/// Ownership: caller owns the outputs. Thread-safety: one thread per handle.
///
/// # Safety
/// `client` NULL or live; `server_id` NUL-terminated; `encoding_out` and
/// `out_len` valid for a write; `buf` for `cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_issue_chal(
    client: *mut dmnonce_client,
    server_id: *const c_char,
    encoding: u32,
    encoding_out: *mut dmnonce_encoding,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> dmnonce_result {
    // SAFETY: forwarded contract. (`with_client` is the panic boundary.)
    unsafe {
        with_client(client, |c| {
            let server_id = str_arg(server_id, "server_id")?;
            let encoding = encoding_arg(encoding)?;
            check_ptr(encoding_out, "encoding_out")?;
            check_out(buf, cap, out_len)?;
            if cap < DMNONCE_CHAL_MIN_CAP {
                out_len.write(DMNONCE_CHAL_MIN_CAP);
                return Err(Failure::insufficient("a Chal", DMNONCE_CHAL_MIN_CAP, cap));
            }
            let result = c.issue_chal(server_id, encoding)?;
            let (enc, bytes) = match result.encoding {
                Encoding::Xml => (
                    dmnonce_encoding::DMNONCE_ENCODING_XML,
                    result.chal.into_bytes(),
                ),
                Encoding::Wbxml => (
                    dmnonce_encoding::DMNONCE_ENCODING_WBXML,
                    dmnonce_control::b64_decode("chal", &result.chal)
                        .map_err(|e| Failure::new(DMNONCE_E_PROTOCOL, e.to_string()))?,
                ),
            };
            encoding_out.write(enc);
            write_bytes(buf, cap, out_len, &bytes, "the Chal")
        })
    }
}
