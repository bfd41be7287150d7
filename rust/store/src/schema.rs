//! Schema and migrations, keyed by `PRAGMA user_version`.
//!
//! `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`. Versions are
//! never edited once released: a change is a new entry at the end.

use rusqlite::Connection;

use crate::{Result, StoreError};

const MIGRATIONS: &[&str] = &[
    // 0 -> 1: initial schema.
    r#"
    CREATE TABLE accounts (
        id            INTEGER PRIMARY KEY,
        server_id     TEXT NOT NULL UNIQUE,
        server_url    TEXT NOT NULL,
        client_name   TEXT NOT NULL,
        client_secret BLOB NOT NULL,
        server_secret BLOB NOT NULL,
        auth_scheme   TEXT NOT NULL CHECK (auth_scheme IN ('md5', 'hmac', 'basic')),
        encoding      TEXT NOT NULL CHECK (encoding IN ('xml', 'wbxml')),
        policy        TEXT NOT NULL CHECK (policy IN ('allow', 'deny')),
        state         TEXT NOT NULL CHECK (state IN ('in-sync', 'needs-resync', 'resyncing')),
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
    );
    -- One row per account, always present: a nonce change rewrites the row
    -- in one transaction, and `generation` counts the changes.
    CREATE TABLE nonces (
        account_id      INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        client_nonce    BLOB,
        server_current  BLOB,
        server_previous BLOB,
        generation      INTEGER NOT NULL DEFAULT 0,
        updated_at      INTEGER NOT NULL
    );
    -- Default-nonce notifications that were accepted: the replay cache, and
    -- the rows the per-account rate limit counts.
    CREATE TABLE default_nonce_notifications (
        account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        digest      BLOB NOT NULL,
        session_id  INTEGER NOT NULL,
        accepted_at INTEGER NOT NULL,
        PRIMARY KEY (account_id, digest)
    ) WITHOUT ROWID;
    CREATE INDEX default_nonce_notifications_by_time
        ON default_nonce_notifications (account_id, accepted_at);
    CREATE TABLE pending_work (
        id              INTEGER PRIMARY KEY,
        account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        kind            TEXT NOT NULL,
        payload         BLOB NOT NULL,
        created_at      INTEGER NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_attempt_at INTEGER,
        last_error      TEXT
    );
    -- server_id is copied, not a foreign key: the audit trail outlives the
    -- account it talks about.
    CREATE TABLE audit_log (
        id        INTEGER PRIMARY KEY,
        at        INTEGER NOT NULL,
        server_id TEXT,
        event     TEXT NOT NULL,
        detail    TEXT NOT NULL
    );
    "#,
    // 1 -> 2: two-phase rotation of the server AuthSecret. A secret replaced
    // by the server (change request step 6) stays here until the server is
    // seen using the new one, exactly like `nonces.server_previous`.
    r#"
    ALTER TABLE accounts ADD COLUMN server_secret_previous BLOB;
    "#,
];

/// Schema version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema to [`SCHEMA_VERSION`]; returns the version found.
/// Each step and its `user_version` bump are one transaction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<i64> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < 0 {
        return Err(StoreError::CorruptValue {
            column: "user_version",
        });
    }
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", from as i64 + 1)?;
        tx.commit()?;
        log::info!("store schema migrated to version {}", from + 1);
    }
    Ok(found)
}
