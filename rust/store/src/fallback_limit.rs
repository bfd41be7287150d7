//! The rate limit on accepted default-nonce fallbacks (a setting the store
//! holds; `fallback` applies it).

/// Rate limit on accepted default-nonce fallbacks, per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FallbackLimit {
    /// Fallbacks accepted per window (0 refuses every fallback).
    pub max_accepted: u32,
    /// Window length in seconds (sliding).
    pub window_secs: i64,
}

impl Default for FallbackLimit {
    /// Five per hour: a real resync needs one; a few retries cover lost
    /// sessions.
    fn default() -> Self {
        FallbackLimit {
            max_accepted: 5,
            window_secs: 3600,
        }
    }
}
