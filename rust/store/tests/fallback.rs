//! Bounds on the default-nonce fallback: policy, replay cache, rate limit.

mod common;

use common::*;
use dmnonce_store::{
    AccountUpdate, AuditEvent, DefaultNonceNotification, FallbackLimit, FallbackVerdict, Key,
    PendingKind, Policy, Store, SyncState, UnixTime,
};

fn pkg0(seq: u8) -> (Vec<u8>, DefaultNonceNotification<'static>) {
    let bytes = vec![seq; 40];
    let leaked: &'static [u8] = Box::leak(bytes.clone().into_boxed_slice());
    (
        bytes,
        DefaultNonceNotification {
            digest: [seq; 16],
            session_id: 0x1000 + u16::from(seq),
            package0: leaked,
            reading: "text",
        },
    )
}

fn store_with(policy: Policy) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut p = provisioning("s");
    p.policy = policy;
    let (store, _) = open(dir.path(), &Key::generate().unwrap(), &[p]);
    (dir, store)
}

#[test]
fn fresh_notification_is_accepted_once_and_starts_a_resync() {
    let (_dir, store) = store_with(Policy::Allow);
    let (bytes, n) = pkg0(1);
    let FallbackVerdict::Fresh { pending } = store
        .check_and_record_default_nonce_notification("s", &n, T0)
        .unwrap()
    else {
        panic!("not fresh");
    };
    assert_eq!(store.account("s").unwrap().state, SyncState::Resyncing);
    let work = store.pending().unwrap();
    assert_eq!(work.len(), 1);
    assert_eq!(work[0].id, pending);
    assert_eq!(work[0].kind, PendingKind::ResyncSession);
    assert_eq!(work[0].payload, bytes);
    // Same notification again, even much later: replay.
    assert_eq!(
        store
            .check_and_record_default_nonce_notification("s", &n, UnixTime(T0.0 + 86_400 * 30))
            .unwrap(),
        FallbackVerdict::Replay
    );
    let events: Vec<_> = store
        .audit_log(0, 100)
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(events.contains(&AuditEvent::FallbackUsed));
    assert!(events.contains(&AuditEvent::ReplayRejected));
    assert_eq!(
        store.pending().unwrap().len(),
        1,
        "a replay must not add work"
    );
}

#[test]
fn replay_cache_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let (_, n) = pkg0(7);
    {
        let (store, _) = open(dir.path(), &key, &[provisioning("s")]);
        assert!(matches!(
            store
                .check_and_record_default_nonce_notification("s", &n, T0)
                .unwrap(),
            FallbackVerdict::Fresh { .. }
        ));
    }
    let (store, _) = open(dir.path(), &key, &[provisioning("s")]);
    assert_eq!(
        store
            .check_and_record_default_nonce_notification("s", &n, T0)
            .unwrap(),
        FallbackVerdict::Replay
    );
}

#[test]
fn replay_cache_is_per_account_and_an_operator_secret_change_keeps_the_rate_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(
        dir.path(),
        &Key::generate().unwrap(),
        &[provisioning("a"), provisioning("b")],
    );
    store.set_fallback_limit(FallbackLimit {
        max_accepted: 2,
        window_secs: 3600,
    });
    let (_, old) = pkg0(3);
    let (_, recent) = pkg0(4);
    let (_, other) = pkg0(5);
    let at = |secs| UnixTime(T0.0 + secs);
    assert!(matches!(
        store
            .check_and_record_default_nonce_notification("a", &old, T0)
            .unwrap(),
        FallbackVerdict::Fresh { .. }
    ));
    assert!(matches!(
        store
            .check_and_record_default_nonce_notification("b", &old, T0)
            .unwrap(),
        FallbackVerdict::Fresh { .. }
    ));
    // Two hours later one more fallback, then the operator replaces the
    // server secret.
    assert!(matches!(
        store
            .check_and_record_default_nonce_notification("a", &recent, at(7200))
            .unwrap(),
        FallbackVerdict::Fresh { .. }
    ));
    store
        .update_account(
            "a",
            &AccountUpdate {
                server_secret: Some(secret("new-secret")),
                ..Default::default()
            },
            at(7200),
        )
        .unwrap();
    // The entry older than the window is gone (its digest can never verify
    // again); the recent one stays and still counts: one more fallback
    // fits, a third within the hour does not.
    assert!(matches!(
        store
            .check_and_record_default_nonce_notification("a", &old, at(7201))
            .unwrap(),
        FallbackVerdict::Fresh { .. }
    ));
    assert!(matches!(
        store
            .check_and_record_default_nonce_notification("a", &other, at(7202))
            .unwrap(),
        FallbackVerdict::RateLimited { .. }
    ));
    // Account b was not touched.
    assert_eq!(
        store
            .check_and_record_default_nonce_notification("b", &old, at(7203))
            .unwrap(),
        FallbackVerdict::Replay
    );
}

#[test]
fn rate_limit_counts_accepted_fallbacks_in_a_sliding_window() {
    let (_dir, store) = store_with(Policy::Allow);
    store.set_fallback_limit(FallbackLimit {
        max_accepted: 3,
        window_secs: 3600,
    });
    for i in 0..3u8 {
        let (_, n) = pkg0(i);
        let at = UnixTime(T0.0 + i64::from(i) * 600);
        assert!(
            matches!(
                store
                    .check_and_record_default_nonce_notification("s", &n, at)
                    .unwrap(),
                FallbackVerdict::Fresh { .. }
            ),
            "fallback {i}"
        );
    }
    let (_, n) = pkg0(10);
    let at = UnixTime(T0.0 + 1500);
    assert_eq!(
        store
            .check_and_record_default_nonce_notification("s", &n, at)
            .unwrap(),
        FallbackVerdict::RateLimited {
            retry_after: UnixTime(T0.0 + 3600)
        }
    );
    // A refused notification is not cached: it may pass once the window
    // has moved on.
    let later = UnixTime(T0.0 + 3600);
    assert!(matches!(
        store
            .check_and_record_default_nonce_notification("s", &n, later)
            .unwrap(),
        FallbackVerdict::Fresh { .. }
    ));
    let (_, n2) = pkg0(11);
    assert!(matches!(
        store
            .check_and_record_default_nonce_notification("s", &n2, later)
            .unwrap(),
        FallbackVerdict::RateLimited { .. }
    ));
    let events: Vec<_> = store
        .audit_log(0, 100)
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(events.contains(&AuditEvent::FallbackRateLimited));
}

#[test]
fn default_limit_is_five_per_hour() {
    let (_dir, store) = store_with(Policy::Allow);
    assert_eq!(store.fallback_limit(), FallbackLimit::default());
    let verdicts: Vec<_> = (0..6u8)
        .map(|i| {
            let (_, n) = pkg0(i);
            store
                .check_and_record_default_nonce_notification("s", &n, T0)
                .unwrap()
        })
        .collect();
    assert!(verdicts[..5]
        .iter()
        .all(|v| matches!(v, FallbackVerdict::Fresh { .. })));
    assert!(matches!(verdicts[5], FallbackVerdict::RateLimited { .. }));
}

#[test]
fn deny_policy_refuses_and_records_nothing_but_an_audit_event() {
    let (_dir, store) = store_with(Policy::Deny);
    let (_, n) = pkg0(1);
    assert_eq!(
        store
            .check_and_record_default_nonce_notification("s", &n, T0)
            .unwrap(),
        FallbackVerdict::PolicyDenied
    );
    assert_eq!(store.account("s").unwrap().state, SyncState::InSync);
    assert!(store.pending().unwrap().is_empty());
    let last = store.audit_log(0, 100).unwrap().pop().unwrap();
    assert_eq!(last.event, AuditEvent::FallbackDenied);
    // Switching the policy to allow lets the same notification through:
    // the denied one was never cached.
    store
        .update_account(
            "s",
            &AccountUpdate {
                policy: Some(Policy::Allow),
                ..Default::default()
            },
            T0,
        )
        .unwrap();
    assert!(matches!(
        store
            .check_and_record_default_nonce_notification("s", &n, T0)
            .unwrap(),
        FallbackVerdict::Fresh { .. }
    ));
}

#[test]
fn two_threads_racing_with_one_notification_get_one_fresh() {
    let (_dir, store) = store_with(Policy::Allow);
    let store = std::sync::Arc::new(store);
    let (_, n) = pkg0(9);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                store
                    .check_and_record_default_nonce_notification("s", &n, T0)
                    .unwrap()
            })
        })
        .collect();
    let verdicts: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let fresh = verdicts
        .iter()
        .filter(|v| matches!(v, FallbackVerdict::Fresh { .. }))
        .count();
    assert_eq!(fresh, 1, "{verdicts:?}");
}

#[test]
fn a_failed_session_ends_in_one_transaction_with_its_reason() {
    let (_dir, store) = store_with(Policy::Allow);
    let (_bytes, n) = pkg0(9);
    let FallbackVerdict::Fresh { pending } = store
        .check_and_record_default_nonce_notification("s", &n, T0)
        .unwrap()
    else {
        panic!("not admitted");
    };
    let before = store.nonces("s").unwrap();
    store
        .fail_resync("s", pending, "session 9: server unreachable", T0)
        .unwrap();
    assert!(store.pending().unwrap().is_empty());
    assert_eq!(store.account("s").unwrap().state, SyncState::NeedsResync);
    let after = store.nonces("s").unwrap();
    assert_eq!(after.generation, before.generation, "nonces untouched");
    let failed: Vec<_> = store
        .audit_log(0, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.event == AuditEvent::ResyncFailed)
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].detail.ends_with("session 9: server unreachable"));
    // Again, with the item gone and the state already needs-resync: still
    // audited (the reason is what an operator needs), nothing else fails.
    store.fail_resync("s", pending, "again", T0).unwrap();
    let audited = store.audit_log(0, 100).unwrap();
    assert_eq!(audited.last().unwrap().event, AuditEvent::ResyncFailed);
}
