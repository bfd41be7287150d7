//! What the server role is given and what it answers.

use crate::model::Command;
use crate::{
    AuthScheme, Failure, NonceCommit, Outgoing, Secret, SessionIdFormat, SessionOutcome,
    StartingNonces,
};

/// A secret rotation at Pkg#4: Replace `node_uri` with `new_secret`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretRotation {
    /// The client's DM tree URI of the SRVCRED AAuthSecret.
    pub node_uri: String,
    /// The new server secret (must be UTF-8 text: it travels as item data).
    pub new_secret: Secret,
}

/// Everything the server role needs.
#[derive(Clone, Debug)]
pub struct ServerParams {
    /// Our server id: the username in our credentials.
    pub server_id: String,
    /// Our URL (SyncHdr Source).
    pub server_uri: String,
    /// The client's username (its CLCRED AAuthName).
    pub client_name: String,
    /// CLCRED AAuthSecret.
    pub client_secret: Secret,
    /// SRVCRED AAuthSecret.
    pub server_secret: Secret,
    /// The session id sent in Package #0.
    pub session_id: u16,
    /// How `SessionID` must be written; `None` accepts hex and decimal.
    pub session_id_format: Option<SessionIdFormat>,
    /// Credential scheme.
    pub scheme: AuthScheme,
    /// The nonces Pkg#1 and Pkg#2 are checked and signed with: the
    /// default nonce (the reading the fallback Package #0 was signed with)
    /// for a resync session, the stored nonces for a normal session.
    pub nonces: StartingNonces,
    /// Management commands to send in Pkg#2 (CmdIDs are renumbered).
    pub management: Vec<Command>,
    /// Rotate the server secret at Pkg#4.
    pub rotate_server_secret: Option<SecretRotation>,
    /// Split Pkg#2 into messages of at most this many commands.
    pub max_commands_per_message: Option<usize>,
}

/// What the caller does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerStep {
    /// Persist `commit` (if any) atomically, then send `out`; more follows.
    Reply {
        /// Values to persist first.
        commit: Option<NonceCommit>,
        /// The answer.
        out: Outgoing,
    },
    /// Persist `outcome.commit`, send `out`: the session is complete.
    Finish {
        /// The last answer.
        out: Outgoing,
        /// What was committed.
        outcome: SessionOutcome,
    },
    /// The session stopped; send `out` if present (a 401/407 answer).
    Failed {
        /// A last answer for the client, if one is owed.
        out: Option<Outgoing>,
        /// Why, and what was committed before.
        failure: Failure,
    },
}
