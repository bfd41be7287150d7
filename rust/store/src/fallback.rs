//! Bounds on the change request's default-nonce fallback (§5.1): the
//! account's policy, a replay cache of accepted notifications, and a rate
//! limit on accepted fallbacks per account. The default nonce is public, so
//! a captured default-nonce Package #0 stays valid until the server secret
//! changes: these bounds are what stop it being used twice or in bulk.

use rusqlite::{params, OptionalExtension};

use crate::accounts::{account_id, set_state_in};
use crate::pending::{insert_pending, PendingId, PendingKind};
use crate::{AuditEvent, FallbackLimit, Policy, Result, Store, StoreError, SyncState, UnixTime};

/// A Package #0 that failed with the stored server nonces and verified with
/// the default nonce.
#[derive(Debug, Clone, Copy)]
pub struct DefaultNonceNotification<'a> {
    /// Its digest (first 16 bytes of Package #0): the replay-cache key. Not
    /// secret — it travels in clear — so the cache lookup is plain SQL.
    pub digest: [u8; 16],
    /// Its session id (kept for the audit trail and the resync session).
    pub session_id: u16,
    /// The whole Package #0, stored as the pending resync session's payload
    /// so that a restart does not lose the alert.
    pub package0: &'a [u8],
    /// Which default-nonce reading verified it (`text` or `zero`), named
    /// in its audit entry so that a trace can say which one matched.
    pub reading: &'a str,
}

/// Decision of [`Store::check_and_record_default_nonce_notification`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallbackVerdict {
    /// Accepted: recorded in the replay cache, the account is `resyncing`,
    /// and a pending `resync-session` work item holds the Package #0.
    Fresh {
        /// The pending work item to complete when the session ends.
        pending: PendingId,
    },
    /// The same notification (same digest) was accepted before.
    Replay,
    /// Too many fallbacks accepted recently for this account.
    RateLimited {
        /// When the oldest counted fallback leaves the window.
        retry_after: UnixTime,
    },
    /// The account's policy is `deny`.
    PolicyDenied,
}

impl Store {
    /// Sets the fallback rate limit (applies to every account, counted per
    /// account). Held in memory; the daemon sets it from its configuration.
    pub fn set_fallback_limit(&self, limit: FallbackLimit) {
        *self
            .fallback_limit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = limit;
    }

    /// The fallback rate limit in force.
    pub fn fallback_limit(&self) -> FallbackLimit {
        *self
            .fallback_limit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Decides whether a default-nonce Package #0 may start a resync, and
    /// records the decision — all in one transaction, so two copies arriving
    /// at once cannot both pass. Checks, in order: policy, replay cache,
    /// rate limit. Every outcome writes an audit event. On
    /// [`FallbackVerdict::Fresh`] the notification enters the replay cache,
    /// the account becomes `resyncing`, and a pending work item is created.
    pub fn check_and_record_default_nonce_notification(
        &self,
        server_id: &str,
        n: &DefaultNonceNotification<'_>,
        now: UnixTime,
    ) -> Result<FallbackVerdict> {
        let limit = self.fallback_limit();
        if n.package0.len() > crate::pending::MAX_PAYLOAD {
            return Err(StoreError::InvalidInput {
                field: "package0",
                reason: "too long",
            });
        }
        self.write(|tx| {
            let id = account_id(tx, server_id)?;
            let policy: String =
                tx.query_row("SELECT policy FROM accounts WHERE id = ?1", [id], |r| r.get(0))?;
            let audit = |event, detail: &str| {
                crate::audit::insert(tx, Some(server_id), event, detail, now)
            };
            if Policy::from_column(&policy)? == Policy::Deny {
                audit(
                    AuditEvent::FallbackDenied,
                    &format!(
                        "policy deny; session id {}; default nonce {}",
                        n.session_id, n.reading
                    ),
                )?;
                return Ok(FallbackVerdict::PolicyDenied);
            }
            let seen: Option<i64> = tx
                .query_row(
                    "SELECT accepted_at FROM default_nonce_notifications
                     WHERE account_id = ?1 AND digest = ?2",
                    params![id, &n.digest[..]],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(first) = seen {
                audit(
                    AuditEvent::ReplayRejected,
                    &format!(
                        "session id {}, first accepted at {first}; default nonce {}",
                        n.session_id, n.reading
                    ),
                )?;
                return Ok(FallbackVerdict::Replay);
            }
            let window_start = now.0.saturating_sub(limit.window_secs);
            let (count, oldest): (i64, Option<i64>) = tx.query_row(
                "SELECT count(*), min(accepted_at) FROM default_nonce_notifications
                 WHERE account_id = ?1 AND accepted_at > ?2",
                params![id, window_start],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if count >= i64::from(limit.max_accepted) {
                let retry_after =
                    UnixTime(oldest.unwrap_or(now.0).saturating_add(limit.window_secs));
                audit(
                    AuditEvent::FallbackRateLimited,
                    &format!(
                        "{count} accepted in the last {} s (limit {}); session id {}; default nonce {}",
                        limit.window_secs, limit.max_accepted, n.session_id, n.reading
                    ),
                )?;
                return Ok(FallbackVerdict::RateLimited { retry_after });
            }
            tx.execute(
                "INSERT INTO default_nonce_notifications (account_id, digest, session_id, accepted_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![id, &n.digest[..], n.session_id, now.0],
            )?;
            audit(
                AuditEvent::FallbackUsed,
                &format!("session id {}; default nonce {}", n.session_id, n.reading),
            )?;
            set_state_in(tx, server_id, SyncState::Resyncing, now)?;
            let pending = insert_pending(tx, id, PendingKind::ResyncSession, n.package0, now)?;
            Ok(FallbackVerdict::Fresh { pending })
        })
    }
}
