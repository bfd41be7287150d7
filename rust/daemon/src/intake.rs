//! Push intake: every way a notification reaches the daemon (the control
//! socket's `push`, the ofono agent, SMS PDUs) ends in [`handle_push`].
//!
//! Decision (docs/design.md, "Flow"): the Package #0 is verified with the stored
//! server nonces, current then previous; a match is an `alert` for the DM
//! client. Otherwise, when the account's policy allows, with the default
//! nonce readings; a match there is bounded by the store (replay cache, rate
//! limit, policy, all in one transaction) and then starts the resync session.

use std::sync::Arc;

use dmnonce_control::{
    ErrorCode, Event, EventKind, NotificationInfo, PushOutcome, PushResult, VerdictName, WireError,
};
use dmnonce_proto::{Package0, Verdict};
use dmnonce_push::sms::SmscField;
use dmnonce_push::{package0_from_any, package0_from_wsp, IntakeError, SmsIntake};
use dmnonce_store::{AuditEvent, DefaultNonceNotification, FallbackVerdict, Policy, StoreError};

use crate::logging::peer;
use crate::shared::{lock, now, store_error, Shared, Stats};
use crate::verification::confirm_secret;
pub use crate::verification::verify_for_account;

/// What arrived, and in which form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushInput {
    /// A WSP push PDU (TID first) or a bare Package #0, told apart here.
    Auto(Vec<u8>),
    /// A connectionless WSP push PDU, as ofono and Android deliver it.
    Wsp(Vec<u8>),
    /// A bare Package #0.
    Package0(Vec<u8>),
    /// SMS-DELIVER TPDUs (some or all parts of a concatenated WAP push).
    Sms {
        /// The TPDUs.
        pdus: Vec<Vec<u8>>,
        /// Whether each PDU starts with the SMSC address (Android's `pdus`).
        smsc_included: bool,
    },
}

/// Hands a push to the daemon: decodes it, verifies it, and acts on the
/// verdict (alert event, resync session, or drop). Errors are for input that
/// is not a DM notification at all (`bad_push`, `push_refused`) or a store
/// failure; every verdict on a real notification is an `Ok` outcome.
pub fn handle_push(shared: &Arc<Shared>, input: PushInput) -> Result<PushResult, WireError> {
    Stats::bump(&shared.stats.pushes);
    let package0 = match extract(shared, input) {
        Ok(Some(p)) => p,
        Ok(None) => return Ok(outcome(PushOutcome::FragmentPending, None, None)),
        Err(e) => {
            let code = match e {
                IntakeError::Refused(_) => ErrorCode::PushRefused,
                _ => ErrorCode::BadPush,
            };
            return Err(refuse(shared, code, e.to_string(), None));
        }
    };
    let pkg = Package0::decode(&package0).map_err(|e| {
        refuse(
            shared,
            ErrorCode::BadPush,
            format!("not a Package #0: {e}"),
            None,
        )
    })?;
    decide(shared, &pkg, &package0)
}

/// The closure the ofono agent calls with each PDU: a short outcome name
/// for its log line.
pub fn wsp_intake(shared: Arc<Shared>) -> impl Fn(&[u8]) -> String + Send + Sync + 'static {
    move |pdu: &[u8]| match handle_push(&shared, PushInput::Wsp(pdu.to_vec())) {
        Ok(r) => outcome_name(r.outcome).to_string(),
        Err(e) => e.code.as_str().to_string(),
    }
}

/// The wire name of an outcome (for logs).
pub fn outcome_name(o: PushOutcome) -> &'static str {
    o.as_str()
}

fn extract(shared: &Shared, input: PushInput) -> Result<Option<Vec<u8>>, IntakeError> {
    match input {
        PushInput::Auto(b) => package0_from_any(&b).map(Some),
        PushInput::Wsp(b) => package0_from_wsp(&b).map(Some),
        PushInput::Package0(b) => Ok(Some(b)),
        PushInput::Sms {
            pdus,
            smsc_included,
        } => {
            let smsc = if smsc_included {
                SmscField::Included
            } else {
                SmscField::Absent
            };
            let mut sms = lock(&shared.sms);
            let t = shared.monotonic();
            for gone in sms.expire(t) {
                log::info!("sms: incomplete push dropped after the reassembly timeout ({gone:?})");
            }
            let mut complete = None;
            for pdu in &pdus {
                if let SmsIntake::Package0 { package0, .. } = sms.take_sms(pdu, smsc, t)? {
                    complete = Some(package0);
                }
            }
            Ok(complete)
        }
    }
}

fn refuse(
    shared: &Shared,
    code: ErrorCode,
    reason: String,
    server_id: Option<String>,
) -> WireError {
    Stats::bump(&shared.stats.refused);
    log::info!("push refused: {}", peer(&reason));
    shared.events.publish(Event::PushRejected {
        server_id,
        reason: reason.clone(),
    });
    WireError::new(code, reason)
}

/// The non-secret fields of a notification, for the wire.
pub fn notification_info(pkg: &Package0) -> NotificationInfo {
    let n = &pkg.notification;
    NotificationInfo {
        version: n.version,
        ui_mode: n.ui_mode.bits(),
        initiator: n.initiator.bit(),
        session_id: n.session_id,
        server_id: n.server_id.clone(),
        vendor_hex: hex_lower(&n.vendor),
    }
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The wire name of a verdict.
pub fn verdict_name(v: Verdict) -> VerdictName {
    match v {
        Verdict::Stored { .. } => VerdictName::StoredNonce,
        Verdict::Default(dmnonce_proto::DefaultNonce::Text) => VerdictName::DefaultNonceText,
        Verdict::Default(dmnonce_proto::DefaultNonce::Zero) => VerdictName::DefaultNonceZero,
        Verdict::Rejected => VerdictName::Rejected,
    }
}

fn outcome(
    o: PushOutcome,
    verdict: Option<VerdictName>,
    notification: Option<NotificationInfo>,
) -> PushResult {
    PushResult {
        outcome: o,
        verdict,
        notification,
    }
}

fn decide(shared: &Arc<Shared>, pkg: &Package0, raw: &[u8]) -> Result<PushResult, WireError> {
    let info = notification_info(pkg);
    let server_id = info.server_id.clone();
    let shown = peer(&info.server_id);
    let account = match shared.store.account(&server_id) {
        Ok(a) => a,
        Err(StoreError::UnknownAccount(_)) => {
            Stats::bump(&shared.stats.refused);
            log::info!("push for unknown server id {shown} dropped");
            shared.events.publish(Event::PushRejected {
                server_id: Some(server_id),
                reason: "unknown account".into(),
            });
            return Ok(outcome(PushOutcome::UnknownAccount, None, Some(info)));
        }
        Err(e) => return Err(store_error(e)),
    };
    let allow = account.policy == Policy::Allow;
    let checked = verify_for_account(shared, pkg, allow).map_err(store_error)?;
    let name = verdict_name(checked.verdict);
    let t = now();
    match checked.verdict {
        Verdict::Stored { index } => {
            // The server used this nonce and secret: newer current ones are
            // confirmed (two-phase rotation), older previous ones retired.
            confirm_secret(shared, &server_id, checked.secret, t);
            if let Some(c) = checked.nonces.get(index) {
                if let Err(e) = shared
                    .store
                    .confirm_server_nonce_used(&server_id, &c.nonce, t)
                {
                    log::warn!("{shown}: could not record the nonce confirmation: {e}");
                }
            }
            if account.state == dmnonce_store::SyncState::NeedsResync {
                // The server signed with our stored nonce: we are in step.
                let _ = shared
                    .store
                    .set_state(&server_id, dmnonce_store::SyncState::InSync, t);
            }
            Stats::bump(&shared.stats.alerts);
            log::info!(
                "{shown}: Package #0 session {} verified with the stored nonce; alert",
                info.session_id
            );
            if shared.events.listeners_for(EventKind::Alert) == 0 {
                crate::alerts::hold(shared, &server_id, raw, t);
            } else {
                shared.events.publish(Event::Alert {
                    notification: info.clone(),
                    verdict: name,
                });
            }
            Ok(outcome(PushOutcome::Alert, Some(name), Some(info)))
        }
        Verdict::Rejected if !allow => {
            let _ = shared.store.append_audit(
                Some(&server_id),
                AuditEvent::FallbackDenied,
                "stored nonces failed; policy deny, default nonce not tried",
                t,
            );
            Stats::bump(&shared.stats.rejected);
            log::warn!("{shown}: Package #0 failed with the stored nonces; policy is deny");
            reject_event(shared, &server_id, "policy deny: stored nonces failed");
            Ok(outcome(PushOutcome::PolicyDenied, Some(name), Some(info)))
        }
        Verdict::Rejected => {
            Stats::bump(&shared.stats.rejected);
            log::warn!(
                "{shown}: Package #0 session {} failed with every nonce; dropped",
                info.session_id
            );
            reject_event(shared, &server_id, "digest failed with every nonce");
            Ok(outcome(PushOutcome::Rejected, Some(name), Some(info)))
        }
        Verdict::Default(reading) => {
            let signed = Signed {
                reading,
                secret: checked.secret,
            };
            fallback(shared, pkg, raw, signed, name, info, t)
        }
    }
}

/// Starts a resync session, or, with `http.max_sessions` running already,
/// lets it wait for the next free slot (its work item is pending in the
/// store either way). The caller holds the account's session claim.
pub(crate) fn start_resync(shared: &Arc<Shared>, job: crate::resync::Job) {
    let sid = job.server_id.clone();
    match shared.admit_session(job) {
        Some(job) => crate::resync::spawn(shared.clone(), job),
        None => log::info!(
            "{}: resync session waits for a free slot ({} running, {} waiting)",
            peer(&sid),
            shared.config.http.max_sessions,
            shared.sessions_waiting()
        ),
    }
}

/// A resync session's thread ended, or could not start: the next waiting
/// session, if any, gets its slot.
pub(crate) fn resync_ended(shared: &Arc<Shared>) {
    if let Some(job) = shared.session_ended() {
        log::info!(
            "{}: resync session starts in a freed slot",
            peer(&job.server_id)
        );
        crate::resync::spawn(shared.clone(), job);
    }
}

fn reject_event(shared: &Shared, server_id: &str, reason: &str) {
    shared.events.publish(Event::PushRejected {
        server_id: Some(server_id.to_string()),
        reason: reason.to_string(),
    });
}

/// How a default-nonce Package #0 verified.
struct Signed {
    reading: dmnonce_proto::DefaultNonce,
    secret: dmnonce_store::SecretSlot,
}

fn fallback(
    shared: &Arc<Shared>,
    pkg: &Package0,
    raw: &[u8],
    signed: Signed,
    name: VerdictName,
    info: NotificationInfo,
    t: dmnonce_store::UnixTime,
) -> Result<PushResult, WireError> {
    let server_id = info.server_id.clone();
    let shown = peer(&server_id);
    if !shared.claim_session(&server_id) {
        log::info!("{shown}: default-nonce Package #0 while a resync runs; dropped");
        return Ok(outcome(PushOutcome::Busy, Some(name), Some(info)));
    }
    let verdict = shared.store.check_and_record_default_nonce_notification(
        &server_id,
        &DefaultNonceNotification {
            digest: pkg.digest,
            session_id: info.session_id,
            package0: raw,
        },
        t,
    );
    let result = match verdict {
        Ok(FallbackVerdict::Fresh { pending }) => {
            Stats::bump(&shared.stats.fallbacks);
            confirm_secret(shared, &server_id, signed.secret, t);
            let reading = signed.reading;
            log::warn!(
                "{shown}: Package #0 session {} verified only with the default nonce ({}); \
                 starting the resync session",
                info.session_id,
                reading.as_str()
            );
            start_resync(
                shared,
                crate::resync::Job {
                    server_id: server_id.clone(),
                    pending,
                    session_id: info.session_id,
                    reading,
                    server_secret: signed.secret,
                },
            );
            return Ok(outcome(PushOutcome::ResyncStarted, Some(name), Some(info)));
        }
        Ok(FallbackVerdict::Replay) => {
            Stats::bump(&shared.stats.replays);
            log::warn!("{shown}: default-nonce Package #0 replayed; dropped");
            reject_event(shared, &server_id, "replayed default-nonce notification");
            Ok(outcome(PushOutcome::Replay, Some(name), Some(info)))
        }
        Ok(FallbackVerdict::RateLimited { retry_after }) => {
            Stats::bump(&shared.stats.rejected);
            log::warn!(
                "{shown}: default-nonce fallback rate limit reached (retry after {}); dropped",
                retry_after.secs()
            );
            reject_event(shared, &server_id, "default-nonce fallback rate limited");
            Ok(outcome(PushOutcome::RateLimited, Some(name), Some(info)))
        }
        Ok(FallbackVerdict::PolicyDenied) => {
            Stats::bump(&shared.stats.rejected);
            reject_event(shared, &server_id, "policy deny");
            Ok(outcome(PushOutcome::PolicyDenied, Some(name), Some(info)))
        }
        Err(e) => Err(store_error(e)),
    };
    shared.release_session(&server_id);
    result
}
