//! The server role of a DM session: the resync session of the change
//! request (SCR-DM-NOTI-S-004), or a normal session; they differ only in
//! the nonces they start from ([`ServerParams::nonces`]).
//!
//! ```text
//! Pkg#1 ← client credentials checked with the default client nonce
//!         (resync) or the stored one (normal session)
//!         (401/407 + Chal once, then the challenged nonce)
//! Pkg#2 → signed with the default (resync) or stored server nonce;
//!         Status 212 + Chal: a new client nonce; statuses; management
//!         commands (split over several messages when configured)
//! Pkg#3 ← client credentials with the new client nonce; its Chal: the new
//!         server nonce
//! Pkg#4 → signed with the new server nonce; optionally a Replace of the
//!         client's SRVCRED AAuthSecret node (change request step 6)
//! Pkg#5/6 (rotation only) ← the client's 200 for the Replace; → a closing
//!         message signed with the new secret
//! ```

mod params;

pub use params::{SecretRotation, ServerParams, ServerStep};

use std::collections::VecDeque;

use crate::model::{Command, Item, ItemCmd, Location, SyncMl};
use crate::session::{
    authenticate, body, find_header_status, header, header_status, status_for, AuthFault, Signer,
};
use crate::{
    cred, decode, AuthScheme, Encoding, Failure, FailureReason, Nonce, NonceCommit, Outgoing,
    Secret, SessionIdFormat, SessionOutcome,
};

#[derive(Debug)]
enum Phase {
    Pkg1 { challenged: bool },
    Pkg2More(VecDeque<Vec<Command>>),
    Pkg3,
    Pkg5 { replace_cmd_id: u32 },
    Over,
}

/// The server side of one session (resync or normal).
#[derive(Debug)]
pub struct ServerSession {
    p: ServerParams,
    phase: Phase,
    encoding: Encoding,
    last_msg_id: u32,
    client_dev: Location,
    /// The SessionID text as the client wrote it; echoed back.
    session_id_text: String,
    client_nonce: Nonce,
    server_nonce: Nonce,
    server_secret: Secret,
    client_nonce_confirmed: bool,
    peer_statuses: Vec<(String, u16)>,
    committed: NonceCommit,
}

impl ServerSession {
    /// A session waiting for Pkg#1.
    pub fn new(p: ServerParams) -> ServerSession {
        ServerSession {
            phase: Phase::Pkg1 { challenged: false },
            encoding: Encoding::Xml,
            last_msg_id: 0,
            client_dev: Location::default(),
            session_id_text: String::new(),
            client_nonce: p.nonces.client_nonce(),
            server_nonce: p.nonces.server_nonce(),
            server_secret: p.server_secret.clone(),
            client_nonce_confirmed: false,
            peer_statuses: Vec::new(),
            committed: NonceCommit::default(),
            p,
        }
    }

    /// The client's statuses for our commands, as (command, code), e.g.
    /// `("Exec", 406)` for a management command it does not handle.
    pub fn peer_statuses(&self) -> &[(String, u16)] {
        &self.peer_statuses
    }

    /// Everything committed so far.
    pub fn committed(&self) -> &NonceCommit {
        &self.committed
    }

    fn session_id_ok(&self, text: &str) -> bool {
        let formats: &[SessionIdFormat] = match &self.p.session_id_format {
            Some(f) => std::slice::from_ref(f),
            None => &[SessionIdFormat::HexUpper, SessionIdFormat::Decimal],
        };
        formats
            .iter()
            .any(|f| f.parse(text) == Some(self.p.session_id))
    }

    fn fail(&mut self, out: Option<Outgoing>, reason: impl Into<FailureReason>) -> ServerStep {
        self.phase = Phase::Over;
        ServerStep::Failed {
            out,
            failure: Failure::new(reason, &self.committed),
        }
    }

    fn message(
        &mut self,
        cmds: Vec<Command>,
        final_: bool,
    ) -> Result<Outgoing, crate::EncodeError> {
        self.last_msg_id += 1;
        let hdr = header(
            &self.session_id_text,
            self.last_msg_id,
            self.client_dev.clone(),
            Location {
                loc_uri: self.p.server_uri.clone(),
                loc_name: Some(self.p.server_id.clone()),
            },
        );
        Signer {
            scheme: self.p.scheme,
            encoding: self.encoding,
            username: &self.p.server_id,
            secret: &self.server_secret,
            nonce: &self.server_nonce,
        }
        .seal(SyncMl {
            hdr,
            body: body(cmds, final_),
        })
    }

    fn reply(&mut self, mut commit: NonceCommit, cmds: Vec<Command>, final_: bool) -> ServerStep {
        match self.message(cmds, final_) {
            Ok(out) => {
                self.confirm_client_nonce(&mut commit);
                self.committed.absorb(&commit);
                ServerStep::Reply {
                    commit: (!commit.is_empty()).then_some(commit),
                    out,
                }
            }
            Err(e) => self.fail(None, e),
        }
    }

    fn finish(&mut self, mut commit: NonceCommit, cmds: Vec<Command>) -> ServerStep {
        match self.message(cmds, true) {
            Ok(out) => {
                self.confirm_client_nonce(&mut commit);
                self.committed.absorb(&commit);
                self.phase = Phase::Over;
                ServerStep::Finish {
                    out,
                    outcome: SessionOutcome {
                        commit,
                        committed: self.committed.clone(),
                    },
                }
            }
            Err(e) => self.fail(None, e),
        }
    }

    /// After Pkg#2 every authenticated client message used the new client
    /// nonce: confirm it once.
    fn confirm_client_nonce(&mut self, commit: &mut NonceCommit) {
        if !matches!(self.phase, Phase::Pkg1 { .. })
            && self.committed.client_nonce.is_some()
            && !self.client_nonce_confirmed
            && commit.client_nonce.is_none()
        {
            commit.confirmed.client_nonce = true;
            self.client_nonce_confirmed = true;
        }
    }

    fn chal_type(&self) -> &'static str {
        match self.p.scheme {
            AuthScheme::Md5 => cred::AUTH_MD5,
            AuthScheme::Hmac => cred::AUTH_MAC,
        }
    }

    /// Feeds a client message (HTTP body and `x-syncml-hmac` header);
    /// `fresh_random` supplies a new client nonce when one is due.
    pub fn on_request(
        &mut self,
        body: &[u8],
        hmac_header: Option<&str>,
        fresh_random: [u8; 16],
    ) -> ServerStep {
        if matches!(self.phase, Phase::Over) {
            return ServerStep::Failed {
                out: None,
                failure: Failure::new(FailureReason::Finished, &self.committed),
            };
        }
        let msg = match decode(body) {
            Ok((m, enc)) => {
                self.encoding = enc;
                m
            }
            Err(e) => return self.fail(None, e),
        };
        if !self.session_id_ok(&msg.hdr.session_id) {
            return self.fail(
                None,
                FailureReason::Protocol("SessionID is not this session's"),
            );
        }
        if let Phase::Pkg1 { .. } = self.phase {
            self.client_dev = msg.hdr.source.clone();
            self.client_dev.loc_name = None;
            self.session_id_text = msg.hdr.session_id.trim().to_string();
        }
        let auth = authenticate(
            self.p.scheme,
            &msg,
            body,
            hmac_header,
            &self.p.client_name,
            &self.p.client_secret,
            &self.client_nonce,
        );
        if let Err(fault) = auth {
            return self.on_auth_fault(&msg, fault, fresh_random);
        }
        self.record_statuses(&msg);
        let mut cmds = vec![Command::Status(header_status(&msg.hdr, 212))];
        for c in &msg.body.commands {
            let code = match c {
                Command::Status(_) => continue,
                Command::Alert(_) => 200,
                Command::Replace(r) if r.items.iter().all(is_devinfo) => 200,
                _ => 406,
            };
            cmds.push(Command::Status(status_for(msg.hdr.msg_id, c, code)));
        }
        match std::mem::replace(&mut self.phase, Phase::Over) {
            Phase::Pkg1 { .. } => self.on_pkg1(&msg, cmds, fresh_random),
            Phase::Pkg2More(chunks) => self.on_next_message_alert(&msg, cmds, chunks),
            Phase::Pkg3 => self.on_pkg3(&msg, cmds),
            Phase::Pkg5 { replace_cmd_id } => self.on_pkg5(&msg, cmds, replace_cmd_id),
            Phase::Over => self.fail(None, FailureReason::Finished),
        }
    }

    fn on_auth_fault(&mut self, msg: &SyncMl, fault: AuthFault, fresh: [u8; 16]) -> ServerStep {
        let reason = FailureReason::ClientCredentials(fault.describe());
        let Phase::Pkg1 { challenged } = self.phase else {
            return self.fail(None, reason);
        };
        let mut st = header_status(&msg.hdr, fault.status());
        if challenged {
            let out = self.message(vec![Command::Status(st)], true).ok();
            return self.fail(out, reason);
        }
        // One more chance with a nonce of our choosing (DM Security §5.3).
        let nonce = Nonce::new(fresh.to_vec());
        st.chal = Some(cred::chal(self.chal_type(), nonce.as_bytes()));
        self.client_nonce = nonce;
        self.phase = Phase::Pkg1 { challenged: true };
        self.reply(NonceCommit::default(), vec![Command::Status(st)], true)
    }

    fn record_statuses(&mut self, msg: &SyncMl) {
        for c in &msg.body.commands {
            if let Command::Status(s) = c {
                if s.cmd_ref != 0 {
                    self.peer_statuses.push((s.cmd.clone(), s.code));
                }
            }
        }
    }

    fn on_pkg1(&mut self, msg: &SyncMl, mut cmds: Vec<Command>, fresh: [u8; 16]) -> ServerStep {
        let alerted = msg.body.commands.iter().any(
            |c| matches!(c, Command::Alert(a) if a.code == crate::client::ALERT_SERVER_INITIATED),
        );
        if !alerted {
            return self.fail(None, FailureReason::Protocol("Pkg#1 without Alert 1200"));
        }
        let new_client_nonce = Nonce::new(fresh.to_vec());
        if let Some(Command::Status(s)) = cmds.first_mut() {
            s.chal = Some(cred::chal(self.chal_type(), new_client_nonce.as_bytes()));
        }
        self.client_nonce = new_client_nonce.clone();
        cmds.extend(self.p.management.iter().cloned());
        let per = self.p.max_commands_per_message.unwrap_or(usize::MAX).max(1);
        let mut chunks: VecDeque<Vec<Command>> = VecDeque::new();
        let mut rest = cmds;
        while rest.len() > per {
            let tail = rest.split_off(per);
            chunks.push_back(rest);
            rest = tail;
        }
        chunks.push_back(rest);
        let first = chunks.pop_front().unwrap_or_default();
        let final_ = chunks.is_empty();
        self.phase = if final_ {
            Phase::Pkg3
        } else {
            Phase::Pkg2More(chunks)
        };
        let commit = NonceCommit {
            client_nonce: Some(new_client_nonce),
            ..NonceCommit::default()
        };
        self.reply(commit, first, final_)
    }

    fn on_next_message_alert(
        &mut self,
        msg: &SyncMl,
        mut cmds: Vec<Command>,
        mut chunks: VecDeque<Vec<Command>>,
    ) -> ServerStep {
        let asked =
            msg.body.commands.iter().any(
                |c| matches!(c, Command::Alert(a) if a.code == crate::client::ALERT_NEXT_MESSAGE),
            );
        if !asked {
            return self.fail(
                None,
                FailureReason::Protocol("expected Alert 1222 for the rest of Pkg#2"),
            );
        }
        cmds.extend(chunks.pop_front().unwrap_or_default());
        let final_ = chunks.is_empty();
        self.phase = if final_ {
            Phase::Pkg3
        } else {
            Phase::Pkg2More(chunks)
        };
        self.reply(NonceCommit::default(), cmds, final_)
    }

    fn on_pkg3(&mut self, msg: &SyncMl, mut cmds: Vec<Command>) -> ServerStep {
        let Some(hs) = find_header_status(msg, self.last_msg_id) else {
            return self.fail(None, FailureReason::Protocol("no Status for our SyncHdr"));
        };
        if !matches!(hs.code, 200 | 212) {
            return self.fail(None, FailureReason::Rejected(hs.code));
        }
        let nonce = hs.chal.as_ref().and_then(|c| c.meta.next_nonce.clone());
        // An empty NextNonce would make every later credential guessable.
        let Some(n) = nonce.filter(|n| !n.is_empty()) else {
            return self.fail(None, FailureReason::MissingChal("Pkg#3"));
        };
        let new_server_nonce = Nonce::new(n);
        self.server_nonce = new_server_nonce.clone();
        let mut commit = NonceCommit {
            server_nonce: Some(new_server_nonce),
            ..NonceCommit::default()
        };
        // The client issued it, so it holds it already.
        commit.confirmed.server_nonce = true;
        match self.p.rotate_server_secret.clone() {
            Some(rot) => {
                let replace_cmd_id = u32::try_from(cmds.len() + 1).unwrap_or(u32::MAX);
                cmds.push(Command::Replace(ItemCmd {
                    cmd_id: 0,
                    no_resp: false,
                    cred: None,
                    meta: Some(crate::Meta {
                        format: Some("chr".into()),
                        type_: Some("text/plain".into()),
                        ..crate::Meta::default()
                    }),
                    items: vec![Item {
                        target: Some(Location::uri(rot.node_uri)),
                        data: Some(String::from_utf8_lossy(rot.new_secret.as_bytes()).into_owned()),
                        ..Item::default()
                    }],
                }));
                self.phase = Phase::Pkg5 { replace_cmd_id };
                self.reply(commit, cmds, true)
            }
            None => self.finish(commit, cmds),
        }
    }

    fn on_pkg5(&mut self, msg: &SyncMl, cmds: Vec<Command>, replace_cmd_id: u32) -> ServerStep {
        let accepted = msg.body.commands.iter().any(|c| {
            matches!(c, Command::Status(s) if s.msg_ref == self.last_msg_id
                && s.cmd_ref == replace_cmd_id && s.cmd == "Replace" && s.code == 200)
        });
        let mut commit = NonceCommit::default();
        if let (true, Some(rot)) = (accepted, self.p.rotate_server_secret.clone()) {
            // The client has it (its 200); from now on we sign with it.
            self.server_secret = rot.new_secret.clone();
            commit.server_secret = Some(rot.new_secret);
            commit.confirmed.server_secret = true;
        }
        self.finish(commit, cmds)
    }
}

fn is_devinfo(i: &Item) -> bool {
    i.source
        .as_ref()
        .or(i.target.as_ref())
        .is_some_and(|l| l.loc_uri.starts_with("./DevInfo/"))
}
