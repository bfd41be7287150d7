//! Element tree → WBXML.
//!
//! Strings are written inline (no string table), which every decoder
//! accepts; the page is switched only when a tag needs the other one, the
//! way libwbxml does (`00 01` before a MetInf tag, `00 00` after).

use super::*;
use crate::element::{Content, Element};
use crate::EncodeError;

/// Serialises a tree as a WBXML 1.3 SyncML 1.2 document.
pub fn write(root: &Element) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(512);
    out.push(VERSION);
    put_mb_u32(&mut out, PUBLIC_ID_SYNCML12);
    put_mb_u32(&mut out, CHARSET_UTF8);
    put_mb_u32(&mut out, 0); // empty string table
    let mut page = 0u8;
    write_element(&mut out, root, &mut page)?;
    Ok(out)
}

fn write_element(out: &mut Vec<u8>, e: &Element, page: &mut u8) -> Result<(), EncodeError> {
    let tag_page = e.tag.page() as u8;
    if tag_page != *page {
        out.push(SWITCH_PAGE);
        out.push(tag_page);
        *page = tag_page;
    }
    if matches!(e.content, Content::Empty) {
        out.push(e.tag.token());
        return Ok(());
    }
    out.push(e.tag.token() | TAG_CONTENT);
    match &e.content {
        Content::Empty => {}
        Content::Text(t) => {
            if t.as_bytes().contains(&0) {
                return Err(EncodeError::Nul(e.tag.name()));
            }
            out.push(STR_I);
            out.extend_from_slice(t.as_bytes());
            out.push(0);
        }
        Content::Opaque(b) => {
            out.push(OPAQUE);
            // Lengths beyond u32 cannot occur in a DM message held in memory
            // by a handset; saturating keeps the function total.
            put_mb_u32(out, u32::try_from(b.len()).unwrap_or(u32::MAX));
            out.extend_from_slice(b);
        }
        Content::Children(children) => {
            for c in children {
                write_element(out, c, page)?;
            }
        }
    }
    out.push(END);
    Ok(())
}
