//! Nothing the store logs or puts in an error message carries a secret, a
//! nonce or the key — at any log level, on the normal path and on recovery.

mod common;

use std::sync::Mutex;

use common::*;
use dmnonce_store::{
    AccountUpdate, DefaultNonceNotification, Key, ResyncCommit, Store, StoreError, SyncState,
};

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;
impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        LINES
            .lock()
            .unwrap()
            .push(format!("{} {}", record.level(), record.args()));
    }
    fn flush(&self) {}
}

#[test]
fn logs_errors_and_debug_output_carry_no_secret() {
    let sqlcipher = capture_sqlcipher_log();
    static CAPTURE: Capture = Capture;
    log::set_logger(&CAPTURE).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let raw = [0xc3u8; 32];
    let key_hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let key = Key::from_bytes(raw);
    let dir = tempfile::tempdir().unwrap();
    let prov = [provisioning("srv")];
    let mut shown = Vec::new();

    let (store, report) = open(dir.path(), &key, &prov);
    shown.push(format!("{report:?} {store:?} {key:?}"));
    store
        .commit_new_server_nonce("srv", &nonce("ROTATED-NONCE"), T0)
        .unwrap();
    store
        .set_client_nonce("srv", &nonce("CLIENT-NONCE-2"), T0)
        .unwrap();
    let n = DefaultNonceNotification {
        digest: [7; 16],
        session_id: 1,
        package0: b"pkg0",
        reading: "text",
    };
    for _ in 0..2 {
        shown.push(format!(
            "{:?}",
            store.check_and_record_default_nonce_notification("srv", &n, T0)
        ));
    }
    store
        .commit_resync(
            "srv",
            &ResyncCommit {
                client_nonce: Some(nonce("RESYNC-CLIENT-NONCE")),
                server_nonce: Some(nonce("RESYNC-SERVER-NONCE")),
                server_secret: Some(secret("RESYNC-SERVER-SECRET")),
                state: SyncState::InSync,
                complete_pending: None,
                server_secret_used: dmnonce_store::SecretSlot::Current,
            },
            T0,
        )
        .unwrap();
    let update = AccountUpdate {
        client_secret: Some(secret("UPDATED-CLIENT-SECRET")),
        ..Default::default()
    };
    store.update_account("srv", &update, T0).unwrap();
    shown.push(format!("{update:?}"));
    shown.push(format!("{:?}", store.nonces("srv").unwrap()));
    shown.push(format!("{:?}", store.account_secrets("srv").unwrap()));
    shown.push(format!("{:?}", store.audit_log(0, 1000).unwrap()));
    shown.push(format!("{:?}", prov));
    drop(store);

    // Errors: wrong key, then recovery from garbage.
    let err = Store::open(&db_path(dir.path()), &Key::generate().unwrap(), None, T0).unwrap_err();
    assert!(matches!(err, StoreError::WrongKey { .. }));
    shown.push(format!("{err} {err:?}"));
    std::fs::write(db_path(dir.path()), vec![0x11; 16384]).unwrap();
    let (store, report) = open(dir.path(), &key, &prov);
    shown.push(format!(
        "{report:?} {:?}",
        store.audit_log(0, 1000).unwrap()
    ));

    let lines = LINES.lock().unwrap().clone();
    assert!(
        lines.iter().any(|l| l.contains("damaged")),
        "expected the recovery to be logged: {lines:?}"
    );
    let secrets = [
        key_hex.as_str(),
        "SECRET",
        "NONCE",
        "ROTATED",
        "CLIENTNONCE",
        "SERVERNONCE",
    ];
    for text in lines.iter().chain(shown.iter()) {
        for s in secrets {
            assert!(!text.contains(s), "{s:?} leaked in: {text}");
        }
    }
    sqlcipher.expect("hmac check failed");
}
