//! Where a daemon and its clients meet when nobody says otherwise: the
//! documented default paths of the state directory and the control socket
//! (docs/configuration.md), and how long a client waits for an answer.
//!
//! The daemon's embedded configuration, the C library, the JNI bindings
//! and `dmnoncectl` all take these from here, so a default that changes
//! changes for all of them at once.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// File name of the control socket in a per-user directory.
pub const SOCKET_FILE_NAME: &str = "dmnonced.sock";

/// The socket systemd's `dmnonced.socket` listens on
/// (packaging/dmnonced.socket).
pub const SYSTEMD_SOCKET: &str = "/run/dmnonced.sock";

/// The socket Android's init creates for the daemon (android/dmnonced.rc).
pub const ANDROID_SOCKET: &str = "/dev/socket/dmnonced";

/// Where the packages install the daemon's configuration: systemd
/// (packaging/README.md), then Android (android/Android.bp).
pub const INSTALLED_CONFIGS: [&str; 2] = [
    "/etc/dmnonce/dmnonced.toml",
    "/system_ext/etc/dmnonce/dmnonced.toml",
];

/// Time to wait for a response unless the caller sets another. Requests
/// are answered from memory and one store transaction, so anything slower
/// means a stuck daemon.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The per-user directories of the XDG base directory specification, as
/// the process environment gives them (empty values count as unset, as
/// the specification says).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserDirs {
    /// `$XDG_STATE_HOME`.
    pub state_home: Option<PathBuf>,
    /// `$XDG_RUNTIME_DIR`.
    pub runtime_dir: Option<PathBuf>,
    /// `$HOME`.
    pub home: Option<PathBuf>,
}

/// A path from the process environment; an empty value counts as unset
/// (as the XDG specification says of its variables).
pub fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl UserDirs {
    /// Reads the process environment.
    pub fn from_process() -> UserDirs {
        UserDirs {
            state_home: env_path("XDG_STATE_HOME"),
            runtime_dir: env_path("XDG_RUNTIME_DIR"),
            home: env_path("HOME"),
        }
    }

    /// The default state directory: `$XDG_STATE_HOME/dmnonce`, else
    /// `$HOME/.local/state/dmnonce` (the specification's default for an
    /// unset `XDG_STATE_HOME`). Only with neither variable set (a bare
    /// service environment) is it `./dmnonce-state`: there is no other
    /// place to put it, and a service normally names its own.
    pub fn state_dir(&self) -> PathBuf {
        match (&self.state_home, &self.home) {
            (Some(state), _) => state.join("dmnonce"),
            (None, Some(home)) => home.join(".local/state/dmnonce"),
            (None, None) => PathBuf::from("./dmnonce-state"),
        }
    }

    /// The default per-user socket: `$XDG_RUNTIME_DIR/dmnonced.sock`, else
    /// in `state_dir` (the daemon's own, which a flag or file may move).
    pub fn socket_in(&self, state_dir: &Path) -> PathBuf {
        self.runtime_dir
            .as_deref()
            .unwrap_or(state_dir)
            .join(SOCKET_FILE_NAME)
    }

    /// The default per-user socket of a daemon with the default state
    /// directory.
    pub fn user_socket(&self) -> PathBuf {
        self.socket_in(&self.state_dir())
    }

    /// Where a client looks for a daemon nobody named, in order: the
    /// system sockets of the packages (systemd, Android) before the
    /// per-user one, so that `dmnoncectl` run by hand reaches the packaged
    /// daemon. A client connects to the first that exists.
    pub fn socket_candidates(&self) -> [PathBuf; 3] {
        [
            PathBuf::from(SYSTEMD_SOCKET),
            PathBuf::from(ANDROID_SOCKET),
            self.user_socket(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(state: Option<&str>, runtime: Option<&str>, home: Option<&str>) -> UserDirs {
        UserDirs {
            state_home: state.map(PathBuf::from),
            runtime_dir: runtime.map(PathBuf::from),
            home: home.map(PathBuf::from),
        }
    }

    #[test]
    fn state_dir_follows_xdg_then_home() {
        let d = dirs(Some("/s"), None, Some("/h"));
        assert_eq!(d.state_dir(), PathBuf::from("/s/dmnonce"));
        let d = dirs(None, None, Some("/h"));
        assert_eq!(d.state_dir(), PathBuf::from("/h/.local/state/dmnonce"));
        let d = dirs(None, None, None);
        assert_eq!(d.state_dir(), PathBuf::from("./dmnonce-state"));
    }

    #[test]
    fn socket_prefers_runtime_dir_then_state_dir() {
        let d = dirs(None, Some("/r"), Some("/h"));
        assert_eq!(d.user_socket(), PathBuf::from("/r/dmnonced.sock"));
        let d = dirs(None, None, Some("/h"));
        assert_eq!(
            d.user_socket(),
            PathBuf::from("/h/.local/state/dmnonce/dmnonced.sock")
        );
        assert_eq!(
            d.socket_in(Path::new("/x")),
            PathBuf::from("/x/dmnonced.sock")
        );
    }

    #[test]
    fn system_sockets_come_first() {
        let c = dirs(None, Some("/r"), None).socket_candidates();
        assert_eq!(c[0], PathBuf::from("/run/dmnonced.sock"));
        assert_eq!(c[1], PathBuf::from("/dev/socket/dmnonced"));
        assert_eq!(c[2], PathBuf::from("/r/dmnonced.sock"));
    }
}
