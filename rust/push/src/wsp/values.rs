//! WSP primitive value encodings (WAP-230-WSP §8.1.2 and §8.4.2.1–§8.4.2.3):
//! uintvar, Short-integer, Long-integer, Value-length, Text-string, and the
//! generic "skip a field value" rule of §8.4.1.2 that lets a decoder step
//! over headers it does not know.

use super::WspError;
use crate::reader::{Reader, Truncated};

/// §8.1.2: an uintvar carries at most 32 bits, so at most 5 octets.
const UINTVAR_MAX_OCTETS: usize = 5;
/// §8.4.2.2: a Short-length is 0..=30; 31 is the Length-quote.
pub(crate) const LENGTH_QUOTE: u8 = 31;
/// §8.4.2.1: Quote introduces a Text-string whose first character is >= 128.
pub(crate) const TEXT_QUOTE: u8 = 127;

impl From<Truncated> for WspError {
    fn from(t: Truncated) -> Self {
        WspError::Truncated { field: t.0 }
    }
}

pub(crate) fn read_uintvar(r: &mut Reader<'_>, field: &'static str) -> Result<u32, WspError> {
    let mut value: u64 = 0;
    for _ in 0..UINTVAR_MAX_OCTETS {
        let b = r.u8(field)?;
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            return u32::try_from(value).map_err(|_| WspError::UintvarOverflow { field });
        }
    }
    Err(WspError::UintvarOverflow { field })
}

pub(crate) fn write_uintvar(out: &mut Vec<u8>, value: u32) {
    let mut groups = [0u8; UINTVAR_MAX_OCTETS];
    let mut n = 0;
    let mut v = value;
    loop {
        groups[n] = (v & 0x7f) as u8;
        n += 1;
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        let cont = if i == 0 { 0 } else { 0x80 };
        out.push(groups[i] | cont);
    }
}

/// Value-length (§8.4.2.2): Short-length, or Length-quote then uintvar.
pub(crate) fn read_value_length(
    r: &mut Reader<'_>,
    field: &'static str,
) -> Result<usize, WspError> {
    let first = r.u8(field)?;
    let len = match first {
        0..=30 => u32::from(first),
        LENGTH_QUOTE => read_uintvar(r, field)?,
        _ => {
            return Err(WspError::Malformed {
                field,
                reason: "expected a value length",
            })
        }
    };
    let len = usize::try_from(len).map_err(|_| WspError::UintvarOverflow { field })?;
    if len > r.remaining() {
        return Err(WspError::Truncated { field });
    }
    Ok(len)
}

pub(crate) fn write_value_length(out: &mut Vec<u8>, len: usize) -> Result<(), WspError> {
    if len <= 30 {
        out.push(len as u8);
        return Ok(());
    }
    let len = u32::try_from(len).map_err(|_| WspError::TooLong {
        field: "value length",
    })?;
    out.push(LENGTH_QUOTE);
    write_uintvar(out, len);
    Ok(())
}

/// Text-string / Token-text / Extension-media (§8.4.2.1): *TEXT NUL, with
/// an optional leading Quote. Returned without Quote and NUL.
pub(crate) fn read_text(r: &mut Reader<'_>, field: &'static str) -> Result<String, WspError> {
    if r.peek() == Some(TEXT_QUOTE) {
        r.u8(field)?;
    }
    let raw = r.until_nul(field)?;
    String::from_utf8(raw.to_vec()).map_err(|_| WspError::Malformed {
        field,
        reason: "text is not UTF-8",
    })
}

pub(crate) fn write_text(
    out: &mut Vec<u8>,
    text: &str,
    field: &'static str,
) -> Result<(), WspError> {
    let bytes = text.as_bytes();
    if bytes.contains(&0) {
        return Err(WspError::Malformed {
            field,
            reason: "text contains a NUL",
        });
    }
    // A text starting with an octet below 32 would read as a length, one
    // of 128 or more as a Short-integer: §8.4.2.1 quotes the latter; the
    // former cannot be expressed.
    match bytes.first() {
        None => {
            return Err(WspError::Malformed {
                field,
                reason: "empty text",
            })
        }
        Some(&b) if b < 32 => {
            return Err(WspError::Malformed {
                field,
                reason: "text starts with a control octet",
            })
        }
        Some(&b) if b >= 0x80 => out.push(TEXT_QUOTE),
        Some(&TEXT_QUOTE) => out.push(TEXT_QUOTE),
        _ => {}
    }
    out.extend_from_slice(bytes);
    out.push(0);
    Ok(())
}

/// Integer-value (§8.4.2.3): Short-integer (one octet, high bit set) or
/// Long-integer (Short-length then up to 30 big-endian octets; we keep 8).
pub(crate) fn read_integer(r: &mut Reader<'_>, field: &'static str) -> Result<u64, WspError> {
    let first = r.u8(field)?;
    match first {
        0x80..=0xff => Ok(u64::from(first & 0x7f)),
        1..=30 => {
            let digits = r.take(usize::from(first), field)?;
            if digits.len() > 8 && digits[..digits.len() - 8].iter().any(|&b| b != 0) {
                return Err(WspError::Malformed {
                    field,
                    reason: "integer wider than 64 bits",
                });
            }
            Ok(digits
                .iter()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
        }
        _ => Err(WspError::Malformed {
            field,
            reason: "expected an integer",
        }),
    }
}

pub(crate) fn write_integer(out: &mut Vec<u8>, value: u64) {
    if value < 0x80 {
        out.push(value as u8 | 0x80);
        return;
    }
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    out.push((bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// Steps over one field value by its first octet (§8.4.1.2): 0–30 that
/// many octets follow, 31 an uintvar length then the octets, 32–127 a
/// NUL-terminated text, 128–255 the octet is the whole value.
pub(crate) fn skip_value<'a>(
    r: &mut Reader<'a>,
    field: &'static str,
) -> Result<&'a [u8], WspError> {
    let start = r.rest();
    let before = r.position();
    let first = r.peek().ok_or(WspError::Truncated { field })?;
    match first {
        0..=30 | LENGTH_QUOTE => {
            let len = read_value_length(r, field)?;
            r.take(len, field)?;
        }
        32..=127 => {
            r.until_nul(field)?;
        }
        _ => {
            r.u8(field)?;
        }
    }
    Ok(&start[..r.position() - before])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uintvar(bytes: &[u8]) -> Result<u32, WspError> {
        read_uintvar(&mut Reader::new(bytes), "test")
    }

    #[test]
    fn uintvar_examples_from_wsp_8_1_2() {
        // 0x7F fits one octet; 0x80 needs two: 1000_0001 0000_0000.
        assert_eq!(uintvar(&[0x7f]), Ok(0x7f));
        assert_eq!(uintvar(&[0x81, 0x00]), Ok(0x80));
        // 0x3FFF: 1111_1111 0111_1111.
        assert_eq!(uintvar(&[0xff, 0x7f]), Ok(0x3fff));
        // u32::MAX takes five octets: 0x8F 0xFF 0xFF 0xFF 0x7F.
        assert_eq!(uintvar(&[0x8f, 0xff, 0xff, 0xff, 0x7f]), Ok(u32::MAX));
    }

    #[test]
    fn uintvar_refuses_overflow_and_six_octets() {
        assert!(matches!(
            uintvar(&[0x90, 0x80, 0x80, 0x80, 0x00]),
            Err(WspError::UintvarOverflow { .. })
        ));
        assert!(matches!(
            uintvar(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
            Err(WspError::UintvarOverflow { .. })
        ));
        assert!(matches!(uintvar(&[0x81]), Err(WspError::Truncated { .. })));
    }

    #[test]
    fn uintvar_round_trips() {
        for v in [
            0,
            1,
            0x7f,
            0x80,
            0x3fff,
            0x4000,
            0x1f_ffff,
            0x20_0000,
            u32::MAX,
        ] {
            let mut out = Vec::new();
            write_uintvar(&mut out, v);
            assert_eq!(uintvar(&out), Ok(v), "{v:#x} as {out:02x?}");
        }
    }

    #[test]
    fn integer_short_and_long_forms() {
        // Short-integer 0x07 is sent as 0x87.
        assert_eq!(read_integer(&mut Reader::new(&[0x87]), "t"), Ok(7));
        // Long-integer: length 2, value 0x0102.
        assert_eq!(
            read_integer(&mut Reader::new(&[0x02, 0x01, 0x02]), "t"),
            Ok(0x0102)
        );
        let mut out = Vec::new();
        write_integer(&mut out, 0x1234);
        assert_eq!(out, [0x02, 0x12, 0x34]);
    }

    #[test]
    fn skip_value_follows_the_first_octet_rule() {
        // Length 2 + two octets, then a text "ab\0", then a short int.
        let bytes = [0x02, 0xaa, 0xbb, b'a', b'b', 0x00, 0x85];
        let mut r = Reader::new(&bytes);
        assert_eq!(skip_value(&mut r, "t").unwrap(), &[0x02, 0xaa, 0xbb]);
        assert_eq!(skip_value(&mut r, "t").unwrap(), b"ab\0");
        assert_eq!(skip_value(&mut r, "t").unwrap(), &[0x85]);
        assert!(r.is_empty());
    }
}
