//! The typed SyncML DM 1.2 message model (OMA-TS-SyncML_RepPro-V1_2,
//! OMA-TS-DM_RepPro-V1_2): what a DM session carries.
//!
//! Commands a DM client must understand get a type of their own (Status,
//! Alert, Replace, Get, Results). Add, Delete, Exec, Copy, Atomic and
//! Sequence are kept whole as [`OpaqueCmd`] so that nothing is lost when a
//! message is read and written again; any other element in a body is
//! rejected by the decoders.
//!
//! `Debug` never prints credential data, nonces or item data (an item may
//! carry a new AAuthSecret): only sizes.

use std::fmt;

use crate::element::Element;

/// The SyncML version every DM 1.2 message declares.
pub const VER_DTD: &str = "1.2";
/// The DM protocol version.
pub const VER_PROTO: &str = "DM/1.2";

/// A whole message: `<SyncML><SyncHdr/><SyncBody/></SyncML>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncMl {
    /// The header.
    pub hdr: SyncHdr,
    /// The body.
    pub body: SyncBody,
}

/// `SyncHdr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncHdr {
    /// `VerDTD`, "1.2".
    pub ver_dtd: String,
    /// `VerProto`, "DM/1.2".
    pub ver_proto: String,
    /// `SessionID`, kept as text: its formatting is a setting
    /// ([`crate::SessionIdFormat`]).
    pub session_id: String,
    /// `MsgID`.
    pub msg_id: u32,
    /// `Target`: the receiver.
    pub target: Location,
    /// `Source`: the sender.
    pub source: Location,
    /// `RespURI`.
    pub resp_uri: Option<String>,
    /// `NoResp`.
    pub no_resp: bool,
    /// `Cred`.
    pub cred: Option<Cred>,
    /// `Meta` (MaxMsgSize, MaxObjSize).
    pub meta: Option<Meta>,
}

/// `Target` / `Source`: `LocURI` and an optional `LocName`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Location {
    /// `LocURI`.
    pub loc_uri: String,
    /// `LocName`.
    pub loc_name: Option<String>,
}

impl Location {
    /// A location with only a URI.
    pub fn uri(uri: impl Into<String>) -> Location {
        Location {
            loc_uri: uri.into(),
            loc_name: None,
        }
    }
}

/// `Cred`: `Meta` (Type, Format) and `Data`.
#[derive(Clone, PartialEq, Eq)]
pub struct Cred {
    /// `Meta`: Type `syncml:auth-md5` or `syncml:auth-basic`, Format `b64`.
    pub meta: Meta,
    /// `Data`: the credential text.
    pub data: String,
}

/// `Meta`, holding MetInf elements.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Meta {
    /// `Format` (`b64`, `chr`, `int`, …).
    pub format: Option<String>,
    /// `Type` (an auth type or a MIME type).
    pub type_: Option<String>,
    /// `Size`.
    pub size: Option<u64>,
    /// `NextNonce`, raw bytes (Base64 in XML and in inline WBXML strings,
    /// raw in WBXML opaque data).
    pub next_nonce: Option<Vec<u8>>,
    /// `MaxMsgSize`.
    pub max_msg_size: Option<u64>,
    /// `MaxObjSize`.
    pub max_obj_size: Option<u64>,
    /// Any other MetInf element (Anchor, Mem, EMI, …), kept as read.
    pub other: Vec<Element>,
}

/// `Chal` inside a `Status`: the nonce the receiver must use next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chal {
    /// `Meta`: Type, Format and NextNonce.
    pub meta: Meta,
}

/// `Item`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Item {
    /// `Target`.
    pub target: Option<Location>,
    /// `Source`.
    pub source: Option<Location>,
    /// `Meta`.
    pub meta: Option<Meta>,
    /// `Data` as text (WBXML opaque data must be UTF-8).
    pub data: Option<String>,
    /// `MoreData`.
    pub more_data: bool,
}

/// `Status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// `CmdID`.
    pub cmd_id: u32,
    /// `MsgRef`: the message the status answers.
    pub msg_ref: u32,
    /// `CmdRef`: the command it answers (0 for the SyncHdr).
    pub cmd_ref: u32,
    /// `Cmd`: the answered command's name.
    pub cmd: String,
    /// `TargetRef`s.
    pub target_refs: Vec<String>,
    /// `SourceRef`s.
    pub source_refs: Vec<String>,
    /// `Cred`.
    pub cred: Option<Cred>,
    /// `Chal`.
    pub chal: Option<Chal>,
    /// `Data`: the status code.
    pub code: u16,
    /// `Item`s.
    pub items: Vec<Item>,
}

/// `Alert`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// `CmdID`.
    pub cmd_id: u32,
    /// `NoResp`.
    pub no_resp: bool,
    /// `Cred`.
    pub cred: Option<Cred>,
    /// `Data`: the alert code (1200, 1201, 1222, 1226, …).
    pub code: u16,
    /// `Item`s.
    pub items: Vec<Item>,
}

/// `Replace` and `Get`: a command on DM tree nodes named by its items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemCmd {
    /// `CmdID`.
    pub cmd_id: u32,
    /// `NoResp`.
    pub no_resp: bool,
    /// `Cred`.
    pub cred: Option<Cred>,
    /// `Meta`.
    pub meta: Option<Meta>,
    /// `Item`s.
    pub items: Vec<Item>,
}

/// `Results`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Results {
    /// `CmdID`.
    pub cmd_id: u32,
    /// `MsgRef`.
    pub msg_ref: Option<u32>,
    /// `CmdRef`.
    pub cmd_ref: u32,
    /// `Meta`.
    pub meta: Option<Meta>,
    /// `TargetRef`s.
    pub target_refs: Vec<String>,
    /// `SourceRef`s.
    pub source_refs: Vec<String>,
    /// `Item`s.
    pub items: Vec<Item>,
}

/// A command kept whole: Add, Delete, Exec, Copy, Atomic or Sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpaqueCmd {
    cmd_id: u32,
    element: Element,
}

/// The command names kept as [`OpaqueCmd`].
pub const OPAQUE_COMMANDS: &[&str] = &["Add", "Delete", "Exec", "Copy", "Atomic", "Sequence"];

impl OpaqueCmd {
    /// Wrap an element; it must be one of [`OPAQUE_COMMANDS`] with a
    /// numeric `CmdID` child. Empty content is kept as
    /// [`Element::canonical`] makes it.
    pub fn new(element: Element) -> Result<OpaqueCmd, crate::DecodeError> {
        let element = element.canonical();
        let name = element.tag.name();
        if !OPAQUE_COMMANDS.contains(&name) {
            return Err(crate::DecodeError::Unexpected {
                parent: "SyncBody",
                child: name,
            });
        }
        let id = element.child("CmdID").ok_or(crate::DecodeError::Missing {
            parent: name,
            child: "CmdID",
        })?;
        let cmd_id = match &id.content {
            crate::element::Content::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or(crate::DecodeError::Number("CmdID"))?;
        Ok(OpaqueCmd { cmd_id, element })
    }
    /// `CmdID`.
    pub fn cmd_id(&self) -> u32 {
        self.cmd_id
    }
    /// The same command with another `CmdID` (CmdIDs are per message).
    pub fn with_cmd_id(&self, id: u32) -> OpaqueCmd {
        let mut element = self.element.clone();
        if let crate::element::Content::Children(children) = &mut element.content {
            for c in children.iter_mut().filter(|c| c.tag.name() == "CmdID") {
                c.content = crate::element::Content::Text(id.to_string());
            }
        }
        OpaqueCmd {
            cmd_id: id,
            element,
        }
    }
    /// The command's name (`Exec`, …).
    pub fn name(&self) -> &'static str {
        self.element.tag.name()
    }
    /// Whether the command carries `NoResp`: its sender wants no Status
    /// for it (RepPro 1.2 NoResp). Only a direct child counts; a `NoResp`
    /// of a command nested in an Atomic or Sequence is that command's.
    /// Elements are kept canonical, so `<NoResp/>`, `<NoResp></NoResp>`
    /// and both WBXML forms read the same.
    pub fn no_resp(&self) -> bool {
        self.element.child("NoResp").is_some()
    }
    /// The whole element.
    pub fn element(&self) -> &Element {
        &self.element
    }
}

/// One command of a `SyncBody`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `Status`.
    Status(Status),
    /// `Alert`.
    Alert(Alert),
    /// `Replace`.
    Replace(ItemCmd),
    /// `Get`.
    Get(ItemCmd),
    /// `Results`.
    Results(Results),
    /// Add, Delete, Exec, Copy, Atomic, Sequence.
    Opaque(OpaqueCmd),
}

impl Command {
    /// `CmdID`.
    pub fn cmd_id(&self) -> u32 {
        match self {
            Command::Status(s) => s.cmd_id,
            Command::Alert(a) => a.cmd_id,
            Command::Replace(c) | Command::Get(c) => c.cmd_id,
            Command::Results(r) => r.cmd_id,
            Command::Opaque(o) => o.cmd_id,
        }
    }
    /// The element name.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Status(_) => "Status",
            Command::Alert(_) => "Alert",
            Command::Replace(_) => "Replace",
            Command::Get(_) => "Get",
            Command::Results(_) => "Results",
            Command::Opaque(o) => o.name(),
        }
    }
}

/// `SyncBody`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SyncBody {
    /// The commands, in order.
    pub commands: Vec<Command>,
    /// `Final`: the last message of its package.
    pub final_: bool,
}

impl fmt::Debug for Cred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cred")
            .field("meta", &self.meta)
            .field("data", &format_args!("[{} chars]", self.data.len()))
            .finish()
    }
}

impl fmt::Debug for Meta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Meta")
            .field("format", &self.format)
            .field("type", &self.type_)
            .field("size", &self.size)
            .field(
                "next_nonce",
                &self
                    .next_nonce
                    .as_ref()
                    .map(|n| format!("[{} bytes]", n.len())),
            )
            .field("max_msg_size", &self.max_msg_size)
            .field("max_obj_size", &self.max_obj_size)
            .field("other", &self.other)
            .finish()
    }
}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Item")
            .field("target", &self.target)
            .field("source", &self.source)
            .field("meta", &self.meta)
            .field(
                "data",
                &self.data.as_ref().map(|d| format!("[{} chars]", d.len())),
            )
            .field("more_data", &self.more_data)
            .finish()
    }
}
