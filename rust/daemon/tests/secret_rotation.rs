//! The server replaces its AuthSecret at Pkg#4 (change request step 6,
//! `dmnonce-testserver --rotate-secret`) and takes the new one into use only
//! when the device's Pkg#5 answers the Replace with 200. When Pkg#5 is lost
//! (the link goes down right after Pkg#4), the server keeps the old secret:
//! the device must keep accepting it — the previous secret stays valid
//! until the server is seen using the new one — or every later Package #0,
//! the default-nonce one too, would be rejected for good.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use dmnonce_control::{Event, PushFormat, PushOutcome, VerdictName};
use dmnonce_proto::Notification;
use support::{AccountArgs, Daemon, TestServer};

const SERVER_ID: &str = "dmnonce-test";
const SERVER_PW: &str = "srv-Rotate-pw-1";
const CLIENT_PW: &str = "cli-Rotate-pw-2";
const DEVICE: &str = "device-rot";
/// Long enough for both daemon tries of Pkg#5 to meet the dead link.
const OUTAGE_MS: u64 = 2_500;

/// (server secret, server nonce) the test server holds for the device now.
fn server_view(state_dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let v: serde_json::Value = serde_json::from_slice(
        &std::fs::read(state_dir.join("server-state.json")).expect("server state"),
    )
    .unwrap();
    let d = &v["devices"][DEVICE];
    let secret = d["server_password"].as_str().unwrap().as_bytes().to_vec();
    let nonce = B64.decode(d["server_nonce"].as_str().unwrap()).unwrap();
    (secret, nonce)
}

/// A Package #0 signed like the server would, with the given secret.
fn package0(secret: &[u8], nonce: &[u8], session_id: u16) -> Vec<u8> {
    Notification::new(SERVER_ID, session_id)
        .sign(secret, nonce)
        .unwrap()
}

fn push(daemon: &Daemon, bytes: Vec<u8>) -> dmnonce_control::PushResult {
    daemon
        .client()
        .push(PushFormat::Package0, &bytes)
        .expect("push request")
}

/// The next ResyncFinished or ResyncFailed event.
fn resync_outcome(events: &mut dmnonce_control::EventStream) -> Event {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline
            .checked_duration_since(Instant::now())
            .expect("no resync outcome within 30 s");
        match events.next_event(Some(left)).unwrap() {
            Some(e @ (Event::ResyncFinished { .. } | Event::ResyncFailed { .. })) => return e,
            Some(_) => continue,
            None => panic!("no resync outcome within 30 s"),
        }
    }
}

#[test]
fn lost_pkg5_after_a_secret_rotation_keeps_the_device_reachable() {
    let dir = tempfile::tempdir().unwrap();
    let sdir = dir.path().join("server");
    let server = TestServer::start(&sdir, &["--rotate-secret"], None);
    server.add_device(serde_json::json!({
        "client_name": DEVICE, "server_password": SERVER_PW, "client_password": CLIENT_PW,
        "auth_scheme": "md5", "encoding": "xml",
    }));
    let ddir = dir.path().join("device");
    std::fs::create_dir_all(&ddir).unwrap();
    let daemon = Daemon::start(
        &ddir,
        "max_attempts = 2\nbackoff_initial_ms = 100\nrequest_timeout_ms = 2000\n",
    );
    daemon.add_account(&AccountArgs {
        server_id: SERVER_ID,
        url: server.dm_url(),
        client_name: DEVICE,
        scheme: "md5",
        encoding: "xml",
        server_pw: SERVER_PW,
        client_pw: CLIENT_PW,
        server_nonce: None,
        client_nonce: None,
    });
    let mut events = daemon.subscribe();

    // 1. Fallback session; the link dies right after Pkg#4 (the Replace of
    //    the server secret), so our Pkg#5 never reaches the server.
    let (st, body) = server.post(
        "/admin/fault",
        serde_json::json!({"after_pkg": 4, "action": "outage", "outage_ms": OUTAGE_MS}),
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
    let outage_from = Instant::now();
    let r = push(&daemon, server.notify(DEVICE, "text", false));
    assert_eq!(r.outcome, PushOutcome::ResyncStarted, "{r:?}");
    let end = resync_outcome(&mut events);
    assert!(
        matches!(end, Event::ResyncFailed { .. }),
        "{end:?}\n{}",
        daemon.log()
    );
    let (secret, nonce) = server_view(&sdir);
    assert_eq!(secret, SERVER_PW.as_bytes(), "server kept its old secret");
    std::thread::sleep(Duration::from_millis(OUTAGE_MS).saturating_sub(outage_from.elapsed()));

    // 2. The server signs with its old secret and the nonce it got in
    //    Pkg#3: a normal notification, accepted with the stored nonce.
    let r = push(&daemon, package0(&secret, &nonce, 0x0101));
    assert_eq!(r.outcome, PushOutcome::Alert, "{r:?}\n{}", daemon.log());
    assert_eq!(r.verdict, Some(VerdictName::StoredNonce));

    // 3. A new resync (the server's default-nonce notification, still with
    //    the old secret) runs with the old secret and completes this time.
    let r = push(&daemon, server.notify(DEVICE, "text", false));
    assert_eq!(r.outcome, PushOutcome::ResyncStarted, "{r:?}");
    let end = resync_outcome(&mut events);
    assert!(
        matches!(end, Event::ResyncFinished { .. }),
        "{end:?}\n{}\n{}",
        daemon.log(),
        server.log()
    );
    let (new_secret, new_nonce) = server_view(&sdir);
    assert_ne!(
        new_secret,
        SERVER_PW.as_bytes(),
        "server took the new secret"
    );

    // 4. Until the server is seen with the new secret, the old one stays
    //    valid; the first notification with the new one retires it.
    let r = push(&daemon, package0(&new_secret, &new_nonce, 0x0102));
    assert_eq!(r.verdict, Some(VerdictName::StoredNonce), "{r:?}");
    let r = push(&daemon, package0(SERVER_PW.as_bytes(), &new_nonce, 0x0103));
    assert_eq!(r.outcome, PushOutcome::Rejected, "{r:?}");
    assert!(daemon
        .log()
        .contains("server uses its new AuthSecret; the previous one retired"));
    for s in [SERVER_PW.as_bytes(), &new_secret[..]] {
        let text = std::str::from_utf8(s).unwrap();
        assert!(!daemon.log().contains(text), "a secret reached the log");
    }
}
