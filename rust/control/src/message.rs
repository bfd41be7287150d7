//! Requests, responses and events of the control protocol.
//!
//! Wire shapes (one line each):
//! - request:  `{"v":1,"id":7,"op":"push","format":"auto","data_b64":"…"}`
//! - response: `{"v":1,"id":7,"ok":true,"result":{…}}` or
//!   `{"v":1,"id":7,"ok":false,"error":{"code":"bad_push","message":"…"}}`
//! - event (only on a subscribed connection): `{"v":1,"event":{"kind":"alert",…}}`

use crate::error::{ErrorCode, WireError};
use crate::PROTOCOL_VERSION;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Everything a client can ask. `op` is the tag on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Protocol and daemon version; a cheap liveness check.
    Hello,
    /// Hand in a received push (WSP PDU, bare Package #0, or SMS PDUs).
    Push(PushRequest),
    /// Verify a Package #0 without side effects (no replay record, no session).
    Verify(VerifyRequest),
    /// Credential for an outgoing message of the client towards its server.
    ClientCred(ClientCredRequest),
    /// Check the server's credential on an incoming message.
    CheckServerCred(CheckServerCredRequest),
    /// Store the new client nonce from a server's `Chal`.
    AcceptChal(AcceptChalRequest),
    /// Create a new server nonce and return the `Chal` that carries it.
    IssueChal(IssueChalRequest),
    /// Daemon and per-account state (no secrets).
    Status,
    AccountAdd(AccountAddRequest),
    AccountRemove(AccountRemoveRequest),
    AccountList,
    /// Read every page of the store (HMAC and b-tree). A damaged store stops
    /// serving; the daemon's next start sets it aside and recovers.
    StoreCheck,
    /// One account's audit entries (what `dmnoncectl trace` draws).
    Audit(AuditRequest),
    /// Turn this connection into an event stream.
    Subscribe(SubscribeRequest),
}

impl Request {
    /// The `op` name, for logs and errors.
    pub fn op(&self) -> &'static str {
        match self {
            Request::Hello => "hello",
            Request::Push(_) => "push",
            Request::Verify(_) => "verify",
            Request::ClientCred(_) => "client_cred",
            Request::CheckServerCred(_) => "check_server_cred",
            Request::AcceptChal(_) => "accept_chal",
            Request::IssueChal(_) => "issue_chal",
            Request::Status => "status",
            Request::AccountAdd(_) => "account_add",
            Request::AccountRemove(_) => "account_remove",
            Request::AccountList => "account_list",
            Request::StoreCheck => "store_check",
            Request::Audit(_) => "audit",
            Request::Subscribe(_) => "subscribe",
        }
    }
}

/// What the bytes of a push are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushFormat {
    /// WSP push PDU or bare Package #0, told apart by the daemon.
    #[default]
    Auto,
    /// A connectionless WSP push PDU (TID first), as ofono and Android deliver.
    Wsp,
    /// A bare Package #0 (the WSP body).
    Package0,
    /// One or more SMS-DELIVER TPDUs carrying a (possibly concatenated) WAP push.
    Sms,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PushRequest {
    #[serde(default)]
    pub format: PushFormat,
    /// The push bytes for `auto`, `wsp` and `package0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_b64: Option<String>,
    /// SMS-DELIVER TPDUs for `sms`; fragments may also arrive in separate requests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sms_pdus_b64: Vec<String>,
    /// Whether each SMS PDU starts with the SMSC address (Android's `pdus` do).
    #[serde(default)]
    pub smsc_included: bool,
}

/// An enum of the protocol whose values are names on the wire: the names
/// are written once, here, and serve serde, [`as_str`](VerdictName::as_str)
/// (for logs and the bindings) and `NAMES` (for help texts and tests).
macro_rules! wire_names {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name { $($(#[$vdoc])* #[serde(rename = $text)] $variant),+ }

        impl $name {
            /// Every value's wire name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value with this wire name.
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

wire_names!(
    /// How a Package #0 verified. Names match `dmnoncectl pkg0 verify`.
    VerdictName {
        StoredNonce = "stored-nonce",
        DefaultNonceText = "default-nonce-text",
        DefaultNonceZero = "default-nonce-zero",
        Rejected = "rejected",
    }
);

wire_names!(
    /// Authentication scheme of an account (DMAcc AAuthType).
    AuthScheme {
        /// `syncml:auth-md5` in `SyncHdr/Cred`.
        Md5 = "md5",
        /// The `x-syncml-hmac` transport header.
        Hmac = "hmac",
        /// `syncml:auth-basic` (only over TLS).
        Basic = "basic",
    }
);

wire_names!(
    /// Message encoding of an account's sessions.
    Encoding {
        Xml = "xml",
        Wbxml = "wbxml",
    }
);

wire_names!(
    /// Whether the change request's default-nonce fallback is allowed.
    Policy {
        Allow = "allow",
        Deny = "deny",
    }
);

wire_names!(
    /// Nonce synchronisation state of an account.
    AccountState {
        InSync = "in-sync",
        NeedsResync = "needs-resync",
        Resyncing = "resyncing",
    }
);

/// The decoded, non-secret fields of a Package #0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationInfo {
    pub version: u16,
    pub ui_mode: u8,
    pub initiator: u8,
    pub session_id: u16,
    pub server_id: String,
    #[serde(default)]
    pub vendor_hex: String,
}

/// What the daemon did with a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushOutcome {
    /// Verified with the stored nonce; an `alert` event went to subscribers.
    Alert,
    /// Verified with the default nonce; the daemon started a resync session.
    ResyncStarted,
    /// The digest failed with every nonce tried; dropped and counted.
    Rejected,
    /// A default-nonce notification already accepted once; dropped.
    Replay,
    /// Too many default-nonce fallbacks for this account recently; dropped.
    RateLimited,
    /// The account's policy forbids the default-nonce fallback; dropped.
    PolicyDenied,
    /// The server id names no provisioned account; dropped.
    UnknownAccount,
    /// A resync for this account is already running; dropped.
    Busy,
    /// An SMS fragment was stored; the push is not complete yet.
    FragmentPending,
    /// An outcome this client does not know (a newer daemon): the daemon
    /// took the push, but whether it was verified is not known here, so a
    /// caller treats it as not verified. Never sent by this daemon.
    #[serde(other)]
    Unknown,
}

impl PushOutcome {
    /// The wire name (`unknown` for [`PushOutcome::Unknown`]), for logs and
    /// the bindings' enums.
    pub fn as_str(self) -> &'static str {
        match self {
            PushOutcome::Alert => "alert",
            PushOutcome::ResyncStarted => "resync_started",
            PushOutcome::Rejected => "rejected",
            PushOutcome::Replay => "replay",
            PushOutcome::RateLimited => "rate_limited",
            PushOutcome::PolicyDenied => "policy_denied",
            PushOutcome::UnknownAccount => "unknown_account",
            PushOutcome::Busy => "busy",
            PushOutcome::FragmentPending => "fragment_pending",
            PushOutcome::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResult {
    pub outcome: PushOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<VerdictName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<NotificationInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyRequest {
    pub package0_b64: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyResult {
    pub verdict: VerdictName,
    pub notification: NotificationInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCredRequest {
    pub server_id: String,
    /// The exact bytes of the outgoing HTTP body (needed for HMAC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_b64: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCredResult {
    pub scheme: AuthScheme,
    /// `SyncHdr/Cred/Meta/Type`, e.g. `syncml:auth-md5` (md5 and basic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cred_type: Option<String>,
    /// `SyncHdr/Cred/Data` (Base64 text, Meta Format `b64`) for md5 and basic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cred_data: Option<String>,
    /// Value of the `x-syncml-hmac` header, for hmac.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac_header: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckServerCredRequest {
    pub server_id: String,
    /// The exact bytes of the incoming HTTP body (needed for HMAC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_b64: Option<String>,
    /// `SyncHdr/Cred/Data` as received (md5, basic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cred_data: Option<String>,
    /// The `x-syncml-hmac` header value as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac_header: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckServerCredResult {
    pub valid: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptChalRequest {
    pub server_id: String,
    /// The `NextNonce` text of the server's `Chal` (Base64, as received).
    pub next_nonce_b64: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueChalRequest {
    pub server_id: String,
    /// Encoding of the returned fragment; the account's encoding when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<Encoding>,
}

/// A `Chal` element ready to put into the `Status` for the server's header.
/// This is the one place a nonce leaves the daemon: inside the wire fragment
/// that carries it to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueChalResult {
    pub encoding: Encoding,
    /// XML text of `<Chal>…</Chal>`, or Base64 of the WBXML fragment.
    pub chal: String,
}

/// Non-secret view of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub server_id: String,
    pub server_url: String,
    pub client_name: String,
    pub auth_scheme: AuthScheme,
    pub encoding: Encoding,
    pub policy: Policy,
    pub state: AccountState,
}

/// An account as provisioned. Secrets go in; they never come back out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSpec {
    pub server_id: String,
    pub server_url: String,
    pub client_name: String,
    pub auth_scheme: AuthScheme,
    pub encoding: Encoding,
    pub policy: Policy,
    /// AAuthSecret of the SRVCRED AppAuth (server towards client).
    pub server_password: String,
    /// AAuthSecret of the CLCRED AppAuth (client towards server).
    pub client_password: String,
    /// Initial server nonce (AAuthData of SRVCRED), when bootstrap gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_nonce_b64: Option<String>,
    /// Initial client nonce (AAuthData of CLCRED), when bootstrap gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_nonce_b64: Option<String>,
}

impl fmt::Debug for AccountSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountSpec")
            .field("server_id", &self.server_id)
            .field("server_url", &self.server_url)
            .field("client_name", &self.client_name)
            .field("auth_scheme", &self.auth_scheme)
            .field("encoding", &self.encoding)
            .field("policy", &self.policy)
            .field("server_password", &"<redacted>")
            .field("client_password", &"<redacted>")
            .field(
                "server_nonce_b64",
                &self.server_nonce_b64.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "client_nonce_b64",
                &self.client_nonce_b64.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountAddRequest {
    pub account: AccountSpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRemoveRequest {
    pub server_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountListResult {
    pub accounts: Vec<AccountInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SubscribeRequest {
    /// Event kinds wanted; every kind when empty.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "known_kinds"
    )]
    pub kinds: Vec<EventKind>,
}

/// A subscription to a kind the daemon does not have is a `bad_request`, not
/// a subscription that silently never delivers it.
fn known_kinds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<EventKind>, D::Error> {
    let kinds = Vec::<EventKind>::deserialize(d)?;
    if kinds.contains(&EventKind::Unknown) {
        return Err(serde::de::Error::custom("kinds: unknown event kind"));
    }
    Ok(kinds)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelloResult {
    pub protocol: u32,
    pub daemon_version: String,
}

/// Counters since the daemon started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub pushes: u64,
    pub alerts: u64,
    pub fallbacks: u64,
    pub rejected: u64,
    pub replays: u64,
    pub refused: u64,
    pub resyncs_finished: u64,
    pub resyncs_failed: u64,
    /// Store writes that failed where the request itself stood (an audit
    /// entry, a confirmation, a state change); each is also logged.
    /// Defaulted, so an older daemon's status still parses.
    #[serde(default)]
    pub store_errors: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResult {
    pub protocol: u32,
    pub daemon_version: String,
    pub uptime_secs: u64,
    pub accounts: Vec<AccountInfo>,
    pub counters: Counters,
}

/// Result of `store_check`. `problems` say what is wrong, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCheckResult {
    pub healthy: bool,
    /// Pages read.
    pub pages: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// `audit`: the entries of one account with an id above `after`, oldest
/// first, at most `limit` (the daemon's cap when absent or larger).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRequest {
    pub server_id: String,
    #[serde(default)]
    pub after: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// One audit entry as the protocol carries it. `event` is the store's
/// stable name (`fallback-used`, `session-message`, …); `detail` is text
/// without secrets or nonces (JSON for `notification` and
/// `session-message`, see [`crate::trace`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryInfo {
    pub id: i64,
    pub at: i64,
    pub event: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditResult {
    pub entries: Vec<AuditEntryInfo>,
    /// The id of the oldest entry the store still keeps (of any account):
    /// the log is pruned in batches, so what is older is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_kept: Option<i64>,
    /// More entries follow: ask again with `after` = the last id.
    #[serde(default)]
    pub more: bool,
}

/// An empty successful result (`{}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    Alert,
    ResyncStarted,
    ResyncFinished,
    ResyncFailed,
    PushRejected,
    /// A kind this client does not know (a newer daemon's event, carried as
    /// [`Event::Other`]). Not a kind one can subscribe to.
    #[serde(other)]
    Unknown,
}

/// Something subscribers are told about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Event {
    /// A notification verified with the stored nonce: the DM client should
    /// run its management session.
    Alert {
        notification: NotificationInfo,
        verdict: VerdictName,
    },
    ResyncStarted {
        server_id: String,
        session_id: u16,
    },
    /// Nonces are fresh again; the DM client may run its session.
    ResyncFinished {
        server_id: String,
        session_id: u16,
    },
    ResyncFailed {
        server_id: String,
        session_id: u16,
        reason: String,
    },
    PushRejected {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        server_id: Option<String>,
        reason: String,
    },
    /// An event of a kind this client does not know (a newer daemon), as it
    /// came, `kind` included: a subscriber can skip it and go on. Only
    /// [`parse_server_line`] builds it; the daemon never sends one.
    #[serde(untagged)]
    Other(serde_json::Map<String, Value>),
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Alert { .. } => EventKind::Alert,
            Event::ResyncStarted { .. } => EventKind::ResyncStarted,
            Event::ResyncFinished { .. } => EventKind::ResyncFinished,
            Event::ResyncFailed { .. } => EventKind::ResyncFailed,
            Event::PushRejected { .. } => EventKind::PushRejected,
            Event::Other(_) => EventKind::Unknown,
        }
    }

    /// The `kind` name of an [`Event::Other`], for reporting it.
    pub fn unknown_kind(&self) -> Option<&str> {
        match self {
            Event::Other(fields) => fields.get("kind").and_then(Value::as_str),
            _ => None,
        }
    }
}

/// Serialises a request line.
pub fn encode_request(id: u64, request: &Request) -> Vec<u8> {
    let mut value = serde_json::to_value(request).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("v".into(), PROTOCOL_VERSION.into());
        map.insert("id".into(), id.into());
    }
    crate::encode_line(&value)
}

/// Parses a request line. On failure, returns the request id when one could
/// be read, so the daemon can still answer that request.
pub fn parse_request(line: &str) -> Result<(u64, Request), (Option<u64>, WireError)> {
    let value: Value = serde_json::from_str(line).map_err(|e| {
        (
            None,
            WireError::new(ErrorCode::BadRequest, format!("not JSON: {e}")),
        )
    })?;
    let id = value.get("id").and_then(Value::as_u64);
    let Some(id) = id else {
        return Err((
            None,
            WireError::new(ErrorCode::BadRequest, "missing numeric \"id\""),
        ));
    };
    match value.get("v").and_then(Value::as_u64) {
        Some(v) if v == u64::from(PROTOCOL_VERSION) => {}
        Some(v) => {
            return Err((
                Some(id),
                WireError::new(
                    ErrorCode::UnsupportedVersion,
                    format!(
                    "protocol version {v} not supported (this daemon speaks {PROTOCOL_VERSION})"
                ),
                ),
            ))
        }
        None => {
            return Err((
                Some(id),
                WireError::new(ErrorCode::BadRequest, "missing numeric \"v\""),
            ))
        }
    }
    serde_json::from_value(value)
        .map(|request| (id, request))
        .map_err(|e| {
            let message = redact_json_error(&e);
            (Some(id), WireError::new(ErrorCode::BadRequest, message))
        })
}

/// A serde_json error as it may be shown to a user, logged or sent back:
/// without any value from the input. Every place that reports a JSON
/// document that may hold a secret (a request, `dmnoncectl`'s secrets file)
/// goes through here.
///
/// serde_json's syntax and end-of-input messages are fixed texts that never
/// quote the input, so they stay whole. Data errors quote the offending
/// value (``invalid type: integer `73194620` ``, `invalid value: string
/// "…"`, ``unknown variant `…` ``) or the offending key (``unknown field
/// `…` `` — a secret typed where a key belongs); that part is replaced by
/// `<value>`. What stays is ours: serde's `, expected …` description of the
/// type (derived from our field and variant names), the names in `missing
/// field`/`duplicate field` (only ever our static field names), and the
/// position.
pub fn redact_json_error(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Data => redact_values(&e.to_string()),
        _ => e.to_string(),
    }
}

fn redact_values(message: &str) -> String {
    // serde_json appends " at line L column C" to what serde said.
    let (said, position) = match message.rfind(" at line ") {
        Some(i) if is_position(&message[i..]) => message.split_at(i),
        _ => (message, ""),
    };
    if said.starts_with("missing field ") || said.starts_with("duplicate field ") {
        return message.to_string();
    }
    // The description of what was expected is always the end of serde's
    // message, so it is found from the end: a value containing
    // ", expected " cannot push its own text into the kept part.
    let ours = [", there are no fields", ", there are no variants"]
        .iter()
        .find(|s| said.ends_with(**s))
        .map(|s| said.len() - s.len())
        .or_else(|| said.rfind(", expected "));
    let (theirs, ours) = said.split_at(ours.unwrap_or(said.len()));
    // From the first quote to the last one: a value may itself contain
    // quotes or backticks (serde does not escape backticks), so pairing
    // quotes one by one could end a value early and show its rest.
    let redacted = match (theirs.find(['"', '`']), theirs.rfind(['"', '`'])) {
        (Some(first), Some(last)) if last > first => {
            format!("{}<value>{}", &theirs[..first], &theirs[last + 1..])
        }
        (Some(first), _) => format!("{}<value>", &theirs[..first]),
        _ => theirs.to_string(),
    };
    format!("{redacted}{ours}{position}")
}

/// Whether `s` is exactly serde_json's ` at line L column C`.
fn is_position(s: &str) -> bool {
    let Some(rest) = s.strip_prefix(" at line ") else {
        return false;
    };
    let Some((line, column)) = rest.split_once(" column ") else {
        return false;
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    digits(line) && digits(column)
}

/// Serialises a response line. `id` is 0 when the request's id was unreadable.
pub fn encode_response(id: u64, result: Result<Value, WireError>) -> Vec<u8> {
    let value = match result {
        Ok(result) => {
            serde_json::json!({"v": PROTOCOL_VERSION, "id": id, "ok": true, "result": result})
        }
        Err(error) => {
            serde_json::json!({"v": PROTOCOL_VERSION, "id": id, "ok": false, "error": error})
        }
    };
    crate::encode_line(&value)
}

/// Serialises an event line.
pub fn encode_event(event: &Event) -> Vec<u8> {
    crate::encode_line(&serde_json::json!({"v": PROTOCOL_VERSION, "event": event}))
}

/// A line from the daemon, as a client sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    Response {
        id: u64,
        result: Result<Value, WireError>,
    },
    Event(Event),
}

/// Why a line from the daemon cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// The line's `"v"` is a protocol version this client does not speak:
    /// nothing in it can be trusted to mean what this client thinks.
    #[error("dmnonced answered in protocol version {0}; this client speaks {PROTOCOL_VERSION}")]
    Version(u64),
    /// Not a message of the protocol (the text says what is wrong).
    #[error("{0}")]
    Malformed(String),
}

/// Parses a line from the daemon. The envelope's `"v"` is checked first,
/// for responses and events alike.
pub fn parse_server_line(line: &str) -> Result<ServerMessage, LineError> {
    let malformed = |m: String| LineError::Malformed(m);
    let value: Value =
        serde_json::from_str(line).map_err(|e| malformed(format!("daemon sent non-JSON: {e}")))?;
    match value.get("v").and_then(Value::as_u64) {
        Some(v) if v == u64::from(PROTOCOL_VERSION) => {}
        Some(v) => return Err(LineError::Version(v)),
        None => return Err(malformed("daemon line has no numeric \"v\"".into())),
    }
    if let Some(event) = value.get("event") {
        let event: Event = serde_json::from_value(event.clone())
            .map_err(|e| malformed(format!("daemon sent a malformed event: {e}")))?;
        // `Other` also catches a known kind whose fields are wrong; that one
        // is malformed, not new.
        if let Event::Other(fields) = &event {
            let kind = fields.get("kind").cloned().unwrap_or(Value::Null);
            match serde_json::from_value::<EventKind>(kind) {
                Ok(EventKind::Unknown) => {}
                Ok(known) => {
                    return Err(malformed(format!(
                        "daemon sent a malformed {} event",
                        serde_json::to_value(known).unwrap_or_default()
                    )))
                }
                Err(_) => return Err(malformed("daemon event has no kind".into())),
            }
        }
        return Ok(ServerMessage::Event(event));
    }
    let id = value
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| malformed("daemon response has no id".into()))?;
    let ok = value
        .get("ok")
        .and_then(Value::as_bool)
        .ok_or_else(|| malformed("daemon response has no ok".into()))?;
    let result = if ok {
        Ok(value.get("result").cloned().unwrap_or(Value::Null))
    } else {
        let error = value
            .get("error")
            .cloned()
            .ok_or_else(|| malformed("daemon error response has no error".into()))?;
        Err(serde_json::from_value(error)
            .map_err(|e| malformed(format!("malformed error: {e}")))?)
    };
    Ok(ServerMessage::Response { id, result })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips_with_envelope() {
        let req = Request::Push(PushRequest {
            format: PushFormat::Wsp,
            data_b64: Some("AAE=".into()),
            ..Default::default()
        });
        let line = encode_request(42, &req);
        let text = std::str::from_utf8(&line).unwrap().trim_end();
        assert!(text.contains("\"op\":\"push\""), "{text}");
        assert!(text.contains("\"v\":1"), "{text}");
        assert_eq!(parse_request(text).unwrap(), (42, req));
    }

    #[test]
    fn unit_requests_round_trip() {
        for req in [Request::Hello, Request::Status, Request::AccountList] {
            let line = encode_request(1, &req);
            let (_, back) = parse_request(std::str::from_utf8(&line).unwrap()).unwrap();
            assert_eq!(back, req);
        }
    }

    #[test]
    fn wrong_version_is_reported_with_the_id() {
        let err = parse_request(r#"{"v":9,"id":5,"op":"hello"}"#).unwrap_err();
        assert_eq!(err.0, Some(5));
        assert_eq!(err.1.code, ErrorCode::UnsupportedVersion);
    }

    #[test]
    fn unknown_op_and_garbage_are_bad_requests() {
        let err = parse_request(r#"{"v":1,"id":5,"op":"format_disk"}"#).unwrap_err();
        assert_eq!((err.0, err.1.code), (Some(5), ErrorCode::BadRequest));
        let err = parse_request("\u{0}garbage").unwrap_err();
        assert_eq!((err.0, err.1.code), (None, ErrorCode::BadRequest));
        let err = parse_request(r#"{"v":1,"op":"hello"}"#).unwrap_err();
        assert_eq!(err.1.code, ErrorCode::BadRequest);
    }

    #[test]
    fn responses_and_events_parse_back() {
        let ok = encode_response(3, Ok(serde_json::json!({"valid": true})));
        match parse_server_line(std::str::from_utf8(&ok).unwrap()).unwrap() {
            ServerMessage::Response {
                id: 3,
                result: Ok(v),
            } => assert_eq!(v["valid"], true),
            other => panic!("unexpected {other:?}"),
        }
        let err = encode_response(4, Err(WireError::new(ErrorCode::BadPush, "truncated WSP")));
        match parse_server_line(std::str::from_utf8(&err).unwrap()).unwrap() {
            ServerMessage::Response {
                id: 4,
                result: Err(e),
            } => assert_eq!(e.code, ErrorCode::BadPush),
            other => panic!("unexpected {other:?}"),
        }
        let ev = Event::ResyncFailed {
            server_id: "s".into(),
            session_id: 9,
            reason: "timeout".into(),
        };
        let line = encode_event(&ev);
        let text = std::str::from_utf8(&line).unwrap();
        assert!(text.contains("\"kind\":\"resync-failed\""), "{text}");
        assert_eq!(parse_server_line(text).unwrap(), ServerMessage::Event(ev));
    }

    #[test]
    fn unknown_error_codes_from_a_newer_daemon_are_tolerated() {
        let line = r#"{"v":1,"id":1,"ok":false,"error":{"code":"quota_exceeded","message":"m"}}"#;
        match parse_server_line(line).unwrap() {
            ServerMessage::Response { result: Err(e), .. } => {
                assert_eq!(e.code, ErrorCode::Unknown)
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn values_from_a_newer_daemon_are_unknown_not_errors() {
        let line = r#"{"v":1,"id":1,"ok":true,"result":{"outcome":"quarantined","extra":1}}"#;
        let ServerMessage::Response { result: Ok(v), .. } = parse_server_line(line).unwrap() else {
            panic!("not a response")
        };
        let r: PushResult = serde_json::from_value(v).unwrap();
        assert_eq!(r.outcome, PushOutcome::Unknown);

        let line = r#"{"v":1,"event":{"kind":"quota-warning","server_id":"s","level":3}}"#;
        let ServerMessage::Event(e) = parse_server_line(line).unwrap() else {
            panic!("not an event")
        };
        assert_eq!(e.kind(), EventKind::Unknown);
        assert_eq!(e.unknown_kind(), Some("quota-warning"));
        // Shown as it came (dmnoncectl events prints it).
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"kind":"quota-warning","server_id":"s","level":3})
        );
    }

    #[test]
    fn outcome_names_are_the_serde_names() {
        use PushOutcome::*;
        for o in [
            Alert,
            ResyncStarted,
            Rejected,
            Replay,
            RateLimited,
            PolicyDenied,
            UnknownAccount,
            Busy,
            FragmentPending,
            Unknown,
        ] {
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
    }

    #[test]
    fn a_known_event_kind_with_wrong_fields_is_malformed_not_unknown() {
        for line in [
            r#"{"v":1,"event":{"kind":"resync-failed","server_id":"s"}}"#,
            r#"{"v":1,"event":{"server_id":"s"}}"#,
        ] {
            assert!(
                matches!(parse_server_line(line), Err(LineError::Malformed(_))),
                "{line}"
            );
        }
    }

    #[test]
    fn lines_of_another_protocol_version_are_refused() {
        for line in [
            r#"{"v":2,"id":1,"ok":true,"result":{"protocol":2,"daemon_version":"9"}}"#,
            r#"{"v":2,"event":{"kind":"alert"}}"#,
        ] {
            assert_eq!(
                parse_server_line(line),
                Err(LineError::Version(2)),
                "{line}"
            );
        }
        assert!(matches!(
            parse_server_line(r#"{"id":1,"ok":true,"result":{}}"#),
            Err(LineError::Malformed(_))
        ));
    }

    #[test]
    fn subscribing_to_a_kind_the_daemon_lacks_is_a_bad_request() {
        let (_, err) =
            parse_request(r#"{"v":1,"id":3,"op":"subscribe","kinds":["alert","quota-warning"]}"#)
                .unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        assert!(
            err.message.contains("unknown event kind"),
            "{}",
            err.message
        );
        let (_, req) =
            parse_request(r#"{"v":1,"id":3,"op":"subscribe","kinds":["alert"]}"#).unwrap();
        assert_eq!(
            req,
            Request::Subscribe(SubscribeRequest {
                kinds: vec![EventKind::Alert]
            })
        );
    }

    #[test]
    fn bad_request_messages_never_echo_a_value() {
        // A secret in a field that wants a number, and one in an enum field.
        let lines = [
            r#"{"v":1,"id":2,"op":"account_add","account":{"server_id":"s","server_url":"u","client_name":"c","auth_scheme":"md5","encoding":"xml","policy":"allow","server_password":17,"client_password":"hunter2"}}"#,
            r#"{"v":1,"id":2,"op":"account_add","account":{"server_id":"s","server_url":"u","client_name":"c","auth_scheme":"md5","encoding":"xml","policy":"allow","server_password":"hunter2","client_password":7}}"#,
            r#"{"v":1,"id":3,"op":"account_add","account":{"server_id":"s","server_url":"u","client_name":"c","auth_scheme":"hunter2","encoding":"xml","policy":"allow","server_password":"p","client_password":"q"}}"#,
            r#"{"v":1,"id":4,"op":"accept_chal","server_id":1,"next_nonce_b64":"hunter2"}"#,
            r#"{"v":1,"id":4,"op":"accept_chal","server_id":"hunter2","next_nonce_b64":5}"#,
            r#"{"v":1,"id":6,"op":"subscribe","kinds":"hunter2"}"#,
        ];
        for line in lines {
            let (_, err) = parse_request(line).unwrap_err();
            assert_eq!(err.code, ErrorCode::BadRequest);
            assert!(!err.message.contains("hunter2"), "{}", err.message);
        }
        let (_, err) =
            parse_request(r#"{"v":1,"id":5,"op":"accept_chal","next_nonce_b64":"x"}"#).unwrap_err();
        assert!(
            err.message.contains("`server_id`"),
            "field names stay: {}",
            err.message
        );
    }

    #[test]
    fn json_errors_lose_every_value_and_keep_our_names() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Doc {
            password: String,
            kind: Option<AuthScheme>,
        }
        let parse = |text: &str| {
            let e = serde_json::from_str::<Doc>(text).unwrap_err();
            (e.to_string(), redact_json_error(&e))
        };
        // Values and keys the caller typed, including ones built to break
        // the quote pairing or to look like serde's own words.
        for text in [
            r#"{"password": 73194620}"#,
            r#"{"password": true}"#,
            r#"{"password": "p", "kind": "hunter2"}"#,
            r#"{"hunter2": "p"}"#,
            r#"{"hun`ter2": "p"}"#,
            r#"{"password": "p", "kind": "x`, expected `hunter2"}"#,
            r#"{"hunter2, expected `x` at line 1 column 2": 1}"#,
            r#"{"password": "p", "kind": "hun\"ter2"}"#,
        ] {
            let (raw, shown) = parse(text);
            assert!(
                raw.contains("ter2") || raw.contains("73194620") || raw.contains("true"),
                "the test input reaches serde's message: {raw}"
            );
            for secret in ["hunter2", "ter2", "73194620", "true"] {
                assert!(!shown.contains(secret), "{text} -> {shown}");
            }
            assert!(shown.contains("<value>"), "{shown}");
            assert!(
                shown.contains(" at line 1 column "),
                "position kept: {shown}"
            );
        }
        let (_, shown) = parse(r#"{"hunter2": "p"}"#);
        assert!(
            shown.starts_with("unknown field <value>, expected `password` or `kind` at line 1"),
            "{shown}"
        );
        let (_, shown) = parse(r#"{"kind": "md5"}"#);
        assert_eq!(shown, "missing field `password` at line 1 column 15");
        // Syntax errors never quote the input and stay whole.
        let (raw, shown) = parse(r#"{"password" "hunter2"}"#);
        assert_eq!(shown, raw);
        assert!(shown.starts_with("expected `:`"), "{shown}");
    }

    #[test]
    fn account_spec_debug_redacts_secrets() {
        let spec = AccountSpec {
            server_id: "dm.example".into(),
            server_url: "http://127.0.0.1/dm".into(),
            client_name: "dev".into(),
            auth_scheme: AuthScheme::Md5,
            encoding: Encoding::Xml,
            policy: Policy::Allow,
            server_password: "hunter2-server".into(),
            client_password: "hunter2-client".into(),
            server_nonce_b64: Some("c2VjcmV0bm9uY2U=".into()),
            client_nonce_b64: None,
        };
        let text = format!("{spec:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("c2VjcmV0bm9uY2U"), "{text}");
    }

    #[test]
    fn account_state_names_are_the_documented_ones() {
        let names: Vec<String> = [
            AccountState::InSync,
            AccountState::NeedsResync,
            AccountState::Resyncing,
        ]
        .iter()
        .map(|s| serde_json::to_string(s).unwrap())
        .collect();
        assert_eq!(names, ["\"in-sync\"", "\"needs-resync\"", "\"resyncing\""]);
    }
}
