//! The ofono push agent (issue 5 item 3b): WAP pushes from the modem stack
//! of embedded Linux reach the same intake as the control socket's `push`.
//!
//! ofono (`doc/pushnotification-api.txt`) hands every WAP push that arrives
//! on a modem to one registered agent. The agent ([`start_agent`]) exports
//! `org.ofono.PushNotificationAgent` at [`AGENT_PATH`], registers it with
//! `org.ofono.PushNotification.RegisterAgent(o)` on every modem that has
//! that interface, and follows hot-plugged modems and ofono restarts; each
//! `ReceiveNotification(ay pdu, a{sv} info)` carries the whole WSP push PDU
//! (TID first), which goes to [`crate::intake::wsp_intake`]. Only ofono
//! (the owner of `org.ofono`) and `[ofono] allowed_uids` may call it.

mod agent;

use std::sync::Arc;

pub use agent::{
    start_agent, Intake, OfonoAgent, OfonoError, AGENT_PATH, OFONO_SERVICE, PUSH_INTERFACE,
};

/// The `[ofono]` configuration section (defined with the rest of the
/// configuration).
pub use crate::config::OfonoConfig as OfonoSettings;

use crate::shared::Shared;

/// Starts the agent on the configured bus when `[ofono] enabled`; `None`
/// when disabled. ofono need not be running yet: the agent registers when
/// it appears. The returned handle reports the modems it is registered with.
pub fn spawn_agent(
    shared: Arc<Shared>,
    settings: &OfonoSettings,
) -> Result<Option<OfonoAgent>, OfonoError> {
    if !settings.enabled {
        log::info!("ofono: push agent disabled by configuration");
        return Ok(None);
    }
    start_agent(
        &settings.bus,
        Arc::new(crate::intake::wsp_intake(shared)),
        settings.allowed_uids.clone(),
    )
    .map(Some)
}
