//! The store's error type. Messages tell an operator what to do and never
//! carry a secret, a nonce or key material.

use std::path::PathBuf;

/// Why a key file was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFileProblem {
    /// Group or other users can read or write it (mode must be 0600 or 0400).
    InsecurePermissions {
        /// The file's permission bits.
        mode: u32,
    },
    /// It is not exactly 32 bytes long.
    WrongLength {
        /// Its length in bytes.
        len: u64,
    },
    /// It is a symlink, a directory or another non-regular file.
    NotRegularFile,
}

impl std::fmt::Display for KeyFileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyFileProblem::InsecurePermissions { mode } => write!(
                f,
                "mode {mode:04o} lets other users read it; run `chmod 600` on it \
                 (or replace it if it may have leaked)"
            ),
            KeyFileProblem::WrongLength { len } => {
                write!(
                    f,
                    "is {len} bytes long, a key file holds exactly 32 raw bytes"
                )
            }
            KeyFileProblem::NotRegularFile => f.write_str("is not a regular file"),
        }
    }
}

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The key does not open the database, or the file is not a dmnonce
    /// database. The file is left untouched.
    #[error(
        "wrong key or not a dmnonce database: {path} (the file was left untouched; \
         check that the key file belongs to this store)"
    )]
    WrongKey {
        /// The database file.
        path: PathBuf,
    },
    /// The key file was refused.
    #[error("key file {path}: {problem}")]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        problem: KeyFileProblem,
    },
    /// The database was written by a newer dmnonce whose schema this build
    /// does not know.
    #[error("store schema version {found} is newer than this build supports ({supported}); upgrade dmnonced")]
    SchemaTooNew {
        /// `user_version` found in the file.
        found: i64,
        /// Highest version this build migrates to.
        supported: i64,
    },
    /// No account has this server id.
    #[error("no account for server id {0:?}")]
    UnknownAccount(String),
    /// An account with this server id exists already.
    #[error("an account for server id {0:?} exists already")]
    AccountExists(String),
    /// An account exists whose server id equals the new one ignoring ASCII
    /// case (the existing id).
    #[error(
        "an account for server id {0:?} exists already; server ids that differ only in \
         ASCII case are refused as duplicates"
    )]
    AccountExistsIgnoringCase(String),
    /// No pending work item has this id (it may have been completed).
    #[error("no pending work item {0}")]
    UnknownPending(i64),
    /// A caller-supplied value is out of range.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A value read back from the database is not one this build writes
    /// (the file was edited by hand or by a newer version).
    #[error("unexpected value in column {column} of the store")]
    CorruptValue {
        /// The column.
        column: &'static str,
    },
    /// The provisioning mirror decrypts with the key but fails its checks.
    #[error("provisioning mirror {path} is damaged ({reason})")]
    ProvisioningDamaged {
        /// The mirror file.
        path: PathBuf,
        /// What was wrong (no secrets).
        reason: String,
    },
    /// A check or a query found the open store damaged; it serves nothing
    /// more. The next open moves it aside and recovers.
    #[error(
        "store {path} is damaged ({reason}); it serves nothing more until dmnonced is \
         restarted, which moves it aside and recovers"
    )]
    Damaged {
        /// The database file.
        path: PathBuf,
        /// What was found (no secrets).
        reason: String,
    },
    /// A damaged store was moved aside but a fresh one could not be built.
    #[error("could not build a fresh store after moving a damaged one aside: {0}")]
    RecoveryFailed(&'static str),
    /// A file operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The random source failed.
    #[error("the operating system's random source failed: {0}")]
    Random(getrandom::Error),
    /// An SQLite error not covered above.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl StoreError {
    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        StoreError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}
