//! Hand-built SMS-DELIVER PDUs from TS 23.040, each field commented.

use super::*;
use crate::wsp::WspPush;

const PKG0: &str = "cc6a83acbc1dabd527db6216ff2839ad02d000000001020e646d2e6578616d706c652e6e6574";

fn wsp() -> Vec<u8> {
    WspPush::syncml_notification(1, &hex::decode(PKG0).unwrap())
        .encode()
        .unwrap()
}

/// A single-part WAP push SMS-DELIVER as Android's `pdus` carries it.
fn android_pdu() -> Vec<u8> {
    let mut pdu = vec![
        0x07, 0x91, 0x44, 0x77, 0x58, 0x10, 0x06,
        0x50, // SMSC: 7 octets, international, +447785016005
        0x44, // first octet: TP-UDHI | TP-MMS (no more messages) | TP-MTI 00 SMS-DELIVER
        0x0b, 0x91, 0x44, 0x21, 0x43, 0x65, 0x87,
        0xf9, // TP-OA: 11 digits, international, +44123456789
        0x00, // TP-PID: plain SME-to-SME
        0x04, // TP-DCS: general group, 8-bit data, no class
        0x62, 0x11, 0x92, 0x01, 0x30, 0x00,
        0x40, // TP-SCTS: 26-11-29 10:03:00, +4 quarter hours
        0x33, // TP-UDL: 51 octets = 7 UDH + 44 WSP
        0x06, // UDHL 6
        0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0, // IEI 05: 16-bit ports, dst 2948, src 9200
    ];
    pdu.extend_from_slice(&wsp()); // 01 06 03 C4 AF 87 + Package #0
    pdu
}

#[test]
fn android_pdu_with_smsc() {
    let pdu = android_pdu();
    let sms = SmsDeliver::decode(&pdu, SmscField::Included).unwrap();
    assert_eq!(
        sms.smsc.as_ref().map(|a| a.to_string()).as_deref(),
        Some("+447785016005")
    );
    assert_eq!(sms.originator, Address::international("44123456789"));
    assert_eq!(sms.dcs, 0x04);
    assert!(!sms.more_messages_waiting());
    assert_eq!(sms.service_centre_time(), Some(([26, 11, 29, 10, 3, 0], 4)));
    let udh = sms.udh.as_ref().unwrap();
    assert_eq!(
        udh.ports,
        Some(Ports::Wide {
            dst: 2948,
            src: 9200
        })
    );
    assert_eq!(udh.concat, None);
    assert_eq!(sms.payload, wsp());
    assert_eq!(sms.encode(SmscField::Included).unwrap(), pdu);
}

#[test]
fn bare_tpdu_without_smsc() {
    let pdu = android_pdu();
    let tpdu = &pdu[8..];
    let sms = SmsDeliver::decode(tpdu, SmscField::Absent).unwrap();
    assert_eq!(sms.smsc, None);
    assert_eq!(sms.payload, wsp());
    assert_eq!(sms.encode(SmscField::Absent).unwrap(), tpdu);
}

#[test]
fn wrong_smsc_flag_gives_a_typed_error() {
    // Reading Android's PDU as a bare TPDU: 0x07 reads as the first octet
    // (MTI 0b11, treated as SMS-DELIVER), then 0x91 as a 145 semi-octet OA.
    assert_eq!(
        SmsDeliver::decode(&android_pdu(), SmscField::Absent),
        Err(SmsError::AddressTooLong { semi_octets: 0x91 })
    );
    // Reading a bare TPDU as if it had an SMSC: 0x44 is an SMSC length of 68.
    assert!(SmsDeliver::decode(&android_pdu()[8..], SmscField::Included).is_err());
}

#[test]
fn text_messages_and_other_tpdu_types_are_refused() {
    let mut pdu = android_pdu();
    pdu[18] = 0x00; // TP-DCS: GSM 7-bit
    assert_eq!(
        SmsDeliver::decode(&pdu, SmscField::Included),
        Err(SmsError::NotEightBit {
            dcs: 0x00,
            alphabet: Alphabet::Gsm7
        })
    );
    pdu[18] = 0x08; // UCS2
    assert!(matches!(
        SmsDeliver::decode(&pdu, SmscField::Included),
        Err(SmsError::NotEightBit { .. })
    ));
    let mut pdu = android_pdu();
    pdu[8] = 0x46; // TP-MTI 0b10: SMS-STATUS-REPORT
    assert_eq!(
        SmsDeliver::decode(&pdu, SmscField::Included),
        Err(SmsError::NotDeliver { mti: 2 })
    );
}

#[test]
fn length_faults_are_typed_errors() {
    let pdu = android_pdu();
    // Cut inside the user data.
    assert!(matches!(
        SmsDeliver::decode(&pdu[..pdu.len() - 1], SmscField::Included),
        Err(SmsError::Truncated { .. })
    ));
    // An extra octet after the user data.
    let mut longer = pdu.clone();
    longer.push(0);
    assert_eq!(
        SmsDeliver::decode(&longer, SmscField::Included),
        Err(SmsError::TrailingOctets { count: 1 })
    );
    // UDL 141.
    let mut big = pdu.clone();
    big[26] = 141;
    assert_eq!(
        SmsDeliver::decode(&big, SmscField::Included),
        Err(SmsError::UserDataTooLong { octets: 141 })
    );
    // UDHL 60 in a 51-octet user data.
    let mut udhl = pdu.clone();
    udhl[27] = 60;
    assert_eq!(
        SmsDeliver::decode(&udhl, SmscField::Included),
        Err(SmsError::HeaderTooLong { udhl: 60, udl: 51 })
    );
    // Every prefix fails cleanly.
    for n in 0..pdu.len() {
        assert!(
            SmsDeliver::decode(&pdu[..n], SmscField::Included).is_err(),
            "prefix {n}"
        );
    }
}

#[test]
fn two_part_push_with_8bit_reference() {
    // A hand-built part 2 of 2, bare TPDU, alphanumeric sender "DM".
    let part2 = [
        0x40, // TP-UDHI, TP-MMS 0 (more messages waiting), MTI 00
        0x04, 0xd0, 0xc4,
        0x26, // TP-OA: 4 semi-octets, alphanumeric, "DM" packed (D=0x44, M=0x4D)
        0x00, // TP-PID
        0xf5, // TP-DCS: 1111 group, 8-bit, class 1
        0x62, 0x11, 0x92, 0x01, 0x30, 0x00,
        0x09, // TP-SCTS, zone -10 quarters: tens 1 + sign bit 0x08, units 0
        0x0e, // TP-UDL 14
        0x0b, // UDHL 11
        0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0, // 16-bit ports 2948 <- 9200
        0x00, 0x03, 0xa7, 0x02, 0x02, // concat, 8-bit ref 0xA7, 2 parts, part 2
        0xde, 0xad, // payload
    ];
    let sms = SmsDeliver::decode(&part2, SmscField::Absent).unwrap();
    assert_eq!(sms.originator, Address::alphanumeric("DM"));
    assert!(sms.more_messages_waiting());
    assert_eq!(sms.service_centre_time().map(|t| t.1), Some(-10));
    assert_eq!(
        sms.udh.as_ref().unwrap().concat,
        Some(Concat {
            reference: 0xa7,
            wide_reference: false,
            total: 2,
            seq: 2
        })
    );
    assert_eq!(sms.payload, [0xde, 0xad]);
}

#[test]
fn split_boundaries() {
    let opts = DeliverOptions::new(Address::international("15550001"), 0x1a7);
    assert_eq!(split_datagram(&[7; 133], &opts).unwrap().len(), 1);
    let parts = split_datagram(&[7; 134], &opts).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].payload.len(), 128);
    let c = parts[1].udh.as_ref().unwrap().concat.unwrap();
    assert_eq!(
        (c.reference, c.total, c.seq, c.wide_reference),
        (0xa7, 2, 2, false)
    );
    let wide = DeliverOptions {
        wide_reference: true,
        ..opts.clone()
    };
    let parts = split_datagram(&[7; 300], &wide).unwrap();
    assert_eq!(
        parts.iter().map(|p| p.payload.len()).collect::<Vec<_>>(),
        [127, 127, 46]
    );
    assert_eq!(
        parts[0].udh.as_ref().unwrap().concat.unwrap().reference,
        0x1a7
    );
    assert_eq!(
        split_datagram(&vec![0; 255 * 128 + 1], &opts),
        Err(SmsError::TooManyParts { parts: 256 })
    );
    assert_eq!(
        split_datagram(&vec![0; 255 * 128], &opts).unwrap().len(),
        255
    );
}

#[test]
fn encoded_parts_decode_back() {
    let mut opts = DeliverOptions::new(Address::alphanumeric("Operator"), 9);
    opts.smsc = Some(Address::international("447785016005"));
    let datagram: Vec<u8> = (0..=255u8).cycle().take(400).collect();
    let pdus = encode_wap_push(&datagram, &opts, SmscField::Included).unwrap();
    assert_eq!(pdus.len(), 4);
    let mut joined = Vec::new();
    for (i, pdu) in pdus.iter().enumerate() {
        assert!(pdu.len() <= 140 + 40);
        let sms = SmsDeliver::decode(pdu, SmscField::Included).unwrap();
        assert_eq!(sms.originator, opts.originator);
        assert_eq!(sms.smsc, opts.smsc);
        let c = sms.udh.as_ref().unwrap().concat.unwrap();
        assert_eq!((c.seq, c.total), (i as u8 + 1, 4));
        joined.extend_from_slice(&sms.payload);
    }
    assert_eq!(joined, datagram);
}
