//! The generic element tree both codecs speak.
//!
//! SyncML has no attributes that carry meaning (only `xmlns`) and no mixed
//! content, so an element is a tag plus either children, text or opaque
//! bytes. Both the XML and the WBXML codec translate bytes to and from this
//! tree; the (private) mapping module turns it into the typed model. Keeping one tree
//! means the two encodings cannot disagree about what a message says.
//!
//! Only tags of the SyncML 1.2 (code page 0) and MetInf (code page 1) tables
//! exist here: an unknown element is rejected by the decoders with a typed
//! error, never dropped.

use std::fmt;

/// WBXML code page of a tag: SyncML (0) or MetInf (1), as in the SyncML
/// RepPro 1.2 WBXML tables and libwbxml's `wbxml_tables.c`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodePage {
    /// `SYNCML:SYNCML1.2`, code page 0.
    SyncMl = 0,
    /// `syncml:metinf`, code page 1.
    MetInf = 1,
}

impl CodePage {
    /// The XML namespace of the page.
    pub fn namespace(self) -> &'static str {
        match self {
            CodePage::SyncMl => "SYNCML:SYNCML1.2",
            CodePage::MetInf => "syncml:metinf",
        }
    }
}

/// A SyncML or MetInf element name, with its WBXML token.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag {
    page: CodePage,
    token: u8,
    name: &'static str,
}

const fn t(page: CodePage, token: u8, name: &'static str) -> Tag {
    Tag { page, token, name }
}

use CodePage::{MetInf as M, SyncMl as S};

/// Every tag of code pages 0 and 1 (token 0x30 of page 0 is reserved).
pub const TAGS: &[Tag] = &[
    t(S, 0x05, "Add"),
    t(S, 0x06, "Alert"),
    t(S, 0x07, "Archive"),
    t(S, 0x08, "Atomic"),
    t(S, 0x09, "Chal"),
    t(S, 0x0A, "Cmd"),
    t(S, 0x0B, "CmdID"),
    t(S, 0x0C, "CmdRef"),
    t(S, 0x0D, "Copy"),
    t(S, 0x0E, "Cred"),
    t(S, 0x0F, "Data"),
    t(S, 0x10, "Delete"),
    t(S, 0x11, "Exec"),
    t(S, 0x12, "Final"),
    t(S, 0x13, "Get"),
    t(S, 0x14, "Item"),
    t(S, 0x15, "Lang"),
    t(S, 0x16, "LocName"),
    t(S, 0x17, "LocURI"),
    t(S, 0x18, "Map"),
    t(S, 0x19, "MapItem"),
    t(S, 0x1A, "Meta"),
    t(S, 0x1B, "MsgID"),
    t(S, 0x1C, "MsgRef"),
    t(S, 0x1D, "NoResp"),
    t(S, 0x1E, "NoResults"),
    t(S, 0x1F, "Put"),
    t(S, 0x20, "Replace"),
    t(S, 0x21, "RespURI"),
    t(S, 0x22, "Results"),
    t(S, 0x23, "Search"),
    t(S, 0x24, "Sequence"),
    t(S, 0x25, "SessionID"),
    t(S, 0x26, "SftDel"),
    t(S, 0x27, "Source"),
    t(S, 0x28, "SourceRef"),
    t(S, 0x29, "Status"),
    t(S, 0x2A, "Sync"),
    t(S, 0x2B, "SyncBody"),
    t(S, 0x2C, "SyncHdr"),
    t(S, 0x2D, "SyncML"),
    t(S, 0x2E, "Target"),
    t(S, 0x2F, "TargetRef"),
    t(S, 0x31, "VerDTD"),
    t(S, 0x32, "VerProto"),
    t(S, 0x33, "NumberOfChanges"),
    t(S, 0x34, "MoreData"),
    t(S, 0x35, "Field"),
    t(S, 0x36, "Filter"),
    t(S, 0x37, "Record"),
    t(S, 0x38, "FilterType"),
    t(S, 0x39, "SourceParent"),
    t(S, 0x3A, "TargetParent"),
    t(S, 0x3B, "Move"),
    t(S, 0x3C, "Correlator"),
    t(M, 0x05, "Anchor"),
    t(M, 0x06, "EMI"),
    t(M, 0x07, "Format"),
    t(M, 0x08, "FreeID"),
    t(M, 0x09, "FreeMem"),
    t(M, 0x0A, "Last"),
    t(M, 0x0B, "Mark"),
    t(M, 0x0C, "MaxMsgSize"),
    t(M, 0x0D, "Mem"),
    t(M, 0x0E, "MetInf"),
    t(M, 0x0F, "Next"),
    t(M, 0x10, "NextNonce"),
    t(M, 0x11, "SharedMem"),
    t(M, 0x12, "Size"),
    t(M, 0x13, "Type"),
    t(M, 0x14, "Version"),
    t(M, 0x15, "MaxObjSize"),
    t(M, 0x16, "FieldLevel"),
];

impl Tag {
    /// The element name (the same in both namespaces' XML).
    pub fn name(self) -> &'static str {
        self.name
    }
    /// The WBXML code page.
    pub fn page(self) -> CodePage {
        self.page
    }
    /// The WBXML token (without the content/attribute bits).
    pub fn token(self) -> u8 {
        self.token
    }
    /// Look a tag up by element name. The two pages share no name, so the
    /// name alone identifies the tag whatever namespace prefix a peer used.
    pub fn by_name(name: &str) -> Option<Tag> {
        TAGS.iter().copied().find(|t| t.name == name)
    }
    /// Look a tag up by WBXML page and token.
    pub fn by_token(page: u8, token: u8) -> Option<Tag> {
        TAGS.iter()
            .copied()
            .find(|t| t.page as u8 == page && t.token == token)
    }
    /// A tag known to exist (names used by this crate itself).
    pub(crate) fn named(name: &'static str) -> Tag {
        // The names passed here are literals from this crate, all in TAGS;
        // the fallback keeps the function total.
        Tag::by_name(name).unwrap_or(Tag {
            page: CodePage::SyncMl,
            token: 0x0F,
            name: "Data",
        })
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// What an element holds.
#[derive(Clone, PartialEq, Eq)]
pub enum Content {
    /// `<Final/>`.
    Empty,
    /// Character data (XML text or CDATA, WBXML inline/table strings).
    Text(String),
    /// WBXML opaque data (`C3 len bytes`). XML has no opaque form: the
    /// mapping turns it into text or decoded bytes where the model expects.
    Opaque(Vec<u8>),
    /// Child elements.
    Children(Vec<Element>),
}

/// One element of a SyncML message.
#[derive(Clone, PartialEq, Eq)]
pub struct Element {
    /// The element's tag.
    pub tag: Tag,
    /// The element's content.
    pub content: Content,
}

impl Element {
    /// An element with children.
    pub fn parent(name: &'static str, children: Vec<Element>) -> Element {
        Element {
            tag: Tag::named(name),
            content: Content::Children(children),
        }
    }
    /// An element with text.
    pub fn text(name: &'static str, text: impl Into<String>) -> Element {
        Element {
            tag: Tag::named(name),
            content: Content::Text(text.into()),
        }
    }
    /// An empty element.
    pub fn empty(name: &'static str) -> Element {
        Element {
            tag: Tag::named(name),
            content: Content::Empty,
        }
    }
    /// The children (empty for leaf elements).
    pub fn children(&self) -> &[Element] {
        match &self.content {
            Content::Children(c) => c,
            _ => &[],
        }
    }
    /// The element with empty content made [`Content::Empty`]:
    /// `<EMI></EMI>`, `<EMI/>` and a WBXML tag holding an empty inline
    /// string say the same, so elements kept as read compare equal
    /// whichever encoding they came from.
    pub fn canonical(&self) -> Element {
        let content = match &self.content {
            Content::Text(t) if t.is_empty() => Content::Empty,
            Content::Opaque(b) if b.is_empty() => Content::Empty,
            Content::Children(c) if c.is_empty() => Content::Empty,
            Content::Children(c) => Content::Children(c.iter().map(Element::canonical).collect()),
            other => other.clone(),
        };
        Element {
            tag: self.tag,
            content,
        }
    }
    /// The first child with the given name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children().iter().find(|c| c.tag.name() == name)
    }
}

// Element content may be a credential, a nonce or a secret being written to
// the DM tree (AAuthSecret): debug output shows shape and sizes only.
impl fmt::Debug for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.content {
            Content::Empty => write!(f, "<{}/>", self.tag.name),
            Content::Text(s) => write!(f, "<{}>[{} chars]", self.tag.name, s.len()),
            Content::Opaque(b) => write!(f, "<{}>[{} opaque bytes]", self.tag.name, b.len()),
            Content::Children(c) => {
                write!(f, "<{}>", self.tag.name)?;
                f.debug_list().entries(c).finish()
            }
        }
    }
}

impl fmt::Debug for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Content::Empty => f.write_str("Empty"),
            Content::Text(s) => write!(f, "Text([{} chars])", s.len()),
            Content::Opaque(b) => write!(f, "Opaque([{} bytes])", b.len()),
            Content::Children(c) => f.debug_list().entries(c).finish(),
        }
    }
}
