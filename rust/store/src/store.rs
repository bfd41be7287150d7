//! The `Store` handle: one SQLCipher connection behind a mutex, and the
//! transaction helpers every operation goes through.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::fallback::FallbackLimit;
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
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    pub(crate) fn from_connection(conn: Connection, path: PathBuf) -> Self {
        Store {
            conn: Mutex::new(conn),
            path,
            fallback_limit: Mutex::new(FallbackLimit::default()),
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
        let conn = self.lock();
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        Ok(busy == 0)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held dropped its Transaction, which rolled
        // back: the connection is consistent, so poisoning carries no meaning.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`), committed if
    /// `f` returns `Ok`, rolled back otherwise.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` in one read transaction (a consistent snapshot).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        f(&tx)
    }
}

/// Row id of the account with this server id.
pub(crate) fn account_id(conn: &Connection, server_id: &str) -> Result<i64> {
    conn.query_row(
        "SELECT id FROM accounts WHERE server_id = ?1",
        [server_id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| StoreError::UnknownAccount(server_id.to_owned()))
}
