//! A blocking client of the control socket.
//!
//! This is the only code outside the daemon that speaks the protocol: the C
//! ABI, the JNI bindings and `dmnoncectl` all go through it. A [`Client`]
//! is used by one thread at a time (it holds one connection and a read
//! buffer); open one per thread or guard it with a mutex.

use crate::error::WireError;
use crate::frame::{FrameError, FrameReader};
use crate::message::*;
use serde::de::DeserializeOwned;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("cannot connect to dmnonced at {path}: {source} (is the daemon running?)")]
    Connect { path: PathBuf, source: io::Error },
    #[error("control socket I/O failed: {0}")]
    Io(#[from] io::Error),
    #[error("timed out waiting for dmnonced")]
    Timeout,
    #[error("dmnonced closed the connection")]
    Closed,
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The daemon's lines carry a protocol version this client does not
    /// speak (`"v"` of the envelope); nothing it said was used.
    #[error(
        "dmnonced speaks protocol version {daemon}; this client speaks {}",
        crate::PROTOCOL_VERSION
    )]
    UnsupportedVersion { daemon: u64 },
    #[error("dmnonced refused the request: {0}")]
    Daemon(WireError),
}

/// After this long without a request, [`Client::call`] checks that the
/// daemon still holds the connection before sending (a probe per call would
/// double every round trip).
pub const IDLE_CHECK_AFTER: Duration = Duration::from_secs(1);

/// One connection to the daemon, for requests and responses.
///
/// The daemon closes request connections that stay silent for its idle
/// timeout (60 s by default), and it may restart. A client survives both:
/// after a pause of `IDLE_CHECK_AFTER`, the next call first probes the
/// connection with `hello` and reconnects when the daemon had closed it.
/// The probe is idempotent, so the request itself is sent exactly once (a
/// repeated default-nonce push would count as a replay).
#[derive(Debug)]
pub struct Client {
    conn: Connection,
    next_id: u64,
    path: PathBuf,
    last_used: Instant,
}

impl Client {
    /// Connects to the daemon's control socket.
    pub fn connect(path: impl AsRef<Path>) -> Result<Client, ClientError> {
        let path = path.as_ref();
        let stream = UnixStream::connect(path).map_err(|source| ClientError::Connect {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Client {
            conn: Connection::new(stream),
            next_id: 1,
            path: path.to_path_buf(),
            last_used: Instant::now(),
        })
    }

    /// Sets how long a request may wait for its response.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.conn.timeout = timeout;
    }

    /// Sends a request and returns its raw `result` value.
    pub fn call(&mut self, request: &Request) -> Result<serde_json::Value, ClientError> {
        self.revive_if_idle()?;
        let result = self.exchange(request);
        self.last_used = Instant::now();
        result
    }

    /// Replaces a connection the daemon closed while this client sat idle.
    /// A failed probe leaves `last_used` alone, so the next call probes
    /// again and the client recovers once the daemon is back.
    fn revive_if_idle(&mut self) -> Result<(), ClientError> {
        if self.last_used.elapsed() < IDLE_CHECK_AFTER {
            return Ok(());
        }
        match self.exchange(&Request::Hello) {
            Ok(_) => Ok(()),
            Err(ClientError::Closed | ClientError::Io(_)) => {
                let timeout = self.conn.timeout;
                *self = Client::connect(&self.path)?;
                self.conn.timeout = timeout;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// One request, one response, on the current connection.
    fn exchange(&mut self, request: &Request) -> Result<serde_json::Value, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        if let Err(e) = self.conn.send(&encode_request(id, request)) {
            // A daemon that refuses the connection (permission_denied) says
            // why before hanging up; that reason beats "closed".
            if let ClientError::Closed = e {
                let grace = Instant::now() + Duration::from_millis(200);
                if let Ok(Some(ServerMessage::Response {
                    result: Err(why), ..
                })) = self.conn.read_message(Some(grace))
                {
                    return Err(ClientError::Daemon(why));
                }
            }
            return Err(e);
        }
        let deadline = Instant::now() + self.conn.timeout;
        loop {
            match self.conn.read_message(Some(deadline))? {
                None => return Err(ClientError::Timeout),
                Some(ServerMessage::Response { id: got, result }) if got == id => {
                    return result.map_err(ClientError::Daemon)
                }
                // Id 0 answers a request whose id the daemon could not read,
                // or a connection it refuses outright (permission_denied,
                // frame_too_large): the error is ours either way.
                Some(ServerMessage::Response {
                    id: 0,
                    result: Err(e),
                }) => return Err(ClientError::Daemon(e)),
                // A response to an earlier request that timed out on our side,
                // or an event on a connection that subscribed: not ours.
                Some(_) => continue,
            }
        }
    }

    fn call_typed<T: DeserializeOwned>(&mut self, request: &Request) -> Result<T, ClientError> {
        let value = self.call(request)?;
        serde_json::from_value(value).map_err(|e| {
            ClientError::Protocol(format!("unexpected result for {}: {e}", request.op()))
        })
    }

    pub fn hello(&mut self) -> Result<HelloResult, ClientError> {
        self.call_typed(&Request::Hello)
    }

    /// Hands in a push; `format` says what the bytes are.
    pub fn push(&mut self, format: PushFormat, data: &[u8]) -> Result<PushResult, ClientError> {
        self.call_typed(&Request::Push(PushRequest {
            format,
            data_b64: Some(crate::b64_encode(data)),
            ..Default::default()
        }))
    }

    /// Hands in SMS-DELIVER TPDUs (all or some fragments of one push).
    pub fn push_sms(
        &mut self,
        pdus: &[Vec<u8>],
        smsc_included: bool,
    ) -> Result<PushResult, ClientError> {
        self.call_typed(&Request::Push(PushRequest {
            format: PushFormat::Sms,
            data_b64: None,
            sms_pdus_b64: pdus.iter().map(|p| crate::b64_encode(p)).collect(),
            smsc_included,
        }))
    }

    pub fn verify(&mut self, package0: &[u8]) -> Result<VerifyResult, ClientError> {
        self.call_typed(&Request::Verify(VerifyRequest {
            package0_b64: crate::b64_encode(package0),
        }))
    }

    pub fn client_cred(
        &mut self,
        server_id: &str,
        body: Option<&[u8]>,
    ) -> Result<ClientCredResult, ClientError> {
        self.call_typed(&Request::ClientCred(ClientCredRequest {
            server_id: server_id.into(),
            body_b64: body.map(crate::b64_encode),
        }))
    }

    pub fn check_server_cred(
        &mut self,
        server_id: &str,
        body: Option<&[u8]>,
        cred_data: Option<&str>,
        hmac_header: Option<&str>,
    ) -> Result<bool, ClientError> {
        let result: CheckServerCredResult =
            self.call_typed(&Request::CheckServerCred(CheckServerCredRequest {
                server_id: server_id.into(),
                body_b64: body.map(crate::b64_encode),
                cred_data: cred_data.map(str::to_owned),
                hmac_header: hmac_header.map(str::to_owned),
            }))?;
        Ok(result.valid)
    }

    pub fn accept_chal(
        &mut self,
        server_id: &str,
        next_nonce_b64: &str,
    ) -> Result<(), ClientError> {
        let _: Empty = self.call_typed(&Request::AcceptChal(AcceptChalRequest {
            server_id: server_id.into(),
            next_nonce_b64: next_nonce_b64.into(),
        }))?;
        Ok(())
    }

    pub fn issue_chal(
        &mut self,
        server_id: &str,
        encoding: Option<Encoding>,
    ) -> Result<IssueChalResult, ClientError> {
        self.call_typed(&Request::IssueChal(IssueChalRequest {
            server_id: server_id.into(),
            encoding,
        }))
    }

    pub fn status(&mut self) -> Result<StatusResult, ClientError> {
        self.call_typed(&Request::Status)
    }

    pub fn account_add(&mut self, account: AccountSpec) -> Result<(), ClientError> {
        let _: Empty = self.call_typed(&Request::AccountAdd(AccountAddRequest { account }))?;
        Ok(())
    }

    pub fn account_remove(&mut self, server_id: &str) -> Result<(), ClientError> {
        let _: Empty = self.call_typed(&Request::AccountRemove(AccountRemoveRequest {
            server_id: server_id.into(),
        }))?;
        Ok(())
    }

    pub fn account_list(&mut self) -> Result<Vec<AccountInfo>, ClientError> {
        let result: AccountListResult = self.call_typed(&Request::AccountList)?;
        Ok(result.accounts)
    }

    /// One page of an account's audit entries after id `after`.
    pub fn audit(&mut self, server_id: &str, after: i64) -> Result<AuditResult, ClientError> {
        self.call_typed(&Request::Audit(AuditRequest {
            server_id: server_id.into(),
            after,
            limit: None,
        }))
    }

    /// Turns this connection into an event stream (empty `kinds` = all).
    pub fn subscribe(mut self, kinds: &[EventKind]) -> Result<EventStream, ClientError> {
        let _: Empty = self.call_typed(&Request::Subscribe(SubscribeRequest {
            kinds: kinds.to_vec(),
        }))?;
        Ok(EventStream { conn: self.conn })
    }
}

/// A subscribed connection: events only.
#[derive(Debug)]
pub struct EventStream {
    conn: Connection,
}

impl EventStream {
    /// Waits for the next event; `Ok(None)` when `timeout` passes first
    /// (`None` waits without limit).
    pub fn next_event(&mut self, timeout: Option<Duration>) -> Result<Option<Event>, ClientError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            match self.conn.read_message(deadline)? {
                None => return Ok(None),
                Some(ServerMessage::Event(event)) => return Ok(Some(event)),
                Some(ServerMessage::Response { .. }) => continue,
            }
        }
    }
}

#[derive(Debug)]
struct Connection {
    stream: UnixStream,
    frames: FrameReader,
    timeout: Duration,
}

impl Connection {
    fn new(stream: UnixStream) -> Self {
        Connection {
            stream,
            frames: FrameReader::default(),
            timeout: crate::defaults::REQUEST_TIMEOUT,
        }
    }

    fn send(&mut self, line: &[u8]) -> Result<(), ClientError> {
        self.stream.set_write_timeout(Some(self.timeout))?;
        self.stream.write_all(line).map_err(|e| match e.kind() {
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => ClientError::Closed,
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ClientError::Timeout,
            _ => ClientError::Io(e),
        })
    }

    /// Reads the next message; `Ok(None)` when the deadline passes.
    fn read_message(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Option<ServerMessage>, ClientError> {
        loop {
            match self.frames.next_line() {
                Ok(Some(line)) => {
                    return parse_server_line(&line).map(Some).map_err(|e| match e {
                        LineError::Version(daemon) => ClientError::UnsupportedVersion { daemon },
                        LineError::Malformed(m) => ClientError::Protocol(m),
                    })
                }
                Ok(None) => {}
                Err(e @ (FrameError::TooLarge { .. } | FrameError::NotUtf8)) => {
                    return Err(ClientError::Protocol(e.to_string()))
                }
            }
            let wait = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Ok(None),
                },
                None => None,
            };
            self.stream.set_read_timeout(wait)?;
            let mut buf = [0u8; 8192];
            match self.stream.read(&mut buf) {
                Ok(0) => return Err(ClientError::Closed),
                Ok(n) => self.frames.feed(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Err(ClientError::Closed)
                }
                Err(e) => return Err(ClientError::Io(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{encode_event, encode_response, parse_request, ErrorCode};
    use std::io::BufRead;
    use std::os::unix::net::UnixListener;

    /// A minimal peer on a real socket that answers with canned lines, to
    /// test the client's side of the framing (the daemon has its own tests).
    fn serve_once(answer: impl FnOnce(u64, Request, &mut UnixStream) + Send + 'static) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "dmnonce-ctl-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.sock");
        let listener = UnixListener::bind(&path).unwrap();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut line = String::new();
            io::BufReader::new(stream.try_clone().unwrap())
                .read_line(&mut line)
                .unwrap();
            let (id, req) = parse_request(line.trim_end()).unwrap();
            answer(id, req, &mut stream);
        });
        path
    }

    fn rand_suffix() -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    }

    #[test]
    fn daemon_absent_is_a_connect_error() {
        let err = Client::connect("/nonexistent/dmnonced.sock").unwrap_err();
        assert!(matches!(err, ClientError::Connect { .. }), "{err}");
    }

    #[test]
    fn typed_error_reaches_the_caller() {
        let path = serve_once(|id, req, s| {
            assert_eq!(req.op(), "push");
            s.write_all(&encode_response(
                id,
                Err(WireError::new(ErrorCode::BadPush, "truncated")),
            ))
            .unwrap();
        });
        let mut c = Client::connect(&path).unwrap();
        match c.push(PushFormat::Auto, b"\x01") {
            Err(ClientError::Daemon(e)) => assert_eq!(e.code, ErrorCode::BadPush),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn connection_level_refusal_reaches_the_caller() {
        let path = serve_once(|_, _, s| {
            s.write_all(&encode_response(
                0,
                Err(WireError::new(
                    ErrorCode::PermissionDenied,
                    "uid 1234 not allowed",
                )),
            ))
            .unwrap();
        });
        let mut c = Client::connect(&path).unwrap();
        match c.hello() {
            Err(ClientError::Daemon(e)) => assert_eq!(e.code, ErrorCode::PermissionDenied),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_connection_closed_while_idle_is_replaced_and_the_request_sent_once() {
        let dir = std::env::temp_dir().join(format!(
            "dmnonce-ctl-idle-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            // First connection: answer the connect-time request, then hang up
            // as an idle-timing-out daemon does.
            let mut ops = Vec::new();
            let (first, _) = listener.accept().unwrap();
            let mut reader = io::BufReader::new(first.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let (id, req) = parse_request(line.trim_end()).unwrap();
            ops.push(req.op());
            (&first)
                .write_all(&encode_response(
                    id,
                    Ok(serde_json::json!({"protocol":1,"daemon_version":"t"})),
                ))
                .unwrap();
            drop(reader);
            drop(first);
            // Second connection: every request is answered.
            let (second, _) = listener.accept().unwrap();
            let mut reader = io::BufReader::new(second.try_clone().unwrap());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 {
                    break;
                }
                let (id, req) = parse_request(line.trim_end()).unwrap();
                ops.push(req.op());
                (&second)
                    .write_all(&encode_response(id, Ok(serde_json::json!({}))))
                    .unwrap();
            }
            ops
        });
        let mut c = Client::connect(&path).unwrap();
        c.hello().unwrap();
        std::thread::sleep(IDLE_CHECK_AFTER + Duration::from_millis(100));
        c.accept_chal("s", "AAAA").unwrap();
        drop(c);
        let ops = server.join().unwrap();
        // The push-like request went out exactly once, on the new connection.
        assert_eq!(
            ops.iter().filter(|op| **op == "accept_chal").count(),
            1,
            "{ops:?}"
        );
        assert_eq!(ops.last(), Some(&"accept_chal"), "{ops:?}");
    }

    #[test]
    fn a_response_in_another_protocol_version_is_refused() {
        let path = serve_once(|id, _, s| {
            writeln!(
                s,
                r#"{{"v":2,"id":{id},"ok":true,"result":{{"protocol":2,"daemon_version":"9"}}}}"#
            )
            .unwrap();
        });
        let mut c = Client::connect(&path).unwrap();
        match c.hello() {
            Err(e @ ClientError::UnsupportedVersion { daemon: 2 }) => {
                assert!(e.to_string().contains("version 2"), "{e}")
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn an_outcome_from_a_newer_daemon_is_unknown() {
        let path = serve_once(|id, _, s| {
            writeln!(
                s,
                r#"{{"v":1,"id":{id},"ok":true,"result":{{"outcome":"quarantined"}}}}"#
            )
            .unwrap();
        });
        let mut c = Client::connect(&path).unwrap();
        let r = c.push(PushFormat::Auto, b"\x01").unwrap();
        assert_eq!(r.outcome, PushOutcome::Unknown);
    }

    #[test]
    fn silent_daemon_times_out() {
        let path = serve_once(|_, _, _stream| {
            std::thread::sleep(Duration::from_millis(500));
        });
        let mut c = Client::connect(&path).unwrap();
        c.set_timeout(Duration::from_millis(100));
        assert!(matches!(c.hello(), Err(ClientError::Timeout)));
    }

    #[test]
    fn subscription_yields_events_after_the_ack() {
        let path = serve_once(|id, _, s| {
            s.write_all(&encode_response(id, Ok(serde_json::json!({}))))
                .unwrap();
            s.write_all(&encode_event(&Event::ResyncStarted {
                server_id: "a".into(),
                session_id: 1,
            }))
            .unwrap();
            s.write_all(b"{\"v\":1,\"event\":{\"kind\":\"quota-warning\",\"server_id\":\"a\"}}\n")
                .unwrap();
            s.write_all(&encode_event(&Event::ResyncFinished {
                server_id: "a".into(),
                session_id: 1,
            }))
            .unwrap();
        });
        let mut events = Client::connect(&path).unwrap().subscribe(&[]).unwrap();
        let ev = events.next_event(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(ev.map(|e| e.kind()), Some(EventKind::ResyncStarted));
        // A newer daemon's kind is handed over as such; the stream goes on.
        let ev = events
            .next_event(Some(Duration::from_secs(5)))
            .unwrap()
            .unwrap();
        assert_eq!(ev.unknown_kind(), Some("quota-warning"));
        let ev = events.next_event(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(ev.map(|e| e.kind()), Some(EventKind::ResyncFinished));
        // The peer hung up after one event.
        assert!(matches!(
            events.next_event(Some(Duration::from_secs(5))),
            Err(ClientError::Closed)
        ));
    }
}
