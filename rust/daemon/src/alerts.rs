//! Alerts nobody was listening for. A stored-nonce Package #0 that arrives
//! while no DM client is subscribed (the client starts later, or restarts)
//! is kept as pending work in the store and handed to the next subscriber
//! that takes `alert` events, so the server's request for a session is not
//! lost. At most [`MAX_HELD`] are kept (the oldest go first): a stored-nonce
//! notification can be replayed by anyone who captured it.

use dmnonce_control::{Event, VerdictName};
use dmnonce_proto::Package0;
use dmnonce_store::{PendingKind, UnixTime};

use crate::shared::Shared;

/// Alerts held at most.
pub const MAX_HELD: usize = 16;

/// Keeps an alert for the next subscriber.
pub(crate) fn hold(shared: &Shared, server_id: &str, package0: &[u8], t: UnixTime) {
    let shown = crate::logging::peer(server_id);
    let held: Vec<_> = match shared.store.pending() {
        Ok(p) => p
            .into_iter()
            .filter(|w| w.kind == PendingKind::ClientAlert)
            .collect(),
        Err(e) => {
            log::warn!("{shown}: alert not kept (store: {e})");
            return;
        }
    };
    for old in held.iter().take((held.len() + 1).saturating_sub(MAX_HELD)) {
        match shared.store.complete_pending(old.id) {
            // A subscriber took it meanwhile: one fewer to drop.
            Ok(()) | Err(dmnonce_store::StoreError::UnknownPending(_)) => {}
            Err(e) => shared.store_failed("the removal of the oldest held alert", &e),
        }
    }
    match shared
        .store
        .record_pending(server_id, PendingKind::ClientAlert, package0, t)
    {
        Ok(_) => log::info!("{shown}: no subscriber for alerts; alert kept for the next one"),
        Err(e) => log::warn!("{shown}: alert not kept (store: {e})"),
    }
}

/// The held alerts as events, oldest first; each is removed from the store
/// once taken (the caller sends them).
pub(crate) fn take_held(shared: &Shared) -> Vec<Event> {
    let Ok(pending) = shared.store.pending() else {
        return Vec::new();
    };
    let mut events = Vec::new();
    for w in pending
        .into_iter()
        .filter(|w| w.kind == PendingKind::ClientAlert)
    {
        if shared.store.complete_pending(w.id).is_err() {
            continue; // another subscriber took it
        }
        match Package0::decode(&w.payload) {
            Ok(pkg) => events.push(Event::Alert {
                notification: crate::vocabulary::notification_info(&pkg),
                verdict: VerdictName::StoredNonce,
            }),
            Err(e) => log::warn!("held alert unreadable ({e}); dropped"),
        }
    }
    events
}
