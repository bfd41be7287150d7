//! The account vocabulary as each crate spells it — the store's columns,
//! the control protocol's wire names, the session core's parameters — and
//! every translation between them, in one place. The names agree (a test
//! checks it), so an account reads the same in the database, on the
//! socket and in the logs.

use dmnonce_control as wire;
use dmnonce_proto::{DefaultNonce, Package0, Verdict};
use dmnonce_store as store;
use dmnonce_syncml as syncml;

/// A translation between two crates' types for one thing (the orphan rule
/// rules out `From` between two foreign types).
pub(crate) trait Translate<T> {
    /// The same value in the other crate's type.
    fn translate(self) -> T;
}

/// Both directions between a store enum and its wire enum, variant for
/// variant.
macro_rules! both_ways {
    ($a:ty, $b:ty, { $($va:ident <=> $vb:ident),+ $(,)? }) => {
        impl Translate<$b> for $a {
            fn translate(self) -> $b {
                match self { $(<$a>::$va => <$b>::$vb),+ }
            }
        }
        impl Translate<$a> for $b {
            fn translate(self) -> $a {
                match self { $(<$b>::$vb => <$a>::$va),+ }
            }
        }
    };
}

both_ways!(store::AuthScheme, wire::AuthScheme, { Md5 <=> Md5, Hmac <=> Hmac, Basic <=> Basic });
both_ways!(store::Encoding, wire::Encoding, { Xml <=> Xml, Wbxml <=> Wbxml });
both_ways!(store::Policy, wire::Policy, { Allow <=> Allow, Deny <=> Deny });
both_ways!(store::SyncState, wire::AccountState, {
    InSync <=> InSync,
    NeedsResync <=> NeedsResync,
    Resyncing <=> Resyncing,
});

impl Translate<syncml::Encoding> for store::Encoding {
    fn translate(self) -> syncml::Encoding {
        match self {
            store::Encoding::Xml => syncml::Encoding::Xml,
            store::Encoding::Wbxml => syncml::Encoding::Wbxml,
        }
    }
}

/// The session core's scheme; `None` for basic, which uses no nonces and
/// so has nothing to resynchronise.
pub(crate) fn session_scheme(s: store::AuthScheme) -> Option<syncml::AuthScheme> {
    match s {
        store::AuthScheme::Md5 => Some(syncml::AuthScheme::Md5),
        store::AuthScheme::Hmac => Some(syncml::AuthScheme::Hmac),
        store::AuthScheme::Basic => None,
    }
}

impl Translate<wire::VerdictName> for Verdict {
    fn translate(self) -> wire::VerdictName {
        match self {
            Verdict::Stored { .. } => wire::VerdictName::StoredNonce,
            Verdict::Default(DefaultNonce::Text) => wire::VerdictName::DefaultNonceText,
            Verdict::Default(DefaultNonce::Zero) => wire::VerdictName::DefaultNonceZero,
            Verdict::Rejected => wire::VerdictName::Rejected,
        }
    }
}

/// The non-secret view of an account, for the wire.
pub fn account_info(a: &store::Account) -> wire::AccountInfo {
    wire::AccountInfo {
        server_id: a.server_id.clone(),
        server_url: a.server_url.clone(),
        client_name: a.client_name.clone(),
        auth_scheme: a.auth_scheme.translate(),
        encoding: a.encoding.translate(),
        policy: a.policy.translate(),
        state: a.state.translate(),
    }
}

/// The non-secret fields of a notification, for the wire.
pub fn notification_info(pkg: &Package0) -> wire::NotificationInfo {
    let n = &pkg.notification;
    wire::NotificationInfo {
        version: n.version,
        ui_mode: n.ui_mode.bits(),
        initiator: n.initiator.bit(),
        session_id: n.session_id,
        server_id: n.server_id.clone(),
        vendor_hex: hex_lower(&n.vendor),
    }
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The database text and the wire name of every value are one name.
    #[test]
    fn every_value_has_one_name_everywhere() {
        for name in wire::AuthScheme::NAMES {
            let w = wire::AuthScheme::from_name(name).unwrap();
            let s: store::AuthScheme = w.translate();
            assert_eq!(s.as_str(), *name);
            assert_eq!(Translate::<wire::AuthScheme>::translate(s), w);
        }
        for name in wire::Encoding::NAMES {
            let w = wire::Encoding::from_name(name).unwrap();
            let s: store::Encoding = w.translate();
            assert_eq!(s.as_str(), *name);
            assert_eq!(Translate::<wire::Encoding>::translate(s), w);
        }
        for name in wire::Policy::NAMES {
            let w = wire::Policy::from_name(name).unwrap();
            let s: store::Policy = w.translate();
            assert_eq!(s.as_str(), *name);
            assert_eq!(Translate::<wire::Policy>::translate(s), w);
        }
        for name in wire::AccountState::NAMES {
            let w = wire::AccountState::from_name(name).unwrap();
            let s: store::SyncState = w.translate();
            assert_eq!(s.as_str(), *name);
            assert_eq!(Translate::<wire::AccountState>::translate(s), w);
        }
    }

    #[test]
    fn verdict_names_follow_the_readings() {
        for reading in [DefaultNonce::Text, DefaultNonce::Zero] {
            let name: wire::VerdictName = Verdict::Default(reading).translate();
            assert_eq!(name.as_str(), format!("default-nonce-{}", reading.as_str()));
        }
    }
}
