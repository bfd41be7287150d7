//! Two-phase rotation of the server AuthSecret (change request step 6):
//! the replaced secret stays valid until the server is seen using the new
//! one, survives a reopen, and keeps the replay cache meaningful.

mod common;

use common::*;
use dmnonce_store::{
    AccountUpdate, AuditEvent, FallbackVerdict, Key, ResyncCommit, SecretConfirmation, SecretSlot,
    Store, StoreError, SyncState,
};

fn rotate(store: &Store, id: &str, new: &str, used: SecretSlot) -> Result<(), StoreError> {
    store.commit_resync(
        id,
        &ResyncCommit {
            client_nonce: Some(nonce(&format!("C-{new}"))),
            server_nonce: Some(nonce(&format!("S-{new}"))),
            server_secret: Some(secret(new)),
            server_secret_used: used,
            state: SyncState::Resyncing,
            complete_pending: None,
        },
        T0,
    )
}

/// (slot, secret) pairs in verification order.
fn candidates(store: &Store, id: &str) -> Vec<(SecretSlot, Vec<u8>)> {
    store
        .account_secrets(id)
        .unwrap()
        .server_secret_candidates()
        .into_iter()
        .map(|c| (c.slot, c.secret.expose().to_vec()))
        .collect()
}

#[test]
fn provisioned_account_has_only_the_current_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[provisioning("s")]);
    assert_eq!(
        candidates(&store, "s"),
        vec![(SecretSlot::Current, b"SERVERSECRET-s".to_vec())]
    );
    assert_eq!(
        store
            .confirm_server_secret_used("s", SecretSlot::Current, T0)
            .unwrap(),
        SecretConfirmation::Unchanged
    );
}

#[test]
fn rotation_keeps_the_old_secret_until_the_server_uses_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let (store, _) = open(dir.path(), &key, &[provisioning("s")]);
    rotate(&store, "s", "NEW-1", SecretSlot::Current).unwrap();
    drop(store);

    // The answer carrying our 200 for the Replace may never have arrived:
    // both secrets verify, new first, across a restart.
    let (store, _) = open(dir.path(), &key, &[]);
    assert_eq!(
        candidates(&store, "s"),
        vec![
            (SecretSlot::Current, b"NEW-1".to_vec()),
            (SecretSlot::Previous, b"SERVERSECRET-s".to_vec()),
        ]
    );
    // The server signing with the old secret proves nothing about the new.
    assert_eq!(
        store
            .confirm_server_secret_used("s", SecretSlot::Previous, T0)
            .unwrap(),
        SecretConfirmation::Unchanged
    );
    assert_eq!(candidates(&store, "s").len(), 2);
    // Signing with the new one retires the old one, once.
    assert_eq!(
        store
            .confirm_server_secret_used("s", SecretSlot::Current, T0)
            .unwrap(),
        SecretConfirmation::RetiredPrevious
    );
    assert_eq!(
        candidates(&store, "s"),
        vec![(SecretSlot::Current, b"NEW-1".to_vec())]
    );
    assert_eq!(
        store
            .confirm_server_secret_used("s", SecretSlot::Current, T0)
            .unwrap(),
        SecretConfirmation::Unchanged
    );
    let events: Vec<_> = store
        .audit_log(0, 100)
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(
        events
            .iter()
            .filter(|e| **e == AuditEvent::SecretConfirmed)
            .count(),
        1
    );
}

#[test]
fn a_session_run_with_the_previous_secret_keeps_that_one_and_drops_the_unconfirmed() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[provisioning("s")]);
    rotate(&store, "s", "NEW-1", SecretSlot::Current).unwrap();
    // The server never took NEW-1 (our Pkg#5 was lost) and rotates again in
    // a session it authenticated with the old secret.
    rotate(&store, "s", "NEW-2", SecretSlot::Previous).unwrap();
    assert_eq!(
        candidates(&store, "s"),
        vec![
            (SecretSlot::Current, b"NEW-2".to_vec()),
            (SecretSlot::Previous, b"SERVERSECRET-s".to_vec()),
        ]
    );
}

#[test]
fn keeping_a_previous_secret_that_does_not_exist_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[provisioning("s")]);
    let before = store.nonces("s").unwrap();
    let err = rotate(&store, "s", "NEW-1", SecretSlot::Previous).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::InvalidInput {
                field: "server_secret_used",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        candidates(&store, "s"),
        vec![(SecretSlot::Current, b"SERVERSECRET-s".to_vec())]
    );
    assert_eq!(store.nonces("s").unwrap().generation, before.generation);
}

#[test]
fn rotation_keeps_the_replay_cache_because_old_digests_still_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[provisioning("s")]);
    let digest = [7u8; 16];
    let seen = dmnonce_store::DefaultNonceNotification {
        digest,
        session_id: 9,
        package0: b"pkg0",
        reading: "zero",
    };
    assert!(matches!(
        store
            .check_and_record_default_nonce_notification("s", &seen, T0)
            .unwrap(),
        FallbackVerdict::Fresh { .. }
    ));
    rotate(&store, "s", "NEW-1", SecretSlot::Current).unwrap();
    assert!(matches!(
        store
            .check_and_record_default_nonce_notification("s", &seen, T0)
            .unwrap(),
        FallbackVerdict::Replay
    ));
}

#[test]
fn operator_setting_the_server_secret_drops_the_kept_one() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[provisioning("s")]);
    rotate(&store, "s", "NEW-1", SecretSlot::Current).unwrap();
    store
        .update_account(
            "s",
            &AccountUpdate {
                server_secret: Some(secret("FROM-OPERATOR")),
                ..AccountUpdate::default()
            },
            T0,
        )
        .unwrap();
    assert_eq!(
        candidates(&store, "s"),
        vec![(SecretSlot::Current, b"FROM-OPERATOR".to_vec())]
    );
}

#[test]
fn recovery_from_provisioning_restores_both_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = provisioning("s");
    p.server_secret = secret("NEW-1");
    p.server_secret_previous = Some(secret("OLD"));
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[p]);
    assert_eq!(
        candidates(&store, "s"),
        vec![
            (SecretSlot::Current, b"NEW-1".to_vec()),
            (SecretSlot::Previous, b"OLD".to_vec()),
        ]
    );
}

/// One step of a session through `commit_resync_seen` (issue 15): the
/// rotation is committed once; the step that saw the server sign with the
/// new secret retires the old one in the same transaction, with one
/// `secret-confirmed` entry; a seen secret that is not the current one, or
/// a seen server nonce with no previous one left, changes nothing.
#[test]
fn a_step_that_saw_the_new_secret_retires_the_old_one_in_its_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[provisioning("s")]);
    let step = |server_secret: Option<&str>| ResyncCommit {
        client_nonce: None,
        server_nonce: None,
        server_secret: server_secret.map(secret),
        server_secret_used: SecretSlot::Current,
        state: SyncState::Resyncing,
        complete_pending: None,
    };
    rotate(&store, "s", "NEW-1", SecretSlot::Current).unwrap();
    let generation = store.nonces("s").unwrap().generation;
    let audited = store.audit_log(0, 1000).unwrap().len();

    // Seen with a secret that is not the current one: both stay.
    let r = store
        .commit_resync_seen("s", &step(None), None, Some(&secret("OTHER")), T0)
        .unwrap();
    assert_eq!(r, SecretConfirmation::Unchanged);
    assert_eq!(candidates(&store, "s").len(), 2);
    // Seen with the current server nonce, no previous one kept: no change.
    let r = store
        .commit_resync_seen("s", &step(None), Some(&nonce("N2")), None, T0)
        .unwrap();
    assert_eq!(r, SecretConfirmation::Unchanged);
    assert_eq!(store.nonces("s").unwrap().generation, generation);
    assert_eq!(store.audit_log(0, 1000).unwrap().len(), audited);

    // Seen with the new secret: the old one goes, audited once.
    let r = store
        .commit_resync_seen("s", &step(None), None, Some(&secret("NEW-1")), T0)
        .unwrap();
    assert_eq!(r, SecretConfirmation::RetiredPrevious);
    assert_eq!(
        candidates(&store, "s"),
        vec![(SecretSlot::Current, b"NEW-1".to_vec())]
    );
    let log = store.audit_log(0, 1000).unwrap();
    let confirmed = log
        .iter()
        .filter(|e| e.event == AuditEvent::SecretConfirmed)
        .count();
    assert_eq!(confirmed, 1);
    assert_eq!(log.len(), audited + 1);
    assert_eq!(store.nonces("s").unwrap().generation, generation);
    let r = store
        .commit_resync_seen("s", &step(None), None, Some(&secret("NEW-1")), T0)
        .unwrap();
    assert_eq!(r, SecretConfirmation::Unchanged);
}

#[test]
fn seen_with_the_new_secret_and_nonce_retires_both_in_one_call() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let (store, _) = open(dir.path(), &key, &[provisioning("s")]);
    rotate(&store, "s", "NEW-1", SecretSlot::Current).unwrap();
    // A resync replaces the server nonce; a rotation keeps the previous one.
    store
        .commit_new_server_nonce("s", &nonce("N2"), T0)
        .unwrap();
    assert_eq!(store.server_nonce_candidates("s").unwrap().len(), 2);
    // The previous slot proves nothing and, with no nonce, writes nothing.
    assert_eq!(
        store
            .confirm_server_seen("s", SecretSlot::Previous, None, T0)
            .unwrap(),
        (SecretConfirmation::Unchanged, None)
    );
    assert_eq!(candidates(&store, "s").len(), 2);
    assert_eq!(
        store
            .confirm_server_seen("s", SecretSlot::Current, Some(&nonce("N2")), T0)
            .unwrap(),
        (
            SecretConfirmation::RetiredPrevious,
            Some(dmnonce_store::Confirmation::RetiredPrevious)
        )
    );
    assert_eq!(
        candidates(&store, "s"),
        vec![(SecretSlot::Current, b"NEW-1".to_vec())]
    );
    assert_eq!(store.server_nonce_candidates("s").unwrap().len(), 1);
}
