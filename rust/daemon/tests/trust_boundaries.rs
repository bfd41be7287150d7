//! Issue 17 ("Trust boundaries") on the control socket, against the real
//! daemon: a refused client that writes first still reads its refusal (no
//! ECONNRESET, no EPIPE); a request line must arrive whole within a
//! deadline, so a client dribbling bytes cannot hold its uid's slots; a
//! subscriber that stops reading is dropped once its queue is full.

mod support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use dmnonce_control::{PushFormat, PushOutcome};
use dmnonce_proto::Notification;
use support::{AccountArgs, Daemon};

const HELLO: &[u8] = b"{\"v\":1,\"id\":1,\"op\":\"hello\"}\n";

fn start(dir: &Path, toml_head: &str, control: &str) -> Daemon {
    let cfg = dir.join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "{toml_head}{}[control]\n{control}",
            support::config_text("")
        ),
    )
    .unwrap();
    Daemon::start_with(dir, &cfg)
}

/// Starts a daemon that refuses every peer (root, the test, is not on the
/// list), waiting for its ready line (the readiness check of the support
/// code would be refused too).
fn start_refusing(dir: &Path) -> std::process::Child {
    let cfg = dir.join("c.toml");
    std::fs::write(
        &cfg,
        format!("allowed_uids = [4242424]\n{}", support::config_text("")),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dmnonced"))
        .arg("--config")
        .arg(&cfg)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--socket")
        .arg(dir.join("d.sock"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut text = Vec::new();
    let mut b = [0u8; 1];
    while !String::from_utf8_lossy(&text).contains("ready") {
        assert_eq!(stderr.read(&mut b).unwrap(), 1, "daemon exited");
        text.push(b[0]);
    }
    // Keep draining its log so it never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sink = [0u8; 4096];
        while stderr.read(&mut sink).is_ok_and(|n| n > 0) {}
    });
    child
}

/// A client that writes its request before it reads: every write must be
/// taken and the whole answer read up to a clean end of stream.
fn write_first_then_read(socket: &Path, pause: Duration) -> Result<String, String> {
    let mut s = UnixStream::connect(socket).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    std::thread::sleep(pause);
    s.write_all(HELLO).map_err(|e| format!("write: {e}"))?;
    s.write_all(HELLO)
        .map_err(|e| format!("second write: {e}"))?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)
        .map_err(|e| format!("read after {:?}: {e}", String::from_utf8_lossy(&answer)))?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

#[test]
fn refused_uid_reads_its_refusal_even_when_it_writes_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = start_refusing(dir.path());
    let socket = dir.path().join("d.sock");
    let mut failures = Vec::new();
    for i in 0..40 {
        // Half write at once, half after the daemon has had time to answer
        // and (before the fix) close.
        let pause = Duration::from_millis(if i % 2 == 0 { 0 } else { 50 });
        match write_first_then_read(&socket, pause) {
            Ok(a) if a.contains("permission_denied") => {}
            Ok(a) => failures.push(format!("answer without the refusal: {a:?}")),
            Err(e) => failures.push(e),
        }
    }
    let n = failures.len();
    failures.truncate(4);
    assert_eq!(n, 0, "{n} of 40 failed, first: {failures:?}");
    support::signal(child.id() as i32, libc::SIGTERM);
    assert_eq!(
        support::wait_timeout(&mut child, Duration::from_secs(10)),
        Some(0)
    );
}

#[test]
fn busy_is_read_even_by_a_client_that_writes_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path(), "", "max_connections_per_uid = 1\n");
    // Let the readiness check's connection end, then take the uid's share.
    std::thread::sleep(Duration::from_millis(300));
    let mut held = d.client();
    assert_eq!(held.hello().unwrap().protocol, 1);
    let mut failures = Vec::new();
    for i in 0..40 {
        let pause = Duration::from_millis(if i % 2 == 0 { 0 } else { 50 });
        match write_first_then_read(&d.socket, pause) {
            Ok(a) if a.contains("\"busy\"") => {}
            Ok(a) => failures.push(format!("answer without busy: {a:?}")),
            Err(e) => failures.push(e),
        }
    }
    let n = failures.len();
    failures.truncate(4);
    assert_eq!(n, 0, "{n} of 40 failed, first: {failures:?}");
    // The held connection was served throughout.
    assert_eq!(held.hello().unwrap().protocol, 1);
}

/// Connects and says hello until the uid has a slot again; panics after
/// `within` (far below what the offenders would otherwise hold it for).
fn hello_served_within(d: &Daemon, within: Duration) -> Duration {
    let t0 = Instant::now();
    loop {
        if let Ok(mut c) = dmnonce_control::Client::connect(&d.socket) {
            if c.hello().is_ok() {
                return t0.elapsed();
            }
        }
        assert!(
            t0.elapsed() < within,
            "the uid still got no connection after {within:?}:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_client_dribbling_a_request_is_closed_at_the_request_deadline() {
    let dir = tempfile::tempdir().unwrap();
    // Each read is far quicker than the idle timeout; only a deadline on
    // the whole line ends these connections.
    let d = start(
        dir.path(),
        "",
        "max_connections_per_uid = 4\nidle_timeout_ms = 2000\nrequest_timeout_ms = 3000\n",
    );
    std::thread::sleep(Duration::from_millis(300));
    // A hello padded to 120 bytes: 60 s at one byte per half second.
    let mut line = b"{\"v\":1,\"id\":1,\"op\":\"hello\"".to_vec();
    line.resize(119, b' ');
    line.extend_from_slice(b"}\n");
    let dribblers: Vec<_> = (0..4)
        .map(|_| {
            let mut s = UnixStream::connect(&d.socket).unwrap();
            let line = line.clone();
            std::thread::spawn(move || {
                let t0 = Instant::now();
                for b in &line {
                    if s.write_all(std::slice::from_ref(b)).is_err() {
                        return Some(t0.elapsed());
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
                None
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    // The uid's share is taken now...
    let mut probe = UnixStream::connect(&d.socket).unwrap();
    probe
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = String::new();
    let _ = probe.read_to_string(&mut answer);
    assert!(answer.contains("\"busy\""), "{answer}");
    // ...and free again once the deadline passed, long before the lines
    // would be complete.
    hello_served_within(&d, Duration::from_secs(25));
    for t in dribblers {
        let cut = t.join().unwrap();
        assert!(
            cut.is_some_and(|c| c < Duration::from_secs(30)),
            "dribbler not cut off: {cut:?}"
        );
    }
    assert!(d.log().contains("request deadline"), "{}", d.log());
}

const SERVER_ID: &str = "dm.trust.test";
const SERVER_PW: &str = "srv-pw-Trust-1";

#[test]
fn subscribers_that_never_read_are_dropped_once_their_queue_is_full() {
    let dir = tempfile::tempdir().unwrap();
    // A write timeout longer than the test: only the cut-off may free them.
    let d = start(
        dir.path(),
        "",
        "max_connections_per_uid = 4\nsubscriber_queue = 4\nwrite_timeout_ms = 120000\n",
    );
    d.add_account(&AccountArgs {
        server_id: SERVER_ID,
        url: "http://127.0.0.1:9/dm".into(),
        client_name: "device-t",
        scheme: "md5",
        encoding: "xml",
        server_pw: SERVER_PW,
        client_pw: "cli-pw-Trust-2",
        server_nonce: Some(b"trust-server-nonce"),
        client_nonce: Some(b"trust-client-nonce"),
    });
    std::thread::sleep(Duration::from_millis(300));
    let mut deaf = Vec::new();
    for _ in 0..3 {
        let mut s = UnixStream::connect(&d.socket).unwrap();
        s.write_all(b"{\"v\":1,\"id\":1,\"op\":\"subscribe\"}\n")
            .unwrap();
        deaf.push(s);
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut c = d.client();
    // Rejected pushes, one event each, until all three were cut off.
    let mut n = 0u32;
    while d.log().matches("disconnecting it").count() < 3 {
        assert!(n < 50_000, "deaf subscribers never cut off:\n{}", d.log());
        let pkg0 = Notification::new(SERVER_ID, n as u16)
            .sign(SERVER_PW.as_bytes(), b"wrong")
            .unwrap();
        let r = c.push(PushFormat::Package0, &pkg0).unwrap();
        assert_eq!(r.outcome, PushOutcome::Rejected);
        n += 1;
    }
    // Their slots come back at once, not after the write timeout.
    hello_served_within(&d, Duration::from_secs(20));
    drop(deaf);
}
