//! Arguments in, results out: the pointer discipline of the C ABI.
//!
//! Inputs: a NULL pointer is `DMNONCE_E_NULL_PARAMETER`, text that is not
//! UTF-8 is `DMNONCE_E_INVALID_ARGUMENT`; a byte buffer may be NULL only
//! when its length is 0.
//!
//! Outputs go into caller buffers: capacity in, length out. `*out_len`
//! always receives the length the full result needs (text: without the
//! terminating NUL), also when the buffer is too small, so a caller can
//! retry with the right size; `buf` NULL with `cap` 0 is a size query.

use crate::result::{dmnonce_result, Failure};
use std::ffi::{c_char, CStr};

/// A required NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    let text = unsafe { CStr::from_ptr(p) };
    text.to_str()
        .map_err(|_| Failure::invalid(format!("argument `{name}` is not UTF-8")))
}

/// An optional string argument: NULL means absent.
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(
    p: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { str_arg(p, name) }.map(Some)
    }
}

/// A byte buffer argument; NULL is accepted only with length 0.
///
/// # Safety
/// `p` is NULL or valid for `len` bytes of reads for `'a`.
pub(crate) unsafe fn bytes_arg<'a>(
    p: *const u8,
    len: usize,
    name: &str,
) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL and valid for `len` bytes per the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Checks an output buffer triple before any work is done, so that a bad
/// pointer is reported before the daemon acts on a request.
pub(crate) fn check_out<T>(buf: *mut T, cap: usize, out_len: *mut usize) -> Result<(), Failure> {
    if out_len.is_null() {
        return Err(Failure::null("out_len"));
    }
    if buf.is_null() && cap > 0 {
        return Err(Failure::null("buf"));
    }
    Ok(())
}

/// Checks a required single-value output pointer.
pub(crate) fn check_ptr<T>(p: *mut T, name: &str) -> Result<(), Failure> {
    if p.is_null() {
        Err(Failure::null(name))
    } else {
        Ok(())
    }
}

/// Writes `text` NUL-terminated into `buf`.
///
/// # Safety
/// `buf` is NULL or valid for `cap` bytes of writes; `out_len` is NULL or
/// valid for one write.
pub(crate) unsafe fn write_text(
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    text: &str,
    what: &str,
) -> Result<(), Failure> {
    check_out(buf, cap, out_len)?;
    let len = text.len();
    // SAFETY: checked non-NULL; valid for one write per the contract.
    unsafe { out_len.write(len) };
    if cap < len + 1 {
        if cap > 0 {
            // Leave a valid empty string rather than stale bytes.
            // SAFETY: cap > 0 and buf valid for cap bytes.
            unsafe { buf.write(0) };
        }
        return Err(Failure::insufficient(what, len + 1, cap));
    }
    // SAFETY: len + 1 <= cap, buf valid for cap bytes, no overlap with `text`.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr().cast::<c_char>(), buf, len);
        buf.add(len).write(0);
    }
    Ok(())
}

/// The body of a getter for text a handle keeps (its last error, an event's
/// reason): `None` (a NULL handle) is `DMNONCE_E_NULL_PARAMETER`. A failed
/// write is returned, not recorded as the handle's last error, so reading
/// the last error never replaces it.
///
/// # Safety
/// As [`write_text`].
pub(crate) unsafe fn write_kept_text(
    text: Option<&str>,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    what: &str,
) -> dmnonce_result {
    let Some(text) = text else {
        return dmnonce_result::DMNONCE_E_NULL_PARAMETER;
    };
    // SAFETY: forwarded contract.
    match unsafe { write_text(buf, cap, out_len, text, what) } {
        Ok(()) => dmnonce_result::DMNONCE_OK,
        Err(f) => f.code,
    }
}

/// Writes `bytes` (not terminated) into `buf`.
///
/// # Safety
/// As [`write_text`].
pub(crate) unsafe fn write_bytes(
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
    bytes: &[u8],
    what: &str,
) -> Result<(), Failure> {
    check_out(buf, cap, out_len)?;
    // SAFETY: checked non-NULL.
    unsafe { out_len.write(bytes.len()) };
    if cap < bytes.len() {
        return Err(Failure::insufficient(what, bytes.len(), cap));
    }
    if !bytes.is_empty() {
        // SAFETY: bytes.len() <= cap and buf valid for cap bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len()) };
    }
    Ok(())
}

/// Copies `text` into a fixed-size field, NUL-terminated, truncating at
/// `N - 1` bytes; returns the full length so a caller can see truncation
/// (`len >= N`). Server ids come from a Package #0, whose length byte
/// bounds them to 255 bytes, so a 256-byte field holds every real one.
pub(crate) fn fill_fixed<const N: usize>(field: &mut [c_char; N], text: &str) -> usize {
    let n = text.len().min(N - 1);
    for (dst, src) in field.iter_mut().zip(text.as_bytes()[..n].iter()) {
        *dst = *src as c_char;
    }
    field[n..].fill(0);
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::dmnonce_result::*;

    #[test]
    fn text_too_small_reports_needed_length_and_leaves_empty_string() {
        let mut buf = [b'x' as c_char; 4];
        let mut len = 0;
        let err = unsafe { write_text(buf.as_mut_ptr(), 4, &mut len, "abcd", "t") }.unwrap_err();
        assert_eq!(err.code, DMNONCE_E_INSUFFICIENT_SIZE);
        assert_eq!((len, buf[0]), (4, 0));
        let mut buf = [0 as c_char; 5];
        unsafe { write_text(buf.as_mut_ptr(), 5, &mut len, "abcd", "t") }.unwrap();
        assert_eq!(
            unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap(),
            "abcd"
        );
    }

    #[test]
    fn null_arguments_are_named() {
        let err = unsafe { str_arg(std::ptr::null(), "server_id") }.unwrap_err();
        assert_eq!(err.code, DMNONCE_E_NULL_PARAMETER);
        assert!(err.message.contains("server_id"));
        let err = unsafe { bytes_arg(std::ptr::null(), 3, "data") }.unwrap_err();
        assert_eq!(err.code, DMNONCE_E_NULL_PARAMETER);
        assert_eq!(
            unsafe { bytes_arg(std::ptr::null(), 0, "data") }.unwrap(),
            b""
        );
        let err = check_out(std::ptr::null_mut::<u8>(), 0, std::ptr::null_mut()).unwrap_err();
        assert_eq!(err.code, DMNONCE_E_NULL_PARAMETER);
    }

    #[test]
    fn non_utf8_text_is_invalid() {
        let bad = [0xffu8 as c_char, 0];
        let err = unsafe { str_arg(bad.as_ptr(), "s") }.unwrap_err();
        assert_eq!(err.code, DMNONCE_E_INVALID_ARGUMENT);
    }

    #[test]
    fn fixed_fields_truncate_visibly() {
        let mut f = [1 as c_char; 4];
        assert_eq!(fill_fixed(&mut f, "ab"), 2);
        assert_eq!(f, [b'a' as c_char, b'b' as c_char, 0, 0]);
        assert_eq!(fill_fixed(&mut f, "abcdef"), 6);
        assert_eq!(f[3], 0);
    }
}
