//! Answers to the control protocol's requests (docs/protocol.md), except
//! `subscribe`, which changes the connection and lives in the server.
//! No result carries a secret or a stored nonce.

use std::sync::Arc;

use dmnonce_control::{
    b64_decode, AccountInfo, AccountSpec, AuthScheme, ClientCredResult, Encoding, ErrorCode,
    HelloResult, IssueChalResult, PushFormat, PushRequest, Request, StatusResult, VerifyResult,
    WireError, PROTOCOL_VERSION,
};
use dmnonce_proto::Package0;
use dmnonce_store::{self as store, AccountProvisioning, AuthSecret, Nonce};
use dmnonce_syncml::{cred, hmac};
use serde_json::{json, Value};

use crate::intake::{self, PushInput};
use crate::logging::peer;
use crate::shared::{now, store_error, Shared};
use crate::verification::{confirm_seen, find_server_credential};
use crate::vocabulary::Translate;

/// Answers one request (`subscribe` excluded).
pub fn handle(shared: &Arc<Shared>, request: Request) -> Result<Value, WireError> {
    match request {
        Request::Hello => to_value(HelloResult {
            protocol: PROTOCOL_VERSION,
            daemon_version: env!("CARGO_PKG_VERSION").into(),
        }),
        Request::Push(p) => to_value(intake::handle_push(shared, push_input(p)?)?),
        Request::Verify(v) => verify(shared, &v.package0_b64),
        Request::ClientCred(r) => client_cred(shared, &r.server_id, r.body_b64.as_deref()),
        Request::CheckServerCred(r) => check_server_cred(shared, &r),
        Request::AcceptChal(r) => accept_chal(shared, &r.server_id, &r.next_nonce_b64),
        Request::IssueChal(r) => issue_chal(shared, &r.server_id, r.encoding),
        Request::Status => to_value(StatusResult {
            protocol: PROTOCOL_VERSION,
            daemon_version: env!("CARGO_PKG_VERSION").into(),
            uptime_secs: shared.uptime_secs(),
            accounts: accounts(shared)?,
            counters: shared.stats.snapshot(),
        }),
        Request::AccountAdd(r) => account_add(shared, r.account),
        Request::AccountRemove(r) => {
            if shared.sessions.claimed(&r.server_id) {
                return Err(WireError::new(
                    ErrorCode::WrongState,
                    "a resync session runs for this account; remove it afterwards",
                ));
            }
            crate::provisioning::remove(shared, &r.server_id)?;
            log::info!("account {} removed", peer(&r.server_id));
            Ok(json!({}))
        }
        Request::AccountList => Ok(json!({ "accounts": accounts(shared)? })),
        Request::StoreCheck => crate::store_check::run(shared),
        Request::Audit(r) => audit(shared, &r),
        Request::Subscribe(_) => Err(WireError::new(
            ErrorCode::Internal,
            "subscribe is handled by the connection",
        )),
    }
}

/// Most entries in one `audit` answer: a page stays well under the frame
/// limit (entries are at most 1 KiB of detail).
const AUDIT_PAGE: u32 = 200;

fn audit(shared: &Shared, r: &dmnonce_control::AuditRequest) -> Result<Value, WireError> {
    let limit = r.limit.unwrap_or(AUDIT_PAGE).min(AUDIT_PAGE) as usize;
    // One more than asked tells whether more follow.
    let (mut entries, oldest_kept) = shared
        .store
        .audit_log_of(&r.server_id, r.after, limit + 1)
        .map_err(store_error)?;
    let more = entries.len() > limit;
    entries.truncate(limit);
    to_value(dmnonce_control::AuditResult {
        entries: entries
            .into_iter()
            .map(|e| dmnonce_control::AuditEntryInfo {
                id: e.id,
                at: e.at.0,
                event: e.event.as_str().to_owned(),
                detail: e.detail,
            })
            .collect(),
        oldest_kept,
        more,
    })
}

fn to_value<T: serde::Serialize>(v: T) -> Result<Value, WireError> {
    serde_json::to_value(v).map_err(|e| WireError::new(ErrorCode::Internal, e.to_string()))
}

fn push_input(p: PushRequest) -> Result<PushInput, WireError> {
    let data = || -> Result<Vec<u8>, WireError> {
        let text = p.data_b64.as_deref().ok_or_else(|| {
            WireError::new(
                ErrorCode::BadRequest,
                "data_b64 is required for this format",
            )
        })?;
        b64_decode("data_b64", text)
    };
    Ok(match p.format {
        PushFormat::Auto => PushInput::Auto(data()?),
        PushFormat::Wsp => PushInput::Wsp(data()?),
        PushFormat::Package0 => PushInput::Package0(data()?),
        PushFormat::Sms => {
            if p.sms_pdus_b64.is_empty() {
                return Err(WireError::new(
                    ErrorCode::BadRequest,
                    "sms_pdus_b64 is required for format sms",
                ));
            }
            let pdus = p
                .sms_pdus_b64
                .iter()
                .map(|t| b64_decode("sms_pdus_b64", t))
                .collect::<Result<Vec<_>, _>>()?;
            PushInput::Sms {
                pdus,
                smsc_included: p.smsc_included,
            }
        }
    })
}

fn verify(shared: &Shared, package0_b64: &str) -> Result<Value, WireError> {
    let bytes = b64_decode("package0_b64", package0_b64)?;
    let pkg = Package0::decode(&bytes)
        .map_err(|e| WireError::new(ErrorCode::BadPush, format!("not a Package #0: {e}")))?;
    let checked = crate::verification::verify_for_account(shared, &pkg).map_err(store_error)?;
    to_value(VerifyResult {
        verdict: checked.verdict.translate(),
        notification: crate::vocabulary::notification_info(&pkg),
    })
}

fn body(body_b64: Option<&str>) -> Result<Option<Vec<u8>>, WireError> {
    body_b64.map(|b| b64_decode("body_b64", b)).transpose()
}

fn client_cred(
    shared: &Shared,
    server_id: &str,
    body_b64: Option<&str>,
) -> Result<Value, WireError> {
    // One read transaction: a legacy agent asks for this on every message.
    let store::AccountView {
        account,
        secrets,
        nonces,
    } = shared.store.account_view(server_id).map_err(store_error)?;
    let name = secrets.client_name.as_bytes();
    let pw = secrets.client_secret.expose();
    if account.auth_scheme == store::AuthScheme::Basic {
        return to_value(ClientCredResult {
            scheme: AuthScheme::Basic,
            cred_type: Some(cred::AUTH_BASIC.into()),
            cred_data: Some(cred::basic_credential(name, pw)),
            hmac_header: None,
        });
    }
    let nonce = nonces.client.ok_or_else(|| {
        WireError::new(
            ErrorCode::WrongState,
            "the account has no client nonce yet (needs a resync or a Chal from the server)",
        )
    })?;
    match account.auth_scheme {
        store::AuthScheme::Hmac => {
            let b = body(body_b64)?.ok_or_else(|| {
                WireError::new(ErrorCode::BadRequest, "body_b64 is required for hmac")
            })?;
            to_value(ClientCredResult {
                scheme: AuthScheme::Hmac,
                cred_type: None,
                cred_data: None,
                hmac_header: Some(hmac::header_value(
                    &secrets.client_name,
                    pw,
                    nonce.expose(),
                    &b,
                )),
            })
        }
        _ => to_value(ClientCredResult {
            scheme: AuthScheme::Md5,
            cred_type: Some(cred::AUTH_MD5.into()),
            cred_data: Some(cred::md5_credential(name, pw, nonce.expose())),
            hmac_header: None,
        }),
    }
}

fn check_server_cred(
    shared: &Shared,
    r: &dmnonce_control::CheckServerCredRequest,
) -> Result<Value, WireError> {
    let store::AccountView {
        account,
        secrets,
        nonces,
    } = shared
        .store
        .account_view(&r.server_id)
        .map_err(store_error)?;
    let user = r.server_id.as_bytes();
    if account.auth_scheme == store::AuthScheme::Basic {
        let valid = r.cred_data.as_deref().is_some_and(|d| {
            secrets.server_secret_candidates().iter().any(|s| {
                dmnonce_proto::digest::ct_eq(
                    d.trim().as_bytes(),
                    cred::basic_credential(user, s.secret.expose()).as_bytes(),
                )
            })
        });
        return Ok(json!({ "valid": valid }));
    }
    let b = body(r.body_b64.as_deref())?;
    if account.auth_scheme == store::AuthScheme::Hmac && b.is_none() {
        return Err(WireError::new(
            ErrorCode::BadRequest,
            "body_b64 is required for hmac",
        ));
    }
    let candidates = nonces.server_nonce_candidates();
    let matched = find_server_credential(&secrets, &candidates, |pw, nonce| {
        match account.auth_scheme {
            store::AuthScheme::Hmac => b.as_deref().is_some_and(|body| {
                hmac::verify(r.hmac_header.as_deref(), &r.server_id, pw, nonce, body).is_ok()
            }),
            _ => r.cred_data.as_deref().is_some_and(|d| {
                dmnonce_proto::digest::ct_eq(
                    d.trim().as_bytes(),
                    cred::md5_credential(user, pw, nonce).as_bytes(),
                )
            }),
        }
    });
    if let Some((secret, c)) = matched {
        // Seen using this secret and nonce: the two-phase rotations may
        // retire the old ones.
        confirm_seen(shared, &r.server_id, secret, Some(&c.nonce), now());
    } else {
        log::info!("{}: server credential did not verify", peer(&r.server_id));
    }
    Ok(json!({ "valid": matched.is_some() }))
}

fn accept_chal(shared: &Shared, server_id: &str, next_nonce_b64: &str) -> Result<Value, WireError> {
    let raw = b64_decode("next_nonce_b64", next_nonce_b64)?;
    if raw.is_empty() {
        return Err(WireError::new(
            ErrorCode::BadRequest,
            "next_nonce_b64 is empty; an empty nonce would make credentials replayable",
        ));
    }
    let nonce = Nonce::new(raw).map_err(store_error)?;
    shared
        .store
        .set_client_nonce(server_id, &nonce, now())
        .map_err(store_error)?;
    Ok(json!({}))
}

fn issue_chal(
    shared: &Shared,
    server_id: &str,
    encoding: Option<Encoding>,
) -> Result<Value, WireError> {
    let account = shared.store.account(server_id).map_err(store_error)?;
    let mut fresh = [0u8; 16];
    getrandom::fill(&mut fresh)
        .map_err(|e| WireError::new(ErrorCode::Internal, format!("no randomness: {e}")))?;
    let nonce = Nonce::new(fresh.to_vec()).map_err(store_error)?;
    shared
        .store
        .commit_new_server_nonce(server_id, &nonce, now())
        .map_err(store_error)?;
    let auth_type = if account.auth_scheme == store::AuthScheme::Hmac {
        cred::AUTH_MAC
    } else {
        cred::AUTH_MD5
    };
    let encoding = encoding.unwrap_or_else(|| account.encoding.translate());
    let chal = crate::chal::fragment(auth_type, &fresh, encoding)
        .map_err(|e| WireError::new(ErrorCode::Internal, e))?;
    to_value(IssueChalResult { encoding, chal })
}

fn accounts(shared: &Shared) -> Result<Vec<AccountInfo>, WireError> {
    Ok(shared
        .store
        .accounts()
        .map_err(store_error)?
        .iter()
        .map(crate::vocabulary::account_info)
        .collect())
}

fn account_add(shared: &Shared, spec: AccountSpec) -> Result<Value, WireError> {
    let bad = |m: String| WireError::new(ErrorCode::BadRequest, m);
    let url = spec.server_url.trim();
    // The URL rules are the store's (dmnonce_store::text), like those of
    // the ids, which the store checks when the account is created.
    let https = store::text::parse_server_url(url)
        .map_err(store_error)?
        .https;
    if spec.auth_scheme == AuthScheme::Basic && !https {
        return Err(bad(
            "auth_scheme basic sends the password in clear: only with https".into(),
        ));
    }
    let nonce = |field: &str, v: &Option<String>| -> Result<Option<Nonce>, WireError> {
        v.as_deref()
            .map(|t| b64_decode(field, t).and_then(|b| Nonce::new(b).map_err(store_error)))
            .transpose()
    };
    let p = AccountProvisioning {
        server_id: spec.server_id.clone(),
        server_url: url.to_string(),
        client_name: spec.client_name.clone(),
        client_secret: AuthSecret::new(spec.client_password.as_bytes()).map_err(store_error)?,
        server_secret: AuthSecret::new(spec.server_password.as_bytes()).map_err(store_error)?,
        server_secret_previous: None,
        auth_scheme: spec.auth_scheme.translate(),
        encoding: spec.encoding.translate(),
        policy: spec.policy.translate(),
        client_nonce: nonce("client_nonce_b64", &spec.client_nonce_b64)?,
        server_nonce: nonce("server_nonce_b64", &spec.server_nonce_b64)?,
    };
    crate::provisioning::add(shared, &p)?;
    log::info!(
        "account {} added ({} {}, policy {})",
        peer(&spec.server_id),
        p.auth_scheme.as_str(),
        p.encoding.as_str(),
        p.policy.as_str()
    );
    Ok(json!({}))
}
