//! Push intake: every way a notification reaches the daemon (the control
//! socket's `push`, the ofono agent, SMS PDUs) ends in [`handle_push`].
//!
//! Here the carriers are unwrapped, the facts of a push gathered (one read
//! of its account) and the decision of [`crate::decision`] carried out: an
//! `alert` for the DM client, or a resync session once the store admitted
//! the default-nonce push (replay cache, rate limit, policy, all in one
//! transaction). [`crate::report`] counts, logs and announces it.

use std::sync::Arc;

use dmnonce_control::{
    ErrorCode, Event, EventKind, NotificationInfo, PushOutcome, PushResult, VerdictName, WireError,
};
use dmnonce_proto::{Package0, Verdict};
use dmnonce_push::sms::SmscField;
use dmnonce_push::{package0_from_any, package0_from_wsp, IntakeError, SmsIntake};
use dmnonce_store::{DefaultNonceNotification, FallbackVerdict, StoreError, SyncState, UnixTime};

use crate::decision::{decide, AccountFacts, Admission, Decision, Dropped, Facts};
use crate::logging::peer;
use crate::shared::{lock, now, store_error, Shared, Stats};
pub use crate::verification::verify_for_account;
use crate::verification::{confirm_seen, verify_with_view};
use crate::vocabulary::Translate;

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
    act(shared, &pkg, &package0)
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

/// Gathers the facts of one push (one store read), decides, and carries
/// the decision out; [`crate::report`] tells about it.
fn act(shared: &Arc<Shared>, pkg: &Package0, raw: &[u8]) -> Result<PushResult, WireError> {
    let info = crate::vocabulary::notification_info(pkg);
    let view = match shared.store.account_view(&info.server_id) {
        Ok(v) => Some(v),
        Err(StoreError::UnknownAccount(_)) => None,
        Err(e) => return Err(store_error(e)),
    };
    let checked = view.as_ref().map(|v| verify_with_view(shared, pkg, v));
    let mut facts = Facts {
        account: view.as_ref().map(|v| AccountFacts {
            policy: v.account.policy,
            state: v.account.state,
        }),
        verdict: checked.as_ref().map_or(Verdict::Rejected, |c| c.verdict),
        admission: Admission::NotAsked,
    };
    let t = now();
    let mut claim = None;
    let decision = loop {
        match decide(&facts) {
            Decision::Admit => {
                claim = shared.sessions.claim(&info.server_id);
                facts.admission = match &claim {
                    None => Admission::Busy,
                    Some(_) => Admission::Store(admit(shared, pkg, raw, facts.verdict, t)?),
                };
            }
            final_decision => break final_decision,
        }
    };
    crate::report::decided(shared, &info, &decision, t);
    let verdict = facts.account.map(|_| facts.verdict.translate());
    let result = |o| Ok(outcome(o, verdict, Some(info.clone())));
    let (Some(checked), Some(view)) = (checked, view) else {
        return result(PushOutcome::UnknownAccount);
    };
    let server_id = &view.account.server_id;
    // Default-nonce verdicts are audited by the store's admission and a
    // policy refusal by `report`; the others are audited here.
    let audited = match decision {
        Decision::Alert { .. } => Some(PushOutcome::Alert),
        Decision::Drop(d @ (Dropped::Rejected | Dropped::Busy)) => Some(d.outcome()),
        _ => None,
    };
    if let Some(outcome) = audited {
        crate::trail::notification(shared, server_id, info.session_id, &checked, outcome, t);
    }
    match decision {
        Decision::Alert { mark_in_sync } => {
            // The server used this nonce and secret: newer current ones
            // are confirmed (two-phase rotation), older previous ones
            // retired.
            let nonce = match checked.verdict {
                Verdict::Stored { index } => checked.nonces.get(index).map(|c| &c.nonce),
                _ => None,
            };
            confirm_seen(shared, server_id, checked.secret, nonce, t);
            if mark_in_sync {
                if let Err(e) = shared.store.set_state(server_id, SyncState::InSync, t) {
                    shared.store_failed("the state in-sync after a stored-nonce push", &e);
                }
            }
            deliver_alert(shared, &info, checked.verdict.translate(), raw, t);
            result(PushOutcome::Alert)
        }
        Decision::StartResync { pending, reading } => {
            let Some(claim) = claim else {
                // decide() admits only after a claim was taken.
                return Err(WireError::new(
                    ErrorCode::Internal,
                    "admitted without a claim",
                ));
            };
            confirm_seen(shared, server_id, checked.secret, None, t);
            crate::resync::start(
                shared,
                crate::sessions::Job::new(claim, pending, info.session_id, reading, checked.secret),
            );
            result(PushOutcome::ResyncStarted)
        }
        Decision::Drop(why) => result(why.outcome()),
        // The loop above decides again on Admit.
        Decision::Admit => Err(WireError::new(ErrorCode::Internal, "undecided push")),
    }
}

/// The store's admission of a default-nonce push (replay cache, rate
/// limit, policy, and the pending work item, in one transaction).
fn admit(
    shared: &Shared,
    pkg: &Package0,
    raw: &[u8],
    verdict: Verdict,
    t: UnixTime,
) -> Result<FallbackVerdict, WireError> {
    let Verdict::Default(reading) = verdict else {
        return Err(WireError::new(
            ErrorCode::Internal,
            "admission asked without a default-nonce verdict",
        ));
    };
    shared
        .store
        .check_and_record_default_nonce_notification(
            &pkg.notification.server_id,
            &DefaultNonceNotification {
                digest: pkg.digest,
                session_id: pkg.notification.session_id,
                package0: raw,
                reading: reading.as_str(),
            },
            t,
        )
        .map_err(store_error)
}

/// To the subscribers of `alert` events, or, with none, kept in the store
/// for the next one.
fn deliver_alert(
    shared: &Shared,
    info: &NotificationInfo,
    verdict: VerdictName,
    raw: &[u8],
    t: UnixTime,
) {
    if shared.events.listeners_for(EventKind::Alert) == 0 {
        crate::alerts::hold(shared, &info.server_id, raw, t);
    } else {
        shared.events.publish(Event::Alert {
            notification: info.clone(),
            verdict,
        });
    }
}
