//! A client and a server session wired together in memory.
#![allow(dead_code)]

use dmnonce_syncml::server::SecretRotation;
use dmnonce_syncml::*;

pub const SERVER_ID: &str = "dm.example.net";
pub const SECRET_URI: &str = "./DMAcc/dmnonce/AppAuth/SRVCRED/AAuthSecret";

pub fn client_params(encoding: Encoding, scheme: AuthScheme) -> ClientParams {
    ClientParams {
        server_id: SERVER_ID.into(),
        client_name: "device-1".into(),
        server_uri: "https://127.0.0.1:8443/dm".into(),
        client_secret: Secret::new(b"client-secret".to_vec()),
        server_secret: Secret::new(b"server-secret".to_vec()),
        session_id: 0x0A0B,
        session_id_format: SessionIdFormat::HexUpper,
        encoding,
        scheme,
        default_nonce: DefaultNonce::Text,
        dev_info: DevInfo {
            dev_id: "IMEI:490154203237518".into(),
            man: "dmnonce".into(),
            model: "test".into(),
            dm_v: "1.2".into(),
            lang: "en-US".into(),
        },
        max_msg_size: Some(16_384),
        server_secret_uri: Some(SECRET_URI.into()),
    }
}

pub fn server_params(scheme: AuthScheme) -> ServerParams {
    ServerParams {
        server_id: SERVER_ID.into(),
        server_uri: "https://127.0.0.1:8443/dm".into(),
        client_name: "device-1".into(),
        client_secret: Secret::new(b"client-secret".to_vec()),
        server_secret: Secret::new(b"server-secret".to_vec()),
        session_id: 0x0A0B,
        session_id_format: None,
        scheme,
        nonces: StartingNonces::Default(DefaultNonce::Text),
        management: Vec::new(),
        rotate_server_secret: None,
        max_commands_per_message: None,
    }
}

pub fn rotation() -> SecretRotation {
    SecretRotation {
        node_uri: SECRET_URI.into(),
        new_secret: Secret::new(b"rotated-server-secret".to_vec()),
    }
}

/// Who sent a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum From {
    Client,
    Server,
}

#[derive(Debug, Default)]
pub struct Transcript {
    pub messages: Vec<(From, Outgoing)>,
    pub client_commits: Vec<NonceCommit>,
    pub server_commits: Vec<NonceCommit>,
    pub client_done: Option<SessionOutcome>,
    pub client_failed: Option<Failure>,
    pub server_done: Option<SessionOutcome>,
    pub server_failed: Option<Failure>,
    /// (command, code) statuses the client returned for server commands.
    pub peer_statuses: Vec<(String, u16)>,
}

/// Deterministic "randomness" for the tests: a counter in 16 bytes, with
/// a zero byte in the middle (nonces with zero bytes must survive).
pub fn rng(counter: &mut u8) -> [u8; 16] {
    *counter += 1;
    let mut r = [*counter; 16];
    r[7] = 0;
    r
}

/// Runs a session. `tamper(i, from, msg)` may alter message `i` in flight
/// and returns false to drop it (the session then stops there).
pub fn drive(
    cp: ClientParams,
    sp: ServerParams,
    tamper: impl FnMut(usize, From, &mut Outgoing) -> bool,
) -> Transcript {
    let nonces = StartingNonces::Default(cp.default_nonce);
    drive_from(cp, nonces, sp, tamper)
}

/// [`drive`] with the client starting from `client_nonces` (a normal
/// session when they are the stored nonces).
pub fn drive_from(
    cp: ClientParams,
    client_nonces: StartingNonces,
    sp: ServerParams,
    mut tamper: impl FnMut(usize, From, &mut Outgoing) -> bool,
) -> Transcript {
    let mut t = Transcript::default();
    let mut counter = 0u8;
    let (mut client, mut to_server) =
        ClientSession::start_with(cp, client_nonces, rng(&mut counter)).expect("Pkg#1");
    let mut server = ServerSession::new(sp);
    for _ in 0..20 {
        let i = t.messages.len();
        let keep = tamper(i, From::Client, &mut to_server);
        t.messages.push((From::Client, to_server.clone()));
        if !keep {
            break;
        }
        let mut to_client = match server.on_request(
            &to_server.body,
            to_server.hmac_header.as_deref(),
            rng(&mut counter),
        ) {
            ServerStep::Reply { commit, out } => {
                t.server_commits.extend(commit);
                out
            }
            ServerStep::Finish { out, outcome } => {
                t.server_commits.push(outcome.commit.clone());
                t.server_done = Some(outcome);
                out
            }
            ServerStep::Failed { out, failure } => {
                t.server_failed = Some(failure);
                match out {
                    Some(o) => o,
                    None => break,
                }
            }
        };
        let i = t.messages.len();
        let keep = tamper(i, From::Server, &mut to_client);
        t.messages.push((From::Server, to_client.clone()));
        if !keep {
            break;
        }
        match client.on_response(
            &to_client.body,
            to_client.hmac_header.as_deref(),
            rng(&mut counter),
        ) {
            Step::Send(out) => to_server = out,
            Step::CommitThenSend(commit, out) => {
                t.client_commits.push(commit);
                to_server = out;
            }
            Step::Done(outcome) => {
                t.client_commits.push(outcome.commit.clone());
                t.client_done = Some(outcome);
                break;
            }
            Step::Failed(f) => {
                t.client_failed = Some(f);
                break;
            }
        }
    }
    t.peer_statuses = server.peer_statuses().to_vec();
    t
}

/// Folds commits the way a store applies them.
pub fn fold(commits: &[NonceCommit]) -> NonceCommit {
    let mut all = NonceCommit::default();
    for c in commits {
        if c.client_nonce.is_some() {
            all.client_nonce.clone_from(&c.client_nonce);
        }
        if c.server_nonce.is_some() {
            all.server_nonce.clone_from(&c.server_nonce);
        }
        if c.server_secret.is_some() {
            all.server_secret.clone_from(&c.server_secret);
        }
        all.confirmed.client_nonce |= c.confirmed.client_nonce;
        all.confirmed.server_nonce |= c.confirmed.server_nonce;
        all.confirmed.server_secret |= c.confirmed.server_secret;
    }
    all
}

pub const ALL_COMBOS: [(Encoding, AuthScheme); 4] = [
    (Encoding::Xml, AuthScheme::Md5),
    (Encoding::Xml, AuthScheme::Hmac),
    (Encoding::Wbxml, AuthScheme::Md5),
    (Encoding::Wbxml, AuthScheme::Hmac),
];
