//! WSP push decode, classification and detection on arbitrary bytes: no
//! panic, and whatever decodes re-encodes to something that decodes the
//! same.
#![no_main]

use dmnonce_push::{classify, detect, PushInput, WspPush};
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
    if let Ok(PushInput::Wsp(push)) = detect(data) {
        assert_eq!(WspPush::decode(data).as_ref(), Ok(&push));
    }
});
