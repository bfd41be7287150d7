//! Account model: the DMAcc fields dmnonce needs, and the enums stored as
//! text in the database.

use rusqlite::types::{ToSqlOutput, ValueRef};

use crate::{AuthSecret, Nonce, Result, StoreError, UnixTime};

/// Longest server identifier: Package #0 carries its length in 8 bits.
pub const MAX_SERVER_ID_LEN: usize = 255;

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident, $column:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// The stable text form (used in the database, the CLI and logs).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub(crate) fn from_column(s: &str) -> Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(StoreError::CorruptValue { column: $column }),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(StoreError::InvalidInput { field: $column, reason: "unknown value" }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// How DM messages of this account are authenticated.
    AuthScheme, "auth_scheme" {
        /// `syncml:auth-md5` credentials in `SyncHdr/Cred`.
        Md5 = "md5",
        /// `x-syncml-hmac` transport header.
        Hmac = "hmac",
        /// `syncml:auth-basic` (HTTPS only).
        Basic = "basic",
    }
);
text_enum!(
    /// SyncML DM message encoding.
    Encoding, "encoding" {
        /// `application/vnd.syncml.dm+xml`.
        Xml = "xml",
        /// `application/vnd.syncml.dm+wbxml`.
        Wbxml = "wbxml",
    }
);
text_enum!(
    /// Whether the default-nonce fallback of the change request may be used.
    Policy, "policy" {
        /// Fallback allowed (bounded by the replay cache and the rate limit).
        Allow = "allow",
        /// Fallback refused: a stale nonce needs operator action.
        Deny = "deny",
    }
);
text_enum!(
    /// Nonce synchronization state of an account.
    SyncState, "state" {
        /// Nonces believed to match the server's.
        InSync = "in-sync",
        /// Nonces known lost or stale (e.g. after store recovery).
        NeedsResync = "needs-resync",
        /// A default-nonce resync session was accepted and has not finished.
        Resyncing = "resyncing",
    }
);

/// The columns of an [`AccountProvisioning`] that the store's `accounts`
/// table and the provisioning mirror's `provisioning` table both hold, in
/// the order of [`AccountProvisioning::column_values`]; a macro so that
/// `concat!` can build each table's `INSERT` from it.
macro_rules! provisioning_columns {
    () => {
        "server_id, server_url, client_name, client_secret, server_secret, \
         server_secret_previous, auth_scheme, encoding, policy"
    };
}
pub(crate) use provisioning_columns;

/// Everything needed to create an account (from the daemon's provisioning
/// configuration or `dmnoncectl`). Also used by [`crate::Store::open`] to
/// re-create accounts after a damaged store was set aside.
#[derive(Debug, Clone)]
pub struct AccountProvisioning {
    /// DM server identifier (`ServerID`, as in Package #0), 1–255 bytes.
    pub server_id: String,
    /// Server URL (`AddrType`/`Addr`).
    pub server_url: String,
    /// The device's user name towards the server (`AAuthName` of `CLCRED`).
    pub client_name: String,
    /// Device→server AuthSecret (`CLCRED`), used in our credentials.
    pub client_secret: AuthSecret,
    /// Server→device AuthSecret (`SRVCRED`), used to check Package #0 and the
    /// server's credentials.
    pub server_secret: AuthSecret,
    /// Server→device AuthSecret replaced by a rotation that the server may
    /// not have taken into use yet (kept by the provisioning mirror for
    /// recovery; `None` when provisioning a new account).
    pub server_secret_previous: Option<AuthSecret>,
    /// Authentication scheme.
    pub auth_scheme: AuthScheme,
    /// Message encoding.
    pub encoding: Encoding,
    /// Default-nonce fallback policy.
    pub policy: Policy,
    /// Initial client nonce (`AAuthData` of `CLCRED`), if bootstrapped.
    pub client_nonce: Option<Nonce>,
    /// Initial server nonce (`AAuthData` of `SRVCRED`), if bootstrapped.
    pub server_nonce: Option<Nonce>,
}

impl AccountProvisioning {
    /// The values of [`provisioning_columns!`], in its order, borrowed: the
    /// secrets are bound as BLOBs straight from their zeroized buffers, never
    /// copied.
    pub(crate) fn column_values(&self) -> [ToSqlOutput<'_>; 9] {
        fn text(s: &str) -> ToSqlOutput<'_> {
            ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
        }
        fn blob(b: &[u8]) -> ToSqlOutput<'_> {
            ToSqlOutput::Borrowed(ValueRef::Blob(b))
        }
        [
            text(&self.server_id),
            text(&self.server_url),
            text(&self.client_name),
            blob(self.client_secret.expose()),
            blob(self.server_secret.expose()),
            self.server_secret_previous
                .as_ref()
                .map_or(ToSqlOutput::Borrowed(ValueRef::Null), |s| blob(s.expose())),
            text(self.auth_scheme.as_str()),
            text(self.encoding.as_str()),
            text(self.policy.as_str()),
        ]
    }

    /// The rules for an account created now ([`crate::text`]): printable
    /// server id and client name without surrounding whitespace, a URL
    /// that parses. Accounts restored from the provisioning mirror get only
    /// [`AccountProvisioning::validate`]: they were checked when created,
    /// and a rule added later must not lose one in a recovery.
    pub fn validate_new(&self) -> Result<()> {
        crate::text::validate_identifier("server_id", &self.server_id)?;
        crate::text::validate_identifier("client_name", &self.client_name)?;
        crate::text::parse_server_url(&self.server_url).map(|_| ())
    }

    pub(crate) fn validate(&self) -> Result<()> {
        validate_server_id(&self.server_id)?;
        validate_text("server_url", &self.server_url)?;
        validate_text("client_name", &self.client_name)
    }
}

pub(crate) fn validate_server_id(id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(StoreError::InvalidInput {
            field: "server_id",
            reason: "empty",
        });
    }
    if id.len() > MAX_SERVER_ID_LEN {
        return Err(StoreError::InvalidInput {
            field: "server_id",
            reason: "longer than 255 bytes",
        });
    }
    Ok(())
}

pub(crate) fn validate_text(field: &'static str, s: &str) -> Result<()> {
    if s.is_empty() {
        return Err(StoreError::InvalidInput {
            field,
            reason: "empty",
        });
    }
    if s.len() > 4096 || s.chars().any(char::is_control) {
        return Err(StoreError::InvalidInput {
            field,
            reason: "too long or contains control characters",
        });
    }
    Ok(())
}

/// An account without its secrets (safe to show in status output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// DM server identifier.
    pub server_id: String,
    /// Server URL.
    pub server_url: String,
    /// Device's user name towards the server.
    pub client_name: String,
    /// Authentication scheme.
    pub auth_scheme: AuthScheme,
    /// Message encoding.
    pub encoding: Encoding,
    /// Default-nonce fallback policy.
    pub policy: Policy,
    /// Synchronization state.
    pub state: SyncState,
    /// When the account was created.
    pub created_at: UnixTime,
    /// Last change to the account row (not to its nonces).
    pub updated_at: UnixTime,
}

/// The two AuthSecrets of an account, for computing digests in process.
#[derive(Debug, Clone)]
pub struct AccountSecrets {
    /// Device's user name (not secret, but needed with the secrets).
    pub client_name: String,
    /// Device→server AuthSecret.
    pub client_secret: AuthSecret,
    /// Server→device AuthSecret.
    pub server_secret: AuthSecret,
    /// The server→device AuthSecret before the last rotation, while the
    /// server has not been seen using the new one.
    pub server_secret_previous: Option<AuthSecret>,
}

/// Changes to an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountUpdate {
    /// New server URL.
    pub server_url: Option<String>,
    /// New client user name.
    pub client_name: Option<String>,
    /// New device→server AuthSecret.
    pub client_secret: Option<AuthSecret>,
    /// New server→device AuthSecret. Also clears the account's replay cache:
    /// digests made with the old secret can no longer verify.
    pub server_secret: Option<AuthSecret>,
    /// New authentication scheme.
    pub auth_scheme: Option<AuthScheme>,
    /// New encoding.
    pub encoding: Option<Encoding>,
    /// New fallback policy.
    pub policy: Option<Policy>,
}
