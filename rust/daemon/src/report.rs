//! What the daemon tells about a push it has decided: the counter, one log
//! line, the `push-rejected` event of a drop, and the audit entry of a
//! policy refusal (the store audits its own admissions). Nothing here
//! changes what happens to the push; `intake` does that.

use dmnonce_control::{Event, NotificationInfo};
use dmnonce_store::{AuditEvent, UnixTime};

use crate::decision::{Decision, Dropped};
use crate::logging::peer;
use crate::shared::{Shared, Stats};

/// Reports `decision` on the notification `info`.
pub(crate) fn decided(shared: &Shared, info: &NotificationInfo, decision: &Decision, t: UnixTime) {
    let shown = peer(&info.server_id);
    let session = info.session_id;
    let stats = &shared.stats;
    match *decision {
        Decision::Alert { .. } => {
            Stats::bump(&stats.alerts);
            log::info!(
                "{shown}: Package #0 session {session} verified with the stored nonce; alert"
            );
        }
        Decision::StartResync { reading, .. } => {
            Stats::bump(&stats.fallbacks);
            log::warn!(
                "{shown}: Package #0 session {session} verified only with the default nonce \
                 ({}); starting the resync session",
                reading.as_str()
            );
        }
        // Not a final decision: intake asks again with the admission.
        Decision::Admit => {}
        Decision::Drop(why) => dropped(shared, info, why, t),
    }
}

fn dropped(shared: &Shared, info: &NotificationInfo, why: Dropped, t: UnixTime) {
    let shown = peer(&info.server_id);
    let session = info.session_id;
    let stats = &shared.stats;
    let reason = match why {
        Dropped::UnknownAccount => {
            Stats::bump(&stats.refused);
            log::info!("push for unknown server id {shown} dropped");
            "unknown account"
        }
        Dropped::Rejected => {
            Stats::bump(&stats.rejected);
            log::warn!("{shown}: Package #0 session {session} failed with every nonce; dropped");
            "digest failed with every nonce"
        }
        Dropped::PolicyDenied => {
            Stats::bump(&stats.rejected);
            log::warn!("{shown}: Package #0 failed with the stored nonces; policy is deny");
            if let Err(e) = shared.store.append_audit(
                Some(&info.server_id),
                AuditEvent::FallbackDenied,
                "stored nonces failed; policy deny, default nonce not tried",
                t,
            ) {
                shared.store_failed("the audit entry of a policy refusal", &e);
            }
            "policy deny: stored nonces failed"
        }
        Dropped::PolicyDeniedAtAdmission => {
            Stats::bump(&stats.rejected);
            log::warn!("{shown}: default-nonce Package #0 refused: policy is deny");
            "policy deny"
        }
        Dropped::Busy => {
            // Not an attack and not an error: the running session gives
            // the account fresh nonces anyway.
            log::info!("{shown}: default-nonce Package #0 while a resync runs; dropped");
            return;
        }
        Dropped::Replay => {
            Stats::bump(&stats.replays);
            log::warn!("{shown}: default-nonce Package #0 replayed; dropped");
            "replayed default-nonce notification"
        }
        Dropped::RateLimited { retry_after } => {
            Stats::bump(&stats.rejected);
            log::warn!(
                "{shown}: default-nonce fallback rate limit reached (retry after {}); dropped",
                retry_after.secs()
            );
            "default-nonce fallback rate limited"
        }
    };
    shared.events.publish(Event::PushRejected {
        server_id: Some(info.server_id.clone()),
        reason: reason.to_owned(),
    });
}
