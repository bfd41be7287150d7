//! Property tests: decode(encode(m)) == m for both codecs, and arbitrary or
//! mutated bytes never panic the decoders or the session machines.

mod common;

use dmnonce_syncml::element::{Content, Element, Tag};
use dmnonce_syncml::model::*;
use dmnonce_syncml::*;
use proptest::prelude::*;

/// Text XML 1.0 and WBXML inline strings can both carry: no NUL, no other
/// C0 control but tab, LF and CR, no U+FFFE/U+FFFF.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..12).prop_map(|cs| {
        cs.into_iter()
            .map(|c| match c {
                '\t' | '\n' | '\r' => c,
                c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '_',
                c => c,
            })
            .collect()
    })
}

fn location() -> impl Strategy<Value = Location> {
    (text(), prop::option::of(text()))
        .prop_map(|(loc_uri, loc_name)| Location { loc_uri, loc_name })
}

fn meta() -> impl Strategy<Value = Meta> {
    (
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(any::<u64>()),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..20)),
        prop::option::of(any::<u64>()),
        prop::option::of(any::<u64>()),
        prop::collection::vec(
            (
                prop::sample::select(vec!["EMI", "Version", "Mark", "Last", "Next"]),
                text(),
            ),
            0..2,
        ),
    )
        .prop_map(
            |(format, type_, size, next_nonce, max_msg_size, max_obj_size, other)| Meta {
                format,
                type_,
                size,
                next_nonce,
                max_msg_size,
                max_obj_size,
                other: other
                    .into_iter()
                    .map(|(n, t)| Element {
                        tag: Tag::by_name(n).unwrap(),
                        // Empty text reads back as an empty element.
                        content: if t.is_empty() {
                            Content::Empty
                        } else {
                            Content::Text(t)
                        },
                    })
                    .collect(),
            },
        )
}

fn cred() -> impl Strategy<Value = Cred> {
    (meta(), text()).prop_map(|(meta, data)| Cred { meta, data })
}

fn item() -> impl Strategy<Value = Item> {
    (
        prop::option::of(location()),
        prop::option::of(location()),
        prop::option::of(meta()),
        prop::option::of(text()),
        any::<bool>(),
    )
        .prop_map(|(target, source, meta, data, more_data)| Item {
            target,
            source,
            meta,
            data,
            more_data,
        })
}

fn items() -> impl Strategy<Value = Vec<Item>> {
    prop::collection::vec(item(), 0..3)
}

fn opaque() -> impl Strategy<Value = OpaqueCmd> {
    (
        prop::sample::select(OPAQUE_COMMANDS.to_vec()),
        any::<u32>(),
        text(),
    )
        .prop_map(|(name, id, uri)| {
            let name = Tag::by_name(name).unwrap();
            let el = Element {
                tag: name,
                content: Content::Children(vec![
                    Element {
                        tag: Tag::by_name("CmdID").unwrap(),
                        content: Content::Text(id.to_string()),
                    },
                    Element {
                        tag: Tag::by_name("Item").unwrap(),
                        content: Content::Children(vec![Element {
                            tag: Tag::by_name("Target").unwrap(),
                            content: Content::Children(vec![Element {
                                tag: Tag::by_name("LocURI").unwrap(),
                                content: Content::Text(uri),
                            }]),
                        }]),
                    },
                ]),
            };
            OpaqueCmd::new(el).unwrap()
        })
}

fn command() -> impl Strategy<Value = Command> {
    let refs = || prop::collection::vec(text(), 0..2);
    prop_oneof![
        (
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            text(),
            refs(),
            refs(),
            prop::option::of(cred()),
            prop::option::of(meta()),
            any::<u16>(),
            items()
        )
            .prop_map(
                |(
                    cmd_id,
                    msg_ref,
                    cmd_ref,
                    cmd,
                    target_refs,
                    source_refs,
                    cred,
                    chal,
                    code,
                    items,
                )| {
                    Command::Status(Status {
                        cmd_id,
                        msg_ref,
                        cmd_ref,
                        cmd,
                        target_refs,
                        source_refs,
                        cred,
                        chal: chal.map(|meta| Chal { meta }),
                        code,
                        items,
                    })
                }
            ),
        (
            any::<u32>(),
            any::<bool>(),
            prop::option::of(cred()),
            any::<u16>(),
            items()
        )
            .prop_map(
                |(cmd_id, no_resp, cred, code, items)| Command::Alert(Alert {
                    cmd_id,
                    no_resp,
                    cred,
                    code,
                    items
                })
            ),
        (
            any::<bool>(),
            any::<u32>(),
            any::<bool>(),
            prop::option::of(cred()),
            prop::option::of(meta()),
            items()
        )
            .prop_map(|(get, cmd_id, no_resp, cred, meta, items)| {
                let c = ItemCmd {
                    cmd_id,
                    no_resp,
                    cred,
                    meta,
                    items,
                };
                if get {
                    Command::Get(c)
                } else {
                    Command::Replace(c)
                }
            }),
        (
            any::<u32>(),
            prop::option::of(any::<u32>()),
            any::<u32>(),
            prop::option::of(meta()),
            refs(),
            refs(),
            items()
        )
            .prop_map(
                |(cmd_id, msg_ref, cmd_ref, meta, target_refs, source_refs, items)| {
                    Command::Results(Results {
                        cmd_id,
                        msg_ref,
                        cmd_ref,
                        meta,
                        target_refs,
                        source_refs,
                        items,
                    })
                }
            ),
        opaque().prop_map(Command::Opaque),
    ]
}

fn message() -> impl Strategy<Value = SyncMl> {
    (
        (text(), text(), text(), any::<u32>(), location(), location()),
        (
            prop::option::of(text()),
            any::<bool>(),
            prop::option::of(cred()),
            prop::option::of(meta()),
        ),
        prop::collection::vec(command(), 0..5),
        any::<bool>(),
    )
        .prop_map(
            |(
                (ver_dtd, ver_proto, session_id, msg_id, target, source),
                (resp_uri, no_resp, cred, meta),
                commands,
                final_,
            )| SyncMl {
                hdr: SyncHdr {
                    ver_dtd,
                    ver_proto,
                    session_id,
                    msg_id,
                    target,
                    source,
                    resp_uri,
                    no_resp,
                    cred,
                    meta,
                },
                body: SyncBody { commands, final_ },
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn xml_round_trips(m in message()) {
        let bytes = encode(&m, Encoding::Xml).unwrap();
        prop_assert_eq!(decode_xml(&bytes).unwrap(), m.clone());
        prop_assert_eq!(decode_xml(&encode_xml(&m, true).unwrap()).unwrap(), m);
    }

    #[test]
    fn wbxml_round_trips(m in message(), string_table in any::<bool>(), opaque_item_data in any::<bool>()) {
        let bytes = encode(&m, Encoding::Wbxml).unwrap();
        prop_assert_eq!(decode_wbxml(&bytes).unwrap(), m.clone());
        let options = wbxml::Options { string_table, opaque_item_data };
        let bytes = encode_wbxml_with(&m, options).unwrap();
        prop_assert_eq!(decode_wbxml(&bytes).unwrap(), m);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = decode(&bytes);
        let _ = decode_xml(&bytes);
        let _ = decode_wbxml(&bytes);
        let mut wb = vec![0x03, 0xA4, 0x01, 0x6A];
        wb.extend_from_slice(&bytes);
        let _ = decode_wbxml(&wb);
    }

    #[test]
    fn mutated_messages_never_panic_decoders_or_sessions(
        m in message(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        wbxml in any::<bool>(),
    ) {
        let mut bytes = encode(&m, if wbxml { Encoding::Wbxml } else { Encoding::Xml }).unwrap();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let _ = decode(&bytes);
        let (mut c, _) = ClientSession::start(common::client_params(Encoding::Xml, AuthScheme::Md5), [0; 16]).unwrap();
        let _ = c.on_response(&bytes, Some("mac=x"), [1; 16]);
        let mut s = ServerSession::new(common::server_params(AuthScheme::Hmac));
        let _ = s.on_request(&bytes, Some("username=\"device-1\", mac=AAAA"), [2; 16]);
    }
}
