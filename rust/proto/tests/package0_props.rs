//! Property tests: encoding round-trips, and decode is total over bytes.

use dmnonce_proto::package0::{
    verify, DefaultNonce, Fallback, Initiator, Notification, Package0, Package0Error, UiMode,
    Verdict,
};
use proptest::prelude::*;

fn notification() -> impl Strategy<Value = Notification> {
    (
        prop_oneof![Just(11u16), Just(12u16)],
        0u8..4,
        0u8..2,
        any::<u16>(),
        // 1 to 255 bytes of UTF-8 (multi-byte characters included).
        "[a-z0-9.é€-]{1,63}",
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(
            |(version, ui, init, session_id, server_id, vendor)| Notification {
                version,
                ui_mode: UiMode::from_bits(ui),
                initiator: Initiator::from_bit(init),
                session_id,
                server_id,
                vendor,
            },
        )
}

proptest! {
    #[test]
    fn decode_of_signed_notification_gives_it_back(
        n in notification(),
        password in proptest::collection::vec(any::<u8>(), 0..32),
        nonce in proptest::collection::vec(any::<u8>(), 0..32),
    ) {
        let bytes = n.sign(&password, &nonce).unwrap();
        let pkg = Package0::decode(&bytes).unwrap();
        prop_assert_eq!(&pkg.notification, &n);
        prop_assert_eq!(pkg.to_bytes(), bytes);
        prop_assert!(pkg.digest_matches(&password, &nonce));
        prop_assert_eq!(
            verify(&pkg, &password, &[&nonce], Fallback::Deny),
            Verdict::Stored { index: 0 }
        );
    }

    #[test]
    fn default_nonce_signed_notifications_verify_as_default(
        n in notification(),
        zero in any::<bool>(),
        stale in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        let reading = if zero { DefaultNonce::Zero } else { DefaultNonce::Text };
        prop_assume!(stale != reading.bytes());
        let pkg = Package0::decode(&n.sign(b"pw", reading.bytes()).unwrap()).unwrap();
        prop_assert_eq!(verify(&pkg, b"pw", &[&stale], Fallback::default()), Verdict::Default(reading));
        prop_assert_eq!(verify(&pkg, b"pw", &[&stale], Fallback::Deny), Verdict::Rejected);
    }

    #[test]
    fn any_bytes_decode_to_a_value_or_a_typed_error(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        match Package0::decode(&bytes) {
            Ok(pkg) => {
                prop_assert_eq!(pkg.to_bytes(), bytes);
                prop_assert!(!pkg.notification.server_id.is_empty());
            }
            Err(Package0Error::TooShort { len }) => prop_assert!(len < 24 && len == bytes.len()),
            Err(Package0Error::EmptyServerId) => prop_assert_eq!(bytes[23], 0),
            Err(Package0Error::ServerIdPastEnd { declared, available }) => {
                prop_assert!(declared > available);
                prop_assert_eq!(available, bytes.len() - 24);
            }
            Err(Package0Error::UnsupportedVersion(v)) => prop_assert!(v != 11 && v != 12),
            Err(Package0Error::ServerIdNotUtf8 { .. }) => {}
            Err(e @ Package0Error::ServerIdTooLong(_)) => prop_assert!(false, "decode gave {e}"),
        }
    }

    /// Valid headers with random ids and tails reach the deeper checks.
    #[test]
    fn valid_headers_with_random_bodies_never_panic(
        word_low in any::<u64>(),
        version in prop_oneof![Just(11u64), Just(12u64)],
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let word = (version << 54) | (word_low & ((1 << 54) - 1));
        let mut bytes = vec![0u8; 16];
        bytes.extend_from_slice(&word.to_be_bytes());
        bytes.extend_from_slice(&body);
        if let Ok(pkg) = Package0::decode(&bytes) {
            prop_assert_eq!(pkg.notification.session_id, ((word >> 8) & 0xffff) as u16);
            prop_assert_eq!(verify(&pkg, b"pw", &[b"n"], Fallback::default()), Verdict::Rejected);
        }
    }
}
