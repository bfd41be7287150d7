//! The WSP Content-type-value (WAP-230-WSP §8.4.2.24) in its three wire
//! forms: a well-known Short-integer, an Extension-media text, and the
//! Content-general-form (Value-length, media, parameters).

use std::fmt;

use super::values::{
    read_integer, read_text, read_uintvar, read_value_length, write_integer, write_text,
    write_value_length,
};
use super::WspError;
use crate::reader::Reader;

/// WINA content-type assignment for `application/vnd.syncml.notification`.
pub const SYNCML_NOTIFICATION: u32 = 0x44;
/// The text form of the same media type.
pub const SYNCML_NOTIFICATION_TEXT: &str = "application/vnd.syncml.notification";

/// WINA assignments we can name in messages (WAP-230 Appendix A, WINA
/// registry); any other number is shown in hex.
const WELL_KNOWN_MEDIA: &[(u32, &str)] = &[
    (0x2e, "application/vnd.wap.sic"),
    (0x30, "application/vnd.wap.slc"),
    (0x3e, "application/vnd.wap.mms-message"),
    (0x42, "application/vnd.syncml.dm+wbxml"),
    (0x43, "application/vnd.syncml.dm+xml"),
    (SYNCML_NOTIFICATION, SYNCML_NOTIFICATION_TEXT),
];

/// A media type, by WINA number or by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Media {
    WellKnown(u32),
    Text(String),
}

impl Media {
    /// The media type's name when it is known.
    pub fn name(&self) -> Option<&str> {
        match self {
            Media::WellKnown(code) => WELL_KNOWN_MEDIA
                .iter()
                .find(|(c, _)| c == code)
                .map(|(_, n)| *n),
            Media::Text(text) => Some(text),
        }
    }

    /// `application/vnd.syncml.notification`, in either form. Media type
    /// names are case-insensitive (RFC 2045 §5.1).
    pub fn is_syncml_notification(&self) -> bool {
        match self {
            Media::WellKnown(code) => *code == SYNCML_NOTIFICATION,
            Media::Text(text) => text.trim().eq_ignore_ascii_case(SYNCML_NOTIFICATION_TEXT),
        }
    }
}

impl fmt::Display for Media {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Media::Text(text) => f.write_str(text),
            Media::WellKnown(code) => match self.name() {
                Some(name) => f.write_str(name),
                None => write!(f, "well-known media 0x{code:02X}"),
            },
        }
    }
}

/// Which wire form carried the content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentTypeForm {
    /// One octet, `code | 0x80` (Constrained-media, Short-integer).
    ShortInteger,
    /// NUL-terminated media type (Constrained-media, Extension-media).
    Text,
    /// Value-length, media (integer or text), parameters.
    General,
}

/// A decoded Content-type-value. The parameters stay as their exact wire
/// bytes (`params_raw`) so nothing is lost; [`ContentType::parameters`]
/// decodes them on demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType {
    pub media: Media,
    pub form: ContentTypeForm,
    pub params_raw: Vec<u8>,
}

/// A parameter name: well-known (WAP-230 Table 38) or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamName {
    WellKnown(u64),
    Text(String),
}

/// A parameter value, decoded by its first octet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// No-value (a single 0x00).
    None,
    Integer(u64),
    Text(String),
    /// A length-prefixed value we do not interpret (dates, long values).
    Bytes(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: ParamName,
    pub value: ParamValue,
}

/// Well-known parameter 0x00 is Q, whose value is an uintvar (§8.4.2.4).
const PARAM_Q: u64 = 0x00;

impl ContentType {
    /// `application/vnd.syncml.notification` as the single octet 0xC4.
    pub fn syncml_notification() -> Self {
        ContentType::short(SYNCML_NOTIFICATION)
    }

    pub fn short(code: u32) -> Self {
        ContentType {
            media: Media::WellKnown(code),
            form: ContentTypeForm::ShortInteger,
            params_raw: Vec::new(),
        }
    }

    pub fn text(media: &str) -> Self {
        ContentType {
            media: Media::Text(media.to_owned()),
            form: ContentTypeForm::Text,
            params_raw: Vec::new(),
        }
    }

    /// The general form; `params_raw` are encoded parameters (see
    /// [`ContentType::encode_parameters`]).
    pub fn general(media: Media, params_raw: Vec<u8>) -> Self {
        ContentType {
            media,
            form: ContentTypeForm::General,
            params_raw,
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, WspError> {
        const FIELD: &str = "content type";
        let first = r.peek().ok_or(WspError::Truncated { field: FIELD })?;
        match first {
            0x80..=0xff => {
                r.u8(FIELD)?;
                Ok(ContentType::short(u32::from(first & 0x7f)))
            }
            32..=127 => Ok(ContentType {
                media: Media::Text(read_text(r, FIELD)?),
                form: ContentTypeForm::Text,
                params_raw: Vec::new(),
            }),
            _ => {
                let len = read_value_length(r, FIELD)?;
                let body = r.take(len, FIELD)?;
                let mut inner = Reader::new(body);
                let media = match inner.peek() {
                    Some(32..=127) => Media::Text(read_text(&mut inner, FIELD)?),
                    Some(_) => {
                        let code = read_integer(&mut inner, FIELD)?;
                        Media::WellKnown(u32::try_from(code).map_err(|_| WspError::Malformed {
                            field: FIELD,
                            reason: "well-known media number too large",
                        })?)
                    }
                    None => {
                        return Err(WspError::Malformed {
                            field: FIELD,
                            reason: "empty general form",
                        })
                    }
                };
                Ok(ContentType::general(media, inner.rest().to_vec()))
            }
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), WspError> {
        const FIELD: &str = "content type";
        match (self.form, &self.media) {
            (ContentTypeForm::ShortInteger, Media::WellKnown(code))
                if *code < 0x80 && self.params_raw.is_empty() =>
            {
                out.push(*code as u8 | 0x80);
                Ok(())
            }
            (ContentTypeForm::Text, Media::Text(text)) if self.params_raw.is_empty() => {
                write_text(out, text, FIELD)
            }
            (ContentTypeForm::General, media) => {
                let mut inner = Vec::new();
                match media {
                    Media::WellKnown(code) => write_integer(&mut inner, u64::from(*code)),
                    Media::Text(text) => write_text(&mut inner, text, FIELD)?,
                }
                inner.extend_from_slice(&self.params_raw);
                write_value_length(out, inner.len())?;
                out.extend_from_slice(&inner);
                Ok(())
            }
            _ => Err(WspError::Malformed {
                field: FIELD,
                reason: "form does not fit the media or parameters",
            }),
        }
    }

    /// Decodes `params_raw`: Typed-parameter (well-known name, typed value)
    /// or Untyped-parameter (token, integer or text) per §8.4.2.4.
    pub fn parameters(&self) -> Result<Vec<Parameter>, WspError> {
        const FIELD: &str = "content type parameter";
        let mut r = Reader::new(&self.params_raw);
        let mut params = Vec::new();
        while let Some(first) = r.peek() {
            let name = if (32..=127).contains(&first) {
                ParamName::Text(read_text(&mut r, FIELD)?)
            } else {
                ParamName::WellKnown(read_integer(&mut r, FIELD)?)
            };
            let value = if name == ParamName::WellKnown(PARAM_Q) {
                ParamValue::Integer(u64::from(read_uintvar(&mut r, FIELD)?))
            } else {
                match r.peek().ok_or(WspError::Truncated { field: FIELD })? {
                    0 => {
                        r.u8(FIELD)?;
                        ParamValue::None
                    }
                    0x80..=0xff => ParamValue::Integer(read_integer(&mut r, FIELD)?),
                    32..=127 => ParamValue::Text(read_text(&mut r, FIELD)?),
                    _ => {
                        let len = read_value_length(&mut r, FIELD)?;
                        ParamValue::Bytes(r.take(len, FIELD)?.to_vec())
                    }
                }
            };
            params.push(Parameter { name, value });
        }
        Ok(params)
    }

    /// Encodes parameters for [`ContentType::general`].
    pub fn encode_parameters(params: &[Parameter]) -> Result<Vec<u8>, WspError> {
        const FIELD: &str = "content type parameter";
        let mut out = Vec::new();
        for p in params {
            match &p.name {
                ParamName::WellKnown(code) => write_integer(&mut out, *code),
                ParamName::Text(text) => write_text(&mut out, text, FIELD)?,
            }
            match (&p.name, &p.value) {
                (ParamName::WellKnown(PARAM_Q), ParamValue::Integer(q)) => {
                    let q = u32::try_from(*q).map_err(|_| WspError::TooLong { field: FIELD })?;
                    super::values::write_uintvar(&mut out, q);
                }
                (ParamName::WellKnown(PARAM_Q), _) => {
                    return Err(WspError::Malformed {
                        field: FIELD,
                        reason: "Q takes an integer",
                    })
                }
                (_, ParamValue::None) => out.push(0),
                (_, ParamValue::Integer(v)) => write_integer(&mut out, *v),
                (_, ParamValue::Text(t)) => write_text(&mut out, t, FIELD)?,
                (_, ParamValue::Bytes(b)) => {
                    write_value_length(&mut out, b.len())?;
                    out.extend_from_slice(b);
                }
            }
        }
        Ok(out)
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.media.fmt(f)
    }
}
