//! Pending work: an accepted alert whose session has not completed yet.
//! Stored so that a restart (or a crash) does not lose it.

use rusqlite::{params, Connection};

use crate::accounts::account_id;
use crate::{AuditEvent, Result, Store, StoreError, UnixTime};

/// Largest payload kept (a Package #0 is well under 1 KiB; SMS
/// concatenation bounds it far below this).
pub(crate) const MAX_PAYLOAD: usize = 64 * 1024;

/// Id of a pending work item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PendingId(pub i64);

/// What a pending item asks the daemon to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PendingKind {
    /// Run the default-nonce resync session (payload: the Package #0).
    ResyncSession,
    /// Deliver a verified server alert to the subscribed DM client
    /// (payload: the Package #0).
    ClientAlert,
}

impl PendingKind {
    /// Stable text form, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            PendingKind::ResyncSession => "resync-session",
            PendingKind::ClientAlert => "client-alert",
        }
    }

    fn from_column(s: &str) -> Result<Self> {
        match s {
            "resync-session" => Ok(PendingKind::ResyncSession),
            "client-alert" => Ok(PendingKind::ClientAlert),
            _ => Err(StoreError::CorruptValue {
                column: "pending_work.kind",
            }),
        }
    }
}

/// A pending work item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingWork {
    /// Its id.
    pub id: PendingId,
    /// The account it belongs to.
    pub server_id: String,
    /// What to do.
    pub kind: PendingKind,
    /// Input for the work (e.g. the Package #0 bytes).
    pub payload: Vec<u8>,
    /// When it was recorded.
    pub created_at: UnixTime,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When the last attempt failed.
    pub last_attempt_at: Option<UnixTime>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

pub(crate) fn insert_pending(
    conn: &Connection,
    account: i64,
    kind: PendingKind,
    payload: &[u8],
    now: UnixTime,
) -> Result<PendingId> {
    conn.execute(
        "INSERT INTO pending_work (account_id, kind, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![account, kind.as_str(), payload, now.0],
    )?;
    Ok(PendingId(conn.last_insert_rowid()))
}

impl Store {
    /// Records work to be done for an account; it survives restarts until
    /// [`Store::complete_pending`].
    pub fn record_pending(
        &self,
        server_id: &str,
        kind: PendingKind,
        payload: &[u8],
        now: UnixTime,
    ) -> Result<PendingId> {
        if payload.len() > MAX_PAYLOAD {
            return Err(StoreError::InvalidInput {
                field: "payload",
                reason: "longer than 64 KiB",
            });
        }
        self.write(|tx| insert_pending(tx, account_id(tx, server_id)?, kind, payload, now))
    }

    /// Every pending item, oldest first (what to resume after a restart).
    pub fn pending(&self) -> Result<Vec<PendingWork>> {
        self.read(|tx| {
            let mut stmt = tx.prepare(
                "SELECT p.id, a.server_id, p.kind, p.payload, p.created_at, p.attempts,
                        p.last_attempt_at, p.last_error
                 FROM pending_work p JOIN accounts a ON a.id = p.account_id
                 ORDER BY p.id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })?;
            rows.map(|row| {
                let (id, server_id, kind, payload, created, attempts, last_at, last_error) = row?;
                Ok(PendingWork {
                    id: PendingId(id),
                    server_id,
                    kind: PendingKind::from_column(&kind)?,
                    payload,
                    created_at: UnixTime(created),
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    last_attempt_at: last_at.map(UnixTime),
                    last_error,
                })
            })
            .collect()
        })
    }

    /// Removes a finished item. [`StoreError::UnknownPending`] if it is gone.
    pub fn complete_pending(&self, id: PendingId) -> Result<()> {
        self.write(
            |tx| match tx.execute("DELETE FROM pending_work WHERE id = ?1", [id.0])? {
                0 => Err(StoreError::UnknownPending(id.0)),
                _ => Ok(()),
            },
        )
    }

    /// Records a failed attempt (the item stays pending); returns the number
    /// of failed attempts so far. `reason` is shown to operators: no secrets.
    pub fn fail_pending(&self, id: PendingId, reason: &str, now: UnixTime) -> Result<u32> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE pending_work SET attempts = attempts + 1, last_attempt_at = ?1,
                                         last_error = ?2
                 WHERE id = ?3",
                params![now.0, reason, id.0],
            )?;
            if n == 0 {
                return Err(StoreError::UnknownPending(id.0));
            }
            let (attempts, server_id): (i64, String) = tx.query_row(
                "SELECT p.attempts, a.server_id FROM pending_work p
                 JOIN accounts a ON a.id = p.account_id WHERE p.id = ?1",
                [id.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            crate::audit::insert(
                tx,
                Some(&server_id),
                AuditEvent::PendingFailed,
                &format!("item {} attempt {attempts}: {reason}", id.0),
                now,
            )?;
            Ok(u32::try_from(attempts).unwrap_or(u32::MAX))
        })
    }
}
