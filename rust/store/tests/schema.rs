//! Schema versioning, and a model-based property test of the nonce
//! operations.

mod common;

use common::*;
use dmnonce_store::{Confirmation, Key, Nonce, ResyncCommit, Store, StoreError, SyncState};
use proptest::prelude::*;

#[test]
fn store_from_a_newer_version_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let raw = [0x42u8; 32];
    let key = Key::from_bytes(raw);
    drop(open(dir.path(), &key, &[provisioning("a")]));
    {
        // Stand-in for a newer dmnonce: same key, higher user_version.
        let conn = rusqlite::Connection::open(db_path(dir.path())).unwrap();
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        conn.execute_batch(&format!(
            "PRAGMA key = \"x'{hex}'\"; PRAGMA user_version = 99;"
        ))
        .unwrap();
    }
    let before = std::fs::read(db_path(dir.path())).unwrap();
    match Store::open(&db_path(dir.path()), &key, None, T0) {
        Err(StoreError::SchemaTooNew {
            found: 99,
            supported: 3,
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(db_path(dir.path())).unwrap(), before);
    assert!(files_containing(dir.path(), ".corrupt-").is_empty());
}

#[derive(Debug, Clone)]
enum Op {
    Rotate(u8),
    Confirm(u8),
    SetClient(u8),
    Resync(u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u8>().prop_map(Op::Rotate),
        any::<u8>().prop_map(Op::Confirm),
        any::<u8>().prop_map(Op::SetClient),
        (any::<u8>(), any::<u8>()).prop_map(|(c, s)| Op::Resync(c, s)),
    ]
}

/// What the store should hold: (client, current, previous).
type Model = (Option<Vec<u8>>, Option<Vec<u8>>, Option<Vec<u8>>);

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn nonce_operations_match_a_simple_model(ops in proptest::collection::vec(op(), 1..30)) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[provisioning("p")]);
        let mut m: Model = (
            Some(b"CLIENTNONCE-p".to_vec()),
            Some(b"SERVERNONCE-p".to_vec()),
            None,
        );
        let v = |b: u8| vec![b'n', b];
        for op in ops {
            match op {
                Op::Rotate(b) => {
                    let r = store.commit_new_server_nonce("p", &Nonce::new(v(b)).unwrap(), T0);
                    if m.1.as_deref() == Some(&v(b)[..]) {
                        prop_assert!(r.is_err());
                    } else {
                        r.unwrap();
                        m.2 = m.1.take();
                        m.1 = Some(v(b));
                    }
                }
                Op::Confirm(b) => {
                    let r = store.confirm_server_nonce_used("p", &Nonce::new(v(b)).unwrap(), T0).unwrap();
                    let expect = if m.1.as_deref() != Some(&v(b)[..]) {
                        Confirmation::NotCurrent
                    } else if m.2.is_none() {
                        Confirmation::AlreadyConfirmed
                    } else {
                        m.2 = None;
                        Confirmation::RetiredPrevious
                    };
                    prop_assert_eq!(r, expect);
                }
                Op::SetClient(b) => {
                    store.set_client_nonce("p", &Nonce::new(v(b)).unwrap(), T0).unwrap();
                    m.0 = Some(v(b));
                }
                Op::Resync(c, s) => {
                    store.commit_resync("p", &ResyncCommit {
                        client_nonce: Some(Nonce::new(v(c)).unwrap()),
                        server_nonce: Some(Nonce::new(v(s)).unwrap()),
                        server_secret: None,
                        state: SyncState::InSync,
                        complete_pending: None,
                        server_secret_used: dmnonce_store::SecretSlot::Current,
                    }, T0).unwrap();
                    m = (Some(v(c)), Some(v(s)), None);
                }
            }
            let set = store.nonces("p").unwrap();
            let got: Model = (
                set.client.map(|n| n.expose().to_vec()),
                set.server_current.map(|n| n.expose().to_vec()),
                set.server_previous.map(|n| n.expose().to_vec()),
            );
            prop_assert_eq!(&got, &m);
        }
    }
}

#[test]
fn a_version_1_store_is_migrated_and_keeps_its_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let raw = [0x24u8; 32];
    let key = Key::from_bytes(raw);
    drop(open(dir.path(), &key, &[provisioning("a")]));
    {
        // Back to the first release's layout: no previous server secret.
        let conn = rusqlite::Connection::open(db_path(dir.path())).unwrap();
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        conn.execute_batch(&format!(
            "PRAGMA key = \"x'{hex}'\";
             ALTER TABLE accounts DROP COLUMN server_secret_previous;
             PRAGMA user_version = 1;"
        ))
        .unwrap();
    }
    let (store, report) = open(dir.path(), &key, &[]);
    assert_eq!(report.outcome, dmnonce_store::OpenOutcome::Opened);
    assert_eq!(report.schema_version_found, 1);
    let s = store.account_secrets("a").unwrap();
    assert_eq!(s.server_secret.expose(), b"SERVERSECRET-a");
    assert!(s.server_secret_previous.is_none());
    assert_eq!(
        store.nonces("a").unwrap().server_current.unwrap().expose(),
        b"SERVERNONCE-a"
    );
}
