//! The audit log: what happened to which account, and when. Details are
//! short texts composed without secrets or nonces.

use rusqlite::{params, Connection};

use crate::{Result, Store, StoreError, UnixTime};

/// Entries kept: older ones are pruned, so a flood of rejected
/// notifications cannot grow the file without bound.
const MAX_ENTRIES: i64 = 10_000;
/// Pruning runs on every PRUNE_BATCH-th insert (by row id) rather than on
/// each: one DELETE of a batch instead of a b-tree delete per insert. The
/// log holds between MAX_ENTRIES and MAX_ENTRIES + PRUNE_BATCH - 1 entries.
const PRUNE_BATCH: i64 = 256;
/// Longest detail text kept; longer texts are cut (at a char boundary).
const MAX_DETAIL: usize = 1024;

macro_rules! audit_events {
    ($($(#[$doc:meta])* $variant:ident = $text:literal),+ $(,)?) => {
        /// Kinds of audit events.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum AuditEvent { $($(#[$doc])* $variant),+ }

        impl AuditEvent {
            /// Stable text form, as stored.
            pub fn as_str(self) -> &'static str {
                match self { $(AuditEvent::$variant => $text),+ }
            }

            fn from_column(s: &str) -> Result<Self> {
                match s {
                    $($text => Ok(AuditEvent::$variant),)+
                    _ => Err(StoreError::CorruptValue { column: "audit_log.event" }),
                }
            }
        }
    };
}

audit_events! {
    /// A Package #0 verified only with the default nonce and was accepted.
    FallbackUsed = "fallback-used",
    /// A default-nonce Package #0 was refused by the account's policy.
    FallbackDenied = "fallback-denied",
    /// A default-nonce Package #0 was refused by the rate limit.
    FallbackRateLimited = "fallback-rate-limited",
    /// A default-nonce Package #0 was seen before and refused.
    ReplayRejected = "replay-rejected",
    /// A new server nonce was issued (the old one kept as previous).
    NonceRotated = "nonce-rotated",
    /// The server was seen using the current server nonce; previous retired.
    NonceConfirmed = "nonce-confirmed",
    /// A new client nonce was stored (from the server's `Chal`).
    ClientNonceChanged = "client-nonce-changed",
    /// A resync session started.
    ResyncStarted = "resync-started",
    /// A resync session finished; nonces are fresh.
    ResyncFinished = "resync-finished",
    /// A resync session failed.
    ResyncFailed = "resync-failed",
    /// Other sync state change.
    StateChanged = "state-changed",
    /// A damaged store was moved aside and replaced.
    StoreRecovered = "store-recovered",
    /// The store came back older than it was (a damaged WAL, an old copy):
    /// the accounts that lost changes were set `needs-resync`.
    StoreRolledBack = "store-rolled-back",
    /// An account was created.
    AccountCreated = "account-created",
    /// Account fields other than secrets changed.
    AccountUpdated = "account-updated",
    /// An AuthSecret changed.
    SecretChanged = "secret-changed",
    /// The server was seen using its new AuthSecret; the previous one retired.
    SecretConfirmed = "secret-confirmed",
    /// An account was deleted.
    AccountDeleted = "account-deleted",
    /// A pending work item failed an attempt.
    PendingFailed = "pending-failed",
    /// A Package #0 the daemon decided on (detail: JSON, see
    /// `dmnonce_control::trace::NotificationRecord`).
    Notification = "notification",
    /// One message of a resync session (detail: JSON, see
    /// `dmnonce_control::trace::MessageRecord`).
    SessionMessage = "session-message",
    /// An event recorded by the daemon (see the detail).
    Daemon = "daemon",
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Sequence number (increasing).
    pub id: i64,
    /// When it happened (caller's clock).
    pub at: UnixTime,
    /// The account concerned, if any.
    pub server_id: Option<String>,
    /// What happened.
    pub event: AuditEvent,
    /// Details, without secrets.
    pub detail: String,
}

pub(crate) fn insert(
    conn: &Connection,
    server_id: Option<&str>,
    event: AuditEvent,
    detail: &str,
    now: UnixTime,
) -> Result<()> {
    let mut end = detail.len().min(MAX_DETAIL);
    while !detail.is_char_boundary(end) {
        end -= 1;
    }
    conn.prepare_cached(
        "INSERT INTO audit_log (at, server_id, event, detail) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![now.0, server_id, event.as_str(), &detail[..end]])?;
    let id = conn.last_insert_rowid();
    if id % PRUNE_BATCH == 0 {
        conn.prepare_cached("DELETE FROM audit_log WHERE id <= ?1 - ?2")?
            .execute(params![id, MAX_ENTRIES])?;
    }
    Ok(())
}

/// [`insert`] of each of `details`, in the caller's transaction.
pub(crate) fn insert_all(
    conn: &Connection,
    server_id: &str,
    event: AuditEvent,
    details: &[String],
    now: UnixTime,
) -> Result<()> {
    details
        .iter()
        .try_for_each(|d| insert(conn, Some(server_id), event, d, now))
}

impl Store {
    /// Appends an audit entry. `detail` must not contain secrets, nonces or
    /// digests: it is meant to be shown to operators.
    pub fn append_audit(
        &self,
        server_id: Option<&str>,
        event: AuditEvent,
        detail: &str,
        now: UnixTime,
    ) -> Result<()> {
        self.write(|tx| insert(tx, server_id, event, detail, now))
    }

    /// Appends entries of one event for one account in one transaction (a
    /// session's messages not yet written with a commit of their own).
    pub fn append_audit_batch(
        &self,
        server_id: &str,
        event: AuditEvent,
        details: &[String],
        now: UnixTime,
    ) -> Result<()> {
        if details.is_empty() {
            return Ok(());
        }
        self.write(|tx| insert_all(tx, server_id, event, details, now))
    }

    /// The entries of one account with id greater than `after`, oldest
    /// first, at most `limit`, and the id of the oldest entry kept at all
    /// (older ones were pruned).
    pub fn audit_log_of(
        &self,
        server_id: &str,
        after: i64,
        limit: usize,
    ) -> Result<(Vec<AuditEntry>, Option<i64>)> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|tx| {
            let oldest: Option<i64> =
                tx.query_row("SELECT min(id) FROM audit_log", [], |r| r.get(0))?;
            let mut stmt = tx.prepare_cached(
                "SELECT id, at, server_id, event, detail FROM audit_log
                 WHERE server_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            )?;
            let entries = entries_of(&mut stmt, params![server_id, after, limit])?;
            Ok((entries, oldest))
        })
    }

    /// Audit entries with id greater than `after` (0 for all), oldest first,
    /// at most `limit`.
    pub fn audit_log(&self, after: i64, limit: usize) -> Result<Vec<AuditEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|tx| {
            let mut stmt = tx.prepare(
                "SELECT id, at, server_id, event, detail FROM audit_log
                 WHERE id > ?1 ORDER BY id LIMIT ?2",
            )?;
            entries_of(&mut stmt, params![after, limit])
        })
    }
}

/// The entries a `SELECT id, at, server_id, event, detail` query yields.
fn entries_of(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<AuditEntry>> {
    let rows = stmt.query_map(params, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    rows.map(|row| {
        let (id, at, server_id, event, detail) = row?;
        Ok(AuditEntry {
            id,
            at: UnixTime(at),
            server_id,
            event: AuditEvent::from_column(&event)?,
            detail,
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Key, Store};

    #[test]
    fn the_log_is_pruned_in_batches_and_never_holds_more_than_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let key = Key::generate().unwrap();
        let (store, _) =
            Store::open(&dir.path().join("store.db"), &key, None, UnixTime(0)).unwrap();
        let flood = |n: i64| {
            store.write(|tx| {
                for i in 0..n {
                    insert(
                        tx,
                        None,
                        AuditEvent::Daemon,
                        &format!("flood {i}"),
                        UnixTime(1),
                    )?;
                }
                Ok(())
            })
        };
        let entries = || -> i64 {
            let n = store
                .read(|tx| Ok(tx.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?));
            n.unwrap()
        };
        flood(1).unwrap();
        let first = store.audit_log(0, 1).unwrap()[0].id;
        // Past three prunings, checking the bound after each batch.
        for _ in 0..(MAX_ENTRIES / PRUNE_BATCH + 3) {
            flood(PRUNE_BATCH).unwrap();
            assert!(
                entries() < MAX_ENTRIES + PRUNE_BATCH,
                "{} entries",
                entries()
            );
        }
        assert!(
            entries() >= MAX_ENTRIES,
            "{} entries: pruned too much",
            entries()
        );
        let oldest = store.audit_log(0, 1).unwrap()[0].id;
        assert!(oldest > first, "nothing was pruned");
        let last = store.audit_log(oldest + entries() - 2, 10).unwrap();
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].detail, format!("flood {}", PRUNE_BATCH - 1));
    }
}
