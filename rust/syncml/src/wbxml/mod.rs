//! SyncML DM WBXML (`application/vnd.syncml.dm+wbxml`), hand-written after
//! WAP-192 (WBXML 1.3) and the SyncML RepPro 1.2 token tables; every token
//! is checked against libwbxml in `tests/libwbxml.rs`.

mod decode;
mod encode;

pub use decode::read;
pub use encode::{write, write_with, Options};

/// WBXML version written: 1.3, as libwbxml writes.
pub const VERSION: u8 = 0x03;
/// Public identifier of `-//SYNCML//DTD SyncML 1.2//EN`.
pub const PUBLIC_ID_SYNCML12: u32 = 0x1201;
/// The same, as a literal (string-table form).
pub const PUBLIC_ID_SYNCML12_TEXT: &str = "-//SYNCML//DTD SyncML 1.2//EN";
/// IANA MIBenum of UTF-8.
pub const CHARSET_UTF8: u32 = 106;

// Global tokens (WAP-192 §7.1).
pub(crate) const SWITCH_PAGE: u8 = 0x00;
pub(crate) const END: u8 = 0x01;
pub(crate) const ENTITY: u8 = 0x02;
pub(crate) const STR_I: u8 = 0x03;
pub(crate) const STR_T: u8 = 0x83;
pub(crate) const OPAQUE: u8 = 0xC3;
pub(crate) const TAG_CONTENT: u8 = 0x40;
pub(crate) const TAG_ATTRS: u8 = 0x80;

/// Appends a WBXML multi-byte unsigned integer (7 bits a byte, high first).
pub(crate) fn put_mb_u32(out: &mut Vec<u8>, mut v: u32) {
    let mut tmp = [0u8; 5];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = (v & 0x7F) as u8 | if i == tmp.len() - 1 { 0 } else { 0x80 };
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}
