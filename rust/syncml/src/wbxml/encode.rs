//! Element tree → WBXML.
//!
//! By default strings are written inline (no string table), which every
//! decoder accepts; [`Options`] can instead write what libwbxml writes:
//! repeated strings in the string table and `Item/Data` as opaque data.
//! The page is switched only when a tag needs the other one, the way
//! libwbxml does (`00 01` before a MetInf tag, `00 00` after).

use std::collections::HashMap;

use super::*;
use crate::element::{Content, Element};
use crate::EncodeError;

/// Encoder choices that do not change the message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Strings of 4 or more bytes that occur more than once go to the
    /// string table and are referenced with STR_T.
    pub string_table: bool,
    /// `Item/Data` as OPAQUE (`C3 len bytes`), as libwbxml encodes it.
    pub opaque_item_data: bool,
}

/// Serialises a tree as a WBXML 1.3 SyncML 1.2 document, inline strings.
pub fn write(root: &Element) -> Result<Vec<u8>, EncodeError> {
    write_with(root, Options::default())
}

/// Serialises a tree with the given [`Options`].
pub fn write_with(root: &Element, options: Options) -> Result<Vec<u8>, EncodeError> {
    let table = if options.string_table {
        StringTable::build(root)
    } else {
        StringTable::default()
    };
    let mut out = Vec::with_capacity(512);
    out.push(VERSION);
    put_mb_u32(&mut out, PUBLIC_ID_SYNCML12);
    put_mb_u32(&mut out, CHARSET_UTF8);
    put_mb_u32(&mut out, len32(table.bytes.len()));
    out.extend_from_slice(&table.bytes);
    let mut w = Writer {
        out,
        page: 0,
        table,
        options,
    };
    w.element(root, None)?;
    Ok(w.out)
}

// Lengths beyond u32 cannot occur in a DM message held in memory by a
// handset; saturating keeps the functions total.
fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[derive(Default)]
struct StringTable {
    bytes: Vec<u8>,
    offsets: HashMap<String, u32>,
}

impl StringTable {
    fn build(root: &Element) -> StringTable {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        let mut order: Vec<&str> = Vec::new();
        let mut stack = vec![root];
        while let Some(e) = stack.pop() {
            match &e.content {
                Content::Text(t) if t.len() >= 4 && !t.contains('\0') => {
                    let n = counts.entry(t).or_insert(0);
                    if *n == 0 {
                        order.push(t);
                    }
                    *n += 1;
                }
                Content::Children(c) => stack.extend(c.iter().rev()),
                _ => {}
            }
        }
        let mut table = StringTable::default();
        for s in order.into_iter().filter(|s| counts[s] > 1) {
            table
                .offsets
                .insert(s.to_string(), len32(table.bytes.len()));
            table.bytes.extend_from_slice(s.as_bytes());
            table.bytes.push(0);
        }
        table
    }
}

struct Writer {
    out: Vec<u8>,
    page: u8,
    table: StringTable,
    options: Options,
}

impl Writer {
    fn element(&mut self, e: &Element, parent: Option<&'static str>) -> Result<(), EncodeError> {
        let tag_page = e.tag.page() as u8;
        if tag_page != self.page {
            self.out.push(SWITCH_PAGE);
            self.out.push(tag_page);
            self.page = tag_page;
        }
        if matches!(e.content, Content::Empty) {
            self.out.push(e.tag.token());
            return Ok(());
        }
        self.out.push(e.tag.token() | TAG_CONTENT);
        let as_opaque =
            self.options.opaque_item_data && parent == Some("Item") && e.tag.name() == "Data";
        match &e.content {
            Content::Empty => {}
            Content::Text(t) if as_opaque => self.opaque(t.as_bytes()),
            Content::Text(t) => {
                if t.as_bytes().contains(&0) {
                    return Err(EncodeError::Nul(e.tag.name()));
                }
                match self.table.offsets.get(t.as_str()) {
                    Some(&off) => {
                        self.out.push(STR_T);
                        put_mb_u32(&mut self.out, off);
                    }
                    None => {
                        self.out.push(STR_I);
                        self.out.extend_from_slice(t.as_bytes());
                        self.out.push(0);
                    }
                }
            }
            Content::Opaque(b) => self.opaque(b),
            Content::Children(children) => {
                for c in children {
                    self.element(c, Some(e.tag.name()))?;
                }
            }
        }
        self.out.push(END);
        Ok(())
    }

    fn opaque(&mut self, b: &[u8]) {
        self.out.push(OPAQUE);
        put_mb_u32(&mut self.out, len32(b.len()));
        self.out.extend_from_slice(b);
    }
}
