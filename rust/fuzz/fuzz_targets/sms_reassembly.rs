//! A sequence of SMS-DELIVER fragments through the reassembler.
//!
//! Input framing (also used by the seeds): octet 0 bit 0 = PDUs carry an
//! SMSC address; then records of [length][seconds since the previous
//! record][PDU octets]; a record whose length octet is 0 runs `expire`.
//! Checks: no panic, the limits always hold, a completed datagram for
//! port 2948 goes on through WSP decoding and classification.
#![no_main]

use std::time::Duration;

use dmnonce_push::sms::SmscField;
use dmnonce_push::{classify, Limits, Outcome, Reassembler, SmsDeliver, WspPush};
use libfuzzer_sys::fuzz_target;

const LIMITS: Limits = Limits {
    max_pending_messages: 4,
    max_parts: 8,
    timeout: Duration::from_secs(60),
};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, mut rest)) = data.split_first() else {
        return;
    };
    let smsc = if flags & 1 != 0 {
        SmscField::Included
    } else {
        SmscField::Absent
    };
    let mut reassembler = Reassembler::new(LIMITS);
    let mut now = Duration::ZERO;
    while let [len, delta, tail @ ..] = rest {
        now += Duration::from_secs(u64::from(*delta));
        let len = usize::from(*len).min(tail.len());
        let (pdu, next) = tail.split_at(len);
        rest = next;
        if len == 0 {
            let _ = reassembler.expire(now);
            continue;
        }
        let Ok(sms) = SmsDeliver::decode(pdu, smsc) else {
            continue;
        };
        if let Ok(again) = sms.encode(smsc) {
            let _ = SmsDeliver::decode(&again, smsc);
        }
        if let Ok(Outcome::Complete(datagram)) = reassembler.push(&sms, now) {
            assert_eq!(datagram.dst_port, 2948);
            if let Ok(push) = WspPush::decode(&datagram.payload) {
                let _ = classify(&push);
            }
        }
        assert!(reassembler.pending_messages() <= LIMITS.max_pending_messages);
        assert!(
            reassembler.pending_octets()
                <= LIMITS.max_pending_messages * usize::from(LIMITS.max_parts) * 140
        );
    }
});
