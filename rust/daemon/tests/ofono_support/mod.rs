//! A private dbus-daemon and a stand-in for ofono on it: `org.ofono.Manager`
//! at `/` and `org.ofono.PushNotification` on each modem, recording the
//! agents that register, so a test can call the agent back the way ofono
//! does (`ReceiveNotification(ay, a{sv})`).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zbus::blocking::connection::Builder;
use zbus::blocking::Connection;
use zbus::interface;
use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue, Value};

/// `dbus-daemon --session` on a private socket, killed on drop.
pub struct PrivateBus {
    child: Child,
    pub address: String,
}

impl PrivateBus {
    pub fn start() -> PrivateBus {
        let mut child = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus) must be installed");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_string();
        assert!(
            address.starts_with("unix:"),
            "unexpected dbus-daemon address {address:?}"
        );
        PrivateBus { child, address }
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An agent registration as ofono saw it: the caller's unique name and path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub modem: String,
    pub sender: String,
    pub agent_path: String,
}

#[derive(Default)]
pub struct Registry {
    pub registrations: Vec<Registration>,
}

struct Manager {
    modems: Arc<Mutex<Vec<String>>>,
}

fn modem_props() -> HashMap<String, OwnedValue> {
    let ifaces = vec![
        "org.ofono.Modem".to_string(),
        "org.ofono.PushNotification".to_string(),
    ];
    let mut props = HashMap::new();
    props.insert(
        "Interfaces".to_string(),
        OwnedValue::try_from(Value::from(ifaces)).unwrap(),
    );
    props.insert("Powered".to_string(), OwnedValue::from(true));
    props
}

#[interface(name = "org.ofono.Manager")]
impl Manager {
    fn get_modems(&self) -> Vec<(OwnedObjectPath, HashMap<String, OwnedValue>)> {
        self.modems
            .lock()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    OwnedObjectPath::try_from(p.as_str()).unwrap(),
                    modem_props(),
                )
            })
            .collect()
    }

    #[zbus(signal)]
    async fn modem_added(
        emitter: &SignalEmitter<'_>,
        path: ObjectPath<'_>,
        props: HashMap<String, OwnedValue>,
    ) -> zbus::Result<()>;
}

struct PushNotification {
    modem: String,
    registry: Arc<Mutex<Registry>>,
}

#[interface(name = "org.ofono.PushNotification")]
impl PushNotification {
    fn register_agent(
        &self,
        #[zbus(header)] hdr: Header<'_>,
        path: ObjectPath<'_>,
    ) -> zbus::fdo::Result<()> {
        let sender = hdr.sender().map(|s| s.to_string()).unwrap_or_default();
        let mut reg = self.registry.lock().unwrap();
        if reg.registrations.iter().any(|r| r.modem == self.modem) {
            // ofono answers InUse for a second agent on the same modem.
            return Err(zbus::fdo::Error::Failed("org.ofono.Error.InUse".into()));
        }
        reg.registrations.push(Registration {
            modem: self.modem.clone(),
            sender,
            agent_path: path.to_string(),
        });
        Ok(())
    }

    fn unregister_agent(&self, _path: ObjectPath<'_>) {
        self.registry
            .lock()
            .unwrap()
            .registrations
            .retain(|r| r.modem != self.modem);
    }
}

/// The stand-in ofono, on its own connection owning `org.ofono`.
pub struct FakeOfono {
    pub conn: Connection,
    pub registry: Arc<Mutex<Registry>>,
    modems: Arc<Mutex<Vec<String>>>,
}

impl FakeOfono {
    pub fn start(address: &str, modems: &[&str]) -> FakeOfono {
        let registry = Arc::new(Mutex::new(Registry::default()));
        let list = Arc::new(Mutex::new(
            modems.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
        ));
        let mut builder = Builder::address(address)
            .unwrap()
            .name("org.ofono")
            .unwrap()
            .serve_at(
                "/",
                Manager {
                    modems: list.clone(),
                },
            )
            .unwrap();
        for m in modems {
            builder = builder
                .serve_at(
                    *m,
                    PushNotification {
                        modem: m.to_string(),
                        registry: registry.clone(),
                    },
                )
                .unwrap();
        }
        FakeOfono {
            conn: builder.build().unwrap(),
            registry,
            modems: list,
        }
    }

    /// A modem appears (hot-plug): exported, listed, and announced.
    pub fn add_modem(&self, path: &str) {
        self.conn
            .object_server()
            .at(
                path,
                PushNotification {
                    modem: path.to_string(),
                    registry: self.registry.clone(),
                },
            )
            .unwrap();
        self.modems.lock().unwrap().push(path.to_string());
        let emitter = SignalEmitter::new(self.conn.inner(), "/").unwrap();
        zbus::block_on(Manager::modem_added(
            &emitter,
            ObjectPath::try_from(path).unwrap(),
            modem_props(),
        ))
        .unwrap();
    }

    /// Waits until `n` agents registered.
    pub fn wait_registrations(&self, n: usize, within: Duration) -> Vec<Registration> {
        let deadline = Instant::now() + within;
        loop {
            let regs = self.registry.lock().unwrap().registrations.clone();
            if regs.len() >= n || Instant::now() > deadline {
                return regs;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Calls the registered agent the way ofono delivers a WAP push.
    pub fn deliver(&self, reg: &Registration, pdu: &[u8]) -> zbus::Result<()> {
        let mut info: HashMap<&str, Value<'_>> = HashMap::new();
        info.insert("Sender", Value::from("+15550100"));
        info.insert("SentTime", Value::from("2026-11-29T03:00:00+0000"));
        info.insert("LocalSentTime", Value::from("2026-11-29T03:00:00+0000"));
        self.conn
            .call_method(
                Some(reg.sender.as_str()),
                reg.agent_path.as_str(),
                Some("org.ofono.PushNotificationAgent"),
                "ReceiveNotification",
                &(pdu.to_vec(), info),
            )
            .map(|_| ())
    }

    /// ofono drops the agent.
    pub fn release(&self, reg: &Registration) -> zbus::Result<()> {
        self.conn
            .call_method(
                Some(reg.sender.as_str()),
                reg.agent_path.as_str(),
                Some("org.ofono.PushNotificationAgent"),
                "Release",
                &(),
            )
            .map(|_| ())
    }
}
