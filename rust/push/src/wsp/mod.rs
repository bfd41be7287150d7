//! Connectionless WSP Push PDU (WAP-230-WSP §8.2.4.1, §8.2.1): TID, PDU
//! type, HeadersLen, ContentType, Headers, Data. This is what arrives on
//! WDP port 2948 and what ofono hands a push agent (TID first).

mod content_type;
mod headers;
pub(crate) mod values;

pub use content_type::{
    ContentType, ContentTypeForm, Media, ParamName, ParamValue, Parameter, SYNCML_NOTIFICATION,
    SYNCML_NOTIFICATION_TEXT,
};
pub use headers::{
    parse_headers, AppId, FieldName, HeaderField, SYNCML_DM_APP_ID, SYNCML_DM_APP_ID_TEXT,
    X_WAP_APPLICATION_ID,
};

use crate::reader::Reader;
use values::{read_uintvar, write_uintvar};

/// WAP-230 Table 34 PDU type assignments.
pub const PDU_TYPE_PUSH: u8 = 0x06;
pub const PDU_TYPE_CONFIRMED_PUSH: u8 = 0x07;

/// Push or ConfirmedPush. WSP defines ConfirmedPush for connection-mode
/// sessions only, where the client acknowledges it; over SMS there is no
/// session to acknowledge on, and Android's WapPushOverSms takes both
/// types alike. We decode both and record which one came; nothing is sent
/// back either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PduType {
    Push,
    ConfirmedPush,
}

impl PduType {
    pub fn octet(self) -> u8 {
        match self {
            PduType::Push => PDU_TYPE_PUSH,
            PduType::ConfirmedPush => PDU_TYPE_CONFIRMED_PUSH,
        }
    }
}

/// Why a WSP PDU could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WspError {
    #[error("WSP PDU truncated while reading the {field}")]
    Truncated { field: &'static str },
    #[error("WSP {field}: uintvar longer than 32 bits")]
    UintvarOverflow { field: &'static str },
    #[error("WSP {field} malformed: {reason}")]
    Malformed {
        field: &'static str,
        reason: &'static str,
    },
    #[error("WSP {field} too long to encode")]
    TooLong { field: &'static str },
    #[error("WSP PDU type 0x{pdu_type:02X} is not a Push (0x06) or ConfirmedPush (0x07)")]
    NotAPush { pdu_type: u8 },
}

/// A decoded connectionless push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WspPush {
    pub tid: u8,
    pub pdu_type: PduType,
    pub content_type: ContentType,
    /// X-Wap-Application-Id, when the headers carry one.
    pub app_id: Option<AppId>,
    /// The header block after the content type, exactly as received
    /// (this is what Android passes as the `header` extra).
    pub headers: Vec<u8>,
    /// The push data: for a DM notification, the Package #0.
    pub body: Vec<u8>,
}

impl WspPush {
    /// Decodes a whole connectionless push PDU (TID first).
    pub fn decode(bytes: &[u8]) -> Result<Self, WspError> {
        let mut r = Reader::new(bytes);
        let tid = r.u8("transaction id")?;
        let pdu_type = match r.u8("PDU type")? {
            PDU_TYPE_PUSH => PduType::Push,
            PDU_TYPE_CONFIRMED_PUSH => PduType::ConfirmedPush,
            other => return Err(WspError::NotAPush { pdu_type: other }),
        };
        let headers_len = read_uintvar(&mut r, "headers length")?;
        let headers_len = usize::try_from(headers_len).map_err(|_| WspError::TooLong {
            field: "headers length",
        })?;
        let block = r.take(headers_len, "content type and headers")?;
        let mut hr = Reader::new(block);
        let content_type = ContentType::decode(&mut hr)?;
        let headers = hr.rest().to_vec();
        let fields = parse_headers(&headers)?;
        let app_id = headers::find_app_id(&fields)?;
        Ok(WspPush {
            tid,
            pdu_type,
            content_type,
            app_id,
            headers,
            body: r.rest().to_vec(),
        })
    }

    /// A push whose header block holds only the application id (if any).
    pub fn new(
        tid: u8,
        content_type: ContentType,
        app_id: Option<AppId>,
        body: Vec<u8>,
    ) -> Result<Self, WspError> {
        let mut headers = Vec::new();
        if let Some(id) = &app_id {
            id.encode(&mut headers)?;
        }
        Ok(WspPush {
            tid,
            pdu_type: PduType::Push,
            content_type,
            app_id,
            headers,
            body,
        })
    }

    /// The canonical DM notification push: `C4 AF 87` then the Package #0.
    pub fn syncml_notification(tid: u8, package0: &[u8]) -> Self {
        WspPush {
            tid,
            pdu_type: PduType::Push,
            content_type: ContentType::syncml_notification(),
            app_id: Some(AppId::WellKnown(SYNCML_DM_APP_ID)),
            headers: vec![X_WAP_APPLICATION_ID | 0x80, SYNCML_DM_APP_ID as u8 | 0x80],
            body: package0.to_vec(),
        }
    }

    /// Encodes the PDU. `headers` is authoritative: `app_id` is not
    /// re-encoded, so build with [`WspPush::new`] to keep them in step.
    pub fn encode(&self) -> Result<Vec<u8>, WspError> {
        let mut block = Vec::new();
        self.content_type.encode(&mut block)?;
        block.extend_from_slice(&self.headers);
        let block_len =
            u32::try_from(block.len()).map_err(|_| WspError::TooLong { field: "headers" })?;
        let mut out = Vec::with_capacity(block.len() + self.body.len() + 7);
        out.push(self.tid);
        out.push(self.pdu_type.octet());
        write_uintvar(&mut out, block_len);
        out.extend_from_slice(&block);
        out.extend_from_slice(&self.body);
        Ok(out)
    }

    /// Every header field (the app id included), in order.
    pub fn header_fields(&self) -> Result<Vec<HeaderField>, WspError> {
        parse_headers(&self.headers)
    }
}

#[cfg(test)]
mod tests;
