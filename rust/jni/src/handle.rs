//! Native handles: a `jlong` that owns a `Box<T>`.
//!
//! Ownership: [`into_raw`] hands the box to Java, which keeps the value in a
//! private field and gives it back exactly once to [`destroy`]. The Java
//! classes serialise every use of a handle with its close under one lock and
//! set the field to zero when closing, so Rust never sees a freed handle; a
//! zero handle is still checked here and thrown as `ClosedException`, so a
//! Java-side slip becomes an exception rather than a crash.

use crate::boundary::BridgeError;
use jni::sys::jlong;

/// Moves `value` to the heap and returns the handle Java keeps.
pub(crate) fn into_raw<T>(value: T) -> jlong {
    Box::into_raw(Box::new(value)) as jlong
}

/// Borrows the value behind a live handle.
///
/// # Safety
/// `raw` is zero or came from [`into_raw::<T>`] and has not been passed to
/// [`destroy`]; the Java lock keeps it so for the duration of the call.
pub(crate) unsafe fn borrow<'a, T>(raw: jlong) -> Result<&'a T, BridgeError> {
    let ptr = raw as *const T;
    // SAFETY: per the contract above, a non-zero `raw` points at a live T.
    unsafe { ptr.as_ref() }.ok_or(BridgeError::Closed)
}

/// Takes the value back from Java; zero (already closed) gives `None`.
///
/// # Safety
/// As for [`borrow`]; after this call `raw` must never be used again.
pub(crate) unsafe fn destroy<T>(raw: jlong) -> Option<Box<T>> {
    if raw == 0 {
        return None;
    }
    // SAFETY: per the contract above, `raw` came from Box::into_raw::<T>.
    Some(unsafe { Box::from_raw(raw as *mut T) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_round_trip_and_zero_is_closed() {
        let raw = into_raw(String::from("x"));
        assert_eq!(unsafe { borrow::<String>(raw) }.unwrap(), "x");
        assert_eq!(
            unsafe { destroy::<String>(raw) }
                .as_deref()
                .map(String::as_str),
            Some("x")
        );
        assert!(matches!(
            unsafe { borrow::<String>(0) },
            Err(BridgeError::Closed)
        ));
        assert!(unsafe { destroy::<String>(0) }.is_none());
    }
}
