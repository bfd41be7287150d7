//! WBXML decode (rust/syncml) on arbitrary bytes: no panic, and whatever
//! decodes is a fixed point after one re-encoding: decode(encode(m)) == m,
//! in WBXML and in XML.
#![no_main]

use dmnonce_syncml::{decode_wbxml, decode_xml, encode, Encoding};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = decode_wbxml(data) else {
        return;
    };
    // A message the decoder accepted may still hold text that one encoding
    // cannot carry (encode returns a typed error then); what encodes must
    // come back equal.
    if let Ok(bytes) = encode(&msg, Encoding::Wbxml) {
        let again = decode_wbxml(&bytes).expect("our own WBXML decodes");
        assert_eq!(again, msg, "WBXML re-encoding changed the message");
    }
    if let Ok(bytes) = encode(&msg, Encoding::Xml) {
        let again = decode_xml(&bytes).expect("our own XML decodes");
        assert_eq!(again, msg, "XML encoding of a WBXML message changed it");
    }
});
