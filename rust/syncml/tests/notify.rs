//! The server's Package #0 plan, checked with dmnonce-proto's verifier (the
//! client's view), then a resync session started from its verdict.

mod common;

use common::*;
use dmnonce_proto::{verify, Fallback, Notification, Package0, Verdict};
use dmnonce_syncml::notify::NotifyAttempt;
use dmnonce_syncml::*;

fn notifier(reading: DefaultNonce) -> ServerNotifier {
    ServerNotifier {
        notification: Notification::new(SERVER_ID, 0x0A0B),
        server_secret: Secret::new(b"server-secret".to_vec()),
        default_nonce: reading,
    }
}

#[test]
fn stored_nonce_first_then_default_once_after_the_timeout() {
    let stored = Nonce::new(vec![9, 0, 9, 0]);
    let mut plan = NotificationPlan::new(notifier(DefaultNonce::Text), Some(stored.clone()));
    let (attempt, first) = plan.first().unwrap();
    assert_eq!(attempt, NotifyAttempt::StoredNonce);
    assert!(!plan.fell_back());
    let pkg = Package0::decode(&first).unwrap();
    // A device that still has the nonce accepts it as a normal notification.
    assert_eq!(
        verify(
            &pkg,
            b"server-secret",
            &[stored.as_bytes()],
            Fallback::default()
        ),
        Verdict::Stored { index: 0 }
    );
    // A device that lost it rejects it…
    assert_eq!(
        verify(&pkg, b"server-secret", &[b"lost"], Fallback::default()),
        Verdict::Rejected
    );
    // …until the fallback Package #0 arrives.
    let (attempt, second) = plan.on_timeout().unwrap().expect("fallback");
    assert_eq!(attempt, NotifyAttempt::DefaultNonce(DefaultNonce::Text));
    assert!(plan.fell_back());
    assert_eq!(plan.on_timeout().unwrap(), None, "only once");
    let pkg = Package0::decode(&second).unwrap();
    assert_eq!(pkg.notification.session_id, 0x0A0B);
    assert_eq!(
        verify(&pkg, b"server-secret", &[b"lost"], Fallback::default()),
        Verdict::Default(DefaultNonce::Text)
    );
}

#[test]
fn zero_reading_and_no_stored_nonce() {
    let mut plan = NotificationPlan::new(notifier(DefaultNonce::Zero), None);
    let (attempt, pkg) = plan.first().unwrap();
    assert_eq!(attempt, NotifyAttempt::DefaultNonce(DefaultNonce::Zero));
    let pkg = Package0::decode(&pkg).unwrap();
    let verdict = verify(&pkg, b"server-secret", &[b"old"], Fallback::default());
    let Verdict::Default(reading) = verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(reading, DefaultNonce::Zero);
    // The verdict's reading drives the client session; the server signed
    // with the same reading, so the session completes.
    for (enc, scheme) in ALL_COMBOS {
        let mut cp = client_params(enc, scheme);
        cp.default_nonce = reading;
        cp.session_id = pkg.notification.session_id;
        let mut sp = server_params(scheme);
        sp.nonces = StartingNonces::Default(DefaultNonce::Zero);
        let t = drive(cp, sp, |_, _, _| true);
        assert_eq!(t.messages.len(), 4);
        assert!(t.client_done.is_some(), "{:?}", t.client_failed);
    }
}
