use std::io::{Seek, SeekFrom, Write};

use super::*;
use crate::sqlcipher_log::capture_sqlcipher_log;
use crate::{OpenOutcome, SyncState, DB_FILE_NAME};

const T0: UnixTime = UnixTime(1_795_917_310);

fn key() -> Key {
    Key::from_bytes([7u8; 32])
}

fn prov(id: &str) -> AccountProvisioning {
    AccountProvisioning {
        server_id: id.into(),
        server_url: format!("https://127.0.0.1:8443/{id}"),
        client_name: format!("dev-{id}"),
        client_secret: AuthSecret::new(format!("CLIENT-{id}").into_bytes()).unwrap(),
        server_secret: AuthSecret::new(format!("SERVER-{id}").into_bytes()).unwrap(),
        server_secret_previous: None,
        auth_scheme: AuthScheme::Hmac,
        encoding: Encoding::Xml,
        policy: Policy::Deny,
        client_nonce: Some(crate::Nonce::new(b"cn".to_vec()).unwrap()),
        server_nonce: Some(crate::Nonce::new(b"sn".to_vec()).unwrap()),
    }
}

/// Overwrites the second page (a data page) with garbage, as a bad sector
/// or a stray write would.
fn damage_page_two(path: &Path) {
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(4096 + 100)).unwrap();
    f.write_all(&[0xA5; 512]).unwrap();
}

#[test]
fn entries_round_trip_without_nonces_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(PROVISIONING_FILE_NAME);
    let m = ProvisioningMirror::open(&path, &key()).unwrap();
    assert!(m.insert_if_absent(&prov("b")).unwrap());
    assert!(m.insert_if_absent(&prov("a")).unwrap());
    drop(m);
    let m = ProvisioningMirror::open(&path, &key()).unwrap();
    let all = m.accounts().unwrap();
    assert_eq!(
        all.iter().map(|p| p.server_id.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let a = &all[0];
    assert_eq!(a.client_secret.expose(), b"CLIENT-a");
    assert_eq!(a.server_secret.expose(), b"SERVER-a");
    assert_eq!(a.server_url, "https://127.0.0.1:8443/a");
    assert_eq!(a.client_name, "dev-a");
    assert_eq!(
        (a.auth_scheme, a.encoding, a.policy),
        (AuthScheme::Hmac, Encoding::Xml, Policy::Deny)
    );
    assert!(a.client_nonce.is_none() && a.server_nonce.is_none());
}

#[test]
fn existing_entry_is_kept_and_remove_reports_presence() {
    let dir = tempfile::tempdir().unwrap();
    let m = ProvisioningMirror::open(&dir.path().join("p.db"), &key()).unwrap();
    assert!(m.insert_if_absent(&prov("a")).unwrap());
    let mut other = prov("a");
    other.server_secret = AuthSecret::new(b"DIFFERENT".to_vec()).unwrap();
    assert!(!m.insert_if_absent(&other).unwrap());
    assert_eq!(m.accounts().unwrap()[0].server_secret.expose(), b"SERVER-a");
    assert!(m.remove("a").unwrap());
    assert!(!m.remove("a").unwrap());
    assert!(m.accounts().unwrap().is_empty());
}

#[test]
fn invalid_provisioning_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let m = ProvisioningMirror::open(&dir.path().join("p.db"), &key()).unwrap();
    let mut p = prov("a");
    p.server_id = String::new();
    assert!(matches!(
        m.insert_if_absent(&p),
        Err(StoreError::InvalidInput { .. })
    ));
}

#[test]
fn secrets_are_encrypted_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let m = ProvisioningMirror::open(&path, &key()).unwrap();
    m.insert_if_absent(&prov("plainly-visible")).unwrap();
    drop(m);
    let bytes = std::fs::read(&path).unwrap();
    let find = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(!find(b"SERVER-plainly-visible"));
    assert!(!find(b"plainly-visible"));
}

#[test]
fn wrong_key_is_refused_and_file_untouched() {
    let sqlcipher = capture_sqlcipher_log();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let m = ProvisioningMirror::open(&path, &key()).unwrap();
    m.insert_if_absent(&prov("a")).unwrap();
    drop(m);
    let before = std::fs::read(&path).unwrap();
    let err = ProvisioningMirror::open(&path, &Key::from_bytes([8u8; 32])).unwrap_err();
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    sqlcipher.expect("hmac check failed");
}

#[test]
fn damaged_mirror_is_reported_then_replaced_and_refilled_from_the_store() {
    let sqlcipher = capture_sqlcipher_log();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(PROVISIONING_FILE_NAME);
    let m = ProvisioningMirror::open(&path, &key()).unwrap();
    // Enough rows to need a second page.
    for i in 0..40 {
        m.insert_if_absent(&prov(&format!("srv-{i:02}"))).unwrap();
    }
    drop(m);
    damage_page_two(&path);
    let err = ProvisioningMirror::open(&path, &key()).unwrap_err();
    assert!(
        matches!(err, StoreError::ProvisioningDamaged { .. }),
        "{err}"
    );
    // The store (same key) has one account; the replaced mirror gets it.
    let (store, _) = Store::open(&dir.path().join(DB_FILE_NAME), &key(), None, T0).unwrap();
    store.create_account(&prov("srv-07"), T0).unwrap();
    let (m, moved) = ProvisioningMirror::replace_damaged(&path, &key(), T0).unwrap();
    assert!(!moved.is_empty() && moved.iter().all(|p| p.exists()));
    assert!(moved[0].to_string_lossy().contains(".corrupt-"));
    assert!(m.accounts().unwrap().is_empty());
    let sync = m.reconcile(&store).unwrap();
    assert_eq!(sync.added, ["srv-07"]);
    assert_eq!(
        m.accounts().unwrap()[0].server_secret.expose(),
        b"SERVER-srv-07"
    );
    assert_eq!(m.reconcile(&store).unwrap(), MirrorSync::default());
    sqlcipher.expect("hmac check failed");
}

#[test]
fn mirror_feeds_recovery_of_a_damaged_store() {
    let sqlcipher = capture_sqlcipher_log();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DB_FILE_NAME);
    let m = ProvisioningMirror::open(&dir.path().join(PROVISIONING_FILE_NAME), &key()).unwrap();
    let (store, _) = Store::open(&db, &key(), None, T0).unwrap();
    for i in 0..40 {
        let p = prov(&format!("srv-{i:02}"));
        m.insert_if_absent(&p).unwrap();
        store.create_account(&p, T0).unwrap();
    }
    drop(store);
    damage_page_two(&db);
    let (store, report) = Store::open(&db, &key(), Some(&m.accounts().unwrap()), T0).unwrap();
    assert!(matches!(report.outcome, OpenOutcome::Recovered { .. }));
    assert_eq!(report.provisioned.len(), 40);
    let a = store.account("srv-13").unwrap();
    assert_eq!(a.state, SyncState::NeedsResync);
    assert_eq!(
        store
            .account_secrets("srv-13")
            .unwrap()
            .client_secret
            .expose(),
        b"CLIENT-srv-13"
    );
    sqlcipher.expect("hmac check failed");
}

#[test]
fn checkpoint_leaves_an_empty_wal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DB_FILE_NAME);
    let (store, _) = Store::open(&db, &key(), None, T0).unwrap();
    store.create_account(&prov("a"), T0).unwrap();
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    assert!(store.checkpoint().unwrap());
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);
    assert!(std::fs::metadata(&db).unwrap().len() >= 2 * 4096);
}

fn secret(s: &str) -> AuthSecret {
    AuthSecret::new(s.as_bytes().to_vec()).unwrap()
}

#[test]
fn rotated_server_secrets_are_mirrored_and_reconciled_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(PROVISIONING_FILE_NAME);
    let m = ProvisioningMirror::open(&path, &key()).unwrap();
    let (store, _) = Store::open(&dir.path().join(DB_FILE_NAME), &key(), None, T0).unwrap();
    store.create_account(&prov("a"), T0).unwrap();
    m.insert_if_absent(&prov("a")).unwrap();
    assert!(m
        .set_server_secrets("a", &secret("NEW"), Some(&secret("SERVER-a")))
        .unwrap());
    assert!(!m
        .set_server_secrets("nobody", &secret("NEW"), None)
        .unwrap());
    drop(m);
    let m = ProvisioningMirror::open(&path, &key()).unwrap();
    let a = &m.accounts().unwrap()[0];
    assert_eq!(a.server_secret.expose(), b"NEW");
    assert_eq!(
        a.server_secret_previous.as_ref().map(AuthSecret::expose),
        Some(&b"SERVER-a"[..])
    );
    // The mirror ran ahead of the store (a crash between the two writes):
    // the store is authoritative at start.
    let sync = m.reconcile(&store).unwrap();
    assert_eq!(sync.secrets_updated, ["a"]);
    assert!(sync.added.is_empty());
    let a = &m.accounts().unwrap()[0];
    assert_eq!(a.server_secret.expose(), b"SERVER-a");
    assert!(a.server_secret_previous.is_none());
    assert_eq!(m.reconcile(&store).unwrap(), MirrorSync::default());
}

#[test]
fn a_version_1_mirror_is_migrated_and_keeps_its_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(PROVISIONING_FILE_NAME);
    let m = ProvisioningMirror::open(&path, &key()).unwrap();
    m.insert_if_absent(&prov("a")).unwrap();
    {
        // Back to the first release's layout: no previous-secret column.
        let conn = m.lock();
        conn.execute_batch(
            "ALTER TABLE provisioning DROP COLUMN server_secret_previous;
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    drop(m);
    let m = ProvisioningMirror::open(&path, &key()).unwrap();
    let a = &m.accounts().unwrap()[0];
    assert_eq!(a.server_secret.expose(), b"SERVER-a");
    assert!(a.server_secret_previous.is_none());
    let version: i64 = m
        .lock()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, MIRROR_VERSION);
}
