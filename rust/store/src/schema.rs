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
    // 2 -> 3: rollback detection (see `rollback.rs`). Every change to an
    // account's nonces, sync state or server secret bumps one store-wide
    // commit counter and stamps the account with it; the same numbers are
    // written outside the database after each commit, so an open can tell
    // a database that came back older than it was. Triggers, so that no
    // write path can forget it. Idempotent (IF NOT EXISTS, OR IGNORE): a
    // store whose user_version was lowered by hand migrates again cleanly.
    r#"
    CREATE TABLE IF NOT EXISTS commit_counter (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        seq       INTEGER NOT NULL,
        store_uid BLOB NOT NULL
    );
    INSERT OR IGNORE INTO commit_counter (id, seq, store_uid) VALUES (1, 0, randomblob(16));
    CREATE TABLE IF NOT EXISTS nonce_seq (
        account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        seq        INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS nonce_seq_by_seq ON nonce_seq (seq);
    INSERT OR IGNORE INTO nonce_seq (account_id, seq) SELECT account_id, 0 FROM nonces;
    CREATE TRIGGER IF NOT EXISTS nonces_insert_seq AFTER INSERT ON nonces BEGIN
        UPDATE commit_counter SET seq = seq + 1 WHERE id = 1;
        INSERT OR REPLACE INTO nonce_seq (account_id, seq)
            VALUES (NEW.account_id, (SELECT seq FROM commit_counter WHERE id = 1));
    END;
    CREATE TRIGGER IF NOT EXISTS nonces_update_seq
        AFTER UPDATE OF client_nonce, server_current, server_previous, generation ON nonces BEGIN
        UPDATE commit_counter SET seq = seq + 1 WHERE id = 1;
        INSERT OR REPLACE INTO nonce_seq (account_id, seq)
            VALUES (NEW.account_id, (SELECT seq FROM commit_counter WHERE id = 1));
    END;
    -- server_secret_previous is left out: a trigger naming a column stops
    -- ALTER TABLE .. DROP COLUMN, which the version-1 migration test uses.
    CREATE TRIGGER IF NOT EXISTS accounts_update_seq
        AFTER UPDATE OF state, server_secret ON accounts BEGIN
        UPDATE commit_counter SET seq = seq + 1 WHERE id = 1;
        INSERT OR REPLACE INTO nonce_seq (account_id, seq)
            VALUES (NEW.id, (SELECT seq FROM commit_counter WHERE id = 1));
    END;
    "#,
];

/// Tables a store of this version holds: the constant-time schema check at
/// open looks for each of them in `sqlite_master`.
pub(crate) const TABLES: &[&str] = &[
    "accounts",
    "nonces",
    "default_nonce_notifications",
    "pending_work",
    "audit_log",
    "commit_counter",
    "nonce_seq",
];

/// Schema version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The first table of [`TABLES`] a store at its `user_version` should have
/// but lacks, as a damage reason, after reading `sqlite_master` (which
/// SQLite parsed at the first statement anyway) and probing every b-tree's
/// root ([`probe_roots`]): constant time in practice.
pub(crate) fn missing_table(conn: &Connection) -> Result<Option<String>> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        // A newer dmnonce's layout is not ours to judge: `migrate` refuses
        // it with `SchemaTooNew`, leaving the file alone.
        return Ok(None);
    }
    // Tables each version added, in `TABLES` order.
    let expected = match version {
        v if v <= 0 => 0,
        1 | 2 => 5,
        _ => TABLES.len(),
    };
    let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?;
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if let Some(t) = TABLES[..expected]
        .iter()
        .find(|t| !names.iter().any(|n| n == *t))
    {
        return Ok(Some(format!("schema version {version} lacks table {t}")));
    }
    probe_roots(conn)?;
    Ok(None)
}

/// Reads the root page of every table and index, and the path from it to
/// its first leaf: the pages every lookup goes through, a few dozen at any
/// size (the depth of a b-tree grows with the logarithm of its rows). A
/// page whose HMAC fails turns into `SQLITE_CORRUPT` here, which the open
/// treats as damage. What this does not read is read, and MAC-checked, when
/// a query needs it — a damaged page is an error then, never wrong data —
/// and by the full check after an unclean stop or on demand.
pub(crate) fn probe_roots(conn: &Connection) -> Result<()> {
    let quote = |n: &str| format!("\"{}\"", n.replace('"', "\"\""));
    let mut stmt = conn.prepare(
        "SELECT type, name, tbl_name FROM sqlite_master
         WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_stat%'
           AND name <> 'sqlite_sequence'",
    )?;
    let objects: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (kind, name, table) in objects {
        let sql = if kind == "table" {
            format!("SELECT 1 FROM {} NOT INDEXED LIMIT 1", quote(&name))
        } else {
            let column: Option<String> = conn
                .query_row(&format!("PRAGMA index_info({})", quote(&name)), [], |r| {
                    r.get(2)
                })
                .ok()
                .flatten();
            let Some(column) = column else { continue };
            format!(
                "SELECT {c} FROM {t} INDEXED BY {i} ORDER BY {c} LIMIT 1",
                c = quote(&column),
                t = quote(&table),
                i = quote(&name)
            )
        };
        match conn.prepare(&sql) {
            Ok(mut probe) => {
                let mut rows = probe.query([])?;
                rows.next()?;
            }
            // The primary key of a WITHOUT ROWID table is the table itself
            // (probed above) and cannot be named in INDEXED BY.
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::Unknown) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

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
