//! Error classes of the control protocol.
//!
//! The string names are part of the wire contract and the numeric codes are
//! part of the C ABI (`DMNONCE_E_*`): neither is ever reused for another
//! meaning. A retired code stays listed here as a comment.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One error class per thing a caller can do something about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is not valid JSON, misses a field, or a field is malformed.
    BadRequest,
    /// The request's protocol version is not spoken by this daemon.
    UnsupportedVersion,
    /// A line exceeded [`crate::MAX_FRAME_LEN`]; the connection is closed.
    FrameTooLarge,
    /// The peer's uid is not on the daemon's allow-list.
    PermissionDenied,
    /// No account with that server id.
    UnknownAccount,
    /// An account with that server id already exists.
    AccountExists,
    /// The push data could not be decoded (truncated WSP, bad SMS, bad Package #0).
    BadPush,
    /// The push decoded but is not for us (content type, application id).
    PushRefused,
    /// The account's policy forbids the requested operation.
    PolicyDenied,
    /// The operation is not possible in the account's current state
    /// (e.g. a resync is already running).
    WrongState,
    /// The persistent store failed; nothing was changed.
    Store,
    /// The daemon is overloaded or shutting down; retry later.
    Busy,
    /// A daemon-side bug; the message says what.
    Internal,
    /// A code this client does not know (a newer daemon).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// Every class, in declaration order: for the tables and tests of the
    /// bindings that map each class to their own (C codes, Java exception
    /// classes). A new class goes here as well as into [`ErrorCode::as_str`].
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::BadRequest,
        ErrorCode::UnsupportedVersion,
        ErrorCode::FrameTooLarge,
        ErrorCode::PermissionDenied,
        ErrorCode::UnknownAccount,
        ErrorCode::AccountExists,
        ErrorCode::BadPush,
        ErrorCode::PushRefused,
        ErrorCode::PolicyDenied,
        ErrorCode::WrongState,
        ErrorCode::Store,
        ErrorCode::Busy,
        ErrorCode::Internal,
        ErrorCode::Unknown,
    ];

    /// Stable wire name, as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::UnknownAccount => "unknown_account",
            ErrorCode::AccountExists => "account_exists",
            ErrorCode::BadPush => "bad_push",
            ErrorCode::PushRefused => "push_refused",
            ErrorCode::PolicyDenied => "policy_denied",
            ErrorCode::WrongState => "wrong_state",
            ErrorCode::Store => "store",
            ErrorCode::Busy => "busy",
            ErrorCode::Internal => "internal",
            ErrorCode::Unknown => "unknown",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as carried in a response: a class and a human-readable message.
/// Messages never contain secrets or nonces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    pub code: ErrorCode,
    pub message: String,
}

impl WireError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        WireError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for WireError {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn all_lists_each_class_once_and_each_round_trips() {
        let names: HashSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
    }
}
