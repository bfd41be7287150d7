//! XML decode (rust/syncml) on arbitrary bytes: no panic, and whatever
//! decodes is a fixed point after one re-encoding: decode(encode(m)) == m,
//! in XML and in WBXML. `decode` (sniffing) must agree with `decode_xml`.
#![no_main]

use dmnonce_syncml::{decode, decode_wbxml, decode_xml, encode, Encoding};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let direct = decode_xml(data);
    if let Ok((m, Encoding::Xml)) = decode(data) {
        assert_eq!(Some(&m), direct.as_ref().ok(), "sniffed XML decode differs");
    }
    let Ok(msg) = direct else {
        return;
    };
    if let Ok(bytes) = encode(&msg, Encoding::Xml) {
        let again = decode_xml(&bytes).expect("our own XML decodes");
        assert_eq!(again, msg, "XML re-encoding changed the message");
    }
    if let Ok(bytes) = encode(&msg, Encoding::Wbxml) {
        let again = decode_wbxml(&bytes).expect("our own WBXML decodes");
        assert_eq!(again, msg, "WBXML encoding of an XML message changed it");
    }
});
