//! Opening the store: one initializer for every connection, the health
//! checks, migration, and recovery of a damaged file.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags};
use zeroize::Zeroizing;

use crate::key::{parent_dir, sync_dir};
use crate::recovery::{companions, move_aside, rebuild};
use crate::rollback::{self, CounterFile, Finding};
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
    /// Which checks ran before the store was trusted.
    pub integrity: IntegrityCheck,
    /// Set when the database came back older than its commit counter file
    /// says (a damaged WAL frame, an old copy put back).
    pub rolled_back: Option<RollbackReport>,
}

/// The checks [`Store::open`] ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntegrityCheck {
    /// Constant time: page 1 (header and key), the schema, the commit
    /// counter. The previous stop was clean (empty WAL, no check pending).
    Quick,
    /// Every page's HMAC (`cipher_integrity_check`) and the b-tree
    /// (`quick_check`) as well, because of `reason` (an unclean shutdown,
    /// a check that found damage while running).
    Full {
        /// Why (no secrets).
        reason: String,
    },
}

/// What [`Store::open`] did about a store that came back older than it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackReport {
    /// Commit counter found in the database.
    pub found: u64,
    /// Commit counter recorded outside it (`<db>.commits`).
    pub recorded: u64,
    /// Accounts that lost changes: now `needs-resync`, without nonces.
    pub accounts: Vec<String>,
    /// Copies of the database and its WAL as found (`<db>.rolledback-*`).
    pub copied_to: Vec<PathBuf>,
}

/// What [`Store::check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Pages in the database file.
    pub pages: u64,
    /// Problems found (no secrets); empty when healthy.
    pub problems: Vec<String>,
}

impl CheckReport {
    /// No problem found.
    pub fn is_healthy(&self) -> bool {
        self.problems.is_empty()
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

/// `<db>.needs-check`: written when a check (or a query) found damage while
/// the store was open, so that the next open runs the full check — and
/// quarantines — whatever the WAL looks like.
pub(crate) fn marker_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".needs-check");
    PathBuf::from(p)
}

/// Why the next open of `db` must read every page, if it must. An unclean
/// stop is told by a non-empty WAL: a clean stop checkpoints it to nothing
/// (`Store::checkpoint` with TRUNCATE, or SQLite's own checkpoint-and-delete
/// when the last connection closes), and every commit since start fsyncs
/// frames into it. So frames left behind mean the process died with the
/// store open after writing — exactly when a torn or lost write may be in
/// the file. A crash before the first write leaves an empty WAL, and the
/// files are then as the last clean stop (or the last full check) left
/// them. The WAL stays non-empty until a clean stop, so a crash during the
/// full check itself is checked again next time.
pub(crate) fn full_check_reason(db: &Path) -> Option<String> {
    let marker = marker_path(db);
    if marker.exists() {
        return Some(format!(
            "a check found damage while the store was open ({})",
            marker.display()
        ));
    }
    let [wal, _] = companions(db);
    match wal.metadata() {
        Ok(m) if m.len() > 0 => Some(format!("unclean shutdown: the WAL holds {} bytes", m.len())),
        _ => None,
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

/// Writes the marker (durably: the next open must see it).
pub(crate) fn write_marker(db: &Path, reason: &str) -> Result<()> {
    let path = marker_path(db);
    std::fs::write(&path, format!("{reason}\n"))
        .and_then(|_| std::fs::File::open(&path)?.sync_all())
        .map_err(|e| StoreError::io("write check marker", &path, e))?;
    sync_dir(parent_dir(&path))
}

fn remove_marker(db: &Path) {
    let path = marker_path(db);
    if path.exists() {
        if let Err(e) = std::fs::remove_file(&path) {
            log::warn!("could not remove {}: {e}", path.display());
        }
    }
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
    /// `foreign_keys=ON`, `secure_delete=ON`, `temp_store=MEMORY`; after an
    /// unclean stop (a non-empty WAL) or a check that found damage, run
    /// `PRAGMA cipher_integrity_check` and `PRAGMA quick_check` (every page);
    /// check that the schema's tables exist; migrate by `user_version`;
    /// compare the commit counter with `<db>.commits` (a store that came
    /// back older has its out-of-step accounts set `needs-resync`, see
    /// [`OpenReport::rolled_back`]); create accounts from `provisioning`
    /// that do not exist.
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
        let checks = if lost {
            None
        } else {
            full_check_reason(db_path)
        };
        let integrity = match &checks {
            None => IntegrityCheck::Quick,
            Some(reason) => {
                log::warn!(
                    "store {}: full integrity check ({reason})",
                    db_path.display()
                );
                IntegrityCheck::Full {
                    reason: reason.clone(),
                }
            }
        };
        let level = if checks.is_some() {
            Checks::Full
        } else {
            Checks::Quick
        };
        let damage = if lost {
            // Deleted by hand, or truncated to nothing: the nonces are gone.
            Some(if db_path.exists() {
                "database file is empty but a store existed".to_owned()
            } else {
                "database file is missing but a store existed".to_owned()
            })
        } else {
            match initialize(db_path, cipher, level)? {
                Health::Healthy(conn) => match schema::missing_table(&conn) {
                    Ok(None) => {
                        if level == Checks::Full {
                            log::info!("store {}: full integrity check passed", db_path.display());
                        }
                        remove_marker(db_path);
                        return Self::finish_open(
                            db_path,
                            conn,
                            cipher,
                            provisioning,
                            integrity,
                            now,
                        );
                    }
                    Ok(Some(reason)) => Some(reason),
                    Err(e) if is_damage(&e) => Some("schema unreadable".to_owned()),
                    Err(e) => return Err(e),
                },
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
        let Health::Healthy(conn) = initialize(db_path, cipher, Checks::Full)? else {
            return Err(StoreError::RecoveryFailed(
                "the rebuilt store failed its checks",
            ));
        };
        // The damage it recorded is set aside now.
        remove_marker(db_path);
        let (store, mut report) = Self::finish_open(db_path, conn, cipher, &[], integrity, now)?;
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
        integrity: IntegrityCheck,
        now: UnixTime,
    ) -> Result<(Store, OpenReport)> {
        let found = schema::migrate(&mut conn)?;
        if cipher.encrypted() && !keycheck::exists(db_path) {
            keycheck::write(db_path, cipher)?;
        }
        // Before anything else is written: a rolled-back store is copied
        // aside as found, then its out-of-step accounts are marked.
        let (counter, finding) = CounterFile::open(db_path, &conn)?;
        let store = Store::from_connection(
            conn,
            db_path.to_path_buf(),
            cipher.encrypted(),
            Some(counter),
        );
        let rolled_back = match finding {
            Finding::InStep => None,
            Finding::Reset(why) => {
                if found >= schema::SCHEMA_VERSION {
                    log::warn!(
                        "store {}: {why}; rewritten from the database (a rollback before \
                         now cannot be told)",
                        db_path.display()
                    );
                } else {
                    log::info!("store {}: commit counter file created", db_path.display());
                }
                None
            }
            Finding::RolledBack {
                found: at,
                recorded,
                accounts,
            } => {
                let copied_to = rollback::copy_aside(db_path, now)?;
                let ids = store.write(|tx| {
                    rollback::mark_out_of_step(tx, recorded, at, &accounts, &copied_to, now)
                })?;
                log::error!(
                    "store {} came back older than it was (commit {at}, {recorded} recorded: a \
                     damaged WAL or an old copy); copied aside as {}; {} account(s) set \
                     needs-resync without nonces",
                    db_path.display(),
                    copied_to
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    ids.len()
                );
                Some(RollbackReport {
                    found: at,
                    recorded,
                    accounts: ids,
                    copied_to,
                })
            }
        };
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
                integrity,
                rolled_back,
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
