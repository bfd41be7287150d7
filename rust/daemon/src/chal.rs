//! The `Chal` fragment `issue_chal` returns: the one place a nonce leaves
//! the daemon, inside the element that carries it to the server.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use dmnonce_control::Encoding;
use dmnonce_syncml::element::Element;
use dmnonce_syncml::{wbxml, xml};

/// WBXML document header our encoder writes: version 1.3, public id
/// SyncML 1.2 (`A4 01`), UTF-8, empty string table.
const WBXML_HEADER: [u8; 5] = [0x03, 0xA4, 0x01, 0x6A, 0x00];

/// `<Chal><Meta><Type>…</Type><Format>b64</Format><NextNonce>…</NextNonce></Meta></Chal>`
/// as XML text, or Base64 of the WBXML tokens (no document header; the
/// fragment starts on code page 0 and ends on code page 1, MetInf, so the
/// encoder that embeds it switches back to page 0 before its next tag).
pub fn fragment(auth_type: &str, nonce: &[u8], encoding: Encoding) -> Result<String, String> {
    let chal = Element::parent(
        "Chal",
        vec![Element::parent(
            "Meta",
            vec![
                Element::text("Type", auth_type),
                Element::text("Format", "b64"),
                Element::text("NextNonce", STANDARD.encode(nonce)),
            ],
        )],
    );
    match encoding {
        Encoding::Xml => {
            let doc = xml::write(&chal, false).map_err(|e| e.to_string())?;
            let text = String::from_utf8(doc).map_err(|e| e.to_string())?;
            let body = match text.find("?>") {
                Some(end) if text.starts_with("<?xml") => &text[end + 2..],
                _ => &text,
            };
            Ok(body.trim_start().to_string())
        }
        Encoding::Wbxml => {
            let doc = wbxml::write(&chal).map_err(|e| e.to_string())?;
            let body = doc
                .strip_prefix(&WBXML_HEADER[..])
                .ok_or("unexpected WBXML header from the encoder")?;
            Ok(STANDARD.encode(body))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_fragment_carries_type_format_and_nonce() {
        let f = fragment("syncml:auth-md5", b"\x00\x01nonce", Encoding::Xml).unwrap();
        assert!(f.starts_with("<Chal"), "{f}");
        assert!(f.contains("syncml:auth-md5"), "{f}");
        assert!(f.contains(&STANDARD.encode(b"\x00\x01nonce")), "{f}");
        assert!(f.ends_with("</Chal>"), "{f}");
    }

    #[test]
    fn wbxml_fragment_decodes_inside_a_document() {
        let f = fragment("syncml:auth-md5", b"abc", Encoding::Wbxml).unwrap();
        let mut doc = WBXML_HEADER.to_vec();
        doc.extend(STANDARD.decode(f).unwrap());
        let tree = wbxml::read(&doc).unwrap();
        let meta = tree.child("Meta").unwrap();
        assert!(meta.child("NextNonce").is_some());
    }
}
