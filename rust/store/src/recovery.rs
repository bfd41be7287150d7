//! Recovery from a damaged store: set the old file aside (rename, never
//! delete, with its WAL and shared-memory files, so an operator or a later
//! dmnonce can still try to read it), then build a fresh store beside it and
//! rename it into place, so that a crash during recovery never leaves a
//! half-built store that would pass for a healthy one.

use std::path::{Path, PathBuf};

use rusqlite::TransactionBehavior;

use crate::connection::{initialize, Checks, Cipher, Health};
use crate::files::{companions, parent_dir, sync_dir};
use crate::{schema, AccountProvisioning, AuditEvent, Result, StoreError, SyncState, UnixTime};

/// Renames `db` to `db.corrupt-YYYYMMDDTHHMMSSZ` (plus `.N` if taken) and its
/// `-wal`/`-shm` files to the same name with their suffix, so SQLite still
/// pairs them. Returns every path that now holds moved data.
pub(crate) fn move_aside(db: &Path, now: UnixTime) -> Result<Vec<PathBuf>> {
    let stamp = now.compact_utc();
    let base = {
        let mut n = 0u32;
        loop {
            let mut name = db.as_os_str().to_owned();
            name.push(format!(".corrupt-{stamp}"));
            if n > 0 {
                name.push(format!(".{n}"));
            }
            let candidate = PathBuf::from(name);
            let taken = candidate.symlink_metadata().is_ok()
                || companions(&candidate)
                    .iter()
                    .any(|c| c.symlink_metadata().is_ok());
            if !taken {
                break candidate;
            }
            n += 1;
        }
    };
    let mut moved = Vec::new();
    let pairs = std::iter::once((db.to_path_buf(), base.clone()))
        .chain(companions(db).into_iter().zip(companions(&base)));
    for (from, to) in pairs {
        match std::fs::rename(&from, &to) {
            Ok(()) => moved.push(to),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io("move damaged store aside", &from, e)),
        }
    }
    sync_dir(parent_dir(db))?;
    Ok(moved)
}

/// Builds a fresh store at `<db>.recovering` — schema, the provisioned
/// accounts as `needs-resync` without nonces, a `store-recovered` audit
/// event — and renames it to `db` once complete. Until that rename, `db` is
/// missing, which the next open treats as a lost store and recovers again.
/// Returns the server ids created.
pub(crate) fn rebuild(
    db: &Path,
    cipher: &Cipher<'_>,
    provisioning: &[AccountProvisioning],
    reason: &str,
    moved: &[PathBuf],
    now: UnixTime,
) -> Result<Vec<String>> {
    let mut tmp = db.as_os_str().to_owned();
    tmp.push(".recovering");
    let tmp = PathBuf::from(tmp);
    // Left over from a recovery that was interrupted: ours, incomplete.
    for p in std::iter::once(tmp.clone()).chain(companions(&tmp)) {
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(StoreError::io("remove unfinished store", &p, e))
            }
            _ => {}
        }
    }
    let Health::Healthy(mut conn) = initialize(&tmp, cipher, Checks::Full)? else {
        return Err(StoreError::RecoveryFailed(
            "a new database failed its checks",
        ));
    };
    schema::migrate(&mut conn)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut created = Vec::new();
    for p in provisioning {
        crate::accounts::insert(&tx, p, SyncState::NeedsResync, false, now)?;
        created.push(p.server_id.clone());
    }
    let names: Vec<String> = moved
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let moved_text = if names.is_empty() {
        "nothing to move aside".to_owned()
    } else {
        format!("moved aside as {}", names.join(", "))
    };
    crate::audit::insert(
        &tx,
        None,
        AuditEvent::StoreRecovered,
        &format!(
            "{reason}; {moved_text}; {} account(s) re-created as needs-resync",
            created.len()
        ),
        now,
    )?;
    tx.commit()?;
    // Leave WAL mode so that the whole store is in the one file we rename.
    conn.query_row("PRAGMA journal_mode = DELETE", [], |r| {
        r.get::<_, String>(0)
    })?;
    conn.close().map_err(|(_, e)| StoreError::Sqlite(e))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::io("sync rebuilt store", &tmp, e))?;
    std::fs::rename(&tmp, db).map_err(|e| StoreError::io("install rebuilt store", db, e))?;
    sync_dir(parent_dir(db))?;
    Ok(created)
}
