//! Accounts: create, read, update, delete, and the sync state.

use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row, ToSql};

use crate::model::{provisioning_columns, validate_server_id};
use crate::{
    Account, AccountProvisioning, AccountSecrets, AccountUpdate, AuditEvent, AuthScheme,
    AuthSecret, Encoding, Policy, Result, Store, StoreError, SyncState, UnixTime,
};

const ACCOUNT_COLUMNS: &str =
    "server_id, server_url, client_name, auth_scheme, encoding, policy, state, created_at, updated_at";

fn account_from_row(r: &Row<'_>) -> Result<Account> {
    Ok(Account {
        server_id: r.get(0)?,
        server_url: r.get(1)?,
        client_name: r.get(2)?,
        auth_scheme: AuthScheme::from_column(&r.get::<_, String>(3)?)?,
        encoding: Encoding::from_column(&r.get::<_, String>(4)?)?,
        policy: Policy::from_column(&r.get::<_, String>(5)?)?,
        state: SyncState::from_column(&r.get::<_, String>(6)?)?,
        created_at: UnixTime(r.get(7)?),
        updated_at: UnixTime(r.get(8)?),
    })
}

/// Row id of the account with this server id.
pub(crate) fn account_id(conn: &Connection, server_id: &str) -> Result<i64> {
    conn.prepare_cached("SELECT id FROM accounts WHERE server_id = ?1")?
        .query_row([server_id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::UnknownAccount(server_id.to_owned()))
}

/// The account row (`prepare_cached`: the push and credential paths read it
/// on every call).
pub(crate) fn read_account(conn: &Connection, server_id: &str) -> Result<Account> {
    conn.prepare_cached(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE server_id = ?1"
    ))?
    .query_row([server_id], |r| Ok(account_from_row(r)))
    .optional()?
    .ok_or_else(|| StoreError::UnknownAccount(server_id.to_owned()))?
}

/// The account's user name and AuthSecrets.
pub(crate) fn read_secrets(conn: &Connection, server_id: &str) -> Result<AccountSecrets> {
    type Row = (String, Vec<u8>, Vec<u8>, Option<Vec<u8>>);
    let (name, client, server, previous): Row = conn
        .prepare_cached(
            "SELECT client_name, client_secret, server_secret, server_secret_previous
             FROM accounts WHERE server_id = ?1",
        )?
        .query_row([server_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?
        .ok_or_else(|| StoreError::UnknownAccount(server_id.to_owned()))?;
    let secret =
        |b: Vec<u8>, column| AuthSecret::new(b).map_err(|_| StoreError::CorruptValue { column });
    Ok(AccountSecrets {
        client_name: name,
        client_secret: secret(client, "client_secret")?,
        server_secret: secret(server, "server_secret")?,
        server_secret_previous: previous
            .map(|b| secret(b, "server_secret_previous"))
            .transpose()?,
    })
}

/// Inserts an account and its nonce row. `with_nonces` false drops the
/// provisioned nonces (recovery: they are stale by definition). An account
/// asked for as `in-sync` without both nonces is `needs-resync` instead:
/// until the change request's resync gives it nonces it can neither verify
/// a Package #0 with a stored nonce nor make its own credentials.
pub(crate) fn insert(
    conn: &Connection,
    p: &AccountProvisioning,
    state: SyncState,
    with_nonces: bool,
    now: UnixTime,
) -> Result<()> {
    p.validate()?;
    if account_id(conn, &p.server_id).is_ok() {
        return Err(StoreError::AccountExists(p.server_id.clone()));
    }
    let (client, server) = if with_nonces {
        (
            p.client_nonce.as_ref().map(|n| n.expose()),
            p.server_nonce.as_ref().map(|n| n.expose()),
        )
    } else {
        (None, None)
    };
    let state = match (state, client, server) {
        (SyncState::InSync, Some(_), Some(_)) => SyncState::InSync,
        (SyncState::InSync, _, _) => SyncState::NeedsResync,
        (other, _, _) => other,
    };
    let provisioned = p.column_values();
    let account: [&dyn ToSql; 2] = [&state.as_str(), &now.0];
    conn.execute(
        concat!(
            "INSERT INTO accounts (",
            provisioning_columns!(),
            ", state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)"
        ),
        params_from_iter(provisioned.iter().map(|v| v as &dyn ToSql).chain(account)),
    )?;
    let id = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO nonces (account_id, client_nonce, server_current, server_previous,
                             generation, updated_at)
         VALUES (?1, ?2, ?3, NULL, 0, ?4)",
        params![id, client, server, now.0],
    )?;
    crate::audit::insert(
        conn,
        Some(&p.server_id),
        AuditEvent::AccountCreated,
        &format!("state {state}, policy {}", p.policy),
        now,
    )
}

/// Whether `p` may be created: [`AccountProvisioning::validate_new`], and no
/// existing server id equal to it ignoring ASCII case (SQLite's NOCASE
/// folds exactly A–Z). Ids stay case-sensitive everywhere else — a
/// Package #0 is matched exactly — so two such ids could only be told apart
/// by case, which an operator or a server's config easily gets wrong.
fn check_new(conn: &Connection, p: &AccountProvisioning) -> Result<()> {
    p.validate_new()?;
    let twin: Option<String> = conn
        .query_row(
            "SELECT server_id FROM accounts
             WHERE server_id = ?1 COLLATE NOCASE AND server_id <> ?1 LIMIT 1",
            [&p.server_id],
            |r| r.get(0),
        )
        .optional()?;
    match twin {
        Some(existing) => Err(StoreError::AccountExistsIgnoringCase(existing)),
        None => Ok(()),
    }
}

impl Store {
    /// Creates an account (nonces from `p`; state `in-sync` with both of
    /// them, else `needs-resync`) after the
    /// checks of [`Store::check_new_account`]. Fails with
    /// [`StoreError::AccountExists`] if the server id is taken.
    pub fn create_account(&self, p: &AccountProvisioning, now: UnixTime) -> Result<()> {
        self.write(|tx| {
            check_new(tx, p)?;
            insert(tx, p, SyncState::InSync, true, now)
        })
    }

    /// The checks [`Store::create_account`] makes before it writes, for a
    /// caller that has something to do first (the daemon writes the
    /// provisioning mirror before the store): the new-account rules of
    /// [`crate::text`], and no server id equal ignoring ASCII case
    /// ([`StoreError::AccountExistsIgnoringCase`]).
    pub fn check_new_account(&self, p: &AccountProvisioning) -> Result<()> {
        self.read(|tx| check_new(tx, p))
    }

    /// The account with this server id, without its secrets.
    pub fn account(&self, server_id: &str) -> Result<Account> {
        self.read(|tx| read_account(tx, server_id))
    }

    /// Every account, ordered by server id.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        self.read(|tx| {
            let mut stmt = tx.prepare(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY server_id"
            ))?;
            let rows = stmt.query_map([], |r| Ok(account_from_row(r)))?;
            rows.map(|r| r?).collect()
        })
    }

    /// The account's user name and both AuthSecrets, for computing and
    /// checking digests inside the daemon. Never send them anywhere.
    pub fn account_secrets(&self, server_id: &str) -> Result<AccountSecrets> {
        self.read(|tx| read_secrets(tx, server_id))
    }

    /// Applies the `Some` fields of `u` in one transaction. A new server
    /// AuthSecret (operator reprovisioning) also drops a previous secret
    /// kept by a rotation and the replay-cache entries older than the
    /// rate-limit window (newer ones stay: the limit counts them).
    pub fn update_account(&self, server_id: &str, u: &AccountUpdate, now: UnixTime) -> Result<()> {
        if let Some(url) = &u.server_url {
            crate::text::parse_server_url(url)?;
        }
        if let Some(name) = &u.client_name {
            crate::text::validate_identifier("client_name", name)?;
        }
        let window_start = now.0.saturating_sub(self.fallback_limit().window_secs);
        self.write(|tx| {
            let id = account_id(tx, server_id)?;
            let mut changed = Vec::new();
            let mut set = |column: &'static str, value: &dyn rusqlite::ToSql| -> Result<()> {
                tx.execute(
                    &format!("UPDATE accounts SET {column} = ?1, updated_at = ?2 WHERE id = ?3"),
                    params![value, now.0, id],
                )?;
                changed.push(column);
                Ok(())
            };
            if let Some(v) = &u.server_url {
                set("server_url", v)?;
            }
            if let Some(v) = &u.client_name {
                set("client_name", v)?;
            }
            if let Some(v) = &u.client_secret {
                set("client_secret", &v.expose())?;
            }
            if let Some(v) = &u.server_secret {
                set("server_secret", &v.expose())?;
            }
            if let Some(v) = u.auth_scheme {
                set("auth_scheme", &v.as_str())?;
            }
            if let Some(v) = u.encoding {
                set("encoding", &v.as_str())?;
            }
            if let Some(v) = u.policy {
                set("policy", &v.as_str())?;
            }
            if u.server_secret.is_some() {
                // The operator says which secret the server holds: a secret
                // kept from a rotation is no longer wanted.
                tx.execute(
                    "UPDATE accounts SET server_secret_previous = NULL WHERE id = ?1",
                    [id],
                )?;
                // Package #0 digests are keyed by the server secret: old
                // replay entries can never match again. Those still inside
                // the rate-limit window stay, though: they are what the
                // limit counts, and a secret change must not reset it.
                tx.execute(
                    "DELETE FROM default_nonce_notifications
                     WHERE account_id = ?1 AND accepted_at <= ?2",
                    params![id, window_start],
                )?;
            }
            if !changed.is_empty() {
                let event = if u.client_secret.is_some() || u.server_secret.is_some() {
                    AuditEvent::SecretChanged
                } else {
                    AuditEvent::AccountUpdated
                };
                crate::audit::insert(tx, Some(server_id), event, &changed.join(", "), now)?;
            }
            Ok(())
        })
    }

    /// Deletes the account with its nonces, replay-cache entries and
    /// pending work. The audit log keeps its entries.
    pub fn delete_account(&self, server_id: &str, now: UnixTime) -> Result<()> {
        validate_server_id(server_id)?;
        self.write(|tx| {
            let id = account_id(tx, server_id)?;
            tx.execute("DELETE FROM accounts WHERE id = ?1", [id])?;
            crate::audit::insert(tx, Some(server_id), AuditEvent::AccountDeleted, "", now)
        })
    }

    /// Sets the sync state (e.g. `resyncing` when a session starts outside
    /// [`Store::check_and_record_default_nonce_notification`], or
    /// `needs-resync` after a failed session), with an audit event.
    pub fn set_state(&self, server_id: &str, state: SyncState, now: UnixTime) -> Result<()> {
        self.write(|tx| set_state_in(tx, server_id, state, now))
    }
}

pub(crate) fn set_state_in(
    conn: &Connection,
    server_id: &str,
    state: SyncState,
    now: UnixTime,
) -> Result<()> {
    set_state_because(conn, server_id, state, None, now)
}

/// [`set_state_in`] with the reason for the audit entry. A failed session
/// (`because` given, state `needs-resync`) is audited even when the state
/// does not change: the reason is what an operator needs.
pub(crate) fn set_state_because(
    conn: &Connection,
    server_id: &str,
    state: SyncState,
    because: Option<&str>,
    now: UnixTime,
) -> Result<()> {
    let id = account_id(conn, server_id)?;
    let old: String = conn
        .prepare_cached("SELECT state FROM accounts WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    conn.prepare_cached("UPDATE accounts SET state = ?1, updated_at = ?2 WHERE id = ?3")?
        .execute(params![state.as_str(), now.0, id])?;
    let failed = because.is_some() && state == SyncState::NeedsResync;
    if old != state.as_str() || failed {
        let event = match (old.as_str(), state) {
            (_, SyncState::Resyncing) => AuditEvent::ResyncStarted,
            (_, SyncState::NeedsResync) if failed => AuditEvent::ResyncFailed,
            ("resyncing", SyncState::InSync) => AuditEvent::ResyncFinished,
            ("resyncing", SyncState::NeedsResync) => AuditEvent::ResyncFailed,
            _ => AuditEvent::StateChanged,
        };
        let detail = match because {
            Some(why) => format!("{old} -> {state}: {why}"),
            None => format!("{old} -> {state}"),
        };
        crate::audit::insert(conn, Some(server_id), event, &detail, now)?;
    }
    Ok(())
}
