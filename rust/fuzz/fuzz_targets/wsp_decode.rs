//! WSP push decode, classification and detection on arbitrary bytes: no
//! panic, and whatever decodes re-encodes to something that decodes the
//! same.
#![no_main]

use dmnonce_push::{classify, detect, package0_from_any, package0_from_wsp, PushInput, WspPush};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(push) = WspPush::decode(data) {
        let _ = classify(&push);
        let _ = push.header_fields();
        let _ = push.content_type.parameters();
        let _ = push.content_type.to_string();
        if let Ok(bytes) = push.encode() {
            assert_eq!(WspPush::decode(&bytes).as_ref(), Ok(&push));
        }
    }
    match detect(data) {
        Ok(PushInput::Wsp(push)) => {
            assert_eq!(WspPush::decode(data).as_ref(), Ok(&push));
            assert_eq!(package0_from_any(data).ok(), package0_from_wsp(data).ok());
        }
        Ok(PushInput::BarePackage0) => assert_eq!(package0_from_any(data).as_deref(), Ok(data)),
        Err(_) => assert!(package0_from_any(data).is_err()),
    }
});
