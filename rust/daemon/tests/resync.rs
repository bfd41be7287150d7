//! The resync session end to end: dmnonced against dmnonce-testserver (the
//! server role of rust/syncml over real HTTP(S) on 127.0.0.1), provisioned
//! with dmnoncectl. A stored-nonce push is an alert; a default-nonce push
//! makes the daemon run Pkg#1..#4; afterwards the server's stored-nonce
//! Package #0 (signed with the NEW nonce) verifies with the stored nonce.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use dmnonce_control::{Event, EventKind, PushFormat, PushOutcome, VerdictName};
use support::{wait_event, AccountArgs, Daemon, TestServer};

const SERVER_ID: &str = "dmnonce-test";
const SERVER_PW: &str = "srv-Resync-pw-7";
const CLIENT_PW: &str = "cli-Resync-pw-9";
const SERVER_NONCE: &[u8] = b"old-server-nonce-A";
const CLIENT_NONCE: &[u8] = b"old-client-nonce-B";
const DEVICE: &str = "device-77";

pub struct Setup {
    pub dir: tempfile::TempDir,
    pub server: TestServer,
    pub daemon: Daemon,
}

pub fn setup(scheme: &str, encoding: &str, tls: Option<&Tls>, http_extra: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let sdir = dir.path().join("server");
    let mut extra: Vec<String> = Vec::new();
    if let Some(t) = tls {
        extra.extend([
            "--tls-cert".into(),
            t.leaf_chain.clone(),
            "--tls-key".into(),
            t.leaf_key.clone(),
        ]);
    }
    let extra_ref: Vec<&str> = extra.iter().map(String::as_str).collect();
    let server = TestServer::start(&sdir, &extra_ref, tls.map(|t| Path::new(&t.ca)));
    server.add_device(serde_json::json!({
        "client_name": DEVICE, "server_password": SERVER_PW, "client_password": CLIENT_PW,
        "auth_scheme": scheme, "encoding": encoding,
        "server_nonce_b64": B64.encode(SERVER_NONCE), "client_nonce_b64": B64.encode(CLIENT_NONCE),
    }));
    let http = match tls {
        Some(t) => format!("ca_file = \"{}\"\n{http_extra}", t.trusted_ca),
        None => http_extra.to_string(),
    };
    let ddir = dir.path().join("device");
    std::fs::create_dir_all(&ddir).unwrap();
    let daemon = Daemon::start(&ddir, &http);
    daemon.add_account(&AccountArgs {
        server_id: SERVER_ID,
        url: server.dm_url(),
        client_name: DEVICE,
        scheme,
        encoding,
        server_pw: SERVER_PW,
        client_pw: CLIENT_PW,
        server_nonce: Some(SERVER_NONCE),
        client_nonce: Some(CLIENT_NONCE),
    });
    Setup {
        dir,
        server,
        daemon,
    }
}

/// Pushes a notification the server signed with `nonce` (stored|text|zero).
pub fn push_from_server(s: &Setup, nonce: &str, wsp: bool) -> dmnonce_control::PushResult {
    let bytes = s.server.notify(DEVICE, nonce, wsp);
    let f = support::write_file(s.dir.path(), "push.bin", &bytes);
    let out = s.daemon.ctl(&["--json", "push", &f], None);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "dmnoncectl push: {e}: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn full_resync(scheme: &str, encoding: &str, tls: Option<&Tls>) -> Setup {
    let s = setup(scheme, encoding, tls, "");
    let mut events = s.daemon.subscribe();

    let r = push_from_server(&s, "stored", true);
    assert_eq!(r.outcome, PushOutcome::Alert);
    assert_eq!(r.verdict, Some(VerdictName::StoredNonce));
    wait_event(&mut events, EventKind::Alert, 5);

    // The device lost sync (here: the server restored a backup and now
    // falls back to the default nonce).
    let r = push_from_server(&s, "text", false);
    assert_eq!(r.outcome, PushOutcome::ResyncStarted, "{r:?}");
    assert_eq!(r.verdict, Some(VerdictName::DefaultNonceText));
    wait_event(&mut events, EventKind::ResyncStarted, 5);
    let done = wait_event_any(
        &mut events,
        &[EventKind::ResyncFinished, EventKind::ResyncFailed],
        30,
    );
    assert!(
        matches!(done, Event::ResyncFinished { .. }),
        "{done:?}\ndaemon:\n{}\nserver:\n{}",
        s.daemon.log(),
        s.server.log()
    );
    let info = s.server.get_json(&format!("/admin/devices/{DEVICE}"));
    assert_eq!(info["resyncs_completed"], 1, "{info}");

    // The server's next notification is signed with the nonce the daemon
    // issued in Pkg#3: accepted with the stored nonce.
    let r = push_from_server(&s, "stored", true);
    assert_eq!(r.outcome, PushOutcome::Alert, "{r:?}");
    assert_eq!(r.verdict, Some(VerdictName::StoredNonce));
    // The same default-nonce push again is a replay, not a second session.
    let st = s.daemon.client().status().unwrap();
    assert_eq!(st.accounts[0].state, dmnonce_control::AccountState::InSync);
    assert_eq!(st.counters.resyncs_finished, 1);
    s
}

pub fn wait_event_any(
    events: &mut dmnonce_control::EventStream,
    kinds: &[EventKind],
    secs: u64,
) -> Event {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("no {kinds:?} within {secs} s"));
        match events.next_event(Some(left)).unwrap() {
            Some(e) if kinds.contains(&e.kind()) => return e,
            Some(_) => continue,
            None => panic!("no {kinds:?} within {secs} s"),
        }
    }
}

#[test]
fn resync_over_http_xml_md5() {
    full_resync("md5", "xml", None);
}

#[test]
fn resync_over_http_xml_hmac() {
    full_resync("hmac", "xml", None);
}

#[test]
fn resync_over_http_wbxml_md5() {
    full_resync("md5", "wbxml", None);
}

#[test]
fn resync_over_http_wbxml_hmac() {
    full_resync("hmac", "wbxml", None);
}

/// A small CA and a leaf for 127.0.0.1 (rustls refuses a self-signed leaf
/// used as its own CA, docs/design.md), plus a second, unrelated CA.
pub struct Tls {
    pub ca: String,
    pub leaf_chain: String,
    pub leaf_key: String,
    /// The CA the daemon is told to trust.
    pub trusted_ca: String,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (Debian package openssl) must be installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

pub fn make_tls(dir: &Path, trust_right_ca: bool) -> Tls {
    make_ca(dir, "ca");
    make_ca(dir, "otherca");
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
        ],
    );
    std::fs::write(
        dir.join("leaf.ext"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ],
    );
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    Tls {
        ca: p("ca.pem"),
        leaf_chain: p("leaf.pem"),
        leaf_key: p("leaf.key"),
        trusted_ca: if trust_right_ca {
            p("ca.pem")
        } else {
            p("otherca.pem")
        },
    }
}

#[test]
fn resync_over_https_with_the_configured_ca() {
    let certs = tempfile::tempdir().unwrap();
    let tls = make_tls(certs.path(), true);
    let s = full_resync("md5", "wbxml", Some(&tls));
    assert!(s.server.base.starts_with("https://"));
}

#[test]
fn https_server_with_a_certificate_from_another_ca_is_refused() {
    let certs = tempfile::tempdir().unwrap();
    let tls = make_tls(certs.path(), false);
    let s = setup("md5", "xml", Some(&tls), "");
    let mut events = s.daemon.subscribe();
    let r = push_from_server(&s, "text", false);
    assert_eq!(r.outcome, PushOutcome::ResyncStarted);
    match wait_event_any(
        &mut events,
        &[EventKind::ResyncFinished, EventKind::ResyncFailed],
        30,
    ) {
        Event::ResyncFailed { reason, .. } => {
            assert!(
                reason.to_lowercase().contains("certificate")
                    || reason.to_lowercase().contains("tls"),
                "{reason}"
            );
        }
        other => panic!("expected resync-failed, got {other:?}"),
    }
    let info = s.server.get_json(&format!("/admin/devices/{DEVICE}"));
    assert_eq!(info["sessions_completed"], 0, "{info}");
    let st = s.daemon.client().status().unwrap();
    assert_eq!(
        st.accounts[0].state,
        dmnonce_control::AccountState::NeedsResync
    );
    // Still serving: a stored-nonce push is an alert.
    let r = push_from_server(&s, "stored", false);
    assert_eq!(r.outcome, PushOutcome::Alert);
}

#[test]
fn replayed_default_nonce_push_starts_no_second_session() {
    let s = setup("md5", "xml", None, "");
    let mut events = s.daemon.subscribe();
    let bytes = s.server.notify(DEVICE, "text", false);
    let r = s.daemon.client().push(PushFormat::Auto, &bytes).unwrap();
    assert_eq!(r.outcome, PushOutcome::ResyncStarted);
    wait_event(&mut events, EventKind::ResyncFinished, 30);
    let r = s.daemon.client().push(PushFormat::Auto, &bytes).unwrap();
    assert_eq!(r.outcome, PushOutcome::Replay);
    assert_eq!(
        s.daemon
            .client()
            .status()
            .unwrap()
            .counters
            .resyncs_finished,
        1
    );
}

#[test]
fn daemon_killed_after_pkg2_resumes_or_fails_cleanly_and_loses_no_nonce() {
    let s = setup(
        "md5",
        "xml",
        None,
        "max_attempts = 50\nbackoff_initial_ms = 200\nbackoff_max_ms = 200\n",
    );
    // The link goes down right after the server's Pkg#2: the daemon keeps
    // retrying Pkg#3 while we kill it.
    let (st, b) = s.server.post(
        "/admin/fault",
        serde_json::json!({"after_pkg": 2, "action": "outage", "outage_ms": 3000}),
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&b));
    let r = push_from_server(&s, "text", false);
    assert_eq!(r.outcome, PushOutcome::ResyncStarted);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !s.daemon.log().contains("retrying in") {
        assert!(
            Instant::now() < deadline,
            "no retry seen:\n{}",
            s.daemon.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let Setup {
        dir,
        server,
        daemon,
    } = s;
    let ddir = daemon.dir.clone();
    let config = daemon.config.clone();
    daemon.kill();
    std::thread::sleep(Duration::from_millis(3200));
    // Restart: the pending session is resumed (or failed) on its own.
    let daemon = Daemon::start_with(&ddir, &config);
    let deadline = Instant::now() + Duration::from_secs(30);
    let state = loop {
        let st = daemon.client().status().unwrap();
        let c = &st.counters;
        if c.resyncs_finished + c.resyncs_failed > 0 {
            eprintln!(
                "after the restart: state {:?}, finished {}, failed {}",
                st.accounts[0].state, c.resyncs_finished, c.resyncs_failed
            );
            break st.accounts[0].state;
        }
        assert!(Instant::now() < deadline, "no outcome:\n{}", daemon.log());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        daemon.log().contains("resuming the resync session"),
        "{}",
        daemon.log()
    );
    assert_ne!(state, dmnonce_control::AccountState::Resyncing);
    let s = Setup {
        dir,
        server,
        daemon,
    };
    // Before anything could repair it: what the daemon committed must be
    // exactly what the server holds in its state file. A nonce the device
    // dropped while the server still uses it, or a pair mixed from two
    // sessions, fails here.
    let held = server_device(&s.dir.path().join("server"));
    let st = s.daemon.client().status().unwrap();
    let rotated = held.server_nonce != SERVER_NONCE && held.client_nonce != CLIENT_NONCE;
    if st.counters.resyncs_finished == 1 {
        // Resumed to the end: both sides on the session's new pair.
        assert_eq!(st.counters.resyncs_failed, 0);
        assert_eq!(st.accounts[0].state, dmnonce_control::AccountState::InSync);
        assert_eq!(held.resyncs_completed, 1, "server saw the session end");
        assert!(
            rotated,
            "the finished session replaced both server-side nonces"
        );
    } else {
        // Failed cleanly: the device keeps what it last committed, which
        // must be the pair the server holds: the old one, or the new one
        // when only the server's Pkg#4 was lost (the server then counts the
        // session as finished). A device nonce the server never received
        // (a Pkg#3 lost before the server) fails the check below.
        assert_eq!(st.counters.resyncs_failed, 1);
        assert_eq!(
            st.accounts[0].state,
            dmnonce_control::AccountState::NeedsResync
        );
    }
    assert_device_holds(&s, &held);
    // In step, so the server's next stored-nonce notification is an alert
    // at once: no second resync needed (nor allowed to hide a loss).
    let r = push_from_server(&s, "stored", false);
    assert_eq!(
        r.outcome,
        PushOutcome::Alert,
        "daemon:\n{}\nserver:\n{}",
        s.daemon.log(),
        s.server.log()
    );
    assert_eq!(r.verdict, Some(VerdictName::StoredNonce));
    let st = s.daemon.client().status().unwrap();
    assert_eq!(st.accounts[0].state, dmnonce_control::AccountState::InSync);
    // No second session ran behind the checks.
    assert_eq!(st.counters.resyncs_finished + st.counters.resyncs_failed, 1);
}

/// The device account as the server persisted it (server-state.json).
struct ServerHeld {
    server_nonce: Vec<u8>,
    client_nonce: Vec<u8>,
    server_password: String,
    client_password: String,
    resyncs_completed: u64,
}

fn server_device(state_dir: &Path) -> ServerHeld {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state_dir.join("server-state.json")).unwrap())
            .unwrap();
    let d = &v["devices"][DEVICE];
    let nonce = |k: &str| {
        B64.decode(
            d[k].as_str()
                .unwrap_or_else(|| panic!("server holds no {k}")),
        )
        .unwrap()
    };
    let text = |k: &str| d[k].as_str().unwrap().to_string();
    ServerHeld {
        server_nonce: nonce("server_nonce"),
        client_nonce: nonce("client_nonce"),
        server_password: text("server_password"),
        client_password: text("client_password"),
        resyncs_completed: d["resyncs_completed"].as_u64().unwrap(),
    }
}

/// The daemon's stored nonces are the pair the server holds: its server
/// nonce verifies the server's stored-nonce Package #0 and the server's
/// MD5 credential, and its client credential is the one the server expects.
fn assert_device_holds(s: &Setup, held: &ServerHeld) {
    use dmnonce_syncml::cred::md5_credential;
    let mut c = s.daemon.client();
    let pkg0 = s.server.notify(DEVICE, "stored", false);
    let v = c.verify(&pkg0).unwrap();
    assert_eq!(
        v.verdict,
        VerdictName::StoredNonce,
        "the device lost the server nonce the server signs with\ndaemon:\n{}",
        s.daemon.log()
    );
    let server_cred = md5_credential(
        SERVER_ID.as_bytes(),
        held.server_password.as_bytes(),
        &held.server_nonce,
    );
    assert!(
        c.check_server_cred(SERVER_ID, None, Some(&server_cred), None)
            .unwrap(),
        "server credential with the server's nonce refused"
    );
    let stale = md5_credential(
        SERVER_ID.as_bytes(),
        held.server_password.as_bytes(),
        b"not-the-server-nonce",
    );
    assert!(!c
        .check_server_cred(SERVER_ID, None, Some(&stale), None)
        .unwrap());
    let expected = md5_credential(
        DEVICE.as_bytes(),
        held.client_password.as_bytes(),
        &held.client_nonce,
    );
    let cred = c.client_cred(SERVER_ID, None).unwrap();
    assert!(
        cred.cred_data.as_deref() == Some(expected.as_str()),
        "the device's client nonce is not the one the server holds"
    );
}

/// Every string value under a key containing "nonce" in the server's state
/// file (Base64 there), decoded: the nonces both sides hold after the run.
fn server_nonces(state_dir: &Path) -> Vec<Vec<u8>> {
    fn walk(v: &serde_json::Value, key: &str, out: &mut Vec<Vec<u8>>) {
        match v {
            serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| walk(v, k, out)),
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, key, out)),
            serde_json::Value::String(s) if key.contains("nonce") => {
                if let Ok(b) = B64.decode(s) {
                    out.push(b);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(state_dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "json") {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap_or_default();
            walk(&v, "", &mut out);
        }
    }
    out
}

fn forms(secret: &[u8]) -> Vec<String> {
    let mut f = vec![
        B64.encode(secret),
        secret.iter().map(|b| format!("{b:02x}")).collect(),
        secret.iter().map(|b| format!("{b:02X}")).collect(),
    ];
    if let Ok(t) = std::str::from_utf8(secret) {
        if t.len() >= 4 {
            f.push(t.to_string());
        }
    }
    f
}

#[test]
fn no_secret_or_nonce_in_any_log_line_of_a_full_run() {
    for (scheme, encoding) in [("md5", "xml"), ("hmac", "wbxml")] {
        let s = full_resync(scheme, encoding, None);
        let mut c = s.daemon.client();
        // The other requests that handle secrets and nonces.
        let cred = c.client_cred(SERVER_ID, Some(b"<SyncML/>")).unwrap();
        let _ = c.check_server_cred(SERVER_ID, Some(b"<SyncML/>"), Some("bogus"), Some("bogus"));
        c.accept_chal(SERVER_ID, &B64.encode(b"chal-nonce-from-server"))
            .unwrap();
        let chal = c
            .issue_chal(SERVER_ID, Some(dmnonce_control::Encoding::Xml))
            .unwrap();
        let bad_spec = serde_json::json!({"v":1,"id":9,"op":"account_add","account":{
            "server_id": SERVER_ID, "server_url": "ftp://x", "client_name": "x",
            "auth_scheme": "md5", "encoding": "xml", "policy": "allow",
            "server_password": SERVER_PW, "client_password": CLIENT_PW}});
        {
            use std::io::{BufRead, Write};
            let mut raw = std::os::unix::net::UnixStream::connect(&s.daemon.socket).unwrap();
            raw.write_all(format!("{bad_spec}\n").as_bytes()).unwrap();
            let mut line = String::new();
            std::io::BufReader::new(raw).read_line(&mut line).unwrap();
            assert!(line.contains("bad_request"), "{line}");
            assert!(
                !line.contains(SERVER_PW) && !line.contains(CLIENT_PW),
                "{line}"
            );
        }
        let st = s.daemon.client().status().unwrap();
        assert_eq!(st.counters.resyncs_finished, 1);
        let Setup {
            dir,
            server,
            daemon,
        } = s;
        let log_buf = daemon.log.clone();
        assert_eq!(daemon.stop(), Some(0));
        let log = log_buf.lock().unwrap().clone();
        assert!(
            log.contains("TRACE") || log.contains("DEBUG"),
            "verbose run"
        );
        assert!(log.contains("resync session"), "{log}");

        let mut secrets: Vec<Vec<u8>> = vec![
            SERVER_PW.into(),
            CLIENT_PW.into(),
            SERVER_NONCE.into(),
            CLIENT_NONCE.into(),
            b"chal-nonce-from-server".to_vec(),
        ];
        let nonces = server_nonces(&dir.path().join("server"));
        assert!(nonces.len() >= 2, "server state holds nonces");
        secrets.extend(nonces);
        let issued = chal
            .chal
            .split("NextNonce")
            .nth(1)
            .and_then(|t| t.split('>').nth(1))
            .and_then(|t| t.split('<').next())
            .map(|t| B64.decode(t).unwrap())
            .unwrap_or_default();
        assert_eq!(issued.len(), 16, "issue_chal nonce parsed");
        secrets.push(issued);
        for secret in &secrets {
            for form in forms(secret) {
                for line in log.lines() {
                    assert!(
                        !line.contains(&form),
                        "{scheme}/{encoding}: log line reveals a secret or nonce ({form:?}): {line}"
                    );
                }
            }
        }
        for credential in [cred.cred_data, cred.hmac_header].into_iter().flatten() {
            assert!(!log.contains(&credential), "credential in the log");
        }
        drop(server);
    }
}
