//! Rollback detection (issue 17, finding 1): a store that comes back older
//! than it was — a damaged WAL frame (SQLite takes it as the end of the
//! log), an old copy of the database put back — must not serve its stale
//! nonces as current. The accounts that lost changes come back
//! `needs-resync` without nonces; the others are untouched; a healthy
//! crash image (database ahead of the counter file, or equal) is normal.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use dmnonce_store::{AuditEvent, IntegrityCheck, Key, OpenOutcome, SyncState};

const WAL_HEADER: u64 = 32;
const FRAME: u64 = 24 + 4096;

/// What a kill -9 leaves: the files as they are while the store is open
/// (committed WAL frames, the counter file's page-cache contents).
fn crash_image(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with("-shm") || p.is_dir() {
            continue; // the index is rebuilt from the WAL by the next opener
        }
        fs::copy(&p, to.join(&name)).unwrap();
    }
}

/// Flips 16 bytes inside the page of the WAL's last frame: its checksum
/// fails, and SQLite reads the log as ending before it.
fn damage_last_wal_frame(dir: &Path) {
    let wal = dir.join("store.db-wal");
    let len = fs::metadata(&wal).unwrap().len();
    assert!(len > WAL_HEADER + FRAME, "WAL holds {len} bytes");
    let frames = (len - WAL_HEADER) / FRAME;
    let at = (WAL_HEADER + (frames - 1) * FRAME + 24 + 1000) as usize;
    let mut bytes = fs::read(&wal).unwrap();
    for b in &mut bytes[at..at + 16] {
        *b ^= 0xA5;
    }
    fs::write(&wal, bytes).unwrap();
}

fn rotate(store: &dmnonce_store::Store, id: &str, n: &str) {
    store.commit_new_server_nonce(id, &nonce(n), T0).unwrap();
    assert_eq!(
        store.confirm_server_nonce_used(id, &nonce(n), T0).unwrap(),
        dmnonce_store::Confirmation::RetiredPrevious
    );
}

fn assert_out_of_step(store: &dmnonce_store::Store, id: &str) {
    let a = store.account(id).unwrap();
    assert_eq!(a.state, SyncState::NeedsResync, "{id}");
    let n = store.nonces(id).unwrap();
    assert!(
        n.client.is_none() && n.server_current.is_none() && n.server_previous.is_none(),
        "{id}: stale nonces still served"
    );
    assert!(store
        .audit_log(0, 1000)
        .unwrap()
        .iter()
        .any(|e| e.event == AuditEvent::StoreRolledBack && e.server_id.as_deref() == Some(id)));
}

#[test]
fn a_damaged_last_wal_frame_ends_in_needs_resync_not_an_older_in_sync() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let (store, _) = open(dir.path(), &key, &[provisioning("a"), provisioning("b")]);
    for i in 0..5 {
        rotate(&store, "a", &format!("confirmed-{i}"));
    }
    let crashed = dir.path().join("crashed");
    crash_image(dir.path(), &crashed);
    drop(store);
    damage_last_wal_frame(&crashed);

    let (store, report) = open(&crashed, &key, &[]);
    assert_eq!(report.outcome, OpenOutcome::Opened);
    assert!(
        matches!(report.integrity, IntegrityCheck::Full { .. }),
        "{report:?}"
    );
    let rb = report.rolled_back.expect("rollback detected");
    assert!(rb.found < rb.recorded, "{rb:?}");
    assert_eq!(rb.accounts, ["a"]);
    assert_out_of_step(&store, "a");
    // The other account lost nothing and stays as it was.
    assert_eq!(store.account("b").unwrap().state, SyncState::InSync);
    assert_eq!(
        store.nonces("b").unwrap().server_current.unwrap().expose(),
        b"SERVERNONCE-b"
    );
    // Nothing lost: the database and the damaged WAL are kept as found.
    assert_eq!(rb.copied_to.len(), 2, "{rb:?}");
    for p in &rb.copied_to {
        assert!(p.is_file(), "{}", p.display());
    }
    assert!(files_containing(&crashed, "store.db.rolledback-")
        .iter()
        .any(|p| p.to_string_lossy().ends_with("-wal")));
    drop(store);

    // Found once: the next open is in step again.
    let (store, report) = open(&crashed, &key, &[]);
    assert!(report.rolled_back.is_none(), "{report:?}");
    assert_eq!(store.account("a").unwrap().state, SyncState::NeedsResync);
}

#[test]
fn an_old_copy_put_back_ends_in_needs_resync() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let (store, _) = open(dir.path(), &key, &[provisioning("a"), provisioning("b")]);
    rotate(&store, "a", "first");
    drop(store);
    let old = fs::read(db_path(dir.path())).unwrap();
    assert!(!dir.path().join("store.db-wal").exists());

    let (store, _) = open(dir.path(), &key, &[]);
    rotate(&store, "a", "second");
    rotate(&store, "a", "third");
    drop(store);
    fs::write(db_path(dir.path()), &old).unwrap();

    let (store, report) = open(dir.path(), &key, &[]);
    let rb = report.rolled_back.expect("rollback detected");
    assert_eq!(rb.accounts, ["a"]);
    assert_eq!(rb.copied_to.len(), 1, "no WAL: {rb:?}");
    assert_eq!(fs::read(&rb.copied_to[0]).unwrap(), old);
    assert_out_of_step(&store, "a");
    assert_eq!(store.account("b").unwrap().state, SyncState::InSync);
}

#[test]
fn a_crash_image_without_damage_stays_in_sync_with_the_newest_nonce() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let (store, _) = open(dir.path(), &key, &[provisioning("a")]);
    for i in 0..5 {
        rotate(&store, "a", &format!("n-{i}"));
    }
    let crashed = dir.path().join("crashed");
    crash_image(dir.path(), &crashed);
    drop(store);
    let (store, report) = open(&crashed, &key, &[]);
    assert!(report.rolled_back.is_none(), "{report:?}");
    assert!(matches!(report.integrity, IntegrityCheck::Full { .. }));
    assert_eq!(store.account("a").unwrap().state, SyncState::InSync);
    assert_eq!(
        store.nonces("a").unwrap().server_current.unwrap().expose(),
        b"n-4"
    );
}

/// A stop between a commit and its counter write leaves the database one
/// commit ahead of the file: normal, not a rollback.
#[test]
fn a_stop_between_the_commit_and_the_counter_write_is_not_a_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let (store, _) = open(dir.path(), &key, &[provisioning("a")]);
    rotate(&store, "a", "n-0");
    let counter_before = fs::read(dir.path().join("store.db.commits")).unwrap();
    store
        .commit_new_server_nonce("a", &nonce("n-1"), T0)
        .unwrap();
    let crashed = dir.path().join("crashed");
    crash_image(dir.path(), &crashed);
    drop(store);
    fs::write(crashed.join("store.db.commits"), counter_before).unwrap();
    let (store, report) = open(&crashed, &key, &[]);
    assert!(report.rolled_back.is_none(), "{report:?}");
    assert_eq!(store.account("a").unwrap().state, SyncState::InSync);
    assert_eq!(
        store.nonces("a").unwrap().server_current.unwrap().expose(),
        b"n-1"
    );
    drop(store);
    // And the file was brought up to the database: an old copy put back now
    // is told.
    let (store, report) = open(&crashed, &key, &[]);
    assert!(report.rolled_back.is_none());
    drop(store);
}

#[test]
fn a_missing_or_torn_counter_file_is_rewritten_not_taken_for_a_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let (store, _) = open(dir.path(), &key, &[provisioning("a")]);
    rotate(&store, "a", "n-0");
    drop(store);
    let counter = dir.path().join("store.db.commits");
    fs::write(&counter, b"torn").unwrap();
    let (store, report) = open(dir.path(), &key, &[]);
    assert!(report.rolled_back.is_none(), "{report:?}");
    assert_eq!(store.account("a").unwrap().state, SyncState::InSync);
    drop(store);
    fs::remove_file(&counter).unwrap();
    let (store, report) = open(dir.path(), &key, &[]);
    assert!(report.rolled_back.is_none(), "{report:?}");
    assert_eq!(store.account("a").unwrap().state, SyncState::InSync);
    assert!(counter.is_file());
}
