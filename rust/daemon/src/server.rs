//! The control socket server: one thread per connection, bounded.
//!
//! Bounds: at most `control.max_connections` connections, of which at most
//! `control.max_connections_per_uid` from one peer uid (more are told
//! `busy` and closed; peers outside `allowed_uids` get `permission_denied`
//! before they hold a slot), lines at most [`dmnonce_control::MAX_FRAME_LEN`]
//! (longer: `frame_too_large`, closed), `control.idle_timeout_ms` without a
//! request (closed), `control.write_timeout_ms` for a peer to take a line
//! (closed). A subscriber that falls behind is cut off by the event bus.
//! Bad input is answered with an error and the connection keeps going.

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::Duration;

use dmnonce_control::{
    encode_event, encode_response, parse_request, ErrorCode, FrameError, FrameReader, Request,
    WireError,
};
use serde_json::json;

use crate::shared::Shared;
use crate::slots::{NoSlot, Slots};

/// How often an idle subscriber connection is checked for a hang-up.
const SUBSCRIBER_POLL: Duration = Duration::from_secs(1);

/// Serves `listener` until `wake` becomes readable (the stop signal).
pub fn serve(shared: &Arc<Shared>, listener: &UnixListener, wake: &UnixStream) -> io::Result<()> {
    let c = &shared.config.control;
    let slots = Slots::new(c.max_connections, c.max_connections_per_uid);
    let (lfd, wfd) = (listener.as_raw_fd(), wake.as_raw_fd());
    loop {
        let ready = crate::sys::poll_readable(&[lfd, wfd])?;
        if ready.contains(&wfd) || shared.is_stopping() {
            return Ok(());
        }
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                log::warn!("control: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let uid = match crate::sys::peer_uid(&stream) {
            Ok(uid) => uid,
            Err(e) => {
                log::warn!("control: cannot read peer credentials: {e}");
                continue;
            }
        };
        if !shared.config.allowed_uids.contains(&uid) {
            log::warn!("control: peer uid {uid} is not allowed; disconnected");
            refuse(stream, ErrorCode::PermissionDenied, "peer uid not allowed");
            continue;
        }
        let slot = match slots.take(uid) {
            Ok(slot) => slot,
            Err(NoSlot::Full) => {
                log::warn!(
                    "control: {} connections open; refusing another",
                    c.max_connections
                );
                refuse(stream, ErrorCode::Busy, "too many connections; retry later");
                continue;
            }
            Err(NoSlot::UidShare) => {
                log::warn!(
                    "control: uid {uid} holds {} connections, its share; refusing another",
                    c.max_connections_per_uid
                );
                refuse(
                    stream,
                    ErrorCode::Busy,
                    "too many connections from this uid; retry later",
                );
                continue;
            }
        };
        let s = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("control-conn".into())
            .spawn(move || {
                let _slot = slot;
                connection(&s, stream);
            });
        if let Err(e) = spawned {
            log::error!("control: cannot start a connection thread: {e}");
        }
    }
}

fn refuse(mut stream: UnixStream, code: ErrorCode, message: &str) {
    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
    let _ = stream.write_all(&encode_response(0, Err(WireError::new(code, message))));
}

fn connection(shared: &Arc<Shared>, mut stream: UnixStream) {
    let c = &shared.config.control;
    let _ = stream.set_read_timeout(Some(Duration::from_millis(c.idle_timeout_ms.max(1))));
    let _ = stream.set_write_timeout(Some(Duration::from_millis(c.write_timeout_ms.max(1))));
    let mut frames = FrameReader::default();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match frames.next_line() {
            Ok(Some(line)) => {
                if line.trim().is_empty() {
                    continue;
                }
                match parse_request(&line) {
                    Err((id, e)) => {
                        // Not the message: a parser's message may quote a
                        // misplaced value, and that could be a secret.
                        log::debug!(
                            "control: request of {} bytes refused: {}",
                            line.len(),
                            e.code
                        );
                        if send(&mut stream, &encode_response(id.unwrap_or(0), Err(e))).is_err() {
                            return;
                        }
                    }
                    Ok((id, Request::Subscribe(sub))) => {
                        if send(&mut stream, &encode_response(id, Ok(json!({})))).is_err() {
                            return;
                        }
                        return subscriber(shared, stream, sub.kinds);
                    }
                    Ok((id, request)) => {
                        let op = request.op();
                        let result = crate::requests::handle(shared, request);
                        if let Err(e) = &result {
                            log::debug!("control: {op} answered {}", e.code);
                        }
                        if send(&mut stream, &encode_response(id, result)).is_err() {
                            return;
                        }
                    }
                }
                continue;
            }
            Ok(None) => {}
            Err(FrameError::TooLarge { max }) => {
                log::warn!("control: line over {max} bytes; disconnecting the peer");
                let e = WireError::new(ErrorCode::FrameTooLarge, format!("line over {max} bytes"));
                let _ = send(&mut stream, &encode_response(0, Err(e)));
                return;
            }
            Err(FrameError::NotUtf8) => {
                let e = WireError::new(ErrorCode::BadRequest, "line is not UTF-8");
                if send(&mut stream, &encode_response(0, Err(e))).is_err() {
                    return;
                }
                continue;
            }
        }
        if shared.is_stopping() {
            return;
        }
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => frames.feed(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                log::debug!("control: idle connection closed");
                return;
            }
            Err(_) => return,
        }
    }
}

fn send(stream: &mut UnixStream, line: &[u8]) -> io::Result<()> {
    stream.write_all(line).inspect_err(|e| {
        log::debug!("control: peer not taking data ({e}); disconnected");
    })
}

/// A subscribed connection: events out, nothing in. Ends when the peer
/// hangs up, stops reading (write timeout), or falls too far behind.
fn subscriber(
    shared: &Arc<Shared>,
    mut stream: UnixStream,
    kinds: Vec<dmnonce_control::EventKind>,
) {
    let wants_alerts = kinds.is_empty() || kinds.contains(&dmnonce_control::EventKind::Alert);
    let rx = shared.events.subscribe(kinds);
    log::debug!("control: subscriber connected");
    if wants_alerts {
        // Alerts that arrived while nobody listened, oldest first.
        for event in crate::alerts::take_held(shared) {
            if send(&mut stream, &encode_event(&event)).is_err() {
                return;
            }
        }
    }
    loop {
        match rx.recv_timeout(SUBSCRIBER_POLL) {
            Ok(event) => {
                if send(&mut stream, &encode_event(&event)).is_err() {
                    return;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if shared.is_stopping() || peer_gone(&stream) {
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Whether the peer closed its end (anything it sends is ignored).
fn peer_gone(stream: &UnixStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let mut buf = [0u8; 512];
    let gone = loop {
        match (&*stream).read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break true,
        }
    };
    let _ = stream.set_nonblocking(false);
    gone
}
