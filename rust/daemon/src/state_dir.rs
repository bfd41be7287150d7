//! The state directory is the daemon's alone: it belongs to the daemon's
//! uid, and one dmnonced at a time holds its lock file
//! (docs/configuration.md, "The state directory").
//!
//! Whoever owns the directory can rename and replace the files in it —
//! `store.key` above all — whatever its mode says; and `chmod` by root
//! succeeds on anyone's directory. So a directory another uid owns is
//! refused before anything is created, read or chmod-ed in it. It is not
//! taken over with `chown` either, even as root: what its owner may have put
//! there already (a planted key, a hard link, a symlink) would be adopted.
//!
//! Everything that keeps a single daemon honest lives in its memory — the
//! one-session-per-account guard, the SMS reassembler, the event bus — so
//! two daemons on one store would each run a resync for the same account
//! and overwrite each other's nonces. The control socket's connect test does
//! not prevent that (a second daemon may use another socket path), so the
//! lock is on the state directory itself and is taken before the key or the
//! store is opened.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Name of the lock file in the state directory.
pub const LOCK_FILE: &str = "dmnonced.lock";

/// Why the state directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// It could not be created, examined or secured.
    #[error("state directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another uid owns it.
    #[error(
        "state directory {path} is owned by uid {owner}, not by uid {euid} that dmnonced \
         runs as: that user could replace the key and the store in it; refusing to use it \
         (check its content and chown it to uid {euid}, or choose another --state-dir)"
    )]
    Owner {
        /// The directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// Our effective uid.
        euid: u32,
    },
}

/// Creates the state directory if needed, checks that it is ours, and
/// gives it mode 0700.
pub fn prepare(dir: &Path) -> Result<(), DirError> {
    let io = |source| DirError::Io {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    // Followed through a symlink: the directory used is the one checked.
    let meta = std::fs::metadata(dir).map_err(io)?;
    let euid = crate::sys::effective_uid();
    if meta.uid() != euid {
        return Err(DirError::Owner {
            path: dir.to_path_buf(),
            owner: meta.uid(),
            euid,
        });
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)
}

/// Why the state directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock.
    #[error(
        "state directory {dir} is in use by another dmnonced ({holder}; lock file {lock}): \
         stop that daemon first, or give this one its own --state-dir"
    )]
    Held {
        /// The state directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// `pid N`, or why the pid is not known.
        holder: String,
    },
    /// The lock file could not be opened, locked or written.
    #[error("lock file {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The held lock; dropping it (or the process ending, however it ends)
/// releases it. The file itself stays: removing it on exit would let a
/// starting daemon lock a file that a third one then replaces.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

/// Takes the state directory's lock and records our pid in it, or says
/// which pid holds it.
pub fn lock(dir: &Path) -> Result<StateLock, LockError> {
    let path = dir.join(LOCK_FILE);
    let io = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    // O_NOFOLLOW: a symlink planted here must not make us create or
    // truncate a file elsewhere. std opens with O_CLOEXEC, so a child
    // process does not inherit the lock.
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(io)?;
    if !crate::sys::try_lock_exclusive(&file).map_err(io)? {
        return Err(LockError::Held {
            dir: dir.to_path_buf(),
            lock: path.clone(),
            holder: holder(&file),
        });
    }
    // The pid is for the operator and for the message above; the lock, not
    // the file's content, is what excludes a second daemon.
    file.set_len(0).map_err(io)?;
    file.write_all_at(format!("{}\n", crate::sys::pid()).as_bytes(), 0)
        .map_err(io)?;
    Ok(StateLock { _file: file })
}

/// The holder's pid as written in the lock file. The holder writes it just
/// after taking the lock, so an empty file is read again a few times.
fn holder(file: &File) -> String {
    let mut buf = [0u8; 32];
    for _ in 0..10 {
        match file.read_at(&mut buf, 0) {
            Ok(n) => {
                let text = String::from_utf8_lossy(&buf[..n]);
                if let Ok(pid) = text.trim().parse::<u32>() {
                    return format!("pid {pid}");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return format!("pid unreadable: {e}"),
        }
    }
    "pid not recorded in the lock file".into()
}
