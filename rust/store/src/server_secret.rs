//! Two-phase rotation of the server→device AuthSecret.
//!
//! The server may replace the AuthSecret it signs with (change request step
//! 6: a `Replace` of `SRVCRED/AAuthSecret` in Pkg#4). The device commits the
//! new secret before its answer (Pkg#5) leaves, but the server takes the new
//! secret into use only when that answer arrives. If it never does — the
//! link drops, the daemon is killed in between — the server keeps signing
//! with the old secret. A device that held only the new one would then
//! reject every Package #0, the default-nonce one too (the digest covers the
//! secret), and the change request's repair could never run.
//!
//! So, exactly like the server nonce: the replaced secret stays as
//! *previous*; Package #0 and server credentials are verified with the
//! current secret, then the previous one; the previous one is retired when
//! the server is seen authenticating with the current one.

use rusqlite::{params, Connection};

use crate::{AccountSecrets, AuditEvent, AuthSecret, Result, Store, UnixTime};

/// Which stored server AuthSecret something was verified with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecretSlot {
    /// The newest secret (the provisioned one, or the last one the server
    /// handed over).
    #[default]
    Current,
    /// The secret before the last rotation, kept until the server is seen
    /// using the current one.
    Previous,
}

impl SecretSlot {
    /// Stable text form (logs, audit).
    pub fn as_str(self) -> &'static str {
        match self {
            SecretSlot::Current => "current",
            SecretSlot::Previous => "previous",
        }
    }
}

/// A server AuthSecret to try, in order (current first).
#[derive(Debug, Clone)]
pub struct ServerSecretCandidate {
    /// Where it is stored.
    pub slot: SecretSlot,
    /// The secret.
    pub secret: AuthSecret,
}

impl AccountSecrets {
    /// The server secrets to verify with: current, then previous.
    pub fn server_secret_candidates(&self) -> Vec<ServerSecretCandidate> {
        let mut out = vec![ServerSecretCandidate {
            slot: SecretSlot::Current,
            secret: self.server_secret.clone(),
        }];
        if let Some(p) = &self.server_secret_previous {
            out.push(ServerSecretCandidate {
                slot: SecretSlot::Previous,
                secret: p.clone(),
            });
        }
        out
    }

    /// The secret in `slot` (`None` when no previous one is kept).
    pub fn server_secret_in(&self, slot: SecretSlot) -> Option<&AuthSecret> {
        match slot {
            SecretSlot::Current => Some(&self.server_secret),
            SecretSlot::Previous => self.server_secret_previous.as_ref(),
        }
    }
}

/// Result of [`Store::confirm_server_secret_used`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretConfirmation {
    /// The server used the current secret; the previous one was retired.
    RetiredPrevious,
    /// Nothing to do: no previous secret was kept, or the server used the
    /// previous one (it has not taken the new one into use; both stay).
    Unchanged,
}

/// Installs `new` as the current secret and keeps `kept` (the secret the
/// server authenticated with in the session that rotated it) as previous.
/// The replay cache is kept: digests made with `kept` still verify, so a
/// captured default-nonce notification must stay refused.
pub(crate) fn rotate_in(
    conn: &Connection,
    account: i64,
    new: &AuthSecret,
    kept: &AuthSecret,
    now: UnixTime,
) -> Result<()> {
    conn.execute(
        "UPDATE accounts SET server_secret = ?1, server_secret_previous = ?2, updated_at = ?3
         WHERE id = ?4",
        params![new.expose(), kept.expose(), now.0, account],
    )?;
    Ok(())
}

/// The audit detail of a previous server secret retired because the server
/// used the current one.
pub(crate) const RETIRED_BY_USE: &str = "server uses the new server secret; previous one retired";

impl Store {
    /// The server was seen authenticating (Package #0 digest, `Cred`, HMAC)
    /// with the secret in `slot`. With the current one, the previous one is
    /// retired (one transaction, audited).
    pub fn confirm_server_secret_used(
        &self,
        server_id: &str,
        slot: SecretSlot,
        now: UnixTime,
    ) -> Result<SecretConfirmation> {
        self.confirm_server_seen(server_id, slot, None, now)
            .map(|(secret, _)| secret)
    }
}

/// Drops the previous server secret, if one is kept, and audits it in the
/// caller's transaction (the change and its record commit together).
pub(crate) fn retire_previous_in(
    conn: &Connection,
    account: i64,
    server_id: &str,
    detail: &str,
    now: UnixTime,
) -> Result<SecretConfirmation> {
    let n = conn.execute(
        "UPDATE accounts SET server_secret_previous = NULL, updated_at = ?1
         WHERE id = ?2 AND server_secret_previous IS NOT NULL",
        params![now.0, account],
    )?;
    if n == 0 {
        return Ok(SecretConfirmation::Unchanged);
    }
    crate::audit::insert(
        conn,
        Some(server_id),
        AuditEvent::SecretConfirmed,
        detail,
        now,
    )?;
    Ok(SecretConfirmation::RetiredPrevious)
}
