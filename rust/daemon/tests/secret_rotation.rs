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
use dmnonce_store::{AuditEvent, KeyFile, ProvisioningMirror, Store, UnixTime};
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
    // The outage began when the server sent Pkg#4, before the failure was
    // reported: a full OUTAGE_MS from here is past its end however slow the
    // machine (timing it from the push raced on the emulated device).
    std::thread::sleep(Duration::from_millis(OUTAGE_MS));

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

    // 4. The server was seen with the new secret in that session's closing
    //    message, which retired the old one (issue 15): a notification with
    //    the new secret verifies, one with the old secret is refused.
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

// ---------------------------------------------------------------------
// Issue 15: the resync driver persists exactly what each step of the
// session says. The rotation is committed once (with Pkg#5), keeping the
// secret the server signed the session with so far, and the closing
// message — signed with the new secret — confirms it, which retires the
// old one. Before the fix the end of the session committed every value of
// the session a second time (starting from the current slot that turned
// (new, old) into (new, new), a second audit entry, a second generation)
// and dropped the confirmation.

/// What the device's store and provisioning mirror hold for the account.
/// Read with the daemon stopped: the test opens the same SQLCipher files
/// with the daemon's key file.
struct DeviceView {
    secret: Vec<u8>,
    previous: Option<Vec<u8>>,
    mirror_secret: Vec<u8>,
    mirror_previous: Option<Vec<u8>>,
    generation: u64,
    /// The account's audit trail, oldest first.
    audit: Vec<(AuditEvent, String)>,
}

impl DeviceView {
    fn count(&self, event: AuditEvent, detail_has: &str) -> usize {
        self.audit
            .iter()
            .filter(|(e, d)| *e == event && d.contains(detail_has))
            .count()
    }
    fn position(&self, event: AuditEvent, detail_has: &str) -> Option<usize> {
        self.audit
            .iter()
            .position(|(e, d)| *e == event && d.contains(detail_has))
    }
}

/// Detail of the audit entry a rotation committed from `slot` writes.
fn rotation_detail(slot: &str) -> String {
    format!("server secret (the {slot} one kept as previous)")
}

fn read_device(state: &Path) -> DeviceView {
    let key = KeyFile::load_or_create(&state.join(dmnonce_store::KEY_FILE_NAME)).unwrap();
    let (store, _) = Store::open(
        &state.join(dmnonced::config::DB_FILE),
        &key,
        None,
        UnixTime::from_system_time(std::time::SystemTime::now()),
    )
    .unwrap();
    let secrets = store.account_secrets(SERVER_ID).unwrap();
    let generation = store.nonces(SERVER_ID).unwrap().generation;
    let audit = store
        .audit_log(0, 100_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.server_id.as_deref() == Some(SERVER_ID))
        .map(|e| (e.event, e.detail))
        .collect();
    let mirror =
        ProvisioningMirror::open(&state.join(dmnonce_store::PROVISIONING_FILE_NAME), &key).unwrap();
    let m = mirror
        .accounts()
        .unwrap()
        .into_iter()
        .find(|p| p.server_id == SERVER_ID)
        .expect("account in the provisioning mirror");
    DeviceView {
        secret: secrets.server_secret.expose().to_vec(),
        previous: secrets
            .server_secret_previous
            .as_ref()
            .map(|s| s.expose().to_vec()),
        mirror_secret: m.server_secret.expose().to_vec(),
        mirror_previous: m
            .server_secret_previous
            .as_ref()
            .map(|s| s.expose().to_vec()),
        generation,
        audit,
    }
}

/// Stops the daemon (cleanly), reads its files, starts it again.
fn inspect(daemon: Daemon) -> (DeviceView, Daemon) {
    let (ddir, config) = (daemon.dir.clone(), daemon.config.clone());
    assert_eq!(daemon.stop(), Some(0));
    let view = read_device(&ddir.join("state"));
    (view, Daemon::start_with(&ddir, &config))
}

/// A rotating test server and a daemon with the account provisioned from
/// the server's secrets (no nonces: the first push is a resync).
fn rig(dir: &Path, http_extra: &str) -> (std::path::PathBuf, TestServer, Daemon) {
    let sdir = dir.join("server");
    let server = TestServer::start(&sdir, &["--rotate-secret"], None);
    server.add_device(serde_json::json!({
        "client_name": DEVICE, "server_password": SERVER_PW, "client_password": CLIENT_PW,
        "auth_scheme": "md5", "encoding": "xml",
    }));
    let ddir = dir.join("device");
    std::fs::create_dir_all(&ddir).unwrap();
    let daemon = Daemon::start(&ddir, http_extra);
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
    (sdir, server, daemon)
}

/// The server's default-nonce notification, and the session it starts,
/// which must finish.
fn full_resync(daemon: &Daemon, server: &TestServer) {
    let mut events = daemon.subscribe();
    let r = push(daemon, server.notify(DEVICE, "text", false));
    assert_eq!(r.outcome, PushOutcome::ResyncStarted, "{r:?}");
    let end = resync_outcome(&mut events);
    assert!(
        matches!(end, Event::ResyncFinished { .. }),
        "{end:?}\n{}\n{}",
        daemon.log(),
        server.log()
    );
}

fn assert_no_secret_logged(daemon: &Daemon, secrets: &[&[u8]]) {
    let log = daemon.log();
    for s in secrets {
        let text = std::str::from_utf8(s).unwrap();
        assert!(!log.contains(text), "a secret reached the log");
    }
}

/// (a) A rotation in a session that started from the current slot keeps
/// the old secret as previous (committed with Pkg#5) until the server is
/// seen using the new one — its closing message, signed with it — and
/// then retires the old one: (new, None), never (new, new).
#[test]
fn a_rotation_from_the_current_slot_keeps_the_old_secret_until_the_server_uses_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let (sdir, server, daemon) = rig(dir.path(), "");
    full_resync(&daemon, &server);
    let (new_secret, new_nonce) = server_view(&sdir);
    assert_ne!(new_secret, SERVER_PW.as_bytes(), "server took a new secret");

    let (v, daemon) = inspect(daemon);
    assert!(
        v.previous.as_deref() != Some(&new_secret[..]),
        "store: (new, new), the rotation was committed twice"
    );
    assert_eq!(
        v.count(AuditEvent::NonceRotated, "server secret"),
        1,
        "one rotation, committed with Pkg#5: {:?}",
        v.audit
    );
    let kept = v
        .position(AuditEvent::NonceRotated, &rotation_detail("current"))
        .unwrap_or_else(|| panic!("no rotation from the current slot: {:?}", v.audit));
    let retired = v
        .position(AuditEvent::SecretConfirmed, "")
        .unwrap_or_else(|| panic!("the closing message confirmed nothing: {:?}", v.audit));
    assert!(kept < retired, "{:?}", v.audit);
    assert!(v.secret == new_secret, "store: current is the new secret");
    assert!(v.previous.is_none(), "store: the old secret is retired");
    assert!(
        v.mirror_secret == new_secret,
        "mirror: current is the new secret"
    );
    assert!(
        v.mirror_previous.is_none(),
        "mirror: the old secret is retired"
    );

    let r = push(&daemon, package0(SERVER_PW.as_bytes(), &new_nonce, 0x0201));
    assert_eq!(r.outcome, PushOutcome::Rejected, "{r:?}");
    let r = push(&daemon, package0(&new_secret, &new_nonce, 0x0202));
    assert_eq!(r.outcome, PushOutcome::Alert, "{r:?}\n{}", daemon.log());
    assert_eq!(r.verdict, Some(VerdictName::StoredNonce));
    assert_no_secret_logged(&daemon, &[SERVER_PW.as_bytes(), &new_secret]);
}

/// (b) Pkg#5 (the device's 200 for the Replace) is lost: the server never
/// takes the new secret and keeps signing with the old one, which the
/// device accepts through the previous slot — a normal notification, and
/// the default-nonce one of the next resync, which then runs with the old
/// secret. Once that session's closing message shows the server using the
/// newest secret, the old one is refused at once.
#[test]
fn b_a_server_that_never_took_the_new_secret_is_accepted_through_the_previous_slot() {
    let dir = tempfile::tempdir().unwrap();
    let (sdir, server, daemon) = rig(
        dir.path(),
        "max_attempts = 2\nbackoff_initial_ms = 100\nrequest_timeout_ms = 2000\n",
    );
    let mut events = daemon.subscribe();
    let (st, body) = server.post(
        "/admin/fault",
        serde_json::json!({"after_pkg": 4, "action": "outage", "outage_ms": OUTAGE_MS}),
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
    let r = push(&daemon, server.notify(DEVICE, "text", false));
    assert_eq!(r.outcome, PushOutcome::ResyncStarted, "{r:?}");
    let end = resync_outcome(&mut events);
    assert!(matches!(end, Event::ResyncFailed { .. }), "{end:?}");
    let (secret, nonce) = server_view(&sdir);
    assert_eq!(secret, SERVER_PW.as_bytes(), "server kept its old secret");

    let (v, daemon) = inspect(daemon);
    assert!(
        v.secret != SERVER_PW.as_bytes(),
        "store: the rotation was committed"
    );
    assert!(
        v.previous.as_deref() == Some(SERVER_PW.as_bytes()),
        "store: old kept"
    );
    assert!(v.mirror_secret == v.secret, "mirror: the new secret");
    assert!(
        v.mirror_previous.as_deref() == Some(SERVER_PW.as_bytes()),
        "mirror: old kept"
    );
    assert_eq!(v.count(AuditEvent::SecretConfirmed, ""), 0);
    let lost_secret = v.secret.clone();
    // The outage began when the server sent Pkg#4, before the failure was
    // reported: a full OUTAGE_MS from here is past its end however slow the
    // machine (timing it from the push raced on the emulated device).
    std::thread::sleep(Duration::from_millis(OUTAGE_MS));

    let r = push(&daemon, package0(&secret, &nonce, 0x0301));
    assert_eq!(r.outcome, PushOutcome::Alert, "{r:?}\n{}", daemon.log());
    assert_eq!(r.verdict, Some(VerdictName::StoredNonce));
    full_resync(&daemon, &server);
    let (newest, newest_nonce) = server_view(&sdir);
    assert_ne!(
        newest,
        SERVER_PW.as_bytes(),
        "server took the newest secret"
    );

    let r = push(
        &daemon,
        package0(SERVER_PW.as_bytes(), &newest_nonce, 0x0302),
    );
    assert_eq!(r.outcome, PushOutcome::Rejected, "{r:?}");
    let r = push(&daemon, package0(&newest, &newest_nonce, 0x0303));
    assert_eq!(r.verdict, Some(VerdictName::StoredNonce), "{r:?}");
    let (v, daemon) = inspect(daemon);
    assert!(
        v.secret == newest && v.previous.is_none(),
        "store: (newest, none)"
    );
    assert!(
        v.mirror_secret == newest && v.mirror_previous.is_none(),
        "mirror: (newest, none)"
    );
    assert!(
        v.position(AuditEvent::NonceRotated, &rotation_detail("previous"))
            .is_some(),
        "the second session ran with the previous slot: {:?}",
        v.audit
    );
    assert_no_secret_logged(&daemon, &[SERVER_PW.as_bytes(), &lost_secret, &newest]);
}

/// (c) Each rotation is recorded by exactly one audit entry (and each
/// confirmation by one), over two sessions that each rotate.
#[test]
fn c_each_rotation_is_audited_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (_sdir, server, daemon) = rig(dir.path(), "");
    full_resync(&daemon, &server);
    full_resync(&daemon, &server);
    let (v, _daemon) = inspect(daemon);
    assert_eq!(
        v.count(AuditEvent::NonceRotated, "server secret"),
        2,
        "{:?}",
        v.audit
    );
    assert_eq!(
        v.count(AuditEvent::NonceRotated, &rotation_detail("current")),
        2,
        "{:?}",
        v.audit
    );
    assert_eq!(v.count(AuditEvent::SecretConfirmed, ""), 2, "{:?}", v.audit);
    assert_eq!(
        v.count(AuditEvent::NonceRotated, "nonces ("),
        2,
        "{:?}",
        v.audit
    );
}

/// (d) The generation counts nonce changes: one per resync session (the
/// new client and server nonce, committed together before Pkg#3), none for
/// a rotation or a confirmation that changes no nonce.
#[test]
fn d_the_generation_counts_up_once_per_nonce_change() {
    let dir = tempfile::tempdir().unwrap();
    let (sdir, server, daemon) = rig(dir.path(), "");
    let (v, daemon) = inspect(daemon);
    let g0 = v.generation;
    full_resync(&daemon, &server);
    let (v, daemon) = inspect(daemon);
    assert_eq!(v.generation, g0 + 1, "{:?}", v.audit);
    // A normal notification with the stored nonce changes nothing.
    let (secret, nonce) = server_view(&sdir);
    let r = push(&daemon, package0(&secret, &nonce, 0x0401));
    assert_eq!(r.verdict, Some(VerdictName::StoredNonce), "{r:?}");
    full_resync(&daemon, &server);
    let (v, _daemon) = inspect(daemon);
    assert_eq!(v.generation, g0 + 2, "{:?}", v.audit);
    for g in [g0 + 1, g0 + 2] {
        assert_eq!(
            v.count(
                AuditEvent::NonceRotated,
                &format!("nonces (generation {g})")
            ),
            1,
            "{:?}",
            v.audit
        );
    }
}
