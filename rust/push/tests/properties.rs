//! Property tests: no decoder panics on arbitrary bytes, every encoder's
//! output decodes back to what was encoded, and reassembly of shuffled
//! parts gives the original datagram with memory bounded.

use std::time::Duration;

use dmnonce_push::sms::{encode_wap_push, Address, DeliverOptions, SmscField};
use dmnonce_push::wsp::{AppId, ContentType, Media};
use dmnonce_push::{classify, detect, Limits, Outcome, Reassembler, SmsDeliver, WspPush};
use proptest::prelude::*;

fn content_type() -> impl Strategy<Value = ContentType> {
    prop_oneof![
        (0u32..0x80).prop_map(ContentType::short),
        "[a-z][a-z0-9./+-]{0,60}".prop_map(|t| ContentType::text(&t)),
        (
            (0u32..100_000),
            proptest::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(c, p)| ContentType::general(Media::WellKnown(c), p)),
        (
            "[a-z][a-z0-9./+-]{0,300}",
            proptest::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(t, p)| ContentType::general(Media::Text(t), p)),
    ]
}

fn app_id() -> impl Strategy<Value = Option<AppId>> {
    prop_oneof![
        Just(None),
        any::<u64>().prop_map(|c| Some(AppId::WellKnown(c))),
        "[a-z][a-z0-9:.-]{0,40}".prop_map(|t| Some(AppId::Text(t))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn wsp_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(push) = WspPush::decode(&bytes) {
            let _ = classify(&push);
            let _ = push.header_fields();
            let _ = push.content_type.parameters();
            let _ = push.content_type.to_string();
            if let Ok(again) = push.encode() {
                prop_assert_eq!(WspPush::decode(&again), Ok(push));
            }
        }
        let _ = detect(&bytes);
    }

    #[test]
    fn wsp_headers_of_a_push_prefix_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
        // Valid TID, type and ContentType, then arbitrary header octets.
        let mut pdu = vec![0x01, 0x06, (tail.len().min(100) + 1) as u8, 0xc4];
        pdu.extend_from_slice(&tail);
        let _ = WspPush::decode(&pdu);
    }

    #[test]
    fn sms_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        for flag in [SmscField::Included, SmscField::Absent] {
            if let Ok(sms) = SmsDeliver::decode(&bytes, flag) {
                let _ = sms.service_centre_time();
                let _ = sms.encode(flag);
                let mut r = Reassembler::new(Limits::default());
                let _ = r.push(&sms, Duration::ZERO);
            }
        }
    }

    #[test]
    fn detect_tells_pushes_from_bare_package0(
        tid: u8,
        digest in proptest::array::uniform16(any::<u8>()),
        version in 11u16..=12,
        low_bits: u64,
        server_id in "[a-z.]{1,40}",
        vendor in proptest::collection::vec(any::<u8>(), 0..100),
    ) {
        // Digest, then the 64-bit word: version in the top 10 bits, the
        // server-id length in the low 8, anything in between.
        let word = (u64::from(version) << 54) | (low_bits & 0x003f_ffff_ffff_ff00) | server_id.len() as u64;
        let mut pkg0 = digest.to_vec();
        pkg0.extend_from_slice(&word.to_be_bytes());
        pkg0.extend_from_slice(server_id.as_bytes());
        pkg0.extend_from_slice(&vendor);
        prop_assert!(dmnonce_push::looks_like_package0(&pkg0));
        let pdu = WspPush::syncml_notification(tid, &pkg0).encode().unwrap();
        prop_assert_eq!(detect(&pdu), Ok(dmnonce_push::PushInput::Wsp(WspPush::decode(&pdu).unwrap())));
        // Wrong about once in a million random digests (see docs/push.md).
        prop_assert_eq!(detect(&pkg0), Ok(dmnonce_push::PushInput::BarePackage0));
    }

    #[test]
    fn wsp_round_trip(tid: u8, ct in content_type(), id in app_id(), body in proptest::collection::vec(any::<u8>(), 0..500)) {
        let push = WspPush::new(tid, ct, id, body).unwrap();
        let pdu = push.encode().unwrap();
        prop_assert_eq!(WspPush::decode(&pdu), Ok(push));
    }

    #[test]
    fn sms_split_reassemble_round_trip(
        datagram in proptest::collection::vec(any::<u8>(), 0..3000),
        reference: u16,
        wide: bool,
        digits in "[0-9*#]{1,20}",
        with_smsc: bool,
        seed: u64,
    ) {
        let mut opts = DeliverOptions::new(Address::international(&digits), reference);
        opts.wide_reference = wide;
        let flag = if with_smsc { SmscField::Included } else { SmscField::Absent };
        if with_smsc {
            opts.smsc = Some(Address::international("447785016005"));
        }
        let mut pdus = encode_wap_push(&datagram, &opts, flag).unwrap();
        // A deterministic shuffle from the seed.
        let n = pdus.len();
        for i in (1..n).rev() {
            let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % (i as u64 + 1)) as usize;
            pdus.swap(i, j);
        }
        let mut r = Reassembler::new(Limits { max_parts: 255, ..Limits::default() });
        let mut done = None;
        for (i, pdu) in pdus.iter().enumerate() {
            prop_assert!(pdu.len() <= 140 + 2 + 12 + 9 + 12);
            let sms = SmsDeliver::decode(pdu, flag).unwrap();
            prop_assert_eq!(&sms.originator, &opts.originator);
            match r.push(&sms, Duration::from_millis(i as u64)).unwrap() {
                Outcome::Complete(d) => done = Some(d),
                Outcome::Stored { evicted: None, .. } => {}
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        prop_assert_eq!(done.map(|d| d.payload), Some(datagram));
        prop_assert_eq!(r.pending_messages(), 0);
    }

    #[test]
    fn reassembler_bounded_on_arbitrary_fragments(
        frags in proptest::collection::vec((0u8..4, any::<u8>(), 0u8..6, 0u8..6, proptest::collection::vec(any::<u8>(), 0..140), 0u64..1000), 0..300)
    ) {
        let limits = Limits { max_pending_messages: 5, max_parts: 5, timeout: Duration::from_secs(30) };
        let mut r = Reassembler::new(limits);
        for (from, reference, total, seq, payload, t) in frags {
            let mut opts = DeliverOptions::new(Address::international(&from.to_string()), u16::from(reference));
            opts.wide_reference = false;
            let mut sms = dmnonce_push::sms::split_datagram(&payload, &opts).unwrap().remove(0);
            let ports = sms.udh.as_ref().and_then(|u| u.ports);
            let concat = dmnonce_push::sms::Concat { reference: u16::from(reference), wide_reference: false, total, seq };
            sms.udh = Some(dmnonce_push::sms::UserDataHeader::new(ports, Some(concat)));
            let _ = r.push(&sms, Duration::from_secs(t));
            prop_assert!(r.pending_messages() <= 5);
            prop_assert!(r.pending_octets() <= 5 * 5 * 140);
            if t % 7 == 0 {
                let _ = r.expire(Duration::from_secs(t));
            }
        }
    }
}
