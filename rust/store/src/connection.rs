//! One initializer for every connection to a store file (key, cipher
//! parameters, pragmas) and the checks of what it reads: page 1 at every
//! open, every page when asked.

use std::path::Path;

use rusqlite::{Connection, ErrorCode, OpenFlags};
use zeroize::Zeroizing;

use crate::{Key, Result, StoreError};

/// How the database file is encrypted.
pub(crate) enum Cipher<'a> {
    /// Raw 256-bit key: SQLCipher skips its passphrase KDF.
    RawKey(&'a Key),
    /// Passphrase through SQLCipher's PBKDF2 (benchmarks only).
    #[cfg(feature = "bench-internals")]
    Passphrase(&'a str),
    /// No encryption: plain SQLite format (benchmarks only).
    #[cfg(feature = "bench-internals")]
    Plaintext,
}

impl Cipher<'_> {
    pub(crate) fn encrypted(&self) -> bool {
        match self {
            Cipher::RawKey(_) => true,
            #[cfg(feature = "bench-internals")]
            Cipher::Passphrase(_) => true,
            #[cfg(feature = "bench-internals")]
            Cipher::Plaintext => false,
        }
    }
}

/// How much [`initialize`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Checks {
    /// Page 1 only (constant time).
    Quick,
    /// Every page as well.
    Full,
}

/// `PRAGMA cipher_integrity_check` (encrypted files) and `PRAGMA
/// quick_check`: every page is read. `Ok(None)` when healthy.
pub(crate) fn full_check(conn: &Connection, encrypted: bool) -> Result<Option<String>> {
    if encrypted {
        // One row per page whose HMAC fails (or per other cipher error).
        match collect_rows(conn, "PRAGMA cipher_integrity_check") {
            Ok(rows) if rows.is_empty() => {}
            Ok(rows) => return Ok(Some(format!("{} page(s) fail their HMAC", rows.len()))),
            Err(e) => return damage_or(e),
        }
    }
    match collect_rows(conn, "PRAGMA quick_check") {
        Ok(rows) if rows.len() == 1 && rows[0] == "ok" => Ok(None),
        Ok(rows) => Ok(Some(format!(
            "quick_check reports {} problem(s)",
            rows.len()
        ))),
        Err(e) => damage_or(e),
    }
}

fn damage_or(e: rusqlite::Error) -> Result<Option<String>> {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt) => Ok(Some("database is corrupt".into())),
        Some(ErrorCode::NotADatabase) => Ok(Some("a page does not decrypt".into())),
        _ => Err(e.into()),
    }
}

/// True for an error that means the file is damaged.
pub(crate) fn is_damage(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Sqlite(e) if matches!(
            e.sqlite_error_code(),
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
        )
    )
}

/// Result of opening and checking one file.
pub(crate) enum Health {
    Healthy(Connection),
    /// Page 1 does not decrypt: wrong key or a damaged header.
    KeyRejected,
    Damaged(String),
}

/// Sets the key (and SQLCipher 4 cipher parameters) on a fresh connection.
/// Must run before anything reads the file.
pub(crate) fn apply_cipher(conn: &Connection, cipher: &Cipher<'_>) -> Result<()> {
    let literal: Zeroizing<String> = match cipher {
        Cipher::RawKey(key) => key.pragma_literal(),
        #[cfg(feature = "bench-internals")]
        Cipher::Passphrase(p) => Zeroizing::new(format!("'{}'", p.replace('\'', "''"))),
        #[cfg(feature = "bench-internals")]
        Cipher::Plaintext => return Ok(()),
    };
    let mut sql = Zeroizing::new(String::with_capacity(literal.len() + 32));
    sql.push_str("PRAGMA key = \"");
    sql.push_str(&literal);
    sql.push_str("\";");
    // rusqlite hands this &str to sqlite3_prepare without copying it. The
    // error is replaced: SQLite messages may quote the statement's tokens.
    conn.execute_batch(&sql)
        .map_err(|_| StoreError::InvalidInput {
            field: "key",
            reason: "SQLCipher refused the key statement",
        })?;
    // Pin SQLCipher 4 parameters (AES-256-CBC, HMAC-SHA512, 4096-byte pages)
    // so a future library default cannot make existing stores unreadable.
    conn.execute_batch("PRAGMA cipher_compatibility = 4;")?;
    Ok(())
}

/// The one initializer: key, verification read, per-connection pragmas,
/// and with [`Checks::Full`] every page.
pub(crate) fn initialize(path: &Path, cipher: &Cipher<'_>, checks: Checks) -> Result<Health> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    apply_cipher(&conn, cipher)?;
    // First read of the file: with SQLCipher this decrypts and MAC-checks
    // page 1, so it is where a wrong key shows up.
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => {}
        Err(e) => return classify(e),
    }
    let mode: String =
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(m) => m,
            Err(e) => return classify(e),
        };
    if !mode.eq_ignore_ascii_case("wal") {
        return Ok(Health::Damaged(format!("journal mode stays {mode}")));
    }
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;",
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    if checks == Checks::Quick {
        return Ok(Health::Healthy(conn));
    }
    match full_check(&conn, cipher.encrypted())? {
        None => Ok(Health::Healthy(conn)),
        Some(reason) => Ok(Health::Damaged(reason)),
    }
}

fn collect_rows(conn: &Connection, sql: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.collect()
}

fn classify(e: rusqlite::Error) -> Result<Health> {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => Ok(Health::KeyRejected),
        Some(ErrorCode::DatabaseCorrupt) => Ok(Health::Damaged("database is corrupt".into())),
        _ => Err(e.into()),
    }
}
