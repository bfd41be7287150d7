//! The `Store` handle: one SQLCipher connection behind a mutex, and the
//! transaction helpers every operation goes through.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::check_marker::write_marker;
use crate::connection::{full_check, is_damage};
use crate::fallback_limit::FallbackLimit;
use crate::rollback::{self, CounterFile};
use crate::{Result, StoreError};

/// Default database file name inside the daemon's state directory.
pub const DB_FILE_NAME: &str = "store.db";
/// Default key file name inside the daemon's state directory.
pub const KEY_FILE_NAME: &str = "store.key";

/// The encrypted store. Open it with [`Store::open`].
///
/// `Send + Sync`: one connection behind a `Mutex`, so calls from several
/// threads are serialized; every public method is one short transaction
/// (write methods take SQLite's write lock up front with `BEGIN IMMEDIATE`).
/// Do not hold nonces across long waits: read, use, commit.
pub struct Store {
    pub(crate) conn: Mutex<Connection>,
    pub(crate) path: PathBuf,
    pub(crate) fallback_limit: Mutex<FallbackLimit>,
    /// Whether the file is encrypted (what [`Store::check`] can check).
    encrypted: bool,
    /// `<db>.commits`, written after each commit that moved the counter
    /// (only while `conn` is locked, so in commit order).
    counter: Mutex<Option<CounterFile>>,
    /// Set once a check or a query found the file damaged: from then on
    /// every call fails, so nothing is served from it.
    damaged: Mutex<Option<String>>,
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

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    pub(crate) fn from_connection(
        conn: Connection,
        path: PathBuf,
        encrypted: bool,
        counter: Option<CounterFile>,
    ) -> Self {
        Store {
            conn: Mutex::new(conn),
            path,
            fallback_limit: Mutex::new(FallbackLimit::default()),
            encrypted,
            counter: Mutex::new(counter),
            damaged: Mutex::new(None),
        }
    }

    /// Reads every page — each page's HMAC (`PRAGMA cipher_integrity_check`)
    /// and the b-tree (`PRAGMA quick_check`) — on the open connection (other
    /// calls wait; about 23 ms per 1,000 accounts). The open does this only
    /// after an unclean stop; this is the on-demand check
    /// (`dmnoncectl store check`).
    ///
    /// When it finds a problem the store stops serving: every later call
    /// fails with [`StoreError::Damaged`], and `<db>.needs-check` makes the
    /// next [`Store::open`] run the full check, move the file aside and
    /// recover, as for damage found at start.
    pub fn check(&self) -> Result<CheckReport> {
        // Not `lock()`: a store already stopped by damage is reported as
        // damaged, not as an error of the check.
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap_or(0);
        if let Some(reason) = self.damaged() {
            return Ok(CheckReport {
                pages: u64::try_from(pages).unwrap_or(0),
                problems: vec![format!("found earlier: {reason}")],
            });
        }
        let problem = match full_check(&conn, self.encrypted) {
            Ok(p) => p,
            Err(e) if is_damage(&e) => Some("database is corrupt".to_owned()),
            Err(e) => return Err(e),
        };
        drop(conn);
        if let Some(reason) = &problem {
            self.mark_damaged(reason);
        }
        Ok(CheckReport {
            pages: u64::try_from(pages).unwrap_or(0),
            problems: problem.into_iter().collect(),
        })
    }

    /// The crypto library SQLCipher encrypts with (`PRAGMA cipher_provider`:
    /// "openssl" or "libtomcrypt", as the build's features chose).
    pub fn cipher_provider(&self) -> Result<String> {
        let conn = self.lock()?;
        Ok(conn.query_row("PRAGMA cipher_provider", [], |r| r.get(0))?)
    }

    /// Why the store stopped serving, if it did.
    pub fn damaged(&self) -> Option<String> {
        self.damaged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn mark_damaged(&self, reason: &str) {
        let mut d = self.damaged.lock().unwrap_or_else(PoisonError::into_inner);
        if d.is_some() {
            return;
        }
        *d = Some(reason.to_owned());
        log::error!(
            "store {} is damaged ({reason}); refusing to serve from it; restart dmnonced to \
             move it aside and recover",
            self.path.display()
        );
        if let Err(e) = write_marker(&self.path, reason) {
            log::error!("could not record the damage for the next start: {e}");
        }
    }

    /// An error that says the file is damaged stops the store (see
    /// [`Store::check`]).
    fn watch<T>(&self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            if is_damage(e) {
                self.mark_damaged("a query met a damaged page");
            }
        }
        r
    }

    /// Writes the counter file after a commit. A failure is logged, not
    /// returned: the commit stands, and a lagging file is safe.
    fn record(&self, changed: &[(i64, u64)], seq: u64) {
        let counter = self.counter.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = counter.as_ref() {
            if let Err(e) = c.record(changed, seq) {
                log::warn!("{e} (rollback detection lags until the next open)");
            }
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Copies every committed transaction from the WAL into the database
    /// file and empties the WAL (`PRAGMA wal_checkpoint(TRUNCATE)`). Call at a
    /// clean shutdown so the main file holds the whole store on its own.
    /// Durability does not depend on it: the WAL is synced at every commit.
    /// Returns false if another connection kept part of the WAL in use.
    pub fn checkpoint(&self) -> Result<bool> {
        let conn = self.lock()?;
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if let Some(c) = self
            .counter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            c.sync();
        }
        Ok(busy == 0)
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>> {
        // A panic while the lock was held dropped its Transaction, which rolled
        // back: the connection is consistent, so poisoning carries no meaning.
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        match self.damaged() {
            None => Ok(conn),
            Some(reason) => Err(StoreError::Damaged {
                path: self.path.clone(),
                reason,
            }),
        }
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`), committed if
    /// `f` returns `Ok`, rolled back otherwise. A commit that moved the
    /// commit counter is then written to `<db>.commits` (after the commit:
    /// the file must never claim more than the database holds).
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock()?;
        let r = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let before = rollback::current_seq(&tx)?;
            let out = f(&tx)?;
            let after = rollback::current_seq(&tx)?;
            let changed = if after != before {
                rollback::changed_since(&tx, before)?
            } else {
                Vec::new()
            };
            tx.commit()?;
            Ok((out, after != before, changed, after))
        })();
        let (out, moved, changed, seq) = self.watch(r)?;
        if moved {
            self.record(&changed, seq);
        }
        drop(conn);
        Ok(out)
    }

    /// Runs `f` in one read transaction (a consistent snapshot).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock()?;
        let r = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            f(&tx)
        })();
        drop(conn);
        self.watch(r)
    }
}
