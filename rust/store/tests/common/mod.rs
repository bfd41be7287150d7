//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use dmnonce_store::{
    AccountProvisioning, AuthScheme, AuthSecret, Encoding, Key, Nonce, OpenReport, Policy, Store,
    UnixTime,
};

pub const T0: UnixTime = UnixTime(1_795_917_310);

pub fn nonce(s: &str) -> Nonce {
    Nonce::new(s.as_bytes().to_vec()).unwrap()
}

pub fn secret(s: &str) -> AuthSecret {
    AuthSecret::new(s.as_bytes().to_vec()).unwrap()
}

/// An account whose every secret field carries a recognisable marker.
pub fn provisioning(server_id: &str) -> AccountProvisioning {
    AccountProvisioning {
        server_id: server_id.to_owned(),
        server_url: format!("https://127.0.0.1:8443/{server_id}"),
        client_name: format!("device-of-{server_id}"),
        client_secret: secret(&format!("CLIENTSECRET-{server_id}")),
        server_secret: secret(&format!("SERVERSECRET-{server_id}")),
        server_secret_previous: None,
        auth_scheme: AuthScheme::Md5,
        encoding: Encoding::Wbxml,
        policy: Policy::Allow,
        client_nonce: Some(nonce(&format!("CLIENTNONCE-{server_id}"))),
        server_nonce: Some(nonce(&format!("SERVERNONCE-{server_id}"))),
    }
}

pub fn db_path(dir: &Path) -> PathBuf {
    dir.join(dmnonce_store::DB_FILE_NAME)
}

pub fn open(dir: &Path, key: &Key, prov: &[AccountProvisioning]) -> (Store, OpenReport) {
    Store::open(&db_path(dir), key, Some(prov), T0).expect("open store")
}

/// Files in `dir` whose name contains `part`.
pub fn files_containing(dir: &Path, part: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(part))
        .collect();
    v.sort();
    v
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// SQLCipher's own log. A failed page HMAC (a wrong key, a damaged page:
/// what the negative tests provoke) is logged by SQLCipher's C code
/// straight to stderr, past the test harness's capture, so a clean run
/// showed a screenful of expected `hmac check failed` errors. A test that
/// provokes one calls [`capture_sqlcipher_log`] first: the process's
/// SQLCipher log then goes to a file under cargo's test tmp directory,
/// which [`SqlcipherLog::expect`] reads back.
pub struct SqlcipherLog {
    path: PathBuf,
    conn: std::sync::Mutex<rusqlite::Connection>,
}

static SQLCIPHER_LOG: std::sync::OnceLock<SqlcipherLog> = std::sync::OnceLock::new();

/// Points this test process's SQLCipher log at a file (once per process;
/// the setting is global in SQLCipher).
pub fn capture_sqlcipher_log() -> &'static SqlcipherLog {
    SQLCIPHER_LOG.get_or_init(|| {
        // Cargo's test tmp directory, recorded at build time; a test run
        // elsewhere (the emulated device runs copies of these executables)
        // has no such directory and takes the system's.
        let built_for = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let system = std::env::temp_dir();
        let tmp = if built_for.is_dir() {
            built_for
        } else {
            system.as_path()
        };
        let path = tmp.join(format!("sqlcipher-{}.log", std::process::id()));
        // A keyed connection activates SQLCipher, which then picks its
        // default target (stderr) unless one is set; set ours after that.
        let activate = tmp.join(format!("sqlcipher-{}-activate.db", std::process::id()));
        let conn = rusqlite::Connection::open(&activate).unwrap();
        conn.execute_batch("PRAGMA key = 'log capture only';")
            .unwrap();
        let log = SqlcipherLog {
            path,
            conn: std::sync::Mutex::new(conn),
        };
        log.point_here();
        let _ = std::fs::remove_file(&activate);
        log
    })
}

impl SqlcipherLog {
    /// (Re)opens the log file: SQLCipher closes, and so flushes, the
    /// previous one.
    fn point_here(&self) {
        let status: String = self
            .conn
            .lock()
            .unwrap()
            .query_row(
                &format!("PRAGMA cipher_log = '{}'", self.path.display()),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(status, "0", "PRAGMA cipher_log failed");
    }

    /// Asserts SQLCipher logged `line` (the log is shared by the tests of
    /// this process, so it says the path was taken, not by which test).
    pub fn expect(&self, line: &str) {
        self.point_here();
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        assert!(
            text.contains(line),
            "SQLCipher did not log {line:?}:\n{text}"
        );
    }
}
