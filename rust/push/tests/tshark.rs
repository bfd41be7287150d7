//! Wireshark's dissectors as an independent peer: our encoders' SMS and
//! WSP bytes go into a pcap (text2pcap), tshark decodes them, and its
//! reading of the ports, concatenation, content type and application id
//! must match our decoder's. Needs `tshark` and `text2pcap` (Debian
//! `tshark`); run by scripts/test.d/25-tshark.sh with `--ignored`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use dmnonce_push::sms::{encode_wap_push, Address, DeliverOptions, Ports, SmscField};
use dmnonce_push::wsp::{AppId, ContentType, Media, ParamName, ParamValue, Parameter};
use dmnonce_push::{classify, Limits, Outcome, Reassembler, SmsDeliver, WspPush};

/// DLT_USER0, mapped to Wireshark's gsm_sms dissector (a bare TPDU).
const DLT_USER0: &str = "147";
const USER_DLT_GSM_SMS: &str = r#"uat:user_dlts:"User 0 (DLT=147)","gsm_sms","0","","0","""#;

const PKG0: &str = "cc6a83acbc1dabd527db6216ff2839ad02d000000001020e646d2e6578616d706c652e6e6574";

fn pkg0_with_vendor(vendor: usize) -> Vec<u8> {
    let mut p = hex::decode(PKG0).unwrap();
    p.extend((0..vendor).map(|i| (i % 251) as u8));
    p
}

/// text2pcap's input: each packet as offset-prefixed hex lines.
fn hexdump(packets: &[Vec<u8>]) -> String {
    let mut out = String::new();
    for packet in packets {
        for (i, chunk) in packet.chunks(16).enumerate() {
            let _ = write!(out, "{:06x}", i * 16);
            for b in chunk {
                let _ = write!(out, " {b:02x}");
            }
            out.push('\n');
        }
    }
    out
}

/// Runs text2pcap (with `encap` arguments) and tshark, returning one row
/// of `fields` per packet (tshark's `-T fields`, `|`-separated).
fn tshark(dir: &Path, packets: &[Vec<u8>], encap: &[&str], fields: &[&str]) -> Vec<Vec<String>> {
    let txt = dir.join("in.txt");
    let pcap = dir.join("out.pcap");
    std::fs::write(&txt, hexdump(packets)).unwrap();
    let status = Command::new("text2pcap")
        .arg("-q")
        .args(encap)
        .arg(&txt)
        .arg(&pcap)
        .status()
        .expect("run text2pcap");
    assert!(status.success(), "text2pcap failed");
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(&pcap).args([
        "-o",
        USER_DLT_GSM_SMS,
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-E",
        "occurrence=a",
    ]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect()
}

#[test]
#[ignore = "needs tshark; run by scripts/test.d/25-tshark.sh"]
fn tshark_reads_our_wsp_pushes_over_udp_2948() {
    let dir = tempfile::tempdir().unwrap();
    let pushes = [
        WspPush::syncml_notification(1, &pkg0_with_vendor(0)),
        WspPush::new(
            2,
            ContentType::text("application/vnd.syncml.notification"),
            Some(AppId::Text("x-wap-application:syncml.dm".into())),
            pkg0_with_vendor(3),
        )
        .unwrap(),
        WspPush::new(
            3,
            ContentType::general(
                Media::WellKnown(0x44),
                ContentType::encode_parameters(&[Parameter {
                    name: ParamName::WellKnown(1),
                    value: ParamValue::Integer(0x6a),
                }])
                .unwrap(),
            ),
            Some(AppId::WellKnown(7)),
            pkg0_with_vendor(0),
        )
        .unwrap(),
        // An MMS notification: tshark and we must agree it is not ours.
        WspPush::new(
            4,
            ContentType::short(0x3e),
            Some(AppId::WellKnown(4)),
            vec![0x8c, 0x82],
        )
        .unwrap(),
    ];
    let pdus: Vec<Vec<u8>> = pushes.iter().map(|p| p.encode().unwrap()).collect();
    let rows = tshark(
        dir.path(),
        &pdus,
        &["-u", "9200,2948"],
        &[
            "wsp.TID",
            "wsp.pdu_type",
            "wsp.header.content_type",
            "wsp.header.x_wap_application_id",
            "wsp.parameter.type",
            "wsp.parameter.charset",
        ],
    );
    assert_eq!(rows.len(), pushes.len(), "{rows:?}");
    for (push, row) in pushes.iter().zip(&rows) {
        let ours = WspPush::decode(&push.encode().unwrap()).unwrap();
        assert_eq!(row[0], format!("0x{:02x}", ours.tid), "{row:?}");
        assert_eq!(row[1], "0x06", "{row:?}");
        // tshark appends parameters ("; charset=utf-8"): compare the media.
        let their_media = row[2].split(';').next().unwrap_or("").trim();
        assert_eq!(their_media, ours.content_type.media.to_string(), "{row:?}");
        let expected_app = match ours.app_id.as_ref().unwrap() {
            // Application id 0x04 is the MMS user agent (OMNA registry).
            AppId::WellKnown(4) => "x-wap-application:mms.ua".to_owned(),
            id => id.to_string(),
        };
        assert_eq!(row[3], expected_app, "{row:?}");
    }
    assert!(classify(&WspPush::decode(&pdus[0]).unwrap()).is_ok());
    assert!(classify(&WspPush::decode(&pdus[3]).unwrap()).is_err());
    // The general form's charset parameter, as tshark reads it.
    let params = pushes[2].content_type.parameters().unwrap();
    let ParamName::WellKnown(kind) = params[0].name else {
        panic!("typed parameter expected")
    };
    assert_eq!(rows[2][4], kind.to_string(), "{:?}", rows[2]);
    // MIBenum 106 is UTF-8.
    assert_eq!(params[0].value, ParamValue::Integer(106));
    assert_eq!(rows[2][5], "UTF-8", "{:?}", rows[2]);
}

#[test]
#[ignore = "needs tshark; run by scripts/test.d/25-tshark.sh"]
fn tshark_reads_our_sms_deliver_chain() {
    let dir = tempfile::tempdir().unwrap();
    // Three parts with an 8-bit reference, then two with a 16-bit one.
    let big = WspPush::syncml_notification(7, &pkg0_with_vendor(300))
        .encode()
        .unwrap();
    let medium = WspPush::syncml_notification(8, &pkg0_with_vendor(150))
        .encode()
        .unwrap();
    let mut narrow = DeliverOptions::new(Address::international("447700900123"), 0x2a);
    narrow.smsc = None;
    let mut wide = DeliverOptions::new(Address::alphanumeric("DMserver"), 0x1234);
    wide.wide_reference = true;
    let mut pdus = encode_wap_push(&big, &narrow, SmscField::Absent).unwrap();
    pdus.extend(encode_wap_push(&medium, &wide, SmscField::Absent).unwrap());
    assert_eq!(pdus.len(), 5);

    let rows = tshark(
        dir.path(),
        &pdus,
        &["-l", DLT_USER0],
        &[
            "gsm_sms.tp-oa",
            "gsm_sms.destination_port",
            "gsm_sms.originator_port",
            "gsm_sms.udh.mm.msg_id",
            "gsm_sms.udh.mm.msg_parts",
            "gsm_sms.udh.mm.msg_part",
            "wsp.header.content_type",
            "wsp.header.x_wap_application_id",
            "gsm_sms.reassembled.length",
        ],
    );
    assert_eq!(rows.len(), 5, "{rows:?}");
    let mut reassembler = Reassembler::new(Limits::default());
    for (pdu, row) in pdus.iter().zip(&rows) {
        let sms = SmsDeliver::decode(pdu, SmscField::Absent).unwrap();
        let udh = sms.udh.as_ref().unwrap();
        let Some(Ports::Wide { dst, src }) = udh.ports else {
            panic!("no ports")
        };
        let concat = udh.concat.unwrap();
        assert_eq!(row[0], sms.originator.value, "{row:?}");
        assert_eq!(row[1], dst.to_string(), "{row:?}");
        assert_eq!(row[2], src.to_string(), "{row:?}");
        assert_eq!(row[3], concat.reference.to_string(), "{row:?}");
        assert_eq!(row[4], concat.total.to_string(), "{row:?}");
        assert_eq!(row[5], concat.seq.to_string(), "{row:?}");
        match reassembler.push(&sms, std::time::Duration::ZERO).unwrap() {
            Outcome::Complete(datagram) => {
                // tshark reassembled the same datagram on this last part
                // and decoded its WSP headers as we do.
                let push = WspPush::decode(&datagram.payload).unwrap();
                assert_eq!(row[6], push.content_type.media.to_string(), "{row:?}");
                assert_eq!(row[7], push.app_id.as_ref().unwrap().to_string(), "{row:?}");
                assert_eq!(row[8], datagram.payload.len().to_string(), "{row:?}");
                assert!(classify(&push).is_ok());
            }
            Outcome::Stored { .. } => assert_eq!(
                row[6], "",
                "tshark decoded WSP before the last part: {row:?}"
            ),
            other => panic!("unexpected {other:?}"),
        }
    }
}
