//! The daemon's configuration: an embedded default, a TOML file over it,
//! command-line flags over both (docs/configuration.md is the reference).

use std::path::{Path, PathBuf};
use std::time::Duration;

use dmnonce_control::defaults::UserDirs;
use dmnonce_proto::DefaultNonce;
use dmnonce_syncml::SessionIdFormat;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// Everything the daemon can be told. Every field has a default, so
/// `dmnonced` with no arguments runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// State directory (key file, store); created 0700.
    pub state_dir: PathBuf,
    /// Control socket path (ignored when a socket is inherited).
    pub socket: PathBuf,
    /// Peer uids allowed on the control socket.
    pub allowed_uids: Vec<u32>,
    /// Control socket limits.
    pub control: ControlSettings,
    /// HTTP(S) client of the resync session.
    pub http: HttpSettings,
    /// Bounds on the default-nonce fallback.
    pub fallback: FallbackSettings,
    /// SMS reassembly bounds.
    pub sms: SmsSettings,
    /// DevInfo reported in Pkg#1.
    pub device: DeviceSettings,
    /// The ofono push agent.
    pub ofono: OfonoConfig,
    /// Log verbosity: 0 = warnings and errors … 3 = trace.
    pub verbosity: u8,
}

/// Limits of the control socket server.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ControlSettings {
    /// Connections served at once; more are answered `busy` and closed.
    pub max_connections: usize,
    /// Connections one peer uid may hold at once (capped by
    /// `max_connections`): one runaway client cannot lock the others out.
    pub max_connections_per_uid: usize,
    /// A request connection that sends nothing this long, after connecting
    /// or after its last answer, is closed.
    pub idle_timeout_ms: u64,
    /// Once a request's first byte arrived, the whole line must arrive
    /// within this (a deadline, not reset by each byte) or the connection
    /// is closed: a client dribbling bytes cannot hold its slot.
    pub request_timeout_ms: u64,
    /// A peer that does not take a response or event within this is dropped.
    pub write_timeout_ms: u64,
    /// Events queued per subscriber before it is disconnected as too slow.
    pub subscriber_queue: usize,
}

impl Default for ControlSettings {
    fn default() -> Self {
        ControlSettings {
            max_connections: 32,
            max_connections_per_uid: 24,
            idle_timeout_ms: 60_000,
            request_timeout_ms: 10_000,
            write_timeout_ms: 5_000,
            subscriber_queue: 256,
        }
    }
}

/// The resync session's HTTP client.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// PEM file of the CA certificates trusted for HTTPS servers. When set,
    /// these are the only trust anchors (a DM server is pinned to its
    /// operator's CA); when unset, Mozilla's roots (webpki-roots).
    pub ca_file: Option<PathBuf>,
    /// TCP (and TLS) connect timeout.
    pub connect_timeout_ms: u64,
    /// Whole request timeout (send, wait, read the answer).
    pub request_timeout_ms: u64,
    /// Tries per package when the network fails (connect refused, timeout).
    pub max_attempts: u32,
    /// First back-off pause; doubled after every failed try.
    pub backoff_initial_ms: u64,
    /// Longest back-off pause.
    pub backoff_max_ms: u64,
    /// Largest accepted answer body.
    pub max_body_bytes: u64,
    /// Times a pending resync is resumed after daemon restarts before it is
    /// failed for good.
    pub max_resumes: u32,
    /// Resync sessions (one thread each) run at once; the others wait,
    /// pending in the store, and start as sessions end.
    pub max_sessions: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            ca_file: None,
            connect_timeout_ms: 5_000,
            request_timeout_ms: 15_000,
            max_attempts: 6,
            backoff_initial_ms: 500,
            backoff_max_ms: 30_000,
            max_body_bytes: 1 << 20,
            max_resumes: 3,
            max_sessions: 4,
        }
    }
}

impl HttpSettings {
    /// The pause after `failed` tries (1-based): initial × 2^(failed-1), capped.
    pub fn backoff(&self, failed: u32) -> Duration {
        let factor = 1u64 << failed.saturating_sub(1).min(20);
        Duration::from_millis(
            self.backoff_initial_ms
                .saturating_mul(factor)
                .min(self.backoff_max_ms),
        )
    }
}

/// Bounds on the change request's default-nonce fallback.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FallbackSettings {
    /// Default-nonce notifications accepted per account per hour.
    pub max_per_hour: u32,
    /// Readings of "0x00000000" tried, in order (file: `"text"`, `"zero"`).
    #[serde(deserialize_with = "readings_named")]
    pub readings: Vec<DefaultNonce>,
}

impl Default for FallbackSettings {
    fn default() -> Self {
        FallbackSettings {
            max_per_hour: 5,
            readings: vec![DefaultNonce::Text, DefaultNonce::Zero],
        }
    }
}

/// Bounds on SMS reassembly.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsSettings {
    /// A concatenated push whose parts do not all arrive within this is dropped.
    pub reassembly_timeout_ms: u64,
    /// Concatenated pushes held at once.
    pub max_pending: usize,
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            reassembly_timeout_ms: 120_000,
            max_pending: 16,
        }
    }
}

/// DevInfo of Pkg#1.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceSettings {
    /// `./DevInfo/DevId`; empty: the account's client name.
    pub dev_id: String,
    /// `./DevInfo/Man`.
    pub man: String,
    /// `./DevInfo/Mod`.
    pub model: String,
    /// `./DevInfo/Lang`.
    pub lang: String,
    /// `SessionID` format (file: `"hex"`, the default, or `"decimal"`).
    #[serde(deserialize_with = "session_id_format_named")]
    pub session_id_format: SessionIdFormat,
}

impl Default for DeviceSettings {
    fn default() -> Self {
        DeviceSettings {
            dev_id: String::new(),
            man: "dmnonce".into(),
            model: "dmnonced".into(),
            lang: "en-US".into(),
            session_id_format: SessionIdFormat::HexUpper,
        }
    }
}

/// The `[ofono]` section (used when the `ofono` feature is built in).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfonoConfig {
    /// Register the push agent.
    pub enabled: bool,
    /// `"system"`, `"session"` or a D-Bus address (`transport:key=value,…`);
    /// checked at load, so a misspelt `"sytem"` is not taken for an address.
    #[serde(deserialize_with = "bus_named")]
    pub bus: String,
    /// Uids whose bus connections may call the agent besides the owner of
    /// `org.ofono` (everyone else is refused with AccessDenied).
    pub allowed_uids: Vec<u32>,
}

impl Default for OfonoConfig {
    fn default() -> Self {
        OfonoConfig {
            enabled: cfg!(target_os = "linux") && !cfg!(target_os = "android"),
            bus: "system".into(),
            allowed_uids: Vec::new(),
        }
    }
}

/// The TOML file: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    state_dir: Option<PathBuf>,
    socket: Option<PathBuf>,
    allowed_uids: Option<Vec<u32>>,
    control: ControlSettings,
    http: HttpSettings,
    fallback: FallbackSettings,
    sms: SmsSettings,
    device: DeviceSettings,
    ofono: OfonoConfig,
    #[serde(deserialize_with = "log_level_named")]
    log_level: Option<u8>,
}

// The file's names for values that have a type. Each is decoded here, once,
// while the file is read, so the daemon works on types, and a name it does
// not know stops it with the key in the message (the TOML parser adds file,
// line and column) instead of falling back to a default somewhere later.

fn session_id_format_named<'de, D: Deserializer<'de>>(d: D) -> Result<SessionIdFormat, D::Error> {
    match String::deserialize(d)?.as_str() {
        "hex" => Ok(SessionIdFormat::HexUpper),
        "decimal" => Ok(SessionIdFormat::Decimal),
        other => Err(D::Error::custom(format!(
            "device.session_id_format {other:?}: expected \"hex\" or \"decimal\""
        ))),
    }
}

fn readings_named<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<DefaultNonce>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|name| {
            DefaultNonce::parse(name).ok_or_else(|| {
                D::Error::custom(format!(
                    "fallback.readings {name:?}: each entry is \"text\" or \"zero\""
                ))
            })
        })
        .collect()
}

fn log_level_named<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
    match String::deserialize(d)?.as_str() {
        "warn" => Ok(Some(0)),
        "info" => Ok(Some(1)),
        "debug" => Ok(Some(2)),
        "trace" => Ok(Some(3)),
        other => Err(D::Error::custom(format!(
            "log_level {other:?}: expected warn, info, debug or trace"
        ))),
    }
}

/// Any D-Bus address names its transport before a colon (`unix:path=…`);
/// zbus parses the rest when it connects.
fn bus_named<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let bus = String::deserialize(d)?;
    if bus == "system"
        || bus == "session"
        || bus.split_once(':').is_some_and(|(t, _)| !t.is_empty())
    {
        Ok(bus)
    } else {
        Err(D::Error::custom(format!(
            "ofono.bus {bus:?}: expected \"system\", \"session\" or a D-Bus address (transport:key=value,...)"
        )))
    }
}

/// Command-line overrides.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--config FILE`.
    pub config_file: Option<PathBuf>,
    /// `--state-dir DIR`.
    pub state_dir: Option<PathBuf>,
    /// `--socket PATH`.
    pub socket: Option<PathBuf>,
    /// Number of `-v`.
    pub verbose: u8,
}

/// Why the configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this daemon.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (line, column, key).
        message: String,
    },
    /// A value is out of range; the message starts with its key.
    #[error("{}: {message}", origin(.file))]
    Invalid {
        /// The file the value came from; `None`: the embedded default.
        file: Option<PathBuf>,
        /// `key: what is wrong`.
        message: String,
    },
}

fn origin(file: &Option<PathBuf>) -> String {
    match file {
        Some(path) => format!("config file {}", path.display()),
        None => "config".to_string(),
    }
}

/// Where the environment says things go.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    /// The XDG directories and `$HOME`.
    pub dirs: UserDirs,
    /// The daemon's own uid.
    pub uid: u32,
}

impl Environment {
    /// Reads the process environment.
    pub fn from_process() -> Environment {
        Environment {
            dirs: UserDirs::from_process(),
            uid: crate::sys::own_uid(),
        }
    }
}

impl Config {
    /// The embedded default for an environment.
    pub fn embedded(env: &Environment) -> Config {
        let state_dir = env.dirs.state_dir();
        let socket = env.dirs.socket_in(&state_dir);
        let mut allowed_uids = vec![env.uid, 0];
        allowed_uids.dedup();
        Config {
            state_dir,
            socket,
            allowed_uids,
            control: ControlSettings::default(),
            http: HttpSettings::default(),
            fallback: FallbackSettings::default(),
            sms: SmsSettings::default(),
            device: DeviceSettings::default(),
            ofono: OfonoConfig::default(),
            verbosity: 1,
        }
    }

    /// Default, then the file, then the flags.
    pub fn load(overrides: &Overrides, env: &Environment) -> Result<Config, ConfigError> {
        let mut config = Config::embedded(env);
        let mut socket_from_file = false;
        if let Some(path) = &overrides.config_file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            socket_from_file = config.apply_file(&text, path)?;
        }
        if let Some(dir) = &overrides.state_dir {
            config.state_dir = dir.clone();
        }
        if let Some(socket) = &overrides.socket {
            config.socket = socket.clone();
        } else if !socket_from_file {
            // Without XDG_RUNTIME_DIR the default socket lives in the state
            // dir: follow a moved one.
            config.socket = env.dirs.socket_in(&config.state_dir);
        }
        config.verbosity = config.verbosity.saturating_add(overrides.verbose).min(4);
        config.validate().map_err(|message| ConfigError::Invalid {
            file: overrides.config_file.clone(),
            message,
        })?;
        Ok(config)
    }

    /// Applies a TOML text; returns whether it named the socket.
    fn apply_file(&mut self, text: &str, path: &Path) -> Result<bool, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().replace('\n', " "),
        })?;
        if let Some(dir) = file.state_dir {
            self.state_dir = dir;
        }
        let named_socket = file.socket.is_some();
        if let Some(socket) = file.socket {
            self.socket = socket;
        }
        if let Some(uids) = file.allowed_uids {
            self.allowed_uids = uids;
        }
        self.control = file.control;
        self.http = file.http;
        self.fallback = file.fallback;
        self.sms = file.sms;
        self.device = file.device;
        self.ofono = file.ofono;
        if let Some(verbosity) = file.log_level {
            self.verbosity = verbosity;
        }
        Ok(named_socket)
    }

    /// The limits the types alone do not express; `Err("key: why")`.
    fn validate(&self) -> Result<(), String> {
        let positive = [
            (
                "control.max_connections",
                self.control.max_connections as u64,
            ),
            (
                "control.max_connections_per_uid",
                self.control.max_connections_per_uid as u64,
            ),
            ("control.idle_timeout_ms", self.control.idle_timeout_ms),
            (
                "control.request_timeout_ms",
                self.control.request_timeout_ms,
            ),
            (
                "control.subscriber_queue",
                self.control.subscriber_queue as u64,
            ),
            ("http.max_attempts", u64::from(self.http.max_attempts)),
            ("http.max_sessions", self.http.max_sessions as u64),
            ("http.connect_timeout_ms", self.http.connect_timeout_ms),
            ("http.request_timeout_ms", self.http.request_timeout_ms),
            ("sms.max_pending", self.sms.max_pending as u64),
        ];
        match positive.iter().find(|(_, value)| *value == 0) {
            Some((key, _)) => Err(format!("{key} must be at least 1")),
            None => Ok(()),
        }
    }

    /// The store's file.
    pub fn db_path(&self) -> PathBuf {
        self.state_dir.join(DB_FILE)
    }

    /// The provisioning mirror (accounts without nonces, for rebuilding a
    /// damaged store).
    pub fn provisioning_path(&self) -> PathBuf {
        self.state_dir.join(dmnonce_store::PROVISIONING_FILE_NAME)
    }

    /// The key file.
    pub fn key_path(&self) -> PathBuf {
        self.state_dir.join(dmnonce_store::KEY_FILE_NAME)
    }
}

/// Name of the store file in the state directory.
pub const DB_FILE: &str = "dmnonce.db";

#[cfg(test)]
mod tests {
    use super::*;

    fn env(state: Option<&str>, runtime: Option<&str>) -> Environment {
        Environment {
            dirs: UserDirs {
                state_home: state.map(PathBuf::from),
                runtime_dir: runtime.map(PathBuf::from),
                home: Some(PathBuf::from("/h")),
            },
            uid: 1000,
        }
    }

    #[test]
    fn embedded_default_follows_xdg() {
        let c = Config::load(&Overrides::default(), &env(Some("/s"), Some("/r"))).unwrap();
        assert_eq!(c.state_dir, PathBuf::from("/s/dmnonce"));
        assert_eq!(c.socket, PathBuf::from("/r/dmnonced.sock"));
        assert_eq!(c.allowed_uids, vec![1000, 0]);
        let c = Config::load(&Overrides::default(), &env(None, None)).unwrap();
        assert_eq!(c.state_dir, PathBuf::from("/h/.local/state/dmnonce"));
        assert_eq!(
            c.socket,
            PathBuf::from("/h/.local/state/dmnonce/dmnonced.sock")
        );
    }

    #[test]
    fn file_overrides_default_and_flags_override_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "state_dir = \"/var/lib/dmnonce\"\nsocket = \"/run/d.sock\"\nallowed_uids = [0, 7]\n\
             [http]\nca_file = \"/ca.pem\"\nmax_attempts = 2\n[fallback]\nmax_per_hour = 1\n\
             [ofono]\nenabled = false\nbus = \"session\"\n",
        )
        .unwrap();
        let mut o = Overrides {
            config_file: Some(file.clone()),
            ..Overrides::default()
        };
        let c = Config::load(&o, &env(None, None)).unwrap();
        assert_eq!(c.state_dir, PathBuf::from("/var/lib/dmnonce"));
        assert_eq!(c.socket, PathBuf::from("/run/d.sock"));
        assert_eq!(c.allowed_uids, vec![0, 7]);
        assert_eq!(c.http.ca_file, Some(PathBuf::from("/ca.pem")));
        assert_eq!(c.http.max_attempts, 2);
        assert_eq!(
            c.http.request_timeout_ms, 15_000,
            "unset keys keep defaults"
        );
        assert_eq!(c.fallback.max_per_hour, 1);
        assert!(!c.ofono.enabled);
        o.socket = Some(PathBuf::from("/tmp/x.sock"));
        o.state_dir = Some(PathBuf::from("/tmp/st"));
        let c = Config::load(&o, &env(None, None)).unwrap();
        assert_eq!(c.socket, PathBuf::from("/tmp/x.sock"));
        assert_eq!(c.state_dir, PathBuf::from("/tmp/st"));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[http]\nretries = 3\n").unwrap();
        let o = Overrides {
            config_file: Some(file.clone()),
            ..Overrides::default()
        };
        let e = Config::load(&o, &env(None, None)).unwrap_err();
        assert!(e.to_string().contains("retries"), "{e}");
        std::fs::write(&file, "[http]\nmax_attempts = 0\n").unwrap();
        assert!(matches!(
            Config::load(&o, &env(None, None)),
            Err(ConfigError::Invalid { .. })
        ));
    }

    /// Loads `text` as the file; the error's message.
    fn load_error(text: &str) -> (PathBuf, String) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, text).unwrap();
        let o = Overrides {
            config_file: Some(file.clone()),
            ..Overrides::default()
        };
        let e = Config::load(&o, &env(None, None)).expect_err(text);
        (file, e.to_string())
    }

    #[test]
    fn every_bad_value_stops_the_load_naming_its_key_and_file() {
        let cases = [
            (
                "[device]\nsession_id_format = \"hexx\"\n",
                "device.session_id_format",
            ),
            (
                "[device]\nsession_id_format = \"Hex\"\n",
                "device.session_id_format",
            ),
            (
                "[fallback]\nreadings = [\"text\", \"0x00000000\"]\n",
                "fallback.readings",
            ),
            ("log_level = \"verbose\"\n", "log_level"),
            ("[ofono]\nbus = \"sytem\"\n", "ofono.bus"),
            ("[ofono]\nbus = \":path=/x\"\n", "ofono.bus"),
            (
                "[control]\nmax_connections = 0\n",
                "control.max_connections",
            ),
            (
                "[control]\nmax_connections_per_uid = 0\n",
                "control.max_connections_per_uid",
            ),
            (
                "[control]\nidle_timeout_ms = 0\n",
                "control.idle_timeout_ms",
            ),
            (
                "[control]\nrequest_timeout_ms = 0\n",
                "control.request_timeout_ms",
            ),
            (
                "[control]\nsubscriber_queue = 0\n",
                "control.subscriber_queue",
            ),
            ("[http]\nmax_attempts = 0\n", "http.max_attempts"),
            ("[http]\nmax_sessions = 0\n", "http.max_sessions"),
            (
                "[http]\nconnect_timeout_ms = 0\n",
                "http.connect_timeout_ms",
            ),
            (
                "[http]\nrequest_timeout_ms = 0\n",
                "http.request_timeout_ms",
            ),
            ("[sms]\nmax_pending = 0\n", "sms.max_pending"),
        ];
        for (text, key) in cases {
            let (file, message) = load_error(text);
            assert!(message.contains(key), "{text:?}: {message}");
            assert!(
                message.contains(&file.display().to_string()),
                "{text:?}: {message}"
            );
        }
    }

    #[test]
    fn named_values_are_decoded_once_into_their_types() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "log_level = \"debug\"\n[device]\nsession_id_format = \"decimal\"\n\
             [fallback]\nreadings = [\"zero\"]\n[ofono]\nbus = \"unix:path=/run/b\"\n",
        )
        .unwrap();
        let o = Overrides {
            config_file: Some(file),
            ..Overrides::default()
        };
        let c = Config::load(&o, &env(None, None)).unwrap();
        assert_eq!(c.device.session_id_format, SessionIdFormat::Decimal);
        assert_eq!(c.fallback.readings, vec![DefaultNonce::Zero]);
        assert_eq!(c.verbosity, 2);
        assert_eq!(c.ofono.bus, "unix:path=/run/b");
        let c = Config::load(&Overrides::default(), &env(None, None)).unwrap();
        assert_eq!(c.device.session_id_format, SessionIdFormat::HexUpper);
        assert_eq!(
            c.fallback.readings,
            vec![DefaultNonce::Text, DefaultNonce::Zero]
        );
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let h = HttpSettings {
            backoff_initial_ms: 100,
            backoff_max_ms: 350,
            ..HttpSettings::default()
        };
        assert_eq!(h.backoff(1), Duration::from_millis(100));
        assert_eq!(h.backoff(2), Duration::from_millis(200));
        assert_eq!(h.backoff(3), Duration::from_millis(350));
        assert_eq!(h.backoff(60), Duration::from_millis(350));
    }
}
