//! A damaged store is rebuilt from the provisioning mirror (docs/design.md,
//! "Crash and corruption"), end to end with real processes: dmnonced,
//! dmnoncectl and dmnonce-testserver over HTTP on 127.0.0.1.

mod support;

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use dmnonce_control::{PushOutcome, PushResult, VerdictName};
use support::{AccountArgs, Daemon, TestServer};

const SERVER_ID: &str = "dmnonce-test";
const SERVER_PW: &str = "srv-Recover-pw-3";
const CLIENT_PW: &str = "cli-Recover-pw-5";
const SERVER_NONCE: &[u8] = b"old-server-nonce-R";
const CLIENT_NONCE: &[u8] = b"old-client-nonce-S";
const DEVICE: &str = "device-recover";

fn setup(dir: &Path) -> (TestServer, Daemon) {
    let server = TestServer::start(&dir.join("server"), &[], None);
    server.add_device(serde_json::json!({
        "client_name": DEVICE, "server_password": SERVER_PW, "client_password": CLIENT_PW,
        "auth_scheme": "md5", "encoding": "wbxml",
        "server_nonce_b64": B64.encode(SERVER_NONCE), "client_nonce_b64": B64.encode(CLIENT_NONCE),
    }));
    let ddir = dir.join("device");
    std::fs::create_dir_all(&ddir).unwrap();
    let daemon = Daemon::start(&ddir, "");
    daemon.add_account(&AccountArgs {
        server_id: SERVER_ID,
        url: server.dm_url(),
        client_name: DEVICE,
        scheme: "md5",
        encoding: "wbxml",
        server_pw: SERVER_PW,
        client_pw: CLIENT_PW,
        server_nonce: Some(SERVER_NONCE),
        client_nonce: Some(CLIENT_NONCE),
    });
    (server, daemon)
}

fn push(daemon: &Daemon, server: &TestServer, dir: &Path, nonce: &str) -> PushResult {
    let bytes = server.notify(DEVICE, nonce, true);
    let f = support::write_file(dir, "push.bin", &bytes);
    let out = daemon.ctl(&["--json", "push", &f], None);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("push: {e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn status_state(daemon: &Daemon) -> String {
    let out = daemon.ctl(&["--json", "status"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let accounts = v["accounts"].as_array().expect("accounts");
    assert_eq!(accounts.len(), 1, "{v}");
    assert_eq!(accounts[0]["server_id"], SERVER_ID, "{v}");
    accounts[0]["state"].as_str().unwrap().to_string()
}

/// Garbage over a data page (not page 1): the key still opens the file, the
/// page's HMAC fails.
fn damage_data_page(path: &Path) {
    let len = std::fs::metadata(path).unwrap().len();
    assert!(len >= 2 * 4096, "store has only {len} bytes");
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(4096 + 64)).unwrap();
    let garbage: Vec<u8> = (0..1024u32).map(|i| (i * 7919 % 251) as u8).collect();
    f.write_all(&garbage).unwrap();
    f.sync_all().unwrap();
}

fn files_named(dir: &Path, part: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(part))
        .collect()
}

#[test]
fn corrupt_store_is_rebuilt_from_the_mirror_and_resynced() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, daemon) = setup(tmp.path());
    let state = daemon.dir.join("state");
    assert_eq!(status_state(&daemon), "in-sync");
    assert!(state.join("provisioning.db").is_file());
    let r = push(&daemon, &server, tmp.path(), "stored");
    assert_eq!(r.outcome, PushOutcome::Alert, "{r:?}");
    assert_eq!(daemon.stop(), Some(0));

    let db = state.join("dmnonce.db");
    damage_data_page(&db);
    let damaged = std::fs::read(&db).unwrap();

    let mut daemon = Daemon::start_with(
        &tmp.path().join("device"),
        &tmp.path().join("device/dmnonced.toml"),
    );
    assert!(daemon.alive());
    assert_eq!(status_state(&daemon), "needs-resync", "{}", daemon.log());
    let aside = files_named(&state, "dmnonce.db.corrupt-");
    assert!(!aside.is_empty(), "nothing moved aside: {aside:?}");
    let main_aside = aside
        .iter()
        .find(|p| !p.to_string_lossy().ends_with("-wal") && !p.to_string_lossy().ends_with("-shm"))
        .expect("the database itself was moved aside");
    assert_eq!(
        std::fs::read(main_aside).unwrap(),
        damaged,
        "moved aside unchanged"
    );
    let log = daemon.log();
    assert!(log.contains("re-created"), "{log}");
    for secret in [SERVER_PW, CLIENT_PW] {
        assert!(!log.contains(secret), "a secret reached the log");
    }

    // The server still knows the old nonces, which the rebuilt store lost:
    // its default-nonce Package #0 runs the resync.
    let mut events = daemon.subscribe();
    let r = push(&daemon, &server, tmp.path(), "text");
    assert_eq!(
        r.outcome,
        PushOutcome::ResyncStarted,
        "{r:?}\n{}",
        daemon.log()
    );
    assert_eq!(r.verdict, Some(VerdictName::DefaultNonceText));
    support::wait_event(&mut events, dmnonce_control::EventKind::ResyncFinished, 30);
    assert_eq!(status_state(&daemon), "in-sync");
    let r = push(&daemon, &server, tmp.path(), "stored");
    assert_eq!(r.outcome, PushOutcome::Alert, "{r:?}");
    assert_eq!(r.verdict, Some(VerdictName::StoredNonce));
}

#[test]
fn damaged_mirror_is_set_aside_and_rebuilt_from_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, daemon) = setup(tmp.path());
    let state = daemon.dir.join("state");
    let config = daemon.config.clone();
    let ddir = daemon.dir.clone();
    assert_eq!(daemon.stop(), Some(0));
    // Page 1 of the mirror: unreadable, though the key is right.
    let mirror = state.join("provisioning.db");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(&mirror)
        .unwrap();
    f.seek(SeekFrom::Start(200)).unwrap();
    f.write_all(&[0x5A; 300]).unwrap();
    drop(f);

    let daemon = Daemon::start_with(&ddir, &config);
    assert_eq!(status_state(&daemon), "in-sync");
    let log = daemon.log();
    assert!(log.contains("provisioning mirror damaged"), "{log}");
    assert_eq!(files_named(&state, "provisioning.db.corrupt-").len(), 1);
    // The rebuilt mirror carries the account: a later store corruption
    // still recovers it.
    assert_eq!(daemon.stop(), Some(0));
    damage_data_page(&state.join("dmnonce.db"));
    let daemon = Daemon::start_with(&ddir, &config);
    assert_eq!(status_state(&daemon), "needs-resync", "{}", daemon.log());
    let r = push(&daemon, &server, tmp.path(), "text");
    assert_eq!(r.outcome, PushOutcome::ResyncStarted, "{r:?}");
}

/// A crash between the two steps of `account_add` (mirror written, store
/// not) leaves an entry only in the mirror: the next start completes the
/// add, as `needs-resync` since the mirror keeps no nonces.
#[test]
fn add_interrupted_after_the_mirror_is_completed_at_start() {
    use dmnonce_store::{
        AccountProvisioning, AuthScheme, AuthSecret, Encoding, KeyFile, Policy, ProvisioningMirror,
    };
    let tmp = tempfile::tempdir().unwrap();
    let (_server, daemon) = setup(tmp.path());
    let state = daemon.dir.join("state");
    let (ddir, config) = (daemon.dir.clone(), daemon.config.clone());
    assert_eq!(daemon.stop(), Some(0));
    let key = KeyFile::load_or_create(&state.join(dmnonce_store::KEY_FILE_NAME)).unwrap();
    let mirror = ProvisioningMirror::open(&state.join("provisioning.db"), &key).unwrap();
    assert!(mirror
        .insert_if_absent(&AccountProvisioning {
            server_id: "half-added".into(),
            server_url: "http://127.0.0.1:9/dm".into(),
            client_name: "dev-half".into(),
            client_secret: AuthSecret::new(b"half-client".to_vec()).unwrap(),
            server_secret: AuthSecret::new(b"half-server".to_vec()).unwrap(),
            server_secret_previous: None,
            auth_scheme: AuthScheme::Md5,
            encoding: Encoding::Xml,
            policy: Policy::Allow,
            client_nonce: None,
            server_nonce: None,
        })
        .unwrap());
    drop(mirror);

    let daemon = Daemon::start_with(&ddir, &config);
    let out = daemon.ctl(&["--json", "status"], None);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let states: Vec<(String, String)> = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["server_id"].as_str().unwrap().into(),
                a["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("dmnonce-test".to_string(), "in-sync".to_string()),
            ("half-added".to_string(), "needs-resync".to_string())
        ],
        "{v}"
    );
    // Removing it now takes it out of both files for good.
    let out = daemon.ctl(&["account", "remove", "--server-id", "half-added"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(daemon.stop(), Some(0));
    let mirror = ProvisioningMirror::open(&state.join("provisioning.db"), &key).unwrap();
    let ids: Vec<String> = mirror
        .accounts()
        .unwrap()
        .into_iter()
        .map(|p| p.server_id)
        .collect();
    assert_eq!(ids, ["dmnonce-test"]);
}
