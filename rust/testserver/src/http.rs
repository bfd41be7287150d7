//! A small HTTP/1.1 server over any byte stream (plain TCP or rustls).
//!
//! Enough for SyncML DM over HTTP and the JSON admin API: request line,
//! headers, a `Content-Length` body, keep-alive. Chunked request bodies are
//! refused with 411 (DM clients send a length; SyncML RepPro over HTTP does
//! not need chunking). Limits keep a misbehaving client from eating memory.

use std::io::{self, BufRead, BufReader, Read, Write};

/// Largest request head (request line and headers).
const MAX_HEAD: usize = 64 * 1024;
/// Largest request body.
pub const MAX_BODY: usize = 1024 * 1024;

/// One parsed request.
#[derive(Debug)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target, query string removed.
    pub path: String,
    /// Header fields, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the connection does after the answer is written (fault injection).
pub type AfterWrite = Box<dyn FnOnce() + Send>;

/// One response.
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Content type of the body.
    pub content_type: String,
    /// Extra header fields.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Close the connection without writing anything (an emulated dead link).
    pub drop_connection: bool,
    /// Run after the answer is on the wire; the connection is closed then.
    pub after_write: Option<AfterWrite>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .finish()
    }
}

impl Response {
    /// No answer at all: the connection is closed (emulated link outage).
    pub fn dropped() -> Self {
        Response {
            drop_connection: true,
            ..Response::new(503, "text/plain", Vec::new())
        }
    }
    /// A response with a body of the given type.
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Response {
            status,
            content_type: content_type.into(),
            headers: Vec::new(),
            body,
            drop_connection: false,
            after_write: None,
        }
    }
    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Response::new(status, "application/json", value.to_string().into_bytes())
    }
    /// A JSON error `{"error": "..."}`.
    pub fn error(status: u16, message: impl Into<String>) -> Self {
        Response::json(status, &serde_json::json!({ "error": message.into() }))
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

/// Why reading a request stopped.
enum ReadError {
    /// The peer closed the connection between requests.
    Closed,
    /// An I/O error (timeouts included).
    Io,
    /// A malformed request; answer with this status and close.
    Bad(u16, &'static str),
}

fn read_line(r: &mut impl BufRead, budget: &mut usize) -> Result<Option<String>, ReadError> {
    let mut line = Vec::new();
    let n = r
        .take(*budget as u64 + 1)
        .read_until(b'\n', &mut line)
        .map_err(|_| ReadError::Io)?;
    if n == 0 {
        return Ok(None);
    }
    if n > *budget {
        return Err(ReadError::Bad(413, "request head too large"));
    }
    *budget -= n;
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| ReadError::Bad(400, "request head is not UTF-8"))
}

fn read_request(r: &mut impl BufRead) -> Result<Request, ReadError> {
    let mut budget = MAX_HEAD;
    let line = match read_line(r, &mut budget)? {
        Some(l) => l,
        None => return Err(ReadError::Closed),
    };
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(_version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Bad(400, "malformed request line"));
    };
    let path = target.split('?').next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let Some(h) = read_line(r, &mut budget)? else {
            return Err(ReadError::Io);
        };
        if h.is_empty() {
            break;
        }
        let Some((name, value)) = h.split_once(':') else {
            return Err(ReadError::Bad(400, "malformed header line"));
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let mut req = Request {
        method: method.to_string(),
        path,
        headers,
        body: Vec::new(),
    };
    if req.header("transfer-encoding").is_some() {
        return Err(ReadError::Bad(
            411,
            "chunked request bodies are not supported; send Content-Length",
        ));
    }
    let len = match req.header("content-length") {
        None => 0,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| ReadError::Bad(400, "bad Content-Length"))?,
    };
    if len > MAX_BODY {
        return Err(ReadError::Bad(413, "request body too large"));
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).map_err(|_| ReadError::Io)?;
    req.body = body;
    Ok(req)
}

fn write_response(w: &mut impl Write, resp: &Response, close: bool) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
        resp.status,
        reason(resp.status),
        resp.content_type,
        resp.body.len(),
        if close { "close" } else { "keep-alive" }
    );
    for (n, v) in &resp.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    w.write_all(head.as_bytes())?;
    w.write_all(&resp.body)?;
    w.flush()
}

/// Serves requests on one connection until the peer closes it, asks to
/// close, or sends something malformed.
pub fn serve_connection<S: Read + Write>(stream: S, handler: &dyn Fn(&Request) -> Response) {
    let mut reader = BufReader::new(stream);
    loop {
        match read_request(&mut reader) {
            Ok(req) => {
                let close = req
                    .header("connection")
                    .is_some_and(|v| v.eq_ignore_ascii_case("close"));
                let mut resp = handler(&req);
                if resp.drop_connection {
                    return;
                }
                if write_response(reader.get_mut(), &resp, close).is_err() {
                    return;
                }
                if let Some(after) = resp.after_write.take() {
                    after();
                    return;
                }
                if close {
                    return;
                }
            }
            Err(ReadError::Closed | ReadError::Io) => return,
            Err(ReadError::Bad(status, why)) => {
                let _ = write_response(reader.get_mut(), &Response::error(status, why), true);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// An in-memory stream: reads from `input`, collects writes.
    struct Pipe {
        input: Cursor<Vec<u8>>,
        output: Vec<u8>,
    }
    impl Read for Pipe {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }
    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn run(input: &[u8]) -> String {
        let mut pipe = Pipe {
            input: Cursor::new(input.to_vec()),
            output: Vec::new(),
        };
        serve_connection(&mut pipe, &|req: &Request| {
            Response::new(
                200,
                "text/plain",
                format!("{} {} {}", req.method, req.path, req.body.len()).into_bytes(),
            )
        });
        String::from_utf8(pipe.output).unwrap()
    }

    #[test]
    fn two_keep_alive_requests_get_two_answers() {
        let out = run(
            b"POST /dm?x=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /admin HTTP/1.1\r\n\r\n",
        );
        assert!(out.contains("POST /dm 3"), "{out}");
        assert!(out.contains("GET /admin 0"), "{out}");
    }

    #[test]
    fn chunked_body_is_refused_with_411() {
        let out = run(b"POST /dm HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 411"), "{out}");
    }

    #[test]
    fn oversized_body_is_refused_with_413() {
        let out = run(format!(
            "POST /dm HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        )
        .as_bytes());
        assert!(out.starts_with("HTTP/1.1 413"), "{out}");
    }

    #[test]
    fn garbage_request_line_is_a_400() {
        let out = run(b"garbage\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    }

    #[test]
    fn truncated_body_gets_no_answer() {
        assert_eq!(
            run(b"POST /dm HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"),
            ""
        );
    }
}
