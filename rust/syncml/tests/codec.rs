//! Codec examples: hand-checked bytes and round trips of a typical message.

use dmnonce_syncml::*;

fn sample() -> SyncMl {
    SyncMl {
        hdr: SyncHdr {
            ver_dtd: VER_DTD.into(),
            ver_proto: VER_PROTO.into(),
            session_id: "1A".into(),
            msg_id: 1,
            target: Location::uri("http://x/"),
            source: Location {
                loc_uri: "IMEI:1".into(),
                loc_name: Some("dev".into()),
            },
            resp_uri: None,
            no_resp: false,
            cred: Some(cred::md5_cred(b"dev", b"pw", b"\0\0\0\0")),
            meta: Some(Meta {
                max_msg_size: Some(8192),
                ..Meta::default()
            }),
        },
        body: SyncBody {
            commands: vec![
                Command::Status(Status {
                    cmd_id: 1,
                    msg_ref: 1,
                    cmd_ref: 0,
                    cmd: "SyncHdr".into(),
                    target_refs: vec!["a&b<c>".into()],
                    source_refs: vec![],
                    cred: None,
                    chal: Some(cred::chal(cred::AUTH_MD5, &[0, 1, 2, 0xff])),
                    code: 212,
                    items: vec![],
                }),
                Command::Replace(ItemCmd {
                    cmd_id: 2,
                    no_resp: false,
                    cred: None,
                    meta: None,
                    items: vec![Item {
                        target: Some(Location::uri("./DevInfo/Lang")),
                        data: Some("en".into()),
                        ..Item::default()
                    }],
                }),
            ],
            final_: true,
        },
    }
}

#[test]
fn xml_round_trip_keeps_the_message() {
    let m = sample();
    let bytes = encode(&m, Encoding::Xml).unwrap();
    assert_eq!(decode(&bytes).unwrap(), (m.clone(), Encoding::Xml));
    let with_doctype = encode_xml(&m, true).unwrap();
    assert_eq!(decode_xml(&with_doctype).unwrap(), m);
}

#[test]
fn wbxml_round_trip_keeps_the_message() {
    let m = sample();
    let bytes = encode(&m, Encoding::Wbxml).unwrap();
    // WBXML 1.3, public id 0x1201, UTF-8, empty string table, SyncML,
    // SyncHdr, VerDTD "1.2" (as libwbxml writes it).
    assert_eq!(&bytes[..13], b"\x03\xA4\x01\x6A\x00\x6D\x6C\x71\x031.2\x00");
    assert_eq!(decode(&bytes).unwrap(), (m, Encoding::Wbxml));
}

#[test]
fn debug_output_hides_credentials_and_nonces() {
    let m = sample();
    let dbg = format!("{m:?}");
    let cred = m.hdr.cred.as_ref().unwrap().data.clone();
    assert!(!dbg.contains(&cred), "{dbg}");
    assert!(!dbg.contains("\"en\""));
    assert!(!dbg.contains("[0, 1, 2, 255]"));
}

#[test]
fn unknown_and_misplaced_elements_are_rejected() {
    let xml = String::from_utf8(encode(&sample(), Encoding::Xml).unwrap()).unwrap();
    let unknown = xml.replace("<Final/>", "<Bogus/><Final/>");
    assert!(matches!(
        decode_xml(unknown.as_bytes()),
        Err(DecodeError::UnknownElement(_))
    ));
    let misplaced = xml.replace("<Final/>", "<Sync><CmdID>9</CmdID></Sync><Final/>");
    assert!(matches!(
        decode_xml(misplaced.as_bytes()),
        Err(DecodeError::Unexpected {
            parent: "SyncBody",
            child: "Sync"
        })
    ));
    let no_msgid = xml.replace("<MsgID>1</MsgID>", "");
    assert_eq!(
        decode_xml(no_msgid.as_bytes()),
        Err(DecodeError::Missing {
            parent: "SyncHdr",
            child: "MsgID"
        })
    );
}

#[test]
fn opaque_commands_are_kept_whole() {
    let xml = String::from_utf8(encode(&sample(), Encoding::Xml).unwrap()).unwrap();
    let with_exec = xml.replace(
        "<Final/>",
        "<Exec><CmdID>7</CmdID><Item><Target><LocURI>./FUMO/Update</LocURI></Target></Item></Exec><Final/>",
    );
    let m = decode_xml(with_exec.as_bytes()).unwrap();
    let Command::Opaque(exec) = &m.body.commands[2] else {
        panic!("not opaque")
    };
    assert_eq!((exec.name(), exec.cmd_id()), ("Exec", 7));
    for enc in [Encoding::Xml, Encoding::Wbxml] {
        assert_eq!(decode(&encode(&m, enc).unwrap()).unwrap().0, m);
    }
}

#[test]
fn wbxml_opaque_next_nonce_is_raw_bytes() {
    // Handset encoders may send NextNonce as opaque raw bytes.
    let mut m = sample();
    let Command::Status(s) = &mut m.body.commands[0] else {
        unreachable!()
    };
    s.chal = Some(cred::chal(cred::AUTH_MD5, &[0, 0, 7]));
    let ours = encode(&m, Encoding::Wbxml).unwrap();
    // Replace the inline "AAAH" (Base64 of 00 00 07) with opaque 00 00 07.
    let inline = b"\x50\x03AAAH\x00\x01";
    let pos = ours
        .windows(inline.len())
        .position(|w| w == inline)
        .unwrap();
    let mut theirs = ours[..pos].to_vec();
    theirs.extend_from_slice(b"\x50\xC3\x03\x00\x00\x07\x01");
    theirs.extend_from_slice(&ours[pos + inline.len()..]);
    assert_eq!(decode_wbxml(&theirs).unwrap(), m);
}

#[test]
fn garbage_gives_typed_errors() {
    assert_eq!(decode(b"hello"), Err(DecodeError::UnknownEncoding));
    assert!(decode(b"\x03\xA4\x01\x6A\x00\x6D").is_err());
    assert!(matches!(
        decode(b"\x03\x05\x6A\x00\x6D\x01"),
        Err(DecodeError::PublicId(5))
    ));
    assert!(decode(b"<SyncML><SyncHdr>").is_err());
    let deep = "<SyncML>".repeat(100);
    assert_eq!(decode(deep.as_bytes()), Err(DecodeError::TooDeep(32)));
}

#[test]
fn xml_with_bom_whitespace_comments_and_prefixes_decodes() {
    let xml = String::from_utf8(encode(&sample(), Encoding::Xml).unwrap()).unwrap();
    let body = xml.trim_start_matches(|c| c != '>').trim_start_matches('>');
    let varied = format!(
        "\u{FEFF}<?xml version=\"1.0\"?>\n<!-- a comment -->\n{}",
        body.replace("<SyncHdr>", "\n  <SyncHdr>\n    ")
            .replace(
                "<Format xmlns=\"syncml:metinf\">",
                "<m:Format xmlns:m=\"syncml:metinf\">"
            )
            .replace("</Format>", "</m:Format>")
    );
    assert_eq!(
        decode(varied.as_bytes()).unwrap(),
        (sample(), Encoding::Xml)
    );
}
