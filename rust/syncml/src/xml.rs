//! SyncML DM XML (`application/vnd.syncml.dm+xml`) over the element tree.
//!
//! Reading uses quick-xml and ignores namespaces: the SyncML and MetInf
//! tables share no element name, and peers differ in where they declare
//! `syncml:metinf` (libwbxml repeats it on every MetInf element). Writing
//! declares `SYNCML:SYNCML1.2` on the root and `syncml:metinf` on every
//! MetInf element whose parent is not one, as the DM representation
//! protocol examples and libwbxml do.

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::element::{CodePage, Content, Element, Tag};
use crate::{DecodeError, EncodeError};

/// The DOCTYPE libwbxml's `xml2wbxml` needs to choose the SyncML 1.2 tables.
pub const DOCTYPE: &str = "<!DOCTYPE SyncML PUBLIC \"-//SYNCML//DTD SyncML 1.2//EN\" \
\"http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd\">";

/// Deepest nesting accepted (a DM message needs about 8).
pub const MAX_DEPTH: usize = 32;

/// Serialises a tree; `doctype` adds the SyncML 1.2 DOCTYPE.
pub fn write(root: &Element, doctype: bool) -> Result<Vec<u8>, EncodeError> {
    let mut out = String::with_capacity(1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    if doctype {
        out.push('\n');
        out.push_str(DOCTYPE);
        out.push('\n');
    }
    write_element(&mut out, root, None)?;
    Ok(out.into_bytes())
}

fn write_element(
    out: &mut String,
    e: &Element,
    parent: Option<CodePage>,
) -> Result<(), EncodeError> {
    let name = e.tag.name();
    out.push('<');
    out.push_str(name);
    if parent != Some(e.tag.page()) {
        out.push_str(" xmlns=\"");
        out.push_str(e.tag.page().namespace());
        out.push('"');
    }
    match &e.content {
        Content::Empty => {
            out.push_str("/>");
            return Ok(());
        }
        Content::Text(t) => {
            out.push('>');
            escape_into(out, t, name)?;
        }
        Content::Opaque(b) => {
            out.push('>');
            let t = std::str::from_utf8(b).map_err(|_| EncodeError::Binary(name))?;
            escape_into(out, t, name)?;
        }
        Content::Children(children) => {
            out.push('>');
            for c in children {
                write_element(out, c, Some(e.tag.page()))?;
            }
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
    Ok(())
}

fn escape_into(out: &mut String, text: &str, element: &'static str) -> Result<(), EncodeError> {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A literal CR would be folded into LF by any conforming parser.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                return Err(EncodeError::XmlChar(element))
            }
            c => out.push(c),
        }
    }
    Ok(())
}

struct Open {
    tag: Tag,
    children: Vec<Element>,
    text: String,
    saw_text: bool,
}

fn xml_err(position: u64, e: &quick_xml::Error) -> DecodeError {
    // Only the kind of fault: quick-xml's messages can quote message text.
    let reason = match e {
        quick_xml::Error::Io(_) => "I/O",
        quick_xml::Error::Syntax(_) => "syntax error",
        quick_xml::Error::IllFormed(_) => "ill-formed document",
        quick_xml::Error::InvalidAttr(_) => "invalid attribute",
        quick_xml::Error::Encoding(_) => "not UTF-8",
        quick_xml::Error::Escape(_) => "invalid character or entity reference",
        quick_xml::Error::Namespace(_) => "namespace error",
    };
    DecodeError::Xml { position, reason }
}

fn tag_of(name: &[u8]) -> Result<Tag, DecodeError> {
    let s =
        std::str::from_utf8(name).map_err(|_| DecodeError::UnknownElement("<non-UTF-8>".into()))?;
    Tag::by_name(s).ok_or_else(|| DecodeError::UnknownElement(s.chars().take(40).collect()))
}

/// Parses XML into a tree. Rejects unknown elements, mixed content, other
/// entities than the five predefined ones, and nesting over [`MAX_DEPTH`].
pub fn read(bytes: &[u8]) -> Result<Element, DecodeError> {
    // A UTF-8 byte-order mark is allowed before the declaration.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let pos = reader.buffer_position();
        let ev = reader.read_event().map_err(|e| xml_err(pos, &e))?;
        let bad = |reason| DecodeError::Xml {
            position: pos,
            reason,
        };
        match ev {
            Event::Start(s) => {
                if root.is_some() {
                    return Err(bad("content after the root element"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(DecodeError::TooDeep(MAX_DEPTH));
                }
                stack.push(Open {
                    tag: tag_of(s.local_name().as_ref())?,
                    children: Vec::new(),
                    text: String::new(),
                    saw_text: false,
                });
            }
            Event::Empty(s) => {
                let e = Element {
                    tag: tag_of(s.local_name().as_ref())?,
                    content: Content::Empty,
                };
                attach(&mut stack, &mut root, e)
                    .map_err(|_| bad("content after the root element"))?;
            }
            Event::End(_) => {
                let open = stack.pop().ok_or(bad("unbalanced end tag"))?;
                let has_text = open.saw_text && !open.text.trim().is_empty();
                let content = if !open.children.is_empty() {
                    if has_text {
                        return Err(DecodeError::MixedContent(open.tag.name()));
                    }
                    Content::Children(open.children)
                } else if open.saw_text {
                    Content::Text(open.text)
                } else {
                    Content::Empty
                };
                let e = Element {
                    tag: open.tag,
                    content,
                };
                attach(&mut stack, &mut root, e)
                    .map_err(|_| bad("content after the root element"))?;
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|_| DecodeError::Utf8("text"))?;
                push_text(&mut stack, &s).map_err(|_| bad("text outside the root element"))?;
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|_| DecodeError::Utf8("CDATA"))?;
                push_text(&mut stack, &s).map_err(|_| bad("CDATA outside the root element"))?;
            }
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref().map_err(|e| xml_err(pos, &e))? {
                    Some(c) => c,
                    None => match r.as_ref() {
                        b"amp" => '&',
                        b"lt" => '<',
                        b"gt" => '>',
                        b"quot" => '"',
                        b"apos" => '\'',
                        _ => return Err(bad("unknown entity")),
                    },
                };
                let mut buf = [0u8; 4];
                push_text(&mut stack, ch.encode_utf8(&mut buf))
                    .map_err(|_| bad("reference outside the root element"))?;
            }
            Event::Decl(_) | Event::DocType(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(DecodeError::Xml {
            position: reader.buffer_position(),
            reason: "unclosed element",
        });
    }
    root.ok_or(DecodeError::Root)
}

fn attach(stack: &mut [Open], root: &mut Option<Element>, e: Element) -> Result<(), ()> {
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(e);
            Ok(())
        }
        None if root.is_none() => {
            *root = Some(e);
            Ok(())
        }
        None => Err(()),
    }
}

fn push_text(stack: &mut [Open], s: &str) -> Result<(), ()> {
    match stack.last_mut() {
        Some(open) => {
            open.text.push_str(s);
            open.saw_text = true;
            Ok(())
        }
        // Whitespace around the root is fine; anything else is not.
        None if s.trim().is_empty() => Ok(()),
        None => Err(()),
    }
}
