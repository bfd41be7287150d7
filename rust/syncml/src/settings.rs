//! The session settings both roles share, including the points the
//! specifications leave open (docs/design.md, "Formats"; decided in
//! docs/syncml.md).

pub use dmnonce_proto::DefaultNonce;

use crate::Nonce;

/// Content type of SyncML DM XML.
pub const CONTENT_TYPE_XML: &str = "application/vnd.syncml.dm+xml";
/// Content type of SyncML DM WBXML.
pub const CONTENT_TYPE_WBXML: &str = "application/vnd.syncml.dm+wbxml";

/// Message encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// `application/vnd.syncml.dm+xml`.
    Xml,
    /// `application/vnd.syncml.dm+wbxml`.
    Wbxml,
}

impl Encoding {
    /// The HTTP content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Xml => CONTENT_TYPE_XML,
            Encoding::Wbxml => CONTENT_TYPE_WBXML,
        }
    }
    /// The encoding named by an HTTP content type (parameters ignored).
    pub fn from_content_type(ct: &str) -> Option<Encoding> {
        let base = ct.split(';').next().unwrap_or("").trim();
        if base.eq_ignore_ascii_case(CONTENT_TYPE_XML) {
            Some(Encoding::Xml)
        } else if base.eq_ignore_ascii_case(CONTENT_TYPE_WBXML) {
            Some(Encoding::Wbxml)
        } else {
            None
        }
    }
}

/// How messages are authenticated (OMA-TS-DM_Security-V1_2 §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthScheme {
    /// `syncml:auth-md5` Cred in the SyncHdr.
    Md5,
    /// `x-syncml-hmac` HTTP header (`syncml:auth-MAC`).
    Hmac,
}

/// How the 16-bit session id of Package #0 is written into `SessionID`.
///
/// The specifications leave it open (docs/design.md); the default is upper-case hexadecimal without
/// leading zeros (`0x0102` → `102`), what most handsets send. The server role
/// accepts either unless pinned ([`crate::ServerParams::session_id_format`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SessionIdFormat {
    /// Upper-case hex, no leading zeros: 258 → `102`.
    #[default]
    HexUpper,
    /// Decimal: 258 → `258`.
    Decimal,
}

impl SessionIdFormat {
    /// The `SessionID` text of a session id.
    pub fn format(self, id: u16) -> String {
        match self {
            SessionIdFormat::HexUpper => format!("{id:X}"),
            SessionIdFormat::Decimal => id.to_string(),
        }
    }
    /// The session id a `SessionID` text denotes in this format.
    pub fn parse(self, text: &str) -> Option<u16> {
        let t = text.trim();
        match self {
            SessionIdFormat::HexUpper => u16::from_str_radix(t, 16).ok(),
            SessionIdFormat::Decimal => t.parse().ok(),
        }
    }
}

/// The DevInfo values Pkg#1 reports (OMA DM standard object `./DevInfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevInfo {
    /// `./DevInfo/DevId`, also the SyncHdr Source LocURI.
    pub dev_id: String,
    /// `./DevInfo/Man`.
    pub man: String,
    /// `./DevInfo/Mod`.
    pub model: String,
    /// `./DevInfo/DmV`.
    pub dm_v: String,
    /// `./DevInfo/Lang`.
    pub lang: String,
}

/// The nonces a session's first credentials use: which kind of session it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartingNonces {
    /// A resync session (the change request, SCR-DM-NOTI-S-004): both
    /// sides start from the default nonce, in the reading the fallback
    /// Package #0 was signed with.
    Default(DefaultNonce),
    /// A normal session (a Package #0 signed with the stored server nonce):
    /// the nonces each side stored at the end of the last session.
    Stored {
        /// CLCRED AAuthData: Pkg#1's client credentials use it.
        client_nonce: Nonce,
        /// SRVCRED AAuthData: the server's credentials in Pkg#2 use it.
        server_nonce: Nonce,
    },
}

impl StartingNonces {
    /// The nonce the client's first credentials are computed with.
    pub fn client_nonce(&self) -> Nonce {
        match self {
            StartingNonces::Default(d) => Nonce::new(d.bytes()),
            StartingNonces::Stored { client_nonce, .. } => client_nonce.clone(),
        }
    }
    /// The nonce the server's first credentials are computed with.
    pub fn server_nonce(&self) -> Nonce {
        match self {
            StartingNonces::Default(d) => Nonce::new(d.bytes()),
            StartingNonces::Stored { server_nonce, .. } => server_nonce.clone(),
        }
    }
    /// Whether this is the change request's resync session.
    pub fn is_resync(&self) -> bool {
        matches!(self, StartingNonces::Default(_))
    }
}
