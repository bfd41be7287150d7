//! The key check: a tiny second SQLCipher file (`<db>.keycheck`) encrypted
//! with the same key, written once the store has been created.
//!
//! SQLCipher cannot tell a wrong key from a damaged first page: both make
//! page 1's HMAC fail ("file is not a database"). When that happens, this
//! file decides. If it opens with the key, the key is the store's key and the
//! main file is damaged (recover). If it does not, the key is wrong (refuse,
//! touch nothing). If it is missing, we cannot prove the key is ours, so we
//! refuse too: never replace a file we cannot show is damaged.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::connection::{apply_cipher, Cipher};
use crate::files::{parent_dir, sync_dir};
use crate::{Result, StoreError};

const MAGIC: &str = "dmnonce-store-keycheck-v1";

/// What the key check file says about a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The key opens the key check file: it is the store's key.
    KeyMatches,
    /// The key check file exists but the key does not open it.
    KeyDiffers,
    /// No usable key check file.
    Unknown,
}

pub(crate) fn path_for(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".keycheck");
    PathBuf::from(p)
}

pub(crate) fn exists(db: &Path) -> bool {
    path_for(db).is_file()
}

pub(crate) fn verify(db: &Path, cipher: &Cipher<'_>) -> Verdict {
    let path = path_for(db);
    if !path.is_file() {
        return Verdict::Unknown;
    }
    let conn = match Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    {
        Ok(c) => c,
        Err(_) => return Verdict::Unknown,
    };
    if apply_cipher(&conn, cipher).is_err() {
        return Verdict::Unknown;
    }
    match conn.query_row("SELECT magic FROM keycheck", [], |r| r.get::<_, String>(0)) {
        Ok(m) if m == MAGIC => Verdict::KeyMatches,
        Ok(_) => Verdict::Unknown,
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Verdict::KeyDiffers
        }
        Err(_) => Verdict::Unknown,
    }
}

/// Writes the key check file for `db` (atomically: temporary file, rename).
pub(crate) fn write(db: &Path, cipher: &Cipher<'_>) -> Result<()> {
    let path = path_for(db);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    {
        let conn = Connection::open(&tmp)?;
        apply_cipher(&conn, cipher)?;
        conn.execute_batch(
            "PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL;
             CREATE TABLE keycheck (magic TEXT NOT NULL);",
        )?;
        conn.execute("INSERT INTO keycheck (magic) VALUES (?1)", [MAGIC])?;
    }
    std::fs::rename(&tmp, &path).map_err(|e| StoreError::io("install key check", &path, e))?;
    sync_dir(parent_dir(&path))
}
