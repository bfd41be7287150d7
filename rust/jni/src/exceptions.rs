//! Which Java exception each error becomes.
//!
//! One `org.dmnonce` class per error class of the control protocol
//! (`rust/control/src/error.rs`), plus one per way the connection itself can
//! fail. The Java side (`ErrorClass.java`) lists the same classes; the JUnit
//! suite throws every one of them through this table (`NativeTesting`).

use dmnonce_control::{ClientError, ErrorCode};

/// A Java exception to throw: JNI class name and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JavaException {
    pub class: &'static str,
    pub message: String,
}

impl JavaException {
    pub fn new(class: &'static str, message: impl Into<String>) -> Self {
        JavaException {
            class,
            message: message.into(),
        }
    }
}

pub(crate) const DAEMON_UNAVAILABLE: &str = "org/dmnonce/DaemonUnavailableException";
pub(crate) const TIMEOUT: &str = "org/dmnonce/TimeoutException";
pub(crate) const PROTOCOL: &str = "org/dmnonce/ProtocolException";
pub(crate) const CLOSED: &str = "org/dmnonce/ClosedException";

/// Thrown for a panic inside the library and when building the intended
/// exception failed (libsignal does the same): a bug, not a condition a DM
/// client is expected to handle.
pub(crate) const ASSERTION_ERROR: &str = "java/lang/AssertionError";
/// Last resort when even `AssertionError` cannot be constructed.
pub(crate) const RUNTIME_EXCEPTION: &str = "java/lang/RuntimeException";
pub(crate) const NULL_POINTER: &str = "java/lang/NullPointerException";
pub(crate) const ILLEGAL_ARGUMENT: &str = "java/lang/IllegalArgumentException";

/// The exception class for an error the daemon answered with.
pub(crate) fn class_for_code(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::BadRequest => "org/dmnonce/BadRequestException",
        ErrorCode::UnsupportedVersion => "org/dmnonce/UnsupportedVersionException",
        ErrorCode::FrameTooLarge => "org/dmnonce/FrameTooLargeException",
        ErrorCode::PermissionDenied => "org/dmnonce/PermissionDeniedException",
        ErrorCode::UnknownAccount => "org/dmnonce/UnknownAccountException",
        ErrorCode::AccountExists => "org/dmnonce/AccountExistsException",
        ErrorCode::BadPush => "org/dmnonce/BadPushException",
        ErrorCode::PushRefused => "org/dmnonce/PushRefusedException",
        ErrorCode::PolicyDenied => "org/dmnonce/PolicyDeniedException",
        ErrorCode::WrongState => "org/dmnonce/WrongStateException",
        ErrorCode::Store => "org/dmnonce/StoreException",
        ErrorCode::Busy => "org/dmnonce/BusyException",
        ErrorCode::Internal => "org/dmnonce/InternalException",
        ErrorCode::Unknown => "org/dmnonce/UnknownErrorException",
    }
}

/// The exception for a failed request.
///
/// `Closed` covers both "the daemon hung up" and "this object was closed":
/// either way the connection is gone and the caller has to connect again.
/// An I/O error on an open connection means the same to a caller as a daemon
/// that cannot be reached.
pub(crate) fn for_client_error(error: &ClientError) -> JavaException {
    let class = match error {
        ClientError::Connect { .. } | ClientError::Io(_) => DAEMON_UNAVAILABLE,
        ClientError::Timeout => TIMEOUT,
        ClientError::Closed => CLOSED,
        ClientError::Protocol(_) => PROTOCOL,
        ClientError::UnsupportedVersion { .. } => class_for_code(ErrorCode::UnsupportedVersion),
        ClientError::Daemon(wire) => {
            // The daemon's message is the useful part; the class already
            // carries the code.
            return JavaException::new(class_for_code(wire.code), wire.message.clone());
        }
    };
    JavaException::new(class, error.to_string())
}

/// The `ErrorClass` wire name Java uses for the same error (events cannot
/// throw, so the event thread hands Java this name and a message instead).
pub(crate) fn error_class_name(error: &ClientError) -> &'static str {
    match error {
        ClientError::Connect { .. } | ClientError::Io(_) => "daemon_unavailable",
        ClientError::Timeout => "timeout",
        ClientError::Closed => "closed",
        ClientError::Protocol(_) => "protocol",
        ClientError::UnsupportedVersion { .. } => ErrorCode::UnsupportedVersion.as_str(),
        ClientError::Daemon(wire) => wire.code.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmnonce_control::WireError;

    #[test]
    fn daemon_errors_keep_their_class_and_message() {
        let e = ClientError::Daemon(WireError::new(ErrorCode::BadPush, "truncated WSP"));
        assert_eq!(
            for_client_error(&e),
            JavaException::new("org/dmnonce/BadPushException", "truncated WSP")
        );
        assert_eq!(error_class_name(&e), "bad_push");
    }

    #[test]
    fn every_code_has_a_class_named_after_it() {
        // The Java class name is the camel-cased wire name (+ "Exception"),
        // except `unknown`, which would clash with nothing but reads badly.
        for code in ErrorCode::ALL
            .into_iter()
            .filter(|c| *c != ErrorCode::Unknown)
        {
            let camel: String = code
                .as_str()
                .split('_')
                .map(|w| w[..1].to_uppercase() + &w[1..])
                .collect();
            assert_eq!(
                class_for_code(code),
                format!("org/dmnonce/{camel}Exception"),
                "{code}"
            );
        }
    }

    #[test]
    fn connection_failures_map_to_their_own_classes() {
        let connect = ClientError::Connect {
            path: "/nonexistent".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(for_client_error(&connect).class, DAEMON_UNAVAILABLE);
        assert_eq!(for_client_error(&ClientError::Timeout).class, TIMEOUT);
        assert_eq!(for_client_error(&ClientError::Closed).class, CLOSED);
        assert_eq!(
            for_client_error(&ClientError::Protocol("x".into())).class,
            PROTOCOL
        );
    }
}
