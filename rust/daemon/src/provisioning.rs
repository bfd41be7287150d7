//! The provisioning mirror in the daemon: opened before the store so that a
//! damaged store can be rebuilt from it (docs/design.md, "Crash and corruption"),
//! kept in step with `account_add`/`account_remove`, and repaired at start.
//!
//! Ordering: the mirror is a superset of the store's accounts at every
//! instant. `account_add` writes the mirror, then the store (and takes the
//! mirror entry back if the store refuses); `account_remove` deletes from
//! the store, then from the mirror. A crash between the two steps leaves an
//! extra mirror entry; the next start hands the mirror to `Store::open`,
//! which creates the missing account, and the daemon marks it
//! `needs-resync` (the mirror keeps no nonces). So an interrupted add is
//! completed and an interrupted remove is undone — the client got no reply
//! either way — and the two files agree again.

use std::path::Path;

use dmnonce_store::{
    AccountProvisioning, AuditEvent, AuthSecret, Key, OpenOutcome, OpenReport, ProvisioningMirror,
    Store, StoreError, SyncState, UnixTime,
};

use crate::logging::peer;
use crate::shared::{lock, now, store_error, Shared};
use dmnonce_control::WireError;

/// Opens the mirror before the store. On error the store is opened alone
/// (with no provisioning data) and [`settle`] deals with the mirror.
pub(crate) fn open(path: &Path, key: &Key) -> Result<ProvisioningMirror, StoreError> {
    let mirror = ProvisioningMirror::open(path, key);
    if let Err(e) = &mirror {
        log::error!("provisioning mirror {}: {e}", path.display());
    }
    mirror
}

/// After the store opened: replaces a damaged mirror (the store opening with
/// the same key proves the key right), marks accounts the store took from
/// the mirror on a healthy open as `needs-resync`, copies store accounts the
/// mirror lacks into it, and audits what happened. `None` only when no
/// mirror could be made; the daemon then runs on the store alone.
pub(crate) fn settle(
    opened: Result<ProvisioningMirror, StoreError>,
    path: &Path,
    key: &Key,
    store: &Store,
    report: &OpenReport,
    at: UnixTime,
) -> Option<ProvisioningMirror> {
    let audit = |detail: &str| {
        if let Err(e) = store.append_audit(None, AuditEvent::Daemon, detail, at) {
            log::warn!("audit log: {e}");
        }
    };
    let mirror = match opened {
        Ok(m) => m,
        Err(e @ (StoreError::WrongKey { .. } | StoreError::ProvisioningDamaged { .. })) => {
            match ProvisioningMirror::replace_damaged(path, key, at) {
                Ok((m, moved)) => {
                    let names: Vec<String> =
                        moved.iter().map(|p| p.display().to_string()).collect();
                    let msg = format!(
                        "provisioning mirror damaged ({e}); moved aside as {}; rebuilt from the store",
                        names.join(", ")
                    );
                    log::error!("{msg}");
                    audit(&msg);
                    m
                }
                Err(e2) => {
                    return without_mirror(&format!("{e}; replacing it failed: {e2}"), audit)
                }
            }
        }
        Err(e) => return without_mirror(&e.to_string(), audit),
    };
    if report.outcome == OpenOutcome::Opened || report.outcome == OpenOutcome::Created {
        // A healthy store created these from the mirror: an add or remove
        // was interrupted between its two steps. Their nonces are unknown.
        for id in &report.provisioned {
            if let Err(e) = store.set_state(id, SyncState::NeedsResync, at) {
                log::warn!("account {}: {e}", peer(id));
            }
            let msg = "account restored from the provisioning mirror after an interrupted \
                       add/remove; marked needs-resync";
            log::warn!("account {}: {msg}", peer(id));
            if let Err(e) = store.append_audit(Some(id), AuditEvent::Daemon, msg, at) {
                log::warn!("audit log: {e}");
            }
        }
    }
    match mirror.reconcile(store) {
        Ok(sync) => {
            if !sync.added.is_empty() {
                log::info!(
                    "provisioning mirror: copied {} account(s) from the store",
                    sync.added.len()
                );
            }
            for id in &sync.secrets_updated {
                // A stop between the mirror and the store write of a
                // server-secret rotation: the store is authoritative.
                log::info!(
                    "account {}: provisioning mirror's server secrets set to the store's",
                    peer(id)
                );
            }
        }
        Err(e) => log::error!("provisioning mirror could not be filled from the store: {e}"),
    }
    Some(mirror)
}

fn without_mirror(why: &str, audit: impl Fn(&str)) -> Option<ProvisioningMirror> {
    let msg = format!(
        "provisioning mirror unusable ({why}); running on the store alone: \
         a damaged store could not be rebuilt with its accounts"
    );
    log::error!("{msg}");
    audit(&msg);
    None
}

/// `account_add`: mirror first, then the store; a refused store write takes
/// back the mirror entry this call made.
pub(crate) fn add(shared: &Shared, p: &AccountProvisioning) -> Result<(), WireError> {
    let mirror = lock(&shared.provisioning);
    // Refused input must not reach the mirror: a crash before its entry is
    // taken back would bring the account in at the next start. The lock
    // held here keeps another add from slipping in before the store write.
    shared.store.check_new_account(p).map_err(store_error)?;
    let inserted = match mirror.as_ref() {
        Some(m) => m.insert_if_absent(p).map_err(store_error)?,
        None => {
            log::warn!(
                "account {}: no provisioning mirror; added to the store only",
                peer(&p.server_id)
            );
            false
        }
    };
    if let Err(e) = shared.store.create_account(p, now()) {
        if let (true, Some(m)) = (inserted, mirror.as_ref()) {
            if let Err(e2) = m.remove(&p.server_id) {
                log::error!("account {}: provisioning mirror: {e2}", peer(&p.server_id));
            }
        }
        return Err(store_error(e));
    }
    Ok(())
}

/// `account_remove`: the store first, then the mirror.
pub(crate) fn remove(shared: &Shared, server_id: &str) -> Result<(), WireError> {
    let mirror = lock(&shared.provisioning);
    shared
        .store
        .delete_account(server_id, now())
        .map_err(store_error)?;
    if let Some(m) = mirror.as_ref() {
        if let Err(e) = m.remove(server_id) {
            // The store delete stands; the next start brings the account back
            // from the mirror (as needs-resync), as after a crash here.
            log::error!("account {}: provisioning mirror: {e}", peer(server_id));
            return Err(store_error(e));
        }
    }
    Ok(())
}

/// Records a server-secret rotation (or the retirement of the previous
/// secret) in the mirror. A failure is logged, not fatal: the store stays
/// authoritative and the next start reconciles the mirror with it.
pub(crate) fn mirror_server_secrets(
    shared: &Shared,
    server_id: &str,
    current: &AuthSecret,
    previous: Option<&AuthSecret>,
) {
    let mirror = lock(&shared.provisioning);
    if let Some(m) = mirror.as_ref() {
        if let Err(e) = m.set_server_secrets(server_id, current, previous) {
            log::error!("account {}: provisioning mirror: {e}", peer(server_id));
        }
    }
}
