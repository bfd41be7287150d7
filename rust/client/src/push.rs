//! Handing a received push to the daemon: WSP PDU, bare Package #0, or SMS
//! TPDUs; and verifying a Package #0 without side effects.

use crate::buffer::{bytes_arg, check_ptr, fill_fixed};
use crate::client::{dmnonce_client, with_client};
use crate::result::{dmnonce_result, Failure};
use crate::sized::{out_size, write_out, Growable};
use dmnonce_control::{NotificationInfo, PushFormat, PushOutcome, PushResult, VerdictName};
use std::ffi::c_char;

/// Size of the fixed server-id fields, terminating NUL included. A
/// Package #0 carries the server id with a one-byte length, so 255 bytes
/// plus the NUL hold every server id the daemon can report.
pub const DMNONCE_SERVER_ID_CAP: usize = 256;

/// What the bytes handed to `dmnonce_push()` are (pass as `uint32_t`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dmnonce_push_format {
    /// WSP push PDU or bare Package #0; the daemon tells them apart.
    DMNONCE_PUSH_AUTO = 0,
    /// A connectionless WSP push PDU, TID first (as ofono delivers it).
    DMNONCE_PUSH_WSP = 1,
    /// A bare Package #0 (the WSP body; Android's `data` extra).
    DMNONCE_PUSH_PACKAGE0 = 2,
}

/// What the daemon did with a push.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dmnonce_outcome {
    /// An outcome newer than this library: the daemon took the push, but
    /// whether it verified is not known here; treat it as not verified.
    DMNONCE_OUTCOME_UNKNOWN = 0,
    /// Verified with the stored nonce: run your management session (an
    /// alert event also went to subscribers).
    DMNONCE_OUTCOME_ALERT = 1,
    /// Verified with the default nonce: the daemon runs the resync session;
    /// wait for the resync-finished event.
    DMNONCE_OUTCOME_RESYNC_STARTED = 2,
    /// The digest failed with every nonce tried; dropped.
    DMNONCE_OUTCOME_REJECTED = 3,
    /// A default-nonce notification already accepted once; dropped.
    DMNONCE_OUTCOME_REPLAY = 4,
    /// Too many default-nonce fallbacks for this account recently; dropped.
    DMNONCE_OUTCOME_RATE_LIMITED = 5,
    /// The account's policy forbids the default-nonce fallback; dropped.
    DMNONCE_OUTCOME_POLICY_DENIED = 6,
    /// No account has this server id; dropped.
    DMNONCE_OUTCOME_UNKNOWN_ACCOUNT = 7,
    /// A resync session for this account is already running; dropped.
    DMNONCE_OUTCOME_BUSY = 8,
    /// An SMS fragment was stored; hand in the remaining ones.
    DMNONCE_OUTCOME_FRAGMENT_PENDING = 9,
}

/// How a Package #0 digest verified.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dmnonce_verdict {
    /// No verdict (e.g. the push is still incomplete, or the account is unknown).
    DMNONCE_VERDICT_NONE = 0,
    /// Verified with the stored server nonce.
    DMNONCE_VERDICT_STORED_NONCE = 1,
    /// Verified with the default nonce as the ASCII text `0x00000000`.
    DMNONCE_VERDICT_DEFAULT_NONCE_TEXT = 2,
    /// Verified with the default nonce as four zero bytes.
    DMNONCE_VERDICT_DEFAULT_NONCE_ZERO = 3,
    /// Failed with every nonce tried.
    DMNONCE_VERDICT_REJECTED = 4,
}

/// The decoded, non-secret fields of a Package #0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dmnonce_notification {
    /// Protocol version field (11 for DM 1.2).
    pub version: u16,
    /// 0 not specified, 1 background, 2 informative, 3 user interaction.
    pub ui_mode: u8,
    /// The initiator bit, as received (its meaning is unsettled; do not act on it).
    pub initiator: u8,
    /// Session id; put it into Pkg#1's `SessionID`.
    pub session_id: u16,
    /// Length of the server id in bytes, without the NUL. A value of
    /// `DMNONCE_SERVER_ID_CAP` or more means `server_id` was truncated.
    pub server_id_len: usize,
    /// The server id, NUL-terminated.
    pub server_id: [c_char; DMNONCE_SERVER_ID_CAP],
}

/// The answer to `dmnonce_push()`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dmnonce_push_result {
    /// `sizeof` this struct as the caller's header declares it; set it
    /// before the call (see "Structs that can grow" in dmnonce.h).
    pub struct_size: usize,
    pub outcome: dmnonce_outcome,
    /// `DMNONCE_VERDICT_NONE` when the daemon gave none.
    pub verdict: dmnonce_verdict,
    /// Whether `notification` holds the decoded Package #0.
    pub has_notification: bool,
    pub notification: dmnonce_notification,
}

// SAFETY: repr(C), struct_size first; zero is a valid value of every
// field (outcome 0 is DMNONCE_OUTCOME_UNKNOWN, verdict 0 DMNONCE_VERDICT_NONE).
unsafe impl Growable for dmnonce_push_result {}

impl dmnonce_notification {
    pub(crate) fn empty() -> Self {
        dmnonce_notification {
            version: 0,
            ui_mode: 0,
            initiator: 0,
            session_id: 0,
            server_id_len: 0,
            server_id: [0; DMNONCE_SERVER_ID_CAP],
        }
    }

    pub(crate) fn from_info(info: &NotificationInfo) -> Self {
        let mut n = Self::empty();
        n.version = info.version;
        n.ui_mode = info.ui_mode;
        n.initiator = info.initiator;
        n.session_id = info.session_id;
        n.server_id_len = fill_fixed(&mut n.server_id, &info.server_id);
        n
    }
}

impl From<VerdictName> for dmnonce_verdict {
    fn from(v: VerdictName) -> Self {
        match v {
            VerdictName::StoredNonce => dmnonce_verdict::DMNONCE_VERDICT_STORED_NONCE,
            VerdictName::DefaultNonceText => dmnonce_verdict::DMNONCE_VERDICT_DEFAULT_NONCE_TEXT,
            VerdictName::DefaultNonceZero => dmnonce_verdict::DMNONCE_VERDICT_DEFAULT_NONCE_ZERO,
            VerdictName::Rejected => dmnonce_verdict::DMNONCE_VERDICT_REJECTED,
        }
    }
}

impl From<PushOutcome> for dmnonce_outcome {
    fn from(o: PushOutcome) -> Self {
        use dmnonce_outcome::*;
        match o {
            PushOutcome::Alert => DMNONCE_OUTCOME_ALERT,
            PushOutcome::ResyncStarted => DMNONCE_OUTCOME_RESYNC_STARTED,
            PushOutcome::Rejected => DMNONCE_OUTCOME_REJECTED,
            PushOutcome::Replay => DMNONCE_OUTCOME_REPLAY,
            PushOutcome::RateLimited => DMNONCE_OUTCOME_RATE_LIMITED,
            PushOutcome::PolicyDenied => DMNONCE_OUTCOME_POLICY_DENIED,
            PushOutcome::UnknownAccount => DMNONCE_OUTCOME_UNKNOWN_ACCOUNT,
            PushOutcome::Busy => DMNONCE_OUTCOME_BUSY,
            PushOutcome::FragmentPending => DMNONCE_OUTCOME_FRAGMENT_PENDING,
            PushOutcome::Unknown => DMNONCE_OUTCOME_UNKNOWN,
        }
    }
}

fn push_result_to_c(r: &PushResult) -> dmnonce_push_result {
    dmnonce_push_result {
        struct_size: std::mem::size_of::<dmnonce_push_result>(),
        outcome: r.outcome.into(),
        verdict: r
            .verdict
            .map_or(dmnonce_verdict::DMNONCE_VERDICT_NONE, Into::into),
        has_notification: r.notification.is_some(),
        notification: r
            .notification
            .as_ref()
            .map_or_else(dmnonce_notification::empty, dmnonce_notification::from_info),
    }
}

fn push_format(format: u32) -> Result<PushFormat, Failure> {
    use dmnonce_push_format::*;
    match format {
        f if f == DMNONCE_PUSH_AUTO as u32 => Ok(PushFormat::Auto),
        f if f == DMNONCE_PUSH_WSP as u32 => Ok(PushFormat::Wsp),
        f if f == DMNONCE_PUSH_PACKAGE0 as u32 => Ok(PushFormat::Package0),
        other => Err(Failure::invalid(format!(
            "format {other} is not a dmnonce_push_format"
        ))),
    }
}

/// Hands a received push to the daemon and reports what it did.
///
/// `format` is a `dmnonce_push_format`; `data`/`len` the bytes as received.
/// On `DMNONCE_OK`, `*out` holds the outcome, the verdict and the decoded
/// notification. Undecodable bytes give `DMNONCE_E_BAD_PUSH`; a push that
/// is not a DM notification gives `DMNONCE_E_PUSH_REFUSED`. A rejected
/// digest is not an error: it is `DMNONCE_OUTCOME_REJECTED`.
///
/// Ownership: `data` is only read during the call; the caller owns `*out`.
/// Thread-safety: one thread per handle.
///
/// # Safety
/// `client` is NULL or a live handle; `data` valid for `len` bytes; `out`
/// valid for one `dmnonce_push_result` write.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_push(
    client: *mut dmnonce_client,
    format: u32,
    data: *const u8,
    len: usize,
    out: *mut dmnonce_push_result,
) -> dmnonce_result {
    // SAFETY: forwarded contract. (`with_client` is the panic boundary.)
    unsafe {
        with_client(client, |c| {
            let format = push_format(format)?;
            let data = bytes_arg(data, len, "data")?;
            let size = out_size(out, "out")?;
            if data.is_empty() {
                return Err(Failure::invalid("push data is empty"));
            }
            let result = c.push(format, data)?;
            write_out(out, size, push_result_to_c(&result));
            Ok(())
        })
    }
}

/// Hands SMS-DELIVER TPDUs carrying a WAP push (all fragments, or some of
/// them; the daemon reassembles across calls) to the daemon.
///
/// `pdus[i]` points to `lens[i]` bytes, for `i < count` (`count` > 0).
/// `smsc_included`: each TPDU starts with the SMSC address (Android's
/// `pdus`). The outcome is `DMNONCE_OUTCOME_FRAGMENT_PENDING` while parts
/// are missing.
///
/// Ownership: the arrays are only read during the call; the caller owns
/// `*out`. Thread-safety: one thread per handle.
///
/// # Safety
/// `client` is NULL or a live handle; `pdus` and `lens` valid for `count`
/// elements, each `pdus[i]` valid for `lens[i]` bytes; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_push_sms(
    client: *mut dmnonce_client,
    pdus: *const *const u8,
    lens: *const usize,
    count: usize,
    smsc_included: bool,
    out: *mut dmnonce_push_result,
) -> dmnonce_result {
    // SAFETY: forwarded contract. (`with_client` is the panic boundary.)
    unsafe {
        with_client(client, |c| {
            if count == 0 {
                return Err(Failure::invalid("count must be > 0"));
            }
            if pdus.is_null() {
                return Err(Failure::null("pdus"));
            }
            if lens.is_null() {
                return Err(Failure::null("lens"));
            }
            let size = out_size(out, "out")?;
            let ptrs = std::slice::from_raw_parts(pdus, count);
            let lens = std::slice::from_raw_parts(lens, count);
            let mut owned = Vec::with_capacity(count);
            for (i, (p, n)) in ptrs.iter().zip(lens).enumerate() {
                owned.push(bytes_arg(*p, *n, &format!("pdus[{i}]"))?.to_vec());
            }
            let result = c.push_sms(&owned, smsc_included)?;
            write_out(out, size, push_result_to_c(&result));
            Ok(())
        })
    }
}

/// Verifies a Package #0 against the account's nonces without side effects
/// (no replay record, no session, no event).
///
/// `*verdict` receives the verdict, `*notification` the decoded fields.
/// An unknown server id gives `DMNONCE_E_UNKNOWN_ACCOUNT`.
///
/// Ownership: `package0` is only read; the caller owns the outputs.
/// Thread-safety: one thread per handle.
///
/// # Safety
/// `client` NULL or live; `package0` valid for `len` bytes; `verdict` and
/// `notification` valid for one write each.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_verify(
    client: *mut dmnonce_client,
    package0: *const u8,
    len: usize,
    verdict: *mut dmnonce_verdict,
    notification: *mut dmnonce_notification,
) -> dmnonce_result {
    // SAFETY: forwarded contract. (`with_client` is the panic boundary.)
    unsafe {
        with_client(client, |c| {
            let package0 = bytes_arg(package0, len, "package0")?;
            check_ptr(verdict, "verdict")?;
            check_ptr(notification, "notification")?;
            let result = c.verify(package0)?;
            verdict.write(result.verdict.into());
            notification.write(dmnonce_notification::from_info(&result.notification));
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(server_id: &str) -> NotificationInfo {
        NotificationInfo {
            version: 11,
            ui_mode: 2,
            initiator: 1,
            session_id: 0xBEEF,
            server_id: server_id.into(),
            vendor_hex: String::new(),
        }
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("dmnonce-client-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn an_outcome_from_a_newer_daemon_is_unknown_not_a_known_one() {
        // Through the client the C ABI uses, from a scripted peer.
        let dir = tempfile_dir();
        let path = dir.join("peer.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let peer = std::thread::spawn(move || {
            use std::io::{BufRead, Write};
            let (mut s, _) = listener.accept().unwrap();
            let mut line = String::new();
            std::io::BufReader::new(s.try_clone().unwrap())
                .read_line(&mut line)
                .unwrap();
            let (id, _) = dmnonce_control::parse_request(line.trim_end()).unwrap();
            writeln!(
                s,
                r#"{{"v":1,"id":{id},"ok":true,"result":{{"outcome":"quarantined"}}}}"#
            )
            .unwrap();
        });
        let r = dmnonce_control::Client::connect(&path)
            .unwrap()
            .push(PushFormat::Auto, b"\x01")
            .unwrap();
        peer.join().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            push_result_to_c(&r).outcome,
            dmnonce_outcome::DMNONCE_OUTCOME_UNKNOWN
        );
    }

    #[test]
    fn push_result_carries_outcome_verdict_and_fields() {
        let c = push_result_to_c(&PushResult {
            outcome: PushOutcome::ResyncStarted,
            verdict: Some(VerdictName::DefaultNonceZero),
            notification: Some(info("dm.example")),
        });
        assert_eq!(c.outcome, dmnonce_outcome::DMNONCE_OUTCOME_RESYNC_STARTED);
        assert_eq!(
            c.verdict,
            dmnonce_verdict::DMNONCE_VERDICT_DEFAULT_NONCE_ZERO
        );
        assert!(c.has_notification);
        let n = c.notification;
        assert_eq!(
            (n.version, n.ui_mode, n.initiator, n.session_id),
            (11, 2, 1, 0xBEEF)
        );
        let id = unsafe { std::ffi::CStr::from_ptr(n.server_id.as_ptr()) };
        assert_eq!((id.to_str().unwrap(), n.server_id_len), ("dm.example", 10));
    }

    #[test]
    fn missing_verdict_and_notification_are_marked() {
        let c = push_result_to_c(&PushResult {
            outcome: PushOutcome::FragmentPending,
            verdict: None,
            notification: None,
        });
        assert_eq!(c.verdict, dmnonce_verdict::DMNONCE_VERDICT_NONE);
        assert!(!c.has_notification);
        assert_eq!(c.notification.server_id[0], 0);
    }

    #[test]
    fn an_overlong_server_id_is_truncated_visibly() {
        let long = "s".repeat(300);
        let n = dmnonce_notification::from_info(&info(&long));
        assert_eq!(n.server_id_len, 300);
        assert_eq!(n.server_id[DMNONCE_SERVER_ID_CAP - 1], 0);
        assert_eq!(n.server_id[DMNONCE_SERVER_ID_CAP - 2], b's' as c_char);
    }

    #[test]
    fn unknown_push_format_is_an_invalid_argument() {
        assert_eq!(push_format(2).unwrap(), PushFormat::Package0);
        assert_eq!(
            push_format(3).unwrap_err().code,
            dmnonce_result::DMNONCE_E_INVALID_ARGUMENT
        );
    }
}
