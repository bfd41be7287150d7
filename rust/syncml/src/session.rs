//! What both resync roles share: outgoing messages, nonce commits,
//! outcomes and failures, and the sign/verify step of every message.

use std::fmt;

use thiserror::Error;

use crate::hmac::{self, HmacError};
use crate::model::{Command, Location, Status, SyncBody, SyncHdr, SyncMl, VER_DTD, VER_PROTO};
use crate::{cred, encode, AuthScheme, DecodeError, EncodeError, Encoding, Nonce, Secret};

/// A message to send: the HTTP body, its content type, and the value of the
/// `x-syncml-hmac` header when the HMAC scheme is in use.
#[derive(Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The HTTP body.
    pub body: Vec<u8>,
    /// The HTTP `Content-Type`.
    pub content_type: &'static str,
    /// The `x-syncml-hmac` header value ([`hmac::HEADER_NAME`]).
    pub hmac_header: Option<String>,
}

impl fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outgoing")
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .field("content_type", &self.content_type)
            .field("hmac_header", &self.hmac_header.as_ref().map(|_| ".."))
            .finish()
    }
}

/// Which of the committed values the peer has been seen using, so the
/// store may drop the previous value it kept as a fallback.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Confirmed {
    /// The client nonce.
    pub client_nonce: bool,
    /// The server nonce.
    pub server_nonce: bool,
    /// The server secret.
    pub server_secret: bool,
}

/// Values to persist, in one transaction, before the accompanying message
/// is sent (or the session reported done).
///
/// Two-phase, as docs/design.md asks: a committed value becomes the current one
/// while the store keeps the previous one as a fallback; a `confirmed` flag
/// says the peer has been seen using the new value, so the previous one
/// may go. The client nonce (CLCRED AAuthData) authenticates the client to
/// the server; the server nonce (SRVCRED AAuthData) authenticates the
/// server, Package #0 included.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NonceCommit {
    /// New client nonce.
    pub client_nonce: Option<Nonce>,
    /// New server nonce.
    pub server_nonce: Option<Nonce>,
    /// New server AAuthSecret (change request step 6).
    pub server_secret: Option<Secret>,
    /// Values the peer has been seen using.
    pub confirmed: Confirmed,
}

impl NonceCommit {
    /// Whether there is nothing to persist.
    pub fn is_empty(&self) -> bool {
        *self == NonceCommit::default()
    }
    /// Folds a later commit into this cumulative one.
    pub(crate) fn absorb(&mut self, later: &NonceCommit) {
        if later.client_nonce.is_some() {
            self.client_nonce.clone_from(&later.client_nonce);
        }
        if later.server_nonce.is_some() {
            self.server_nonce.clone_from(&later.server_nonce);
        }
        if later.server_secret.is_some() {
            self.server_secret.clone_from(&later.server_secret);
        }
        self.confirmed.client_nonce |= later.confirmed.client_nonce;
        self.confirmed.server_nonce |= later.confirmed.server_nonce;
        self.confirmed.server_secret |= later.confirmed.server_secret;
    }
}

/// A session that completed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionOutcome {
    /// To persist now (the last step's commit; may be empty).
    pub commit: NonceCommit,
    /// Everything committed during the session, this last commit included.
    pub committed: NonceCommit,
}

/// A session that stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Why.
    pub reason: FailureReason,
    /// Everything committed (handed to the caller) before it stopped; the
    /// caller has persisted exactly this and nothing else.
    pub committed: NonceCommit,
}

/// Why a session stopped. Never carries a nonce, secret or credential.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum FailureReason {
    /// The peer's message could not be decoded.
    #[error("peer message undecodable: {0}")]
    Decode(#[from] DecodeError),
    /// Our message could not be encoded (a setting holds a character the
    /// encoding cannot carry).
    #[error("message not encodable: {0}")]
    Encode(#[from] EncodeError),
    /// The server's credentials are missing or wrong: the server is not
    /// who it claims, or the secrets differ. Nothing more is trusted.
    #[error("server credentials rejected ({0})")]
    ServerCredentials(&'static str),
    /// The client's credentials failed (after the one retry a `Chal`
    /// allows).
    #[error("client credentials rejected ({0})")]
    ClientCredentials(&'static str),
    /// The peer answered our header with this status code.
    #[error("peer answered the session with status {0}")]
    Rejected(u16),
    /// A `Chal` with a `NextNonce` was expected and is absent.
    #[error("expected a Chal with NextNonce in {0}")]
    MissingChal(&'static str),
    /// The message does not belong to this session or breaks its order.
    #[error("protocol violation: {0}")]
    Protocol(&'static str),
    /// The session already ended.
    #[error("session already finished")]
    Finished,
}

impl Failure {
    pub(crate) fn new(reason: impl Into<FailureReason>, committed: &NonceCommit) -> Failure {
        Failure {
            reason: reason.into(),
            committed: committed.clone(),
        }
    }
}

/// How one side signs what it sends.
pub(crate) struct Signer<'a> {
    pub scheme: AuthScheme,
    pub encoding: Encoding,
    pub username: &'a str,
    pub secret: &'a Secret,
    pub nonce: &'a Nonce,
}

impl Signer<'_> {
    /// Adds the credentials (Cred or HMAC header) and encodes.
    pub fn seal(&self, mut msg: SyncMl) -> Result<Outgoing, EncodeError> {
        let (user, secret, nonce) = (
            self.username.as_bytes(),
            self.secret.as_bytes(),
            self.nonce.as_bytes(),
        );
        if self.scheme == AuthScheme::Md5 {
            msg.hdr.cred = Some(cred::md5_cred(user, secret, nonce));
        }
        let body = encode(&msg, self.encoding)?;
        let hmac_header = (self.scheme == AuthScheme::Hmac)
            .then(|| hmac::header_value(self.username, secret, nonce, &body));
        Ok(Outgoing {
            body,
            content_type: self.encoding.content_type(),
            hmac_header,
        })
    }
}

/// Why a message's credentials did not pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AuthFault {
    /// No Cred / no header (status 407).
    Missing,
    /// Wrong credentials (status 401).
    Invalid,
}

impl AuthFault {
    pub fn status(self) -> u16 {
        match self {
            AuthFault::Missing => 407,
            AuthFault::Invalid => 401,
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            AuthFault::Missing => "missing",
            AuthFault::Invalid => "invalid",
        }
    }
}

/// Checks a received message's credentials with `username`, `secret`, `nonce`.
pub(crate) fn authenticate(
    scheme: AuthScheme,
    msg: &SyncMl,
    body: &[u8],
    hmac_header: Option<&str>,
    username: &str,
    secret: &Secret,
    nonce: &Nonce,
) -> Result<(), AuthFault> {
    match scheme {
        AuthScheme::Md5 => match &msg.hdr.cred {
            None => Err(AuthFault::Missing),
            Some(c) => {
                cred::verify_cred(c, username.as_bytes(), secret.as_bytes(), nonce.as_bytes())
                    .then_some(())
                    .ok_or(AuthFault::Invalid)
            }
        },
        AuthScheme::Hmac => {
            match hmac::verify(
                hmac_header,
                username,
                secret.as_bytes(),
                nonce.as_bytes(),
                body,
            ) {
                Ok(()) => Ok(()),
                Err(HmacError::Missing) => Err(AuthFault::Missing),
                Err(_) => Err(AuthFault::Invalid),
            }
        }
    }
}

/// A header for an outgoing message (Cred is added by [`Signer::seal`]).
pub(crate) fn header(session_id: &str, msg_id: u32, target: Location, source: Location) -> SyncHdr {
    SyncHdr {
        ver_dtd: VER_DTD.into(),
        ver_proto: VER_PROTO.into(),
        session_id: session_id.into(),
        msg_id,
        target,
        source,
        resp_uri: None,
        no_resp: false,
        cred: None,
        meta: None,
    }
}

/// Numbers commands 1, 2, … in order (CmdID is per message).
pub(crate) fn body(mut commands: Vec<Command>, final_: bool) -> SyncBody {
    for (i, c) in commands.iter_mut().enumerate() {
        let id = u32::try_from(i + 1).unwrap_or(u32::MAX);
        match c {
            Command::Status(s) => s.cmd_id = id,
            Command::Alert(a) => a.cmd_id = id,
            Command::Replace(r) | Command::Get(r) => r.cmd_id = id,
            Command::Results(r) => r.cmd_id = id,
            Command::Opaque(o) => *o = o.with_cmd_id(id),
        }
    }
    SyncBody { commands, final_ }
}

/// A Status answering `cmd` of message `msg_ref` (CmdID set by [`body`]).
pub(crate) fn status_for(msg_ref: u32, cmd: &Command, code: u16) -> Status {
    let (target_refs, source_refs) = match cmd {
        Command::Replace(c) | Command::Get(c) => (
            c.items
                .iter()
                .filter_map(|i| i.target.as_ref().map(|t| t.loc_uri.clone()))
                .collect(),
            Vec::new(),
        ),
        _ => (Vec::new(), Vec::new()),
    };
    Status {
        cmd_id: 0,
        msg_ref,
        cmd_ref: cmd.cmd_id(),
        cmd: cmd.name().into(),
        target_refs,
        source_refs,
        cred: None,
        chal: None,
        code,
        items: Vec::new(),
    }
}

/// A Status answering a message's SyncHdr.
pub(crate) fn header_status(hdr: &SyncHdr, code: u16) -> Status {
    Status {
        cmd_id: 0,
        msg_ref: hdr.msg_id,
        cmd_ref: 0,
        cmd: "SyncHdr".into(),
        target_refs: vec![hdr.target.loc_uri.clone()],
        source_refs: vec![hdr.source.loc_uri.clone()],
        cred: None,
        chal: None,
        code,
        items: Vec::new(),
    }
}

/// The Status in `msg` answering our message `our_msg_id`'s header.
pub(crate) fn find_header_status(msg: &SyncMl, our_msg_id: u32) -> Option<&Status> {
    msg.body.commands.iter().find_map(|c| match c {
        Command::Status(s) if s.cmd_ref == 0 && s.msg_ref == our_msg_id && s.cmd == "SyncHdr" => {
            Some(s)
        }
        _ => None,
    })
}
