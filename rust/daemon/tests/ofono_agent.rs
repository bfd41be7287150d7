//! The ofono push agent module against a real private dbus-daemon and a
//! stand-in ofono: registration on every modem with a push interface,
//! hot-plugged modems, PDU delivery through ReceiveNotification, Release.
#![cfg(all(feature = "ofono", target_os = "linux", not(target_os = "android")))]

#[path = "../src/ofono/agent.rs"]
#[allow(dead_code)]
mod ofono;
mod ofono_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ofono::{start_agent, AGENT_PATH};
use ofono_support::{FakeOfono, PrivateBus};

#[test]
fn agent_registers_on_modems_and_hands_pdus_to_the_intake() {
    let bus = PrivateBus::start();
    let fake = FakeOfono::start(&bus.address, &["/phonesim"]);
    let received: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let sink = received.clone();
    let agent = start_agent(
        &bus.address,
        Arc::new(move |pdu: &[u8]| {
            sink.lock().unwrap().push(pdu.to_vec());
            "recorded".to_string()
        }),
        Vec::new(),
    )
    .expect("agent starts");

    let regs = fake.wait_registrations(1, Duration::from_secs(5));
    assert_eq!(regs.len(), 1, "agent registered with the modem");
    assert_eq!(regs[0].agent_path, AGENT_PATH);
    assert_eq!(Some(regs[0].sender.clone()), agent.unique_name());
    assert_eq!(agent.registered_modems(), vec!["/phonesim".to_string()]);

    // A WSP push PDU, TID first, as ofono hands it over.
    let pdu = [
        &[0x01u8, 0x06, 0x03, 0xC4, 0xAF, 0x87][..],
        b"package0-bytes",
    ]
    .concat();
    fake.deliver(&regs[0], &pdu)
        .expect("ReceiveNotification answered");
    assert_eq!(
        received.lock().unwrap().as_slice(),
        std::slice::from_ref(&pdu)
    );

    // A modem plugged in later gets the agent too.
    fake.add_modem("/usbmodem");
    let regs = fake.wait_registrations(2, Duration::from_secs(5));
    assert_eq!(regs.len(), 2, "agent registered with the hot-plugged modem");
    assert!(regs.iter().any(|r| r.modem == "/usbmodem"));

    // Release empties the agent's view; a later push is still taken.
    fake.release(&regs[0]).expect("Release answered");
    assert!(agent.registered_modems().is_empty());
    fake.deliver(&regs[1], b"\x02\x06").unwrap();
    assert_eq!(received.lock().unwrap().len(), 2);
}

#[test]
fn agent_waits_for_ofono_to_appear() {
    let bus = PrivateBus::start();
    let received: Arc<Mutex<usize>> = Arc::default();
    let sink = received.clone();
    let agent = start_agent(
        &bus.address,
        Arc::new(move |_: &[u8]| {
            *sink.lock().unwrap() += 1;
            String::new()
        }),
        Vec::new(),
    )
    .expect("starts without ofono");
    assert!(agent.registered_modems().is_empty());
    // ofono starts afterwards: NameOwnerChanged makes the agent register.
    let fake = FakeOfono::start(&bus.address, &["/ril_0"]);
    let regs = fake.wait_registrations(1, Duration::from_secs(5));
    assert_eq!(regs.len(), 1, "agent registered once ofono appeared");
    assert_eq!(regs[0].modem, "/ril_0");
    // The owner that appeared later is the one served.
    fake.deliver(&regs[0], b"\x01\x06")
        .expect("ofono's push taken");
    assert_eq!(*received.lock().unwrap(), 1);
    // ofono restarts under a new unique name: the new one is served.
    drop(fake);
    let fake = FakeOfono::start(&bus.address, &["/ril_0"]);
    let regs = fake.wait_registrations(1, Duration::from_secs(5));
    assert_eq!(regs.len(), 1, "agent registered with the restarted ofono");
    fake.deliver(&regs[0], b"\x01\x06")
        .expect("the restarted ofono's push taken");
    assert_eq!(*received.lock().unwrap(), 2);
}

/// A second connection on the bus, not the owner of `org.ofono`, calling
/// the agent the way ofono would.
fn stranger_calls(bus: &str, agent: &str, member: &str, pdu: Option<&[u8]>) -> zbus::Result<()> {
    let conn = zbus::blocking::connection::Builder::address(bus)?.build()?;
    let iface = Some("org.ofono.PushNotificationAgent");
    match pdu {
        Some(pdu) => {
            let info: std::collections::HashMap<&str, zbus::zvariant::Value<'_>> =
                std::collections::HashMap::new();
            conn.call_method(
                Some(agent),
                AGENT_PATH,
                iface,
                member,
                &(pdu.to_vec(), info),
            )
        }
        None => conn.call_method(Some(agent), AGENT_PATH, iface, member, &()),
    }
    .map(|_| ())
}

fn access_denied(r: zbus::Result<()>) -> bool {
    matches!(&r, Err(zbus::Error::MethodError(name, _, _))
        if name.as_str() == "org.freedesktop.DBus.Error.AccessDenied")
}

#[test]
fn agent_refuses_callers_that_are_not_ofono() {
    let bus = PrivateBus::start();
    let fake = FakeOfono::start(&bus.address, &["/phonesim"]);
    let received: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let sink = received.clone();
    let agent = start_agent(
        &bus.address,
        Arc::new(move |pdu: &[u8]| {
            sink.lock().unwrap().push(pdu.to_vec());
            "recorded".to_string()
        }),
        Vec::new(),
    )
    .expect("agent starts");
    let regs = fake.wait_registrations(1, Duration::from_secs(5));
    assert_eq!(regs.len(), 1);
    let name = agent.unique_name().unwrap();

    // Anyone else on the bus: refused, nothing reaches the intake, and
    // Release does not drop the registrations.
    let r = stranger_calls(
        &bus.address,
        &name,
        "ReceiveNotification",
        Some(b"\x01\x06"),
    );
    assert!(access_denied(r), "ReceiveNotification from a stranger");
    let r = stranger_calls(&bus.address, &name, "Release", None);
    assert!(access_denied(r), "Release from a stranger");
    assert!(received.lock().unwrap().is_empty());
    assert_eq!(agent.registered_modems(), vec!["/phonesim".to_string()]);

    // ofono itself is still served.
    fake.deliver(&regs[0], b"\x01\x06")
        .expect("ofono's push taken");
    assert_eq!(received.lock().unwrap().len(), 1);
}

#[test]
fn a_configured_uid_may_call_the_agent() {
    let bus = PrivateBus::start();
    let _fake = FakeOfono::start(&bus.address, &["/phonesim"]);
    let received: Arc<Mutex<usize>> = Arc::default();
    let sink = received.clone();
    // SAFETY: getuid has no preconditions.
    let own = unsafe { libc::getuid() };
    let agent = start_agent(
        &bus.address,
        Arc::new(move |_: &[u8]| {
            *sink.lock().unwrap() += 1;
            String::new()
        }),
        vec![own],
    )
    .expect("agent starts");
    let name = agent.unique_name().unwrap();
    stranger_calls(
        &bus.address,
        &name,
        "ReceiveNotification",
        Some(b"\x01\x06"),
    )
    .expect("a connection of an allowed uid is served");
    assert_eq!(*received.lock().unwrap(), 1);
}
