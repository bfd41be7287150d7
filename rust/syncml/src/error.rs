//! Typed errors of the codecs. No variant carries message content: a
//! malformed message may hold credentials or nonces.

use thiserror::Error;

/// Why bytes could not be read as a SyncML DM message.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The body is neither XML (`<`) nor WBXML (version byte 0x01..0x03).
    #[error("body is neither SyncML XML nor WBXML")]
    UnknownEncoding,
    /// XML that quick-xml could not parse.
    #[error("malformed XML at byte {position}: {reason}")]
    Xml {
        /// Byte offset where parsing stopped.
        position: u64,
        /// Kind of fault (never message text).
        reason: &'static str,
    },
    /// WBXML that does not follow WAP-192.
    #[error("malformed WBXML at byte {position}: {reason}")]
    Wbxml {
        /// Byte offset where decoding stopped.
        position: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// The WBXML document type is not SyncML 1.2.
    #[error("WBXML public identifier {0:#x} is not SyncML 1.2 (0x1201)")]
    PublicId(u32),
    /// The WBXML charset is not UTF-8 (MIBenum 106).
    #[error("WBXML charset {0} is not UTF-8 (106)")]
    Charset(u32),
    /// An element name or token outside the SyncML 1.2 and MetInf tables.
    #[error("unknown element {0}")]
    UnknownElement(String),
    /// Nesting deeper than any DM message needs (guards the stack).
    #[error("elements nested deeper than {0}")]
    TooDeep(usize),
    /// Text and child elements mixed inside one element.
    #[error("element {0} mixes text and child elements")]
    MixedContent(&'static str),
    /// A known element where the DTD does not allow it.
    #[error("element {child} is not allowed inside {parent}")]
    Unexpected {
        /// The enclosing element.
        parent: &'static str,
        /// The misplaced element.
        child: &'static str,
    },
    /// A mandatory element is absent.
    #[error("{parent} lacks its mandatory {child}")]
    Missing {
        /// The enclosing element.
        parent: &'static str,
        /// The missing element.
        child: &'static str,
    },
    /// A leaf element was given children, or a container text.
    #[error("element {0} has the wrong kind of content")]
    Content(&'static str),
    /// A number field (CmdID, MsgID, status code, sizes) is not a number.
    #[error("element {0} is not a valid number")]
    Number(&'static str),
    /// Text that is not UTF-8.
    #[error("element {0} is not valid UTF-8")]
    Utf8(&'static str),
    /// Base64 text (NextNonce) that does not decode.
    #[error("element {0} is not valid Base64")]
    Base64(&'static str),
    /// The root element is not SyncML.
    #[error("root element is not SyncML")]
    Root,
}

/// Why a message could not be encoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// XML cannot carry this text (a control character XML 1.0 forbids).
    #[error("element {0} holds a character XML 1.0 cannot carry")]
    XmlChar(&'static str),
    /// XML has no opaque form and the bytes are not UTF-8 text.
    #[error("element {0} holds binary data XML cannot carry")]
    Binary(&'static str),
    /// WBXML inline strings end at a zero byte, so text cannot contain one.
    #[error("element {0} holds a NUL character WBXML inline strings cannot carry")]
    Nul(&'static str),
}
