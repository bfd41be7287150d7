//! DM servers that misbehave: one that accepts and never answers, one that
//! answers 500, one that answers a web page. Each resync fails with a
//! reason, the daemon stays up, and a later good push still works. The
//! stand-ins are real TCP servers on 127.0.0.1.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use dmnonce_control::{Event, PushFormat, PushOutcome};
use dmnonce_proto::Notification;
use support::{AccountArgs, Daemon};

const SERVER_PW: &str = "bad-server-pw-3";
const CLIENT_PW: &str = "bad-client-pw-4";
const NONCE: &[u8] = b"stored-nonce-bad-servers";

/// Serves every connection with `answer` (None: hold it open, say nothing).
fn stand_in(answer: Option<&'static [u8]>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            match answer {
                Some(a) => {
                    // Read the request head and body (enough for our tests).
                    s.set_read_timeout(Some(Duration::from_millis(300))).ok();
                    let mut buf = [0u8; 8192];
                    let _ = s.read(&mut buf);
                    let _ = s.write_all(a);
                }
                None => held.push(s),
            }
        }
    });
    format!("http://{addr}/dm")
}

fn signed(server_id: &str, session: u16, nonce: &[u8]) -> Vec<u8> {
    Notification::new(server_id, session)
        .sign(SERVER_PW.as_bytes(), nonce)
        .unwrap()
}

#[test]
fn hanging_500_and_non_syncml_servers_fail_the_session_not_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(
        dir.path(),
        "request_timeout_ms = 800\nmax_attempts = 2\nbackoff_initial_ms = 50\n",
    );
    let cases: [(&str, Option<&'static [u8]>, &str); 3] = [
        ("hang.test", None, "network error"),
        (
            "err500.test",
            Some(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops"),
            "HTTP 500",
        ),
        (
            "html.test",
            Some(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\nConnection: close\r\n\r\n<html></html>"),
            "not SyncML",
        ),
    ];
    for (sid, answer, _) in &cases {
        d.add_account(&AccountArgs {
            server_id: sid,
            url: stand_in(*answer),
            client_name: "dev",
            scheme: "md5",
            encoding: "xml",
            server_pw: SERVER_PW,
            client_pw: CLIENT_PW,
            server_nonce: Some(NONCE),
            client_nonce: Some(NONCE),
        });
    }
    let mut events = d.subscribe();
    let mut c = d.client();
    for (i, (sid, _, want)) in cases.iter().enumerate() {
        let started = Instant::now();
        let r = c
            .push(
                PushFormat::Package0,
                &signed(sid, 100 + i as u16, b"0x00000000"),
            )
            .unwrap();
        assert_eq!(r.outcome, PushOutcome::ResyncStarted, "{sid}");
        if *sid == "hang.test" {
            // No second session for an account while one runs.
            let r = c
                .push(PushFormat::Package0, &signed(sid, 999, b"0x00000000"))
                .unwrap();
            assert_eq!(r.outcome, PushOutcome::Busy);
        }
        let ev = loop {
            match events.next_event(Some(Duration::from_secs(20))).unwrap() {
                Some(e @ (Event::ResyncFailed { .. } | Event::ResyncFinished { .. })) => break e,
                Some(_) => continue,
                None => panic!("{sid}: no outcome\n{}", d.log()),
            }
        };
        match ev {
            Event::ResyncFailed {
                server_id, reason, ..
            } => {
                assert_eq!(&server_id, sid);
                assert!(reason.contains(want), "{sid}: {reason}");
            }
            other => panic!("{sid}: {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(15));
        assert!(d.alive(), "{sid}: daemon died");
        // A good (stored-nonce) push for the same account still works.
        let r = c
            .push(PushFormat::Package0, &signed(sid, 200 + i as u16, NONCE))
            .unwrap();
        assert_eq!(r.outcome, PushOutcome::Alert, "{sid}");
    }
    let st = c.status().unwrap();
    assert_eq!(st.counters.resyncs_failed, 3);
    // The stored-nonce push after each failure showed the nonces in step.
    assert!(st
        .accounts
        .iter()
        .all(|a| a.state == dmnonce_control::AccountState::InSync));
}

#[test]
fn pending_resync_is_failed_cleanly_after_max_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), "request_timeout_ms = 20000\nmax_resumes = 1\n");
    d.add_account(&AccountArgs {
        server_id: "stuck.test",
        url: stand_in(None),
        client_name: "dev",
        scheme: "hmac",
        encoding: "wbxml",
        server_pw: SERVER_PW,
        client_pw: CLIENT_PW,
        server_nonce: Some(NONCE),
        client_nonce: Some(NONCE),
    });
    let r = d
        .client()
        .push(
            PushFormat::Package0,
            &signed("stuck.test", 7, b"0x00000000"),
        )
        .unwrap();
    assert_eq!(r.outcome, PushOutcome::ResyncStarted);
    let (ddir, cfg) = (d.dir.clone(), d.config.clone());
    d.kill();
    // First restart: resumed (attempt 1 of max_resumes = 1), killed again.
    let d = Daemon::start_with(&ddir, &cfg);
    assert!(
        d.log().contains("resuming the resync session"),
        "{}",
        d.log()
    );
    d.kill();
    // Second restart: given up, cleanly.
    let d = Daemon::start_with(&ddir, &cfg);
    let st = d.client().status().unwrap();
    assert_eq!(st.counters.resyncs_failed, 1, "{}", d.log());
    assert_eq!(
        st.accounts[0].state,
        dmnonce_control::AccountState::NeedsResync
    );
    assert!(d.log().contains("given up"), "{}", d.log());
    // The stored nonces are intact: a stored-nonce push is an alert.
    let r = d
        .client()
        .push(PushFormat::Package0, &signed("stuck.test", 8, NONCE))
        .unwrap();
    assert_eq!(r.outcome, PushOutcome::Alert);
    assert_eq!(d.stop(), Some(0));
}
