//! Nonces: the client nonce, and the server nonce with two-phase rotation.
//!
//! Two-phase rotation: issuing a new server nonce (in a `Chal`) keeps the one
//! it replaces as *previous*, because the message carrying the `Chal` may
//! never reach the server. Verification tries current, then previous. When
//! the server is seen authenticating with the current nonce, the previous one
//! is retired. Every change rewrites the account's single nonce row in one
//! transaction and bumps its `generation`.

use rusqlite::{params, Connection};

use crate::accounts::account_id;
use crate::accounts::{set_state_because, set_state_in};
use crate::{
    AuditEvent, AuthSecret, Nonce, PendingId, Result, SecretConfirmation, SecretSlot, Store,
    StoreError, SyncState, UnixTime,
};

/// The nonces of one account, for in-process use by the daemon only.
#[derive(Debug, Clone)]
pub struct NonceSet {
    /// Nonce the device uses in its credentials (from the server's `Chal`).
    pub client: Option<Nonce>,
    /// Server nonce most recently issued by the device.
    pub server_current: Option<Nonce>,
    /// Server nonce before that, still accepted until the server is seen
    /// using `server_current`.
    pub server_previous: Option<Nonce>,
    /// Number of nonce changes since the account was created.
    pub generation: u64,
    /// When the nonces last changed.
    pub updated_at: UnixTime,
}

/// Which stored server nonce a candidate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerNonceSlot {
    /// The most recently issued one.
    Current,
    /// The one before, kept until the current one is confirmed.
    Previous,
}

impl NonceSet {
    /// Server nonces to try, in order: current, then previous.
    pub fn server_nonce_candidates(&self) -> Vec<ServerNonceCandidate> {
        let current = self
            .server_current
            .clone()
            .map(|nonce| ServerNonceCandidate {
                slot: ServerNonceSlot::Current,
                nonce,
            });
        let previous = self
            .server_previous
            .clone()
            .map(|nonce| ServerNonceCandidate {
                slot: ServerNonceSlot::Previous,
                nonce,
            });
        current.into_iter().chain(previous).collect()
    }
}

/// A server nonce to try when verifying Package #0 or server credentials.
#[derive(Debug, Clone)]
pub struct ServerNonceCandidate {
    /// Where it is stored.
    pub slot: ServerNonceSlot,
    /// The nonce.
    pub nonce: Nonce,
}

/// Result of [`Store::confirm_server_nonce_used`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// The nonce was the current one; the previous one was retired.
    RetiredPrevious,
    /// The nonce was the current one and no previous one was left.
    AlreadyConfirmed,
    /// The nonce is not the current one (the server still uses the previous
    /// nonce, or a newer one was issued meanwhile); nothing changed.
    NotCurrent,
}

/// What one step of a resync session (its commit before a message, its
/// end, or its failure) changes, committed in one transaction by
/// [`Store::commit_resync`] / [`Store::commit_resync_seen`]. A step's
/// values only: a value committed by an earlier step is already stored,
/// and committing a rotation again would keep the new secret as previous.
#[derive(Debug, Clone)]
pub struct ResyncCommit {
    /// New client nonce (from the server's `Chal` in Pkg#2).
    pub client_nonce: Option<Nonce>,
    /// New server nonce (issued in our `Chal` in Pkg#3). It becomes current
    /// and the previous nonce is dropped: the stale nonce is what broke sync.
    pub server_nonce: Option<Nonce>,
    /// New server→device AuthSecret (change request step 6, if the server
    /// replaced it). It becomes current; the secret in
    /// `server_secret_used` is kept as previous until the server is seen
    /// using the new one (see [`crate::SecretSlot`]).
    pub server_secret: Option<AuthSecret>,
    /// The stored secret the server authenticated with in this session.
    /// With a new `server_secret` it is the one kept as previous (the other
    /// stored one, never used by the server in the session, is dropped).
    pub server_secret_used: SecretSlot,
    /// State afterwards: `in-sync` on success, `needs-resync` on failure.
    pub state: SyncState,
    /// Pending work item to complete in the same transaction (ignored if it
    /// is already gone, so a stale id can never cost the new nonces).
    pub complete_pending: Option<PendingId>,
}

fn nonce_col(v: Option<Vec<u8>>, column: &'static str) -> Result<Option<Nonce>> {
    v.map(|b| Nonce::new(b).map_err(|_| StoreError::CorruptValue { column }))
        .transpose()
}

pub(crate) fn read_row(conn: &Connection, account: i64) -> Result<NonceSet> {
    conn.prepare_cached(
        "SELECT client_nonce, server_current, server_previous, generation, updated_at
         FROM nonces WHERE account_id = ?1",
    )?
    .query_row([account], |r| {
        Ok((|| -> Result<NonceSet> {
            Ok(NonceSet {
                client: nonce_col(r.get(0)?, "client_nonce")?,
                server_current: nonce_col(r.get(1)?, "server_current")?,
                server_previous: nonce_col(r.get(2)?, "server_previous")?,
                generation: u64::try_from(r.get::<_, i64>(3)?).map_err(|_| {
                    StoreError::CorruptValue {
                        column: "generation",
                    }
                })?,
                updated_at: UnixTime(r.get(4)?),
            })
        })())
    })?
}

fn write_row(
    conn: &Connection,
    account: i64,
    client: Option<&Nonce>,
    current: Option<&Nonce>,
    previous: Option<&Nonce>,
    now: UnixTime,
) -> Result<()> {
    // Cached: every rotation and resync step runs it, and parsing it again
    // each time cost about a third of an unencrypted rotation's instructions.
    conn.prepare_cached(
        "UPDATE nonces SET client_nonce = ?1, server_current = ?2, server_previous = ?3,
                           generation = generation + 1, updated_at = ?4
         WHERE account_id = ?5",
    )?
    .execute(params![
        client.map(Nonce::expose),
        current.map(Nonce::expose),
        previous.map(Nonce::expose),
        now.0,
        account
    ])?;
    Ok(())
}

/// The stored server secret in `slot`; a missing previous one is corrupt
/// input from the caller's point of view (it verified with it).
fn read_server_secret(conn: &Connection, account: i64, slot: SecretSlot) -> Result<AuthSecret> {
    let column = match slot {
        SecretSlot::Current => "server_secret",
        SecretSlot::Previous => "server_secret_previous",
    };
    let bytes: Option<Vec<u8>> = conn.query_row(
        &format!("SELECT {column} FROM accounts WHERE id = ?1"),
        [account],
        |r| r.get(0),
    )?;
    let bytes = bytes.ok_or(StoreError::InvalidInput {
        field: "server_secret_used",
        reason: "no previous server secret is stored",
    })?;
    AuthSecret::new(bytes).map_err(|_| StoreError::CorruptValue { column })
}

impl Store {
    /// All nonces of an account. In-process use only: the daemon computes
    /// digests with them and never sends them out.
    pub fn nonces(&self, server_id: &str) -> Result<NonceSet> {
        self.read(|tx| read_row(tx, account_id(tx, server_id)?))
    }

    /// Server nonces to try, in order: current, then previous. Empty when
    /// none is stored (then only the default nonce remains, if the policy
    /// allows it).
    pub fn server_nonce_candidates(&self, server_id: &str) -> Result<Vec<ServerNonceCandidate>> {
        Ok(self.nonces(server_id)?.server_nonce_candidates())
    }

    /// Phase one of a rotation: `nonce` (just sent in a `Chal`) becomes the
    /// current server nonce and the old current one becomes previous (an
    /// older previous is dropped). One transaction.
    pub fn commit_new_server_nonce(
        &self,
        server_id: &str,
        nonce: &Nonce,
        now: UnixTime,
    ) -> Result<()> {
        self.write(|tx| {
            let id = account_id(tx, server_id)?;
            let set = read_row(tx, id)?;
            if set.server_current.as_ref().is_some_and(|c| c.ct_eq(nonce)) {
                return Err(StoreError::InvalidInput {
                    field: "server nonce",
                    reason: "equals the current server nonce; issue a fresh random nonce",
                });
            }
            write_row(
                tx,
                id,
                set.client.as_ref(),
                Some(nonce),
                set.server_current.as_ref(),
                now,
            )?;
            crate::audit::insert(
                tx,
                Some(server_id),
                AuditEvent::NonceRotated,
                &format!("generation {}", set.generation + 1),
                now,
            )
        })
    }

    /// Phase two: the server authenticated with `used`. If that is the
    /// current server nonce, the previous one is retired. Compares in
    /// constant time.
    pub fn confirm_server_nonce_used(
        &self,
        server_id: &str,
        used: &Nonce,
        now: UnixTime,
    ) -> Result<Confirmation> {
        self.write(|tx| {
            let id = account_id(tx, server_id)?;
            confirm_nonce_in(tx, id, server_id, used, now)
        })
    }

    /// The server was seen authenticating with the secret in `slot` and,
    /// where the message carried one, the server nonce `used`: both
    /// two-phase confirmations ([`Store::confirm_server_secret_used`],
    /// [`Store::confirm_server_nonce_used`]) in one transaction, so that a
    /// stored-nonce push costs one write transaction, not two.
    pub fn confirm_server_seen(
        &self,
        server_id: &str,
        slot: SecretSlot,
        used: Option<&Nonce>,
        now: UnixTime,
    ) -> Result<(SecretConfirmation, Option<Confirmation>)> {
        if slot == SecretSlot::Previous && used.is_none() {
            // Nothing to retire: no write transaction at all.
            return Ok((SecretConfirmation::Unchanged, None));
        }
        self.write(|tx| {
            let id = account_id(tx, server_id)?;
            let secret = match slot {
                SecretSlot::Previous => SecretConfirmation::Unchanged,
                SecretSlot::Current => crate::server_secret::retire_previous_in(
                    tx,
                    id,
                    server_id,
                    crate::server_secret::RETIRED_BY_USE,
                    now,
                )?,
            };
            let nonce = used
                .map(|n| confirm_nonce_in(tx, id, server_id, n, now))
                .transpose()?;
            Ok((secret, nonce))
        })
    }

    /// Stores a new client nonce (from the server's `Chal`). One transaction.
    pub fn set_client_nonce(&self, server_id: &str, nonce: &Nonce, now: UnixTime) -> Result<()> {
        self.write(|tx| {
            let id = account_id(tx, server_id)?;
            let set = read_row(tx, id)?;
            write_row(
                tx,
                id,
                Some(nonce),
                set.server_current.as_ref(),
                set.server_previous.as_ref(),
                now,
            )?;
            crate::audit::insert(
                tx,
                Some(server_id),
                AuditEvent::ClientNonceChanged,
                &format!("generation {}", set.generation + 1),
                now,
            )
        })
    }

    /// Commits the outcome of a resync session atomically: nonces, server
    /// secret, state, and the pending work item, all or nothing.
    pub fn commit_resync(&self, server_id: &str, c: &ResyncCommit, now: UnixTime) -> Result<()> {
        self.commit_resync_seen(server_id, c, None, None, now)
            .map(|_| ())
    }

    /// Ends a resync session that failed for good, in one transaction: its
    /// pending work item removed (ignored if already gone), the account
    /// `needs-resync`, and a `resync-failed` audit entry with `reason`
    /// (shown to operators: no secrets). The nonces stay as last committed.
    pub fn fail_resync(
        &self,
        server_id: &str,
        pending: PendingId,
        reason: &str,
        now: UnixTime,
    ) -> Result<()> {
        self.fail_resync_traced(server_id, pending, reason, &[], now)
    }

    /// [`Store::fail_resync`] with the session's messages not yet audited
    /// (`session-message` details), written first in the same transaction.
    pub fn fail_resync_traced(
        &self,
        server_id: &str,
        pending: PendingId,
        reason: &str,
        trail: &[String],
        now: UnixTime,
    ) -> Result<()> {
        self.write(|tx| {
            let id = account_id(tx, server_id)?;
            crate::audit::insert_all(tx, server_id, AuditEvent::SessionMessage, trail, now)?;
            tx.execute(
                "DELETE FROM pending_work WHERE id = ?1 AND account_id = ?2",
                params![pending.0, id],
            )?;
            set_state_because(tx, server_id, SyncState::NeedsResync, Some(reason), now)
        })
    }

    /// [`Store::commit_resync`] for one step of a session, together with
    /// what the server was seen using in it (the step's `confirmed` flags,
    /// resolved to the values the session committed), all in one
    /// transaction with their audit entries:
    ///
    /// - `seen_nonce`: the server authenticated with this server nonce; if
    ///   it is the current one (constant-time comparison), the previous one
    ///   is retired, as [`Store::confirm_server_nonce_used`] does;
    /// - `seen_secret`: the server authenticated with this server secret; if
    ///   it is the current one, the previous one is retired, as
    ///   [`Store::confirm_server_secret_used`] does (`RetiredPrevious` is
    ///   returned then, so the caller can update the provisioning mirror).
    ///
    /// A seen value that is not the current one changes nothing: the store
    /// moved on meanwhile (an operator's new secret), and retiring on its
    /// behalf would drop a value the server may still use.
    pub fn commit_resync_seen(
        &self,
        server_id: &str,
        c: &ResyncCommit,
        seen_nonce: Option<&Nonce>,
        seen_secret: Option<&AuthSecret>,
        now: UnixTime,
    ) -> Result<SecretConfirmation> {
        self.commit_resync_traced(server_id, c, seen_nonce, seen_secret, &[], now)
    }

    /// [`Store::commit_resync_seen`] with the session's messages up to this
    /// step (`session-message` details) audited first in the same
    /// transaction: the trace costs no durable write of its own.
    pub fn commit_resync_traced(
        &self,
        server_id: &str,
        c: &ResyncCommit,
        seen_nonce: Option<&Nonce>,
        seen_secret: Option<&AuthSecret>,
        trail: &[String],
        now: UnixTime,
    ) -> Result<SecretConfirmation> {
        self.write(|tx| {
            let id = account_id(tx, server_id)?;
            crate::audit::insert_all(tx, server_id, AuditEvent::SessionMessage, trail, now)?;
            let set = read_row(tx, id)?;
            let mut changed = Vec::new();
            if c.client_nonce.is_some() || c.server_nonce.is_some() {
                let client = c.client_nonce.as_ref().or(set.client.as_ref());
                let (current, previous) = match &c.server_nonce {
                    Some(n) => (Some(n), None),
                    None => (set.server_current.as_ref(), set.server_previous.as_ref()),
                };
                write_row(tx, id, client, current, previous, now)?;
                changed.push(format!("nonces (generation {})", set.generation + 1));
            }
            if let Some(secret) = &c.server_secret {
                let held = read_server_secret(tx, id, c.server_secret_used)?;
                crate::server_secret::rotate_in(tx, id, secret, &held, now)?;
                changed.push(format!(
                    "server secret (the {} one kept as previous)",
                    c.server_secret_used.as_str()
                ));
            }
            if let Some(p) = c.complete_pending {
                tx.execute(
                    "DELETE FROM pending_work WHERE id = ?1 AND account_id = ?2",
                    params![p.0, id],
                )?;
            }
            if !changed.is_empty() {
                crate::audit::insert(
                    tx,
                    Some(server_id),
                    AuditEvent::NonceRotated,
                    &format!("resync committed: {}", changed.join(", ")),
                    now,
                )?;
            }
            if let Some(n) = seen_nonce {
                confirm_nonce_in(tx, id, server_id, n, now)?;
            }
            let mut secret = SecretConfirmation::Unchanged;
            if let Some(s) = seen_secret {
                if read_server_secret(tx, id, SecretSlot::Current)?.ct_eq(s) {
                    secret = crate::server_secret::retire_previous_in(
                        tx,
                        id,
                        server_id,
                        "server signed the resync session with the new server secret; \
                         previous one retired",
                        now,
                    )?;
                }
            }
            set_state_in(tx, server_id, c.state, now)?;
            Ok(secret)
        })
    }
}

/// Phase two of a server-nonce rotation in the caller's transaction (see
/// [`Store::confirm_server_nonce_used`]); the retirement is a nonce change,
/// so it bumps the generation and is audited with it.
fn confirm_nonce_in(
    conn: &Connection,
    account: i64,
    server_id: &str,
    used: &Nonce,
    now: UnixTime,
) -> Result<Confirmation> {
    let set = read_row(conn, account)?;
    let Some(current) = set.server_current.as_ref().filter(|c| c.ct_eq(used)) else {
        return Ok(Confirmation::NotCurrent);
    };
    if set.server_previous.is_none() {
        return Ok(Confirmation::AlreadyConfirmed);
    }
    write_row(conn, account, set.client.as_ref(), Some(current), None, now)?;
    crate::audit::insert(
        conn,
        Some(server_id),
        AuditEvent::NonceConfirmed,
        &format!("generation {}", set.generation + 1),
        now,
    )?;
    Ok(Confirmation::RetiredPrevious)
}
