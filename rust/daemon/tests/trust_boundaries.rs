//! Issue 17 ("Trust boundaries") on the control socket, against the real
//! daemon: a refused client that writes first still reads its refusal (no
//! ECONNRESET, no EPIPE).

mod support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use support::Daemon;

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
