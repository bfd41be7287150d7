//! dmnonce-testserver end to end over real HTTP on 127.0.0.1: provisioning,
//! notifications, a full resync session driven by rust/syncml's client role,
//! snapshot/restore, the automatic fallback, restart, bad input, and the
//! log never showing a secret or nonce.

mod common;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use common::Server;
use dmnonce_proto::{verify, DefaultNonce, Fallback, Package0, Verdict};
use dmnonce_syncml::{
    AuthScheme, ClientParams, ClientSession, DevInfo, Encoding, Nonce, Secret, SessionIdFormat,
    StartingNonces, Step,
};
use serde_json::json;

const SERVER_PW: &str = "srv-Secret-7";
const CLIENT_PW: &str = "cli-Secret-9";
const SERVER_NONCE: &[u8] = b"\x00old-server-nonce\x00";
const CLIENT_NONCE: &[u8] = b"old-client-nonce";

fn add_device(server: &Server, name: &str, scheme: &str, encoding: &str) {
    let r = server.post_json(
        "/admin/devices",
        &json!({
            "client_name": name, "server_password": SERVER_PW, "client_password": CLIENT_PW,
            "auth_scheme": scheme, "encoding": encoding,
            "server_nonce_b64": B64.encode(SERVER_NONCE), "client_nonce_b64": B64.encode(CLIENT_NONCE),
        }),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
}

fn notify(server: &Server, name: &str, nonce: &str) -> Package0 {
    let r = server.post_json(
        "/admin/notify",
        &json!({ "client_name": name, "nonce": nonce }),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.syncml.notification")
    );
    Package0::decode(&r.body).expect("a Package #0")
}

fn resync(reading: DefaultNonce) -> StartingNonces {
    StartingNonces::Default(reading)
}

/// The nonces `add_device` provisions, as a normal session starts from them.
fn provisioned() -> StartingNonces {
    StartingNonces::Stored {
        client_nonce: Nonce::new(CLIENT_NONCE),
        server_nonce: Nonce::new(SERVER_NONCE),
    }
}

fn verdict(pkg: &Package0, secret: &[u8], stored: &[u8]) -> Verdict {
    verify(pkg, secret, &[stored], Fallback::default())
}

/// The device's session settings for `pkg` (the default-nonce reading only
/// matters to a resync session).
fn device_params(
    server: &Server,
    name: &str,
    pkg: &Package0,
    scheme: AuthScheme,
    encoding: Encoding,
    nonces: &StartingNonces,
) -> ClientParams {
    let reading = match nonces {
        StartingNonces::Default(r) => *r,
        StartingNonces::Stored { .. } => DefaultNonce::Text, // unused
    };
    ClientParams {
        server_id: pkg.notification.server_id.clone(),
        client_name: name.into(),
        server_uri: format!("http://{}/dm", server.addr),
        client_secret: Secret::new(CLIENT_PW.as_bytes()),
        server_secret: Secret::new(SERVER_PW.as_bytes()),
        session_id: pkg.notification.session_id,
        session_id_format: SessionIdFormat::HexUpper,
        encoding,
        scheme,
        default_nonce: reading,
        dev_info: DevInfo {
            dev_id: name.into(),
            man: "dmnonce".into(),
            model: "test".into(),
            dm_v: "1.2".into(),
            lang: "en".into(),
        },
        max_msg_size: None,
        server_secret_uri: Some("./DMAcc/dmnonce-test/AppAuth/SRVCRED/AAuthSecret".into()),
    }
}

/// Runs the device side of a session for `pkg` against the server (resync
/// or normal, after `nonces`); returns (new client nonce, new server nonce,
/// server secret now in use).
fn run_device_session(
    server: &Server,
    name: &str,
    pkg: &Package0,
    scheme: AuthScheme,
    encoding: Encoding,
    nonces: StartingNonces,
) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let params = device_params(server, name, pkg, scheme, encoding, &nonces);
    let (mut session, mut out) = ClientSession::start_with(params, nonces, [7; 16]).expect("Pkg#1");
    for round in 0..6 {
        let mut extra = Vec::new();
        if let Some(h) = &out.hmac_header {
            extra.push(("x-syncml-hmac", h.as_str()));
        }
        let reply = server.post("/dm", out.content_type, &out.body, &extra);
        assert_eq!(
            reply.status,
            200,
            "round {round}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        let fresh = [round as u8 + 0x40; 16];
        match session.on_response(&reply.body, reply.header("x-syncml-hmac"), fresh) {
            Step::Send(next) | Step::CommitThenSend(_, next) => out = next,
            Step::Done(outcome) => {
                let c = outcome.committed;
                let secret = c
                    .server_secret
                    .map(|s| s.as_bytes().to_vec())
                    .unwrap_or(SERVER_PW.as_bytes().to_vec());
                return (
                    c.client_nonce.expect("client nonce").as_bytes().to_vec(),
                    c.server_nonce.expect("server nonce").as_bytes().to_vec(),
                    secret,
                );
            }
            Step::Failed(f) => panic!("device session failed: {}", f.reason),
        }
    }
    panic!("session did not finish");
}

fn resync_round_trip(scheme: &str, encoding: &str) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    add_device(&server, "dev-1", scheme, encoding);

    let stored = notify(&server, "dev-1", "stored");
    assert_eq!(
        verdict(&stored, SERVER_PW.as_bytes(), SERVER_NONCE),
        Verdict::Stored { index: 0 }
    );
    // The device lost its nonce (case 1): the stored-nonce Pkg#0 fails there.
    assert_eq!(
        verdict(&stored, SERVER_PW.as_bytes(), b"wiped"),
        Verdict::Rejected
    );

    let fallback = notify(&server, "dev-1", "text");
    assert_eq!(
        verdict(&fallback, SERVER_PW.as_bytes(), b"wiped"),
        Verdict::Default(DefaultNonce::Text)
    );
    let (s, e) = match (scheme, encoding) {
        ("hmac", "wbxml") => (AuthScheme::Hmac, Encoding::Wbxml),
        ("hmac", _) => (AuthScheme::Hmac, Encoding::Xml),
        (_, "wbxml") => (AuthScheme::Md5, Encoding::Wbxml),
        _ => (AuthScheme::Md5, Encoding::Xml),
    };
    let (_cn, sn, secret) = run_device_session(
        &server,
        "dev-1",
        &fallback,
        s,
        e,
        resync(DefaultNonce::Text),
    );

    // In step: the server's next stored-nonce Pkg#0 verifies with the new nonce.
    let after = notify(&server, "dev-1", "stored");
    assert_eq!(verdict(&after, &secret, &sn), Verdict::Stored { index: 0 });
    assert_eq!(verdict(&after, &secret, SERVER_NONCE), Verdict::Rejected);

    let info = server.get("/admin/devices/dev-1").json();
    assert_eq!(info["resyncs_completed"], 1);
    // A resync is not a normal session.
    assert_eq!(info["sessions_completed"], 0);
    assert_eq!(info["last_session_id"], fallback.notification.session_id);
    assert!(info["last_error"].is_null());

    // Nothing secret in the admin answer or on the timeline.
    let log = server.log();
    assert!(log.contains("complete"), "{log}");
    for needle in [
        SERVER_PW.to_string(),
        CLIENT_PW.to_string(),
        B64.encode(SERVER_NONCE),
        B64.encode(&sn),
    ] {
        assert!(!log.contains(&needle), "log leaks a secret or nonce");
        assert!(!info.to_string().contains(&needle));
    }
}

#[test]
fn resync_md5_xml_brings_server_and_device_in_step() {
    resync_round_trip("md5", "xml");
}

#[test]
fn resync_hmac_wbxml_brings_server_and_device_in_step() {
    resync_round_trip("hmac", "wbxml");
}

#[test]
fn restore_brings_back_the_old_nonces_case_2() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    add_device(&server, "dev-2", "md5", "xml");
    assert_eq!(server.post_json("/admin/snapshot", &json!({})).status, 200);
    // A normal session (stored-nonce Package #0) rotates both nonces.
    let normal = notify(&server, "dev-2", "stored");
    let (_, sn, _) = run_device_session(
        &server,
        "dev-2",
        &normal,
        AuthScheme::Md5,
        Encoding::Xml,
        provisioned(),
    );
    assert_eq!(
        server.get("/admin/devices/dev-2").json()["sessions_completed"],
        1
    );
    assert_eq!(
        verdict(
            &notify(&server, "dev-2", "stored"),
            SERVER_PW.as_bytes(),
            &sn
        ),
        Verdict::Stored { index: 0 }
    );

    assert_eq!(server.post_json("/admin/restore", &json!({})).status, 200);
    // The restored server signs with the old nonce; the device holds the new one.
    let stale = notify(&server, "dev-2", "stored");
    assert_eq!(
        verdict(&stale, SERVER_PW.as_bytes(), &sn),
        Verdict::Rejected
    );
    assert_eq!(
        verdict(&stale, SERVER_PW.as_bytes(), SERVER_NONCE),
        Verdict::Stored { index: 0 }
    );
    let info = server.get("/admin/devices/dev-2").json();
    assert_eq!(info["resyncs_completed"], 0, "{info}");
    assert_eq!(
        info["sessions_completed"], 0,
        "the backup predates it: {info}"
    );
}

#[test]
fn auto_falls_back_to_the_default_nonce_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &["--fallback-after-ms", "300", "--default-nonce", "zero"],
    );
    add_device(&server, "dev-3", "md5", "xml");
    let first = notify(&server, "dev-3", "auto");
    assert_eq!(
        verdict(&first, SERVER_PW.as_bytes(), SERVER_NONCE),
        Verdict::Stored { index: 0 }
    );
    let early = notify(&server, "dev-3", "auto");
    assert_eq!(
        verdict(&early, SERVER_PW.as_bytes(), SERVER_NONCE),
        Verdict::Stored { index: 0 }
    );
    std::thread::sleep(std::time::Duration::from_millis(350));
    let late = notify(&server, "dev-3", "auto");
    assert_eq!(
        verdict(&late, SERVER_PW.as_bytes(), b"x"),
        Verdict::Default(DefaultNonce::Zero)
    );
}

#[test]
fn delivery_hook_gets_the_wsp_push_and_the_automatic_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("delivered");
    std::fs::create_dir(&out).unwrap();
    // Written aside and renamed, so the file appears only once complete:
    // the poll below would otherwise race the hook's `cat` (seen on the
    // emulated device, where the read found the file still empty).
    let hook = format!(
        "f={}/$DMNONCE_NOTIFY_NONCE.$DMNONCE_NOTIFY_FORMAT; cat > \"$f.part\" && mv \"$f.part\" \"$f\"",
        out.display()
    );
    let state = dir.path().join("state");
    let server = Server::start(
        &state,
        &["--fallback-after-ms", "200", "--deliver-cmd", &hook],
    );
    add_device(&server, "dev-4", "md5", "xml");
    let r = server.post_json(
        "/admin/notify",
        &json!({"client_name": "dev-4", "nonce": "auto", "wsp": true, "deliver": true}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(std::fs::read(out.join("stored.wsp")).unwrap(), r.body);
    // No session follows: the server sends the default-nonce push itself.
    let fallback = out.join("default-text.wsp");
    for _ in 0..50 {
        if fallback.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pdu = std::fs::read(&fallback).expect("fallback delivered");
    let push = dmnonce_push::WspPush::decode(&pdu).unwrap();
    let pkg = Package0::decode(&push.body).unwrap();
    assert_eq!(
        verdict(&pkg, SERVER_PW.as_bytes(), b"lost"),
        Verdict::Default(DefaultNonce::Text)
    );
    assert!(server.logs_eventually("falling back to the default nonce"));
}

#[test]
fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let server = Server::start(dir.path(), &[]);
        add_device(&server, "dev-5", "hmac", "xml");
    }
    let server = Server::start(dir.path(), &[]);
    assert_eq!(server.get("/admin/devices/dev-5").status, 200);
    let pkg = notify(&server, "dev-5", "stored");
    assert_eq!(
        verdict(&pkg, SERVER_PW.as_bytes(), SERVER_NONCE),
        Verdict::Stored { index: 0 }
    );
    // Provisioning twice is refused, not silently replaced.
    let again = server.post_json(
        "/admin/devices",
        &json!({"client_name": "dev-5", "server_password": "x", "client_password": "y"}),
    );
    assert_eq!(again.status, 409);
}

#[test]
fn bad_input_gets_clear_errors_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    assert_eq!(
        server
            .post("/dm", "application/vnd.syncml.dm+xml", b"garbage", &[])
            .status,
        400
    );
    assert_eq!(
        server
            .post("/admin/devices", "application/json", b"{", &[])
            .status,
        400
    );
    assert_eq!(
        server
            .post_json("/admin/notify", &json!({"client_name": "nobody"}))
            .status,
        404
    );
    assert_eq!(server.get("/admin/devices/nobody").status, 404);
    assert_eq!(server.post_json("/admin/restore", &json!({})).status, 409);
    let no_nonce = server.post_json(
        "/admin/devices",
        &json!({"client_name": "fresh", "server_password": "a", "client_password": "b"}),
    );
    assert_eq!(no_nonce.status, 201);
    assert_eq!(
        server
            .post_json(
                "/admin/notify",
                &json!({"client_name": "fresh", "nonce": "stored"})
            )
            .status,
        409
    );
    assert_eq!(
        server
            .post_json(
                "/admin/notify",
                &json!({"client_name": "fresh", "nonce": "bogus"})
            )
            .status,
        400
    );
    // A well-formed message for a session that was never announced.
    let params = ClientParams {
        server_id: "dmnonce-test".into(),
        client_name: "fresh".into(),
        server_uri: "http://x/dm".into(),
        client_secret: Secret::new(b"b".to_vec()),
        server_secret: Secret::new(b"a".to_vec()),
        session_id: 0xBEEF,
        session_id_format: SessionIdFormat::HexUpper,
        encoding: Encoding::Xml,
        scheme: AuthScheme::Md5,
        default_nonce: DefaultNonce::Text,
        dev_info: DevInfo {
            dev_id: "fresh".into(),
            man: "m".into(),
            model: "m".into(),
            dm_v: "1.2".into(),
            lang: "en".into(),
        },
        max_msg_size: None,
        server_secret_uri: None,
    };
    let (_, pkg1) = ClientSession::start(params, [0; 16]).unwrap();
    assert_eq!(
        server
            .post("/dm", pkg1.content_type, &pkg1.body, &[])
            .status,
        404
    );
    let _ = Nonce::new(vec![]);
    assert_eq!(server.get("/admin/devices/fresh").status, 200);
}

#[test]
fn rotate_secret_replaces_the_server_secret_at_pkg4() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--rotate-secret"]);
    add_device(&server, "dev-6", "md5", "xml");
    let fallback = notify(&server, "dev-6", "text");
    let (_, sn, secret) = run_device_session(
        &server,
        "dev-6",
        &fallback,
        AuthScheme::Md5,
        Encoding::Xml,
        resync(DefaultNonce::Text),
    );
    assert_ne!(
        secret,
        SERVER_PW.as_bytes(),
        "the device took the new secret"
    );
    let after = notify(&server, "dev-6", "stored");
    assert_eq!(verdict(&after, &secret, &sn), Verdict::Stored { index: 0 });
    assert_eq!(
        verdict(&after, SERVER_PW.as_bytes(), &sn),
        Verdict::Rejected
    );
    let log = server.log();
    assert!(log.contains("AuthSecret for dev-6 replaced"), "{log}");
    assert!(!log.contains(std::str::from_utf8(&secret).unwrap()));
}

fn start_device_session(
    server: &Server,
    name: &str,
    pkg: &Package0,
) -> (ClientSession, dmnonce_syncml::Outgoing) {
    let params = ClientParams {
        server_id: pkg.notification.server_id.clone(),
        client_name: name.into(),
        server_uri: format!("http://{}/dm", server.addr),
        client_secret: Secret::new(CLIENT_PW.as_bytes()),
        server_secret: Secret::new(SERVER_PW.as_bytes()),
        session_id: pkg.notification.session_id,
        session_id_format: SessionIdFormat::HexUpper,
        encoding: Encoding::Xml,
        scheme: AuthScheme::Md5,
        default_nonce: DefaultNonce::Text,
        dev_info: DevInfo {
            dev_id: name.into(),
            man: "m".into(),
            model: "m".into(),
            dm_v: "1.2".into(),
            lang: "en".into(),
        },
        max_msg_size: None,
        server_secret_uri: None,
    };
    ClientSession::start(params, [1; 16]).unwrap()
}

fn next(session: &mut ClientSession, reply: &common::Reply) -> dmnonce_syncml::Outgoing {
    match session.on_response(&reply.body, reply.header("x-syncml-hmac"), [9; 16]) {
        Step::Send(o) | Step::CommitThenSend(_, o) => o,
        other => panic!("unexpected step {other:?}"),
    }
}

#[test]
fn a_resent_message_gets_the_same_answer_and_no_second_session_step() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    add_device(&server, "dev-7", "md5", "xml");
    let pkg = notify(&server, "dev-7", "text");
    let (mut session, pkg1) = start_device_session(&server, "dev-7", &pkg);
    let pkg2 = server.post("/dm", pkg1.content_type, &pkg1.body, &[]);
    let pkg3 = next(&mut session, &pkg2);
    let pkg4 = server.post("/dm", pkg3.content_type, &pkg3.body, &[]);
    // The device never saw Pkg#4 (link down) and sends Pkg#3 again.
    let again = server.post("/dm", pkg3.content_type, &pkg3.body, &[]);
    assert_eq!(again.status, 200);
    assert_eq!(again.body, pkg4.body);
    match session.on_response(&again.body, None, [9; 16]) {
        Step::Done(_) => {}
        other => panic!("unexpected step {other:?}"),
    }
    assert_eq!(
        server.get("/admin/devices/dev-7").json()["resyncs_completed"],
        1
    );
    assert!(server.logs_eventually("received again"));
}

#[test]
fn emulated_outage_after_pkg2_drops_dm_requests_until_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    add_device(&server, "dev-8", "md5", "xml");
    let armed = server.post_json(
        "/admin/fault",
        &json!({"after_pkg": 2, "action": "outage", "outage_ms": 400}),
    );
    assert_eq!(armed.status, 200);
    let pkg = notify(&server, "dev-8", "text");
    let (mut session, pkg1) = start_device_session(&server, "dev-8", &pkg);
    let pkg2 = server.post("/dm", pkg1.content_type, &pkg1.body, &[]);
    assert_eq!(pkg2.status, 200);
    let pkg3 = next(&mut session, &pkg2);
    // During the outage the connection closes without an answer.
    let mut s = std::net::TcpStream::connect(&server.addr).unwrap();
    use std::io::{Read, Write};
    write!(
        s,
        "POST /dm HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
        pkg3.body.len()
    )
    .unwrap();
    s.write_all(&pkg3.body).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(buf.is_empty(), "no answer while the link is down");
    std::thread::sleep(std::time::Duration::from_millis(450));
    let pkg4 = server.post("/dm", pkg3.content_type, &pkg3.body, &[]);
    assert_eq!(pkg4.status, 200);
    assert!(matches!(
        session.on_response(&pkg4.body, None, [9; 16]),
        Step::Done(_)
    ));
}

#[test]
fn crash_after_pkg2_keeps_the_committed_nonce_and_refuses_the_orphan_pkg3() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    add_device(&server, "dev-9", "md5", "xml");
    assert_eq!(
        server
            .post_json("/admin/fault", &json!({"after_pkg": 2, "action": "crash"}))
            .status,
        200
    );
    let pkg = notify(&server, "dev-9", "text");
    let (mut session, pkg1) = start_device_session(&server, "dev-9", &pkg);
    let pkg2 = server.post("/dm", pkg1.content_type, &pkg1.body, &[]);
    assert_eq!(pkg2.status, 200, "Pkg#2 is sent before the crash");
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(3));
    let pkg3 = next(&mut session, &pkg2);
    let server = Server::start(dir.path(), &[]);
    let orphan = server.post("/dm", pkg3.content_type, &pkg3.body, &[]);
    assert_eq!(orphan.status, 404);
    // Nor can that session be opened again from its Pkg#1.
    let replayed_pkg1 = server.post("/dm", pkg1.content_type, &pkg1.body, &[]);
    assert_eq!(replayed_pkg1.status, 404);
    // A fresh default-nonce notification starts a new session that completes.
    let again = notify(&server, "dev-9", "text");
    let (_, sn, _) = run_device_session(
        &server,
        "dev-9",
        &again,
        AuthScheme::Md5,
        Encoding::Xml,
        resync(DefaultNonce::Text),
    );
    assert_eq!(
        verdict(
            &notify(&server, "dev-9", "stored"),
            SERVER_PW.as_bytes(),
            &sn
        ),
        Verdict::Stored { index: 0 }
    );
}

fn normal_round_trip(scheme: &str, encoding: &str, s: AuthScheme, e: Encoding) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    add_device(&server, "dev-n", scheme, encoding);
    // A stored-nonce Package #0 opens a normal session from the stored
    // nonces; the next one starts from the nonces the first one exchanged.
    let first = notify(&server, "dev-n", "stored");
    let (cn, sn, _) = run_device_session(&server, "dev-n", &first, s, e, provisioned());
    assert_ne!(sn, SERVER_NONCE);
    assert_ne!(cn, CLIENT_NONCE);
    let second = notify(&server, "dev-n", "stored");
    assert_eq!(
        verdict(&second, SERVER_PW.as_bytes(), &sn),
        Verdict::Stored { index: 0 }
    );
    let rotated = StartingNonces::Stored {
        client_nonce: Nonce::new(cn),
        server_nonce: Nonce::new(sn.clone()),
    };
    // (The test device draws the same "random" server nonce every session.)
    let (_, sn2, _) = run_device_session(&server, "dev-n", &second, s, e, rotated);
    let after = notify(&server, "dev-n", "stored");
    assert_eq!(
        verdict(&after, SERVER_PW.as_bytes(), &sn2),
        Verdict::Stored { index: 0 }
    );
    let info = server.get("/admin/devices/dev-n").json();
    assert_eq!(info["sessions_completed"], 2, "{info}");
    assert_eq!(info["resyncs_completed"], 0, "{info}");
    assert_eq!(info["last_session_id"], second.notification.session_id);
    let log = server.log();
    assert!(
        log.contains("normal session, client credentials checked with the stored client nonce"),
        "{log}"
    );
    assert!(log.contains("normal session"), "{log}");
    for leaked in [B64.encode(&sn), B64.encode(&sn2), B64.encode(CLIENT_NONCE)] {
        assert!(!log.contains(&leaked), "log leaks a nonce");
    }
}

#[test]
fn stored_nonce_notification_opens_a_normal_session_md5_xml() {
    normal_round_trip("md5", "xml", AuthScheme::Md5, Encoding::Xml);
}

#[test]
fn stored_nonce_notification_opens_a_normal_session_hmac_wbxml() {
    normal_round_trip("hmac", "wbxml", AuthScheme::Hmac, Encoding::Wbxml);
}

/// Posts Pkg#1 of a session started from `nonces`; returns the code of the
/// server's status for its header.
fn pkg1_answer(server: &Server, name: &str, pkg: &Package0, nonces: StartingNonces) -> u16 {
    let params = device_params(server, name, pkg, AuthScheme::Md5, Encoding::Xml, &nonces);
    let (_, pkg1) = ClientSession::start_with(params, nonces, [7; 16]).expect("Pkg#1");
    let reply = server.post("/dm", pkg1.content_type, &pkg1.body, &[]);
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let (msg, _) = dmnonce_syncml::decode(&reply.body).expect("a SyncML answer");
    msg.body
        .commands
        .iter()
        .find_map(|c| match c {
            dmnonce_syncml::model::Command::Status(s) if s.cmd_ref == 0 => Some(s.code),
            _ => None,
        })
        .expect("a status for the header")
}

#[test]
fn a_pkg1_of_the_wrong_kind_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    add_device(&server, "dev-k", "md5", "xml");
    // Normal-session notification, Pkg#1 signed with the default nonce.
    let normal = notify(&server, "dev-k", "stored");
    let code = pkg1_answer(&server, "dev-k", &normal, resync(DefaultNonce::Text));
    assert_eq!(code, 401);
    // Resync notification, Pkg#1 signed with the stored client nonce.
    let fallback = notify(&server, "dev-k", "text");
    assert_eq!(pkg1_answer(&server, "dev-k", &fallback, provisioned()), 401);
    // The server still holds the provisioned nonces; nothing was counted.
    let stored = notify(&server, "dev-k", "stored");
    assert_eq!(
        verdict(&stored, SERVER_PW.as_bytes(), SERVER_NONCE),
        Verdict::Stored { index: 0 }
    );
    let info = server.get("/admin/devices/dev-k").json();
    assert_eq!(info["sessions_completed"], 0, "{info}");
    assert_eq!(info["resyncs_completed"], 0, "{info}");
}

#[test]
fn a_normal_session_needs_both_stored_nonces() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let r = server.post_json(
        "/admin/devices",
        &json!({
            "client_name": "half", "server_password": SERVER_PW, "client_password": CLIENT_PW,
            "server_nonce_b64": B64.encode(SERVER_NONCE),
        }),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let pkg = notify(&server, "half", "stored");
    let params = device_params(
        &server,
        "half",
        &pkg,
        AuthScheme::Md5,
        Encoding::Xml,
        &provisioned(),
    );
    let (_, pkg1) = ClientSession::start_with(params, provisioned(), [7; 16]).expect("Pkg#1");
    let reply = server.post("/dm", pkg1.content_type, &pkg1.body, &[]);
    assert_eq!(
        reply.status,
        409,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
}

#[test]
fn rotate_secret_leaves_normal_sessions_alone() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--rotate-secret"]);
    add_device(&server, "dev-r", "md5", "xml");
    let pkg = notify(&server, "dev-r", "stored");
    let (_, sn, secret) = run_device_session(
        &server,
        "dev-r",
        &pkg,
        AuthScheme::Md5,
        Encoding::Xml,
        provisioned(),
    );
    assert_eq!(
        secret,
        SERVER_PW.as_bytes(),
        "no Replace in a normal session"
    );
    let after = notify(&server, "dev-r", "stored");
    assert_eq!(
        verdict(&after, SERVER_PW.as_bytes(), &sn),
        Verdict::Stored { index: 0 }
    );
    assert!(!server.log().contains("AuthSecret for dev-r replaced"));
}
