//! Encryption at rest is real: neither the database file nor its WAL holds a
//! nonce, a secret or the server id in clear; the stock `sqlite3` CLI cannot
//! read it; a wrong key is refused without touching the file.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;
use dmnonce_store::{Key, OpenOutcome, Store, StoreError};

const SERVER_ID: &str = "markerserver.example";

fn markers() -> Vec<String> {
    vec![
        SERVER_ID.to_owned(),
        format!("CLIENTSECRET-{SERVER_ID}"),
        format!("SERVERSECRET-{SERVER_ID}"),
        format!("CLIENTNONCE-{SERVER_ID}"),
        format!("SERVERNONCE-{SERVER_ID}"),
        "ROTATEDNONCE-0123456789".to_owned(),
    ]
}

/// Writes the marker account and a rotation; returns the open store so its
/// WAL is still present for scanning.
fn write_markers(store: &Store) {
    store
        .commit_new_server_nonce(SERVER_ID, &nonce("ROTATEDNONCE-0123456789"), T0)
        .unwrap();
}

fn file_and_wal(db: &Path) -> (Vec<u8>, Vec<u8>) {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    (fs::read(db).unwrap(), fs::read(wal).unwrap_or_default())
}

#[test]
fn database_and_wal_hold_no_secret_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let (store, _) = open(dir.path(), &key, &[provisioning(SERVER_ID)]);
    write_markers(&store);
    let (db, wal) = file_and_wal(store.path());
    assert!(
        !wal.is_empty(),
        "expected WAL frames while the store is open"
    );
    for m in markers() {
        assert!(!contains(&db, m.as_bytes()), "{m} in clear in the database");
        assert!(!contains(&wal, m.as_bytes()), "{m} in clear in the WAL");
    }
    drop(store);
    let (db, _) = file_and_wal(&db_path(dir.path()));
    for m in markers() {
        assert!(
            !contains(&db, m.as_bytes()),
            "{m} in clear after checkpoint"
        );
    }
}

/// Control for the scan above: the same writes to an unencrypted database
/// (same SQLCipher build, no key) do show the markers, so the scan can find
/// them when they are there.
#[test]
fn the_scan_finds_markers_in_an_unencrypted_control_database() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open_plaintext_for_bench(&db_path(dir.path()), T0).unwrap();
    store.create_account(&provisioning(SERVER_ID), T0).unwrap();
    write_markers(&store);
    let (db, wal) = file_and_wal(store.path());
    let both = [db, wal].concat();
    for m in markers() {
        assert!(
            contains(&both, m.as_bytes()),
            "{m} not found in the plain control"
        );
    }
}

#[test]
fn sqlite3_cli_cannot_read_the_store() {
    // scripts/test.sh installs the CLI (scripts/ci-deps.sh); a machine
    // without it must say so rather than pass without checking.
    let out = Command::new("sqlite3")
        .arg("-version")
        .output()
        .expect("the sqlite3 CLI is needed: apt-get install sqlite3 (scripts/ci-deps.sh)");
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let (store, _) = open(dir.path(), &key, &[provisioning(SERVER_ID)]);
    write_markers(&store);
    drop(store);
    let out = Command::new("sqlite3")
        .arg(db_path(dir.path()))
        .arg("SELECT server_id FROM accounts;")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "sqlite3 read the store: {:?}",
        out.stdout
    );
    assert!(stderr.contains("not a database"), "{stderr}");
    assert!(!contains(&out.stdout, SERVER_ID.as_bytes()));
}

#[test]
fn wrong_key_is_refused_and_the_file_is_untouched() {
    let sqlcipher = capture_sqlcipher_log();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let (store, _) = open(dir.path(), &key, &[provisioning(SERVER_ID)]);
    write_markers(&store);
    drop(store);
    let before = fs::read(db_path(dir.path())).unwrap();
    let names_before = files_containing(dir.path(), "");
    let wrong = Key::generate().unwrap();
    let err = Store::open(
        &db_path(dir.path()),
        &wrong,
        Some(&[provisioning(SERVER_ID)]),
        T0,
    )
    .expect_err("wrong key accepted");
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err:?}");
    assert!(err
        .to_string()
        .contains("wrong key or not a dmnonce database"));
    assert_eq!(fs::read(db_path(dir.path())).unwrap(), before);
    assert_eq!(files_containing(dir.path(), ""), names_before);
    // The right key still opens it, with the data intact.
    let (store, report) = open(dir.path(), &key, &[]);
    assert_eq!(report.outcome, OpenOutcome::Opened);
    assert_eq!(
        store
            .nonces(SERVER_ID)
            .unwrap()
            .server_current
            .unwrap()
            .expose(),
        b"ROTATEDNONCE-0123456789"
    );
    sqlcipher.expect("hmac check failed");
}

#[test]
fn wrong_key_without_key_check_file_is_still_refused() {
    let sqlcipher = capture_sqlcipher_log();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    drop(open(dir.path(), &key, &[provisioning(SERVER_ID)]));
    let mut kc = db_path(dir.path()).into_os_string();
    kc.push(".keycheck");
    fs::remove_file(kc).unwrap();
    let err = Store::open(&db_path(dir.path()), &Key::generate().unwrap(), None, T0).unwrap_err();
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err:?}");
    // The key check file is re-created by the next good open.
    let (_, report) = open(dir.path(), &key, &[]);
    assert_eq!(report.outcome, OpenOutcome::Opened);
    assert_eq!(files_containing(dir.path(), ".keycheck").len(), 1);
    sqlcipher.expect("hmac check failed");
}

#[test]
fn a_plain_sqlite_file_is_not_taken_for_a_store() {
    let sqlcipher = capture_sqlcipher_log();
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    drop(Store::open_plaintext_for_bench(&path, T0).unwrap());
    let before = fs::read(&path).unwrap();
    let err = Store::open(&path, &Key::generate().unwrap(), None, T0).unwrap_err();
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err:?}");
    assert_eq!(fs::read(&path).unwrap(), before);
    sqlcipher.expect("hmac check failed");
}
