//! Typed model → element tree, children in SyncML RepPro 1.2 DTD order.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::element::Element;
use crate::model::*;

/// The element tree of a message.
pub fn lower(msg: &SyncMl) -> Element {
    Element::parent("SyncML", vec![lower_hdr(&msg.hdr), lower_body(&msg.body)])
}

fn lower_hdr(h: &SyncHdr) -> Element {
    let mut c = vec![
        Element::text("VerDTD", h.ver_dtd.clone()),
        Element::text("VerProto", h.ver_proto.clone()),
        Element::text("SessionID", h.session_id.clone()),
        Element::text("MsgID", h.msg_id.to_string()),
        lower_loc("Target", &h.target),
        lower_loc("Source", &h.source),
    ];
    if let Some(r) = &h.resp_uri {
        c.push(Element::text("RespURI", r.clone()));
    }
    if h.no_resp {
        c.push(Element::empty("NoResp"));
    }
    if let Some(cred) = &h.cred {
        c.push(lower_cred(cred));
    }
    if let Some(m) = &h.meta {
        c.push(lower_meta(m));
    }
    Element::parent("SyncHdr", c)
}

fn lower_loc(name: &'static str, l: &Location) -> Element {
    let mut c = vec![Element::text("LocURI", l.loc_uri.clone())];
    if let Some(n) = &l.loc_name {
        c.push(Element::text("LocName", n.clone()));
    }
    Element::parent(name, c)
}

fn lower_cred(cred: &Cred) -> Element {
    Element::parent(
        "Cred",
        vec![
            lower_meta(&cred.meta),
            Element::text("Data", cred.data.clone()),
        ],
    )
}

fn lower_meta(m: &Meta) -> Element {
    let mut c = Vec::new();
    if let Some(v) = &m.format {
        c.push(Element::text("Format", v.clone()));
    }
    if let Some(v) = &m.type_ {
        c.push(Element::text("Type", v.clone()));
    }
    if let Some(v) = m.size {
        c.push(Element::text("Size", v.to_string()));
    }
    if let Some(v) = &m.next_nonce {
        c.push(Element::text("NextNonce", STANDARD.encode(v)));
    }
    if let Some(v) = m.max_msg_size {
        c.push(Element::text("MaxMsgSize", v.to_string()));
    }
    if let Some(v) = m.max_obj_size {
        c.push(Element::text("MaxObjSize", v.to_string()));
    }
    c.extend(m.other.iter().cloned());
    Element::parent("Meta", c)
}

fn lower_item(i: &Item) -> Element {
    let mut c = Vec::new();
    if let Some(t) = &i.target {
        c.push(lower_loc("Target", t));
    }
    if let Some(s) = &i.source {
        c.push(lower_loc("Source", s));
    }
    if let Some(m) = &i.meta {
        c.push(lower_meta(m));
    }
    if let Some(d) = &i.data {
        c.push(Element::text("Data", d.clone()));
    }
    if i.more_data {
        c.push(Element::empty("MoreData"));
    }
    Element::parent("Item", c)
}

fn push_refs(c: &mut Vec<Element>, name: &'static str, refs: &[String]) {
    c.extend(refs.iter().map(|r| Element::text(name, r.clone())));
}

fn lower_command(cmd: &Command) -> Element {
    match cmd {
        Command::Status(s) => {
            let mut c = vec![
                Element::text("CmdID", s.cmd_id.to_string()),
                Element::text("MsgRef", s.msg_ref.to_string()),
                Element::text("CmdRef", s.cmd_ref.to_string()),
                Element::text("Cmd", s.cmd.clone()),
            ];
            push_refs(&mut c, "TargetRef", &s.target_refs);
            push_refs(&mut c, "SourceRef", &s.source_refs);
            if let Some(cred) = &s.cred {
                c.push(lower_cred(cred));
            }
            if let Some(ch) = &s.chal {
                c.push(Element::parent("Chal", vec![lower_meta(&ch.meta)]));
            }
            c.push(Element::text("Data", s.code.to_string()));
            c.extend(s.items.iter().map(lower_item));
            Element::parent("Status", c)
        }
        Command::Alert(a) => {
            let mut c = vec![Element::text("CmdID", a.cmd_id.to_string())];
            if a.no_resp {
                c.push(Element::empty("NoResp"));
            }
            if let Some(cred) = &a.cred {
                c.push(lower_cred(cred));
            }
            c.push(Element::text("Data", a.code.to_string()));
            c.extend(a.items.iter().map(lower_item));
            Element::parent("Alert", c)
        }
        Command::Replace(i) => lower_item_cmd("Replace", i),
        Command::Get(i) => lower_item_cmd("Get", i),
        Command::Results(r) => {
            let mut c = vec![Element::text("CmdID", r.cmd_id.to_string())];
            if let Some(m) = r.msg_ref {
                c.push(Element::text("MsgRef", m.to_string()));
            }
            c.push(Element::text("CmdRef", r.cmd_ref.to_string()));
            if let Some(m) = &r.meta {
                c.push(lower_meta(m));
            }
            push_refs(&mut c, "TargetRef", &r.target_refs);
            push_refs(&mut c, "SourceRef", &r.source_refs);
            c.extend(r.items.iter().map(lower_item));
            Element::parent("Results", c)
        }
        Command::Opaque(o) => o.element().clone(),
    }
}

fn lower_item_cmd(name: &'static str, i: &ItemCmd) -> Element {
    let mut c = vec![Element::text("CmdID", i.cmd_id.to_string())];
    if i.no_resp {
        c.push(Element::empty("NoResp"));
    }
    if let Some(cred) = &i.cred {
        c.push(lower_cred(cred));
    }
    if let Some(m) = &i.meta {
        c.push(lower_meta(m));
    }
    c.extend(i.items.iter().map(lower_item));
    Element::parent(name, c)
}

fn lower_body(b: &SyncBody) -> Element {
    let mut c: Vec<Element> = b.commands.iter().map(lower_command).collect();
    if b.final_ {
        c.push(Element::empty("Final"));
    }
    Element::parent("SyncBody", c)
}
