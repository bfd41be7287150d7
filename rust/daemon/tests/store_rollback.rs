//! A store that comes back older than it was is out of step, never a
//! silently older `in-sync` (issue 17, finding 1), and start-up checks what
//! must be checked without reading every page (issue 16), end to end with
//! real dmnonced and dmnoncectl processes and real SQLCipher files.

mod support;

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use support::{AccountArgs, Daemon};

const SERVER_ID: &str = "dm.rollback.test";
const SERVER_PW: &str = "srv-Rollback-pw-8";
const CLIENT_PW: &str = "cli-Rollback-pw-2";
const WAL_HEADER: u64 = 32;
const FRAME: u64 = 24 + 4096;

fn start(dir: &Path) -> Daemon {
    std::fs::create_dir_all(dir).unwrap();
    let daemon = Daemon::start(dir, "");
    daemon.add_account(&AccountArgs {
        server_id: SERVER_ID,
        url: "http://127.0.0.1:9/dm".into(),
        client_name: "dev-rollback",
        scheme: "md5",
        encoding: "xml",
        server_pw: SERVER_PW,
        client_pw: CLIENT_PW,
        server_nonce: Some(b"provisioned-server-nonce"),
        client_nonce: Some(b"provisioned-client-nonce"),
    });
    daemon
}

fn restart(dir: &Path) -> Daemon {
    Daemon::start_with(dir, &dir.join("dmnonced.toml"))
}

/// Each `issue_chal` answered is a committed server nonce the DM client
/// sent on.
fn issue_chals(daemon: &Daemon, n: usize) {
    let mut c = daemon.client();
    for _ in 0..n {
        c.issue_chal(SERVER_ID, None).expect("issue_chal");
    }
}

fn state(daemon: &Daemon) -> String {
    let out = daemon.ctl(&["--json", "status"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["server_id"] == SERVER_ID)
        .unwrap_or_else(|| panic!("{v}"))
        .clone();
    a["state"].as_str().unwrap().to_owned()
}

fn files_named(dir: &Path, part: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(part))
        .collect()
}

fn no_secret_in(log: &str) {
    for s in [SERVER_PW, CLIENT_PW, "provisioned-server-nonce"] {
        assert!(!log.contains(s), "a secret or nonce reached the log");
    }
}

#[test]
fn a_damaged_wal_frame_after_kill_9_ends_in_needs_resync() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("device");
    let daemon = start(&dir);
    issue_chals(&daemon, 5);
    daemon.kill();
    let wal = dir.join("state/dmnonce.db-wal");
    let mut bytes = std::fs::read(&wal).unwrap();
    let frames = (bytes.len() as u64 - WAL_HEADER) / FRAME;
    assert!(frames >= 2, "WAL holds {} bytes", bytes.len());
    let at = (WAL_HEADER + (frames - 1) * FRAME + 24 + 2000) as usize;
    for b in &mut bytes[at..at + 16] {
        *b ^= 0x3C;
    }
    std::fs::write(&wal, &bytes).unwrap();

    let daemon = restart(&dir);
    assert_eq!(state(&daemon), "needs-resync", "{}", daemon.log());
    let log = daemon.log();
    assert!(log.contains("came back older than it was"), "{log}");
    assert!(log.contains("store rolled back: 1 account(s)"), "{log}");
    assert!(!files_named(&dir.join("state"), "dmnonce.db.rolledback-").is_empty());
    no_secret_in(&log);
    // Told once: a clean restart keeps the state and finds nothing new.
    assert_eq!(daemon.stop(), Some(0));
    let daemon = restart(&dir);
    assert_eq!(state(&daemon), "needs-resync");
    assert!(!daemon.log().contains("came back older"));
}

#[test]
fn an_old_copy_of_the_database_put_back_ends_in_needs_resync() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("device");
    let daemon = start(&dir);
    issue_chals(&daemon, 1);
    assert_eq!(daemon.stop(), Some(0));
    let db = dir.join("state/dmnonce.db");
    let old = std::fs::read(&db).unwrap();
    let daemon = restart(&dir);
    issue_chals(&daemon, 2);
    assert_eq!(daemon.stop(), Some(0));
    std::fs::write(&db, &old).unwrap();

    let daemon = restart(&dir);
    assert_eq!(state(&daemon), "needs-resync", "{}", daemon.log());
    no_secret_in(&daemon.log());
}

#[test]
fn clean_and_kill_9_restarts_without_damage_stay_in_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("device");
    let daemon = start(&dir);
    issue_chals(&daemon, 3);
    assert_eq!(daemon.stop(), Some(0));

    let daemon = restart(&dir);
    assert_eq!(state(&daemon), "in-sync", "{}", daemon.log());
    let log = daemon.log();
    assert!(log.contains("store integrity: quick checks"), "{log}");
    issue_chals(&daemon, 3);
    daemon.kill();

    let daemon = restart(&dir);
    assert_eq!(state(&daemon), "in-sync", "{}", daemon.log());
    let log = daemon.log();
    assert!(
        log.contains("store integrity: full check (unclean shutdown"),
        "{log}"
    );
    assert!(!log.contains("came back older"), "{log}");
}

#[test]
fn store_check_finds_a_damaged_page_and_the_next_start_recovers() {
    use dmnonce_store::{
        AccountProvisioning, AuditEvent, AuthScheme, AuthSecret, Encoding, KeyFile, Policy, Store,
        UnixTime,
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("device");
    let daemon = start(&dir);
    assert_eq!(daemon.stop(), Some(0));
    // Grow the store with the library: accounts, then a long audit trail
    // at the end of the file, which nothing reads at start.
    let state_dir = dir.join("state");
    let db = state_dir.join("dmnonce.db");
    let key = KeyFile::load_or_create(&state_dir.join(dmnonce_store::KEY_FILE_NAME)).unwrap();
    let extra: Vec<AccountProvisioning> = (0..100)
        .map(|i| AccountProvisioning {
            server_id: format!("extra-{i:03}"),
            server_url: "http://127.0.0.1:9/dm".into(),
            client_name: format!("dev-{i}"),
            client_secret: AuthSecret::new(b"extra-client".to_vec()).unwrap(),
            server_secret: AuthSecret::new(b"extra-server".to_vec()).unwrap(),
            server_secret_previous: None,
            auth_scheme: AuthScheme::Md5,
            encoding: Encoding::Xml,
            policy: Policy::Allow,
            client_nonce: None,
            server_nonce: None,
        })
        .collect();
    let (store, _) = Store::open(&db, &key, Some(&extra), UnixTime(1_795_917_310)).unwrap();
    let filler = "x".repeat(1000);
    for _ in 0..300 {
        store
            .append_audit(None, AuditEvent::Daemon, &filler, UnixTime(1_795_917_310))
            .unwrap();
    }
    drop(store);
    drop(key);
    let pages = std::fs::metadata(&db).unwrap().len() / 4096;
    let mut f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    f.seek(SeekFrom::Start((pages - 20) * 4096 + 300)).unwrap();
    f.write_all(&[0xC3; 256]).unwrap();
    f.sync_all().unwrap();
    drop(f);

    let daemon = restart(&dir);
    assert!(daemon.log().contains("store integrity: quick checks"));
    let out = daemon.ctl(&["store", "check"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text} {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        daemon.log()
    );
    assert!(text.contains("DAMAGED") && text.contains("HMAC"), "{text}");
    // Nothing more is served from it.
    let out = daemon.ctl(&["--json", "status"], None);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("damaged"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(daemon.stop(), Some(0));

    let daemon = restart(&dir);
    let log = daemon.log();
    assert!(log.contains("store integrity: full check"), "{log}");
    assert!(log.contains("set aside"), "{log}");
    assert_eq!(state(&daemon), "needs-resync");
    assert!(!files_named(&state_dir, "dmnonce.db.corrupt-").is_empty());
    let out = daemon.ctl(&["--json", "store", "check"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["healthy"], true, "{v}");
    no_secret_in(&daemon.log());
}
