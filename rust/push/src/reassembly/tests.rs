use super::*;
use crate::sms::{split_datagram, Concat, DeliverOptions, UserDataHeader};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn parts(datagram: &[u8], from: &str, reference: u16) -> Vec<SmsDeliver> {
    split_datagram(
        datagram,
        &DeliverOptions::new(Address::international(from), reference),
    )
    .unwrap()
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

fn complete(outcome: Result<Outcome, FragmentRefusal>) -> Datagram {
    match outcome {
        Ok(Outcome::Complete(d)) => d,
        other => panic!("expected a complete datagram, got {other:?}"),
    }
}

#[test]
fn single_part_completes_at_once() {
    let mut r = Reassembler::new(Limits::default());
    let sms = &parts(&payload(50), "111", 1)[0];
    let d = complete(r.push(sms, secs(0)));
    assert_eq!(d.payload, payload(50));
    assert_eq!((d.src_port, d.dst_port), (9200, 2948));
    assert_eq!(d.originator, Address::international("111"));
    assert_eq!(r.pending_messages(), 0);
}

#[test]
fn out_of_order_parts_reassemble() {
    let mut r = Reassembler::new(Limits::default());
    let p = parts(&payload(400), "111", 5);
    assert_eq!(p.len(), 4);
    assert_eq!(
        r.push(&p[2], secs(0)),
        Ok(Outcome::Stored {
            received: 1,
            total: 4,
            evicted: None
        })
    );
    assert_eq!(
        r.push(&p[0], secs(1)),
        Ok(Outcome::Stored {
            received: 2,
            total: 4,
            evicted: None
        })
    );
    assert_eq!(
        r.push(&p[3], secs(2)),
        Ok(Outcome::Stored {
            received: 3,
            total: 4,
            evicted: None
        })
    );
    assert_eq!(r.pending_octets(), 128 * 2 + 400 - 3 * 128);
    assert_eq!(complete(r.push(&p[1], secs(3))).payload, payload(400));
    assert_eq!(r.pending_messages(), 0);
}

#[test]
fn duplicates_and_conflicting_duplicates() {
    let mut r = Reassembler::new(Limits::default());
    let p = parts(&payload(200), "111", 5);
    r.push(&p[0], secs(0)).unwrap();
    assert_eq!(r.push(&p[0], secs(1)), Ok(Outcome::Duplicate { seq: 1 }));
    let mut forged = p[0].clone();
    forged.payload[0] ^= 0xff;
    assert_eq!(
        r.push(&forged, secs(1)),
        Ok(Outcome::ConflictingDuplicate { seq: 1 })
    );
    // The first copy is what completes.
    assert_eq!(complete(r.push(&p[1], secs(2))).payload, payload(200));
}

#[test]
fn interleaved_messages_keyed_by_originator_and_reference() {
    let mut r = Reassembler::new(Limits::default());
    let a = parts(&payload(200), "111", 5);
    let b = parts(&payload(300)[100..], "222", 5); // same reference, other sender
    let c = parts(&payload(250), "111", 6); // same sender, other reference
    r.push(&a[0], secs(0)).unwrap();
    r.push(&b[0], secs(0)).unwrap();
    r.push(&c[1], secs(0)).unwrap();
    assert_eq!(r.pending_messages(), 3);
    assert_eq!(
        complete(r.push(&b[1], secs(1))).payload,
        payload(300)[100..]
    );
    assert_eq!(complete(r.push(&c[0], secs(1))).payload, payload(250));
    assert_eq!(complete(r.push(&a[1], secs(1))).payload, payload(200));
}

#[test]
fn mismatched_totals_are_separate_messages() {
    // Same sender and reference, one message of 2 parts and one of 3: a
    // part of one never completes the other.
    let mut r = Reassembler::new(Limits::default());
    let two = parts(&payload(200), "111", 5);
    let three = parts(&payload(300), "111", 5);
    assert_eq!(three.len(), 3);
    r.push(&two[0], secs(0)).unwrap();
    assert_eq!(
        r.push(&three[1], secs(0)),
        Ok(Outcome::Stored {
            received: 1,
            total: 3,
            evicted: None
        })
    );
    assert_eq!(r.pending_messages(), 2);
    assert_eq!(complete(r.push(&two[1], secs(0))).payload, payload(200));
    r.push(&three[0], secs(0)).unwrap();
    assert_eq!(complete(r.push(&three[2], secs(0))).payload, payload(300));
}

fn with_concat(sms: &SmsDeliver, total: u8, seq: u8) -> SmsDeliver {
    let mut s = sms.clone();
    let ports = s.udh.as_ref().and_then(|u| u.ports);
    s.udh = Some(UserDataHeader::new(
        ports,
        Some(Concat {
            reference: 1,
            wide_reference: false,
            total,
            seq,
        }),
    ));
    s
}

#[test]
fn bad_part_numbers_are_refused() {
    let mut r = Reassembler::new(Limits::default());
    let base = &parts(&payload(10), "111", 1)[0];
    assert_eq!(
        r.push(&with_concat(base, 0, 1), secs(0)),
        Err(FragmentRefusal::ZeroTotal)
    );
    assert_eq!(
        r.push(&with_concat(base, 3, 0), secs(0)),
        Err(FragmentRefusal::PartNumberZero { total: 3 })
    );
    assert_eq!(
        r.push(&with_concat(base, 3, 4), secs(0)),
        Err(FragmentRefusal::PartBeyondTotal { seq: 4, total: 3 })
    );
    assert_eq!(
        r.push(&with_concat(base, 17, 1), secs(0)),
        Err(FragmentRefusal::TooManyParts { total: 17, max: 16 })
    );
    // total 1, part 1: a complete message.
    assert_eq!(
        complete(r.push(&with_concat(base, 1, 1), secs(0))).payload,
        payload(10)
    );
    assert_eq!(r.pending_messages(), 0);
}

#[test]
fn non_wap_messages_are_refused() {
    let mut r = Reassembler::new(Limits::default());
    let base = parts(&payload(10), "111", 1).remove(0);
    let mut no_udh = base.clone();
    no_udh.udh = None;
    assert_eq!(
        r.push(&no_udh, secs(0)),
        Err(FragmentRefusal::NoUserDataHeader)
    );
    let mut no_ports = base.clone();
    no_ports.udh = Some(UserDataHeader::new(None, None));
    assert_eq!(
        r.push(&no_ports, secs(0)),
        Err(FragmentRefusal::NoPortAddressing)
    );
    let mut narrow = base.clone();
    narrow.udh = Some(UserDataHeader::new(
        Some(Ports::Narrow {
            dst: 0x0b,
            src: 0x84,
        }),
        None,
    ));
    assert_eq!(
        r.push(&narrow, secs(0)),
        Err(FragmentRefusal::EightBitPorts {
            dst: 0x0b,
            src: 0x84
        })
    );
    let mut secure = base.clone();
    secure.udh = Some(UserDataHeader::new(
        Some(Ports::Wide {
            dst: 2949,
            src: 9200,
        }),
        None,
    ));
    assert_eq!(
        r.push(&secure, secs(0)),
        Err(FragmentRefusal::WrongPort { dst: 2949 })
    );
    let mut huge = base;
    huge.payload = vec![0; 141];
    assert_eq!(
        r.push(&huge, secs(0)),
        Err(FragmentRefusal::PartTooLarge { octets: 141 })
    );
}

#[test]
fn timeout_expires_and_restarts_a_reused_reference() {
    let limits = Limits {
        timeout: secs(60),
        ..Limits::default()
    };
    let mut r = Reassembler::new(limits);
    let old = parts(&payload(200), "111", 5);
    let new = parts(
        &payload(260)[..200]
            .iter()
            .rev()
            .copied()
            .collect::<Vec<_>>(),
        "111",
        5,
    );
    r.push(&old[0], secs(0)).unwrap();
    assert_eq!(r.expire(secs(59)), []);
    // At 60 s the old first part is stale: the new part 2 starts afresh
    // instead of completing a mix of two messages.
    assert_eq!(
        r.push(&new[1], secs(60)),
        Ok(Outcome::Stored {
            received: 1,
            total: 2,
            evicted: None
        })
    );
    let mixed = r.push(&new[0], secs(61));
    assert_eq!(
        complete(mixed).payload,
        payload(260)[..200]
            .iter()
            .rev()
            .copied()
            .collect::<Vec<_>>()
    );

    r.push(&old[0], secs(100)).unwrap();
    let expired = r.expire(secs(160));
    assert_eq!(
        expired,
        [Abandoned {
            originator: Address::international("111"),
            reference: 5,
            received: 1,
            total: 2
        }]
    );
    assert_eq!(r.pending_messages(), 0);
    // Time going backwards does not expire or panic.
    r.push(&old[0], secs(500)).unwrap();
    assert_eq!(r.expire(secs(10)), []);
}

#[test]
fn full_table_evicts_the_oldest() {
    let limits = Limits {
        max_pending_messages: 2,
        ..Limits::default()
    };
    let mut r = Reassembler::new(limits);
    let a = parts(&payload(200), "111", 1);
    let b = parts(&payload(200), "222", 1);
    let c = parts(&payload(200), "333", 1);
    r.push(&a[0], secs(0)).unwrap();
    r.push(&b[0], secs(1)).unwrap();
    let evicted = Abandoned {
        originator: Address::international("111"),
        reference: 1,
        received: 1,
        total: 2,
    };
    assert_eq!(
        r.push(&c[0], secs(2)),
        Ok(Outcome::Stored {
            received: 1,
            total: 2,
            evicted: Some(evicted)
        })
    );
    assert_eq!(r.pending_messages(), 2);
    // a's second part now starts a new message (and evicts b).
    assert!(matches!(
        r.push(&a[1], secs(3)),
        Ok(Outcome::Stored {
            evicted: Some(_),
            ..
        })
    ));
    assert_eq!(complete(r.push(&c[1], secs(4))).payload, payload(200));
}

#[test]
fn zero_capacity_refuses_multipart_but_takes_single() {
    let mut r = Reassembler::new(Limits {
        max_pending_messages: 0,
        ..Limits::default()
    });
    assert_eq!(
        r.push(&parts(&payload(200), "1", 1)[0], secs(0)),
        Err(FragmentRefusal::NoRoom)
    );
    assert!(matches!(
        r.push(&parts(&payload(20), "1", 1)[0], secs(0)),
        Ok(Outcome::Complete(_))
    ));
}

#[test]
fn memory_stays_bounded_under_a_flood() {
    let limits = Limits {
        max_pending_messages: 8,
        max_parts: 255,
        timeout: secs(60),
    };
    let mut r = Reassembler::new(limits);
    let big = parts(&payload(128 * 255), "999", 0);
    for (i, part) in big.iter().enumerate().take(254) {
        let mut p = part.clone();
        p.originator = Address::international(&format!("{}", i % 50));
        let _ = r.push(&p, secs(i as u64 / 10));
        assert!(r.pending_messages() <= 8);
        assert!(r.pending_octets() <= 8 * 255 * 140);
    }
}
