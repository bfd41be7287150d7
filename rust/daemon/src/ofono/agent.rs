//! The D-Bus side of the ofono push agent: export, register, follow.
//!
//! ofono (`doc/pushnotification-api.txt`) hands every WAP push that arrives
//! on a modem to one registered agent: we export
//! `org.ofono.PushNotificationAgent` at [`AGENT_PATH`] and call
//! `org.ofono.PushNotification.RegisterAgent(o)` on each modem that has that
//! interface. ofono then calls `ReceiveNotification(ay pdu, a{sv} info)`
//! with the whole WSP push PDU (TID first) and `Sender`/`SentTime` in
//! `info`, and `Release()` when it drops the agent (modem gone, ofono
//! stopping). Modems that appear later (`ModemAdded`, a modem's
//! `Interfaces` property gaining `org.ofono.PushNotification`) and an ofono
//! restart (`NameOwnerChanged`) are followed, so the agent stays registered
//! without a daemon restart.
//!
//! The PDU goes to the same intake as the control socket's `push` request;
//! nothing here parses it. `info` may carry the sender's phone number: it is
//! not logged.
//!
//! Callers are checked (issue 17): the agent's object is reachable by any
//! connection the bus policy lets through, and a forged push would start a
//! resync session. Only the unique name that owns `org.ofono` (learnt with
//! GetNameOwner when registering, followed through NameOwnerChanged, and
//! asked again before a refusal in case the signal is still queued), or a
//! connection whose uid is configured (`[ofono] allowed_uids`, asked with
//! GetConnectionUnixUser), is served; others get
//! `org.freedesktop.DBus.Error.AccessDenied` and a log line.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::thread;

use zbus::blocking::connection::Builder;
use zbus::blocking::{Connection, MessageIterator};
use zbus::message::{Header, Type as MessageType};
use zbus::names::BusName;
use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue};
use zbus::{interface, MatchRule};

/// Where the agent object lives on our connection.
pub const AGENT_PATH: &str = "/org/dmnonce/PushAgent";
/// ofono's well-known bus name.
pub const OFONO_SERVICE: &str = "org.ofono";
/// The modem interface agents register with.
pub const PUSH_INTERFACE: &str = "org.ofono.PushNotification";
const MANAGER_INTERFACE: &str = "org.ofono.Manager";
const MODEM_INTERFACE: &str = "org.ofono.Modem";

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum OfonoError {
    /// The bus could not be reached, or refused us.
    #[error("D-Bus connection to the {bus} bus failed: {source}")]
    Connect {
        /// The bus setting.
        bus: String,
        /// The zbus error.
        #[source]
        source: Box<zbus::Error>,
    },
    /// A thread could not be started.
    #[error("could not start the ofono watcher thread: {0}")]
    Thread(#[from] std::io::Error),
}

impl OfonoError {
    /// Whether the bus is simply absent (no socket, nobody listening), as
    /// in containers and on systems without D-Bus: an expected state, not a
    /// fault, which the daemon reports once at info level.
    pub fn is_no_bus(&self) -> bool {
        match self {
            OfonoError::Connect { source, .. } => match source.as_ref() {
                zbus::Error::Connection(e, _) | zbus::Error::InputOutput(e) => matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                ),
                _ => false,
            },
            OfonoError::Thread(_) => false,
        }
    }
}

/// What happens to a received PDU: the daemon's push intake. Returns a
/// short outcome name for the log (no secrets, no nonces).
pub type Intake = Arc<dyn Fn(&[u8]) -> String + Send + Sync>;

/// The unique bus name that owns `org.ofono` now, as last learnt.
type Owner = Arc<Mutex<Option<String>>>;

struct Agent {
    intake: Intake,
    registered: Arc<Mutex<BTreeSet<String>>>,
    owner: Owner,
    allowed_uids: Vec<u32>,
}

impl Agent {
    /// Whether the caller of `member` is ofono (or a configured uid);
    /// AccessDenied otherwise.
    async fn check_caller(
        &self,
        header: &Header<'_>,
        conn: &zbus::Connection,
        member: &str,
    ) -> zbus::fdo::Result<()> {
        let Some(sender) = header.sender() else {
            // Only a peer-to-peer connection has no sender; we use a bus.
            log::warn!("ofono: {member} without a sender refused");
            return Err(denied(member));
        };
        if lock(&self.owner).as_deref() == Some(sender.as_str()) {
            return Ok(());
        }
        let dbus = zbus::fdo::DBusProxy::new(conn).await?;
        // ofono may have restarted and called before its NameOwnerChanged
        // reached the watcher thread: ask the bus before refusing.
        if let Ok(owner) = dbus.get_name_owner(ofono_name()?).await {
            if owner.as_str() == sender.as_str() {
                *lock(&self.owner) = Some(owner.to_string());
                return Ok(());
            }
        }
        let uid = if self.allowed_uids.is_empty() {
            None
        } else {
            dbus.get_connection_unix_user(BusName::Unique(sender.clone()))
                .await
                .ok()
        };
        if uid.is_some_and(|u| self.allowed_uids.contains(&u)) {
            return Ok(());
        }
        // A unique name is checked by zbus to be ':' and [A-Za-z0-9_.-]
        // only, so it cannot break the log line.
        log::warn!(
            "ofono: {member} from {} (uid {}) refused: not the owner of {OFONO_SERVICE} \
             nor an allowed uid",
            sender.as_str(),
            uid.map_or_else(|| "unknown".to_string(), |u| u.to_string())
        );
        Err(denied(member))
    }
}

fn ofono_name() -> zbus::fdo::Result<BusName<'static>> {
    BusName::from_static_str(OFONO_SERVICE).map_err(|e| zbus::fdo::Error::Failed(e.to_string()))
}

fn denied(member: &str) -> zbus::fdo::Error {
    zbus::fdo::Error::AccessDenied(format!("{member} is for {OFONO_SERVICE} only"))
}

#[interface(name = "org.ofono.PushNotificationAgent")]
impl Agent {
    /// A WAP push arrived on a modem: `pdu` is the WSP push PDU.
    async fn receive_notification(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &zbus::Connection,
        pdu: Vec<u8>,
        info: HashMap<String, OwnedValue>,
    ) -> zbus::fdo::Result<()> {
        self.check_caller(&header, conn, "ReceiveNotification")
            .await?;
        log::info!(
            "ofono: push of {} bytes received ({} info fields)",
            pdu.len(),
            info.len()
        );
        let outcome = (self.intake)(&pdu);
        log::info!("ofono: push handled: {outcome}");
        Ok(())
    }

    /// ofono dropped the agent (modem removed, ofono stopping).
    async fn release(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &zbus::Connection,
    ) -> zbus::fdo::Result<()> {
        self.check_caller(&header, conn, "Release").await?;
        log::info!("ofono: agent released by ofono");
        lock(&self.registered).clear();
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The running agent. Dropping it leaves the agent exported (the watcher
/// threads own clones of the connection); [`OfonoAgent::registered_modems`]
/// is for status and tests.
pub struct OfonoAgent {
    conn: Connection,
    registered: Arc<Mutex<BTreeSet<String>>>,
}

impl OfonoAgent {
    /// Modem object paths the agent is registered with.
    pub fn registered_modems(&self) -> Vec<String> {
        lock(&self.registered).iter().cloned().collect()
    }

    /// Our unique name on the bus.
    pub fn unique_name(&self) -> Option<String> {
        self.conn.unique_name().map(|n| n.to_string())
    }
}

fn connect(bus: &str, agent: Agent) -> Result<Connection, OfonoError> {
    let err = |source| OfonoError::Connect {
        bus: bus.to_string(),
        source: Box::new(source),
    };
    let builder = match bus {
        "system" => Builder::system().map_err(err)?,
        "session" => Builder::session().map_err(err)?,
        address => Builder::address(address).map_err(err)?,
    };
    builder
        .serve_at(AGENT_PATH, agent)
        .map_err(err)?
        .build()
        .map_err(err)
}

/// Connects to the bus, exports the agent, registers it with every modem
/// that has a push interface now, and follows modems and ofono restarts.
/// ofono need not be running yet: the agent registers when it appears.
/// `bus`: `"system"`, `"session"` or a D-Bus address (`unix:path=…`).
/// Calls are taken from the owner of `org.ofono` and from connections of
/// `allowed_uids` only.
pub fn start_agent(
    bus: &str,
    intake: Intake,
    allowed_uids: Vec<u32>,
) -> Result<OfonoAgent, OfonoError> {
    let registered = Arc::new(Mutex::new(BTreeSet::new()));
    let owner: Owner = Arc::default();
    let conn = connect(
        bus,
        Agent {
            intake,
            registered: registered.clone(),
            owner: owner.clone(),
            allowed_uids,
        },
    )?;
    log::info!("ofono: push agent exported at {AGENT_PATH} on the {bus} bus");

    // Subscribe before the first scan, so a modem added in between is seen.
    let ofono_signals = MatchRule::builder()
        .msg_type(MessageType::Signal)
        .sender(OFONO_SERVICE)
        .map(|b| b.build());
    // From the bus itself: anyone may emit a signal named NameOwnerChanged.
    let owner_changes = MatchRule::builder()
        .msg_type(MessageType::Signal)
        .sender("org.freedesktop.DBus")
        .and_then(|b| b.interface("org.freedesktop.DBus"))
        .and_then(|b| b.member("NameOwnerChanged"))
        .and_then(|b| b.add_arg(OFONO_SERVICE))
        .map(|b| b.build());
    let mut iterators = Vec::new();
    for rule in [ofono_signals, owner_changes] {
        match rule.and_then(|r| MessageIterator::for_match_rule(r, &conn, Some(64))) {
            Ok(it) => iterators.push(it),
            Err(e) => log::warn!("ofono: cannot follow modem changes ({e}); registering once"),
        }
    }
    register_all(&conn, &registered, &owner);
    for it in iterators {
        let (conn, registered, owner) = (conn.clone(), registered.clone(), owner.clone());
        thread::Builder::new()
            .name("ofono-watch".into())
            .spawn(move || watch(it, &conn, &registered, &owner))?;
    }
    Ok(OfonoAgent { conn, registered })
}

/// Registers with every modem ofono lists that has the push interface,
/// after learning which connection is ofono (the only caller served).
fn register_all(conn: &Connection, registered: &Mutex<BTreeSet<String>>, owner: &Owner) {
    match zbus::blocking::fdo::DBusProxy::new(conn)
        .and_then(|p| Ok(p.get_name_owner(ofono_name()?)?))
    {
        Ok(name) => *lock(owner) = Some(name.to_string()),
        Err(e) => {
            *lock(owner) = None;
            log::info!("ofono: not available yet ({e}); waiting for it to appear");
            return;
        }
    }
    let modems: Vec<(OwnedObjectPath, HashMap<String, OwnedValue>)> = match conn
        .call_method(
            Some(OFONO_SERVICE),
            "/",
            Some(MANAGER_INTERFACE),
            "GetModems",
            &(),
        )
        .and_then(|reply| reply.body().deserialize())
    {
        Ok(m) => m,
        Err(e) => {
            log::info!("ofono: not available yet ({e}); waiting for it to appear");
            return;
        }
    };
    for (path, props) in modems {
        if has_push_interface(props.get("Interfaces")) {
            register(conn, path.as_str(), registered);
        }
    }
}

fn has_push_interface(value: Option<&OwnedValue>) -> bool {
    let Some(v) = value else { return false };
    let Ok(v) = v.try_clone() else { return false };
    Vec::<String>::try_from(v).is_ok_and(|ifaces| ifaces.iter().any(|i| i == PUSH_INTERFACE))
}

fn register(conn: &Connection, modem: &str, registered: &Mutex<BTreeSet<String>>) {
    if lock(registered).contains(modem) {
        return;
    }
    let Ok(agent) = ObjectPath::try_from(AGENT_PATH) else {
        return;
    };
    match conn.call_method(
        Some(OFONO_SERVICE),
        modem,
        Some(PUSH_INTERFACE),
        "RegisterAgent",
        &(agent,),
    ) {
        Ok(_) => {
            lock(registered).insert(modem.to_string());
            log::info!("ofono: agent registered with modem {modem}");
        }
        Err(e) => log::warn!("ofono: RegisterAgent on {modem} failed: {e}"),
    }
}

/// Follows ofono's signals: new modems, changed interfaces, restarts.
fn watch(
    it: MessageIterator,
    conn: &Connection,
    registered: &Mutex<BTreeSet<String>>,
    owner: &Owner,
) {
    for msg in it {
        let Ok(msg) = msg else { continue };
        let header = msg.header();
        let member = header.member().map(|m| m.to_string()).unwrap_or_default();
        let iface = header
            .interface()
            .map(|i| i.to_string())
            .unwrap_or_default();
        let path = header.path().map(|p| p.to_string()).unwrap_or_default();
        match (iface.as_str(), member.as_str()) {
            (MANAGER_INTERFACE, "ModemAdded") => {
                if let Ok((modem, props)) = msg
                    .body()
                    .deserialize::<(OwnedObjectPath, HashMap<String, OwnedValue>)>()
                {
                    if has_push_interface(props.get("Interfaces")) {
                        register(conn, modem.as_str(), registered);
                    }
                }
            }
            (MANAGER_INTERFACE, "ModemRemoved") => {
                if let Ok(modem) = msg.body().deserialize::<OwnedObjectPath>() {
                    lock(registered).remove(modem.as_str());
                }
            }
            (MODEM_INTERFACE, "PropertyChanged") => {
                if let Ok((name, value)) = msg.body().deserialize::<(String, OwnedValue)>() {
                    if name == "Interfaces" {
                        if has_push_interface(Some(&value)) {
                            register(conn, &path, registered);
                        } else {
                            lock(registered).remove(&path);
                        }
                    }
                }
            }
            ("org.freedesktop.DBus", "NameOwnerChanged") => {
                if let Ok((_, _, new_owner)) = msg.body().deserialize::<(String, String, String)>()
                {
                    // ofono restarted (or stopped): its registrations are
                    // gone, and so is the old owner's right to call us. The
                    // new owner is asked of the bus (register_all), not
                    // taken from the signal.
                    lock(registered).clear();
                    *lock(owner) = None;
                    if !new_owner.is_empty() {
                        log::info!("ofono: service (re)appeared; registering the agent");
                        register_all(conn, registered, owner);
                    } else {
                        log::info!("ofono: service left the bus");
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_bus_is_a_typed_error() {
        let err = start_agent(
            "unix:path=/nonexistent/dmnonce-test-bus",
            Arc::new(|_: &[u8]| String::new()),
            Vec::new(),
        )
        .err()
        .expect("no bus there");
        assert!(matches!(err, OfonoError::Connect { .. }));
        assert!(err.to_string().contains("unix:path=/nonexistent"));
        assert!(
            err.is_no_bus(),
            "a missing bus socket is the expected absence: {err}"
        );
    }

    #[test]
    fn a_malformed_bus_address_is_a_fault_not_an_absent_bus() {
        // A configuration mistake is worth a warning at every start.
        let err = start_agent(
            "no-such-transport:x=y",
            Arc::new(|_: &[u8]| String::new()),
            Vec::new(),
        )
        .err()
        .expect("not an address");
        assert!(matches!(err, OfonoError::Connect { .. }));
        assert!(!err.is_no_bus(), "{err}");
    }

    #[test]
    fn push_interface_is_found_in_the_interfaces_property() {
        let with = vec![MODEM_INTERFACE.to_string(), PUSH_INTERFACE.to_string()];
        let without = vec![MODEM_INTERFACE.to_string()];
        let v = |l: Vec<String>| OwnedValue::try_from(zbus::zvariant::Value::from(l)).unwrap();
        assert!(has_push_interface(Some(&v(with))));
        assert!(!has_push_interface(Some(&v(without))));
        assert!(!has_push_interface(Some(&OwnedValue::from(true))));
        assert!(!has_push_interface(None));
    }
}
