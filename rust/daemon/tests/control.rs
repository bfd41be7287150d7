//! dmnonced as a process, without a DM server: provisioning through
//! dmnoncectl, stored-nonce pushes in every form (bare, WSP, SMS) giving an
//! `alert` event, the socket's bounds and bad input, the uid allow-list,
//! socket activation, and a graceful stop.

mod support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use dmnonce_control::{ClientError, ErrorCode, Event, EventKind, PushFormat, PushOutcome};
use dmnonce_proto::Notification;
use dmnonce_push::sms::{encode_wap_push, Address, DeliverOptions, SmscField};
use dmnonce_push::WspPush;
use support::{wait_event, AccountArgs, Daemon};

const SERVER_ID: &str = "dm.control.test";
const SERVER_PW: &str = "srv-pw-Control-1";
const CLIENT_PW: &str = "cli-pw-Control-2";
const SERVER_NONCE: &[u8] = b"stored-server-nonce-1";
const CLIENT_NONCE: &[u8] = b"stored-client-nonce-1";

fn account<'a>() -> AccountArgs<'a> {
    AccountArgs {
        server_id: SERVER_ID,
        url: "http://127.0.0.1:9/dm".into(),
        client_name: "device-1",
        scheme: "md5",
        encoding: "xml",
        server_pw: SERVER_PW,
        client_pw: CLIENT_PW,
        server_nonce: Some(SERVER_NONCE),
        client_nonce: Some(CLIENT_NONCE),
    }
}

/// A new account without its nonces reports `needs-resync` (a device
/// without nonces must be resynchronised), one with both `in-sync`.
#[test]
fn a_new_account_without_nonces_needs_resync() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), "");
    d.add_account(&account());
    d.add_account(&AccountArgs {
        server_id: "dm.control.fresh",
        server_nonce: None,
        client_nonce: None,
        ..account()
    });
    let states: Vec<_> = d
        .client()
        .account_list()
        .unwrap()
        .into_iter()
        .map(|a| (a.server_id, a.state))
        .collect();
    use dmnonce_control::AccountState::*;
    assert_eq!(
        states,
        [
            ("dm.control.fresh".to_string(), NeedsResync),
            (SERVER_ID.to_string(), InSync)
        ]
    );
}

fn pkg0(session: u16, nonce: &[u8]) -> Vec<u8> {
    Notification::new(SERVER_ID, session)
        .sign(SERVER_PW.as_bytes(), nonce)
        .unwrap()
}

#[test]
fn stored_nonce_pushes_in_every_form_raise_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), "");
    d.add_account(&account());
    let mut events = d.subscribe();

    // Bare Package #0 through dmnoncectl push (auto-detected).
    let f = support::write_file(dir.path(), "p1", &pkg0(0x101, SERVER_NONCE));
    let out = d.ctl(&["--json", "push", &f], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["outcome"], "alert");
    assert_eq!(r["verdict"], "stored-nonce");
    match wait_event(&mut events, EventKind::Alert, 5) {
        Event::Alert { notification, .. } => {
            assert_eq!(notification.server_id, SERVER_ID);
            assert_eq!(notification.session_id, 0x101);
        }
        other => panic!("{other:?}"),
    }

    // A WSP push PDU, as ofono and Android hand it over.
    let wsp = WspPush::syncml_notification(7, &pkg0(0x102, SERVER_NONCE))
        .encode()
        .unwrap();
    let r = d.client().push(PushFormat::Wsp, &wsp).unwrap();
    assert_eq!(r.outcome, PushOutcome::Alert);
    wait_event(&mut events, EventKind::Alert, 5);

    // Concatenated SMS: the first part alone is held, the second completes.
    let mut big = pkg0(0x103, SERVER_NONCE);
    // Vendor data so the push needs two SMS (Package #0 allows trailing bytes
    // covered by the digest: re-sign with them).
    let mut n = Notification::new(SERVER_ID, 0x103);
    n.vendor = vec![0x5a; 150];
    big.clear();
    big.extend(n.sign(SERVER_PW.as_bytes(), SERVER_NONCE).unwrap());
    let wsp = WspPush::syncml_notification(8, &big).encode().unwrap();
    let opts = DeliverOptions::new(Address::international("15550100"), 42);
    let parts = encode_wap_push(&wsp, &opts, SmscField::Absent).unwrap();
    assert!(parts.len() >= 2, "needs concatenation");
    let hex1 = format!("{}\n", hex(&parts[0]));
    let f1 = support::write_file(dir.path(), "sms1", hex1.as_bytes());
    let out = d.ctl(&["--json", "push", "--sms-hex", &f1], None);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["outcome"], "fragment_pending");
    let rest: String = parts[1..].iter().map(|p| format!("{}\n", hex(p))).collect();
    let f2 = support::write_file(dir.path(), "sms2", rest.as_bytes());
    let out = d.ctl(&["--json", "push", "--sms-hex", &f2], None);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["outcome"], "alert", "{r}");
    wait_event(&mut events, EventKind::Alert, 5);

    // status --json: the account, its state, counters; no secret, no nonce.
    let out = d.ctl(&["status", "--json"], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let s: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(s["accounts"][0]["server_id"], SERVER_ID);
    assert_eq!(s["accounts"][0]["state"], "in-sync");
    assert_eq!(s["counters"]["alerts"], 3);
    for secret in [SERVER_PW, CLIENT_PW] {
        assert!(!text.contains(secret));
    }
    for n in [SERVER_NONCE, CLIENT_NONCE] {
        assert!(!text.contains(&b64(n)) && !text.contains(std::str::from_utf8(n).unwrap()));
    }

    // A wrong digest is rejected and counted; an unknown server id too.
    let r = d
        .client()
        .push(PushFormat::Package0, &pkg0(0x104, b"other"))
        .unwrap();
    assert_eq!(r.outcome, PushOutcome::Rejected);
    let stranger = Notification::new("nobody", 1).sign(b"x", b"y").unwrap();
    let r = d.client().push(PushFormat::Package0, &stranger).unwrap();
    assert_eq!(r.outcome, PushOutcome::UnknownAccount);

    // account list / remove.
    let out = d.ctl(&["account", "list", "--json"], None);
    assert!(String::from_utf8_lossy(&out.stdout).contains(SERVER_ID));
    let out = d.ctl(&["account", "remove", "--server-id", SERVER_ID], None);
    assert!(out.status.success());
    let out = d.ctl(&["account", "remove", "--server-id", SERVER_ID], None);
    // 4: the daemon refused the request (docs/cli.md, "Exit status").
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown_account"));
    assert_eq!(d.stop(), Some(0));
    assert!(
        !dir.path().join("d.sock").exists(),
        "socket removed on SIGTERM"
    );
}

#[test]
fn credentials_and_chal_requests_work_without_revealing_nonces() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), "");
    d.add_account(&account());
    let mut c = d.client();
    let cred = c.client_cred(SERVER_ID, None).unwrap();
    assert_eq!(
        cred.cred_data.as_deref(),
        Some(dmnonce_syncml_md5("device-1", CLIENT_PW, CLIENT_NONCE).as_str())
    );
    // The server's credential with the stored server nonce is valid; with
    // another nonce it is not.
    let good = dmnonce_syncml_md5(SERVER_ID, SERVER_PW, SERVER_NONCE);
    assert!(c
        .check_server_cred(SERVER_ID, None, Some(&good), None)
        .unwrap());
    let bad = dmnonce_syncml_md5(SERVER_ID, SERVER_PW, b"nope");
    assert!(!c
        .check_server_cred(SERVER_ID, None, Some(&bad), None)
        .unwrap());
    // A Chal from the server changes the client nonce.
    c.accept_chal(SERVER_ID, &b64(b"fresh-client")).unwrap();
    let cred = c.client_cred(SERVER_ID, None).unwrap();
    assert_eq!(
        cred.cred_data.unwrap(),
        dmnonce_syncml_md5("device-1", CLIENT_PW, b"fresh-client")
    );
    // issue_chal: a new server nonce; the old one stays valid until the
    // server is seen using the new one (two-phase).
    let chal = c.issue_chal(SERVER_ID, None).unwrap();
    let nn = chal
        .chal
        .split("<NextNonce")
        .nth(1)
        .and_then(|s| s.split('>').nth(1))
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_string();
    let new_nonce = base64_decode(&nn);
    assert_eq!(new_nonce.len(), 16);
    assert!(c
        .check_server_cred(SERVER_ID, None, Some(&good), None)
        .unwrap());
    let with_new = dmnonce_syncml_md5(SERVER_ID, SERVER_PW, &new_nonce);
    assert!(c
        .check_server_cred(SERVER_ID, None, Some(&with_new), None)
        .unwrap());
    // Seen using the new one: the previous is retired.
    assert!(!c
        .check_server_cred(SERVER_ID, None, Some(&good), None)
        .unwrap());
    // verify: no side effects, verdict only.
    let v = c.verify(&pkg0(9, &new_nonce)).unwrap();
    assert_eq!(v.verdict, dmnonce_control::VerdictName::StoredNonce);
    let v = c.verify(&pkg0(9, b"0x00000000")).unwrap();
    assert_eq!(v.verdict, dmnonce_control::VerdictName::DefaultNonceText);
    assert_eq!(d.client().status().unwrap().counters.fallbacks, 0);
}

fn dmnonce_syncml_md5(user: &str, pw: &str, nonce: &[u8]) -> String {
    use dmnonce_proto::digest::{b64, b64_md5_parts, md5_parts};
    let inner = b64_md5_parts(&[user.as_bytes(), b":", pw.as_bytes()]);
    b64(&md5_parts(&[&inner, b":", nonce]))
}

#[test]
fn bad_input_gets_errors_and_the_daemon_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(dir.path(), "");
    d.add_account(&account());
    let mut c = d.client();

    // Garbage lines: answered with bad_request, connection stays usable.
    let mut raw = UnixStream::connect(&d.socket).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    raw.write_all(b"\x00\x01garbage\n{\"v\":1}\n\xff\xfe\n{\"v\":7,\"id\":3,\"op\":\"hello\"}\n{\"v\":1,\"id\":4,\"op\":\"hello\"}\n")
        .unwrap();
    let mut got = String::new();
    let mut buf = [0u8; 4096];
    while got.lines().count() < 5 {
        let n = raw.read(&mut buf).unwrap();
        assert!(n > 0, "daemon closed the connection: {got}");
        got.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let lines: Vec<serde_json::Value> = got
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["error"]["code"], "bad_request");
    assert_eq!(lines[1]["error"]["code"], "bad_request");
    assert_eq!(lines[2]["error"]["code"], "bad_request");
    assert_eq!(lines[3]["error"]["code"], "unsupported_version");
    assert_eq!(lines[3]["id"], 3);
    assert_eq!(lines[4]["ok"], true);
    assert_eq!(lines[4]["id"], 4);

    // An oversized line: frame_too_large, then the connection is closed.
    let mut big = UnixStream::connect(&d.socket).unwrap();
    big.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    for _ in 0..5 {
        if big.write_all(&chunk).is_err() {
            break;
        }
    }
    let mut answer = String::new();
    let _ = big.read_to_string(&mut answer);
    assert!(answer.contains("frame_too_large"), "{answer}");

    // Truncated WSP, wrong content type, undecodable Package #0.
    let wsp = WspPush::syncml_notification(1, &pkg0(5, SERVER_NONCE))
        .encode()
        .unwrap();
    let err = |r: Result<_, ClientError>| match r {
        Err(ClientError::Daemon(e)) => e.code,
        other => panic!("expected a daemon error, got {other:?}"),
    };
    assert_eq!(err(c.push(PushFormat::Wsp, &wsp[..4])), ErrorCode::BadPush);
    let mms = WspPush::new(
        1,
        dmnonce_push::ContentType::short(0x3e),
        None,
        vec![1, 2, 3],
    )
    .unwrap()
    .encode()
    .unwrap();
    assert_eq!(err(c.push(PushFormat::Wsp, &mms)), ErrorCode::PushRefused);
    assert_eq!(
        err(c.push(PushFormat::Package0, b"\x01\x02")),
        ErrorCode::BadPush
    );
    assert_eq!(
        err(c.push(PushFormat::Auto, b"hello world")),
        ErrorCode::BadPush
    );
    assert_eq!(err(c.push_sms(&[vec![0xff; 3]], false)), ErrorCode::BadPush);

    // A client that connects and says nothing does not block others.
    let _silent = UnixStream::connect(&d.socket).unwrap();
    // A good push still works.
    let r = c.push(PushFormat::Wsp, &wsp).unwrap();
    assert_eq!(r.outcome, PushOutcome::Alert);
    assert!(d.alive());
    let s = d.client().status().unwrap();
    assert!(s.counters.refused >= 5, "{:?}", s.counters);
}

#[test]
fn slow_subscriber_is_cut_off_and_others_still_get_events() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), "");
    std::fs::write(
        &d.config,
        support::config_text("") + "[control]\nsubscriber_queue = 4\nwrite_timeout_ms = 500\n",
    )
    .unwrap();
    drop(d);
    let d = Daemon::start_with(dir.path(), &dir.path().join("dmnonced.toml"));
    d.add_account(&account());
    // The slow one subscribes and never reads.
    let mut slow = UnixStream::connect(&d.socket).unwrap();
    slow.write_all(b"{\"v\":1,\"id\":1,\"op\":\"subscribe\"}\n")
        .unwrap();
    let mut fast = d.subscribe();
    std::thread::sleep(Duration::from_millis(200));
    let mut c = d.client();
    // Rejected pushes (one event each) until the slow subscriber's socket
    // buffer and queue overflow; the fast one must get every event.
    let mut n = 0u32;
    while !log_has(&d, "disconnect") {
        assert!(n < 50_000, "slow subscriber never cut off");
        let r = c
            .push(PushFormat::Package0, &pkg0(n as u16, b"wrong"))
            .unwrap();
        assert_eq!(r.outcome, PushOutcome::Rejected);
        n += 1;
        match fast.next_event(Some(Duration::from_secs(5))).unwrap() {
            Some(e) => assert_eq!(e.kind(), EventKind::PushRejected),
            None => panic!("fast subscriber starved after {n} events"),
        }
    }
    // The slow subscriber was disconnected: reading drains then hits EOF.
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut sink = Vec::new();
    let res = slow.read_to_end(&mut sink);
    assert!(
        res.is_ok(),
        "slow subscriber connection closed by the daemon: {res:?}"
    );
    assert!(log_has(&d, "disconnect"), "{}", d.log());
}

fn log_has(d: &Daemon, what: &str) -> bool {
    d.log().contains(what)
}

#[test]
fn uid_not_on_the_allow_list_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!("allowed_uids = [4242424]\n{}", support::config_text("")),
    )
    .unwrap();
    let socket = dir.path().join("d.sock");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dmnonced"))
        .arg("--config")
        .arg(&cfg)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .arg("--socket")
        .arg(&socket)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut line = [0u8; 1];
    let mut text = Vec::new();
    while !String::from_utf8_lossy(&text).contains("ready") {
        assert_eq!(stderr.read(&mut line).unwrap(), 1, "daemon exited");
        text.push(line[0]);
    }
    let mut s = UnixStream::connect(&socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(b"{\"v\":1,\"id\":1,\"op\":\"hello\"}\n");
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.contains("permission_denied"), "{answer}");
    // SIGINT stops as gracefully as SIGTERM: status 0, socket removed.
    support::signal(child.id() as i32, libc::SIGINT);
    assert_eq!(
        support::wait_timeout(&mut child, Duration::from_secs(5)),
        Some(0)
    );
    assert!(!socket.exists());
}

#[test]
fn inherited_sockets_from_systemd_and_android_init_are_served() {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    for mode in ["systemd", "android"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("activated.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let fd = listener.as_raw_fd();
        let cfg = dir.path().join("c.toml");
        std::fs::write(&cfg, support::config_text("")).unwrap();
        let daemon = env!("CARGO_BIN_EXE_dmnonced");
        // systemd sets LISTEN_PID to the service's pid: a shell that execs
        // the daemon keeps its pid.
        let script = match mode {
            "systemd" => format!("LISTEN_PID=$$ LISTEN_FDS=1 exec {daemon} \"$@\""),
            _ => format!("ANDROID_SOCKET_dmnonced=3 exec {daemon} \"$@\""),
        };
        let mut cmd = std::process::Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .arg("sh")
            .arg("--config")
            .arg(&cfg)
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .arg("--socket")
            .arg(dir.path().join("unused.sock"))
            .stderr(std::process::Stdio::piped());
        // SAFETY: dup2 and fcntl are async-signal-safe; they put the
        // listener on fd 3 without close-on-exec.
        unsafe {
            cmd.pre_exec(move || {
                if fd == 3 {
                    let flags = libc::fcntl(3, libc::F_GETFD);
                    libc::fcntl(3, libc::F_SETFD, flags & !libc::FD_CLOEXEC);
                } else if libc::dup2(fd, 3) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let mut text = Vec::new();
        let mut b = [0u8; 1];
        // The whole ready line: it names the socket the daemon serves.
        while !String::from_utf8_lossy(&text).contains("ready socket=")
            || text.last() != Some(&b'\n')
        {
            assert_eq!(
                stderr.read(&mut b).unwrap(),
                1,
                "daemon exited: {}",
                String::from_utf8_lossy(&text)
            );
            text.push(b[0]);
        }
        // The socket it was handed, not the configured --socket.
        let shown = format!("ready socket={mode}:{}\n", path.display());
        assert!(
            String::from_utf8_lossy(&text).contains(&shown),
            "{mode}: {}",
            String::from_utf8_lossy(&text)
        );
        drop(listener);
        let mut c = dmnonce_control::Client::connect(&path).unwrap();
        assert_eq!(c.hello().unwrap().protocol, 1, "{mode}");
        assert!(
            !dir.path().join("unused.sock").exists(),
            "{mode}: no socket bound"
        );
        support::signal(child.id() as i32, libc::SIGTERM);
        assert_eq!(
            support::wait_timeout(&mut child, Duration::from_secs(5)),
            Some(0)
        );
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn b64(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[test]
fn dmnoncectl_events_prints_json_lines_and_times_out() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), "");
    d.add_account(&account());
    let mut child = Command::new(support::sibling_bin("dmnoncectl"))
        .arg("--socket")
        .arg(&d.socket)
        .args(["events", "--count", "1", "--timeout", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "subscribed");
    let r = d
        .client()
        .push(PushFormat::Package0, &pkg0(0x55, SERVER_NONCE))
        .unwrap();
    assert_eq!(r.outcome, PushOutcome::Alert);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let ev: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ev["kind"], "alert");
    assert_eq!(ev["notification"]["session_id"], 0x55);

    let out = d.ctl(&["events", "--timeout", "0.3"], None);
    assert_eq!(out.status.code(), Some(1), "nothing arrived in time");
}

#[test]
fn connection_limit_idle_timeout_and_a_second_daemon_on_the_same_socket() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        support::config_text("") + "[control]\nmax_connections = 2\nidle_timeout_ms = 1500\n",
    )
    .unwrap();
    let d = Daemon::start_with(dir.path(), &cfg);
    // Let the readiness check's connection end first.
    std::thread::sleep(Duration::from_millis(300));
    // Two silent connections fill the limit; a third is told busy.
    let a = UnixStream::connect(&d.socket).unwrap();
    let b = UnixStream::connect(&d.socket).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let mut third = UnixStream::connect(&d.socket).unwrap();
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = String::new();
    let _ = third.read_to_string(&mut answer);
    assert!(answer.contains("\"busy\""), "{answer}");
    // The idle ones are closed after the idle timeout; then there is room.
    for mut s in [a, b] {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(s.read(&mut buf).unwrap(), 0, "closed by the daemon");
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(d.client().hello().unwrap().protocol, 1);

    // A second daemon on the same socket refuses to start; the first serves on.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dmnonced"))
        .arg("--config")
        .arg(&cfg)
        .arg("--state-dir")
        .arg(dir.path().join("state2"))
        .arg("--socket")
        .arg(&d.socket)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already serving"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(d.client().hello().unwrap().protocol, 1);
}

#[test]
fn one_uid_gets_its_share_of_the_connections_and_no_more() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        support::config_text("") + "[control]\nmax_connections = 8\nmax_connections_per_uid = 2\n",
    )
    .unwrap();
    let d = Daemon::start_with(dir.path(), &cfg);
    std::thread::sleep(Duration::from_millis(300));
    let a = UnixStream::connect(&d.socket).unwrap();
    let _b = UnixStream::connect(&d.socket).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    // Six slots are free, but not for this uid.
    let mut third = UnixStream::connect(&d.socket).unwrap();
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = String::new();
    let _ = third.read_to_string(&mut answer);
    assert!(answer.contains("\"busy\""), "{answer}");
    assert!(answer.contains("from this uid"), "{answer}");
    // Closing one gives the slot back.
    drop(a);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(d.client().hello().unwrap().protocol, 1);
}

#[test]
fn alert_without_a_subscriber_is_handed_to_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), "");
    d.add_account(&account());
    let r = d
        .client()
        .push(PushFormat::Package0, &pkg0(0x77, SERVER_NONCE))
        .unwrap();
    assert_eq!(r.outcome, PushOutcome::Alert);
    // A subscriber for other kinds does not take it.
    let mut other = d.client().subscribe(&[EventKind::ResyncFinished]).unwrap();
    assert!(other
        .next_event(Some(Duration::from_millis(200)))
        .unwrap()
        .is_none());
    // The next alert subscriber gets it, once.
    let mut first = d.subscribe();
    match wait_event(&mut first, EventKind::Alert, 5) {
        Event::Alert { notification, .. } => assert_eq!(notification.session_id, 0x77),
        other => panic!("{other:?}"),
    }
    let mut second = d.subscribe();
    assert!(second
        .next_event(Some(Duration::from_millis(300)))
        .unwrap()
        .is_none());
}

#[test]
fn held_alerts_are_bounded_oldest_dropped_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), "");
    d.add_account(&account());
    let mut c = d.client();
    for s in 0..20u16 {
        let r = c
            .push(PushFormat::Package0, &pkg0(s, SERVER_NONCE))
            .unwrap();
        assert_eq!(r.outcome, PushOutcome::Alert);
    }
    let mut events = d.subscribe();
    let mut sessions = Vec::new();
    while let Some(Event::Alert { notification, .. }) =
        events.next_event(Some(Duration::from_millis(500))).unwrap()
    {
        sessions.push(notification.session_id);
    }
    assert_eq!(sessions, (4..20).collect::<Vec<u16>>());
}
