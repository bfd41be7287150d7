//! Independent peer: libwbxml (`wbxml2xml`, `xml2wbxml`, Debian
//! `libwbxml2-utils`) must agree with our codecs on every message of the
//! resync session, both ways. The tools are required: a missing tool fails
//! the test (scripts/ci-deps.sh installs them).

mod common;

use std::path::PathBuf;
use std::process::Command as Process;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use dmnonce_syncml::model::{Command, Item, ItemCmd, OpaqueCmd};
use dmnonce_syncml::*;

struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dmnonce-syncml-libwbxml-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(tool: &str, args: &[&std::ffi::OsStr]) {
    let out = Process::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run {tool} ({e}): install libwbxml2-utils (scripts/ci-deps.sh)")
    });
    assert!(
        out.status.success(),
        "{tool} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Our WBXML (encoder `options`) → wbxml2xml (mode `m`) → our XML decoder.
fn via_wbxml2xml(msg: &SyncMl, mode: &str, options: wbxml::Options) -> SyncMl {
    let s = Scratch::new();
    let (input, output) = (s.path("in.wbxml"), s.path("out.xml"));
    std::fs::write(&input, encode_wbxml_with(msg, options).unwrap()).unwrap();
    run(
        "wbxml2xml",
        &[
            "-m".as_ref(),
            mode.as_ref(),
            "-o".as_ref(),
            output.as_os_str(),
            input.as_os_str(),
        ],
    );
    let xml = std::fs::read(&output).unwrap();
    decode_xml(&xml).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&xml)))
}

/// Our XML (with or without DOCTYPE; libwbxml then goes by the
/// namespace) → xml2wbxml (string table on or off) → our WBXML decoder.
fn via_xml2wbxml(msg: &SyncMl, string_table: bool, doctype: bool) -> (SyncMl, Vec<u8>) {
    let s = Scratch::new();
    let (input, output) = (s.path("in.xml"), s.path("out.wbxml"));
    std::fs::write(&input, encode_xml(msg, doctype).unwrap()).unwrap();
    let mut args: Vec<&std::ffi::OsStr> = vec!["-o".as_ref(), output.as_os_str()];
    if !string_table {
        args.push("-n".as_ref());
    }
    args.push(input.as_os_str());
    run("xml2wbxml", &args);
    let wbxml = std::fs::read(&output).unwrap();
    let m = decode_wbxml(&wbxml).unwrap_or_else(|e| panic!("{e}: {wbxml:02x?}"));
    (m, wbxml)
}

fn exec() -> Command {
    let xml = "<SyncML><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID>\
        <MsgID>1</MsgID><Target><LocURI>a</LocURI></Target><Source><LocURI>b</LocURI></Source></SyncHdr>\
        <SyncBody><Exec><CmdID>1</CmdID><Item><Target><LocURI>./FUMO/Update</LocURI></Target>\
        <Data>go &amp; reboot</Data></Item></Exec></SyncBody></SyncML>";
    let m = decode_xml(xml.as_bytes()).unwrap();
    let Command::Opaque(o) = &m.body.commands[0] else {
        unreachable!()
    };
    Command::Opaque(OpaqueCmd::new(o.element().clone()).unwrap())
}

/// Every message kind of the resync session: the plain session, the 401
/// retry, a split Pkg#2 with management commands, and the secret rotation,
/// for both schemes.
fn session_messages() -> Vec<SyncMl> {
    let mut all = Vec::new();
    for scheme in [AuthScheme::Md5, AuthScheme::Hmac] {
        let mut sp = server_params(scheme);
        sp.rotate_server_secret = Some(rotation());
        sp.management = vec![
            exec(),
            Command::Get(ItemCmd {
                cmd_id: 0,
                no_resp: false,
                cred: None,
                meta: None,
                items: vec![Item {
                    target: Some(Location::uri("./DevDetail/FwV")),
                    ..Item::default()
                }],
            }),
        ];
        sp.max_commands_per_message = Some(3);
        let mut cp = client_params(Encoding::Wbxml, scheme);
        cp.client_secret = Secret::new(b"wrong".to_vec());
        let failed = drive(cp, server_params(scheme), |_, _, _| true);
        let ok = drive(client_params(Encoding::Wbxml, scheme), sp, |_, _, _| true);
        assert!(ok.client_done.is_some(), "{:?}", ok.client_failed);
        for t in [failed, ok] {
            all.extend(t.messages.iter().map(|(_, o)| decode(&o.body).unwrap().0));
        }
    }
    assert!(all.len() >= 20);
    all
}

#[test]
fn libwbxml_decodes_our_wbxml_to_the_same_message() {
    let like_libwbxml = wbxml::Options {
        string_table: true,
        opaque_item_data: true,
    };
    let (mut with_table, mut with_opaque) = (0, 0);
    for (i, msg) in session_messages().iter().enumerate() {
        let plain = wbxml::Options::default();
        assert_eq!(
            &via_wbxml2xml(msg, "1", plain),
            msg,
            "message {i}, indented"
        );
        assert_eq!(&via_wbxml2xml(msg, "0", plain), msg, "message {i}, compact");
        let table = via_wbxml2xml(msg, "0", like_libwbxml);
        assert_eq!(&table, msg, "message {i}, string table and opaque data");
        let bytes = encode_wbxml_with(msg, like_libwbxml).unwrap();
        with_table += usize::from(bytes[4] != 0);
        with_opaque += usize::from(bytes.contains(&0xC3));
    }
    assert!(
        with_table > 0 && with_opaque > 0,
        "{with_table} {with_opaque}"
    );
}

#[test]
fn we_decode_libwbxml_encodings_of_our_xml_to_the_same_message() {
    let (mut with_table, mut with_opaque) = (0, 0);
    for (i, msg) in session_messages().iter().enumerate() {
        let (m, bytes) = via_xml2wbxml(msg, true, true);
        assert_eq!(&m, msg, "message {i}, string table");
        // Byte 4 is the string table length (after 03 A4 01 6A).
        with_table += usize::from(bytes[4] != 0);
        with_opaque += usize::from(bytes.contains(&0xC3));
        let inline = via_xml2wbxml(msg, false, true).0;
        assert_eq!(&inline, msg, "message {i}, inline strings");
        let by_namespace = via_xml2wbxml(msg, true, false).0;
        assert_eq!(&by_namespace, msg, "message {i}, no DOCTYPE");
    }
    // The paths this test is for were exercised: string-table references
    // and libwbxml's OPAQUE Item/Data.
    assert!(
        with_table > 0 && with_opaque > 0,
        "{with_table} {with_opaque}"
    );
}

#[test]
fn our_wbxml_tokens_match_libwbxml_byte_for_byte_without_string_table() {
    // With the string table off and Item/Data written as text by both, the
    // only difference libwbxml makes is Item/Data as OPAQUE; a message
    // without item data must come out byte-identical.
    let t = drive(
        client_params(Encoding::Wbxml, AuthScheme::Md5),
        server_params(AuthScheme::Md5),
        |_, _, _| true,
    );
    let pkg3 = decode(&t.messages[2].1.body).unwrap().0;
    let s = Scratch::new();
    let (input, output) = (s.path("in.xml"), s.path("out.wbxml"));
    std::fs::write(&input, encode_xml(&pkg3, true).unwrap()).unwrap();
    run(
        "xml2wbxml",
        &[
            "-n".as_ref(),
            "-o".as_ref(),
            output.as_os_str(),
            input.as_os_str(),
        ],
    );
    assert_eq!(std::fs::read(&output).unwrap(), t.messages[2].1.body);
}
