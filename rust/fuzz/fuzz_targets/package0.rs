//! Package #0 decode + verify on arbitrary bytes: no panic, the decoded
//! message re-encodes to the input, and a re-signed copy verifies.
#![no_main]

use dmnonce_proto::{verify, Fallback, Package0, Verdict};
use libfuzzer_sys::fuzz_target;

/// The public test account of rust/proto/tests/vectors/package0.json.
const PASSWORD: &[u8] = b"public-pw";
const STORED: &[u8] = &[0xca, 0xfe, 0xba, 0xbe];

fuzz_target!(|data: &[u8]| {
    let Ok(pkg) = Package0::decode(data) else {
        return;
    };
    assert_eq!(pkg.to_bytes(), data, "decode must keep every octet");
    let _ = verify(&pkg, PASSWORD, &[STORED], Fallback::default());
    let _ = verify(&pkg, PASSWORD, &[], Fallback::Deny);
    // Whatever fields were read, signing them with the stored nonce must
    // give a message that verifies with that nonce.
    if let Ok(signed) = pkg.notification.sign(PASSWORD, STORED) {
        let again = Package0::decode(&signed).expect("our own signature decodes");
        assert_eq!(
            verify(&again, PASSWORD, &[STORED], Fallback::Deny),
            Verdict::Stored { index: 0 }
        );
    }
});
