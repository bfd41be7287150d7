//! Structure-aware round trip of the SyncML model (rust/syncml): the fuzzer's
//! bytes choose a message (every command type, Cred, Chal, Meta with
//! NextNonce, items, opaque commands), which is encoded as XML and as
//! WBXML (plain and with the string table / opaque options) and must
//! decode back equal.
#![no_main]

use dmnonce_syncml::element::{Content, Element, Tag};
use dmnonce_syncml::model::*;
use dmnonce_syncml::{decode_wbxml, decode_xml, encode, encode_wbxml_with, wbxml, Encoding};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

/// Text both encodings carry: no NUL, no C0 control but tab, LF and CR, no
/// U+FFFE/U+FFFF (XML 1.0 Char production).
fn text(u: &mut Unstructured) -> Result<String> {
    let n = u.int_in_range(0..=12)?;
    (0..n)
        .map(|_| {
            let c: char = u.arbitrary()?;
            Ok(match c {
                '\t' | '\n' | '\r' => c,
                c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '_',
                c => c,
            })
        })
        .collect()
}

fn opt<T>(
    u: &mut Unstructured,
    f: impl FnOnce(&mut Unstructured) -> Result<T>,
) -> Result<Option<T>> {
    Ok(if u.arbitrary()? { Some(f(u)?) } else { None })
}

fn vec_of<T>(
    u: &mut Unstructured,
    max: usize,
    mut f: impl FnMut(&mut Unstructured) -> Result<T>,
) -> Result<Vec<T>> {
    let n = u.int_in_range(0..=max)?;
    (0..n).map(|_| f(u)).collect()
}

fn location(u: &mut Unstructured) -> Result<Location> {
    Ok(Location {
        loc_uri: text(u)?,
        loc_name: opt(u, text)?,
    })
}

fn tag(name: &str) -> Tag {
    Tag::by_name(name).expect("known SyncML tag")
}

fn meta(u: &mut Unstructured) -> Result<Meta> {
    let other = vec_of(u, 2, |u| {
        let name = *u.choose(&["EMI", "Version", "Mark", "Last", "Next"])?;
        let t = text(u)?;
        Ok(Element {
            tag: tag(name),
            // Empty text reads back as an empty element.
            content: if t.is_empty() {
                Content::Empty
            } else {
                Content::Text(t)
            },
        })
    })?;
    Ok(Meta {
        format: opt(u, text)?,
        type_: opt(u, text)?,
        size: u.arbitrary()?,
        next_nonce: opt(u, |u| vec_of(u, 20, |u| u.arbitrary::<u8>()))?,
        max_msg_size: u.arbitrary()?,
        max_obj_size: u.arbitrary()?,
        other,
    })
}

fn cred(u: &mut Unstructured) -> Result<Cred> {
    Ok(Cred {
        meta: meta(u)?,
        data: text(u)?,
    })
}

fn item(u: &mut Unstructured) -> Result<Item> {
    Ok(Item {
        target: opt(u, location)?,
        source: opt(u, location)?,
        meta: opt(u, meta)?,
        data: opt(u, text)?,
        more_data: u.arbitrary()?,
    })
}

fn items(u: &mut Unstructured) -> Result<Vec<Item>> {
    vec_of(u, 3, item)
}

fn refs(u: &mut Unstructured) -> Result<Vec<String>> {
    vec_of(u, 2, text)
}

fn opaque(u: &mut Unstructured) -> Result<OpaqueCmd> {
    let name = *u.choose(OPAQUE_COMMANDS)?;
    let id: u32 = u.arbitrary()?;
    let uri = text(u)?;
    let leaf = |n: &str, t: String| Element {
        tag: tag(n),
        content: Content::Text(t),
    };
    let node = |n: &str, c: Vec<Element>| Element {
        tag: tag(n),
        content: Content::Children(c),
    };
    let el = node(
        name,
        vec![
            leaf("CmdID", id.to_string()),
            node("Item", vec![node("Target", vec![leaf("LocURI", uri)])]),
        ],
    );
    Ok(OpaqueCmd::new(el).expect("a well-formed opaque command"))
}

fn command(u: &mut Unstructured) -> Result<Command> {
    Ok(match u.int_in_range(0..=5)? {
        0 => Command::Status(Status {
            cmd_id: u.arbitrary()?,
            msg_ref: u.arbitrary()?,
            cmd_ref: u.arbitrary()?,
            cmd: text(u)?,
            target_refs: refs(u)?,
            source_refs: refs(u)?,
            cred: opt(u, cred)?,
            chal: opt(u, |u| Ok(Chal { meta: meta(u)? }))?,
            code: u.arbitrary()?,
            items: items(u)?,
        }),
        1 => Command::Alert(Alert {
            cmd_id: u.arbitrary()?,
            no_resp: u.arbitrary()?,
            cred: opt(u, cred)?,
            code: u.arbitrary()?,
            items: items(u)?,
        }),
        n @ (2 | 3) => {
            let c = ItemCmd {
                cmd_id: u.arbitrary()?,
                no_resp: u.arbitrary()?,
                cred: opt(u, cred)?,
                meta: opt(u, meta)?,
                items: items(u)?,
            };
            if n == 2 {
                Command::Replace(c)
            } else {
                Command::Get(c)
            }
        }
        4 => Command::Results(Results {
            cmd_id: u.arbitrary()?,
            msg_ref: u.arbitrary()?,
            cmd_ref: u.arbitrary()?,
            meta: opt(u, meta)?,
            target_refs: refs(u)?,
            source_refs: refs(u)?,
            items: items(u)?,
        }),
        _ => Command::Opaque(opaque(u)?),
    })
}

fn message(u: &mut Unstructured) -> Result<SyncMl> {
    Ok(SyncMl {
        hdr: SyncHdr {
            ver_dtd: text(u)?,
            ver_proto: text(u)?,
            session_id: text(u)?,
            msg_id: u.arbitrary()?,
            target: location(u)?,
            source: location(u)?,
            resp_uri: opt(u, text)?,
            no_resp: u.arbitrary()?,
            cred: opt(u, cred)?,
            meta: opt(u, meta)?,
        },
        body: SyncBody {
            commands: vec_of(u, 5, command)?,
            final_: u.arbitrary()?,
        },
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(msg) = message(&mut u) else {
        return;
    };
    let xml = encode(&msg, Encoding::Xml).expect("a model message encodes as XML");
    assert_eq!(
        decode_xml(&xml).expect("our XML decodes"),
        msg,
        "XML round trip"
    );
    let wb = encode(&msg, Encoding::Wbxml).expect("a model message encodes as WBXML");
    assert_eq!(
        decode_wbxml(&wb).expect("our WBXML decodes"),
        msg,
        "WBXML round trip"
    );
    let options = wbxml::Options {
        string_table: true,
        opaque_item_data: true,
    };
    if let Ok(wb) = encode_wbxml_with(&msg, options) {
        assert_eq!(
            decode_wbxml(&wb).expect("our WBXML decodes"),
            msg,
            "WBXML (options) round trip"
        );
    }
});
