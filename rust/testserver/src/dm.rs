//! `POST /dm`: the SyncML DM endpoint. Each session runs rust/syncml's
//! [`ServerSession`] (the server role of the nonce-resync change request);
//! this module only finds the session a message belongs to, persists what
//! the state machine commits *before* the answer leaves, and writes the
//! timeline.
//!
//! A session may start only with the session id of a Package #0 this server
//! issued (and not yet answered); the notification names the device and the
//! kind of session: one signed with the stored server nonce opens a normal
//! session (Pkg#1 checked with the stored client nonce, Pkg#2 signed with the
//! stored server nonce), one signed with the default nonce the change
//! request's resync session. Both rotate both nonces. Sessions
//! in flight live in memory: after a server restart the device's next message
//! gets 404 and its session fails cleanly, and the server's next
//! default-nonce notification starts a new one (docs/field-test.md).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use dmnonce_proto::digest::md5;
use dmnonce_proto::DefaultNonce;
use dmnonce_syncml::server::SecretRotation;
use dmnonce_syncml::{
    decode, AuthScheme, Nonce, NonceCommit, Outgoing, Secret, ServerParams, ServerSession,
    ServerStep, SessionIdFormat, StartingNonces,
};

use crate::admin::UpdateError;
use crate::app::App;
use crate::http::{Request, Response};
use crate::state::{Device, Scheme, ServerState};
use crate::timeline::now_ms;

/// The last exchange of a session: a client that lost our answer (link
/// down) sends the same message again and gets the same answer, instead of
/// the state machine seeing a duplicate.
#[derive(Clone)]
struct LastExchange {
    request_md5: [u8; 16],
    answer: Outgoing,
    pkg_out: u32,
    at_ms: u64,
}

/// Which session a notification opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// After a stored-nonce Package #0: counted in `sessions_completed`.
    Normal,
    /// After a default-nonce Package #0: counted in `resyncs_completed`.
    Resync,
}

/// One session in flight.
struct Live {
    client_name: String,
    kind: Kind,
    session: ServerSession,
    /// Client messages received so far (1 = Pkg#1, 2 = Pkg#3, ...).
    received: u32,
    last: Option<LastExchange>,
}

/// How long the last answer of a finished session is kept for a resend.
const FINISHED_KEEP_MS: u64 = 10 * 60 * 1000;

#[derive(Default)]
struct Table {
    live: HashMap<u16, Live>,
    finished: HashMap<u16, (String, LastExchange)>,
}

/// DM sessions in flight, by session id.
#[derive(Default)]
pub struct Sessions {
    table: Mutex<Table>,
}

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Whether a session with this device is in flight.
    pub fn is_active(&self, name: &str) -> bool {
        self.lock().live.values().any(|l| l.client_name == name)
    }
    /// Forgets every session.
    pub fn clear(&self) {
        let mut t = self.lock();
        t.live.clear();
        t.finished.clear();
    }
}

/// The session ids a `SessionID` text may denote (hex as most clients
/// write it, then decimal; the specifications leave the choice open).
fn candidates(text: &str) -> Vec<u16> {
    let mut ids: Vec<u16> = [SessionIdFormat::HexUpper, SessionIdFormat::Decimal]
        .iter()
        .filter_map(|f| f.parse(text))
        .collect();
    ids.dedup();
    ids
}

fn random16() -> Result<[u8; 16], Response> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|_| Response::error(500, "random source failed"))?;
    Ok(b)
}

/// `POST /dm`.
pub fn handle(app: &App, req: &Request) -> Response {
    match handle_inner(app, req) {
        Ok(r) | Err(r) => r,
    }
}

fn handle_inner(app: &App, req: &Request) -> Result<Response, Response> {
    let (msg, _) = decode(&req.body).map_err(|e| {
        log::warn!("/dm: undecodable message ({e})");
        Response::error(400, format!("not a SyncML DM message: {e}"))
    })?;
    let ids = candidates(&msg.hdr.session_id);
    let request_md5 = md5(&req.body);
    let now = now_ms();
    let mut table = app.sessions.lock();
    table
        .finished
        .retain(|_, (_, l)| now.saturating_sub(l.at_ms) < FINISHED_KEEP_MS);
    if let Some(r) = resend(&table, &ids, &request_md5) {
        return Ok(r);
    }
    let sid = match ids.iter().find(|id| table.live.contains_key(id)) {
        Some(id) => *id,
        None if msg.hdr.msg_id != 1 => {
            log::warn!(
                "/dm: message {} of session {} but no such session in flight \
                 (server restarted?): refused; the server will notify again",
                msg.hdr.msg_id,
                msg.hdr.session_id
            );
            return Err(Response::error(404, "no such session in flight"));
        }
        None => {
            let (sid, started) = start(app, &ids)?;
            table.live.insert(sid, started);
            sid
        }
    };
    let fresh = random16()?;
    let Some(entry) = table.live.get_mut(&sid) else {
        return Err(Response::error(500, "session vanished"));
    };
    entry.received += 1;
    let pkg_in = 2 * entry.received - 1;
    let pkg_out = pkg_in + 1;
    let name = entry.client_name.clone();
    let step = entry
        .session
        .on_request(&req.body, req.header("x-syncml-hmac"), fresh);
    let remember = |answer: &Outgoing| LastExchange {
        request_md5,
        answer: answer.clone(),
        pkg_out,
        at_ms: now,
    };
    match step {
        ServerStep::Reply { commit, out } => {
            log::info!("Pkg#{pkg_in} from {name} (session {sid:X}): credentials accepted");
            if let Some(c) = &commit {
                if let Err(r) = persist(app, &name, c, None) {
                    table.live.remove(&sid);
                    return Err(r);
                }
                describe_commit(&name, c);
            }
            if let Some(entry) = table.live.get_mut(&sid) {
                entry.last = Some(remember(&out));
            }
            log::info!("Pkg#{pkg_out} to {name}");
            Ok(with_fault(app, pkg_out, answer(out)))
        }
        ServerStep::Finish { out, outcome } => {
            let kind = table.live.remove(&sid).map_or(Kind::Resync, |l| l.kind);
            log::info!("Pkg#{pkg_in} from {name} (session {sid:X}): credentials accepted");
            persist(app, &name, &outcome.commit, Some((sid, kind)))?;
            describe_commit(&name, &outcome.commit);
            table.finished.insert(sid, (name.clone(), remember(&out)));
            log::info!(
                "Pkg#{pkg_out} to {name}, signed with the new server nonce: \
                 {} session {sid:X} complete, server in step with {name}",
                match kind {
                    Kind::Normal => "normal",
                    Kind::Resync => "resync",
                }
            );
            Ok(with_fault(app, pkg_out, answer(out)))
        }
        ServerStep::Failed { out, failure } => {
            table.live.remove(&sid);
            let reason = failure.reason.to_string();
            log::warn!("Pkg#{pkg_in} from {name} (session {sid:X}): session failed: {reason}");
            let _ = app.update(|state| {
                if let Some(d) = state.devices.get_mut(&name) {
                    d.last_error = Some(reason.clone());
                }
                Ok::<(), ()>(())
            });
            match out {
                Some(out) => Ok(answer(out)),
                None => Err(Response::error(400, reason)),
            }
        }
    }
}

/// A message sent again because our answer was lost (link down): the same
/// answer again, so the state machine never sees a duplicate.
fn resend(table: &Table, ids: &[u16], request_md5: &[u8; 16]) -> Option<Response> {
    for id in ids {
        let last = match (table.live.get(id), table.finished.get(id)) {
            (Some(l), _) => l.last.as_ref().map(|x| (&l.client_name, x)),
            (None, Some((n, x))) => Some((n, x)),
            _ => None,
        };
        if let Some((name, last)) = last.filter(|(_, x)| &x.request_md5 == request_md5) {
            log::info!(
                "message from {name} (session {id:X}) received again (our answer was lost): \
                 Pkg#{} sent again",
                last.pkg_out
            );
            return Some(answer(last.answer.clone()));
        }
    }
    None
}

/// A new session for the first issued notification among `ids`.
fn start(app: &App, ids: &[u16]) -> Result<(u16, Live), Response> {
    let cfg = &app.config;
    let now = now_ms();
    let (sid, device, nonces) = {
        let state = app.state();
        let Some((sid, issued)) = ids
            .iter()
            .find_map(|id| state.issued.get(id).map(|i| (*id, i)))
        else {
            log::warn!(
                "/dm: message for a session this server never announced (or already finished)"
            );
            return Err(Response::error(
                404,
                "no notification was issued for this session id",
            ));
        };
        let device = state
            .devices
            .get(&issued.client_name)
            .cloned()
            .ok_or_else(|| Response::error(404, "the notified device is no longer provisioned"))?;
        let nonces = match issued.signed.as_str() {
            "stored" => stored_nonces(&device)?,
            "default-zero" => StartingNonces::Default(DefaultNonce::Zero),
            "default-text" => StartingNonces::Default(DefaultNonce::Text),
            _ => StartingNonces::Default(cfg.default_nonce),
        };
        (sid, device, nonces)
    };
    let kind = if nonces.is_resync() {
        Kind::Resync
    } else {
        Kind::Normal
    };
    let opened = match &nonces {
        StartingNonces::Default(DefaultNonce::Text) => {
            "resync, client credentials checked with the default-text nonce"
        }
        StartingNonces::Default(DefaultNonce::Zero) => {
            "resync, client credentials checked with the default-zero nonce"
        }
        StartingNonces::Stored { .. } => {
            "normal session, client credentials checked with the stored client nonce"
        }
    };
    // Step 6 of the change request is part of the resync procedure; a
    // normal session only rotates the nonces.
    let rotate_server_secret = if cfg.rotate_secret && kind == Kind::Resync {
        let fresh = random16()?;
        let text: String = fresh.iter().map(|b| format!("{b:02x}")).collect();
        Some(SecretRotation {
            node_uri: cfg.secret_node_uri.clone(),
            new_secret: Secret::new(text.into_bytes()),
        })
    } else {
        None
    };
    let params = ServerParams {
        server_id: cfg.server_id.clone(),
        server_uri: cfg.server_uri.clone(),
        client_name: device.client_name.clone(),
        client_secret: Secret::new(device.client_password.as_bytes()),
        server_secret: Secret::new(device.server_password.as_bytes()),
        session_id: sid,
        session_id_format: None,
        scheme: match device.auth_scheme {
            Scheme::Md5 => AuthScheme::Md5,
            Scheme::Hmac => AuthScheme::Hmac,
        },
        nonces,
        management: Vec::new(),
        rotate_server_secret,
        max_commands_per_message: None,
    };
    app.update(|state: &mut ServerState| {
        if let Some(d) = state.devices.get_mut(&device.client_name) {
            d.last_session_id = Some(sid);
            d.last_session_started_ms = Some(now);
            d.pending = None;
        }
        // One session per notification: a second Pkg#1 for this id (a
        // replay, or a device resuming after our restart) is refused.
        state.issued.remove(&sid);
        Ok::<(), ()>(())
    })
    .map_err(|_| Response::error(500, "state not saved"))?;
    log::info!("session {sid:X} opened by {}: {opened}", device.client_name);
    Ok((
        sid,
        Live {
            client_name: device.client_name,
            kind,
            session: ServerSession::new(params),
            received: 0,
            last: None,
        },
    ))
}

/// The nonces a normal session starts from: the ones this server stored for
/// the device at the end of its last session (or provisioned).
fn stored_nonces(device: &Device) -> Result<StartingNonces, Response> {
    match (&device.client_nonce, &device.server_nonce) {
        (Some(c), Some(s)) => Ok(StartingNonces::Stored {
            client_nonce: Nonce::new(c.bytes()),
            server_nonce: Nonce::new(s.bytes()),
        }),
        _ => {
            log::warn!(
                "/dm: normal session for {} refused: no stored nonces",
                device.client_name
            );
            Err(Response::error(
                409,
                "a normal session needs the stored client and server nonces",
            ))
        }
    }
}

/// Applies a commit to the device and saves the state atomically (before the
/// answer leaves: a kill after this point loses nothing the device will use).
/// `finished`: the session with this id, of this kind, completed.
fn persist(
    app: &App,
    name: &str,
    commit: &NonceCommit,
    finished: Option<(u16, Kind)>,
) -> Result<(), Response> {
    let r = app.update(|state: &mut ServerState| {
        let d: &mut Device = state.devices.get_mut(name).ok_or(())?;
        if let Some(n) = &commit.client_nonce {
            d.client_nonce = Some(crate::state::StoredNonce::from_bytes(n.as_bytes()));
        }
        if let Some(n) = &commit.server_nonce {
            d.server_nonce = Some(crate::state::StoredNonce::from_bytes(n.as_bytes()));
        }
        if let Some(s) = &commit.server_secret {
            d.server_password = String::from_utf8_lossy(s.as_bytes()).into_owned();
        }
        if let Some((sid, kind)) = finished {
            match kind {
                Kind::Normal => d.sessions_completed += 1,
                Kind::Resync => d.resyncs_completed += 1,
            }
            d.last_error = None;
            state.issued.remove(&sid);
        }
        Ok(())
    });
    r.map_err(|e: UpdateError<()>| match e {
        UpdateError::Handler(()) => Response::error(404, "device removed during the session"),
        UpdateError::Store(e) => {
            log::error!("state not saved: {e:#}");
            Response::error(500, "state not saved")
        }
    })
}

fn describe_commit(name: &str, c: &NonceCommit) {
    if c.client_nonce.is_some() {
        log::info!("  new client nonce for {name} stored; sent in the Chal of the 212 status");
    }
    if c.server_nonce.is_some() {
        log::info!("  new server nonce from {name}'s Chal stored");
    }
    if c.server_secret.is_some() {
        log::info!("  server AuthSecret for {name} replaced (change request step 6)");
    }
}

/// Attaches the armed fault, if it fires after this package.
fn with_fault(app: &App, pkg_out: u32, mut resp: Response) -> Response {
    if let Some(action) = app.faults.take_for(pkg_out) {
        resp.after_write = Some(
            app.faults
                .after_write(action, app.config.fault_hook.clone()),
        );
    }
    resp
}

fn answer(out: Outgoing) -> Response {
    let mut resp = Response::new(200, out.content_type, out.body);
    if let Some(h) = out.hmac_header {
        resp.headers.push(("x-syncml-hmac".into(), h));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::candidates;

    #[test]
    fn session_id_text_is_read_as_hex_then_decimal() {
        assert_eq!(candidates("102"), vec![0x102, 102]);
        assert_eq!(candidates("1A"), vec![0x1A]);
        assert_eq!(candidates("zz"), Vec::<u16>::new());
    }
}
