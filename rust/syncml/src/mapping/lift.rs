//! Element tree → typed model, strictly: a known element where the DTD
//! does not allow it, a repeated singleton, or a missing mandatory element
//! is a typed error.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::element::{Content, Element};
use crate::model::*;
use crate::DecodeError;

type R<T> = Result<T, DecodeError>;

/// The typed message of an element tree.
pub fn lift(root: &Element) -> R<SyncMl> {
    if root.tag.name() != "SyncML" {
        return Err(DecodeError::Root);
    }
    let kids = children(root)?;
    let mut hdr = None;
    let mut body = None;
    for k in kids {
        match k.tag.name() {
            "SyncHdr" if hdr.is_none() => hdr = Some(lift_hdr(k)?),
            "SyncBody" if body.is_none() && hdr.is_some() => body = Some(lift_body(k)?),
            other => return Err(unexpected("SyncML", other)),
        }
    }
    Ok(SyncMl {
        hdr: hdr.ok_or(missing("SyncML", "SyncHdr"))?,
        body: body.ok_or(missing("SyncML", "SyncBody"))?,
    })
}

fn unexpected(parent: &'static str, child: &'static str) -> DecodeError {
    DecodeError::Unexpected { parent, child }
}

fn missing(parent: &'static str, child: &'static str) -> DecodeError {
    DecodeError::Missing { parent, child }
}

fn children(e: &Element) -> R<&[Element]> {
    match &e.content {
        Content::Children(c) => Ok(c),
        Content::Empty => Ok(&[]),
        // Indentation inside an otherwise empty container.
        Content::Text(s) if s.trim().is_empty() => Ok(&[]),
        _ => Err(DecodeError::Content(e.tag.name())),
    }
}

fn text(e: &Element) -> R<String> {
    match &e.content {
        Content::Text(s) => Ok(s.clone()),
        Content::Empty => Ok(String::new()),
        Content::Opaque(b) => {
            String::from_utf8(b.clone()).map_err(|_| DecodeError::Utf8(e.tag.name()))
        }
        Content::Children(_) => Err(DecodeError::Content(e.tag.name())),
    }
}

fn number<T: std::str::FromStr>(e: &Element) -> R<T> {
    text(e)?
        .trim()
        .parse()
        .map_err(|_| DecodeError::Number(e.tag.name()))
}

fn flag(e: &Element) -> R<bool> {
    match e.content {
        Content::Empty => Ok(true),
        _ => Err(DecodeError::Content(e.tag.name())),
    }
}

/// Sets a singleton field once; a second occurrence is an error.
fn once<T>(slot: &mut Option<T>, parent: &'static str, e: &Element, v: R<T>) -> R<()> {
    if slot.is_some() {
        return Err(unexpected(parent, e.tag.name()));
    }
    *slot = Some(v?);
    Ok(())
}

fn lift_hdr(e: &Element) -> R<SyncHdr> {
    const P: &str = "SyncHdr";
    let (mut dtd, mut proto, mut sid, mut msg, mut tgt, mut src) =
        (None, None, None, None, None, None);
    let (mut resp, mut noresp, mut cred, mut meta) = (None, None, None, None);
    for k in children(e)? {
        match k.tag.name() {
            "VerDTD" => once(&mut dtd, P, k, text(k))?,
            "VerProto" => once(&mut proto, P, k, text(k))?,
            "SessionID" => once(&mut sid, P, k, text(k))?,
            "MsgID" => once(&mut msg, P, k, number(k))?,
            "Target" => once(&mut tgt, P, k, lift_loc(k))?,
            "Source" => once(&mut src, P, k, lift_loc(k))?,
            "RespURI" => once(&mut resp, P, k, text(k))?,
            "NoResp" => once(&mut noresp, P, k, flag(k))?,
            "Cred" => once(&mut cred, P, k, lift_cred(k))?,
            "Meta" => once(&mut meta, P, k, lift_meta(k))?,
            other => return Err(unexpected(P, other)),
        }
    }
    Ok(SyncHdr {
        ver_dtd: dtd.ok_or(missing(P, "VerDTD"))?,
        ver_proto: proto.ok_or(missing(P, "VerProto"))?,
        session_id: sid.ok_or(missing(P, "SessionID"))?,
        msg_id: msg.ok_or(missing(P, "MsgID"))?,
        target: tgt.ok_or(missing(P, "Target"))?,
        source: src.ok_or(missing(P, "Source"))?,
        resp_uri: resp,
        no_resp: noresp.unwrap_or(false),
        cred,
        meta,
    })
}

fn lift_loc(e: &Element) -> R<Location> {
    let p = e.tag.name();
    let (mut uri, mut name) = (None, None);
    for k in children(e)? {
        match k.tag.name() {
            "LocURI" => once(&mut uri, p, k, text(k))?,
            "LocName" => once(&mut name, p, k, text(k))?,
            other => return Err(unexpected(p, other)),
        }
    }
    Ok(Location {
        loc_uri: uri.ok_or(missing(p, "LocURI"))?,
        loc_name: name,
    })
}

fn lift_cred(e: &Element) -> R<Cred> {
    const P: &str = "Cred";
    let (mut meta, mut data) = (None, None);
    for k in children(e)? {
        match k.tag.name() {
            "Meta" => once(&mut meta, P, k, lift_meta(k))?,
            "Data" => once(&mut data, P, k, text(k))?,
            other => return Err(unexpected(P, other)),
        }
    }
    Ok(Cred {
        meta: meta.unwrap_or_default(),
        data: data.ok_or(missing(P, "Data"))?,
    })
}

fn lift_meta(e: &Element) -> R<Meta> {
    const P: &str = "Meta";
    let mut m = Meta::default();
    let (mut format, mut type_, mut size, mut nonce, mut mms, mut mos) =
        (None, None, None, None, None, None);
    for k in children(e)? {
        match k.tag.name() {
            "Format" => once(&mut format, P, k, text(k))?,
            "Type" => once(&mut type_, P, k, text(k))?,
            "Size" => once(&mut size, P, k, number(k))?,
            "NextNonce" => once(&mut nonce, P, k, next_nonce(k))?,
            "MaxMsgSize" => once(&mut mms, P, k, number(k))?,
            "MaxObjSize" => once(&mut mos, P, k, number(k))?,
            _ if k.tag.page() == crate::element::CodePage::MetInf => m.other.push(k.canonical()),
            other => return Err(unexpected(P, other)),
        }
    }
    m.format = format;
    m.type_ = type_;
    m.size = size;
    m.next_nonce = nonce;
    m.max_msg_size = mms;
    m.max_obj_size = mos;
    Ok(m)
}

/// NextNonce is Base64 text, except as WBXML opaque data, where libwbxml and
/// handset encoders put the raw nonce bytes.
fn next_nonce(e: &Element) -> R<Vec<u8>> {
    match &e.content {
        Content::Opaque(b) => Ok(b.clone()),
        _ => STANDARD
            .decode(text(e)?.trim())
            .map_err(|_| DecodeError::Base64("NextNonce")),
    }
}

fn lift_item(e: &Element) -> R<Item> {
    const P: &str = "Item";
    let (mut tgt, mut src, mut meta, mut data, mut more) = (None, None, None, None, None);
    for k in children(e)? {
        match k.tag.name() {
            "Target" => once(&mut tgt, P, k, lift_loc(k))?,
            "Source" => once(&mut src, P, k, lift_loc(k))?,
            "Meta" => once(&mut meta, P, k, lift_meta(k))?,
            "Data" => once(&mut data, P, k, text(k))?,
            "MoreData" => once(&mut more, P, k, flag(k))?,
            other => return Err(unexpected(P, other)),
        }
    }
    Ok(Item {
        target: tgt,
        source: src,
        meta,
        data,
        more_data: more.unwrap_or(false),
    })
}

fn lift_body(e: &Element) -> R<SyncBody> {
    const P: &str = "SyncBody";
    let mut body = SyncBody::default();
    for k in children(e)? {
        if body.final_ {
            // Final closes the body (DTD: commands then Final?).
            return Err(unexpected(P, k.tag.name()));
        }
        let cmd = match k.tag.name() {
            "Final" => {
                body.final_ = flag(k)?;
                continue;
            }
            "Status" => Command::Status(lift_status(k)?),
            "Alert" => Command::Alert(lift_alert(k)?),
            "Replace" => Command::Replace(lift_item_cmd(k)?),
            "Get" => Command::Get(lift_item_cmd(k)?),
            "Results" => Command::Results(lift_results(k)?),
            _ => Command::Opaque(OpaqueCmd::new(k.clone())?),
        };
        body.commands.push(cmd);
    }
    Ok(body)
}

fn lift_status(e: &Element) -> R<Status> {
    const P: &str = "Status";
    let (mut id, mut mref, mut cref, mut cmd, mut cred, mut chal, mut data) =
        (None, None, None, None, None, None, None);
    let (mut trefs, mut srefs, mut items) = (Vec::new(), Vec::new(), Vec::new());
    for k in children(e)? {
        match k.tag.name() {
            "CmdID" => once(&mut id, P, k, number(k))?,
            "MsgRef" => once(&mut mref, P, k, number(k))?,
            "CmdRef" => once(&mut cref, P, k, number(k))?,
            "Cmd" => once(&mut cmd, P, k, text(k))?,
            "TargetRef" => trefs.push(text(k)?),
            "SourceRef" => srefs.push(text(k)?),
            "Cred" => once(&mut cred, P, k, lift_cred(k))?,
            "Chal" => once(&mut chal, P, k, lift_chal(k))?,
            "Data" => once(&mut data, P, k, number(k))?,
            "Item" => items.push(lift_item(k)?),
            other => return Err(unexpected(P, other)),
        }
    }
    Ok(Status {
        cmd_id: id.ok_or(missing(P, "CmdID"))?,
        msg_ref: mref.ok_or(missing(P, "MsgRef"))?,
        cmd_ref: cref.ok_or(missing(P, "CmdRef"))?,
        cmd: cmd.ok_or(missing(P, "Cmd"))?,
        target_refs: trefs,
        source_refs: srefs,
        cred,
        chal,
        code: data.ok_or(missing(P, "Data"))?,
        items,
    })
}

fn lift_chal(e: &Element) -> R<Chal> {
    let mut meta = None;
    for k in children(e)? {
        match k.tag.name() {
            "Meta" => once(&mut meta, "Chal", k, lift_meta(k))?,
            other => return Err(unexpected("Chal", other)),
        }
    }
    Ok(Chal {
        meta: meta.ok_or(missing("Chal", "Meta"))?,
    })
}

fn lift_alert(e: &Element) -> R<Alert> {
    const P: &str = "Alert";
    let (mut id, mut noresp, mut cred, mut data) = (None, None, None, None);
    let mut items = Vec::new();
    for k in children(e)? {
        match k.tag.name() {
            "CmdID" => once(&mut id, P, k, number(k))?,
            "NoResp" => once(&mut noresp, P, k, flag(k))?,
            "Cred" => once(&mut cred, P, k, lift_cred(k))?,
            "Data" => once(&mut data, P, k, number(k))?,
            "Item" => items.push(lift_item(k)?),
            other => return Err(unexpected(P, other)),
        }
    }
    Ok(Alert {
        cmd_id: id.ok_or(missing(P, "CmdID"))?,
        no_resp: noresp.unwrap_or(false),
        cred,
        code: data.ok_or(missing(P, "Data"))?,
        items,
    })
}

fn lift_item_cmd(e: &Element) -> R<ItemCmd> {
    let p = e.tag.name();
    let (mut id, mut noresp, mut cred, mut meta) = (None, None, None, None);
    let mut items = Vec::new();
    for k in children(e)? {
        match k.tag.name() {
            "CmdID" => once(&mut id, p, k, number(k))?,
            "NoResp" => once(&mut noresp, p, k, flag(k))?,
            "Cred" => once(&mut cred, p, k, lift_cred(k))?,
            "Meta" => once(&mut meta, p, k, lift_meta(k))?,
            "Item" => items.push(lift_item(k)?),
            other => return Err(unexpected(p, other)),
        }
    }
    Ok(ItemCmd {
        cmd_id: id.ok_or(missing(p, "CmdID"))?,
        no_resp: noresp.unwrap_or(false),
        cred,
        meta,
        items,
    })
}

fn lift_results(e: &Element) -> R<Results> {
    const P: &str = "Results";
    let (mut id, mut mref, mut cref, mut meta) = (None, None, None, None);
    let (mut trefs, mut srefs, mut items) = (Vec::new(), Vec::new(), Vec::new());
    for k in children(e)? {
        match k.tag.name() {
            "CmdID" => once(&mut id, P, k, number(k))?,
            "MsgRef" => once(&mut mref, P, k, number(k))?,
            "CmdRef" => once(&mut cref, P, k, number(k))?,
            "Meta" => once(&mut meta, P, k, lift_meta(k))?,
            "TargetRef" => trefs.push(text(k)?),
            "SourceRef" => srefs.push(text(k)?),
            "Item" => items.push(lift_item(k)?),
            other => return Err(unexpected(P, other)),
        }
    }
    Ok(Results {
        cmd_id: id.ok_or(missing(P, "CmdID"))?,
        msg_ref: mref,
        cmd_ref: cref.ok_or(missing(P, "CmdRef"))?,
        meta,
        target_refs: trefs,
        source_refs: srefs,
        items,
    })
}
