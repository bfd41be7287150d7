//! `<db>.needs-check` and the other signs that the next open must read
//! every page of the store.

use std::path::{Path, PathBuf};

use crate::files::{companions, parent_dir, sync_dir};
use crate::{Result, StoreError};

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

/// Writes the marker (durably: the next open must see it).
pub(crate) fn write_marker(db: &Path, reason: &str) -> Result<()> {
    let path = marker_path(db);
    std::fs::write(&path, format!("{reason}\n"))
        .and_then(|_| std::fs::File::open(&path)?.sync_all())
        .map_err(|e| StoreError::io("write check marker", &path, e))?;
    sync_dir(parent_dir(&path))
}

pub(crate) fn remove_marker(db: &Path) {
    let path = marker_path(db);
    if path.exists() {
        if let Err(e) = std::fs::remove_file(&path) {
            log::warn!("could not remove {}: {e}", path.display());
        }
    }
}
