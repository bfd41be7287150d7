//! Result codes of the C ABI.
//!
//! Numbers are stable: a code is never renumbered nor reused for another
//! meaning. A retired code stays listed here as a comment. The library's own
//! failure classes start at 7100; the daemon's error classes
//! (`dmnonce_control::ErrorCode`, one each) start at 7200.

use dmnonce_control::{ClientError, ErrorCode};

/// Result of every `dmnonce_*` function that can fail.
///
/// `DMNONCE_OK` is 0; every failure class has its own stable number. Pass a
/// code to `dmnonce_result_message()` for a fixed description, or read the
/// handle's last-error message for the details of the failed call.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum dmnonce_result {
    /// Success.
    DMNONCE_OK = 0,
    /// A required pointer argument was NULL.
    DMNONCE_E_NULL_PARAMETER = 7100,
    /// The caller's buffer is too small; `*out_len` holds the required size.
    DMNONCE_E_INSUFFICIENT_SIZE = 7101,
    /// An argument is out of range: an unknown enum value, text that is not
    /// UTF-8, or an empty list.
    DMNONCE_E_INVALID_ARGUMENT = 7102,
    /// The daemon's control socket could not be reached (not running, wrong
    /// path, or no permission on the socket file).
    DMNONCE_E_DAEMON_UNAVAILABLE = 7103,
    /// Reading or writing the control socket failed.
    DMNONCE_E_IO = 7104,
    /// The daemon did not answer in time (or no event arrived in time).
    DMNONCE_E_TIMEOUT = 7105,
    /// The daemon closed the connection; connect again.
    DMNONCE_E_CONNECTION_CLOSED = 7106,
    /// The daemon sent something this library does not understand.
    DMNONCE_E_PROTOCOL = 7107,
    /// A bug inside libdmnonce was caught at the C boundary; the handle
    /// should be closed.
    DMNONCE_E_PANIC = 7108,
    /// Daemon: the request was malformed (`bad_request`).
    DMNONCE_E_BAD_REQUEST = 7200,
    /// Daemon: it speaks another protocol version (`unsupported_version`).
    DMNONCE_E_UNSUPPORTED_VERSION = 7201,
    /// Daemon: a request line was too large (`frame_too_large`).
    DMNONCE_E_FRAME_TOO_LARGE = 7202,
    /// Daemon: this process's uid is not allowed (`permission_denied`).
    DMNONCE_E_PERMISSION_DENIED = 7203,
    /// Daemon: no account with that server id (`unknown_account`).
    DMNONCE_E_UNKNOWN_ACCOUNT = 7204,
    /// Daemon: an account with that server id exists (`account_exists`).
    DMNONCE_E_ACCOUNT_EXISTS = 7205,
    /// Daemon: the push bytes could not be decoded (`bad_push`).
    DMNONCE_E_BAD_PUSH = 7206,
    /// Daemon: the push decoded but is not a DM notification (`push_refused`).
    DMNONCE_E_PUSH_REFUSED = 7207,
    /// Daemon: the account's policy forbids it (`policy_denied`).
    DMNONCE_E_POLICY_DENIED = 7208,
    /// Daemon: not possible in the account's current state (`wrong_state`).
    DMNONCE_E_WRONG_STATE = 7209,
    /// Daemon: its store failed; nothing changed (`store`).
    DMNONCE_E_STORE = 7210,
    /// Daemon: overloaded or shutting down; retry later (`busy`).
    DMNONCE_E_BUSY = 7211,
    /// Daemon: an internal error (`internal`).
    DMNONCE_E_INTERNAL = 7212,
    /// Daemon: an error class newer than this library.
    DMNONCE_E_UNKNOWN_DAEMON_ERROR = 7213,
}

use dmnonce_result::*;

/// Every code, for the message table and its tests.
const ALL_RESULTS: [dmnonce_result; 24] = [
    DMNONCE_OK,
    DMNONCE_E_NULL_PARAMETER,
    DMNONCE_E_INSUFFICIENT_SIZE,
    DMNONCE_E_INVALID_ARGUMENT,
    DMNONCE_E_DAEMON_UNAVAILABLE,
    DMNONCE_E_IO,
    DMNONCE_E_TIMEOUT,
    DMNONCE_E_CONNECTION_CLOSED,
    DMNONCE_E_PROTOCOL,
    DMNONCE_E_PANIC,
    DMNONCE_E_BAD_REQUEST,
    DMNONCE_E_UNSUPPORTED_VERSION,
    DMNONCE_E_FRAME_TOO_LARGE,
    DMNONCE_E_PERMISSION_DENIED,
    DMNONCE_E_UNKNOWN_ACCOUNT,
    DMNONCE_E_ACCOUNT_EXISTS,
    DMNONCE_E_BAD_PUSH,
    DMNONCE_E_PUSH_REFUSED,
    DMNONCE_E_POLICY_DENIED,
    DMNONCE_E_WRONG_STATE,
    DMNONCE_E_STORE,
    DMNONCE_E_BUSY,
    DMNONCE_E_INTERNAL,
    DMNONCE_E_UNKNOWN_DAEMON_ERROR,
];

impl dmnonce_result {
    pub fn from_u32(code: u32) -> Option<dmnonce_result> {
        ALL_RESULTS.iter().copied().find(|c| *c as u32 == code)
    }

    /// The fixed description returned by `dmnonce_result_message`.
    pub fn message(self) -> &'static str {
        match self {
            DMNONCE_OK => "success",
            DMNONCE_E_NULL_PARAMETER => "a required pointer argument was NULL",
            DMNONCE_E_INSUFFICIENT_SIZE => {
                "output buffer too small (the required size is in *out_len)"
            }
            DMNONCE_E_INVALID_ARGUMENT => "invalid argument",
            DMNONCE_E_DAEMON_UNAVAILABLE => {
                "cannot reach dmnonced's control socket (is the daemon running?)"
            }
            DMNONCE_E_IO => "control socket I/O failed",
            DMNONCE_E_TIMEOUT => "timed out",
            DMNONCE_E_CONNECTION_CLOSED => "dmnonced closed the connection",
            DMNONCE_E_PROTOCOL => "unexpected message from dmnonced",
            DMNONCE_E_PANIC => "internal error in libdmnonce (caught panic)",
            DMNONCE_E_BAD_REQUEST => "dmnonced: malformed request",
            DMNONCE_E_UNSUPPORTED_VERSION => "dmnonced: unsupported protocol version",
            DMNONCE_E_FRAME_TOO_LARGE => "dmnonced: request too large",
            DMNONCE_E_PERMISSION_DENIED => "dmnonced: permission denied for this user",
            DMNONCE_E_UNKNOWN_ACCOUNT => "dmnonced: no account with that server id",
            DMNONCE_E_ACCOUNT_EXISTS => "dmnonced: an account with that server id exists",
            DMNONCE_E_BAD_PUSH => "dmnonced: push could not be decoded",
            DMNONCE_E_PUSH_REFUSED => "dmnonced: push is not a DM notification",
            DMNONCE_E_POLICY_DENIED => "dmnonced: the account's policy forbids this",
            DMNONCE_E_WRONG_STATE => "dmnonced: not possible in the account's current state",
            DMNONCE_E_STORE => "dmnonced: store failure, nothing changed",
            DMNONCE_E_BUSY => "dmnonced: busy, retry later",
            DMNONCE_E_INTERNAL => "dmnonced: internal error",
            DMNONCE_E_UNKNOWN_DAEMON_ERROR => "dmnonced: error unknown to this library",
        }
    }
}

impl From<ErrorCode> for dmnonce_result {
    fn from(code: ErrorCode) -> Self {
        match code {
            ErrorCode::BadRequest => DMNONCE_E_BAD_REQUEST,
            ErrorCode::UnsupportedVersion => DMNONCE_E_UNSUPPORTED_VERSION,
            ErrorCode::FrameTooLarge => DMNONCE_E_FRAME_TOO_LARGE,
            ErrorCode::PermissionDenied => DMNONCE_E_PERMISSION_DENIED,
            ErrorCode::UnknownAccount => DMNONCE_E_UNKNOWN_ACCOUNT,
            ErrorCode::AccountExists => DMNONCE_E_ACCOUNT_EXISTS,
            ErrorCode::BadPush => DMNONCE_E_BAD_PUSH,
            ErrorCode::PushRefused => DMNONCE_E_PUSH_REFUSED,
            ErrorCode::PolicyDenied => DMNONCE_E_POLICY_DENIED,
            ErrorCode::WrongState => DMNONCE_E_WRONG_STATE,
            ErrorCode::Store => DMNONCE_E_STORE,
            ErrorCode::Busy => DMNONCE_E_BUSY,
            ErrorCode::Internal => DMNONCE_E_INTERNAL,
            ErrorCode::Unknown => DMNONCE_E_UNKNOWN_DAEMON_ERROR,
        }
    }
}

/// A failed call: the code returned to C and the message kept on the handle.
#[derive(Debug)]
pub(crate) struct Failure {
    pub code: dmnonce_result,
    pub message: String,
}

impl Failure {
    pub fn new(code: dmnonce_result, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    pub fn null(param: &str) -> Failure {
        Failure::new(
            DMNONCE_E_NULL_PARAMETER,
            format!("argument `{param}` is NULL"),
        )
    }

    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(DMNONCE_E_INVALID_ARGUMENT, message)
    }

    pub fn insufficient(what: &str, needed: usize, cap: usize) -> Failure {
        Failure::new(
            DMNONCE_E_INSUFFICIENT_SIZE,
            format!("{what} needs {needed} bytes, the buffer holds {cap}"),
        )
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        let code = match &e {
            ClientError::Connect { .. } => DMNONCE_E_DAEMON_UNAVAILABLE,
            ClientError::Io(_) => DMNONCE_E_IO,
            ClientError::Timeout => DMNONCE_E_TIMEOUT,
            ClientError::Closed => DMNONCE_E_CONNECTION_CLOSED,
            ClientError::Protocol(_) => DMNONCE_E_PROTOCOL,
            ClientError::UnsupportedVersion { .. } => DMNONCE_E_UNSUPPORTED_VERSION,
            ClientError::Daemon(w) => w.code.into(),
        };
        // Daemon messages never quote secrets or nonces (docs/protocol.md).
        Failure::new(code, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn numbers_are_stable() {
        // These are ABI: changing one breaks every compiled agent.
        assert_eq!(DMNONCE_OK as u32, 0);
        assert_eq!(DMNONCE_E_NULL_PARAMETER as u32, 7100);
        assert_eq!(DMNONCE_E_PANIC as u32, 7108);
        assert_eq!(DMNONCE_E_BAD_REQUEST as u32, 7200);
        assert_eq!(DMNONCE_E_BAD_PUSH as u32, 7206);
        assert_eq!(DMNONCE_E_UNKNOWN_DAEMON_ERROR as u32, 7213);
    }

    #[test]
    fn every_code_has_its_own_number_and_message() {
        let numbers: HashSet<u32> = ALL_RESULTS.iter().map(|c| *c as u32).collect();
        let messages: HashSet<&str> = ALL_RESULTS.iter().map(|c| c.message()).collect();
        assert_eq!(numbers.len(), ALL_RESULTS.len());
        assert_eq!(messages.len(), ALL_RESULTS.len());
        for c in ALL_RESULTS {
            assert_eq!(dmnonce_result::from_u32(c as u32), Some(c));
        }
        assert_eq!(dmnonce_result::from_u32(7099), None);
    }

    #[test]
    fn every_daemon_error_class_maps_to_a_distinct_code() {
        let all = ErrorCode::ALL;
        let mapped: HashSet<dmnonce_result> = all.iter().map(|c| (*c).into()).collect();
        assert_eq!(mapped.len(), all.len());
        assert!(mapped.iter().all(|c| (7200..7300).contains(&(*c as u32))));
    }

    #[test]
    fn a_daemon_in_another_protocol_version_is_unsupported_version() {
        let f = Failure::from(ClientError::UnsupportedVersion { daemon: 2 });
        assert_eq!(f.code, DMNONCE_E_UNSUPPORTED_VERSION);
        assert!(f.message.contains("version 2"), "{}", f.message);
    }
}
