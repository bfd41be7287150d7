//! Package #0 for a device: which nonce signs it (stored, or the change
//! request's default nonce), the automatic fallback after a notification
//! went unanswered, the optional WSP wrapping, and the delivery hook.

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{anyhow, Context, Result};
use dmnonce_proto::{DefaultNonce, Notification, UiMode};
use dmnonce_push::WspPush;
use dmnonce_syncml::{Nonce, Secret, ServerNotifier};

use crate::state::{Device, PendingNotification};

/// The `nonce` field of `POST /admin/notify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceChoice {
    /// The stored server nonce.
    Stored,
    /// The default nonce, one reading.
    Default(DefaultNonce),
    /// Stored, unless a stored-nonce notification went unanswered for
    /// `--fallback-after-ms`: then the default nonce (`--default-nonce`).
    Auto,
}

impl NonceChoice {
    /// Parses `stored`, `text`, `zero` or `auto`.
    pub fn parse(text: &str) -> Option<NonceChoice> {
        match text {
            "stored" => Some(NonceChoice::Stored),
            "auto" => Some(NonceChoice::Auto),
            other => DefaultNonce::parse(other).map(NonceChoice::Default),
        }
    }
}

/// Which nonce a notification was actually signed with (the timeline's name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signed {
    /// The stored server nonce.
    Stored,
    /// The default nonce.
    Default(DefaultNonce),
}

impl Signed {
    /// `stored`, `default-text` or `default-zero`.
    pub fn label(self) -> &'static str {
        match self {
            Signed::Stored => "stored",
            Signed::Default(DefaultNonce::Text) => "default-text",
            Signed::Default(DefaultNonce::Zero) => "default-zero",
        }
    }
}

/// Why a notification cannot be made.
#[derive(Debug)]
pub enum NotifyError {
    /// `nonce: stored` for a device that has no server nonce yet.
    NoStoredNonce,
    /// Encoding failed (server id too long, ...).
    Encode(String),
}

/// Decides the nonce for `choice` at `now_ms`, updating the device's pending
/// notification record. `fallback_after_ms` is the wait for a session.
pub fn decide(
    device: &mut Device,
    choice: NonceChoice,
    default_reading: DefaultNonce,
    session_id: u16,
    now_ms: u64,
    fallback_after_ms: u64,
) -> Result<Signed, NotifyError> {
    let signed = match choice {
        NonceChoice::Stored => Signed::Stored,
        NonceChoice::Default(reading) => Signed::Default(reading),
        NonceChoice::Auto => {
            if device.server_nonce.is_none() || fallback_due(device, now_ms, fallback_after_ms) {
                Signed::Default(default_reading)
            } else {
                Signed::Stored
            }
        }
    };
    match signed {
        Signed::Stored if choice != NonceChoice::Auto => {
            if device.server_nonce.is_none() {
                return Err(NotifyError::NoStoredNonce);
            }
        }
        // Only the automatic flow waits for a session and falls back; an
        // explicit stored-nonce notification is the caller's business.
        Signed::Stored => {
            // Keep the first unanswered notification's time: the wait for a
            // session runs from the first attempt, not the latest one.
            let keep = device
                .pending
                .as_ref()
                .filter(|p| !session_since(device, p.sent_at_ms))
                .cloned();
            device.pending = Some(keep.unwrap_or(PendingNotification {
                session_id,
                sent_at_ms: now_ms,
                deliver_wsp: None,
            }));
        }
        Signed::Default(_) => device.pending = None,
    }
    Ok(signed)
}

/// Whether the stored-nonce notification has gone unanswered long enough.
pub fn fallback_due(device: &Device, now_ms: u64, fallback_after_ms: u64) -> bool {
    match &device.pending {
        Some(p) => {
            !session_since(device, p.sent_at_ms)
                && now_ms.saturating_sub(p.sent_at_ms) >= fallback_after_ms
        }
        None => false,
    }
}

fn session_since(device: &Device, since_ms: u64) -> bool {
    device
        .last_session_started_ms
        .is_some_and(|t| t >= since_ms)
}

/// The Package #0 (and, when `wsp`, the WSP push PDU around it).
pub fn build(
    device: &Device,
    server_id: &str,
    session_id: u16,
    signed: Signed,
    wsp: bool,
) -> Result<Vec<u8>, NotifyError> {
    let mut notification = Notification::new(server_id, session_id);
    // Background: the device should not ask its user before a resync.
    notification.ui_mode = UiMode::Background;
    let reading = match signed {
        Signed::Default(reading) => reading,
        Signed::Stored => DefaultNonce::Text,
    };
    let notifier = ServerNotifier {
        notification,
        server_secret: Secret::new(device.server_password.as_bytes()),
        default_nonce: reading,
    };
    let pkg0 = match signed {
        Signed::Stored => {
            let stored = device
                .server_nonce
                .as_ref()
                .ok_or(NotifyError::NoStoredNonce)?;
            notifier.with_stored_nonce(&Nonce::new(stored.bytes()))
        }
        Signed::Default(_) => notifier.with_default_nonce(),
    }
    .map_err(|e| NotifyError::Encode(e.to_string()))?;
    if !wsp {
        return Ok(pkg0);
    }
    // The TID is arbitrary for a connectionless push; the low byte of the
    // session id makes captures easy to match.
    WspPush::syncml_notification(session_id as u8, &pkg0)
        .encode()
        .map_err(|e| NotifyError::Encode(e.to_string()))
}

/// Runs the delivery hook: `sh -c CMD` with the bytes on stdin.
pub fn deliver(
    cmd: &str,
    bytes: &[u8],
    client_name: &str,
    signed: Signed,
    wsp: bool,
) -> Result<()> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .env("DMNONCE_CLIENT_NAME", client_name)
        .env("DMNONCE_NOTIFY_NONCE", signed.label())
        .env(
            "DMNONCE_NOTIFY_FORMAT",
            if wsp { "wsp" } else { "package0" },
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("starting the delivery hook")?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(bytes)
            .context("writing to the delivery hook")?;
    }
    let status = child.wait().context("waiting for the delivery hook")?;
    if !status.success() {
        return Err(anyhow!("delivery hook exited with {status}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Scheme, StoredNonce, Wire};
    use dmnonce_proto::{verify, Fallback, Package0, Verdict};

    fn device(with_nonce: bool) -> Device {
        Device {
            client_name: "dev".into(),
            server_password: "srv-pw".into(),
            client_password: "cl-pw".into(),
            auth_scheme: Scheme::Md5,
            encoding: Wire::Xml,
            server_nonce: with_nonce.then(|| StoredNonce::from_bytes(b"\x00stored\x00")),
            client_nonce: None,
            sessions_completed: 0,
            resyncs_completed: 0,
            last_session_id: None,
            last_session_started_ms: None,
            last_error: None,
            pending: None,
        }
    }

    #[test]
    fn auto_sends_stored_first_then_default_after_the_timeout() {
        let mut d = device(true);
        assert_eq!(
            decide(&mut d, NonceChoice::Auto, DefaultNonce::Text, 1, 1000, 500).unwrap(),
            Signed::Stored
        );
        // Retried before the timeout: still stored, the wait keeps running.
        assert_eq!(
            decide(&mut d, NonceChoice::Auto, DefaultNonce::Text, 2, 1400, 500).unwrap(),
            Signed::Stored
        );
        assert_eq!(d.pending.as_ref().unwrap().sent_at_ms, 1000);
        assert_eq!(
            decide(&mut d, NonceChoice::Auto, DefaultNonce::Zero, 3, 1500, 500).unwrap(),
            Signed::Default(DefaultNonce::Zero)
        );
        assert!(d.pending.is_none());
    }

    #[test]
    fn auto_stays_stored_when_the_device_opened_a_session() {
        let mut d = device(true);
        decide(&mut d, NonceChoice::Auto, DefaultNonce::Text, 1, 1000, 500).unwrap();
        d.last_session_started_ms = Some(1200);
        assert_eq!(
            decide(&mut d, NonceChoice::Auto, DefaultNonce::Text, 2, 5000, 500).unwrap(),
            Signed::Stored
        );
    }

    #[test]
    fn explicit_stored_notification_arms_no_fallback() {
        let mut d = device(true);
        let s = decide(
            &mut d,
            NonceChoice::Stored,
            DefaultNonce::Text,
            1,
            1000,
            500,
        )
        .unwrap();
        assert_eq!(s, Signed::Stored);
        assert!(d.pending.is_none());
        assert!(!fallback_due(&d, 5000, 500));
    }

    #[test]
    fn stored_without_a_nonce_is_refused_and_auto_uses_the_default() {
        let mut d = device(false);
        assert!(matches!(
            decide(&mut d, NonceChoice::Stored, DefaultNonce::Text, 1, 0, 500),
            Err(NotifyError::NoStoredNonce)
        ));
        assert_eq!(
            decide(&mut d, NonceChoice::Auto, DefaultNonce::Text, 1, 0, 500).unwrap(),
            Signed::Default(DefaultNonce::Text)
        );
    }

    #[test]
    fn built_package0_verifies_with_the_nonce_it_names() {
        let d = device(true);
        for (signed, verdict) in [
            (Signed::Stored, Verdict::Stored { index: 0 }),
            (
                Signed::Default(DefaultNonce::Text),
                Verdict::Default(DefaultNonce::Text),
            ),
            (
                Signed::Default(DefaultNonce::Zero),
                Verdict::Default(DefaultNonce::Zero),
            ),
        ] {
            let bytes = build(&d, "dmnonce-test", 0x1234, signed, false).unwrap();
            let pkg = Package0::decode(&bytes).unwrap();
            assert_eq!(pkg.notification.session_id, 0x1234);
            let stored = d.server_nonce.as_ref().unwrap().bytes();
            let v = verify(&pkg, b"srv-pw", &[stored.as_slice()], Fallback::default());
            assert_eq!(v, verdict, "{}", signed.label());
        }
    }

    #[test]
    fn wsp_wrapping_carries_the_same_package0() {
        let d = device(true);
        let pkg0 = build(&d, "dmnonce-test", 7, Signed::Stored, false).unwrap();
        let pdu = build(&d, "dmnonce-test", 7, Signed::Stored, true).unwrap();
        let push = WspPush::decode(&pdu).unwrap();
        assert!(push.content_type.media.is_syncml_notification());
        assert_eq!(push.body, pkg0);
    }
}
