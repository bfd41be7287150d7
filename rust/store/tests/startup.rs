//! Start-up cost does not grow with the store (issue 16): a clean open
//! checks page 1 (header, key), the schema and every b-tree's root, not
//! every page; the full check runs after an unclean stop and on demand
//! (`Store::check`), and damage it finds stops the store and is quarantined
//! by the next open.

mod common;

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use common::*;
use dmnonce_store::{IntegrityCheck, Key, OpenOutcome, Store, StoreError, SyncState};

const ACCOUNTS: usize = 2000;

fn many() -> Vec<dmnonce_store::AccountProvisioning> {
    (0..ACCOUNTS)
        .map(|i| provisioning(&format!("srv-{i:05}")))
        .collect()
}

/// Garbage over a page in the middle of the file: a leaf of the account
/// tables, far from page 1 and from every b-tree's root.
fn damage_middle_page(db: &Path) -> u64 {
    let pages = fs::metadata(db).unwrap().len() / 4096;
    assert!(pages > 100, "only {pages} pages");
    let page = pages / 2;
    let mut f = fs::OpenOptions::new().write(true).open(db).unwrap();
    f.seek(SeekFrom::Start(page * 4096 + 200)).unwrap();
    f.write_all(&[0x5A; 512]).unwrap();
    f.sync_all().unwrap();
    page
}

#[test]
fn a_clean_open_of_many_accounts_reads_no_page_it_does_not_need() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let (store, report) = open(dir.path(), &key, &many());
    assert_eq!(report.outcome, OpenOutcome::Created);
    drop(store);
    assert!(!dir.path().join("store.db-wal").exists(), "clean close");

    let (store, report) = open(dir.path(), &key, &[]);
    assert_eq!(report.integrity, IntegrityCheck::Quick);
    drop(store);

    // Proof that no full-page check ran: a damaged leaf goes unnoticed by
    // the clean open (the full check would have quarantined the store).
    let page = damage_middle_page(&db_path(dir.path()));
    let (store, report) = open(dir.path(), &key, &[]);
    assert_eq!(report.outcome, OpenOutcome::Opened, "page {page}");
    assert_eq!(report.integrity, IntegrityCheck::Quick);

    // The check on demand finds it, and the store stops serving.
    let check = store.check().unwrap();
    assert!(!check.is_healthy(), "{check:?}");
    assert!(check.pages > 100);
    assert!(check.problems[0].contains("HMAC"), "{check:?}");
    assert!(matches!(store.accounts(), Err(StoreError::Damaged { .. })));
    assert!(matches!(
        store.nonces("srv-00001"),
        Err(StoreError::Damaged { .. })
    ));
    drop(store);
    assert!(dir.path().join("store.db.needs-check").is_file());

    // The next open runs the full check and quarantines, as at start.
    let (store, report) = open(dir.path(), &key, &many()[..3]);
    assert!(
        matches!(report.integrity, IntegrityCheck::Full { .. }),
        "{report:?}"
    );
    assert!(
        matches!(report.outcome, OpenOutcome::Recovered { .. }),
        "{report:?}"
    );
    assert_eq!(files_containing(dir.path(), ".corrupt-").len(), 1);
    assert_eq!(
        store.account("srv-00001").unwrap().state,
        SyncState::NeedsResync
    );
    drop(store);
    assert!(!dir.path().join("store.db.needs-check").exists());
    let (_, report) = open(dir.path(), &key, &[]);
    assert_eq!(report.integrity, IntegrityCheck::Quick);
    assert_eq!(report.outcome, OpenOutcome::Opened);
}

#[test]
fn a_query_that_meets_a_damaged_page_stops_the_store() {
    let sqlcipher = capture_sqlcipher_log();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    drop(open(dir.path(), &key, &many()));
    damage_middle_page(&db_path(dir.path()));
    let (store, _) = open(dir.path(), &key, &[]);
    // Reading everything meets the page: an error, never wrong data; and
    // from then on the store refuses everything.
    let mut failed = store.accounts().is_err() || store.audit_log(0, 100_000).is_err();
    for i in 0..ACCOUNTS {
        failed |= store.nonces(&format!("srv-{i:05}")).is_err();
    }
    assert!(failed, "no read met the damaged page");
    assert!(matches!(
        store.account("srv-00000"),
        Err(StoreError::Damaged { .. })
    ));
    drop(store);
    let (_, report) = open(dir.path(), &key, &[]);
    assert!(matches!(report.outcome, OpenOutcome::Recovered { .. }));
    sqlcipher.expect("hmac check failed");
}

#[test]
fn an_unclean_stop_runs_the_full_check_and_quarantines_what_it_finds() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    drop(open(dir.path(), &key, &many()));
    let (store, _) = open(dir.path(), &key, &[]);
    store
        .commit_new_server_nonce("srv-00007", &nonce("after-start"), T0)
        .unwrap();
    // What a kill -9 leaves: the open files with their WAL.
    let crashed = dir.path().join("crashed");
    fs::create_dir(&crashed).unwrap();
    for name in [
        "store.db",
        "store.db-wal",
        "store.db.keycheck",
        "store.db.commits",
    ] {
        fs::copy(dir.path().join(name), crashed.join(name)).unwrap();
    }
    drop(store);
    let healthy = crashed.join("healthy");
    fs::create_dir(&healthy).unwrap();
    for name in [
        "store.db",
        "store.db-wal",
        "store.db.keycheck",
        "store.db.commits",
    ] {
        fs::copy(crashed.join(name), healthy.join(name)).unwrap();
    }
    let (store, report) = Store::open(&db_path(&healthy), &key, None, T0).unwrap();
    assert!(
        matches!(&report.integrity, IntegrityCheck::Full { reason } if reason.contains("unclean")),
        "{report:?}"
    );
    assert_eq!(report.outcome, OpenOutcome::Opened);
    assert!(store.check().unwrap().is_healthy());
    drop(store);

    damage_middle_page(&db_path(&crashed));
    let (_, report) = Store::open(&db_path(&crashed), &key, None, T0).unwrap();
    assert!(matches!(report.integrity, IntegrityCheck::Full { .. }));
    assert!(
        matches!(report.outcome, OpenOutcome::Recovered { .. }),
        "{report:?}"
    );
}
