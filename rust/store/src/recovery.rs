//! Setting a damaged database aside: rename, never delete, with its WAL and
//! shared-memory files, so an operator (or a later dmnonce) can still try to
//! read it.

use std::path::{Path, PathBuf};

use crate::key::{parent_dir, sync_dir};
use crate::{Result, StoreError, UnixTime};

/// Paths of the `-wal` and `-shm` companions of a database file.
pub(crate) fn companions(db: &Path) -> [PathBuf; 2] {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let mut shm = db.as_os_str().to_owned();
    shm.push("-shm");
    [PathBuf::from(wal), PathBuf::from(shm)]
}

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
