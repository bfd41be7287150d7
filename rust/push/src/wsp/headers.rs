//! WSP headers (WAP-230-WSP §8.4.1, §8.4.2.6): well-known fields on code
//! pages, application headers as text, and X-Wap-Application-Id
//! (§8.4.2.54), the field that routes a push to the DM client.

use std::fmt;

use super::values::{read_integer, read_text, skip_value, write_integer, write_text};
use super::WspError;
use crate::reader::Reader;

/// Field name 0x2F on the default code page 1 (WSP 1.2 assignment).
pub const X_WAP_APPLICATION_ID: u8 = 0x2f;
/// OMNA push application id 0x07.
pub const SYNCML_DM_APP_ID: u64 = 0x07;
pub const SYNCML_DM_APP_ID_TEXT: &str = "x-wap-application:syncml.dm";

/// §8.4.2.6: Shift-delimiter then a page identity.
const SHIFT_DELIMITER: u8 = 127;
/// The default header code page.
const DEFAULT_PAGE: u8 = 1;

/// A header field name: well-known (a number on a code page) or text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldName {
    WellKnown { page: u8, code: u8 },
    Text(String),
}

/// One header as it appeared; `value` is the exact encoded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    pub name: FieldName,
    pub value: Vec<u8>,
}

/// The X-Wap-Application-Id value: App-assigned-code or Uri-value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AppId {
    WellKnown(u64),
    Text(String),
}

impl AppId {
    /// `x-wap-application:syncml.dm`, as 0x07 or as text (the scheme and
    /// name compared case-insensitively, as Android's WapPushOverSms does).
    pub fn is_syncml_dm(&self) -> bool {
        match self {
            AppId::WellKnown(code) => *code == SYNCML_DM_APP_ID,
            AppId::Text(text) => text.trim().eq_ignore_ascii_case(SYNCML_DM_APP_ID_TEXT),
        }
    }

    fn decode(value: &[u8]) -> Result<Self, WspError> {
        const FIELD: &str = "X-Wap-Application-Id";
        let mut r = Reader::new(value);
        let id = match r.peek() {
            Some(32..=127) => AppId::Text(read_text(&mut r, FIELD)?),
            _ => AppId::WellKnown(read_integer(&mut r, FIELD)?),
        };
        if !r.is_empty() {
            return Err(WspError::Malformed {
                field: FIELD,
                reason: "trailing octets in the value",
            });
        }
        Ok(id)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), WspError> {
        out.push(X_WAP_APPLICATION_ID | 0x80);
        match self {
            AppId::WellKnown(code) => write_integer(out, *code),
            AppId::Text(text) => write_text(out, text, "X-Wap-Application-Id")?,
        }
        Ok(())
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppId::WellKnown(SYNCML_DM_APP_ID) => f.write_str(SYNCML_DM_APP_ID_TEXT),
            AppId::WellKnown(code) => write!(f, "application id 0x{code:02X}"),
            AppId::Text(text) => f.write_str(text),
        }
    }
}

/// Splits the header block into fields, following code-page shifts.
pub fn parse_headers(block: &[u8]) -> Result<Vec<HeaderField>, WspError> {
    const FIELD: &str = "header";
    let mut r = Reader::new(block);
    let mut page = DEFAULT_PAGE;
    let mut fields = Vec::new();
    while let Some(first) = r.peek() {
        match first {
            0 => {
                return Err(WspError::Malformed {
                    field: FIELD,
                    reason: "octet 0 where a field name belongs",
                })
            }
            1..=31 => {
                // Short-cut-shift-delimiter: the octet is the page.
                r.u8(FIELD)?;
                page = first;
            }
            SHIFT_DELIMITER => {
                r.u8(FIELD)?;
                page = r.u8(FIELD)?;
            }
            0x80..=0xff => {
                r.u8(FIELD)?;
                let value = skip_value(&mut r, FIELD)?.to_vec();
                fields.push(HeaderField {
                    name: FieldName::WellKnown {
                        page,
                        code: first & 0x7f,
                    },
                    value,
                });
            }
            _ => {
                let name = read_text(&mut r, FIELD)?;
                let value = skip_value(&mut r, FIELD)?.to_vec();
                fields.push(HeaderField {
                    name: FieldName::Text(name),
                    value,
                });
            }
        }
    }
    Ok(fields)
}

/// The first X-Wap-Application-Id among the fields: the well-known field on
/// page 1, or an application header spelled `X-Wap-Application-Id`.
pub(crate) fn find_app_id(fields: &[HeaderField]) -> Result<Option<AppId>, WspError> {
    for field in fields {
        let is_app_id = match &field.name {
            FieldName::WellKnown { page, code } => {
                *page == DEFAULT_PAGE && *code == X_WAP_APPLICATION_ID
            }
            FieldName::Text(name) => name.eq_ignore_ascii_case("X-Wap-Application-Id"),
        };
        if is_app_id {
            return AppId::decode(&field.value).map(Some);
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_app_id_0xaf_0x87() {
        // Field 0x2F|0x80, value Short-integer 0x07|0x80.
        let fields = parse_headers(&[0xaf, 0x87]).unwrap();
        assert_eq!(find_app_id(&fields).unwrap(), Some(AppId::WellKnown(7)));
    }

    #[test]
    fn text_app_id_and_application_header() {
        // 0xAF then "x-wap-application:syncml.dm\0"; then an application
        // header "X-Foo\0" "bar\0".
        let mut block = vec![0xaf];
        block.extend_from_slice(b"x-wap-application:syncml.dm\0X-Foo\0bar\0");
        let fields = parse_headers(&block).unwrap();
        assert_eq!(fields.len(), 2);
        assert!(find_app_id(&fields).unwrap().unwrap().is_syncml_dm());
        assert_eq!(fields[1].name, FieldName::Text("X-Foo".into()));
        assert_eq!(fields[1].value, b"bar\0");
    }

    #[test]
    fn app_id_on_another_code_page_is_not_the_app_id() {
        // Short-cut shift to page 2, then 0xAF 0x87 means something else.
        let fields = parse_headers(&[0x02, 0xaf, 0x87]).unwrap();
        assert_eq!(find_app_id(&fields).unwrap(), None);
        // Shift-delimiter 127 back to page 1.
        let fields = parse_headers(&[0x02, 0x7f, 0x01, 0xaf, 0x87]).unwrap();
        assert_eq!(find_app_id(&fields).unwrap(), Some(AppId::WellKnown(7)));
    }

    #[test]
    fn long_integer_app_id() {
        // Long-integer: length 2, 0x0007 is still syncml.dm; 0x9000 is not.
        let fields = parse_headers(&[0xaf, 0x02, 0x00, 0x07, 0xaf, 0x02, 0x90, 0x00]).unwrap();
        assert!(find_app_id(&fields).unwrap().unwrap().is_syncml_dm());
        assert_eq!(fields.len(), 2);
    }

    #[test]
    fn truncated_header_value_is_an_error() {
        assert!(matches!(
            parse_headers(&[0xaf]),
            Err(WspError::Truncated { .. })
        ));
        assert!(matches!(
            parse_headers(&[0xaf, 0x05, 0x01]),
            Err(WspError::Truncated { .. })
        ));
    }
}
