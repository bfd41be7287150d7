//! The client (device) role of the resync session, SCR-DM-NOTI-C-003
//! (and, with [`ClientSession::start_with`], of a normal session: the same
//! packages from the stored nonces).
//!
//! ```text
//! Pkg#1  → SessionID from Package #0, credentials with the default client
//!          nonce, Alert 1200, Replace ./DevInfo/*
//! Pkg#2  ← server credentials checked with the default server nonce;
//!          Status 212 + Chal: the new client nonce
//! Pkg#3  → Status 212 for the server's header + our Chal: a fresh server
//!          nonce; statuses for the server's commands
//! Pkg#4  ← server credentials checked with the new server nonce: done
//! ```
//! A 401/407 with a `Chal` in answer to Pkg#1 is retried once with the
//! challenged nonce. A package split over several messages (no `Final`) is
//! answered with Alert 1222 until its last message. Management commands
//! the daemon does not carry out are answered with [`NOT_HANDLED`], except
//! a Replace of the server AAuthSecret node named in
//! [`ClientParams::server_secret_uri`] (change request step 6).

use crate::model::{Alert, Command, Item, ItemCmd, Location, SyncMl};
use crate::session::{
    authenticate, body, find_header_status, header, header_status, status_for, Signer,
};
use crate::{
    cred, decode, AuthScheme, DefaultNonce, DevInfo, Encoding, Failure, FailureReason, Nonce,
    NonceCommit, Outgoing, Secret, SessionIdFormat, SessionOutcome, StartingNonces,
};

/// Status code for management commands the daemon does not carry out:
/// 406 "Optional feature not supported" (SyncML RepPro 1.2 §10): the
/// command is valid, this client just does not implement it.
pub const NOT_HANDLED: u16 = 406;
/// Alert code: server-initiated management session.
pub const ALERT_SERVER_INITIATED: u16 = 1200;
/// Alert code: send the next message of the package.
pub const ALERT_NEXT_MESSAGE: u16 = 1222;

/// Everything the client role needs; the daemon fills it from its store and
/// from the verified Package #0.
#[derive(Clone, Debug)]
pub struct ClientParams {
    /// The server's id (DMAcc ServerID): the username in the server's
    /// credentials and in Package #0.
    pub server_id: String,
    /// The client's username towards the server (CLCRED AAuthName).
    pub client_name: String,
    /// The server URL (SyncHdr Target).
    pub server_uri: String,
    /// CLCRED AAuthSecret: proves the client to the server.
    pub client_secret: Secret,
    /// SRVCRED AAuthSecret: the server proves itself with it.
    pub server_secret: Secret,
    /// Session id from Package #0.
    pub session_id: u16,
    /// How `SessionID` is written.
    pub session_id_format: SessionIdFormat,
    /// Message encoding.
    pub encoding: Encoding,
    /// Credential scheme.
    pub scheme: AuthScheme,
    /// The default-nonce reading that verified Package #0; both default
    /// nonces of the session use it.
    pub default_nonce: DefaultNonce,
    /// DevInfo reported in Pkg#1 (`dev_id` is also the SyncHdr Source).
    pub dev_info: DevInfo,
    /// SyncHdr Meta MaxMsgSize to announce, if any.
    pub max_msg_size: Option<u64>,
    /// The DM tree URI of the server AAuthSecret node (e.g.
    /// `./DMAcc/x/AppAuth/SRVCRED/AAuthSecret`): a Replace of it is
    /// accepted as a secret rotation. `None`: such a Replace gets 406.
    pub server_secret_uri: Option<String>,
}

/// What the caller does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this message; nothing to persist.
    Send(Outgoing),
    /// Persist the commit atomically, then send the message.
    CommitThenSend(NonceCommit, Outgoing),
    /// The session completed: persist `outcome.commit`.
    Done(SessionOutcome),
    /// The session stopped; `committed` is what was handed out so far.
    Failed(Failure),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for (the next message of) Pkg#2.
    Pkg2 {
        retried: bool,
    },
    /// Pkg#3 sent; waiting for Pkg#4.
    Pkg4,
    /// Statuses for Pkg#4's commands sent; waiting for the closing message.
    Closing,
    Over,
}

/// The client side of one resync session.
#[derive(Debug)]
pub struct ClientSession {
    p: ClientParams,
    session_id: String,
    phase: Phase,
    /// MsgID of the last message we sent.
    last_msg_id: u32,
    client_nonce: Nonce,
    server_nonce: Nonce,
    server_secret: Secret,
    /// New client nonce received but not yet committed.
    fresh_client_nonce: Option<Nonce>,
    /// Rotation accepted in this package, committed with the next message.
    rotated_secret: Option<Secret>,
    committed: NonceCommit,
}

impl ClientSession {
    /// Starts a resync session (both nonces the default nonce in the
    /// reading `p.default_nonce`): returns it and Pkg#1. `rng` is unused
    /// today and kept so callers always hand randomness in (Pkg#1 needs
    /// none).
    pub fn start(p: ClientParams, rng: [u8; 16]) -> Result<(ClientSession, Outgoing), Failure> {
        let nonces = StartingNonces::Default(p.default_nonce);
        ClientSession::start_with(p, nonces, rng)
    }

    /// Starts a session from `nonces`: [`StartingNonces::Stored`] for a
    /// normal session (`p.default_nonce` is then unused); the package flow
    /// and the nonce exchange are the same as a resync session's.
    pub fn start_with(
        p: ClientParams,
        nonces: StartingNonces,
        _rng: [u8; 16],
    ) -> Result<(ClientSession, Outgoing), Failure> {
        let mut s = ClientSession {
            session_id: p.session_id_format.format(p.session_id),
            phase: Phase::Pkg2 { retried: false },
            last_msg_id: 0,
            client_nonce: nonces.client_nonce(),
            server_nonce: nonces.server_nonce(),
            server_secret: p.server_secret.clone(),
            fresh_client_nonce: None,
            rotated_secret: None,
            committed: NonceCommit::default(),
            p,
        };
        let out = s.pkg1().map_err(|e| Failure::new(e, &s.committed))?;
        Ok((s, out))
    }

    /// Everything committed so far.
    pub fn committed(&self) -> &NonceCommit {
        &self.committed
    }

    fn pkg1(&mut self) -> Result<Outgoing, crate::EncodeError> {
        let d = &self.p.dev_info;
        let devinfo: Vec<Item> = [
            ("DevId", &d.dev_id),
            ("Man", &d.man),
            ("Mod", &d.model),
            ("DmV", &d.dm_v),
            ("Lang", &d.lang),
        ]
        .iter()
        .map(|(leaf, v)| Item {
            source: Some(Location::uri(format!("./DevInfo/{leaf}"))),
            data: Some((*v).clone()),
            ..Item::default()
        })
        .collect();
        let cmds = vec![
            Command::Alert(Alert {
                cmd_id: 0,
                no_resp: false,
                cred: None,
                code: ALERT_SERVER_INITIATED,
                items: Vec::new(),
            }),
            Command::Replace(ItemCmd {
                cmd_id: 0,
                no_resp: false,
                cred: None,
                meta: None,
                items: devinfo,
            }),
        ];
        self.message(cmds, true)
    }

    fn message(
        &mut self,
        cmds: Vec<Command>,
        final_: bool,
    ) -> Result<Outgoing, crate::EncodeError> {
        self.last_msg_id += 1;
        let mut hdr = header(
            &self.session_id,
            self.last_msg_id,
            Location::uri(self.p.server_uri.clone()),
            Location {
                loc_uri: self.p.dev_info.dev_id.clone(),
                loc_name: Some(self.p.client_name.clone()),
            },
        );
        if let Some(size) = self.p.max_msg_size {
            hdr.meta = Some(crate::Meta {
                max_msg_size: Some(size),
                ..crate::Meta::default()
            });
        }
        Signer {
            scheme: self.p.scheme,
            encoding: self.p.encoding,
            username: &self.p.client_name,
            secret: &self.p.client_secret,
            nonce: &self.client_nonce,
        }
        .seal(SyncMl {
            hdr,
            body: body(cmds, final_),
        })
    }

    fn fail(&mut self, reason: impl Into<FailureReason>) -> Step {
        self.phase = Phase::Over;
        Step::Failed(Failure::new(reason, &self.committed))
    }

    /// Hands over what to persist with the next step.
    fn take_commit(&mut self, mut c: NonceCommit) -> NonceCommit {
        if let Some(n) = self.fresh_client_nonce.take() {
            // The server issued it, so it already expects it: no fallback needed.
            c.client_nonce = Some(n);
            c.confirmed.client_nonce = true;
        }
        if let Some(s) = self.rotated_secret.take() {
            c.server_secret = Some(s);
        }
        self.committed.absorb(&c);
        c
    }

    fn send(&mut self, commit: NonceCommit, cmds: Vec<Command>, final_: bool) -> Step {
        let out = match self.message(cmds, final_) {
            Ok(o) => o,
            Err(e) => return self.fail(e),
        };
        let commit = self.take_commit(commit);
        if commit.is_empty() {
            Step::Send(out)
        } else {
            Step::CommitThenSend(commit, out)
        }
    }

    /// Feeds the server's answer (HTTP body and `x-syncml-hmac` header);
    /// `fresh_random` supplies the new server nonce when one is due.
    pub fn on_response(
        &mut self,
        body: &[u8],
        hmac_header: Option<&str>,
        fresh_random: [u8; 16],
    ) -> Step {
        if self.phase == Phase::Over {
            return Step::Failed(Failure::new(FailureReason::Finished, &self.committed));
        }
        let msg = match decode(body) {
            Ok((m, _)) => m,
            Err(e) => return self.fail(e),
        };
        if msg.hdr.session_id.trim() != self.session_id {
            return self.fail(FailureReason::Protocol("SessionID differs from ours"));
        }
        // Before anything in the message is believed, the server proves
        // itself: default server nonce until our Chal, then the new one.
        if let Err(f) = authenticate(
            self.p.scheme,
            &msg,
            body,
            hmac_header,
            &self.p.server_id,
            &self.server_secret,
            &self.server_nonce,
        ) {
            return self.fail(FailureReason::ServerCredentials(f.describe()));
        }
        let Some(hs) = find_header_status(&msg, self.last_msg_id) else {
            return self.fail(FailureReason::Protocol("no Status for our SyncHdr"));
        };
        // An empty NextNonce would make every later credential guessable.
        let challenged = hs
            .chal
            .as_ref()
            .and_then(|c| c.meta.next_nonce.clone())
            .filter(|n| !n.is_empty());
        match hs.code {
            200 | 212 => {}
            401 | 407 => {
                let Phase::Pkg2 { retried: false } = self.phase else {
                    return self.fail(FailureReason::Rejected(hs.code));
                };
                let Some(n) = challenged else {
                    return self.fail(FailureReason::Rejected(hs.code));
                };
                // One retry of Pkg#1 with the challenged nonce; it is not
                // persisted: the 212 that follows carries the one to keep.
                self.client_nonce = Nonce::new(n);
                self.phase = Phase::Pkg2 { retried: true };
                return match self.pkg1() {
                    Ok(out) => Step::Send(out),
                    Err(e) => self.fail(e),
                };
            }
            code => return self.fail(FailureReason::Rejected(code)),
        }
        // A Chal on a success status: the nonce to use from the next message
        // on (in Pkg#2 the change request's new client nonce; a server may
        // also hand out another one later, e.g. in Pkg#4).
        if let Some(n) = challenged {
            let n = Nonce::new(n);
            self.client_nonce = n.clone();
            self.fresh_client_nonce = Some(n);
        }
        // 212: the server is authenticated for the rest of the session.
        let mut cmds = vec![Command::Status(header_status(&msg.hdr, 212))];
        for cmd in &msg.body.commands {
            if let Some(code) = self.execute(cmd) {
                cmds.push(Command::Status(status_for(msg.hdr.msg_id, cmd, code)));
            }
        }
        if !msg.body.final_ {
            cmds.push(Command::Alert(Alert {
                cmd_id: 0,
                no_resp: false,
                cred: None,
                code: ALERT_NEXT_MESSAGE,
                items: Vec::new(),
            }));
            return self.send(NonceCommit::default(), cmds, false);
        }
        match self.phase {
            Phase::Pkg2 { .. } => {
                if self.fresh_client_nonce.is_none() && self.committed.client_nonce.is_none() {
                    return self.fail(FailureReason::MissingChal("Pkg#2"));
                }
                // Our Chal rides on the status for the server's header.
                let server_nonce = Nonce::new(fresh_random.to_vec());
                let chal_type = match self.p.scheme {
                    AuthScheme::Md5 => cred::AUTH_MD5,
                    AuthScheme::Hmac => cred::AUTH_MAC,
                };
                if let Some(Command::Status(s)) = cmds.first_mut() {
                    s.chal = Some(cred::chal(chal_type, server_nonce.as_bytes()));
                }
                self.server_nonce = server_nonce.clone();
                self.phase = Phase::Pkg4;
                let commit = NonceCommit {
                    server_nonce: Some(server_nonce),
                    ..NonceCommit::default()
                };
                self.send(commit, cmds, true)
            }
            Phase::Pkg4 | Phase::Closing => {
                let mut commit = NonceCommit::default();
                // The server signed with the new server nonce: it has it.
                commit.confirmed.server_nonce = true;
                if self.phase == Phase::Closing && self.committed.server_secret.is_some() {
                    commit.confirmed.server_secret = true;
                }
                let needs_answer = cmds.len() > 1;
                if needs_answer {
                    self.phase = Phase::Closing;
                    if let Some(s) = &self.rotated_secret {
                        // From the closing message on, the server signs
                        // with the secret it just handed us.
                        self.server_secret = s.clone();
                    }
                    return self.send(commit, cmds, true);
                }
                self.phase = Phase::Over;
                let commit = self.take_commit(commit);
                Step::Done(SessionOutcome {
                    commit,
                    committed: self.committed.clone(),
                })
            }
            Phase::Over => self.fail(FailureReason::Finished),
        }
    }

    /// Carries out one server command; returns the status code owed.
    fn execute(&mut self, cmd: &Command) -> Option<u16> {
        match cmd {
            // A Status is the one command never answered with a Status.
            Command::Status(_) => None,
            Command::Replace(r) if self.is_secret_rotation(r) => {
                let data = r.items.first().and_then(|i| i.data.clone());
                self.rotated_secret = Some(Secret::new(data.unwrap_or_default().into_bytes()));
                (!r.no_resp).then_some(200)
            }
            Command::Alert(a) if a.no_resp => None,
            Command::Replace(c) | Command::Get(c) if c.no_resp => None,
            // NoResp on a container covers the container's own status;
            // this client answers Atomic/Sequence with one status anyway.
            Command::Opaque(o) if o.no_resp() => None,
            // Results: since SyncML 1.1 every command but Status gets a
            // Status (1.0.1 exempted Results), and Results has no NoResp
            // in the DTD. We never sent a Get, so a Results from the
            // server is unsolicited and unused: 406 like any other
            // command this client does not carry out.
            _ => Some(NOT_HANDLED),
        }
    }

    fn is_secret_rotation(&self, r: &ItemCmd) -> bool {
        matches!(self.phase, Phase::Pkg4)
            && r.items.len() == 1
            && r.items[0].data.is_some()
            && match (&self.p.server_secret_uri, &r.items[0].target) {
                (Some(uri), Some(t)) => &t.loc_uri == uri,
                _ => false,
            }
    }
}
