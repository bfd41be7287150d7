//! Package #0 for the server role, with the change request's fallback:
//! first signed with the stored server nonce; if the caller's timer says
//! no session followed, once more signed with the default nonce (reading
//! configurable, see docs/syncml.md).

use dmnonce_proto::{Notification, Package0Error};

use crate::{DefaultNonce, Nonce, Secret};

/// Which nonce a Package #0 was signed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyAttempt {
    /// The stored server nonce.
    StoredNonce,
    /// The default nonce (resync fallback).
    DefaultNonce(DefaultNonce),
}

/// Signs Package #0s for one account.
#[derive(Clone, Debug)]
pub struct ServerNotifier {
    /// The trigger fields (server id, session id, ui-mode, …).
    pub notification: Notification,
    /// The server's secret towards the client (SRVCRED AAuthSecret).
    pub server_secret: Secret,
    /// The default-nonce reading for the fallback.
    pub default_nonce: DefaultNonce,
}

impl ServerNotifier {
    /// Package #0 signed with the stored server nonce.
    pub fn with_stored_nonce(&self, stored: &Nonce) -> Result<Vec<u8>, Package0Error> {
        self.notification
            .sign(self.server_secret.as_bytes(), stored.as_bytes())
    }
    /// Package #0 signed with the default nonce.
    pub fn with_default_nonce(&self) -> Result<Vec<u8>, Package0Error> {
        self.notification
            .sign(self.server_secret.as_bytes(), self.default_nonce.bytes())
    }
}

/// The notification schedule of one session: stored nonce first, the
/// default nonce once after the fallback timeout (measured by the caller).
#[derive(Clone, Debug)]
pub struct NotificationPlan {
    notifier: ServerNotifier,
    stored: Option<Nonce>,
    fell_back: bool,
}

impl NotificationPlan {
    /// A plan; `stored` is `None` when the server has no nonce for the
    /// device (then the first Package #0 already uses the default nonce).
    pub fn new(notifier: ServerNotifier, stored: Option<Nonce>) -> NotificationPlan {
        NotificationPlan {
            notifier,
            stored,
            fell_back: false,
        }
    }

    /// The first Package #0.
    pub fn first(&mut self) -> Result<(NotifyAttempt, Vec<u8>), Package0Error> {
        match &self.stored {
            Some(n) => Ok((
                NotifyAttempt::StoredNonce,
                self.notifier.with_stored_nonce(n)?,
            )),
            None => self.fallback(),
        }
    }

    /// The caller's fallback timer elapsed without a session: the
    /// default-nonce Package #0, once; `None` when it was already sent.
    pub fn on_timeout(&mut self) -> Result<Option<(NotifyAttempt, Vec<u8>)>, Package0Error> {
        if self.fell_back {
            return Ok(None);
        }
        self.fallback().map(Some)
    }

    /// Whether the default nonce has been used, so a session arriving now
    /// is a resync session ([`crate::ServerSession`]).
    pub fn fell_back(&self) -> bool {
        self.fell_back
    }

    fn fallback(&mut self) -> Result<(NotifyAttempt, Vec<u8>), Package0Error> {
        let pkg = self.notifier.with_default_nonce()?;
        self.fell_back = true;
        Ok((
            NotifyAttempt::DefaultNonce(self.notifier.default_nonce),
            pkg,
        ))
    }
}
