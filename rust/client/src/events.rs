//! Event subscription: a separate connection that carries only events
//! (alert, resync started/finished/failed, push rejected).

use crate::buffer::{check_ptr, fill_fixed, opt_str_arg, write_kept_text};
use crate::client::{open_path, record, record_thread, resolve_socket, REQUEST_TIMEOUT};
use crate::push::{dmnonce_notification, dmnonce_verdict, DMNONCE_SERVER_ID_CAP};
use crate::result::{dmnonce_result, dmnonce_result::*, Failure};
use crate::sized::{out_size, write_out, Growable};
use dmnonce_control::{Event, EventKind, EventStream};
use std::ffi::c_char;
use std::time::Duration;

/// `kinds_mask` value of `dmnonce_events_open()` for every kind.
pub const DMNONCE_EVENTS_ALL: u32 = 0;

/// Kind of an event. For `dmnonce_events_open()`, select kinds with the
/// mask `(1u << kind)`, or'ed together.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dmnonce_event_kind {
    /// A kind newer than this library (only with `DMNONCE_EVENTS_ALL`): skip
    /// it; no other field is set. Not selectable in `kinds_mask`.
    DMNONCE_EVENT_UNKNOWN = 0,
    /// A notification verified with the stored nonce: run your management
    /// session (`notification`, `verdict`, `server_id`, `session_id` set).
    DMNONCE_EVENT_ALERT = 1,
    /// The daemon started a resync session (`server_id`, `session_id`).
    DMNONCE_EVENT_RESYNC_STARTED = 2,
    /// Nonces are fresh again; run your session (`server_id`, `session_id`).
    DMNONCE_EVENT_RESYNC_FINISHED = 3,
    /// The resync session failed (`server_id`, `session_id`, reason).
    DMNONCE_EVENT_RESYNC_FAILED = 4,
    /// A push was dropped (`server_id` when known, reason).
    DMNONCE_EVENT_PUSH_REJECTED = 5,
}

/// One event, as filled in by `dmnonce_events_next()`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dmnonce_event {
    /// `sizeof` this struct as the caller's header declares it; set it
    /// before the call (see "Structs that can grow" in dmnonce.h).
    pub struct_size: usize,
    pub kind: dmnonce_event_kind,
    /// Alert only; `DMNONCE_VERDICT_NONE` otherwise.
    pub verdict: dmnonce_verdict,
    /// Session id of the notification / resync session (0 for push-rejected).
    pub session_id: u16,
    /// Whether `server_id` is set (a push-rejected event may not know it).
    pub has_server_id: bool,
    /// Length of `server_id` without the NUL (`>= DMNONCE_SERVER_ID_CAP`: truncated).
    pub server_id_len: usize,
    pub server_id: [c_char; DMNONCE_SERVER_ID_CAP],
    /// The decoded Package #0 (alert only; zeroed otherwise).
    pub notification: dmnonce_notification,
    /// Length of the reason text (resync-failed, push-rejected; 0 otherwise);
    /// read it with `dmnonce_events_reason()`.
    pub reason_len: usize,
}

// SAFETY: repr(C), struct_size first; zero is a valid value of every
// field (kind 0 is DMNONCE_EVENT_UNKNOWN, verdict 0 DMNONCE_VERDICT_NONE).
unsafe impl Growable for dmnonce_event {}

/// A subscription: a connection that carries only events. Opaque; create
/// with `dmnonce_events_open()`, free with `dmnonce_events_close()`.
///
/// Thread-safety: may be moved between threads, used by one thread at a
/// time. It is independent of any `dmnonce_client`, so one thread can wait
/// for events while another makes requests on its own client handle.
pub struct dmnonce_events {
    stream: EventStream,
    last_error: String,
    reason: String,
}

fn kinds_from_mask(mask: u32) -> Result<Vec<EventKind>, Failure> {
    const KINDS: [(dmnonce_event_kind, EventKind); 5] = [
        (dmnonce_event_kind::DMNONCE_EVENT_ALERT, EventKind::Alert),
        (
            dmnonce_event_kind::DMNONCE_EVENT_RESYNC_STARTED,
            EventKind::ResyncStarted,
        ),
        (
            dmnonce_event_kind::DMNONCE_EVENT_RESYNC_FINISHED,
            EventKind::ResyncFinished,
        ),
        (
            dmnonce_event_kind::DMNONCE_EVENT_RESYNC_FAILED,
            EventKind::ResyncFailed,
        ),
        (
            dmnonce_event_kind::DMNONCE_EVENT_PUSH_REJECTED,
            EventKind::PushRejected,
        ),
    ];
    let known: u32 = KINDS.iter().map(|(k, _)| 1u32 << (*k as u32)).sum();
    if mask & !known != 0 {
        return Err(Failure::invalid(format!(
            "kinds_mask {mask:#x} has bits that name no event kind"
        )));
    }
    Ok(KINDS
        .iter()
        .filter(|(k, _)| mask & (1 << (*k as u32)) != 0)
        .map(|(_, e)| *e)
        .collect())
}

/// The C view of an event and its reason text (kept on the handle).
fn event_to_c(event: &Event) -> (dmnonce_event, String) {
    let mut out = dmnonce_event {
        struct_size: std::mem::size_of::<dmnonce_event>(),
        kind: dmnonce_event_kind::DMNONCE_EVENT_ALERT,
        verdict: dmnonce_verdict::DMNONCE_VERDICT_NONE,
        session_id: 0,
        has_server_id: true,
        server_id_len: 0,
        server_id: [0; DMNONCE_SERVER_ID_CAP],
        notification: dmnonce_notification::empty(),
        reason_len: 0,
    };
    let (server_id, reason) = match event {
        Event::Alert {
            notification,
            verdict,
        } => {
            out.verdict = (*verdict).into();
            out.session_id = notification.session_id;
            out.notification = dmnonce_notification::from_info(notification);
            (Some(notification.server_id.as_str()), String::new())
        }
        Event::ResyncStarted {
            server_id,
            session_id,
        } => {
            out.kind = dmnonce_event_kind::DMNONCE_EVENT_RESYNC_STARTED;
            out.session_id = *session_id;
            (Some(server_id.as_str()), String::new())
        }
        Event::ResyncFinished {
            server_id,
            session_id,
        } => {
            out.kind = dmnonce_event_kind::DMNONCE_EVENT_RESYNC_FINISHED;
            out.session_id = *session_id;
            (Some(server_id.as_str()), String::new())
        }
        Event::ResyncFailed {
            server_id,
            session_id,
            reason,
        } => {
            out.kind = dmnonce_event_kind::DMNONCE_EVENT_RESYNC_FAILED;
            out.session_id = *session_id;
            (Some(server_id.as_str()), reason.clone())
        }
        Event::PushRejected { server_id, reason } => {
            out.kind = dmnonce_event_kind::DMNONCE_EVENT_PUSH_REJECTED;
            (server_id.as_deref(), reason.clone())
        }
        Event::Other(_) => {
            out.kind = dmnonce_event_kind::DMNONCE_EVENT_UNKNOWN;
            (None, String::new())
        }
    };
    out.has_server_id = server_id.is_some();
    out.server_id_len = fill_fixed(&mut out.server_id, server_id.unwrap_or(""));
    out.reason_len = reason.len();
    (out, reason)
}

/// Opens a subscription on its own connection.
///
/// `socket_path`: as for `dmnonce_connect()` (NULL = default).
/// `kinds_mask`: `DMNONCE_EVENTS_ALL`, or `(1u << DMNONCE_EVENT_…)` or'ed.
/// On failure `*out` is NULL and `dmnonce_thread_last_error()` says why.
///
/// Ownership: the caller owns `*out` and frees it with
/// `dmnonce_events_close()`. Thread-safety: any thread.
///
/// # Safety
/// `socket_path` NULL or NUL-terminated; `out` valid for a pointer write.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_events_open(
    socket_path: *const c_char,
    kinds_mask: u32,
    out: *mut *mut dmnonce_events,
) -> dmnonce_result {
    ffi_panic_boundary! {
        let result = (|| {
            check_ptr(out, "out")?;
            // SAFETY: checked non-NULL, valid per the contract.
            unsafe { out.write(std::ptr::null_mut()) };
            // SAFETY: the caller's contract.
            let path = resolve_socket(unsafe { opt_str_arg(socket_path, "socket_path") }?);
            let kinds = kinds_from_mask(kinds_mask)?;
            let stream = open_path(&path, REQUEST_TIMEOUT)?.subscribe(&kinds)?;
            let handle = Box::new(dmnonce_events {
                stream,
                last_error: String::new(),
                reason: String::new(),
            });
            // SAFETY: as above.
            unsafe { out.write(Box::into_raw(handle)) };
            Ok(())
        })();
        record_thread(result)
    }
}

/// Waits for the next event, at most `timeout_ms` milliseconds (negative:
/// without limit; 0: poll). On `DMNONCE_OK` `*out` holds the event; when
/// none arrived in time the result is `DMNONCE_E_TIMEOUT` and the
/// subscription stays usable. `DMNONCE_E_CONNECTION_CLOSED` means the
/// daemon went away: close and reopen.
///
/// Ownership: caller owns `*out`. Thread-safety: one thread per handle.
///
/// # Safety
/// `events` NULL or a live subscription; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_events_next(
    events: *mut dmnonce_events,
    timeout_ms: i32,
    out: *mut dmnonce_event,
) -> dmnonce_result {
    ffi_panic_boundary! {
        // SAFETY: per the contract.
        let Some(handle) = (unsafe { events.as_mut() }) else {
            return DMNONCE_E_NULL_PARAMETER;
        };
        let result = (|| {
            // SAFETY: valid per the contract.
            let size = unsafe { out_size(out, "out") }?;
            // 0 still lets one read of the socket happen.
            let timeout = u64::try_from(timeout_ms).ok().map(|ms| Duration::from_millis(ms.max(1)));
            match handle.stream.next_event(timeout)? {
                None => Err(Failure::new(
                    DMNONCE_E_TIMEOUT,
                    format!("no event within {timeout_ms} ms"),
                )),
                Some(event) => {
                    let (c_event, reason) = event_to_c(&event);
                    handle.reason = reason;
                    // SAFETY: valid for `size` bytes per the contract.
                    unsafe { write_out(out, size, c_event) };
                    Ok(())
                }
            }
        })();
        record(&mut handle.last_error, result)
    }
}

/// Writes the reason text of the last event returned by
/// `dmnonce_events_next()` (empty for kinds without one), NUL-terminated.
///
/// Ownership: caller owns `buf`. Thread-safety: one thread per handle.
///
/// # Safety
/// `events` NULL or live; `buf` valid for `cap` bytes; `out_len` for a write.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_events_reason(
    events: *const dmnonce_events,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> dmnonce_result {
    ffi_panic_boundary! {
        // SAFETY: per the contract.
        unsafe {
            let reason = events.as_ref().map(|h| h.reason.as_str());
            write_kept_text(reason, buf, cap, out_len, "reason")
        }
    }
}

/// Writes the message of the last failed call on this subscription (empty
/// after a successful one).
///
/// Ownership: caller owns `buf`. Thread-safety: one thread per handle.
///
/// # Safety
/// `events` NULL or live; `buf` valid for `cap` bytes; `out_len` for a write.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_events_last_error(
    events: *const dmnonce_events,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> dmnonce_result {
    ffi_panic_boundary! {
        // SAFETY: per the contract.
        unsafe {
            let message = events.as_ref().map(|h| h.last_error.as_str());
            write_kept_text(message, buf, cap, out_len, "message")
        }
    }
}

/// Ends the subscription and frees the handle. NULL is ignored.
///
/// Ownership: takes back the handle from `dmnonce_events_open()`.
/// Thread-safety: no other thread may be using it.
///
/// # Safety
/// `events` NULL or a handle not yet closed.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_events_close(events: *mut dmnonce_events) {
    ffi_panic_boundary! {
        if !events.is_null() {
            // SAFETY: the pointer came from Box::into_raw in dmnonce_events_open.
            drop(unsafe { Box::from_raw(events) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_selects_kinds_and_refuses_stray_bits() {
        assert!(kinds_from_mask(DMNONCE_EVENTS_ALL).unwrap().is_empty());
        let mask = (1 << dmnonce_event_kind::DMNONCE_EVENT_RESYNC_FINISHED as u32)
            | (1 << dmnonce_event_kind::DMNONCE_EVENT_ALERT as u32);
        assert_eq!(
            kinds_from_mask(mask).unwrap(),
            [EventKind::Alert, EventKind::ResyncFinished]
        );
        assert_eq!(
            kinds_from_mask(1).unwrap_err().code,
            DMNONCE_E_INVALID_ARGUMENT
        );
    }

    #[test]
    fn a_newer_daemons_event_is_unknown_with_nothing_set() {
        let line = r#"{"v":1,"event":{"kind":"quota-warning","server_id":"s","reason":"r"}}"#;
        let Ok(dmnonce_control::ServerMessage::Event(event)) =
            dmnonce_control::parse_server_line(line)
        else {
            panic!("not an event")
        };
        let (e, reason) = event_to_c(&event);
        assert_eq!(e.kind, dmnonce_event_kind::DMNONCE_EVENT_UNKNOWN);
        assert!(!e.has_server_id);
        assert_eq!((e.server_id_len, e.reason_len, reason.as_str()), (0, 0, ""));
    }

    #[test]
    fn resync_failed_keeps_its_reason() {
        let (e, reason) = event_to_c(&Event::ResyncFailed {
            server_id: "dm.example".into(),
            session_id: 7,
            reason: "server answered 500".into(),
        });
        assert_eq!(e.kind, dmnonce_event_kind::DMNONCE_EVENT_RESYNC_FAILED);
        assert_eq!((e.session_id, e.server_id_len, e.reason_len), (7, 10, 19));
        assert_eq!(reason, "server answered 500");
        let (e, _) = event_to_c(&Event::PushRejected {
            server_id: None,
            reason: "x".into(),
        });
        assert!(!e.has_server_id);
    }
}
