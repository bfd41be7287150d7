//! WBXML → element tree.
//!
//! Tolerates what real encoders emit: WBXML 1.1 to 1.3, the public id as a
//! number (0x1201), "unknown" (0x01) or a string-table literal, charset
//! "unknown" (0), inline strings, string-table references (with or without
//! the terminating zero, as php-horde writes them), entities and opaque
//! data. Rejects attributes, extensions, processing instructions and
//! literal tags: SyncML uses none of them.

use super::*;
use crate::element::{Content, Element, Tag};
use crate::xml::MAX_DEPTH;
use crate::DecodeError;

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn err(&self, reason: &'static str) -> DecodeError {
        DecodeError::Wbxml {
            position: self.pos,
            reason,
        }
    }
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self.bytes.get(self.pos).ok_or(self.err("truncated"))?;
        self.pos += 1;
        Ok(b)
    }
    fn mb_u32(&mut self) -> Result<u32, DecodeError> {
        let mut v: u32 = 0;
        for _ in 0..5 {
            let b = self.byte()?;
            v = v
                .checked_mul(128)
                .ok_or(self.err("multi-byte integer overflows 32 bits"))?
                | u32::from(b & 0x7F);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("multi-byte integer longer than 5 bytes"))
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(self.err("length overflow"))?;
        let s = self.bytes.get(self.pos..end).ok_or(self.err("truncated"))?;
        self.pos = end;
        Ok(s)
    }
    fn cstr(&mut self) -> Result<&'a [u8], DecodeError> {
        let rest = &self.bytes[self.pos..];
        let n = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(self.err("inline string without terminating zero"))?;
        self.pos += n + 1;
        Ok(&rest[..n])
    }
}

/// A string-table entry at `offset`: up to the next zero or the table end.
fn table_str(table: &[u8], offset: u32) -> Option<&[u8]> {
    let rest = table.get(usize::try_from(offset).ok()?..)?;
    Some(match rest.iter().position(|&b| b == 0) {
        Some(n) => &rest[..n],
        None => rest,
    })
}

struct Open {
    tag: Tag,
    children: Vec<Element>,
    text: Vec<u8>,
    saw_text: bool,
    opaque: Option<Vec<u8>>,
}

/// Parses a WBXML SyncML 1.2 document into a tree.
pub fn read(bytes: &[u8]) -> Result<Element, DecodeError> {
    let mut c = Cursor { bytes, pos: 0 };
    let version = c.byte()?;
    if !(0x01..=0x03).contains(&version) {
        return Err(c.err("unsupported WBXML version"));
    }
    let public_id = c.mb_u32()?;
    let literal_index = if public_id == 0 {
        Some(c.mb_u32()?)
    } else {
        None
    };
    let charset = c.mb_u32()?;
    // 0 = unknown (treated as UTF-8), 3 = US-ASCII (a subset of it).
    if !matches!(charset, 0 | 3 | CHARSET_UTF8) {
        return Err(DecodeError::Charset(charset));
    }
    let table_len = c.mb_u32()?;
    let table = c.take(usize::try_from(table_len).map_err(|_| c.err("string table too long"))?)?;
    match literal_index {
        Some(i) => {
            if table_str(table, i) != Some(PUBLIC_ID_SYNCML12_TEXT.as_bytes()) {
                return Err(DecodeError::PublicId(0));
            }
        }
        // 0x01 = unknown; libwbxml then needs `-l SYNCML12`, we assume it.
        None if public_id == PUBLIC_ID_SYNCML12 || public_id == 0x01 => {}
        None => return Err(DecodeError::PublicId(public_id)),
    }

    let mut page = 0u8;
    let mut stack: Vec<Open> = Vec::new();
    loop {
        let at = c.pos;
        let tok = c.byte()?;
        match tok {
            SWITCH_PAGE => page = c.byte()?,
            END => {
                let open = stack.pop().ok_or(c.err("END without an open element"))?;
                if let Some(root) = place(&mut stack, close(open)?, &c)? {
                    return Ok(root);
                }
            }
            ENTITY => {
                let code = c.mb_u32()?;
                let ch = char::from_u32(code).ok_or(c.err("entity is not a character"))?;
                let mut buf = [0u8; 4];
                text_of(&mut stack, &c)?.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            STR_I => {
                let s = c.cstr()?;
                text_of(&mut stack, &c)?.extend_from_slice(s);
            }
            STR_T => {
                let off = c.mb_u32()?;
                let s =
                    table_str(table, off).ok_or(c.err("string-table reference out of range"))?;
                text_of(&mut stack, &c)?.extend_from_slice(s);
            }
            OPAQUE => {
                let n = c.mb_u32()?;
                let data = c.take(usize::try_from(n).map_err(|_| c.err("opaque too long"))?)?;
                let open = stack
                    .last_mut()
                    .ok_or(c.err("opaque data outside an element"))?;
                open.opaque
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(data);
            }
            // LITERAL, EXT_I_*, PI, EXT_T_*, EXT_*: not used by SyncML.
            0x04 | 0x40..=0x43 | 0x80..=0x82 | 0xC0..=0xC2 | 0x44 | 0x84 | 0xC4 => {
                c.pos = at;
                return Err(c.err("token not used by SyncML (literal, extension or PI)"));
            }
            _ => {
                if tok & TAG_ATTRS != 0 {
                    c.pos = at;
                    return Err(c.err("attributes are not used by SyncML"));
                }
                let tag = Tag::by_token(page, tok & 0x3F).ok_or_else(|| {
                    DecodeError::UnknownElement(format!("page {page} token {:#04x}", tok & 0x3F))
                })?;
                if tok & TAG_CONTENT != 0 {
                    if stack.len() >= MAX_DEPTH {
                        return Err(DecodeError::TooDeep(MAX_DEPTH));
                    }
                    stack.push(Open {
                        tag,
                        children: Vec::new(),
                        text: Vec::new(),
                        saw_text: false,
                        opaque: None,
                    });
                } else {
                    let e = Element {
                        tag,
                        content: Content::Empty,
                    };
                    if let Some(root) = place(&mut stack, e, &c)? {
                        return Ok(root);
                    }
                }
            }
        }
    }
}

/// Puts a finished element into its parent, the innermost open one; with
/// none open it is the root, returned, and must end the document.
fn place(stack: &mut [Open], e: Element, c: &Cursor<'_>) -> Result<Option<Element>, DecodeError> {
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(e);
            Ok(None)
        }
        None if c.pos != c.bytes.len() => Err(c.err("bytes after the root element")),
        None => Ok(Some(e)),
    }
}

fn text_of<'s>(stack: &'s mut [Open], c: &Cursor<'_>) -> Result<&'s mut Vec<u8>, DecodeError> {
    let open = stack.last_mut().ok_or(c.err("text outside an element"))?;
    open.saw_text = true;
    Ok(&mut open.text)
}

fn close(open: Open) -> Result<Element, DecodeError> {
    let name = open.tag.name();
    let kinds = usize::from(!open.children.is_empty())
        + usize::from(open.saw_text)
        + usize::from(open.opaque.is_some());
    if kinds > 1 {
        return Err(DecodeError::MixedContent(name));
    }
    let content = if let Some(b) = open.opaque {
        Content::Opaque(b)
    } else if open.saw_text {
        Content::Text(String::from_utf8(open.text).map_err(|_| DecodeError::Utf8(name))?)
    } else if !open.children.is_empty() {
        Content::Children(open.children)
    } else {
        // A tag flagged with content but with none: same as empty.
        Content::Empty
    };
    Ok(Element {
        tag: open.tag,
        content,
    })
}
