//! Which stored secret and nonce the server authenticated with.
//!
//! Both the server→device AuthSecret and the server nonce rotate in two
//! phases (see `dmnonce_store::SecretSlot` and `ServerNonceSlot`): until the
//! server is seen using the new value, the previous one stays valid. So a
//! Package #0 or a server credential is tried with every (secret, nonce)
//! pair, newest first; `dmnonce_proto::verify_with_secrets` owns that
//! order, and the default-nonce readings of the change request after it.

use dmnonce_proto::{verify_with_secrets, DefaultNonce, Package0, Verdict};
use dmnonce_store::{
    AccountSecrets, AccountView, Nonce, SecretSlot, ServerNonceCandidate, StoreError, UnixTime,
};

use crate::decision::tries_default_nonce;
use crate::shared::Shared;

/// The outcome of verifying a Package #0 against an account.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The verdict (`Stored { index }` indexes `nonces`).
    pub verdict: Verdict,
    /// The stored server nonces tried, current first.
    pub nonces: Vec<ServerNonceCandidate>,
    /// The secret that verified (meaningless when rejected).
    pub secret: SecretSlot,
}

/// Verifies `pkg` against the stored secrets and nonces of its account and,
/// when its policy allows, the configured default-nonce readings. No side
/// effects (the `verify` request, the push path and the resume of a pending
/// session share it).
pub fn verify_for_account(shared: &Shared, pkg: &Package0) -> Result<Verification, StoreError> {
    let view = shared.store.account_view(&pkg.notification.server_id)?;
    Ok(verify_with_view(shared, pkg, &view))
}

/// [`verify_for_account`] for an account already read.
pub fn verify_with_view(shared: &Shared, pkg: &Package0, view: &AccountView) -> Verification {
    let secrets = view.secrets.server_secret_candidates();
    let nonces = view.nonces.server_nonce_candidates();
    let stored: Vec<&[u8]> = nonces.iter().map(|c| c.nonce.expose()).collect();
    let keys: Vec<&[u8]> = secrets.iter().map(|s| s.secret.expose()).collect();
    let readings: &[DefaultNonce] = if tries_default_nonce(view.account.policy) {
        &shared.config.fallback.readings
    } else {
        &[]
    };
    let found = verify_with_secrets(pkg, &keys, &stored, readings);
    let secret = found
        .secret
        .map_or(SecretSlot::Current, |i| secrets[i].slot);
    Verification {
        verdict: found.verdict,
        nonces,
        secret,
    }
}

/// The first (secret, nonce) pair, newest first, for which `check` holds.
pub fn find_server_credential<'a>(
    secrets: &AccountSecrets,
    nonces: &'a [ServerNonceCandidate],
    mut check: impl FnMut(&[u8], &[u8]) -> bool,
) -> Option<(SecretSlot, &'a ServerNonceCandidate)> {
    for s in secrets.server_secret_candidates() {
        if let Some(n) = nonces
            .iter()
            .find(|n| check(s.secret.expose(), n.nonce.expose()))
        {
            return Some((s.slot, n));
        }
    }
    None
}

/// The server authenticated with the secret in `slot` and, where the
/// message carried one, the stored server `nonce`: the two-phase rotations
/// retire what it no longer uses. A store error is logged and counted, not
/// returned: the message was authentic either way, and the next one
/// retries.
pub fn confirm_seen(
    shared: &Shared,
    server_id: &str,
    slot: SecretSlot,
    nonce: Option<&Nonce>,
    now: UnixTime,
) {
    let shown = crate::logging::peer(server_id);
    match shared
        .store
        .confirm_server_seen(server_id, slot, nonce, now)
    {
        Ok((dmnonce_store::SecretConfirmation::RetiredPrevious, _)) => {
            log::info!("{shown}: server uses its new AuthSecret; the previous one retired");
            // Store first, then the mirror: until then the mirror keeps
            // one secret more, which is the safe side.
            match shared.store.account_secrets(server_id) {
                Ok(s) => crate::provisioning::mirror_server_secrets(
                    shared,
                    server_id,
                    &s.server_secret,
                    None,
                ),
                Err(e) => log::warn!("{shown}: provisioning mirror not updated: {e}"),
            }
        }
        Ok((dmnonce_store::SecretConfirmation::Unchanged, _)) => {}
        Err(e) => shared.store_failed("the server secret and nonce confirmation", &e),
    }
}
