//! Opening the store: one initializer for every connection, the health
//! checks, migration, and recovery of a damaged file.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags};
use zeroize::Zeroizing;

use crate::recovery::{companions, move_aside, rebuild};
use crate::{
    keycheck, schema, AccountProvisioning, Key, Result, Store, StoreError, SyncState, UnixTime,
};

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
    fn encrypted(&self) -> bool {
        match self {
            Cipher::RawKey(_) => true,
            #[cfg(feature = "bench-internals")]
            Cipher::Passphrase(_) => true,
            #[cfg(feature = "bench-internals")]
            Cipher::Plaintext => false,
        }
    }
}

/// What [`Store::open`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenReport {
    /// Whether the store was opened, created or recovered.
    pub outcome: OpenOutcome,
    /// `user_version` found in the file before migration (0 when created).
    pub schema_version_found: i64,
    /// Server ids of accounts created from provisioning data by this open.
    pub provisioned: Vec<String>,
}

/// Outcome of [`Store::open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenOutcome {
    /// An existing, healthy store was opened.
    Opened,
    /// No store existed; a new one was created.
    Created,
    /// The store was damaged: it was moved aside and a fresh one created,
    /// with provisioned accounts marked `needs-resync`.
    Recovered {
        /// Where the damaged files are now (database first, then WAL/SHM).
        moved_aside: Vec<PathBuf>,
        /// What was wrong (no secrets).
        reason: String,
    },
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

/// The one initializer: key, verification read, per-connection pragmas.
pub(crate) fn initialize(path: &Path, cipher: &Cipher<'_>) -> Result<Health> {
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
    if cipher.encrypted() {
        // One row per page whose HMAC fails (or per other cipher error).
        let failures = match collect_rows(&conn, "PRAGMA cipher_integrity_check") {
            Ok(rows) => rows,
            Err(e) => return classify(e),
        };
        if !failures.is_empty() {
            return Ok(Health::Damaged(format!(
                "{} page(s) fail their HMAC",
                failures.len()
            )));
        }
    }
    match collect_rows(&conn, "PRAGMA quick_check") {
        Ok(rows) if rows.len() == 1 && rows[0] == "ok" => Ok(Health::Healthy(conn)),
        Ok(rows) => Ok(Health::Damaged(format!(
            "quick_check reports {} problem(s)",
            rows.len()
        ))),
        Err(e) => classify(e),
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

/// True for a file that exists and holds nothing (no bytes, no WAL frames).
fn is_empty_file(path: &Path) -> bool {
    let len = |p: &Path| p.metadata().map(|m| m.len()).ok();
    len(path) == Some(0)
        && companions(path)[0]
            .metadata()
            .map_or(true, |m| m.len() == 0)
}

impl Store {
    /// Opens (or creates) the store at `db_path` with `key`.
    ///
    /// Procedure: set the key and cipher parameters; read page 1 (a wrong
    /// key fails here); set `journal_mode=WAL`, `synchronous=FULL`,
    /// `foreign_keys=ON`, `secure_delete=ON`, `temp_store=MEMORY`; run
    /// `PRAGMA cipher_integrity_check` and `PRAGMA quick_check`; migrate by
    /// `user_version`; create accounts from `provisioning` that do not exist.
    ///
    /// A damaged store is renamed to `<db>.corrupt-<UTC time>` (with its
    /// `-wal`/`-shm`), a fresh one is created, every provisioned account is
    /// created with no nonces and state `needs-resync`, and a
    /// `store-recovered` audit event is written. `now` names the moved file
    /// and stamps the records.
    ///
    /// Errors: [`StoreError::WrongKey`] if the key does not open the file and
    /// the key check does not prove the file damaged (the file is untouched);
    /// [`StoreError::SchemaTooNew`] for a store from a newer dmnonce.
    pub fn open(
        db_path: &Path,
        key: &Key,
        provisioning: Option<&[AccountProvisioning]>,
        now: UnixTime,
    ) -> Result<(Store, OpenReport)> {
        Self::open_with_cipher(db_path, &Cipher::RawKey(key), provisioning, now)
    }

    pub(crate) fn open_with_cipher(
        db_path: &Path,
        cipher: &Cipher<'_>,
        provisioning: Option<&[AccountProvisioning]>,
        now: UnixTime,
    ) -> Result<(Store, OpenReport)> {
        let provisioning = provisioning.unwrap_or(&[]);
        for p in provisioning {
            p.validate()?;
        }
        let had_store = cipher.encrypted() && keycheck::exists(db_path);
        let lost = had_store && (!db_path.exists() || is_empty_file(db_path));
        if lost && keycheck::verify(db_path, cipher) != keycheck::Verdict::KeyMatches {
            // Never build a fresh store under a key that is not the store's.
            return Err(StoreError::WrongKey {
                path: db_path.to_path_buf(),
            });
        }
        let damage = if lost {
            // Deleted by hand, or truncated to nothing: the nonces are gone.
            Some(if db_path.exists() {
                "database file is empty but a store existed".to_owned()
            } else {
                "database file is missing but a store existed".to_owned()
            })
        } else {
            match initialize(db_path, cipher)? {
                Health::Healthy(conn) => {
                    return Self::finish_open(db_path, conn, cipher, provisioning, now)
                }
                Health::Damaged(reason) => Some(reason),
                Health::KeyRejected => match keycheck::verify(db_path, cipher) {
                    keycheck::Verdict::KeyMatches => {
                        Some("first page unreadable with the store's own key".to_owned())
                    }
                    keycheck::Verdict::KeyDiffers | keycheck::Verdict::Unknown => None,
                },
            }
        };
        let Some(reason) = damage else {
            return Err(StoreError::WrongKey {
                path: db_path.to_path_buf(),
            });
        };
        log::error!(
            "store {} is damaged ({reason}); moving it aside and starting a fresh store",
            db_path.display()
        );
        let moved_aside = move_aside(db_path, now)?;
        let provisioned = rebuild(db_path, cipher, provisioning, &reason, &moved_aside, now)?;
        let Health::Healthy(conn) = initialize(db_path, cipher)? else {
            return Err(StoreError::RecoveryFailed(
                "the rebuilt store failed its checks",
            ));
        };
        let (store, mut report) = Self::finish_open(db_path, conn, cipher, &[], now)?;
        report.provisioned = provisioned;
        report.outcome = OpenOutcome::Recovered {
            moved_aside,
            reason,
        };
        Ok((store, report))
    }

    fn finish_open(
        db_path: &Path,
        mut conn: Connection,
        cipher: &Cipher<'_>,
        provisioning: &[AccountProvisioning],
        now: UnixTime,
    ) -> Result<(Store, OpenReport)> {
        let found = schema::migrate(&mut conn)?;
        if cipher.encrypted() && !keycheck::exists(db_path) {
            keycheck::write(db_path, cipher)?;
        }
        let store = Store::from_connection(conn, db_path.to_path_buf());
        let provisioned = store.write(|tx| {
            let mut created = Vec::new();
            for p in provisioning {
                if crate::store::account_id(tx, &p.server_id).is_err() {
                    crate::accounts::insert(tx, p, SyncState::InSync, true, now)?;
                    created.push(p.server_id.clone());
                }
            }
            Ok(created)
        })?;
        let outcome = if found == 0 {
            OpenOutcome::Created
        } else {
            OpenOutcome::Opened
        };
        Ok((
            store,
            OpenReport {
                outcome,
                schema_version_found: found,
                provisioned,
            },
        ))
    }
}

#[cfg(feature = "bench-internals")]
impl Store {
    /// Benchmarks only: opens with a passphrase (SQLCipher's PBKDF2, 256,000
    /// iterations) instead of a raw key.
    pub fn open_with_passphrase_for_bench(
        db_path: &Path,
        passphrase: &str,
        now: UnixTime,
    ) -> Result<(Store, OpenReport)> {
        Self::open_with_cipher(db_path, &Cipher::Passphrase(passphrase), None, now)
    }

    /// Benchmarks only: opens an **unencrypted** database (plain SQLite
    /// format, same SQLCipher build, no key set) with the same schema and
    /// pragmas, to measure what encryption costs.
    pub fn open_plaintext_for_bench(db_path: &Path, now: UnixTime) -> Result<(Store, OpenReport)> {
        Self::open_with_cipher(db_path, &Cipher::Plaintext, None, now)
    }
}
