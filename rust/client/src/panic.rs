//! The panic boundary: no Rust panic may unwind into C (that is undefined
//! behaviour and would take the agent down). Every exported function wraps
//! its body in [`ffi_panic_boundary!`], those that make a request on a
//! handle through `client::with_client`, which does it for them. A caught
//! panic becomes `DMNONCE_E_PANIC` (or a NULL pointer / nothing for
//! functions that return no result code).

use crate::result::dmnonce_result;
use std::ffi::c_char;

/// What an exported function returns when its body panicked.
pub(crate) trait PanicDefault {
    fn on_panic() -> Self;
}

impl PanicDefault for dmnonce_result {
    fn on_panic() -> Self {
        dmnonce_result::DMNONCE_E_PANIC
    }
}

impl PanicDefault for () {
    fn on_panic() -> Self {}
}

impl PanicDefault for *const c_char {
    fn on_panic() -> Self {
        std::ptr::null()
    }
}

/// Runs the body under `catch_unwind` and maps a panic to
/// [`PanicDefault::on_panic`]. `return` inside the body returns from it.
macro_rules! ffi_panic_boundary {
    ($($body:tt)*) => {{
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(
            || { $($body)* },
        )) {
            Ok(value) => value,
            Err(_) => $crate::panic::PanicDefault::on_panic(),
        }
    }};
}

#[cfg(test)]
mod tests {
    use crate::result::dmnonce_result;

    fn boom(fail: bool) -> dmnonce_result {
        ffi_panic_boundary! {
            if fail {
                panic!("deliberate test panic");
            }
            dmnonce_result::DMNONCE_OK
        }
    }

    #[test]
    fn a_panic_becomes_the_panic_code() {
        assert_eq!(boom(true), dmnonce_result::DMNONCE_E_PANIC);
        assert_eq!(boom(false), dmnonce_result::DMNONCE_OK);
    }

    #[test]
    fn pointer_results_become_null() {
        let p: *const std::ffi::c_char = ffi_panic_boundary! {
            if true { panic!("deliberate test panic") }
            c"x".as_ptr()
        };
        assert!(p.is_null());
    }
}
