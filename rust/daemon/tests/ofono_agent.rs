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
    let agent = start_agent(&bus.address, Arc::new(|_: &[u8]| String::new()))
        .expect("starts without ofono");
    assert!(agent.registered_modems().is_empty());
    // ofono starts afterwards: NameOwnerChanged makes the agent register.
    let fake = FakeOfono::start(&bus.address, &["/ril_0"]);
    let regs = fake.wait_registrations(1, Duration::from_secs(5));
    assert_eq!(regs.len(), 1, "agent registered once ofono appeared");
    assert_eq!(regs[0].modem, "/ril_0");
}
