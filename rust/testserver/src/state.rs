//! The server's persistent state: device accounts, their secrets and nonces,
//! and per-device counters, kept as one JSON file in the state directory.
//!
//! Every change is written with an atomic replace (temporary file, fsync,
//! rename, fsync of the directory), so a kill at any instant leaves either the
//! old or the new state, never half of one. A snapshot is a second file with
//! the same format: restoring it is the change request's case 2, "the
//! server's database is replaced by the last backup".

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// File name of the live state inside `--state DIR`.
pub const STATE_FILE: &str = "server-state.json";
/// File name of the snapshot taken by `POST /admin/snapshot`.
pub const SNAPSHOT_FILE: &str = "server-state.snapshot.json";
const FORMAT_VERSION: u32 = 1;

/// How a device authenticates its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// `syncml:auth-md5` Cred in the SyncHdr.
    Md5,
    /// `x-syncml-hmac` HTTP header.
    Hmac,
}

/// The encoding the server answers in (it also follows the request's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Wire {
    /// SyncML DM XML.
    Xml,
    /// SyncML DM WBXML.
    Wbxml,
}

/// A nonce, stored Base64 in the file (raw bytes may be anything).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct StoredNonce(String);

impl StoredNonce {
    /// A nonce from raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        StoredNonce(B64.encode(bytes))
    }
    /// A nonce from its Base64 text (checked).
    pub fn from_b64(text: &str) -> Result<Self> {
        B64.decode(text.trim())
            .map_err(|_| anyhow!("nonce is not valid Base64"))?;
        Ok(StoredNonce(text.trim().to_string()))
    }
    /// The raw nonce bytes.
    pub fn bytes(&self) -> Vec<u8> {
        // Checked on the way in; a hand-edited file with bad Base64 reads as empty.
        B64.decode(&self.0).unwrap_or_default()
    }
}

// Nonces never reach a log line, not even through Debug.
impl std::fmt::Debug for StoredNonce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredNonce(..)")
    }
}

/// The last Package #0 sent with the stored nonce, kept so the fallback to the
/// default nonce can be decided ("no session within --fallback-after-ms").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingNotification {
    /// Session id of that notification.
    pub session_id: u16,
    /// When it was produced, milliseconds since the Unix epoch.
    pub sent_at_ms: u64,
    /// Set when it went out through the delivery hook (`true`: as a WSP
    /// push): the server then sends the default-nonce notification itself
    /// once the wait is over.
    #[serde(default)]
    pub deliver_wsp: Option<bool>,
}

/// One device account as the server holds it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Device {
    /// The device's name (its `DevId`, the SyncHdr Source LocURI, and the
    /// user name of its credentials).
    pub client_name: String,
    /// SRVCRED secret: signs Package #0 and the server's credentials.
    pub server_password: String,
    /// CLCRED secret: the device's credentials towards the server.
    pub client_password: String,
    /// Credential scheme.
    pub auth_scheme: Scheme,
    /// Encoding.
    pub encoding: Wire,
    /// The server nonce (the device checks Package #0 and the server's
    /// credentials with it); `None` when never exchanged.
    pub server_nonce: Option<StoredNonce>,
    /// The client nonce (the device computes its credentials with it).
    pub client_nonce: Option<StoredNonce>,
    /// Normal (non-resync) sessions completed.
    #[serde(default)]
    pub sessions_completed: u64,
    /// Resync sessions completed.
    #[serde(default)]
    pub resyncs_completed: u64,
    /// Session id of the last session started.
    #[serde(default)]
    pub last_session_id: Option<u16>,
    /// When the last session started (ms since the epoch).
    #[serde(default)]
    pub last_session_started_ms: Option<u64>,
    /// The last failure, for the admin API (never a secret or nonce).
    #[serde(default)]
    pub last_error: Option<String>,
    /// Stored-nonce notification waiting for a session.
    #[serde(default)]
    pub pending: Option<PendingNotification>,
}

/// A Package #0 the server issued: a session with its id may follow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    /// The device it was for.
    pub client_name: String,
    /// `stored`, `default-text` or `default-zero`.
    pub signed: String,
    /// When (ms since the epoch).
    pub at_ms: u64,
}

/// How many issued notifications are remembered (oldest dropped first).
const MAX_ISSUED: usize = 256;

/// The whole persisted state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServerState {
    /// File format version.
    pub format: u32,
    /// The next session id to hand out in a Package #0.
    pub next_session_id: u16,
    /// Device accounts by client name.
    pub devices: BTreeMap<String, Device>,
    /// Notifications issued and not yet answered by a session, by session id.
    #[serde(default)]
    pub issued: BTreeMap<u16, Issued>,
    /// Session ids already announced with a default nonce (to any device).
    /// A device keeps every default-nonce notification it accepted in its
    /// replay cache, and for one device such a notification's digest
    /// depends on nothing but its session id: announcing an id again gets
    /// a `replay` refusal (with ids drawn at random, a run of 100 sessions
    /// would repeat one about once in 14 runs). So these are not handed
    /// out again.
    #[serde(default)]
    pub default_nonce_ids: BTreeSet<u16>,
}

impl ServerState {
    fn fresh(first_session_id: u16) -> Self {
        ServerState {
            format: FORMAT_VERSION,
            next_session_id: first_session_id.max(1),
            devices: BTreeMap::new(),
            issued: BTreeMap::new(),
            default_nonce_ids: BTreeSet::new(),
        }
    }

    /// Records an issued notification (bounded: the oldest goes first).
    pub fn record_issued(&mut self, session_id: u16, issued: Issued) {
        self.issued.insert(session_id, issued);
        while self.issued.len() > MAX_ISSUED {
            let oldest = self
                .issued
                .iter()
                .min_by_key(|(_, i)| i.at_ms)
                .map(|(k, _)| *k);
            match oldest {
                Some(k) => self.issued.remove(&k),
                None => break,
            };
        }
    }

    /// Hands out a session id from `random`: never 0 and never one with a
    /// notification still outstanding. Random rather than counted, so a
    /// server restored from a backup does not announce session ids again
    /// (a device would rightly take the repeat for a replay).
    pub fn allocate_session_id(&mut self, random: u16) -> u16 {
        // Once nearly every id has been announced with a default nonce,
        // start over rather than search forever (a device's replay cache
        // empties when its secret changes, which a real server would do).
        if self.default_nonce_ids.len() + MAX_ISSUED >= usize::from(u16::MAX) - 1 {
            self.default_nonce_ids.clear();
        }
        let mut id = random.max(1);
        while self.issued.contains_key(&id) || self.default_nonce_ids.contains(&id) {
            id = id.wrapping_add(1).max(1);
        }
        self.next_session_id = id.wrapping_add(1).max(1);
        id
    }
}

/// The state file and its snapshot in one directory.
pub struct StateFile {
    dir: PathBuf,
}

impl StateFile {
    /// Opens (creating with mode 0700) the state directory.
    pub fn new(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir)
            .with_context(|| format!("creating state directory {}", dir.display()))?;
        Ok(StateFile {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Loads the live state, or a fresh one when there is none yet.
    pub fn load_or_init(&self, first_session_id: u16) -> Result<ServerState> {
        let path = self.path(STATE_FILE);
        if !path.exists() {
            let state = ServerState::fresh(first_session_id);
            self.save(&state)?;
            return Ok(state);
        }
        read_state(&path)
    }

    /// Replaces the live state atomically.
    pub fn save(&self, state: &ServerState) -> Result<()> {
        write_atomic(&self.dir, STATE_FILE, state)
    }

    /// Copies the live state aside (the "backup").
    pub fn snapshot(&self, state: &ServerState) -> Result<()> {
        write_atomic(&self.dir, SNAPSHOT_FILE, state)
    }

    /// Reads the snapshot back and makes it the live state.
    pub fn restore(&self) -> Result<ServerState> {
        let snap = self.path(SNAPSHOT_FILE);
        if !snap.exists() {
            return Err(anyhow!("no snapshot taken yet"));
        }
        let state = read_state(&snap)?;
        self.save(&state)?;
        Ok(state)
    }
}

fn read_state(path: &Path) -> Result<ServerState> {
    let text = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let state: ServerState = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a valid state file", path.display()))?;
    if state.format != FORMAT_VERSION {
        return Err(anyhow!(
            "{}: unsupported state format {}",
            path.display(),
            state.format
        ));
    }
    Ok(state)
}

/// Write to `name.tmp`, fsync, rename over `name`, fsync the directory.
fn write_atomic(dir: &Path, name: &str, state: &ServerState) -> Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let target = dir.join(name);
    let body = serde_json::to_vec_pretty(state).context("serialising server state")?;
    {
        // 0600: the file holds the test accounts' secrets.
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        f.write_all(&body)
            .with_context(|| format!("writing {}", tmp.display()))?;
        f.sync_all()
            .with_context(|| format!("syncing {}", tmp.display()))?;
    }
    fs::rename(&tmp, &target).with_context(|| format!("replacing {}", target.display()))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(name: &str) -> Device {
        Device {
            client_name: name.into(),
            server_password: "s".into(),
            client_password: "c".into(),
            auth_scheme: Scheme::Md5,
            encoding: Wire::Xml,
            server_nonce: Some(StoredNonce::from_bytes(b"sn")),
            client_nonce: None,
            sessions_completed: 0,
            resyncs_completed: 0,
            last_session_id: None,
            last_session_started_ms: None,
            last_error: None,
            pending: None,
        }
    }

    #[test]
    fn state_survives_save_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path()).unwrap();
        let mut state = file.load_or_init(7).unwrap();
        state.devices.insert("dev".into(), device("dev"));
        assert_eq!(state.allocate_session_id(7), 7);
        file.save(&state).unwrap();
        let back = file.load_or_init(99).unwrap();
        assert_eq!(back.next_session_id, 8);
        assert_eq!(
            back.devices["dev"].server_nonce.as_ref().unwrap().bytes(),
            b"sn"
        );
        assert!(!dir.path().join(format!("{STATE_FILE}.tmp")).exists());
    }

    #[test]
    fn restore_brings_back_the_snapshot_not_later_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path()).unwrap();
        let mut state = file.load_or_init(1).unwrap();
        state.devices.insert("dev".into(), device("dev"));
        file.snapshot(&state).unwrap();
        state.devices.get_mut("dev").unwrap().server_nonce =
            Some(StoredNonce::from_bytes(b"newer"));
        file.save(&state).unwrap();
        let restored = file.restore().unwrap();
        assert_eq!(
            restored.devices["dev"]
                .server_nonce
                .as_ref()
                .unwrap()
                .bytes(),
            b"sn"
        );
        assert_eq!(
            file.load_or_init(1).unwrap().devices["dev"]
                .server_nonce
                .as_ref()
                .unwrap()
                .bytes(),
            b"sn"
        );
    }

    #[test]
    fn restore_without_snapshot_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path()).unwrap();
        file.load_or_init(1).unwrap();
        assert!(file.restore().is_err());
    }

    #[test]
    fn garbage_state_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(STATE_FILE), b"{not json").unwrap();
        let err = StateFile::new(dir.path())
            .unwrap()
            .load_or_init(1)
            .unwrap_err();
        assert!(format!("{err:#}").contains("not a valid state file"));
    }

    #[test]
    fn nonce_debug_hides_the_value() {
        let n = StoredNonce::from_bytes(b"secret-nonce");
        assert_eq!(format!("{n:?}"), "StoredNonce(..)");
    }

    #[test]
    fn session_ids_skip_zero_and_outstanding_ones() {
        let mut s = ServerState::fresh(1);
        assert_eq!(s.allocate_session_id(0), 1);
        let issued = Issued {
            client_name: "dev".into(),
            signed: "stored".into(),
            at_ms: 0,
        };
        s.record_issued(u16::MAX, issued);
        assert_eq!(s.allocate_session_id(u16::MAX), 1);
        assert_eq!(s.allocate_session_id(0x1234), 0x1234);
    }

    #[test]
    fn ids_announced_with_a_default_nonce_are_not_handed_out_again() {
        let mut s = ServerState::fresh(1);
        s.default_nonce_ids.extend([0x1234, 0x1235]);
        assert_eq!(s.allocate_session_id(0x1234), 0x1236);
        // Kept across a restart (the state file).
        let back: ServerState = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert!(back.default_nonce_ids.contains(&0x1235));
        // Nearly every id used: start over instead of searching forever.
        s.default_nonce_ids.extend(1..=u16::MAX);
        assert_eq!(s.allocate_session_id(0x1234), 0x1234);
        assert!(s.default_nonce_ids.is_empty());
    }
}
