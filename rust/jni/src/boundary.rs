//! The panic and error boundary every native method body runs inside.
//!
//! As in rustls-ffi's `panic.rs` and libsignal's JNI layer: a Rust panic must
//! never unwind into the JVM (undefined behaviour), and an error must reach
//! Java as an exception it can catch, never as a silent null or zero.

use crate::exceptions::{self, JavaException};
use dmnonce_control::ClientError;
use jni::JNIEnv;
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Everything a native method body can fail with.
#[derive(Debug)]
pub(crate) enum BridgeError {
    /// A request to the daemon failed.
    Client(ClientError),
    /// The Java object was already closed (a zero handle reached Rust).
    Closed,
    /// A required argument was `null`.
    NullArgument(&'static str),
    /// An argument the Java classes never pass (e.g. an unknown enum name).
    IllegalArgument(String),
    /// A JNI call failed. With `JavaException` an exception is already
    /// pending and is left to propagate.
    Jni(jni::errors::Error),
}

impl From<ClientError> for BridgeError {
    fn from(e: ClientError) -> Self {
        BridgeError::Client(e)
    }
}

impl From<jni::errors::Error> for BridgeError {
    fn from(e: jni::errors::Error) -> Self {
        BridgeError::Jni(e)
    }
}

impl BridgeError {
    /// The Java exception for this error; `None` when one is already pending.
    fn to_java(&self) -> Option<JavaException> {
        use jni::errors::Error as J;
        Some(match self {
            BridgeError::Client(e) => exceptions::for_client_error(e),
            BridgeError::Closed => JavaException::new(
                exceptions::CLOSED,
                "this dmnonce object is closed; connect again",
            ),
            BridgeError::NullArgument(name) => {
                JavaException::new(exceptions::NULL_POINTER, format!("{name} must not be null"))
            }
            BridgeError::IllegalArgument(msg) => {
                JavaException::new(exceptions::ILLEGAL_ARGUMENT, msg.clone())
            }
            BridgeError::Jni(J::JavaException) => return None,
            BridgeError::Jni(J::NullPtr(what) | J::NullDeref(what)) => {
                JavaException::new(exceptions::NULL_POINTER, format!("null in {what}"))
            }
            BridgeError::Jni(e) => JavaException::new(
                exceptions::ASSERTION_ERROR,
                format!("dmnonce_jni: JNI call failed: {e}"),
            ),
        })
    }
}

/// What a native method returns when it ends by throwing. The JVM ignores
/// a native's return value while an exception is pending, so this only has
/// to be a valid value of the type: zero, false or null.
pub(crate) trait ThrownResult {
    const THROWN: Self;
}

impl ThrownResult for () {
    const THROWN: Self = ();
}

impl ThrownResult for jni::sys::jboolean {
    const THROWN: Self = jni::sys::JNI_FALSE;
}

impl ThrownResult for jni::sys::jint {
    const THROWN: Self = 0;
}

impl ThrownResult for jni::sys::jlong {
    const THROWN: Self = 0;
}

/// Also `jobjectArray`, which is the same type.
impl ThrownResult for jni::sys::jobject {
    const THROWN: Self = std::ptr::null_mut();
}

/// Declares a native method of a Java class: the exported `extern "system"`
/// function, with the `JNIEnv` and the `jclass` of a static native method
/// first, whose body runs inside [`run`]. The caller writes the whole
/// `Java_<class>_<method>` symbol, so that it stays greppable, names the
/// body's `JNIEnv` (or `_`), and may use `'l`, the lifetime of the call's
/// local references, in the parameter types.
macro_rules! native {
    (
        $(#[$attr:meta])*
        fn $name:ident($env:pat $(, $arg:ident: $ty:ty)* $(,)?) $(-> $ret:ty)?
        $body:block
    ) => {
        $(#[$attr])*
        #[no_mangle]
        pub extern "system" fn $name<'l>(
            mut env: ::jni::JNIEnv<'l>,
            _class: ::jni::objects::JClass<'l>,
            $($arg: $ty),*
        ) $(-> $ret)? {
            $crate::boundary::run(&mut env, |$env| $body)
        }
    };
}

/// Runs a native method body: returns its value, or throws the matching
/// Java exception (and returns [`ThrownResult::THROWN`], which Java never
/// sees because an exception is pending).
pub(crate) fn run<'local, T: ThrownResult>(
    env: &mut JNIEnv<'local>,
    body: impl FnOnce(&mut JNIEnv<'local>) -> Result<T, BridgeError>,
) -> T {
    // AssertUnwindSafe: after a panic the only state touched again is the
    // JNIEnv (still valid) and handle mutexes, which recover from poisoning.
    let outcome = catch_unwind(AssertUnwindSafe(|| body(env)));
    match outcome {
        Ok(Ok(value)) => value,
        Ok(Err(error)) => {
            if let Some(exception) = error.to_java() {
                throw(env, &exception);
            }
            T::THROWN
        }
        Err(payload) => {
            let exception = JavaException::new(
                exceptions::ASSERTION_ERROR,
                format!("dmnonce_jni panicked: {}", panic_message(payload.as_ref())),
            );
            // A half-finished body may have left an exception pending; the
            // panic is the more important news.
            let _ = env.exception_clear();
            throw(env, &exception);
            T::THROWN
        }
    }
}

/// Text of a panic payload (`panic!` with a literal or a format string).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// Throws `exception`. If its class cannot be found or constructed (a
/// stripped or mismatched Java side), falls back to `AssertionError`, then
/// `RuntimeException`, so the caller always gets *some* exception.
pub(crate) fn throw(env: &mut JNIEnv, exception: &JavaException) {
    // An exception already pending (e.g. OutOfMemoryError from a failed
    // allocation) is the more accurate report; JNI forbids throwing over it.
    if env.exception_check().unwrap_or(true) {
        return;
    }
    if env
        .throw_new(exception.class, exception.message.as_str())
        .is_ok()
    {
        return;
    }
    // FindClass failed with NoClassDefFoundError pending: replace it.
    let _ = env.exception_clear();
    let text = format!(
        "dmnonce_jni could not throw {}: {}",
        exception.class, exception.message
    );
    for fallback in [exceptions::ASSERTION_ERROR, exceptions::RUNTIME_EXCEPTION] {
        if env.throw_new(fallback, text.as_str()).is_ok() {
            return;
        }
        let _ = env.exception_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages_are_extracted() {
        let literal = catch_unwind(|| panic!("boom")).unwrap_err();
        assert_eq!(panic_message(literal.as_ref()), "boom");
        let formatted = catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
        assert_eq!(panic_message(formatted.as_ref()), "boom 7");
    }

    #[test]
    fn closed_and_null_map_to_java_classes() {
        assert_eq!(
            BridgeError::Closed.to_java().map(|e| e.class),
            Some(exceptions::CLOSED)
        );
        assert_eq!(
            BridgeError::NullArgument("data").to_java(),
            Some(JavaException::new(
                exceptions::NULL_POINTER,
                "data must not be null"
            ))
        );
        assert_eq!(
            BridgeError::Jni(jni::errors::Error::JavaException).to_java(),
            None
        );
    }
}
