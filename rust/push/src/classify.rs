//! Deciding what a push is: a DM notification for us, or something else
//! (MMS, SI/SL, another application) that must be refused with a reason;
//! and telling a WSP PDU from a bare Package #0 when the caller does not
//! know which it holds.

use crate::wsp::{WspError, WspPush};

/// Why a decoded push is not a DM notification we take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushRefusal {
    #[error("content type is {content_type}, not application/vnd.syncml.notification")]
    WrongContentType { content_type: String },
    #[error(
        "push carries no X-Wap-Application-Id; a DM notification names x-wap-application:syncml.dm"
    )]
    MissingApplicationId,
    #[error("push is for {app_id}, not x-wap-application:syncml.dm")]
    WrongApplicationId { app_id: String },
    #[error("push has an empty body; a Package #0 is at least 24 octets")]
    EmptyBody,
}

/// The Package #0 inside `push`, or why it is not one of ours. Only
/// `application/vnd.syncml.notification` addressed to
/// `x-wap-application:syncml.dm` is taken, in any of their encodings; the
/// OMA DM Notification spec (§7) requires the application id, so a push
/// without one is refused too. The body is not verified here: that is
/// the Package #0 decoder's job.
pub fn classify(push: &WspPush) -> Result<&[u8], PushRefusal> {
    if !push.content_type.media.is_syncml_notification() {
        return Err(PushRefusal::WrongContentType {
            content_type: push.content_type.to_string(),
        });
    }
    match &push.app_id {
        None => return Err(PushRefusal::MissingApplicationId),
        Some(id) if !id.is_syncml_dm() => {
            return Err(PushRefusal::WrongApplicationId {
                app_id: id.to_string(),
            })
        }
        Some(_) => {}
    }
    if push.body.is_empty() {
        return Err(PushRefusal::EmptyBody);
    }
    Ok(&push.body)
}

/// What [`detect`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushInput {
    /// A WSP push PDU (TID first), decoded.
    Wsp(WspPush),
    /// The input looks like a Package #0 on its own.
    BarePackage0,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetectError {
    #[error("neither a WSP push ({wsp}) nor a Package #0 (no version 11/12 header with a fitting server id)")]
    Unrecognised { wsp: WspError },
}

/// Package #0 layout (OMA-TS-DM_Notification-V1_2 §6): 16 digest octets,
/// then a 64-bit word whose top 10 bits are the version.
const DIGEST_LEN: usize = 16;
const HEADER_END: usize = 24;

/// Does `bytes` have the shape of a Package #0: version 11 or 12 in the
/// top 10 bits after the digest, and a non-zero server-id length whose
/// server id fits in the input.
pub fn looks_like_package0(bytes: &[u8]) -> bool {
    let (Some(&hi), Some(&lo), Some(&id_len)) = (
        bytes.get(DIGEST_LEN),
        bytes.get(DIGEST_LEN + 1),
        bytes.get(HEADER_END - 1),
    ) else {
        return false;
    };
    let version = (u16::from(hi) << 2) | (u16::from(lo) >> 6);
    matches!(version, 11 | 12) && id_len > 0 && HEADER_END + usize::from(id_len) <= bytes.len()
}

/// Tells a WSP push PDU from a bare Package #0.
///
/// A WSP push has its PDU type (0x06 or 0x07) in octet 1 and must decode
/// fully; a Package #0 has version 11 or 12 in the ten bits after its
/// 16-octet digest. Each test alone can be fooled, since a digest is
/// random: octet 1 of a Package #0 is 0x06/0x07 about once in 128, and the
/// "version" bits of a WSP push (which fall inside its Package #0's digest)
/// read 11 or 12 about once in 512. When both tests pass, the input is a
/// WSP push only if its body is itself a Package #0 (for a bare Package #0
/// whose random digest also decodes as WSP that would need a second,
/// independent version match inside the digest); otherwise it is a bare
/// Package #0.
pub fn detect(bytes: &[u8]) -> Result<PushInput, DetectError> {
    let wsp = match bytes.get(1) {
        Some(&t) if t == crate::wsp::PDU_TYPE_PUSH || t == crate::wsp::PDU_TYPE_CONFIRMED_PUSH => {
            WspPush::decode(bytes)
        }
        Some(&t) => Err(WspError::NotAPush { pdu_type: t }),
        None => Err(WspError::Truncated { field: "PDU type" }),
    };
    let bare = looks_like_package0(bytes);
    match (wsp, bare) {
        (Ok(push), false) => Ok(PushInput::Wsp(push)),
        (Ok(push), true) if looks_like_package0(&push.body) => Ok(PushInput::Wsp(push)),
        (_, true) => Ok(PushInput::BarePackage0),
        (Err(wsp), false) => Err(DetectError::Unrecognised { wsp }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wsp::{AppId, ContentType};

    const PKG0: &str =
        "cc6a83acbc1dabd527db6216ff2839ad02d000000001020e646d2e6578616d706c652e6e6574";

    fn pkg0() -> Vec<u8> {
        hex::decode(PKG0).unwrap()
    }

    #[test]
    fn takes_the_canonical_notification() {
        let push = WspPush::syncml_notification(1, &pkg0());
        assert_eq!(classify(&push), Ok(&pkg0()[..]));
    }

    #[test]
    fn takes_the_text_forms() {
        let push = WspPush::new(
            1,
            ContentType::text("Application/VND.SyncML.Notification"),
            Some(AppId::Text("x-wap-application:syncml.dm".into())),
            pkg0(),
        )
        .unwrap();
        assert!(classify(&push).is_ok());
    }

    #[test]
    fn refuses_mms_and_other_applications() {
        // 0x3E application/vnd.wap.mms-message for app id 0x04 (mms.ua).
        let mms = WspPush::new(
            1,
            ContentType::short(0x3e),
            Some(AppId::WellKnown(4)),
            vec![1],
        )
        .unwrap();
        let refusal = classify(&mms).unwrap_err();
        assert_eq!(
            refusal,
            PushRefusal::WrongContentType {
                content_type: "application/vnd.wap.mms-message".into()
            }
        );
        assert!(refusal.to_string().contains("mms-message"));

        let wrong_app = WspPush::new(
            1,
            ContentType::syncml_notification(),
            Some(AppId::WellKnown(2)),
            pkg0(),
        )
        .unwrap();
        assert_eq!(
            classify(&wrong_app),
            Err(PushRefusal::WrongApplicationId {
                app_id: "application id 0x02".into()
            })
        );

        let no_app = WspPush::new(1, ContentType::syncml_notification(), None, pkg0()).unwrap();
        assert_eq!(classify(&no_app), Err(PushRefusal::MissingApplicationId));

        let empty = WspPush::syncml_notification(1, &[]);
        assert_eq!(classify(&empty), Err(PushRefusal::EmptyBody));
    }

    #[test]
    fn refuses_dm_content_types_that_are_not_notifications() {
        // 0x42 is application/vnd.syncml.dm+wbxml: a DM message, not a trigger.
        let push = WspPush::new(
            1,
            ContentType::short(0x42),
            Some(AppId::WellKnown(7)),
            pkg0(),
        )
        .unwrap();
        assert!(matches!(
            classify(&push),
            Err(PushRefusal::WrongContentType { .. })
        ));
    }

    #[test]
    fn detects_bare_package0_and_wsp() {
        assert_eq!(detect(&pkg0()), Ok(PushInput::BarePackage0));
        let pdu = WspPush::syncml_notification(1, &pkg0()).encode().unwrap();
        assert!(matches!(detect(&pdu), Ok(PushInput::Wsp(_))));
        assert!(matches!(
            detect(&[0x00, 0x01, 0x02]),
            Err(DetectError::Unrecognised { .. })
        ));
        assert!(matches!(detect(&[]), Err(DetectError::Unrecognised { .. })));
    }

    #[test]
    fn ambiguity_is_resolved_towards_the_structured_reading() {
        // A Package #0 whose digest octet 1 is 0x06 and whose next octets
        // happen to form a WSP header: 00 06 01 C4 then digest filler.
        let mut bare = pkg0();
        bare[..4].copy_from_slice(&[0x00, 0x06, 0x01, 0xc4]);
        assert!(WspPush::decode(&bare).is_ok());
        assert_eq!(detect(&bare), Ok(PushInput::BarePackage0));

        // A WSP push whose Package #0 digest puts version 11 at PDU offset
        // 16: body starts at offset 6, so digest octets 10 and 11.
        let mut inner = pkg0();
        inner[10] = 0x02;
        inner[11] = 0xc0;
        // PDU offset 23 (inner octet 17, 0xD0) reads as a server-id length
        // of 208: vendor data makes it fit.
        inner.extend_from_slice(&[0x55; 200]);
        let pdu = WspPush::syncml_notification(1, &inner).encode().unwrap();
        assert!(looks_like_package0(&pdu));
        assert!(matches!(detect(&pdu), Ok(PushInput::Wsp(_))));
    }

    #[test]
    fn package0_shape_check() {
        let p = pkg0();
        assert!(looks_like_package0(&p));
        // Version 13 is not a Package #0.
        let mut v13 = p.clone();
        v13[16] = 0x03;
        v13[17] = 0x40;
        assert!(!looks_like_package0(&v13));
        // Server-id length longer than the input.
        assert!(!looks_like_package0(&p[..p.len() - 1]));
        assert!(!looks_like_package0(&p[..23]));
    }
}
