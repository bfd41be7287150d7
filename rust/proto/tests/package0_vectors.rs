//! Package #0 against vectors computed outside the code under test: the
//! shared hashlib vectors, and vectors built here step by step with the md-5
//! and base64 crates, including digests and intermediate MD5 values that
//! contain zero bytes (libdmclient truncated those at the first zero).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use dmnonce_proto::package0::{
    verify, DefaultNonce, Fallback, Initiator, Notification, Package0, UiMode, Verdict,
};
use md5::{Digest as _, Md5};
use std::path::PathBuf;

/// The formula of docs/package0.md, spelt out with the raw crates.
fn digest_by_hand(server_id: &[u8], password: &[u8], nonce: &[u8], trigger: &[u8]) -> [u8; 16] {
    let mut id_pw = server_id.to_vec();
    id_pw.push(b':');
    id_pw.extend_from_slice(password);
    let b1 = B64.encode(Md5::digest(&id_pw));
    let b2 = B64.encode(Md5::digest(trigger));
    let mut input = b1.into_bytes();
    input.push(b':');
    input.extend_from_slice(nonce);
    input.push(b':');
    input.extend_from_slice(b2.as_bytes());
    Md5::digest(&input).into()
}

/// The project's shared Package #0 vectors (computed with Python
/// hashlib/base64 from the formula in docs/package0.md, intermediate values
/// included), checked in next to this test so that every clone runs them.
fn shared_vectors() -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/package0.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} not readable: {e}", path.display()));
    serde_json::from_str(&text).expect("package0.json is valid JSON")
}

fn field<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v.get(name).unwrap_or_else(|| panic!("vector lacks {name}"))
}

fn text(v: &serde_json::Value, name: &str) -> String {
    field(v, name).as_str().unwrap().to_owned()
}

fn number(v: &serde_json::Value, name: &str) -> u64 {
    field(v, name).as_u64().unwrap()
}

#[test]
fn shared_hashlib_vectors_decode_sign_and_verify() {
    let doc = shared_vectors();
    let vectors = field(&doc, "vectors").as_array().unwrap();
    assert_eq!(vectors.len(), 3);
    let stored = [0xca, 0xfe, 0xba, 0xbe];
    for v in vectors {
        let name = text(v, "name");
        let package = hex::decode(text(v, "package0_hex")).unwrap();
        let nonce = hex::decode(text(v, "signing_nonce_hex")).unwrap();
        let (id, pw) = (text(v, "server_id"), text(v, "password"));
        let trigger = hex::decode(text(v, "trigger_hex")).unwrap();

        // Intermediate values, by hand.
        assert_eq!(
            B64.encode(Md5::digest(format!("{id}:{pw}"))),
            text(v, "b64_md5_id_pw"),
            "{name}"
        );
        assert_eq!(
            B64.encode(Md5::digest(&trigger)),
            text(v, "b64_md5_trigger"),
            "{name}"
        );
        let digest = digest_by_hand(id.as_bytes(), pw.as_bytes(), &nonce, &trigger);
        assert_eq!(hex::encode(digest), text(v, "digest_hex"), "{name}");

        // Decode.
        let pkg = Package0::decode(&package).unwrap();
        let n = &pkg.notification;
        assert_eq!(u64::from(n.version), number(v, "version"), "{name}");
        assert_eq!(u64::from(n.ui_mode.bits()), number(v, "ui_mode"), "{name}");
        assert_eq!(
            u64::from(n.initiator.bit()),
            number(v, "initiator"),
            "{name}"
        );
        assert_eq!(u64::from(n.session_id), number(v, "session_id"), "{name}");
        assert_eq!(n.server_id, id);
        assert_eq!(hex::encode(&n.vendor), text(v, "vendor_hex"), "{name}");
        assert_eq!(pkg.trigger(), trigger.as_slice());
        assert_eq!(pkg.digest, digest);

        // Encode (server role) reproduces the bytes.
        assert_eq!(n.sign(pw.as_bytes(), &nonce).unwrap(), package, "{name}");
        assert_eq!(
            dmnonce_proto::digest::notification_digest(
                id.as_bytes(),
                pw.as_bytes(),
                &nonce,
                &trigger
            ),
            digest
        );

        // Verify with the stored nonce cafebabe.
        let expected = match name.as_str() {
            "public-stored" => Verdict::Stored { index: 0 },
            "public-default-text" => Verdict::Default(DefaultNonce::Text),
            "public-default-zero" => Verdict::Default(DefaultNonce::Zero),
            other => panic!("unknown vector {other}"),
        };
        assert_eq!(
            verify(&pkg, pw.as_bytes(), &[&stored], Fallback::default()),
            expected
        );
    }
}

#[test]
fn hand_built_vectors_with_vendor_data_and_every_field() {
    let n = Notification {
        version: 12,
        ui_mode: UiMode::UserInteraction,
        initiator: Initiator::User,
        session_id: 0xfedc,
        server_id: "ünïcode.example".into(),
        vendor: vec![0, 1, 2, 0xff],
    };
    let trigger = n.trigger_bytes().unwrap();
    // Header word by hand: version 12 (10 bits), ui 3, initiator 1.
    let word: u64 = (12 << 54) | (3 << 52) | (1 << 51) | (0xfedc << 8) | 17;
    assert_eq!(trigger[..8], word.to_be_bytes());
    assert_eq!(&trigger[8..25], "ünïcode.example".as_bytes());
    assert_eq!(&trigger[25..], &[0, 1, 2, 0xff]);
    for nonce in [&b""[..], b"0x00000000", &[0; 4], &[0xff; 32]] {
        let package = n.sign(b"p:w", nonce).unwrap();
        assert_eq!(
            package[..16],
            digest_by_hand("ünïcode.example".as_bytes(), b"p:w", nonce, &trigger)
        );
        assert_eq!(&package[16..], trigger.as_slice());
    }
}

fn has_zero(bytes: &[u8]) -> bool {
    bytes.contains(&0)
}

/// Find inputs whose H(id ":" pw), H(trigger) and final digest each start
/// with a zero byte: a C string copy of any of them would be empty.
#[test]
fn vectors_with_zero_bytes_in_digest_and_intermediates() {
    let id = "zero.example";
    let password = (0u32..)
        .map(|i| format!("pw-{i}"))
        .find(|pw| Md5::digest(format!("{id}:{pw}"))[0] == 0)
        .unwrap();
    let notification = (0u16..=u16::MAX)
        .map(|s| Notification::new(id, s))
        .find(|n| Md5::digest(n.trigger_bytes().unwrap())[0] == 0)
        .expect("a session id whose trigger MD5 starts with 0");
    let trigger = notification.trigger_bytes().unwrap();
    let nonce = (0u32..)
        .map(|i| i.to_be_bytes())
        .find(|nonce| digest_by_hand(id.as_bytes(), password.as_bytes(), nonce, &trigger)[0] == 0)
        .unwrap();
    let digest = digest_by_hand(id.as_bytes(), password.as_bytes(), &nonce, &trigger);
    assert!(has_zero(&Md5::digest(format!("{id}:{password}"))));
    assert!(has_zero(&Md5::digest(&trigger)));
    assert_eq!(digest[0], 0);

    let package = notification.sign(password.as_bytes(), &nonce).unwrap();
    assert_eq!(package[..16], digest);
    let pkg = Package0::decode(&package).unwrap();
    assert_eq!(
        verify(&pkg, password.as_bytes(), &[&nonce], Fallback::Deny),
        Verdict::Stored { index: 0 }
    );

    // A digest equal up to and including the zero byte but different after
    // it must fail: nothing may stop comparing at a zero.
    for position in 1..16 {
        let mut forged = package.clone();
        forged[position] ^= 0x01;
        let pkg = Package0::decode(&forged).unwrap();
        assert_eq!(
            verify(&pkg, password.as_bytes(), &[&nonce], Fallback::default()),
            Verdict::Rejected,
            "byte {position}"
        );
    }
}

/// The same for both default-nonce readings (the zero reading is itself
/// four zero bytes: the nonce must never be treated as a C string).
#[test]
fn default_nonce_vectors_with_zero_byte_digests() {
    for reading in [DefaultNonce::Text, DefaultNonce::Zero] {
        let (n, digest) = (0u16..=u16::MAX)
            .map(|s| Notification::new("fallback.example", s))
            .map(|n| {
                let t = n.trigger_bytes().unwrap();
                let d = digest_by_hand(b"fallback.example", b"pw", reading.bytes(), &t);
                (n, d)
            })
            .find(|(_, d)| d[0] == 0)
            .unwrap();
        let package = n.sign(b"pw", reading.bytes()).unwrap();
        assert_eq!(package[..16], digest);
        let pkg = Package0::decode(&package).unwrap();
        assert_eq!(
            verify(&pkg, b"pw", &[b"stale"], Fallback::default()),
            Verdict::Default(reading)
        );
    }
}
