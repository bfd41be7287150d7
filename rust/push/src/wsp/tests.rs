//! Hand-built WSP push PDUs from WAP-230-WSP, each field commented.

use super::*;

/// The public-stored vector of rust/proto/tests/vectors/package0.json.
const PKG0: &str = "cc6a83acbc1dabd527db6216ff2839ad02d000000001020e646d2e6578616d706c652e6e6574";

fn pkg0() -> Vec<u8> {
    hex::decode(PKG0).unwrap()
}

fn with_body(head: &[u8]) -> Vec<u8> {
    let mut v = head.to_vec();
    v.extend_from_slice(&pkg0());
    v
}

#[test]
fn canonical_short_form_push() {
    let pdu = with_body(&[
        0x01, // TID
        0x06, // PDU type Push
        0x03, // HeadersLen uintvar: 3 octets of ContentType + Headers
        0xc4, // ContentType Short-integer 0x44: application/vnd.syncml.notification
        0xaf, // Header field 0x2F|0x80: X-Wap-Application-Id
        0x87, // value Short-integer 0x07: x-wap-application:syncml.dm
    ]);
    let push = WspPush::decode(&pdu).unwrap();
    assert_eq!(push.tid, 1);
    assert_eq!(push.pdu_type, PduType::Push);
    assert_eq!(push.content_type.form, ContentTypeForm::ShortInteger);
    assert!(push.content_type.media.is_syncml_notification());
    assert_eq!(push.app_id, Some(AppId::WellKnown(7)));
    assert_eq!(push.headers, [0xaf, 0x87]);
    assert_eq!(push.body, pkg0());
    assert_eq!(push, WspPush::syncml_notification(1, &pkg0()));
    assert_eq!(push.encode().unwrap(), pdu);
}

#[test]
fn text_media_type_push() {
    let mut head = vec![
        0x7f, // TID 127
        0x06, // Push
        0x26, // HeadersLen 38 = 36 (text + NUL) + 2
    ];
    head.extend_from_slice(b"application/vnd.syncml.notification\0"); // Extension-media
    head.extend_from_slice(&[0xaf, 0x87]); // X-Wap-Application-Id: syncml.dm
    let pdu = with_body(&head);
    let push = WspPush::decode(&pdu).unwrap();
    assert_eq!(push.content_type.form, ContentTypeForm::Text);
    assert_eq!(
        push.content_type.media,
        Media::Text("application/vnd.syncml.notification".into())
    );
    assert!(push.content_type.media.is_syncml_notification());
    assert_eq!(push.encode().unwrap(), pdu);
}

#[test]
fn general_form_with_charset_parameter() {
    let pdu = with_body(&[
        0x02, // TID
        0x06, // Push
        0x06, // HeadersLen 6
        0x03, // Content-general-form: Value-length 3
        0xc4, //   Well-known-media 0x44
        0x81, //   Typed parameter 0x01 (Charset)
        0xea, //   Well-known-charset 0x6A|0x80 (utf-8, MIBenum 106)
        0xaf, // X-Wap-Application-Id
        0x87, //   syncml.dm
    ]);
    let push = WspPush::decode(&pdu).unwrap();
    assert_eq!(push.content_type.form, ContentTypeForm::General);
    assert_eq!(push.content_type.media, Media::WellKnown(0x44));
    assert_eq!(
        push.content_type.parameters().unwrap(),
        [Parameter {
            name: ParamName::WellKnown(1),
            value: ParamValue::Integer(0x6a)
        }]
    );
    assert_eq!(push.encode().unwrap(), pdu);
}

#[test]
fn general_form_text_media_untyped_parameter_and_length_quote() {
    let mut ct = vec![
        0x1f, // Value-length: Length-quote ...
        0x29, // ... uintvar 41
    ];
    ct.extend_from_slice(b"application/vnd.syncml.notification\0"); // 36: Extension-media (35 + NUL)
    ct.extend_from_slice(b"x\0"); // 2: Untyped parameter name "x"
    ct.push(0x82); // 1: Untyped value, Short-integer 2
    ct.push(0x80); // 1: Typed parameter 0x00 (Q)
    ct.push(0x0a); // 1: Q-value uintvar 10 (41 octets in all)
    let mut pdu = vec![
        0x03,                 // TID
        0x06,                 // Push
        (ct.len() + 2) as u8, // HeadersLen 45
    ];
    pdu.extend_from_slice(&ct);
    pdu.extend_from_slice(&[0xaf, 0x87]); // X-Wap-Application-Id syncml.dm
    let pdu = with_body(&pdu);
    let push = WspPush::decode(&pdu).unwrap();
    assert_eq!(push.content_type.form, ContentTypeForm::General);
    assert!(push.content_type.media.is_syncml_notification());
    assert_eq!(
        push.content_type.parameters().unwrap(),
        [
            Parameter {
                name: ParamName::Text("x".into()),
                value: ParamValue::Integer(2)
            },
            Parameter {
                name: ParamName::WellKnown(0),
                value: ParamValue::Integer(10)
            },
        ]
    );
    assert_eq!(push.encode().unwrap(), pdu);
}

#[test]
fn confirmed_push_is_decoded_and_recorded() {
    let pdu = with_body(&[0x09, 0x07, 0x03, 0xc4, 0xaf, 0x87]); // 0x07 ConfirmedPush
    let push = WspPush::decode(&pdu).unwrap();
    assert_eq!(push.pdu_type, PduType::ConfirmedPush);
    assert_eq!(push.encode().unwrap(), pdu);
}

#[test]
fn other_pdu_types_are_refused() {
    // 0x40 is Get, 0x60 Post (WAP-230 Table 34).
    assert_eq!(
        WspPush::decode(&[0x01, 0x40, 0x00]),
        Err(WspError::NotAPush { pdu_type: 0x40 })
    );
    assert_eq!(
        WspPush::decode(&[0x01, 0x60]),
        Err(WspError::NotAPush { pdu_type: 0x60 })
    );
}

#[test]
fn truncations_are_typed_errors() {
    assert!(matches!(
        WspPush::decode(&[]),
        Err(WspError::Truncated { .. })
    ));
    assert!(matches!(
        WspPush::decode(&[0x01]),
        Err(WspError::Truncated { .. })
    ));
    assert!(matches!(
        WspPush::decode(&[0x01, 0x06]),
        Err(WspError::Truncated { .. })
    ));
    // HeadersLen 5 but only 3 octets follow.
    assert!(matches!(
        WspPush::decode(&[0x01, 0x06, 0x05, 0xc4, 0xaf, 0x87]),
        Err(WspError::Truncated { .. })
    ));
    // HeadersLen 0: no room for a content type.
    assert!(matches!(
        WspPush::decode(&[0x01, 0x06, 0x00, 0xc4]),
        Err(WspError::Truncated { .. })
    ));
    // Text content type without its NUL inside HeadersLen.
    assert!(matches!(
        WspPush::decode(&[0x01, 0x06, 0x02, b'a', b'b', 0x00]),
        Err(WspError::Truncated { .. })
    ));
}

#[test]
fn push_without_app_id_decodes_with_none() {
    let push = WspPush::decode(&[0x01, 0x06, 0x01, 0xc4, 0xde, 0xad]).unwrap();
    assert_eq!(push.app_id, None);
    assert_eq!(push.body, [0xde, 0xad]);
}

#[test]
fn other_headers_are_kept_raw_and_listed() {
    let pdu = [
        0x01, 0x06, // TID, Push
        0x07, // HeadersLen 7
        0xc4, // ContentType
        0x8d, 0x02, 0x01, 0x00, // Content-Length (0x0D) Long-integer 256
        0xaf, 0x87, // X-Wap-Application-Id syncml.dm
        0x80, // Data: one octet
    ];
    let push = WspPush::decode(&pdu).unwrap();
    assert_eq!(push.app_id, Some(AppId::WellKnown(7)));
    assert_eq!(push.body, [0x80]);
    let fields = push.header_fields().unwrap();
    assert_eq!(
        fields[0],
        HeaderField {
            name: FieldName::WellKnown {
                page: 1,
                code: 0x0d
            },
            value: vec![0x02, 0x01, 0x00]
        }
    );
}

#[test]
fn new_builds_headers_from_app_id() {
    let push = WspPush::new(
        5,
        ContentType::text("application/vnd.syncml.notification"),
        Some(AppId::Text("x-wap-application:syncml.dm".into())),
        vec![1, 2, 3],
    )
    .unwrap();
    let back = WspPush::decode(&push.encode().unwrap()).unwrap();
    assert_eq!(back, push);
}

#[test]
fn long_header_block_uses_multi_octet_uintvar() {
    let long = format!("application/x-{}", "a".repeat(200));
    let push = WspPush::new(
        1,
        ContentType::text(&long),
        Some(AppId::WellKnown(7)),
        vec![9],
    )
    .unwrap();
    let pdu = push.encode().unwrap();
    // 214 + NUL + 2 = 217 = 0x81 0x59 as uintvar.
    assert_eq!(&pdu[2..4], &[0x81, 0x59]);
    assert_eq!(WspPush::decode(&pdu).unwrap(), push);
}
