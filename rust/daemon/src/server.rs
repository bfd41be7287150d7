//! The control socket server: one thread per connection, bounded.
//!
//! Bounds: at most `control.max_connections` connections, of which at most
//! `control.max_connections_per_uid` from one peer uid (more are told
//! `busy` and closed; peers outside `allowed_uids` get `permission_denied`
//! before they hold a slot), lines at most [`dmnonce_control::MAX_FRAME_LEN`]
//! (longer: `frame_too_large`, closed), `control.idle_timeout_ms` with
//! nothing sent since connecting or since the last answer (closed),
//! `control.request_timeout_ms` from a request's first byte to its newline
//! (closed), `control.write_timeout_ms` for a peer to take a line (closed).
//! Both read limits are deadlines, not per-`read()` timeouts: a client that
//! dribbles a byte at a time cannot hold a slot. A subscriber that falls
//! behind is cut off by the event bus, which closes its connection.
//! Bad input is answered with an error and the connection keeps going.
//!
//! A refused connection (`permission_denied`, `busy`, `frame_too_large`) is
//! answered with its error line, half-closed, and its input read and thrown
//! away for a moment before the close: closing a Unix socket with unread
//! input resets the peer, and a client that writes its request before it
//! reads would see ECONNRESET or EPIPE instead of the refusal (issue 17).

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dmnonce_control::{
    encode_event, encode_response, parse_request, ErrorCode, FrameError, FrameReader, Request,
    WireError,
};
use serde_json::json;

use crate::shared::Shared;
use crate::slots::{NoSlot, Slots};

/// How often an idle subscriber connection is checked for a hang-up.
const SUBSCRIBER_POLL: Duration = Duration::from_secs(1);

/// How long a refused peer's input is read and dropped after its error
/// line: long enough for a client that writes first to get to its read.
const LINGER: Duration = Duration::from_secs(1);
/// Input taken from one refused peer at most: a largest request and more.
const LINGER_MAX_BYTES: usize = 2 * dmnonce_control::MAX_FRAME_LEN;
/// Refused connections lingering at once (as many more may wait in the
/// hand-over queue); beyond that one is closed at once, as before.
const MAX_LINGERING: usize = 64;
/// How often the lingering set looks for newly handed-over connections.
const LINGER_TICK: Duration = Duration::from_millis(50);

/// Serves `listener` until `wake` becomes readable (the stop signal).
pub fn serve(shared: &Arc<Shared>, listener: &UnixListener, wake: &UnixStream) -> io::Result<()> {
    let c = &shared.config.control;
    let slots = Slots::new(c.max_connections, c.max_connections_per_uid);
    let linger = Linger::start();
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
            refuse(
                &linger,
                stream,
                ErrorCode::PermissionDenied,
                "peer uid not allowed",
            );
            continue;
        }
        let slot = match slots.take(uid) {
            Ok(slot) => slot,
            Err(NoSlot::Full) => {
                log::warn!(
                    "control: {} connections open; refusing another",
                    c.max_connections
                );
                refuse(
                    &linger,
                    stream,
                    ErrorCode::Busy,
                    "too many connections; retry later",
                );
                continue;
            }
            Err(NoSlot::UidShare) => {
                log::warn!(
                    "control: uid {uid} holds {} connections, its share; refusing another",
                    c.max_connections_per_uid
                );
                refuse(
                    &linger,
                    stream,
                    ErrorCode::Busy,
                    "too many connections from this uid; retry later",
                );
                continue;
            }
        };
        let s = shared.clone();
        let l = linger.clone();
        let spawned = std::thread::Builder::new()
            .name("control-conn".into())
            .spawn(move || {
                let _slot = slot;
                connection(&s, &l, stream);
            });
        if let Err(e) = spawned {
            log::error!("control: cannot start a connection thread: {e}");
        }
    }
}

fn refuse(linger: &Linger, mut stream: UnixStream, code: ErrorCode, message: &str) {
    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
    if stream
        .write_all(&encode_response(0, Err(WireError::new(code, message))))
        .is_ok()
    {
        linger.hand_over(stream);
    }
}

/// Refused connections on their way out: each has had its error line and
/// is half-closed, so its peer reads the line and then end of stream; what
/// the peer still sends is read and dropped until it hangs up, for at most
/// [`LINGER`] and [`LINGER_MAX_BYTES`], and only then is the socket closed.
/// One thread for all of them, so a flood of refusals costs no threads and
/// never stalls the accept loop.
#[derive(Clone)]
struct Linger {
    queue: SyncSender<(UnixStream, Instant)>,
}

impl Linger {
    fn start() -> Linger {
        let (queue, rx) = sync_channel(MAX_LINGERING);
        let started = std::thread::Builder::new()
            .name("control-linger".into())
            .spawn(move || linger_loop(&rx));
        if let Err(e) = started {
            // The receiver is gone with the closure: refusals close at once.
            log::error!("control: cannot start the refusal thread: {e}");
        }
        Linger { queue }
    }

    /// Half-closes `stream` and lets it linger; closes it at once when too
    /// many do already.
    fn hand_over(&self, stream: UnixStream) {
        if stream.shutdown(Shutdown::Write).is_err() || stream.set_nonblocking(true).is_err() {
            return;
        }
        if self
            .queue
            .try_send((stream, Instant::now() + LINGER))
            .is_err()
        {
            log::debug!("control: too many refused connections lingering; closing one at once");
        }
    }
}

struct Lingering {
    stream: UnixStream,
    until: Instant,
    taken: usize,
}

fn linger_loop(rx: &Receiver<(UnixStream, Instant)>) {
    let mut held: Vec<Lingering> = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if held.is_empty() {
            match rx.recv() {
                Ok((stream, until)) => held.push(Lingering {
                    stream,
                    until,
                    taken: 0,
                }),
                Err(_) => return,
            }
        }
        while held.len() < MAX_LINGERING {
            match rx.try_recv() {
                Ok((stream, until)) => held.push(Lingering {
                    stream,
                    until,
                    taken: 0,
                }),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let now = Instant::now();
        let wait = held
            .iter()
            .map(|h| h.until.saturating_duration_since(now))
            .min()
            .unwrap_or_default()
            .min(LINGER_TICK);
        let fds: Vec<RawFd> = held.iter().map(|h| h.stream.as_raw_fd()).collect();
        let ready = crate::sys::poll_readable_within(&fds, Some(wait)).unwrap_or_default();
        let now = Instant::now();
        held.retain_mut(|h| {
            if ready.contains(&h.stream.as_raw_fd()) && !drain(h, &mut buf) {
                return false;
            }
            now < h.until
        });
    }
}

/// Reads what a lingering peer sent; false when it is done with (hung up,
/// failed, or sent more than its allowance).
fn drain(h: &mut Lingering, buf: &mut [u8]) -> bool {
    loop {
        match (&h.stream).read(buf) {
            Ok(0) => return false,
            Ok(n) => {
                h.taken += n;
                if h.taken >= LINGER_MAX_BYTES {
                    return false;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// When the connection must have sent its next request whole: the idle
/// limit counts from the last answer until a first byte arrives, the
/// request limit from that byte. Only an answer starts them again, so blank
/// lines or a line sent a byte at a time gain nothing.
struct ReadDeadline {
    idle: Duration,
    whole: Duration,
    answered: Instant,
    first_byte: Option<Instant>,
}

impl ReadDeadline {
    fn answered(&mut self, still_buffered: bool) {
        self.answered = Instant::now();
        // Pipelined bytes of the next request are its first bytes.
        self.first_byte = still_buffered.then_some(self.answered);
    }

    fn received(&mut self) {
        self.first_byte.get_or_insert_with(Instant::now);
    }

    /// Time left and which limit it is.
    fn left(&self) -> (Duration, &'static str) {
        let (at, which) = match self.first_byte {
            Some(t) => (t + self.whole, "request deadline"),
            None => (self.answered + self.idle, "idle timeout"),
        };
        (at.saturating_duration_since(Instant::now()), which)
    }
}

fn connection(shared: &Arc<Shared>, linger: &Linger, mut stream: UnixStream) {
    let c = &shared.config.control;
    let _ = stream.set_write_timeout(Some(Duration::from_millis(c.write_timeout_ms.max(1))));
    let mut deadline = ReadDeadline {
        idle: Duration::from_millis(c.idle_timeout_ms.max(1)),
        whole: Duration::from_millis(c.request_timeout_ms.max(1)),
        answered: Instant::now(),
        first_byte: None,
    };
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
                deadline.answered(frames.pending() > 0);
                continue;
            }
            Ok(None) => {}
            Err(FrameError::TooLarge { max }) => {
                log::warn!("control: line over {max} bytes; disconnecting the peer");
                let e = WireError::new(ErrorCode::FrameTooLarge, format!("line over {max} bytes"));
                if send(&mut stream, &encode_response(0, Err(e))).is_ok() {
                    // The rest of the long line is still coming.
                    linger.hand_over(stream);
                }
                return;
            }
            Err(FrameError::NotUtf8) => {
                let e = WireError::new(ErrorCode::BadRequest, "line is not UTF-8");
                if send(&mut stream, &encode_response(0, Err(e))).is_err() {
                    return;
                }
                deadline.answered(frames.pending() > 0);
                continue;
            }
        }
        if shared.is_stopping() {
            return;
        }
        let (left, which) = deadline.left();
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            log::debug!("control: connection closed at its {which}");
            return;
        }
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                deadline.received();
                frames.feed(&buf[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                log::debug!("control: connection closed at its {which}");
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
    // Cut off for not keeping up: shut the socket down, so that a write
    // blocked on a peer that does not read fails now and the slot is freed.
    let on_cut: Option<crate::events::OnCut> =
        stream.try_clone().ok().map(|s| -> crate::events::OnCut {
            Box::new(move || {
                let _ = s.shutdown(Shutdown::Both);
            })
        });
    let rx = shared.events.subscribe_with(kinds, on_cut);
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
