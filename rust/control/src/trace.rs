//! The structured details of the audit entries a trace is drawn from:
//! the daemon writes them (as JSON in the entry's `detail`), `dmnoncectl
//! trace` reads them back. One shape, here, for both sides. No field holds
//! a secret or a nonce value: nonces are named by role and generation.

use serde::{Deserialize, Serialize};

/// Audit event name of a decided notification ([`NotificationRecord`]).
pub const NOTIFICATION: &str = "notification";
/// Audit event name of one message of a resync session ([`MessageRecord`]).
pub const SESSION_MESSAGE: &str = "session-message";

/// A Package #0 the daemon decided on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRecord {
    pub session_id: u16,
    /// `stored-nonce`, `default-nonce-text`, `default-nonce-zero`, `rejected`.
    pub verdict: String,
    /// What verified it: `server nonce current` / `server nonce previous`
    /// (with the server secret's slot), `default nonce text|zero`; empty
    /// when nothing did.
    #[serde(default)]
    pub matched: String,
    /// What the daemon did (a push `outcome` name of docs/protocol.md).
    pub outcome: String,
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Device to DM server (Pkg#1, Pkg#3, …).
    ToServer,
    /// DM server to device (Pkg#2, Pkg#4, …).
    ToDevice,
}

/// Which nonce signed a message: the signer's role and the nonce's
/// generation in this session (0: the one the session started with).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonceUse {
    /// `client` (the device signs with the client nonce) or `server`.
    pub role: String,
    pub generation: u32,
    /// Where it came from: `default-text`, `default-zero`, `stored`,
    /// `chal-pkgN` (the `Chal` carried by package N).
    pub source: String,
}

/// One message of a resync session, in the order sent or received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub session_id: u16,
    pub direction: Direction,
    /// The change request's package number (Pkg#1 first; each message one
    /// more, so a 401 retry or a continuation gets its own number).
    pub package: u32,
    /// SyncML `MsgID`.
    pub msg_id: u32,
    /// The commands, short: `Alert 1200`, `Replace`, `Status 212`, `Chal`.
    pub commands: Vec<String>,
    /// Status codes the message carries, in order.
    pub statuses: Vec<u16>,
    /// The nonce that signed it, when the message was readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<NonceUse>,
    /// Why the session did not accept it (a failure), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_record_round_trips_and_names_its_direction() {
        let m = MessageRecord {
            session_id: 4660,
            direction: Direction::ToServer,
            package: 1,
            msg_id: 1,
            commands: vec!["Alert 1200".into(), "Replace".into()],
            statuses: vec![],
            nonce: Some(NonceUse {
                role: "client".into(),
                generation: 0,
                source: "default-text".into(),
            }),
            problem: None,
        };
        let text = serde_json::to_string(&m).unwrap();
        assert!(text.contains("\"direction\":\"to-server\""), "{text}");
        assert_eq!(serde_json::from_str::<MessageRecord>(&text).unwrap(), m);
    }
}
