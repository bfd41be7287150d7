//! One call per way a notification reaches the device, for the daemon and
//! `dmnoncectl`: each gives the Package #0 bytes or one typed error that
//! says which layer refused the input and why.

use std::time::Duration;

use crate::classify::{classify, detect, DetectError, PushInput, PushRefusal};
use crate::reassembly::{FragmentRefusal, Outcome, Reassembler};
use crate::sms::{Address, SmsDeliver, SmsError, SmscField};
use crate::wsp::{WspError, WspPush};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    #[error("not a WSP push: {0}")]
    Wsp(#[from] WspError),
    #[error("push refused: {0}")]
    Refused(#[from] PushRefusal),
    #[error("unrecognised input: {0}")]
    Unrecognised(#[from] DetectError),
    #[error("SMS not usable: {0}")]
    Sms(#[from] SmsError),
    #[error("SMS fragment refused: {0}")]
    Fragment(#[from] FragmentRefusal),
}

/// A whole WSP push PDU (ofono's `ReceiveNotification`, TID first).
pub fn package0_from_wsp(pdu: &[u8]) -> Result<Vec<u8>, IntakeError> {
    let push = WspPush::decode(pdu)?;
    Ok(classify(&push)?.to_vec())
}

/// A WSP push PDU or a bare Package #0, told apart by [`detect`].
pub fn package0_from_any(bytes: &[u8]) -> Result<Vec<u8>, IntakeError> {
    match detect(bytes)? {
        PushInput::Wsp(push) => Ok(classify(&push)?.to_vec()),
        PushInput::BarePackage0 => Ok(bytes.to_vec()),
    }
}

/// What one SMS PDU led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsIntake {
    /// The last part arrived and the push is a DM notification
    /// (`originator` is the SMS sender, for logs; it is not authenticated).
    Package0 {
        package0: Vec<u8>,
        originator: Address,
    },
    /// Held (or a duplicate); nothing to do yet.
    Waiting(Outcome),
}

impl Reassembler {
    /// Decodes one SMS-DELIVER PDU, reassembles, and classifies the
    /// completed push.
    pub fn take_sms(
        &mut self,
        pdu: &[u8],
        smsc: SmscField,
        now: Duration,
    ) -> Result<SmsIntake, IntakeError> {
        let sms = SmsDeliver::decode(pdu, smsc)?;
        match self.push(&sms, now)? {
            Outcome::Complete(datagram) => {
                let package0 = package0_from_wsp(&datagram.payload)?;
                Ok(SmsIntake::Package0 {
                    package0,
                    originator: datagram.originator,
                })
            }
            other => Ok(SmsIntake::Waiting(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms::{encode_wap_push, DeliverOptions};
    use crate::wsp::{AppId, ContentType};
    use crate::Limits;

    const PKG0: &str =
        "840bb97ef3c3994842121e56c140d98a0308000000fffe0e646d2e6578616d706c652e6e6574dead";

    fn pkg0(vendor: usize) -> Vec<u8> {
        let mut p = hex::decode(PKG0).unwrap();
        p.resize(p.len() + vendor, 0x5a);
        p
    }

    #[test]
    fn every_carrier_gives_the_same_package0() {
        let pdu = WspPush::syncml_notification(3, &pkg0(0)).encode().unwrap();
        assert_eq!(package0_from_wsp(&pdu), Ok(pkg0(0)));
        assert_eq!(package0_from_any(&pdu), Ok(pkg0(0)));
        assert_eq!(package0_from_any(&pkg0(0)), Ok(pkg0(0)));

        let big = WspPush::syncml_notification(4, &pkg0(200))
            .encode()
            .unwrap();
        let mut opts = DeliverOptions::new(Address::international("15550100"), 77);
        opts.smsc = Some(Address::international("15550199"));
        let sms = encode_wap_push(&big, &opts, SmscField::Included).unwrap();
        assert_eq!(sms.len(), 2);
        let mut r = Reassembler::new(Limits::default());
        assert!(matches!(
            r.take_sms(&sms[1], SmscField::Included, Duration::ZERO),
            Ok(SmsIntake::Waiting(_))
        ));
        assert_eq!(
            r.take_sms(&sms[0], SmscField::Included, Duration::ZERO),
            Ok(SmsIntake::Package0 {
                package0: pkg0(200),
                originator: opts.originator.clone()
            })
        );
    }

    #[test]
    fn each_layer_reports_its_own_refusal() {
        let mms = WspPush::new(
            1,
            ContentType::short(0x3e),
            Some(AppId::WellKnown(4)),
            vec![1],
        )
        .unwrap();
        let err = package0_from_wsp(&mms.encode().unwrap()).unwrap_err();
        assert!(matches!(
            err,
            IntakeError::Refused(PushRefusal::WrongContentType { .. })
        ));
        assert!(err
            .to_string()
            .starts_with("push refused: content type is application/vnd.wap.mms-message"));
        assert!(matches!(
            package0_from_wsp(&[1, 0x40]),
            Err(IntakeError::Wsp(WspError::NotAPush { .. }))
        ));
        assert!(matches!(
            package0_from_any(b"hello"),
            Err(IntakeError::Unrecognised(_))
        ));

        let mut r = Reassembler::new(Limits::default());
        let opts = DeliverOptions {
            dst_port: 2949,
            ..DeliverOptions::new(Address::international("1"), 1)
        };
        let sms = encode_wap_push(&[0; 10], &opts, SmscField::Absent).unwrap();
        assert_eq!(
            r.take_sms(&sms[0], SmscField::Absent, Duration::ZERO),
            Err(IntakeError::Fragment(FragmentRefusal::WrongPort {
                dst: 2949
            }))
        );
        assert!(matches!(
            r.take_sms(&sms[0], SmscField::Included, Duration::ZERO),
            Err(IntakeError::Sms(_))
        ));
        // A complete datagram for port 2948 that is not a WSP push.
        let opts = DeliverOptions::new(Address::international("1"), 1);
        let sms = encode_wap_push(&[0x01, 0x40], &opts, SmscField::Absent).unwrap();
        assert!(matches!(
            r.take_sms(&sms[0], SmscField::Absent, Duration::ZERO),
            Err(IntakeError::Wsp(_))
        ));
    }
}
