//! The SyncML DM endpoint (interim: the server session lands with rust/syncml's server role).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::app::App;
use crate::http::{Request, Response};

/// DM sessions in flight, by client name.
#[derive(Default)]
pub struct Sessions {
    active: Mutex<HashMap<String, u16>>,
}

impl Sessions {
    /// Whether a session with this device is in flight.
    pub fn is_active(&self, name: &str) -> bool {
        self.active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(name)
    }
    /// Forgets every session.
    pub fn clear(&self) {
        self.active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// `POST /dm`.
pub fn handle(_app: &App, _req: &Request) -> Response {
    Response::error(503, "server session not wired yet")
}
