//! A damaged store is moved aside (never deleted) and replaced by a fresh
//! store whose accounts come from provisioning data, marked needs-resync.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use dmnonce_store::{AuditEvent, Key, OpenOutcome, Store, StoreError, SyncState};

/// Creates a store with two accounts and some history, then closes it (the
/// WAL is checkpointed into the main file on close).
fn populated_store(dir: &Path, key: &Key) {
    let prov = [provisioning("srv-a"), provisioning("srv-b")];
    let (store, report) = open(dir, key, &prov);
    assert_eq!(report.outcome, OpenOutcome::Created);
    for i in 0..20 {
        store
            .commit_new_server_nonce("srv-a", &nonce(&format!("rotated-{i}")), T0)
            .unwrap();
    }
}

fn assert_recovered(dir: &Path, key: &Key) {
    let prov = [provisioning("srv-a"), provisioning("srv-b")];
    let (store, report) = Store::open(&db_path(dir), key, Some(&prov), T0).expect("recovers");
    let OpenOutcome::Recovered {
        moved_aside,
        reason,
    } = &report.outcome
    else {
        panic!("not recovered: {report:?}");
    };
    println!("recovered: {reason}");
    assert!(!moved_aside.is_empty() || reason.contains("missing"));
    for p in moved_aside {
        assert!(p.exists(), "moved-aside file {} is missing", p.display());
        assert!(p.to_string_lossy().contains(".corrupt-20261129T015510Z"));
    }
    assert_eq!(files_containing(dir, ".corrupt-").len(), moved_aside.len());
    assert_eq!(
        report.provisioned,
        vec!["srv-a".to_owned(), "srv-b".to_owned()]
    );
    for a in store.accounts().unwrap() {
        assert_eq!(a.state, SyncState::NeedsResync, "{}", a.server_id);
        let n = store.nonces(&a.server_id).unwrap();
        assert!(n.client.is_none() && n.server_current.is_none() && n.server_previous.is_none());
        // Secrets come back from provisioning.
        let s = store.account_secrets(&a.server_id).unwrap();
        assert_eq!(
            s.server_secret.expose(),
            format!("SERVERSECRET-{}", a.server_id).as_bytes()
        );
    }
    let audit = store.audit_log(0, 100).unwrap();
    assert!(audit.iter().any(|e| e.event == AuditEvent::StoreRecovered));
    drop(store);
    // The fresh store opens cleanly afterwards.
    let (_, again) = Store::open(&db_path(dir), key, Some(&prov), T0).unwrap();
    assert_eq!(again.outcome, OpenOutcome::Opened);
}

fn flip(path: &Path, offsets: impl IntoIterator<Item = usize>) {
    let mut bytes = fs::read(path).unwrap();
    for o in offsets {
        bytes[o] ^= 0xff;
    }
    fs::write(path, bytes).unwrap();
}

#[test]
fn flipped_bytes_in_a_data_page_are_recovered() {
    let sqlcipher = capture_sqlcipher_log();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    populated_store(dir.path(), &key);
    let len = fs::metadata(db_path(dir.path())).unwrap().len() as usize;
    assert!(len >= 4 * 4096, "store has {len} bytes");
    flip(&db_path(dir.path()), [2 * 4096 + 100, 2 * 4096 + 101]);
    assert_recovered(dir.path(), &key);
    sqlcipher.expect("hmac check failed");
}

#[test]
fn flipped_bytes_in_the_first_page_are_recovered_not_called_wrong_key() {
    let sqlcipher = capture_sqlcipher_log();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    populated_store(dir.path(), &key);
    flip(&db_path(dir.path()), [40, 41, 42]);
    assert_recovered(dir.path(), &key);
    sqlcipher.expect("hmac check failed");
}

#[test]
fn truncated_store_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    populated_store(dir.path(), &key);
    let path = db_path(dir.path());
    let len = fs::metadata(&path).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len / 2 + 7)
        .unwrap();
    assert_recovered(dir.path(), &key);
}

#[test]
fn store_truncated_to_zero_bytes_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    populated_store(dir.path(), &key);
    fs::write(db_path(dir.path()), b"").unwrap();
    assert_recovered(dir.path(), &key);
}

#[test]
fn store_replaced_with_garbage_is_recovered() {
    let sqlcipher = capture_sqlcipher_log();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    populated_store(dir.path(), &key);
    let path = db_path(dir.path());
    let len = fs::metadata(&path).unwrap().len() as usize;
    let garbage: Vec<u8> = (0..len).map(|i| (i * 7919 % 251) as u8).collect();
    fs::write(&path, &garbage).unwrap();
    assert_recovered(dir.path(), &key);
    // Moved aside byte for byte.
    let moved = files_containing(dir.path(), ".corrupt-");
    assert_eq!(fs::read(&moved[0]).unwrap(), garbage);
    sqlcipher.expect("hmac check failed");
}

#[test]
fn garbage_with_a_wrong_key_is_refused_and_left_in_place() {
    let sqlcipher = capture_sqlcipher_log();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    populated_store(dir.path(), &key);
    let path = db_path(dir.path());
    fs::write(&path, vec![0x5a; 8192]).unwrap();
    let other = Key::generate().unwrap();
    match Store::open(&path, &other, Some(&[provisioning("srv-a")]), T0) {
        Err(StoreError::WrongKey { .. }) => {}
        other => panic!("expected WrongKey, got {other:?}"),
    }
    assert_eq!(fs::read(&path).unwrap(), vec![0x5a; 8192]);
    assert!(files_containing(dir.path(), ".corrupt-").is_empty());
    sqlcipher.expect("hmac check failed");
}

#[test]
fn recovery_twice_in_the_same_second_keeps_both_files() {
    let sqlcipher = capture_sqlcipher_log();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    populated_store(dir.path(), &key);
    fs::write(db_path(dir.path()), vec![1u8; 8192]).unwrap();
    assert_recovered(dir.path(), &key);
    fs::write(db_path(dir.path()), vec![2u8; 8192]).unwrap();
    let (_, report) = open(dir.path(), &key, &[]);
    assert!(matches!(report.outcome, OpenOutcome::Recovered { .. }));
    let moved = files_containing(dir.path(), ".corrupt-");
    assert!(moved
        .iter()
        .any(|p| fs::read(p).unwrap() == vec![1u8; 8192]));
    assert!(moved
        .iter()
        .any(|p| fs::read(p).unwrap() == vec![2u8; 8192]));
    sqlcipher.expect("hmac check failed");
}

#[test]
fn deleted_store_file_is_treated_as_lost_nonces() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    populated_store(dir.path(), &key);
    fs::remove_file(db_path(dir.path())).unwrap();
    // Provisioned nonces are stale by now: accounts come back needs-resync.
    assert_recovered(dir.path(), &key);
}

#[test]
fn deleted_store_with_a_wrong_key_is_refused() {
    let sqlcipher = capture_sqlcipher_log();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    populated_store(dir.path(), &key);
    fs::remove_file(db_path(dir.path())).unwrap();
    let err = Store::open(&db_path(dir.path()), &Key::generate().unwrap(), None, T0).unwrap_err();
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err:?}");
    assert!(!db_path(dir.path()).exists());
    sqlcipher.expect("hmac check failed");
}

#[test]
fn recovery_interrupted_before_the_rebuilt_store_was_installed_is_redone() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    populated_store(dir.path(), &key);
    // State after a crash mid-recovery: the damaged file was moved aside, a
    // half-built replacement sits under its temporary name.
    fs::rename(
        db_path(dir.path()),
        dir.path().join("store.db.corrupt-19700101T000000Z"),
    )
    .unwrap();
    fs::write(dir.path().join("store.db.recovering"), b"half-built").unwrap();
    assert_recovered_with_earlier_file(dir.path(), &key);
    assert!(!dir.path().join("store.db.recovering").exists());
}

fn assert_recovered_with_earlier_file(dir: &Path, key: &Key) {
    let prov = [provisioning("srv-a"), provisioning("srv-b")];
    let (store, report) = Store::open(&db_path(dir), key, Some(&prov), T0).unwrap();
    assert!(
        matches!(report.outcome, OpenOutcome::Recovered { .. }),
        "{report:?}"
    );
    assert_eq!(store.accounts().unwrap().len(), 2);
    assert!(store
        .accounts()
        .unwrap()
        .iter()
        .all(|a| a.state == SyncState::NeedsResync));
    assert!(dir.join("store.db.corrupt-19700101T000000Z").exists());
}
