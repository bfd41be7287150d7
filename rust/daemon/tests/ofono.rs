//! dmnonced's ofono path end to end: a private dbus-daemon, a stand-in for
//! ofono's Manager and PushNotification objects on it, the real daemon
//! configured with `[ofono] bus = "<address>"`. The daemon's agent must
//! register with the modem, and a WSP push delivered through
//! `ReceiveNotification(ay, a{sv})` must reach the push intake: an alert
//! event and the counters, exactly as a control-socket push would.
#![cfg(all(feature = "ofono", target_os = "linux", not(target_os = "android")))]

mod ofono_support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use dmnonce_control::{AccountSpec, AuthScheme, Client, Encoding, Event, EventKind, Policy};
use dmnonce_proto::Notification;
use dmnonce_push::WspPush;
use ofono_support::{FakeOfono, PrivateBus};

const SERVER_ID: &str = "ofono.test.server";
const SERVER_PW: &str = "ofono-srv-pw";
const NONCE: &[u8] = b"ofono-stored-nonce";

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGTERM first: the daemon removes its socket on a graceful stop.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_daemon(dir: &Path, bus: &str) -> (Daemon, std::path::PathBuf) {
    let socket = dir.join("dmnonced.sock");
    let config = dir.join("dmnonced.toml");
    std::fs::write(
        &config,
        format!(
            "state_dir = \"{}\"\nsocket = \"{}\"\n[ofono]\nenabled = true\nbus = \"{bus}\"\n",
            dir.join("state").display(),
            socket.display()
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_dmnonced"))
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start dmnonced");
    let daemon = Daemon(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(mut c) = Client::connect(&socket) {
            if c.hello().is_ok() {
                break;
            }
        }
        assert!(Instant::now() < deadline, "dmnonced did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    (daemon, socket)
}

#[test]
fn daemon_agent_registers_with_ofono_and_takes_its_pushes() {
    let bus = PrivateBus::start();
    let fake = FakeOfono::start(&bus.address, &["/phonesim"]);
    let dir = tempfile::tempdir().unwrap();
    let (_daemon, socket) = start_daemon(dir.path(), &bus.address);

    let regs = fake.wait_registrations(1, Duration::from_secs(10));
    assert_eq!(
        regs.len(),
        1,
        "dmnonced registered its agent with the modem"
    );
    assert_eq!(regs[0].modem, "/phonesim");

    let mut client = Client::connect(&socket).unwrap();
    client
        .account_add(AccountSpec {
            server_id: SERVER_ID.into(),
            server_url: "http://127.0.0.1:9/dm".into(),
            client_name: "ofono-device".into(),
            auth_scheme: AuthScheme::Md5,
            encoding: Encoding::Xml,
            policy: Policy::Allow,
            server_password: SERVER_PW.into(),
            client_password: "ofono-cli-pw".into(),
            server_nonce_b64: Some(B64.encode(NONCE)),
            client_nonce_b64: Some(B64.encode(b"ofono-client-nonce")),
        })
        .unwrap();
    let mut events = Client::connect(&socket)
        .unwrap()
        .subscribe(&[EventKind::Alert, EventKind::PushRejected])
        .unwrap();

    // A real WAP push: WSP PDU (TID first) around a Package #0 signed with
    // the stored nonce, as ofono hands it to the agent.
    let pkg0 = Notification::new(SERVER_ID, 0x0ABC)
        .sign(SERVER_PW.as_bytes(), NONCE)
        .unwrap();
    let pdu = WspPush::syncml_notification(0x42, &pkg0).encode().unwrap();
    fake.deliver(&regs[0], &pdu)
        .expect("ReceiveNotification answered");

    match events.next_event(Some(Duration::from_secs(10))).unwrap() {
        Some(Event::Alert { notification, .. }) => {
            assert_eq!(notification.server_id, SERVER_ID);
            assert_eq!(notification.session_id, 0x0ABC);
        }
        other => panic!("expected an alert event, got {other:?}"),
    }

    // A push that is not a DM notification is refused, and the daemon
    // keeps taking pushes through the agent.
    let other = [0x01u8, 0x06, 0x01, 0x83]; // TID, Push, 1 header byte, text/plain
    fake.deliver(&regs[0], &other)
        .expect("ReceiveNotification answered");
    fake.deliver(&regs[0], &pdu)
        .expect("ReceiveNotification answered");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = client.status().unwrap();
        if status.counters.alerts >= 2 {
            assert!(status.counters.pushes >= 3, "{:?}", status.counters);
            break;
        }
        assert!(Instant::now() < deadline, "counters: {:?}", status.counters);
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn daemon_with_ofono_disabled_does_not_register() {
    let bus = PrivateBus::start();
    let fake = FakeOfono::start(&bus.address, &["/phonesim"]);
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("dmnonced.sock");
    let config = dir.path().join("dmnonced.toml");
    std::fs::write(
        &config,
        format!(
            "state_dir = \"{}\"\nsocket = \"{}\"\n[ofono]\nenabled = false\nbus = \"{}\"\n",
            dir.path().join("state").display(),
            socket.display(),
            bus.address
        ),
    )
    .unwrap();
    let _daemon = Daemon(
        Command::new(env!("CARGO_BIN_EXE_dmnonced"))
            .arg("--config")
            .arg(&config)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Client::connect(&socket).is_ok_and(|mut c| c.hello().is_ok()) {
        assert!(Instant::now() < deadline, "dmnonced did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(fake
        .wait_registrations(1, Duration::from_millis(500))
        .is_empty());
}
