//! Issue 17 finding 10: the number of resync sessions running at once is
//! capped (`http.max_sessions`); the others wait, pending, and start as
//! slots free up. Three accounts, each on its own dmnonce-testserver behind
//! a proxy that holds every connection a while, so sessions that were let
//! run together would overlap.

mod support;

use std::collections::BTreeMap;
use std::io::copy;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use dmnonce_control::{Event, PushFormat, PushOutcome};
use support::{AccountArgs, Daemon, TestServer};

const SERVER_PW: &str = "srv-Cap-pw-3";
const CLIENT_PW: &str = "cli-Cap-pw-4";
const SERVER_NONCE: &[u8] = b"cap-server-nonce";
const CLIENT_NONCE: &[u8] = b"cap-client-nonce";

/// A TCP proxy to `upstream` that waits `delay` before it connects each
/// accepted connection through. Returns its port.
fn delaying_proxy(upstream: String, delay: Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for down in listener.incoming() {
            let Ok(down) = down else { continue };
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                let Ok(up) = TcpStream::connect(&upstream) else {
                    return;
                };
                let (mut from_down, mut to_up) =
                    (down.try_clone().unwrap(), up.try_clone().unwrap());
                let forward = std::thread::spawn(move || {
                    let _ = copy(&mut from_down, &mut to_up);
                    let _ = to_up.shutdown(Shutdown::Write);
                });
                let (mut from_up, mut to_down) = (up, down);
                let _ = copy(&mut from_up, &mut to_down);
                let _ = to_down.shutdown(Shutdown::Write);
                let _ = forward.join();
            });
        }
    });
    port
}

#[test]
fn at_most_max_sessions_run_at_once_and_the_others_follow() {
    let dir = tempfile::tempdir().unwrap();
    let ids = ["cap.server.a", "cap.server.b", "cap.server.c"];
    let servers: Vec<TestServer> = ids
        .iter()
        .map(|id| {
            let s = TestServer::start(
                &dir.path().join(id),
                &["--server-id", id, "--fallback-after-ms", "600000"],
                None,
            );
            s.add_device(serde_json::json!({
                "client_name": format!("dev-{id}"), "server_password": SERVER_PW,
                "client_password": CLIENT_PW, "auth_scheme": "md5", "encoding": "xml",
                "server_nonce_b64": B64.encode(SERVER_NONCE),
                "client_nonce_b64": B64.encode(CLIENT_NONCE),
            }));
            s
        })
        .collect();
    let ddir = dir.path().join("device");
    std::fs::create_dir_all(&ddir).unwrap();
    let d = Daemon::start(&ddir, "max_sessions = 1\nrequest_timeout_ms = 20000\n");
    for (id, s) in ids.iter().zip(&servers) {
        let upstream = s.base.trim_start_matches("http://").to_string();
        let port = delaying_proxy(upstream, Duration::from_millis(1500));
        d.add_account(&AccountArgs {
            server_id: id,
            url: format!("http://127.0.0.1:{port}/dm"),
            client_name: &format!("dev-{id}"),
            scheme: "md5",
            encoding: "xml",
            server_pw: SERVER_PW,
            client_pw: CLIENT_PW,
            server_nonce: Some(SERVER_NONCE),
            client_nonce: Some(CLIENT_NONCE),
        });
    }
    let mut events = d.subscribe();
    // All three lost sync: default-nonce notifications, back to back.
    for (id, s) in ids.iter().zip(&servers) {
        let bytes = s.notify(&format!("dev-{id}"), "text", false);
        let r = d.client().push(PushFormat::Auto, &bytes).unwrap();
        assert_eq!(r.outcome, PushOutcome::ResyncStarted, "{id}: {r:?}");
    }
    // Watch the sessions: never two running at once, all three finish.
    let mut running = 0usize;
    let mut most = 0usize;
    let mut finished = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while finished.len() < ids.len() {
        let left = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("sessions did not all end: {finished:?}\n{}", d.log()));
        match events.next_event(Some(left)).unwrap() {
            Some(Event::ResyncStarted { .. }) => {
                running += 1;
                most = most.max(running);
            }
            Some(Event::ResyncFinished { server_id, .. }) => {
                running -= 1;
                finished.insert(server_id, ());
            }
            Some(Event::ResyncFailed {
                server_id, reason, ..
            }) => panic!("{server_id} failed: {reason}\n{}", d.log()),
            Some(_) => {}
            None => panic!("no session event: {finished:?}\n{}", d.log()),
        }
    }
    assert_eq!(most, 1, "sessions ran at once:\n{}", d.log());
    assert!(d.log().contains("waits for a free slot"), "{}", d.log());
    for (id, s) in ids.iter().zip(&servers) {
        let info = s.get_json(&format!("/admin/devices/dev-{id}"));
        assert_eq!(info["resyncs_completed"], 1, "{id}: {info}");
    }
    let st = d.client().status().unwrap();
    assert_eq!(st.counters.resyncs_finished, 3);
}
