//! Accounts, pending work, the audit log, provisioning at open, and use
//! from several threads.

mod common;

use std::sync::Arc;

use common::*;
use dmnonce_store::{
    AccountUpdate, AuditEvent, AuthScheme, Encoding, Key, OpenOutcome, PendingKind, Policy, Store,
    StoreError, SyncState, UnixTime,
};

#[test]
fn account_crud_round_trips_and_errors_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let (store, report) = open(dir.path(), &Key::generate().unwrap(), &[]);
    assert_eq!(report.outcome, OpenOutcome::Created);
    store.create_account(&provisioning("b"), T0).unwrap();
    store.create_account(&provisioning("a"), T0).unwrap();
    assert!(matches!(
        store.create_account(&provisioning("a"), T0),
        Err(StoreError::AccountExists(_))
    ));
    let ids: Vec<_> = store
        .accounts()
        .unwrap()
        .into_iter()
        .map(|a| a.server_id)
        .collect();
    assert_eq!(ids, ["a", "b"]);
    let a = store.account("a").unwrap();
    assert_eq!(
        (a.auth_scheme, a.encoding, a.policy, a.state),
        (
            AuthScheme::Md5,
            Encoding::Wbxml,
            Policy::Allow,
            SyncState::InSync
        )
    );
    let later = UnixTime(T0.0 + 60);
    store
        .update_account(
            "a",
            &AccountUpdate {
                server_url: Some("https://127.0.0.1:9443/dm".into()),
                client_secret: Some(secret("new-client-secret")),
                auth_scheme: Some(AuthScheme::Hmac),
                encoding: Some(Encoding::Xml),
                policy: Some(Policy::Deny),
                ..Default::default()
            },
            later,
        )
        .unwrap();
    let a = store.account("a").unwrap();
    assert_eq!(a.server_url, "https://127.0.0.1:9443/dm");
    assert_eq!(
        (a.auth_scheme, a.encoding, a.policy),
        (AuthScheme::Hmac, Encoding::Xml, Policy::Deny)
    );
    assert_eq!(a.updated_at, later);
    assert_eq!(
        store.account_secrets("a").unwrap().client_secret.expose(),
        b"new-client-secret"
    );
    store.delete_account("a", later).unwrap();
    assert!(matches!(
        store.account("a"),
        Err(StoreError::UnknownAccount(_))
    ));
    assert!(matches!(
        store.nonces("a"),
        Err(StoreError::UnknownAccount(_))
    ));
    assert!(matches!(
        store.delete_account("a", later),
        Err(StoreError::UnknownAccount(_))
    ));
}

#[test]
fn bad_input_is_refused_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[]);
    let mut p = provisioning("x");
    p.server_id = String::new();
    assert!(matches!(
        store.create_account(&p, T0),
        Err(StoreError::InvalidInput { .. })
    ));
    p.server_id = "s".repeat(256);
    assert!(matches!(
        store.create_account(&p, T0),
        Err(StoreError::InvalidInput { .. })
    ));
    let mut p = provisioning("x");
    p.server_url = "https://a\nb".into();
    assert!(matches!(
        store.create_account(&p, T0),
        Err(StoreError::InvalidInput { .. })
    ));
    assert!(store.accounts().unwrap().is_empty());
    assert!("bogus".parse::<Policy>().is_err());
    assert_eq!(
        "needs-resync".parse::<SyncState>().unwrap(),
        SyncState::NeedsResync
    );
}

#[test]
fn provisioning_at_open_adds_missing_accounts_only() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let (store, report) = open(dir.path(), &key, &[provisioning("a")]);
    assert_eq!(report.provisioned, ["a"]);
    store
        .commit_new_server_nonce("a", &nonce("N1"), T0)
        .unwrap();
    drop(store);
    let (store, report) = open(dir.path(), &key, &[provisioning("a"), provisioning("b")]);
    assert_eq!(report.outcome, OpenOutcome::Opened);
    assert_eq!(report.schema_version_found, 3);
    assert_eq!(report.provisioned, ["b"]);
    // Existing account untouched by provisioning.
    assert_eq!(
        store.nonces("a").unwrap().server_current.unwrap().expose(),
        b"N1"
    );
}

#[test]
fn pending_work_survives_restart_and_records_failures() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let (store, _) = open(dir.path(), &key, &[provisioning("a")]);
    let id1 = store
        .record_pending("a", PendingKind::ClientAlert, b"alert-1", T0)
        .unwrap();
    let id2 = store
        .record_pending("a", PendingKind::ResyncSession, b"pkg0-2", T0)
        .unwrap();
    assert!(matches!(
        store.record_pending("zz", PendingKind::ClientAlert, b"", T0),
        Err(StoreError::UnknownAccount(_))
    ));
    drop(store);
    let (store, _) = open(dir.path(), &key, &[]);
    let work = store.pending().unwrap();
    assert_eq!(work.iter().map(|w| w.id).collect::<Vec<_>>(), [id1, id2]);
    assert_eq!(work[0].payload, b"alert-1");
    assert_eq!(
        store
            .fail_pending(id2, "server unreachable", UnixTime(T0.0 + 9))
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .fail_pending(id2, "server unreachable", UnixTime(T0.0 + 19))
            .unwrap(),
        2
    );
    store.complete_pending(id1).unwrap();
    assert!(matches!(
        store.complete_pending(id1),
        Err(StoreError::UnknownPending(_))
    ));
    let work = store.pending().unwrap();
    assert_eq!(work.len(), 1);
    assert_eq!(work[0].attempts, 2);
    assert_eq!(work[0].last_attempt_at, Some(UnixTime(T0.0 + 19)));
    assert_eq!(work[0].last_error.as_deref(), Some("server unreachable"));
    // Deleting the account drops its work.
    store.delete_account("a", T0).unwrap();
    assert!(store.pending().unwrap().is_empty());
}

#[test]
fn audit_log_is_ordered_paged_and_free_of_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[provisioning("a")]);
    store
        .commit_new_server_nonce("a", &nonce("NEWNONCE-xyz"), T0)
        .unwrap();
    store.set_state("a", SyncState::Resyncing, T0).unwrap();
    store.set_state("a", SyncState::NeedsResync, T0).unwrap();
    store
        .update_account(
            "a",
            &AccountUpdate {
                server_secret: Some(secret("NEWSECRET-xyz")),
                ..Default::default()
            },
            T0,
        )
        .unwrap();
    store
        .append_audit(Some("a"), AuditEvent::Daemon, "operator note", T0)
        .unwrap();
    let all = store.audit_log(0, 1000).unwrap();
    let events: Vec<_> = all.iter().map(|e| e.event).collect();
    assert_eq!(
        events,
        [
            AuditEvent::AccountCreated,
            AuditEvent::NonceRotated,
            AuditEvent::ResyncStarted,
            AuditEvent::ResyncFailed,
            AuditEvent::SecretChanged,
            AuditEvent::Daemon
        ]
    );
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    let page = store.audit_log(all[1].id, 2).unwrap();
    assert_eq!(page, all[2..4]);
    for e in &all {
        for secret in ["NONCE", "SECRET", "xyz"] {
            assert!(!e.detail.contains(secret), "{e:?}");
        }
    }
}

#[test]
fn store_is_usable_from_several_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Store>();
    let dir = tempfile::tempdir().unwrap();
    let prov: Vec<_> = (0..4).map(|i| provisioning(&format!("t{i}"))).collect();
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &prov);
    let store = Arc::new(store);
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || {
                let id = format!("t{i}");
                for n in 0..25 {
                    store
                        .commit_new_server_nonce(&id, &nonce(&format!("{id}-{n}")), T0)
                        .unwrap();
                    let _ = store.accounts().unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    for i in 0..4 {
        let set = store.nonces(&format!("t{i}")).unwrap();
        assert_eq!(set.generation, 25);
        assert_eq!(
            set.server_current.unwrap().expose(),
            format!("t{i}-24").as_bytes()
        );
    }
}

/// The change request: a device without its nonces must be resynchronised,
/// so an account created without both is `needs-resync`, by
/// `create_account` and by provisioning at open alike (issue 15).
#[test]
fn an_account_without_its_nonces_is_needs_resync() {
    let dir = tempfile::tempdir().unwrap();
    let mut at_open = provisioning("at-open");
    at_open.server_nonce = None;
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[at_open]);
    let mut none = provisioning("none");
    none.client_nonce = None;
    none.server_nonce = None;
    let mut server_only = provisioning("server-only");
    server_only.client_nonce = None;
    for p in [provisioning("both"), none, server_only] {
        store.create_account(&p, T0).unwrap();
    }
    let state = |id: &str| store.account(id).unwrap().state;
    assert_eq!(state("both"), SyncState::InSync);
    assert_eq!(state("none"), SyncState::NeedsResync);
    assert_eq!(state("server-only"), SyncState::NeedsResync);
    assert_eq!(state("at-open"), SyncState::NeedsResync);
}
