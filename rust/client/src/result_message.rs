//! `dmnonce_result_message`: the C entry point that writes a result code's
//! text into a caller's buffer. Apart from `result.rs` because it needs the
//! buffer conventions of `buffer.rs`, which themselves report through
//! `result.rs`'s `Failure`.

use std::ffi::c_char;

use crate::result::dmnonce_result::{self, *};

/// Writes the fixed description of a result code into `buf`.
///
/// `code` is a `dmnonce_result` value (taken as an integer, so any number
/// is safe to pass; an unknown one yields "unknown result code").
/// The text is NUL-terminated; `*out_len` receives its length without the
/// NUL. Pass `buf` NULL and `cap` 0 to learn the size.
///
/// Returns `DMNONCE_E_NULL_PARAMETER` when `out_len` is NULL (or `buf` is
/// NULL with `cap` > 0) and `DMNONCE_E_INSUFFICIENT_SIZE` when
/// `cap < *out_len + 1`.
///
/// Ownership: the caller owns `buf`; nothing is retained.
/// Thread-safety: may be called from any thread at any time.
///
/// # Safety
/// `buf` must be valid for `cap` bytes of writes and `out_len` for one write.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_result_message(
    code: u32,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> dmnonce_result {
    ffi_panic_boundary! {
        let text = dmnonce_result::from_u32(code)
            .map(dmnonce_result::message)
            .unwrap_or("unknown result code");
        // SAFETY: the caller's promise on `buf`, `cap` and `out_len`.
        match unsafe { crate::buffer::write_text(buf, cap, out_len, text, "message") } {
            Ok(()) => DMNONCE_OK,
            Err(f) => f.code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_written_or_sized() {
        let mut len = 0usize;
        let r = unsafe {
            dmnonce_result_message(DMNONCE_E_BAD_PUSH as u32, std::ptr::null_mut(), 0, &mut len)
        };
        assert_eq!(r, DMNONCE_E_INSUFFICIENT_SIZE);
        assert_eq!(len, DMNONCE_E_BAD_PUSH.message().len());
        let mut buf = vec![0 as c_char; len + 1];
        let r = unsafe {
            dmnonce_result_message(
                DMNONCE_E_BAD_PUSH as u32,
                buf.as_mut_ptr(),
                buf.len(),
                &mut len,
            )
        };
        assert_eq!(r, DMNONCE_OK);
        let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
        assert_eq!(text.to_str().unwrap(), DMNONCE_E_BAD_PUSH.message());
    }
}
