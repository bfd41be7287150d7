//! What `dmnoncectl trace` reads: the structured audit details of a
//! decided notification and of each message of a resync session
//! (`dmnonce_control::trace`). Nonces are named by role and generation,
//! never by value; secrets never appear.
//!
//! Message records are not written on their own: [`Trail`] holds them
//! until the session's next store transaction (a commit, the failure), so
//! the trace adds no durable write to the resync path.

use dmnonce_control::trace::{Direction, MessageRecord, NonceUse, NotificationRecord};
use dmnonce_control::PushOutcome;
use dmnonce_proto::{DefaultNonce, Verdict};
use dmnonce_store::{AuditEvent, ServerNonceSlot, UnixTime};
use dmnonce_syncml::model::Command;

use crate::shared::Shared;
use crate::verification::Verification;

/// Audits a decided notification of a known account. Default-nonce
/// notifications are audited by the store's admission instead, in its
/// own transaction (`fallback-used`, `replay-rejected`, …).
pub(crate) fn notification(
    shared: &Shared,
    server_id: &str,
    session_id: u16,
    checked: &Verification,
    outcome: PushOutcome,
    t: UnixTime,
) {
    let (name, matched) = match checked.verdict {
        Verdict::Stored { index } => {
            let slot = match checked.nonces.get(index).map(|c| c.slot) {
                Some(ServerNonceSlot::Previous) => "previous",
                _ => "current",
            };
            (
                "stored-nonce",
                format!(
                    "server nonce {slot}, server secret {}",
                    checked.secret.as_str()
                ),
            )
        }
        Verdict::Default(r) => (default_name(r), format!("default nonce {}", r.as_str())),
        Verdict::Rejected => ("rejected", String::new()),
    };
    let record = NotificationRecord {
        session_id,
        verdict: name.into(),
        matched,
        outcome: outcome.as_str().into(),
    };
    let detail = serde_json::to_string(&record).unwrap_or_default();
    if let Err(e) = shared
        .store
        .append_audit(Some(server_id), AuditEvent::Notification, &detail, t)
    {
        shared.store_failed("the audit entry of a notification", &e);
    }
}

fn default_name(r: DefaultNonce) -> &'static str {
    match r {
        DefaultNonce::Text => "default-nonce-text",
        DefaultNonce::Zero => "default-nonce-zero",
    }
}

/// The messages of one session not yet written, and which nonce each
/// side uses now.
#[derive(Debug)]
pub(crate) struct Trail {
    session_id: u16,
    package: u32,
    client: NonceUse,
    server: NonceUse,
    pending: Vec<String>,
}

impl Trail {
    /// A resync session: both sides start from the default nonce in the
    /// reading that verified the Package #0.
    pub(crate) fn new(session_id: u16, reading: DefaultNonce) -> Trail {
        let start = |role: &str| NonceUse {
            role: role.into(),
            generation: 0,
            source: format!("default-{}", reading.as_str()),
        };
        Trail {
            session_id,
            package: 0,
            client: start("client"),
            server: start("server"),
            pending: Vec::new(),
        }
    }

    /// A message we are about to send (signed with the client nonce).
    pub(crate) fn sent(&mut self, body: &[u8]) {
        self.record(Direction::ToServer, body, None);
    }

    /// A message from the server (checked against the server nonce);
    /// `problem`: why the session refused it, if it did.
    pub(crate) fn received(&mut self, body: &[u8], problem: Option<&str>) {
        self.record(Direction::ToDevice, body, problem);
    }

    /// The records not yet written, for the next store transaction.
    pub(crate) fn take(&mut self) -> Vec<String> {
        std::mem::take(&mut self.pending)
    }

    fn record(&mut self, direction: Direction, body: &[u8], problem: Option<&str>) {
        self.package += 1;
        let decoded = dmnonce_syncml::decode(body).ok().map(|(m, _)| m);
        let signer = match direction {
            Direction::ToServer => &self.client,
            Direction::ToDevice => &self.server,
        };
        let mut record = MessageRecord {
            session_id: self.session_id,
            direction,
            package: self.package,
            msg_id: decoded.as_ref().map_or(0, |m| m.hdr.msg_id),
            commands: Vec::new(),
            statuses: Vec::new(),
            nonce: decoded.as_ref().map(|_| signer.clone()),
            problem: problem.map(str::to_owned),
        };
        let mut chal = false;
        for cmd in decoded.iter().flat_map(|m| &m.body.commands) {
            match cmd {
                Command::Status(s) => {
                    record.statuses.push(s.code);
                    record.commands.push(format!("Status {}", s.code));
                    if s.chal.is_some() && s.cmd == "SyncHdr" {
                        record.commands.push("Chal".into());
                        chal = true;
                    }
                }
                Command::Alert(a) => record.commands.push(format!("Alert {}", a.code)),
                other => record.commands.push(other.name().to_owned()),
            }
        }
        if decoded.is_none() {
            record.commands.push("undecodable".into());
        }
        // A Chal on the status for the other side's header hands out the
        // nonce that side signs with from now on.
        if chal {
            let next = match direction {
                Direction::ToServer => &mut self.server,
                Direction::ToDevice => &mut self.client,
            };
            next.generation += 1;
            next.source = format!("chal-pkg{}", self.package);
        }
        self.pending
            .push(serde_json::to_string(&record).unwrap_or_default());
    }
}
