//! The connection handle: connect, close, timeouts, last-error messages.

use crate::buffer::{check_ptr, opt_str_arg, write_kept_text, write_text};
use crate::result::{dmnonce_result, dmnonce_result::*, Failure};
use dmnonce_control::Client;
use std::cell::RefCell;
use std::ffi::c_char;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A connection to dmnonced for requests (push, credentials, `Chal`s,
/// accounts). Opaque; create with `dmnonce_connect()`, free with
/// `dmnonce_close()`.
///
/// Thread-safety: a handle may be moved between threads but used by one
/// thread at a time (it holds one socket and a read buffer). Open one per
/// thread, or guard it with a mutex. Different handles are independent.
///
/// The daemon closes request connections that stay silent for its idle
/// timeout (60 s by default); a handle survives that and daemon restarts
/// (the control client probes after a pause and reconnects, sending the
/// request itself exactly once).
pub struct dmnonce_client {
    inner: Client,
    last_error: String,
}

/// How long a request waits for its answer unless the caller sets another
/// (`dmnonce_client_set_timeout`).
pub(crate) use dmnonce_control::defaults::REQUEST_TIMEOUT;

thread_local! {
    /// Message of the last failed `dmnonce_connect`/`dmnonce_events_open`
    /// on this thread (those have no handle to keep it on).
    static THREAD_LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Keeps a call's message on its handle and turns it into the C result.
pub(crate) fn record(slot: &mut String, result: Result<(), Failure>) -> dmnonce_result {
    slot.clear();
    match result {
        Ok(()) => DMNONCE_OK,
        Err(f) => {
            *slot = f.message;
            f.code
        }
    }
}

pub(crate) fn record_thread(result: Result<(), Failure>) -> dmnonce_result {
    THREAD_LAST_ERROR.with(|slot| record(&mut slot.borrow_mut(), result))
}

/// The body of every exported function that makes a request on a handle:
/// runs `f` on the handle's connection inside the panic boundary and
/// records the outcome on the handle (a panic leaves the last error as it
/// was and gives `DMNONCE_E_PANIC`).
///
/// # Safety
/// `client` is NULL or a live handle from `dmnonce_connect`, used by this
/// thread only for the duration of the call.
pub(crate) unsafe fn with_client(
    client: *mut dmnonce_client,
    f: impl FnOnce(&mut Client) -> Result<(), Failure>,
) -> dmnonce_result {
    ffi_panic_boundary! {
        // SAFETY: per the contract above.
        let Some(handle) = (unsafe { client.as_mut() }) else {
            return DMNONCE_E_NULL_PARAMETER;
        };
        let result = f(&mut handle.inner);
        record(&mut handle.last_error, result)
    }
}

/// The documented default socket of a per-user daemon (docs/protocol.md,
/// daemon defaults): `$XDG_RUNTIME_DIR/dmnonced.sock`, else in the default
/// state directory.
pub(crate) fn default_socket_path() -> PathBuf {
    dmnonce_control::defaults::UserDirs::from_process().user_socket()
}

/// The socket to use: the caller's, or the default.
pub(crate) fn resolve_socket(arg: Option<&str>) -> PathBuf {
    arg.map_or_else(default_socket_path, PathBuf::from)
}

/// Opens a connection and checks that the daemon answers.
pub(crate) fn open_path(path: &Path, timeout: Duration) -> Result<Client, Failure> {
    let mut client = Client::connect(path)?;
    client.set_timeout(timeout);
    // A `hello` round trip surfaces a refused peer or a version mismatch at
    // connect time rather than on the first real request.
    let hello = client.hello()?;
    if hello.protocol != dmnonce_control::PROTOCOL_VERSION {
        return Err(Failure::new(
            DMNONCE_E_UNSUPPORTED_VERSION,
            format!(
                "dmnonced speaks protocol {}, libdmnonce speaks {}",
                hello.protocol,
                dmnonce_control::PROTOCOL_VERSION
            ),
        ));
    }
    Ok(client)
}

/// Connects to dmnonced.
///
/// `socket_path`: the control socket, or NULL for the default
/// (`$XDG_RUNTIME_DIR/dmnonced.sock`, else `$XDG_STATE_HOME/dmnonce/dmnonced.sock`,
/// else `$HOME/.local/state/dmnonce/dmnonced.sock`). On success `*out` receives a new
/// handle; on failure `*out` is set to NULL and `dmnonce_thread_last_error()`
/// says why (`DMNONCE_E_DAEMON_UNAVAILABLE` when nothing listens,
/// `DMNONCE_E_PERMISSION_DENIED` when the daemon refuses this uid).
///
/// Ownership: the caller owns the returned handle and must release it with
/// `dmnonce_close()`. `socket_path` is only read during the call.
/// Thread-safety: may be called from any thread.
///
/// # Safety
/// `socket_path` is NULL or a NUL-terminated string; `out` is valid for one
/// pointer write.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_connect(
    socket_path: *const c_char,
    out: *mut *mut dmnonce_client,
) -> dmnonce_result {
    ffi_panic_boundary! {
        let result = (|| {
            check_ptr(out, "out")?;
            // SAFETY: checked non-NULL; valid for a write per the contract.
            unsafe { out.write(std::ptr::null_mut()) };
            // SAFETY: the caller's contract on `socket_path`.
            let path = resolve_socket(unsafe { opt_str_arg(socket_path, "socket_path") }?);
            let inner = open_path(&path, REQUEST_TIMEOUT)?;
            let handle = Box::new(dmnonce_client {
                inner,
                last_error: String::new(),
            });
            // SAFETY: as above.
            unsafe { out.write(Box::into_raw(handle)) };
            Ok(())
        })();
        record_thread(result)
    }
}

/// Closes the connection and frees the handle. NULL is ignored.
///
/// Ownership: takes back the handle from `dmnonce_connect()`; it must not be
/// used afterwards. Thread-safety: no other thread may be using the handle.
///
/// # Safety
/// `client` is NULL or a handle from `dmnonce_connect()` not yet closed.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_close(client: *mut dmnonce_client) {
    ffi_panic_boundary! {
        if !client.is_null() {
            // SAFETY: the pointer came from Box::into_raw in dmnonce_connect.
            drop(unsafe { Box::from_raw(client) });
        }
    }
}

/// Sets how long each request on this handle waits for the daemon's answer
/// (default 10 s). `timeout_ms` 0 is refused as `DMNONCE_E_INVALID_ARGUMENT`.
///
/// Ownership: nothing is retained. Thread-safety: one thread per handle.
///
/// # Safety
/// `client` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_client_set_timeout(
    client: *mut dmnonce_client,
    timeout_ms: u32,
) -> dmnonce_result {
    ffi_panic_boundary! {
        // SAFETY: per the contract.
        let Some(handle) = (unsafe { client.as_mut() }) else {
            return DMNONCE_E_NULL_PARAMETER;
        };
        // No daemon round trip here, hence no idle probe.
        let result = if timeout_ms == 0 {
            Err(Failure::invalid("timeout_ms must be > 0"))
        } else {
            handle
                .inner
                .set_timeout(Duration::from_millis(u64::from(timeout_ms)));
            Ok(())
        };
        record(&mut handle.last_error, result)
    }
}

/// Asks the daemon for its version (a cheap liveness check) and writes it,
/// NUL-terminated, into `buf`; `*out_len` gets its length.
///
/// Ownership: the caller owns `buf`. Thread-safety: one thread per handle.
///
/// # Safety
/// `client` is NULL or a live handle; `buf` valid for `cap` bytes; `out_len`
/// valid for one write.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_client_daemon_version(
    client: *mut dmnonce_client,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> dmnonce_result {
    // SAFETY: forwarded contract. (`with_client` is the panic boundary.)
    unsafe {
        with_client(client, |c| {
            crate::buffer::check_out(buf, cap, out_len)?;
            let hello = c.hello()?;
            write_text(buf, cap, out_len, &hello.daemon_version, "daemon version")
        })
    }
}

/// Writes the message of the last failed call on this handle (empty after a
/// successful one). Messages never contain secrets or nonces.
///
/// Returns `DMNONCE_E_NULL_PARAMETER` / `DMNONCE_E_INSUFFICIENT_SIZE` as
/// `dmnonce_result_message()` does; does not change the stored message.
///
/// Ownership: the caller owns `buf`. Thread-safety: one thread per handle.
///
/// # Safety
/// `client` is NULL or a live handle; `buf` valid for `cap` bytes; `out_len`
/// valid for one write.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_client_last_error(
    client: *const dmnonce_client,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> dmnonce_result {
    ffi_panic_boundary! {
        // SAFETY: per the contract.
        unsafe {
            let message = client.as_ref().map(|h| h.last_error.as_str());
            write_kept_text(message, buf, cap, out_len, "message")
        }
    }
}

/// Writes the message of the last failed `dmnonce_connect()` or
/// `dmnonce_events_open()` on the calling thread (empty after a successful
/// one).
///
/// Ownership: the caller owns `buf`. Thread-safety: per thread by design.
///
/// # Safety
/// `buf` valid for `cap` bytes; `out_len` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn dmnonce_thread_last_error(
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> dmnonce_result {
    ffi_panic_boundary! {
        THREAD_LAST_ERROR.with(|slot| {
            // SAFETY: per the contract.
            unsafe { write_kept_text(Some(&slot.borrow()), buf, cap, out_len, "message") }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_daemon_is_unavailable_with_a_message() {
        let mut out: *mut dmnonce_client = std::ptr::dangling_mut();
        let r = unsafe { dmnonce_connect(c"/nonexistent/dmnonced.sock".as_ptr(), &mut out) };
        assert_eq!(r, DMNONCE_E_DAEMON_UNAVAILABLE);
        assert!(out.is_null());
        let mut buf = [0 as c_char; 256];
        let mut len = 0;
        let r = unsafe { dmnonce_thread_last_error(buf.as_mut_ptr(), buf.len(), &mut len) };
        assert_eq!(r, DMNONCE_OK);
        let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_str()
            .unwrap();
        assert!(text.contains("/nonexistent/dmnonced.sock"), "{text}");
    }

    #[test]
    fn null_out_pointer_is_refused() {
        let r = unsafe { dmnonce_connect(std::ptr::null(), std::ptr::null_mut()) };
        assert_eq!(r, DMNONCE_E_NULL_PARAMETER);
    }
}
