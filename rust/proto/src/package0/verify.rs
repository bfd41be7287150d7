//! Deciding whether a Package #0 is authentic, with the nonce-resync change
//! request's fallback to the default nonce (§5.1, SCR-DM-NOTI-C-003).
//!
//! Order of trials ([`verify_with_secrets`] owns it): every stored nonce
//! with every secret the server may hold (the store passes the current
//! server nonce, then the previous one while a two-phase rotation is open,
//! and the secrets likewise, current first), then — only if every stored
//! pair failed and policy allows — the default nonce `0x00000000` in each
//! configured reading, with each secret. The first match wins, so a stale
//! stored nonce is never mistaken for a fallback. Each comparison is
//! constant time; the number of trials made reveals only the verdict
//! itself. Nothing here logs.

use super::codec::Package0;
use crate::digest::{ct_eq, NotificationDigester};

/// The default nonce as libdmclient (the only open implementation of the
/// change request) reads it: the 10 ASCII characters `0x00000000`.
pub const DEFAULT_NONCE_TEXT: &[u8] = b"0x00000000";

/// The default nonce read as a 32-bit value: four zero bytes.
pub const DEFAULT_NONCE_ZERO: &[u8] = &[0; 4];

/// Which bytes stand for the change request's "0x00000000".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DefaultNonce {
    /// The ASCII text `0x00000000` ([`DEFAULT_NONCE_TEXT`]).
    Text,
    /// Four zero bytes ([`DEFAULT_NONCE_ZERO`]).
    Zero,
}

impl DefaultNonce {
    /// The nonce bytes of this reading.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Self::Text => DEFAULT_NONCE_TEXT,
            Self::Zero => DEFAULT_NONCE_ZERO,
        }
    }

    /// `"text"` or `"zero"`, as on the command line and in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Zero => "zero",
        }
    }

    /// Parse `"text"` or `"zero"`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "text" => Some(Self::Text),
            "zero" => Some(Self::Zero),
            _ => None,
        }
    }
}

/// Whether the default nonce may be tried after every stored nonce failed,
/// and which readings in which order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fallback {
    /// Policy `deny`: only stored nonces.
    Deny,
    /// Policy `allow`: these readings, in this order.
    Allow(ReadingOrder),
}

impl Default for Fallback {
    /// Allow, text then zero: the ASCII reading is what the only open
    /// implementation sends (see docs/package0.md).
    fn default() -> Self {
        Self::Allow(ReadingOrder::TextThenZero)
    }
}

impl Fallback {
    /// The default-nonce readings to try, in order (empty when denied).
    pub fn readings(self) -> &'static [DefaultNonce] {
        match self {
            Self::Deny => &[],
            Self::Allow(order) => order.readings(),
        }
    }
}

/// Readings of the default nonce to try, in order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ReadingOrder {
    /// ASCII text, then four zero bytes (the default).
    #[default]
    TextThenZero,
    /// Four zero bytes, then ASCII text.
    ZeroThenText,
    /// Only the ASCII text.
    TextOnly,
    /// Only four zero bytes.
    ZeroOnly,
}

impl ReadingOrder {
    /// The readings, in order.
    pub fn readings(self) -> &'static [DefaultNonce] {
        match self {
            Self::TextThenZero => &[DefaultNonce::Text, DefaultNonce::Zero],
            Self::ZeroThenText => &[DefaultNonce::Zero, DefaultNonce::Text],
            Self::TextOnly => &[DefaultNonce::Text],
            Self::ZeroOnly => &[DefaultNonce::Zero],
        }
    }
}

/// The outcome of [`verify`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The digest matched `stored_nonces[index]`: a normal notification.
    Stored {
        /// Position in the stored nonces given (0 = current, 1 = previous).
        index: usize,
    },
    /// Every stored nonce failed and the default nonce in this reading
    /// matched: the account needs a resync session.
    Default(DefaultNonce),
    /// No nonce matched: drop the notification.
    Rejected,
}

impl Verdict {
    /// Whether the notification is authentic.
    pub fn is_accepted(self) -> bool {
        !matches!(self, Self::Rejected)
    }

    /// `"stored-nonce"`, `"default-nonce-text"`, `"default-nonce-zero"` or
    /// `"rejected"`, as `dmnoncectl pkg0 verify` prints it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Stored { .. } => "stored-nonce",
            Self::Default(DefaultNonce::Text) => "default-nonce-text",
            Self::Default(DefaultNonce::Zero) => "default-nonce-zero",
            Self::Rejected => "rejected",
        }
    }
}

/// What [`verify_with_secrets`] found: the verdict and the secret it
/// verified with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Authentication {
    /// The verdict (`Stored { index }` indexes the stored nonces given).
    pub verdict: Verdict,
    /// Position in the secrets given of the one that verified; `None` when
    /// rejected.
    pub secret: Option<usize>,
}

impl Authentication {
    /// No stored nonce and no allowed reading verified with any secret.
    pub const REJECTED: Self = Self {
        verdict: Verdict::Rejected,
        secret: None,
    };
}

/// Verify `pkg` with `password` (the server's secret towards the client):
/// each stored nonce in order, then the default nonce as `fallback` allows.
pub fn verify(
    pkg: &Package0,
    password: &[u8],
    stored_nonces: &[&[u8]],
    fallback: Fallback,
) -> Verdict {
    verify_with_secrets(pkg, &[password], stored_nonces, fallback.readings()).verdict
}

/// Verify `pkg` with every secret the server may hold (`secrets`, newest
/// first) and every stored nonce (newest first), secret by secret; only when
/// every pair failed, the default-nonce `readings` in order with each
/// secret. Pass no readings when policy denies the fallback.
pub fn verify_with_secrets(
    pkg: &Package0,
    secrets: &[&[u8]],
    stored_nonces: &[&[u8]],
    readings: &[DefaultNonce],
) -> Authentication {
    let matches = |d: &NotificationDigester, nonce: &[u8]| ct_eq(&d.digest(nonce), &pkg.digest);
    // The common case (current secret, current nonce) allocates nothing:
    // the other secrets' digesters are built only once it has failed.
    let Some((first, others)) = secrets.split_first() else {
        return Authentication::REJECTED;
    };
    let first = pkg.digester(first);
    let others: Vec<_> = others.iter().map(|s| pkg.digester(s)).collect();
    let digesters = || std::iter::once(&first).chain(others.iter()).enumerate();
    for (secret, d) in digesters() {
        if let Some(index) = stored_nonces.iter().position(|n| matches(d, n)) {
            return Authentication {
                verdict: Verdict::Stored { index },
                secret: Some(secret),
            };
        }
    }
    for (secret, d) in digesters() {
        if let Some(reading) = readings.iter().find(|r| matches(d, r.bytes())) {
            return Authentication {
                verdict: Verdict::Default(*reading),
                secret: Some(secret),
            };
        }
    }
    Authentication::REJECTED
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package0::Notification;

    const PW: &[u8] = b"secret";
    const CURRENT: &[u8] = &[1, 2, 3, 4];
    const PREVIOUS: &[u8] = b"prev";

    fn signed_with(nonce: &[u8]) -> Package0 {
        Package0::decode(&Notification::new("dm.test", 7).sign(PW, nonce).unwrap()).unwrap()
    }

    #[test]
    fn default_nonce_bytes_and_names() {
        assert_eq!(DefaultNonce::Text.bytes(), b"0x00000000");
        assert_eq!(DefaultNonce::Zero.bytes(), &[0, 0, 0, 0]);
        for reading in [DefaultNonce::Text, DefaultNonce::Zero] {
            assert_eq!(DefaultNonce::parse(reading.as_str()), Some(reading));
        }
        assert_eq!(DefaultNonce::parse("0x00000000"), None);
    }

    #[test]
    fn current_stored_nonce_is_accepted() {
        let v = verify(
            &signed_with(CURRENT),
            PW,
            &[CURRENT, PREVIOUS],
            Fallback::default(),
        );
        assert_eq!(v, Verdict::Stored { index: 0 });
        assert_eq!(v.label(), "stored-nonce");
        assert!(v.is_accepted());
    }

    #[test]
    fn previous_stored_nonce_is_accepted_with_its_index() {
        let v = verify(
            &signed_with(PREVIOUS),
            PW,
            &[CURRENT, PREVIOUS],
            Fallback::Deny,
        );
        assert_eq!(v, Verdict::Stored { index: 1 });
    }

    #[test]
    fn stored_nonce_wins_over_default_when_both_match() {
        // A stored nonce equal to a default reading is reported as stored:
        // the default is tried only after every stored nonce failed.
        let v = verify(
            &signed_with(DEFAULT_NONCE_TEXT),
            PW,
            &[CURRENT, DEFAULT_NONCE_TEXT],
            Fallback::default(),
        );
        assert_eq!(v, Verdict::Stored { index: 1 });
    }

    #[test]
    fn text_default_nonce_is_accepted_after_stored_fails() {
        let v = verify(
            &signed_with(b"0x00000000"),
            PW,
            &[CURRENT],
            Fallback::default(),
        );
        assert_eq!(v, Verdict::Default(DefaultNonce::Text));
        assert_eq!(v.label(), "default-nonce-text");
    }

    #[test]
    fn zero_default_nonce_is_accepted_after_stored_fails() {
        let v = verify(
            &signed_with(&[0, 0, 0, 0]),
            PW,
            &[CURRENT],
            Fallback::default(),
        );
        assert_eq!(v, Verdict::Default(DefaultNonce::Zero));
        assert_eq!(v.label(), "default-nonce-zero");
        assert!(v.is_accepted());
    }

    #[test]
    fn default_nonce_is_rejected_when_policy_denies() {
        for nonce in [DEFAULT_NONCE_TEXT, DEFAULT_NONCE_ZERO] {
            let v = verify(&signed_with(nonce), PW, &[CURRENT], Fallback::Deny);
            assert_eq!(v, Verdict::Rejected);
        }
    }

    #[test]
    fn reading_orders_limit_and_order_the_trials() {
        let text = signed_with(DEFAULT_NONCE_TEXT);
        let zero = signed_with(DEFAULT_NONCE_ZERO);
        let only = |o| Fallback::Allow(o);
        assert_eq!(
            verify(&text, PW, &[], only(ReadingOrder::ZeroOnly)),
            Verdict::Rejected
        );
        assert_eq!(
            verify(&zero, PW, &[], only(ReadingOrder::TextOnly)),
            Verdict::Rejected
        );
        assert_eq!(
            verify(&zero, PW, &[], only(ReadingOrder::ZeroThenText)),
            Verdict::Default(DefaultNonce::Zero)
        );
        assert_eq!(
            verify(&text, PW, &[], only(ReadingOrder::ZeroThenText)),
            Verdict::Default(DefaultNonce::Text)
        );
        assert_eq!(Fallback::Deny.readings(), &[]);
        assert_eq!(
            Fallback::default().readings(),
            &[DefaultNonce::Text, DefaultNonce::Zero]
        );
    }

    #[test]
    fn wrong_password_or_unknown_nonce_is_rejected() {
        let pkg = signed_with(b"other");
        let v = verify(&pkg, PW, &[CURRENT, PREVIOUS], Fallback::default());
        assert_eq!(v, Verdict::Rejected);
        assert_eq!(v.label(), "rejected");
        assert!(!v.is_accepted());
        let pkg = signed_with(CURRENT);
        assert_eq!(
            verify(&pkg, b"wrong", &[CURRENT], Fallback::default()),
            Verdict::Rejected
        );
    }

    #[test]
    fn every_stored_pair_is_tried_before_any_default_reading() {
        const OLD_PW: &[u8] = b"old-secret";
        let order = [DefaultNonce::Text, DefaultNonce::Zero];
        // Signed with the previous secret and the previous nonce.
        let pkg = Package0::decode(
            &Notification::new("dm.test", 7)
                .sign(OLD_PW, PREVIOUS)
                .unwrap(),
        )
        .unwrap();
        let a = verify_with_secrets(&pkg, &[PW, OLD_PW], &[CURRENT, PREVIOUS], &order);
        assert_eq!(a.verdict, Verdict::Stored { index: 1 });
        assert_eq!(a.secret, Some(1));
        // A stored nonce equal to the default text, under the second
        // secret, still wins over the default reading under the first.
        let text_old = Package0::decode(
            &Notification::new("dm.test", 7)
                .sign(OLD_PW, DEFAULT_NONCE_TEXT)
                .unwrap(),
        )
        .unwrap();
        let a = verify_with_secrets(
            &text_old,
            &[PW, OLD_PW],
            &[CURRENT, DEFAULT_NONCE_TEXT],
            &order,
        );
        assert_eq!(a.verdict, Verdict::Stored { index: 1 });
        // Without it stored, the default reading matches with the second secret.
        let a = verify_with_secrets(&text_old, &[PW, OLD_PW], &[CURRENT], &order);
        assert_eq!(a.verdict, Verdict::Default(DefaultNonce::Text));
        assert_eq!(a.secret, Some(1));
        // No readings: denied.
        let a = verify_with_secrets(&text_old, &[PW, OLD_PW], &[CURRENT], &[]);
        assert_eq!(
            a,
            Authentication {
                verdict: Verdict::Rejected,
                secret: None
            }
        );
    }

    #[test]
    fn tampered_trigger_is_rejected() {
        let mut bytes = Notification::new("dm.test", 7).sign(PW, CURRENT).unwrap();
        bytes[22] ^= 1; // a session-id bit
        let pkg = Package0::decode(&bytes).unwrap();
        assert_eq!(
            verify(&pkg, PW, &[CURRENT], Fallback::default()),
            Verdict::Rejected
        );
    }
}
