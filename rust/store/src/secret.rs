//! Secret byte strings: AuthSecrets and nonces. Both zeroize their memory when
//! dropped and print as `<redacted>` in `Debug`, so a stray `{:?}` in a log
//! line cannot leak them.

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::{Result, StoreError};

/// Longest nonce accepted. DM servers send 16–32 byte nonces; 256 leaves room
/// for odd peers while bounding what a hostile `Chal` can make us store.
pub const MAX_NONCE_LEN: usize = 256;
/// Longest AuthSecret accepted.
pub const MAX_SECRET_LEN: usize = 1024;

macro_rules! secret_bytes {
    ($(#[$doc:meta])* $name:ident, $max:expr, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(Zeroizing<Vec<u8>>);

        impl $name {
            /// Wraps the bytes after checking the length (1 to the maximum).
            pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self> {
                let bytes = Zeroizing::new(bytes.into());
                if bytes.is_empty() {
                    return Err(StoreError::InvalidInput { field: $field, reason: "empty" });
                }
                if bytes.len() > $max {
                    return Err(StoreError::InvalidInput { field: $field, reason: "too long" });
                }
                Ok($name(bytes))
            }

            /// The raw bytes, for computing digests in process. Never log,
            /// print or send them.
            pub fn expose(&self) -> &[u8] {
                &self.0
            }

            /// Length in bytes (not secret).
            pub fn len(&self) -> usize {
                self.0.len()
            }

            /// Always false: empty values are refused by [`Self::new`].
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }

            /// Equality in constant time (for a given length).
            pub fn ct_eq(&self, other: &Self) -> bool {
                self.0.len() == other.0.len() && bool::from(self.0.as_slice().ct_eq(other.0.as_slice()))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "(<redacted, {} bytes>)"), self.0.len())
            }
        }
    };
}

secret_bytes!(
    /// A DM authentication nonce (`AAuthData`, `NextNonce`): raw bytes.
    Nonce,
    MAX_NONCE_LEN,
    "nonce"
);
secret_bytes!(
    /// A DM AuthSecret (`AAuthSecret`): the password of one direction
    /// (device→server or server→device), as raw bytes.
    AuthSecret,
    MAX_SECRET_LEN,
    "AuthSecret"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_value() {
        let n = Nonce::new(b"supersecretnonce".to_vec()).unwrap();
        let s = AuthSecret::new(b"hunter2".to_vec()).unwrap();
        let shown = format!("{n:?} {s:?}");
        assert!(!shown.contains("supersecret"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn empty_and_oversized_values_are_refused() {
        assert!(Nonce::new(Vec::new()).is_err());
        assert!(Nonce::new(vec![0u8; MAX_NONCE_LEN + 1]).is_err());
        assert!(Nonce::new(vec![0u8; MAX_NONCE_LEN]).is_ok());
        assert!(AuthSecret::new(Vec::new()).is_err());
    }

    #[test]
    fn constant_time_equality_compares_content_and_length() {
        let a = Nonce::new(b"abcd".to_vec()).unwrap();
        assert!(a.ct_eq(&Nonce::new(b"abcd".to_vec()).unwrap()));
        assert!(!a.ct_eq(&Nonce::new(b"abce".to_vec()).unwrap()));
        assert!(!a.ct_eq(&Nonce::new(b"abc".to_vec()).unwrap()));
    }
}
