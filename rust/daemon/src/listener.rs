//! The control socket: bound by us, or inherited from systemd
//! (`LISTEN_FDS`/`LISTEN_PID`, sd_listen_fds(3)) or Android init
//! (`ANDROID_SOCKET_dmnonced`, the `socket` line of the init `.rc`).

use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

/// First fd systemd passes (`SD_LISTEN_FDS_START`).
const SD_LISTEN_FDS_START: RawFd = 3;
/// Android init's environment variable for the socket named `dmnonced`.
pub const ANDROID_SOCKET_ENV: &str = "ANDROID_SOCKET_dmnonced";

/// Where the listening socket came from. An inherited socket carries the
/// path it is bound to (None: abstract or unnamed), read from the socket
/// itself: the configured `socket` need not be where the supervisor put it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// We bound this path (and remove it when we stop).
    Bound(PathBuf),
    /// systemd socket activation.
    Systemd(Option<PathBuf>),
    /// Android init.
    AndroidInit(Option<PathBuf>),
}

/// As the log and the `ready` line name it: the path, prefixed by the
/// supervisor that passed it (`systemd:/run/dmnonced.sock`).
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (by, path) = match self {
            Origin::Bound(p) => return write!(f, "{}", p.display()),
            Origin::Systemd(p) => ("systemd", p),
            Origin::AndroidInit(p) => ("android", p),
        };
        match path {
            Some(p) => write!(f, "{by}:{}", p.display()),
            None => write!(f, "{by}:(unnamed socket)"),
        }
    }
}

/// The filesystem path `listener` is bound to, if it has one.
fn bound_path(listener: &UnixListener) -> Option<PathBuf> {
    let addr = listener.local_addr().ok()?;
    addr.as_pathname().map(Path::to_path_buf)
}

/// Why the socket could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// Another daemon answers on the path.
    #[error("another dmnonced is already serving {0}")]
    InUse(PathBuf),
    /// The path exists and is not a socket.
    #[error("{0} exists and is not a socket; refusing to replace it")]
    NotASocket(PathBuf),
    /// Binding failed.
    #[error("cannot bind control socket {path}: {source}")]
    Bind {
        /// The path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// An inherited fd is unusable.
    #[error("inherited control socket ({what}) unusable: {source}")]
    Inherited {
        /// Which mechanism.
        what: &'static str,
        /// Why.
        source: io::Error,
    },
}

/// The inherited socket, if a supervisor passed one. Clears the variables
/// so that nothing we start inherits them.
pub fn inherited() -> Result<Option<(UnixListener, Origin)>, ListenError> {
    let pid_ok = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
        == Some(crate::sys::pid());
    let fds = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(0);
    if pid_ok && fds >= 1 {
        std::env::remove_var("LISTEN_PID");
        std::env::remove_var("LISTEN_FDS");
        std::env::remove_var("LISTEN_FDNAMES");
        let l = crate::sys::adopt_listener(SD_LISTEN_FDS_START).map_err(|source| {
            ListenError::Inherited {
                what: "systemd LISTEN_FDS",
                source,
            }
        })?;
        let path = bound_path(&l);
        return Ok(Some((l, Origin::Systemd(path))));
    }
    if let Ok(fd) = std::env::var(ANDROID_SOCKET_ENV) {
        std::env::remove_var(ANDROID_SOCKET_ENV);
        let fd: RawFd = fd.trim().parse().map_err(|_| ListenError::Inherited {
            what: ANDROID_SOCKET_ENV,
            source: io::Error::new(io::ErrorKind::InvalidInput, "not an fd number"),
        })?;
        let l = crate::sys::adopt_listener(fd).map_err(|source| ListenError::Inherited {
            what: ANDROID_SOCKET_ENV,
            source,
        })?;
        let path = bound_path(&l);
        return Ok(Some((l, Origin::AndroidInit(path))));
    }
    Ok(None)
}

/// Binds `path`, replacing a stale socket file left by a crashed daemon.
/// `open_to_all`: mode 0666 (the uid allow-list is the gate) instead of 0600.
pub fn bind(path: &Path, open_to_all: bool) -> Result<UnixListener, ListenError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| ListenError::Bind {
            path: path.to_path_buf(),
            source,
        })?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            if UnixStream::connect(path).is_ok() {
                return Err(ListenError::InUse(path.to_path_buf()));
            }
            let _ = std::fs::remove_file(path);
        }
        Ok(_) => return Err(ListenError::NotASocket(path.to_path_buf())),
        Err(_) => {}
    }
    // No window in which the socket exists with a wider mode than wanted.
    let old = crate::sys::umask(0o177);
    let bound = UnixListener::bind(path);
    crate::sys::umask(old);
    let listener = bound.map_err(|source| ListenError::Bind {
        path: path.to_path_buf(),
        source,
    })?;
    if open_to_all {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666));
    }
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_socket_is_replaced_live_one_and_plain_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/d.sock");
        let first = bind(&path, false).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // Live: another daemon answers on it.
        assert!(matches!(bind(&path, false), Err(ListenError::InUse(_))));
        // Stale: the file stays behind after its listener is gone.
        drop(first);
        let again = bind(&path, true).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o666);
        drop(again);
        let plain = dir.path().join("file");
        std::fs::write(&plain, b"x").unwrap();
        assert!(matches!(
            bind(&plain, false),
            Err(ListenError::NotASocket(_))
        ));
        assert_eq!(std::fs::read(&plain).unwrap(), b"x");
    }
}
