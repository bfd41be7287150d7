//! Which control socket a daemon command talks to (docs/cli.md, "Finding
//! the daemon"): `--socket`, else `$DMNONCE_SOCKET`, else the `socket` of
//! the daemon's configuration file (`--config FILE`, else an installed
//! one), else the first existing of the documented defaults: the systemd
//! and Android sockets, then the per-user one. The default paths come from
//! `dmnonce_control::defaults`, the daemon's own source of them.

use anyhow::{Context as _, Result};
use dmnonce_control::defaults::{env_path, UserDirs, INSTALLED_CONFIGS};
use std::path::{Path, PathBuf};

use crate::failure::{Failure, Kind};

/// The environment variable that names the socket.
pub const SOCKET_ENV: &str = "DMNONCE_SOCKET";

/// What the process sees: passed in so that the order can be tested
/// without touching the machine's `/etc` or `/run`.
pub struct Surroundings {
    pub socket_env: Option<PathBuf>,
    pub installed_configs: Vec<PathBuf>,
    pub defaults: Vec<PathBuf>,
}

impl Surroundings {
    pub fn from_process() -> Surroundings {
        Surroundings {
            socket_env: env_path(SOCKET_ENV),
            installed_configs: INSTALLED_CONFIGS.iter().map(PathBuf::from).collect(),
            defaults: UserDirs::from_process().socket_candidates().to_vec(),
        }
    }
}

/// The socket to connect to.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// Named by the flag, the variable or a configuration file.
    Named(PathBuf),
    /// Nobody named one: the first of these that exists.
    FirstExisting(Vec<PathBuf>),
}

/// Resolves the socket; errors only for a `--config` file that cannot be
/// read or parsed (the operator asked for it).
pub fn resolve(flag: Option<&Path>, config: Option<&Path>, env: &Surroundings) -> Result<Target> {
    if let Some(path) = flag {
        return Ok(Target::Named(path.to_path_buf()));
    }
    if let Some(path) = &env.socket_env {
        return Ok(Target::Named(path.clone()));
    }
    if let Some(file) = config {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read --config {}", file.display()))?;
        if let Some(socket) = socket_of(&text)
            .with_context(|| format!("--config {}: not a dmnonced configuration", file.display()))?
        {
            return Ok(Target::Named(socket));
        }
    } else {
        // An installed file that is unreadable or broken is the daemon's
        // problem (it refuses to start and says why); here it only means
        // that it names no socket.
        for file in &env.installed_configs {
            let named = std::fs::read_to_string(file)
                .ok()
                .and_then(|text| socket_of(&text).ok().flatten());
            if let Some(socket) = named {
                return Ok(Target::Named(socket));
            }
        }
    }
    Ok(Target::FirstExisting(env.defaults.clone()))
}

/// The top-level `socket` key of a daemon configuration (TOML), if any.
/// The other keys are the daemon's business.
fn socket_of(text: &str) -> Result<Option<PathBuf>> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| anyhow::anyhow!("{}", e.message().replace('\n', " ")))?;
    match table.get("socket") {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(PathBuf::from(s))),
        Some(_) => anyhow::bail!("`socket` is not a string"),
    }
}

impl Target {
    /// The path to connect to; unreachable when no default exists.
    pub fn path(self) -> Result<PathBuf> {
        match self {
            Target::Named(path) => Ok(path),
            Target::FirstExisting(candidates) => candidates
                .iter()
                .find(|p| p.symlink_metadata().is_ok())
                .cloned()
                .ok_or_else(|| {
                    let tried: Vec<String> =
                        candidates.iter().map(|p| p.display().to_string()).collect();
                    Failure {
                        kind: Kind::Unreachable,
                        message: format!(
                            "dmnonced is not running: no socket at {} (give --socket, \
                             {SOCKET_ENV} or --config)",
                            tried.join(", ")
                        ),
                    }
                    .into()
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(dir: &Path, socket_env: Option<&str>) -> Surroundings {
        Surroundings {
            socket_env: socket_env.map(PathBuf::from),
            installed_configs: vec![dir.join("missing.toml"), dir.join("installed.toml")],
            defaults: vec![dir.join("system.sock"), dir.join("user.sock")],
        }
    }

    #[test]
    fn flag_then_env_then_config_then_installed_then_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let given = d.join("given.toml");
        std::fs::write(&given, "socket = \"/from/given\"\nallowed_uids = [0]\n").unwrap();
        let flag = Path::new("/from/flag");
        let named = |p: &str| Target::Named(PathBuf::from(p));
        let e = env(d, Some("/from/env"));
        assert_eq!(
            resolve(Some(flag), Some(&given), &e).unwrap(),
            named("/from/flag")
        );
        assert_eq!(resolve(None, Some(&given), &e).unwrap(), named("/from/env"));
        let e = env(d, None);
        assert_eq!(
            resolve(None, Some(&given), &e).unwrap(),
            named("/from/given")
        );
        // No installed file yet: the defaults, in their order.
        let defaults = Target::FirstExisting(e.defaults.clone());
        assert_eq!(resolve(None, None, &e).unwrap(), defaults);
        // An installed file without `socket` (systemd's) changes nothing.
        std::fs::write(d.join("installed.toml"), "allowed_uids = [0]\n").unwrap();
        assert_eq!(resolve(None, None, &e).unwrap(), defaults);
        std::fs::write(d.join("installed.toml"), "socket = \"/from/installed\"\n").unwrap();
        assert_eq!(resolve(None, None, &e).unwrap(), named("/from/installed"));
        // A given file wins over an installed one, even without `socket`.
        std::fs::write(&given, "[http]\nmax_attempts = 2\n").unwrap();
        assert_eq!(resolve(None, Some(&given), &e).unwrap(), defaults);
    }

    #[test]
    fn a_broken_given_config_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = env(dir.path(), None);
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "socket = 7\n").unwrap();
        let err = resolve(None, Some(&file), &e).unwrap_err();
        assert!(
            format!("{err:#}").contains("`socket` is not a string"),
            "{err:#}"
        );
        std::fs::write(&file, "socket = \n").unwrap();
        assert!(resolve(None, Some(&file), &e).is_err());
        let missing = dir.path().join("missing.toml");
        let err = resolve(None, Some(&missing), &e).unwrap_err();
        assert!(
            format!("{err:#}").contains("cannot read --config"),
            "{err:#}"
        );
    }

    #[test]
    fn defaults_take_the_first_that_exists() {
        let dir = tempfile::tempdir().unwrap();
        let e = env(dir.path(), None);
        let err = Target::FirstExisting(e.defaults.clone())
            .path()
            .unwrap_err();
        let failure = err.downcast_ref::<Failure>().expect("a classified failure");
        assert_eq!(failure.kind, Kind::Unreachable);
        assert!(
            failure.message.contains("system.sock, "),
            "{}",
            failure.message
        );
        std::fs::write(&e.defaults[1], "").unwrap();
        let path = Target::FirstExisting(e.defaults.clone()).path().unwrap();
        assert_eq!(path, e.defaults[1]);
        std::fs::write(&e.defaults[0], "").unwrap();
        let path = Target::FirstExisting(e.defaults.clone()).path().unwrap();
        assert_eq!(path, e.defaults[0]);
    }
}
