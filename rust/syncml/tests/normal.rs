//! Normal sessions: both roles start from the nonces stored at the end of
//! the last session ([`StartingNonces::Stored`]) instead of the default
//! nonce, with the same nonce exchange; a session of one kind refuses the
//! other kind's Pkg#1.

mod common;

use common::*;
use dmnonce_syncml::model::Command;
use dmnonce_syncml::*;

const STORED_CLIENT: &[u8] = b"\x00stored-client-nonce";
const STORED_SERVER: &[u8] = b"stored-server\x00nonce";

fn stored() -> StartingNonces {
    StartingNonces::Stored {
        client_nonce: Nonce::new(STORED_CLIENT),
        server_nonce: Nonce::new(STORED_SERVER),
    }
}

fn normal_server(scheme: AuthScheme) -> ServerParams {
    ServerParams {
        nonces: stored(),
        ..server_params(scheme)
    }
}

fn decoded(o: &Outgoing) -> SyncMl {
    decode(&o.body).expect("our own message decodes").0
}

/// Whether `o` carries `name`'s credentials for `secret` with `nonce`.
fn signed_with(o: &Outgoing, scheme: AuthScheme, name: &str, secret: &[u8], nonce: &[u8]) -> bool {
    match scheme {
        AuthScheme::Md5 => decoded(o)
            .hdr
            .cred
            .as_ref()
            .is_some_and(|c| cred::verify_cred(c, name.as_bytes(), secret, nonce)),
        AuthScheme::Hmac => {
            hmac::verify(o.hmac_header.as_deref(), name, secret, nonce, &o.body).is_ok()
        }
    }
}

fn header_status_code(o: &Outgoing) -> u16 {
    decoded(o)
        .body
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Status(s) if s.cmd_ref == 0 => Some(s.code),
            _ => None,
        })
        .expect("a status for the header")
}

#[test]
fn normal_session_starts_from_the_stored_nonces_and_rotates_both() {
    for (enc, scheme) in ALL_COMBOS {
        let ctx = format!("{enc:?}/{scheme:?}");
        let t = drive_from(
            client_params(enc, scheme),
            stored(),
            normal_server(scheme),
            |_, _, _| true,
        );
        assert_eq!(t.messages.len(), 4, "{ctx}: Pkg#1..Pkg#4");
        let c = t
            .client_done
            .as_ref()
            .unwrap_or_else(|| panic!("{ctx}: {:?}", t.client_failed));
        let s = t
            .server_done
            .as_ref()
            .unwrap_or_else(|| panic!("{ctx}: {:?}", t.server_failed));
        let (cn, sn) = (
            c.committed.client_nonce.clone().expect("new client nonce"),
            c.committed.server_nonce.clone().expect("new server nonce"),
        );
        // Both sides hold the same fresh nonces, all confirmed.
        assert_eq!(s.committed.client_nonce.as_ref(), Some(&cn), "{ctx}");
        assert_eq!(s.committed.server_nonce.as_ref(), Some(&sn), "{ctx}");
        assert!(s.committed.confirmed.client_nonce && s.committed.confirmed.server_nonce);
        assert!(c.committed.confirmed.client_nonce && c.committed.confirmed.server_nonce);
        assert_ne!(cn.as_bytes(), STORED_CLIENT, "{ctx}: client nonce rotated");
        assert_ne!(sn.as_bytes(), STORED_SERVER, "{ctx}: server nonce rotated");
        assert_eq!(fold(&t.server_commits), s.committed, "{ctx}");

        let (cs, ss) = (b"client-secret".as_slice(), b"server-secret".as_slice());
        let default = DefaultNonce::Text.bytes();
        let msg = |i: usize| &t.messages[i].1;
        // Pkg#1: the stored client nonce, not the default one.
        assert!(
            signed_with(msg(0), scheme, "device-1", cs, STORED_CLIENT),
            "{ctx}"
        );
        assert!(
            !signed_with(msg(0), scheme, "device-1", cs, default),
            "{ctx}"
        );
        // Pkg#2: the stored server nonce; 212 + Chal with the new client nonce.
        assert!(
            signed_with(msg(1), scheme, SERVER_ID, ss, STORED_SERVER),
            "{ctx}"
        );
        assert!(
            !signed_with(msg(1), scheme, SERVER_ID, ss, default),
            "{ctx}"
        );
        assert_eq!(header_status_code(msg(1)), 212, "{ctx}");
        // Pkg#3: the new client nonce; Pkg#4: the new server nonce.
        assert!(
            signed_with(msg(2), scheme, "device-1", cs, cn.as_bytes()),
            "{ctx}"
        );
        assert!(
            signed_with(msg(3), scheme, SERVER_ID, ss, sn.as_bytes()),
            "{ctx}"
        );
    }
}

/// Feeds the same Pkg#1 to a fresh server twice (a client that does not
/// take up the Chal): a 401 + Chal, then the end of the session.
fn refused_twice(cp: ClientParams, client_nonces: StartingNonces, sp: ServerParams) {
    let ctx = format!("{:?}/{:?}", cp.encoding, cp.scheme);
    let (_, pkg1) = ClientSession::start_with(cp, client_nonces, [1; 16]).expect("Pkg#1");
    let mut server = ServerSession::new(sp);
    let h = pkg1.hmac_header.as_deref();
    match server.on_request(&pkg1.body, h, [2; 16]) {
        ServerStep::Reply { commit: None, out } => {
            assert_eq!(header_status_code(&out), 401, "{ctx}");
        }
        other => panic!("{ctx}: expected a 401 answer, got {other:?}"),
    }
    match server.on_request(&pkg1.body, h, [3; 16]) {
        ServerStep::Failed { out, failure } => {
            assert_eq!(
                failure.reason,
                FailureReason::ClientCredentials("invalid"),
                "{ctx}"
            );
            assert!(failure.committed.is_empty(), "{ctx}: nothing committed");
            assert_eq!(header_status_code(&out.expect("a last 401")), 401);
        }
        other => panic!("{ctx}: expected the session to fail, got {other:?}"),
    }
    assert!(server.committed().is_empty(), "{ctx}");
}

#[test]
fn a_default_nonce_pkg1_is_refused_in_a_normal_session() {
    for (enc, scheme) in ALL_COMBOS {
        let cp = client_params(enc, scheme);
        let nonces = StartingNonces::Default(cp.default_nonce);
        refused_twice(cp, nonces, normal_server(scheme));
    }
}

#[test]
fn a_stored_nonce_pkg1_is_refused_in_a_resync_session() {
    for (enc, scheme) in ALL_COMBOS {
        refused_twice(client_params(enc, scheme), stored(), server_params(scheme));
    }
}

#[test]
fn sessions_of_different_kinds_never_complete_and_the_client_keeps_its_nonces() {
    for (enc, scheme) in ALL_COMBOS {
        let ctx = format!("{enc:?}/{scheme:?}");
        // A resync client against a normal session, then the other way round.
        // The Chal of the 401 lets the client in, but the server's Pkg#2 is
        // signed with a server nonce the client does not hold.
        let cp = client_params(enc, scheme);
        let resync = StartingNonces::Default(cp.default_nonce);
        for (client_nonces, sp) in [
            (resync, normal_server(scheme)),
            (stored(), server_params(scheme)),
        ] {
            let t = drive_from(cp.clone(), client_nonces, sp, |_, _, _| true);
            assert_eq!(header_status_code(&t.messages[1].1), 401, "{ctx}");
            assert!(t.client_done.is_none() && t.server_done.is_none(), "{ctx}");
            let f = t.client_failed.expect("the client stops");
            assert_eq!(
                f.reason,
                FailureReason::ServerCredentials("invalid"),
                "{ctx}"
            );
            assert!(f.committed.is_empty(), "{ctx}: the device changed nothing");
            assert!(t.client_commits.is_empty(), "{ctx}");
        }
    }
}

#[test]
fn starting_nonces_name_the_session_kind() {
    let d = StartingNonces::Default(DefaultNonce::Zero);
    assert!(d.is_resync());
    assert_eq!(d.client_nonce().as_bytes(), DefaultNonce::Zero.bytes());
    assert_eq!(d.server_nonce().as_bytes(), DefaultNonce::Zero.bytes());
    let s = stored();
    assert!(!s.is_resync());
    assert_eq!(s.client_nonce().as_bytes(), STORED_CLIENT);
    assert_eq!(s.server_nonce().as_bytes(), STORED_SERVER);
    // Debug never shows a nonce.
    let shown = format!("{s:?}");
    assert!(!shown.contains("stored-client") && !shown.contains("stored-server"));
}
