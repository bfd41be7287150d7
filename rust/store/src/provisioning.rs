//! The provisioning mirror: a second, small SQLCipher file
//! (`provisioning.db`, same key as the store) holding only what is needed to
//! re-create accounts — server id, URL, client name, scheme, encoding,
//! policy and both AuthSecrets (with the server secret a rotation replaced,
//! while the server may still use it). No nonces, no state, no audit.
//!
//! Why a second file: when the store is damaged, [`crate::Store::open`] moves
//! it aside and rebuilds from provisioning data (docs/design.md, "Crash and
//! corruption"). Accounts added at run time must therefore live somewhere
//! the damage to the store does not reach. The mirror changes only when an
//! account is added or removed or the server rotates its AuthSecret, so it
//! is almost never being written when a crash or a bad sector hits the
//! store.
//!
//! Ordering kept by the daemon: the mirror is a **superset** of the store's
//! accounts at every instant (add: mirror, then store; remove: store, then
//! mirror). A crash between the two steps leaves an extra mirror entry,
//! which the next start turns back into an account (see docs/store.md).
//! A server-secret rotation is written to the mirror before the store;
//! [`ProvisioningMirror::reconcile`] at start brings the mirror's secrets
//! back to the store's if a crash came in between.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rusqlite::{params, params_from_iter, Connection, OptionalExtension, TransactionBehavior};

use crate::check_marker::full_check_reason;
use crate::connection::{initialize, Checks, Cipher, Health};
use crate::model::provisioning_columns;
use crate::recovery::move_aside;
use crate::{
    AccountProvisioning, AuthScheme, AuthSecret, Encoding, Key, Policy, Result, Store, StoreError,
    UnixTime,
};

/// Default mirror file name inside the daemon's state directory.
pub const PROVISIONING_FILE_NAME: &str = "provisioning.db";

/// `MIRROR_MIGRATIONS[i]` takes the mirror from version `i` to `i + 1`.
const MIRROR_MIGRATIONS: &[&str] = &[
    "CREATE TABLE provisioning (
        server_id     TEXT PRIMARY KEY NOT NULL,
        server_url    TEXT NOT NULL,
        client_name   TEXT NOT NULL,
        client_secret BLOB NOT NULL,
        server_secret BLOB NOT NULL,
        auth_scheme   TEXT NOT NULL,
        encoding      TEXT NOT NULL,
        policy        TEXT NOT NULL
    );",
    // Two-phase server-secret rotation (see `server_secret.rs`).
    "ALTER TABLE provisioning ADD COLUMN server_secret_previous BLOB;",
];

/// Schema version of the mirror this build writes (`PRAGMA user_version`).
const MIRROR_VERSION: i64 = MIRROR_MIGRATIONS.len() as i64;

/// The provisioning mirror. `Send + Sync`; every call is one short
/// transaction on its own connection.
pub struct ProvisioningMirror {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for ProvisioningMirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvisioningMirror")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// What [`ProvisioningMirror::reconcile`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorSync {
    /// Store accounts the mirror lacked, now copied into it.
    pub added: Vec<String>,
    /// Mirrored accounts whose server secrets were brought to the store's.
    pub secrets_updated: Vec<String>,
}

impl ProvisioningMirror {
    /// Opens (or creates) the mirror at `path` with the store's key and
    /// checks it the way the store is checked (page MACs, `quick_check`).
    ///
    /// Errors: [`StoreError::WrongKey`] when page 1 does not decrypt (a wrong
    /// key or a damaged header: the caller decides, having opened the store
    /// with the same key); [`StoreError::ProvisioningDamaged`] when the file
    /// decrypts but fails a check. The file is never modified on error.
    pub fn open(path: &Path, key: &Key) -> Result<ProvisioningMirror> {
        // As the store: every page only after an unclean stop (the mirror is
        // as large as the account list).
        let checks = match full_check_reason(path) {
            Some(reason) => {
                log::warn!(
                    "provisioning mirror {}: full integrity check ({reason})",
                    path.display()
                );
                Checks::Full
            }
            None => Checks::Quick,
        };
        let mut conn = match initialize(path, &Cipher::RawKey(key), checks)? {
            Health::Healthy(conn) => conn,
            Health::KeyRejected => {
                return Err(StoreError::WrongKey {
                    path: path.to_path_buf(),
                })
            }
            Health::Damaged(reason) => {
                return Err(StoreError::ProvisioningDamaged {
                    path: path.to_path_buf(),
                    reason,
                })
            }
        };
        // The pages every lookup goes through, as the store's open does.
        if let Err(e) = crate::schema::probe_roots(&conn) {
            if crate::connection::is_damage(&e) {
                return Err(StoreError::ProvisioningDamaged {
                    path: path.to_path_buf(),
                    reason: "a b-tree root page fails its check".into(),
                });
            }
            return Err(e);
        }
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version < 0 {
            return Err(StoreError::CorruptValue {
                column: "provisioning user_version",
            });
        }
        if version > MIRROR_VERSION {
            return Err(StoreError::SchemaTooNew {
                found: version,
                supported: MIRROR_VERSION,
            });
        }
        for (from, sql) in MIRROR_MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", from as i64 + 1)?;
            tx.commit()?;
        }
        Ok(ProvisioningMirror {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    /// Moves a damaged mirror aside (`<path>.corrupt-<UTC time>`, never
    /// deleted) and creates an empty one. Call only once the key is known to
    /// be right (the store opened with it); then fill it with
    /// [`Self::reconcile`]. Returns the mirror and the moved paths.
    pub fn replace_damaged(
        path: &Path,
        key: &Key,
        now: UnixTime,
    ) -> Result<(ProvisioningMirror, Vec<PathBuf>)> {
        let moved = move_aside(path, now)?;
        Ok((Self::open(path, key)?, moved))
    }

    /// The mirror file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every mirrored account, ordered by server id, with no nonces.
    pub fn accounts(&self) -> Result<Vec<AccountProvisioning>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT server_id, server_url, client_name, client_secret, server_secret,
                    auth_scheme, encoding, policy, server_secret_previous
             FROM provisioning ORDER BY server_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                zeroize::Zeroizing::new(r.get::<_, Vec<u8>>(3)?),
                zeroize::Zeroizing::new(r.get::<_, Vec<u8>>(4)?),
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, Option<Vec<u8>>>(8)?.map(zeroize::Zeroizing::new),
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (server_id, server_url, client_name, cs, ss, scheme, enc, policy, prev) = row?;
            let secret = |b: &[u8], column| {
                AuthSecret::new(b.to_vec()).map_err(|_| StoreError::CorruptValue { column })
            };
            out.push(AccountProvisioning {
                server_id,
                server_url,
                client_name,
                client_secret: secret(&cs, "provisioning.client_secret")?,
                server_secret: secret(&ss, "provisioning.server_secret")?,
                server_secret_previous: prev
                    .map(|p| secret(&p, "provisioning.server_secret_previous"))
                    .transpose()?,
                auth_scheme: AuthScheme::from_column(&scheme)?,
                encoding: Encoding::from_column(&enc)?,
                policy: Policy::from_column(&policy)?,
                client_nonce: None,
                server_nonce: None,
            });
        }
        Ok(out)
    }

    /// Records `p` (its nonces are ignored) unless the server id is mirrored
    /// already; returns whether it inserted. An existing entry is left as it
    /// is: it belongs to an account that exists (or is being repaired).
    pub fn insert_if_absent(&self, p: &AccountProvisioning) -> Result<bool> {
        p.validate()?;
        let conn = self.lock();
        insert_in(&conn, p)
    }

    /// Forgets the account; returns whether it was mirrored.
    pub fn remove(&self, server_id: &str) -> Result<bool> {
        let n = self
            .lock()
            .execute("DELETE FROM provisioning WHERE server_id = ?1", [server_id])?;
        Ok(n > 0)
    }

    /// Whether the server id is mirrored.
    pub fn contains(&self, server_id: &str) -> Result<bool> {
        Ok(self
            .lock()
            .query_row(
                "SELECT 1 FROM provisioning WHERE server_id = ?1",
                [server_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Records the account's server secrets after a rotation (current, and
    /// the previous one kept until the server uses the new one). Returns
    /// whether the account is mirrored.
    pub fn set_server_secrets(
        &self,
        server_id: &str,
        current: &AuthSecret,
        previous: Option<&AuthSecret>,
    ) -> Result<bool> {
        set_server_secrets_in(&self.lock(), server_id, current, previous)
    }

    /// Copies every account of `store` that the mirror lacks (accounts made
    /// before the mirror existed, or after a damaged mirror was replaced),
    /// and brings the server secrets of mirrored accounts to the store's (a
    /// crash between the two writes of a rotation), in one transaction.
    /// Entries the store lacks are kept: the mirror is a superset of the
    /// store.
    pub fn reconcile(&self, store: &Store) -> Result<MirrorSync> {
        let mirrored: Vec<AccountProvisioning> = self.accounts()?;
        let mut wanted = Vec::new();
        let mut secrets_differ = Vec::new();
        for a in store.accounts()? {
            let s = store.account_secrets(&a.server_id)?;
            if let Some(m) = mirrored.iter().find(|m| m.server_id == a.server_id) {
                if !same_secret(Some(&m.server_secret), Some(&s.server_secret))
                    || !same_secret(
                        m.server_secret_previous.as_ref(),
                        s.server_secret_previous.as_ref(),
                    )
                {
                    secrets_differ.push((a.server_id, s));
                }
                continue;
            }
            wanted.push(AccountProvisioning {
                server_id: a.server_id,
                server_url: a.server_url,
                client_name: a.client_name,
                client_secret: s.client_secret,
                server_secret: s.server_secret,
                server_secret_previous: s.server_secret_previous,
                auth_scheme: a.auth_scheme,
                encoding: a.encoding,
                policy: a.policy,
                client_nonce: None,
                server_nonce: None,
            });
        }
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut sync = MirrorSync::default();
        for p in &wanted {
            if insert_in(&tx, p)? {
                sync.added.push(p.server_id.clone());
            }
        }
        for (id, s) in &secrets_differ {
            set_server_secrets_in(&tx, id, &s.server_secret, s.server_secret_previous.as_ref())?;
            sync.secrets_updated.push(id.clone());
        }
        tx.commit()?;
        Ok(sync)
    }
}

/// Writes an entry's server secrets; returns whether the entry exists.
fn set_server_secrets_in(
    conn: &Connection,
    server_id: &str,
    current: &AuthSecret,
    previous: Option<&AuthSecret>,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE provisioning SET server_secret = ?1, server_secret_previous = ?2
         WHERE server_id = ?3",
        params![
            current.expose(),
            previous.map(AuthSecret::expose),
            server_id
        ],
    )?;
    Ok(n > 0)
}

fn same_secret(a: Option<&AuthSecret>, b: Option<&AuthSecret>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.ct_eq(b),
        (None, None) => true,
        _ => false,
    }
}

fn insert_in(conn: &Connection, p: &AccountProvisioning) -> Result<bool> {
    let n = conn.execute(
        concat!(
            "INSERT OR IGNORE INTO provisioning (",
            provisioning_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ),
        params_from_iter(p.column_values()),
    )?;
    Ok(n > 0)
}

#[cfg(test)]
#[path = "provisioning_tests.rs"]
mod tests;
