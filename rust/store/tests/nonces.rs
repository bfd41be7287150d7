//! Two-phase server-nonce rotation, client nonces and the atomic resync
//! commit.

mod common;

use common::*;
use dmnonce_store::{
    AuditEvent, Confirmation, Key, PendingKind, ResyncCommit, ServerNonceSlot, StoreError,
    SyncState, UnixTime,
};

fn slots(store: &dmnonce_store::Store, id: &str) -> Vec<(ServerNonceSlot, Vec<u8>)> {
    store
        .server_nonce_candidates(id)
        .unwrap()
        .into_iter()
        .map(|c| (c.slot, c.nonce.expose().to_vec()))
        .collect()
}

#[test]
fn new_server_nonce_keeps_the_old_one_until_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[provisioning("s")]);
    assert_eq!(
        slots(&store, "s"),
        vec![(ServerNonceSlot::Current, b"SERVERNONCE-s".to_vec())]
    );

    store
        .commit_new_server_nonce("s", &nonce("N1"), T0)
        .unwrap();
    assert_eq!(
        slots(&store, "s"),
        vec![
            (ServerNonceSlot::Current, b"N1".to_vec()),
            (ServerNonceSlot::Previous, b"SERVERNONCE-s".to_vec())
        ]
    );
    // The server still uses the old nonce: nothing is retired.
    assert_eq!(
        store
            .confirm_server_nonce_used("s", &nonce("SERVERNONCE-s"), T0)
            .unwrap(),
        Confirmation::NotCurrent
    );
    assert_eq!(slots(&store, "s").len(), 2);
    // A nonce we never issued changes nothing either.
    assert_eq!(
        store
            .confirm_server_nonce_used("s", &nonce("bogus"), T0)
            .unwrap(),
        Confirmation::NotCurrent
    );
    // Seen using the new one: previous retired, exactly once.
    assert_eq!(
        store
            .confirm_server_nonce_used("s", &nonce("N1"), T0)
            .unwrap(),
        Confirmation::RetiredPrevious
    );
    assert_eq!(
        slots(&store, "s"),
        vec![(ServerNonceSlot::Current, b"N1".to_vec())]
    );
    assert_eq!(
        store
            .confirm_server_nonce_used("s", &nonce("N1"), T0)
            .unwrap(),
        Confirmation::AlreadyConfirmed
    );
    let events: Vec<_> = store
        .audit_log(0, 100)
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(events.contains(&AuditEvent::NonceRotated));
    assert!(events.contains(&AuditEvent::NonceConfirmed));
}

#[test]
fn unconfirmed_rotations_keep_only_the_latest_two() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[provisioning("s")]);
    for n in ["N1", "N2", "N3"] {
        store.commit_new_server_nonce("s", &nonce(n), T0).unwrap();
    }
    assert_eq!(
        slots(&store, "s"),
        vec![
            (ServerNonceSlot::Current, b"N3".to_vec()),
            (ServerNonceSlot::Previous, b"N2".to_vec())
        ]
    );
    let set = store.nonces("s").unwrap();
    assert_eq!(set.generation, 3);
    assert_eq!(set.client.unwrap().expose(), b"CLIENTNONCE-s");
}

#[test]
fn reissuing_the_current_server_nonce_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[provisioning("s")]);
    store
        .commit_new_server_nonce("s", &nonce("N1"), T0)
        .unwrap();
    let err = store
        .commit_new_server_nonce("s", &nonce("N1"), T0)
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err:?}");
    // Previous survived the refused call.
    assert_eq!(slots(&store, "s").len(), 2);
}

#[test]
fn client_nonce_change_leaves_server_nonces_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[provisioning("s")]);
    store
        .commit_new_server_nonce("s", &nonce("N1"), T0)
        .unwrap();
    store
        .set_client_nonce("s", &nonce("C1"), UnixTime(T0.0 + 5))
        .unwrap();
    let set = store.nonces("s").unwrap();
    assert_eq!(set.client.unwrap().expose(), b"C1");
    assert_eq!(set.server_current.unwrap().expose(), b"N1");
    assert_eq!(set.server_previous.unwrap().expose(), b"SERVERNONCE-s");
    assert_eq!(set.updated_at, UnixTime(T0.0 + 5));
}

#[test]
fn commit_resync_writes_everything_at_once_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let (store, _) = open(dir.path(), &key, &[provisioning("s")]);
    store
        .commit_new_server_nonce("s", &nonce("N1"), T0)
        .unwrap();
    store.set_state("s", SyncState::Resyncing, T0).unwrap();
    let pending = store
        .record_pending("s", PendingKind::ResyncSession, b"pkg0", T0)
        .unwrap();
    store
        .commit_resync(
            "s",
            &ResyncCommit {
                client_nonce: Some(nonce("C-new")),
                server_nonce: Some(nonce("S-new")),
                server_secret: Some(secret("rotated-server-secret")),
                state: SyncState::InSync,
                complete_pending: Some(pending),
                server_secret_used: dmnonce_store::SecretSlot::Current,
            },
            T0,
        )
        .unwrap();
    drop(store);
    let (store, _) = open(dir.path(), &key, &[]);
    let set = store.nonces("s").unwrap();
    assert_eq!(set.client.unwrap().expose(), b"C-new");
    assert_eq!(set.server_current.unwrap().expose(), b"S-new");
    assert!(
        set.server_previous.is_none(),
        "stale nonce must not stay valid after resync"
    );
    assert_eq!(store.account("s").unwrap().state, SyncState::InSync);
    assert_eq!(
        store.account_secrets("s").unwrap().server_secret.expose(),
        b"rotated-server-secret"
    );
    assert!(store.pending().unwrap().is_empty());
    let events: Vec<_> = store
        .audit_log(0, 100)
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(events.contains(&AuditEvent::ResyncStarted));
    assert!(events.contains(&AuditEvent::ResyncFinished));
}

#[test]
fn failing_commit_resync_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[provisioning("s")]);
    let before = store.nonces("s").unwrap();
    let err = store
        .commit_resync(
            "nobody",
            &ResyncCommit {
                client_nonce: Some(nonce("C")),
                server_nonce: Some(nonce("S")),
                server_secret: None,
                state: SyncState::InSync,
                complete_pending: None,
                server_secret_used: dmnonce_store::SecretSlot::Current,
            },
            T0,
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::UnknownAccount(_)));
    assert_eq!(store.nonces("s").unwrap().generation, before.generation);
}

#[test]
fn nonce_getters_are_redacted_in_debug_output() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[provisioning("s")]);
    let shown = format!(
        "{:?} {:?} {:?}",
        store.nonces("s").unwrap(),
        store.server_nonce_candidates("s").unwrap(),
        store.account_secrets("s").unwrap()
    );
    assert!(
        !shown.contains("NONCE-s") && !shown.contains("SECRET-s"),
        "{shown}"
    );
}

/// A session step that saw the server use the current server nonce
/// retires the previous one in its own transaction (issue 15): once, one
/// generation, one `nonce-confirmed` entry; the previous nonce changes
/// nothing.
#[test]
fn commit_resync_seen_retires_the_previous_server_nonce_once() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[provisioning("s")]);
    store
        .commit_new_server_nonce("s", &nonce("N1"), T0)
        .unwrap();
    let step = ResyncCommit {
        client_nonce: None,
        server_nonce: None,
        server_secret: None,
        server_secret_used: dmnonce_store::SecretSlot::Current,
        state: SyncState::InSync,
        complete_pending: None,
    };
    let g = store.nonces("s").unwrap().generation;
    let confirmations = |store: &dmnonce_store::Store| {
        store
            .audit_log(0, 1000)
            .unwrap()
            .iter()
            .filter(|e| e.event == AuditEvent::NonceConfirmed)
            .count()
    };
    store
        .commit_resync_seen("s", &step, Some(&nonce("SERVERNONCE-s")), None, T0)
        .unwrap();
    assert_eq!(slots(&store, "s").len(), 2);
    assert_eq!(store.nonces("s").unwrap().generation, g);
    for _ in 0..2 {
        store
            .commit_resync_seen("s", &step, Some(&nonce("N1")), None, T0)
            .unwrap();
    }
    assert_eq!(
        slots(&store, "s"),
        vec![(ServerNonceSlot::Current, b"N1".to_vec())]
    );
    assert_eq!(store.nonces("s").unwrap().generation, g + 1);
    assert_eq!(confirmations(&store), 1);
}
