//! Package #0, the General Notification Initiated Session Alert
//! (OMA-TS-DM_Notification-V1_2 §6), and its verification with the
//! nonce-resync change request's default-nonce fallback.
//!
//! Client role: [`Package0::decode`] then [`verify`]. Server role:
//! [`Notification::sign`]. See docs/package0.md for the choices made where
//! the specification is unsure.

mod codec;
mod fields;
mod verify;

pub use codec::{Notification, Package0, Package0Error, MAX_SERVER_ID_LEN};
pub use fields::{
    is_supported_version, Initiator, UiMode, SUPPORTED_VERSIONS, VERSION_11, VERSION_12,
};
pub use verify::{
    verify, verify_with_secrets, Authentication, DefaultNonce, Fallback, ReadingOrder, Verdict,
    DEFAULT_NONCE_TEXT, DEFAULT_NONCE_ZERO,
};
