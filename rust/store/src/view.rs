//! One account as a request needs it — the row, its secrets and its
//! nonces — read in one transaction, so a push or a credential call sees a
//! single consistent state and takes the store's lock once.

use crate::accounts::account_id;
use crate::accounts::{read_account, read_secrets};
use crate::nonces::read_row;
use crate::{Account, AccountSecrets, NonceSet, Result, Store};

/// An account with everything the daemon computes digests with. In-process
/// use only: never send the secrets or nonces anywhere.
#[derive(Debug, Clone)]
pub struct AccountView {
    /// The account, without its secrets.
    pub account: Account,
    /// Its user name and AuthSecrets.
    pub secrets: AccountSecrets,
    /// Its nonces.
    pub nonces: NonceSet,
}

impl Store {
    /// The account with this server id, its secrets and its nonces, in one
    /// read transaction ([`crate::StoreError::UnknownAccount`] if absent).
    pub fn account_view(&self, server_id: &str) -> Result<AccountView> {
        self.read(|tx| {
            Ok(AccountView {
                account: read_account(tx, server_id)?,
                secrets: read_secrets(tx, server_id)?,
                nonces: read_row(tx, account_id(tx, server_id)?)?,
            })
        })
    }
}
