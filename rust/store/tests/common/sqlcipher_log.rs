//! SQLCipher's log captured to a file, for the tests that provoke its
//! errors. Shared by the integration tests (`common`) and the crate's unit
//! tests (`src/lib.rs` includes this file).
#![allow(dead_code)]

use std::path::PathBuf;

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
        // (Unit tests, which include this file too, have none.)
        let tmp = option_env!("CARGO_TARGET_TMPDIR")
            .map(PathBuf::from)
            .filter(|d| d.is_dir())
            .unwrap_or_else(std::env::temp_dir);
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
