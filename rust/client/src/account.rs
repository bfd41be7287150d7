//! Provisioning: adding and removing accounts, and their resync state.
//! Secrets go in and never come back out.

use crate::buffer::{bytes_arg, check_out, check_ptr, str_arg, write_text};
use crate::client::{dmnonce_client, with_client};
use crate::cred::{auth_scheme_arg, encoding_arg};
use crate::result::{dmnonce_result, dmnonce_result::*, Failure};
use crate::sized::{read_in, Growable};
use dmnonce_control::{AccountSpec, AccountState, Policy};
use std::ffi::c_char;

/// Whether the change request's default-nonce fallback is allowed.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dmnonce_policy {
    DMNONCE_POLICY_ALLOW = 1,
    DMNONCE_POLICY_DENY = 2,
}

/// Nonce synchronisation state of an account.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dmnonce_account_state {
    DMNONCE_ACCOUNT_IN_SYNC = 1,
    DMNONCE_ACCOUNT_NEEDS_RESYNC = 2,
    DMNONCE_ACCOUNT_RESYNCING = 3,
}

/// An account to provision (`dmnonce_account_add()`). Every string is
/// NUL-terminated UTF-8 and required; the nonces are optional (NULL/0).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dmnonce_account_spec {
    /// `sizeof` this struct as the caller's header declares it; set it
    /// before the call (see "Structs that can grow" in dmnonce.h).
    pub struct_size: usize,
    /// The DM server's id (as in its Package #0 and `SyncHdr/Source`).
    pub server_id: *const c_char,
    /// URL of the server's DM endpoint (http or https).
    pub server_url: *const c_char,
    /// This device's name towards the server (`SyncHdr/Source`, AAuthName).
    pub client_name: *const c_char,
    /// A `dmnonce_auth_scheme`.
    pub auth_scheme: u32,
    /// `DMNONCE_ENCODING_XML` or `DMNONCE_ENCODING_WBXML`.
    pub encoding: u32,
    /// A `dmnonce_policy`.
    pub policy: u32,
    /// SRVCRED AAuthSecret (server towards device: Package #0, server credentials).
    pub server_password: *const c_char,
    /// CLCRED AAuthSecret (device towards server).
    pub client_password: *const c_char,
    /// Initial server nonce (SRVCRED AAuthData), or NULL/0.
    pub server_nonce: *const u8,
    pub server_nonce_len: usize,
    /// Initial client nonce (CLCRED AAuthData), or NULL/0.
    pub client_nonce: *const u8,
    pub client_nonce_len: usize,
}

// SAFETY: repr(C), struct_size first; zero is NULL or 0 in every field.
unsafe impl Growable for dmnonce_account_spec {}

fn policy_arg(v: u32) -> Result<Policy, Failure> {
    match v {
        1 => Ok(Policy::Allow),
        2 => Ok(Policy::Deny),
        other => Err(Failure::invalid(format!(
            "policy {other} is not a dmnonce_policy"
        ))),
    }
}

/// # Safety
/// Every pointer in `spec` is NULL or valid as documented on the struct.
unsafe fn spec_from_c(spec: &dmnonce_account_spec) -> Result<AccountSpec, Failure> {
    let nonce = |p: *const u8, len: usize, name: &str| -> Result<Option<String>, Failure> {
        // SAFETY: forwarded contract.
        let bytes = unsafe { bytes_arg(p, len, name) }?;
        Ok((!bytes.is_empty()).then(|| dmnonce_control::b64_encode(bytes)))
    };
    // SAFETY (all blocks): forwarded contract.
    Ok(AccountSpec {
        server_id: unsafe { str_arg(spec.server_id, "spec->server_id") }?.to_owned(),
        server_url: unsafe { str_arg(spec.server_url, "spec->server_url") }?.to_owned(),
        client_name: unsafe { str_arg(spec.client_name, "spec->client_name") }?.to_owned(),
        auth_scheme: auth_scheme_arg(spec.auth_scheme)?,
        encoding: encoding_arg(spec.encoding)?
            .ok_or_else(|| Failure::invalid("spec->encoding must be XML or WBXML"))?,
        policy: policy_arg(spec.policy)?,
        server_password: unsafe { str_arg(spec.server_password, "spec->server_password") }?
            .to_owned(),
        client_password: unsafe { str_arg(spec.client_password, "spec->client_password") }?
            .to_owned(),
        server_nonce_b64: nonce(
            spec.server_nonce,
            spec.server_nonce_len,
            "spec->server_nonce",
        )?,
        client_nonce_b64: nonce(
            spec.client_nonce,
            spec.client_nonce_len,
            "spec->client_nonce",
        )?,
    })
}

/// Provisions an account. The daemon stores the secrets encrypted; they are
/// never returned by any call. An existing server id gives
/// `DMNONCE_E_ACCOUNT_EXISTS`.
///
/// Ownership: `spec` and everything it points to are only read during the
/// call (the caller may wipe its copies of the secrets afterwards).
/// Thread-safety: one thread per handle.
///
/// # Safety
/// `client` NULL or live; `spec` NULL or valid, with its pointers as
/// documented on `dmnonce_account_spec`.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_account_add(
    client: *mut dmnonce_client,
    spec: *const dmnonce_account_spec,
) -> dmnonce_result {
    // SAFETY: forwarded contract. (`with_client` is the panic boundary.)
    unsafe {
        with_client(client, |c| {
            let spec = read_in(spec, "spec")?;
            c.account_add(spec_from_c(&spec)?)?;
            Ok(())
        })
    }
}

/// Removes the account of `server_id` with its secrets and nonces.
///
/// Ownership: `server_id` only read. Thread-safety: one thread per handle.
///
/// # Safety
/// `client` NULL or live; `server_id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_account_remove(
    client: *mut dmnonce_client,
    server_id: *const c_char,
) -> dmnonce_result {
    // SAFETY: forwarded contract. (`with_client` is the panic boundary.)
    unsafe {
        with_client(client, |c| {
            c.account_remove(str_arg(server_id, "server_id")?)?;
            Ok(())
        })
    }
}

/// Reports the nonce state of the account of `server_id`
/// (`DMNONCE_E_UNKNOWN_ACCOUNT` when there is none).
///
/// Ownership: `server_id` only read; caller owns `*state`.
/// Thread-safety: one thread per handle.
///
/// # Safety
/// `client` NULL or live; `server_id` NUL-terminated; `state` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_account_get_state(
    client: *mut dmnonce_client,
    server_id: *const c_char,
    state: *mut dmnonce_account_state,
) -> dmnonce_result {
    // SAFETY: forwarded contract. (`with_client` is the panic boundary.)
    unsafe {
        with_client(client, |c| {
            let server_id = str_arg(server_id, "server_id")?;
            check_ptr(state, "state")?;
            let account = c
                .account_list()?
                .into_iter()
                .find(|a| a.server_id == server_id)
                .ok_or_else(|| {
                    Failure::new(
                        DMNONCE_E_UNKNOWN_ACCOUNT,
                        format!("no account {server_id:?}"),
                    )
                })?;
            state.write(match account.state {
                AccountState::InSync => dmnonce_account_state::DMNONCE_ACCOUNT_IN_SYNC,
                AccountState::NeedsResync => dmnonce_account_state::DMNONCE_ACCOUNT_NEEDS_RESYNC,
                AccountState::Resyncing => dmnonce_account_state::DMNONCE_ACCOUNT_RESYNCING,
            });
            Ok(())
        })
    }
}

/// Writes the server ids of every account, one per line (`\n` after each),
/// NUL-terminated, into `buf`; `*out_len` receives the length. The call has
/// no side effect: on `DMNONCE_E_INSUFFICIENT_SIZE` retry with
/// `*out_len + 1` bytes.
///
/// Ownership: caller owns `buf`. Thread-safety: one thread per handle.
///
/// # Safety
/// `client` NULL or live; `buf` valid for `cap` bytes; `out_len` for a write.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_account_list(
    client: *mut dmnonce_client,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> dmnonce_result {
    // SAFETY: forwarded contract. (`with_client` is the panic boundary.)
    unsafe {
        with_client(client, |c| {
            check_out(buf, cap, out_len)?;
            let text: String = c
                .account_list()?
                .iter()
                .map(|a| format!("{}\n", a.server_id))
                .collect();
            write_text(buf, cap, out_len, &text, "the account list")
        })
    }
}
