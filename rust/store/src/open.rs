//! Opening the store: one initializer for every connection, the health
//! checks, migration, and recovery of a damaged file.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::check_marker::{full_check_reason, remove_marker};
use crate::connection::{initialize, is_damage, Checks, Cipher, Health};
use crate::files::companions;
use crate::recovery::{move_aside, rebuild};
use crate::rollback::{self, CounterFile, Finding};
use crate::{
    keycheck, schema, AccountProvisioning, Key, Result, Store, StoreError, SyncState, UnixTime,
};

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
                if crate::accounts::account_id(tx, &p.server_id).is_err() {
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

    /// Benchmarks only: [`Store::open_plaintext_for_bench`] creating the
    /// `provisioning` accounts in one transaction, as [`Store::open`] does
    /// (the open-by-size anchor needs 100,000 of them).
    pub fn open_plaintext_provisioned_for_bench(
        db_path: &Path,
        provisioning: &[AccountProvisioning],
        now: UnixTime,
    ) -> Result<(Store, OpenReport)> {
        Self::open_with_cipher(db_path, &Cipher::Plaintext, Some(provisioning), now)
    }
}
