//! The JSON admin API (loopback test use only): device accounts,
//! notifications, snapshot and restore. Answers never carry a secret or a
//! nonce; notifications carry only the Package #0 the device needs anyway.

use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::fault::{Armed, FaultAction};
use crate::http::{Request, Response};
use crate::notify::{self, NonceChoice, NotifyError};
use crate::state::{Device, Issued, Scheme, StoredNonce, Wire};
use crate::timeline::now_ms;

/// `Content-Type` of a notification body (raw Package #0 or WSP PDU).
pub const NOTIFICATION_TYPE: &str = "application/vnd.syncml.notification";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewDevice {
    client_name: String,
    server_password: String,
    client_password: String,
    #[serde(default = "md5")]
    auth_scheme: Scheme,
    #[serde(default = "xml")]
    encoding: Wire,
    server_nonce_b64: Option<String>,
    client_nonce_b64: Option<String>,
}

fn md5() -> Scheme {
    Scheme::Md5
}
fn xml() -> Wire {
    Wire::Xml
}

#[derive(Deserialize)]
struct NotifyRequest {
    client_name: String,
    #[serde(default = "stored")]
    nonce: String,
    session_id: Option<u16>,
    #[serde(default)]
    wsp: bool,
    /// Also hand the bytes to `--deliver-cmd` and arm the automatic fallback.
    #[serde(default)]
    deliver: bool,
}

fn stored() -> String {
    "stored".into()
}

/// Routes `/admin/...`.
pub fn handle(app: &App, req: &Request) -> Response {
    let path = req.path.trim_end_matches('/');
    match (req.method.as_str(), path) {
        ("POST", "/admin/devices") => add_device(app, req),
        ("GET", p) if p.starts_with("/admin/devices/") => {
            device_info(app, &p["/admin/devices/".len()..])
        }
        ("POST", "/admin/notify") => notify(app, req),
        ("POST", "/admin/snapshot") => snapshot(app),
        ("POST", "/admin/restore") => restore(app),
        ("POST", "/admin/fault") => arm_fault(app, req),
        (
            _,
            "/admin/devices" | "/admin/notify" | "/admin/snapshot" | "/admin/restore"
            | "/admin/fault",
        ) => Response::error(405, "method not allowed"),
        _ => Response::error(404, "no such admin resource"),
    }
}

fn add_device(app: &App, req: &Request) -> Response {
    let spec: NewDevice = match serde_json::from_slice(&req.body) {
        Ok(s) => s,
        Err(e) => return Response::error(400, format!("bad device JSON: {e}")),
    };
    if spec.client_name.is_empty() || spec.client_name.contains('/') {
        return Response::error(400, "client_name must be non-empty and contain no '/'");
    }
    let nonce = |field: &Option<String>, name: &str| match field {
        None => Ok(None),
        Some(t) => StoredNonce::from_b64(t)
            .map(Some)
            .map_err(|_| Response::error(400, format!("{name} is not Base64"))),
    };
    let server_nonce = match nonce(&spec.server_nonce_b64, "server_nonce_b64") {
        Ok(n) => n,
        Err(r) => return r,
    };
    let client_nonce = match nonce(&spec.client_nonce_b64, "client_nonce_b64") {
        Ok(n) => n,
        Err(r) => return r,
    };
    let device = Device {
        client_name: spec.client_name.clone(),
        server_password: spec.server_password,
        client_password: spec.client_password,
        auth_scheme: spec.auth_scheme,
        encoding: spec.encoding,
        server_nonce,
        client_nonce,
        sessions_completed: 0,
        resyncs_completed: 0,
        last_session_id: None,
        last_session_started_ms: None,
        last_error: None,
        pending: None,
    };
    let result = app.update(|state| {
        if state.devices.contains_key(&device.client_name) {
            return Err(Response::error(
                409,
                "a device with this client_name exists",
            ));
        }
        state
            .devices
            .insert(device.client_name.clone(), device.clone());
        Ok(())
    });
    match result {
        Ok(()) => {
            log::info!(
                "device {} provisioned ({:?}, {:?}; server nonce {}, client nonce {})",
                spec.client_name,
                spec.auth_scheme,
                spec.encoding,
                if spec.server_nonce_b64.is_some() {
                    "bootstrapped"
                } else {
                    "none"
                },
                if spec.client_nonce_b64.is_some() {
                    "bootstrapped"
                } else {
                    "none"
                },
            );
            Response::json(201, &json!({ "client_name": spec.client_name }))
        }
        Err(e) => e.into(),
    }
}

fn device_info(app: &App, name: &str) -> Response {
    let state = app.state();
    match state.devices.get(name) {
        None => Response::error(404, "no such device"),
        Some(d) => Response::json(
            200,
            &json!({
                "client_name": d.client_name,
                "sessions_completed": d.sessions_completed,
                "last_session_id": d.last_session_id,
                "resyncs_completed": d.resyncs_completed,
                "last_error": d.last_error,
                "notification_pending": d.pending.is_some(),
                "session_active": app.session_active(name),
            }),
        ),
    }
}

fn notify(app: &App, req: &Request) -> Response {
    let spec: NotifyRequest = match serde_json::from_slice(&req.body) {
        Ok(s) => s,
        Err(e) => return Response::error(400, format!("bad notify JSON: {e}")),
    };
    let Some(choice) = NonceChoice::parse(&spec.nonce) else {
        return Response::error(400, "nonce must be stored, text, zero or auto");
    };
    match app.notify(
        &spec.client_name,
        choice,
        spec.session_id,
        spec.wsp,
        spec.deliver,
    ) {
        Ok((bytes, signed, session_id)) => {
            let mut resp = Response::new(200, NOTIFICATION_TYPE, bytes);
            resp.headers
                .push(("X-Dmnonce-Nonce".into(), signed.label().into()));
            resp.headers
                .push(("X-Dmnonce-Session-Id".into(), session_id.to_string()));
            resp
        }
        Err(NotifyFailure::UnknownDevice) => Response::error(404, "no such device"),
        Err(NotifyFailure::Notify(NotifyError::NoStoredNonce)) => Response::error(
            409,
            "the device has no stored server nonce; use nonce text, zero or auto",
        ),
        Err(NotifyFailure::Notify(NotifyError::Encode(e))) => Response::error(400, e),
        Err(NotifyFailure::Delivery(e)) => {
            Response::error(500, format!("delivery hook failed: {e:#}"))
        }
        Err(NotifyFailure::Store(e)) => Response::error(500, format!("state not saved: {e:#}")),
    }
}

/// Why `App::notify` failed.
pub enum NotifyFailure {
    /// No such client name.
    UnknownDevice,
    /// The notification could not be made.
    Notify(NotifyError),
    /// The hook failed (the notification was made and recorded).
    Delivery(anyhow::Error),
    /// The state file could not be written.
    Store(anyhow::Error),
}

impl App {
    /// Makes (and optionally delivers) a notification for `name`.
    pub fn notify(
        &self,
        name: &str,
        choice: NonceChoice,
        session_id: Option<u16>,
        wsp: bool,
        deliver: bool,
    ) -> Result<(Vec<u8>, notify::Signed, u16), NotifyFailure> {
        let cfg = &self.config;
        let now = now_ms();
        let mut seed = [0u8; 2];
        getrandom::fill(&mut seed)
            .map_err(|e| NotifyFailure::Store(anyhow::anyhow!("random source: {e}")))?;
        let random = u16::from_be_bytes(seed);
        let made = self.update(|state| {
            let sid = session_id.unwrap_or_else(|| state.allocate_session_id(random));
            let device = state
                .devices
                .get_mut(name)
                .ok_or(NotifyFailure::UnknownDevice)?;
            let signed = notify::decide(
                device,
                choice,
                cfg.default_nonce,
                sid,
                now,
                cfg.fallback_after_ms,
            )
            .map_err(NotifyFailure::Notify)?;
            let bytes = notify::build(device, &cfg.server_id, sid, signed, wsp)
                .map_err(NotifyFailure::Notify)?;
            if deliver {
                if let Some(p) = device.pending.as_mut() {
                    p.deliver_wsp = Some(wsp);
                }
            }
            let issued = Issued {
                client_name: name.to_string(),
                signed: signed.label().into(),
                at_ms: now,
            };
            if let notify::Signed::Default(_) = signed {
                state.default_nonce_ids.insert(sid);
            }
            state.record_issued(sid, issued);
            Ok((bytes, signed, sid))
        });
        let (bytes, signed, sid) = match made {
            Ok(m) => m,
            Err(UpdateError::Handler(f)) => return Err(f),
            Err(UpdateError::Store(e)) => return Err(NotifyFailure::Store(e)),
        };
        log::info!(
            "Pkg#0 for {name}: session {sid:X}, signed with the {} nonce{}{}",
            signed.label(),
            if wsp { ", in a WSP push" } else { "" },
            if deliver {
                ", through the delivery hook"
            } else {
                ""
            },
        );
        if deliver {
            let Some(cmd) = cfg.deliver_cmd.as_deref() else {
                return Err(NotifyFailure::Delivery(anyhow::anyhow!(
                    "no --deliver-cmd configured"
                )));
            };
            notify::deliver(cmd, &bytes, name, signed, wsp).map_err(NotifyFailure::Delivery)?;
            log::info!("Pkg#0 {sid:X} delivered to {name}");
        }
        Ok((bytes, signed, sid))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    after_pkg: u32,
    action: String,
    #[serde(default)]
    outage_ms: u64,
}

fn arm_fault(app: &App, req: &Request) -> Response {
    let spec: FaultRequest = match serde_json::from_slice(&req.body) {
        Ok(s) => s,
        Err(e) => return Response::error(400, format!("bad fault JSON: {e}")),
    };
    let action = match spec.action.as_str() {
        "outage" if spec.outage_ms > 0 => FaultAction::Outage { ms: spec.outage_ms },
        "crash" => FaultAction::Crash,
        _ => return Response::error(400, "action must be outage (with outage_ms > 0) or crash"),
    };
    if spec.after_pkg == 0 || spec.after_pkg % 2 == 1 {
        return Response::error(400, "after_pkg names a server package: 2, 4, ...");
    }
    app.faults.arm(Armed {
        after_pkg: spec.after_pkg,
        action,
    });
    log::info!(
        "fault armed: {action:?} after the next Pkg#{}",
        spec.after_pkg
    );
    Response::json(200, &json!({ "armed": true }))
}

fn snapshot(app: &App) -> Response {
    let state = app.state().clone();
    match app.file.snapshot(&state) {
        Ok(()) => {
            log::info!(
                "snapshot taken ({} devices): the \"backup\"",
                state.devices.len()
            );
            Response::json(200, &json!({ "devices": state.devices.len() }))
        }
        Err(e) => Response::error(500, format!("snapshot failed: {e:#}")),
    }
}

fn restore(app: &App) -> Response {
    match app.restore() {
        Ok(n) => {
            log::info!(
                "state restored from the snapshot ({n} devices): server now holds the older nonces"
            );
            Response::json(200, &json!({ "devices": n }))
        }
        Err(e) => Response::error(409, format!("restore failed: {e:#}")),
    }
}

/// A failed [`App::update`].
pub enum UpdateError<E> {
    /// The closure refused.
    Handler(E),
    /// The new state could not be saved (nothing changed).
    Store(anyhow::Error),
}

impl From<UpdateError<Response>> for Response {
    fn from(e: UpdateError<Response>) -> Response {
        match e {
            UpdateError::Handler(r) => r,
            UpdateError::Store(e) => Response::error(500, format!("state not saved: {e:#}")),
        }
    }
}
