//! The resync session's HTTP(S) transport: ureq over rustls, the CA file
//! from the configuration, timeouts, and retries with back-off when the
//! network fails. An HTTP status other than 200 or a body that is not
//! SyncML is a failure of the session, not of the network: not retried.

use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::Agent;

use crate::config::HttpSettings;

/// The `x-syncml-hmac` header name.
pub const HMAC_HEADER: &str = "x-syncml-hmac";

/// A server's answer.
pub struct Reply {
    /// The body.
    pub body: Vec<u8>,
    /// The `x-syncml-hmac` header, if any.
    pub hmac_header: Option<String>,
}

/// Why a message could not be exchanged.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Network trouble on every try.
    #[error("network error after {attempts} attempt(s): {last}")]
    Network {
        /// Tries made.
        attempts: u32,
        /// The last error.
        last: String,
    },
    /// The server answered with an HTTP error status.
    #[error("server answered HTTP {0}")]
    Status(u16),
    /// The answer is not a SyncML DM message.
    #[error("server answered with content type {0:?}, not SyncML DM")]
    NotSyncMl(String),
    /// The answer is larger than allowed, or unreadable.
    #[error("server answer unreadable: {0}")]
    Body(String),
    /// TLS or URL problem that a retry cannot fix.
    #[error("{0}")]
    Fatal(String),
    /// The daemon is stopping.
    #[error("daemon stopping")]
    Stopping,
}

/// Why the transport could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The CA file could not be read or holds no certificate.
    #[error("http.ca_file {path}: {message}")]
    CaFile {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// An HTTP client configured once and shared by every session.
pub struct Transport {
    agent: Agent,
    settings: HttpSettings,
}

impl Transport {
    /// Builds the client: trust anchors, timeouts, no proxy from the
    /// environment (a DM server is reached directly), no redirects.
    pub fn new(settings: &HttpSettings) -> Result<Transport, TransportError> {
        let mut tls = TlsConfig::builder();
        if let Some(path) = &settings.ca_file {
            let err = |message: String| TransportError::CaFile {
                path: path.display().to_string(),
                message,
            };
            let pem = std::fs::read(path).map_err(|e| err(e.to_string()))?;
            let mut certs = Vec::new();
            for item in ureq::tls::parse_pem(&pem) {
                match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c.to_owned()),
                    Ok(_) => {}
                    Err(e) => return Err(err(e.to_string())),
                }
            }
            if certs.is_empty() {
                return Err(err("no certificate in the file".into()));
            }
            let certs: Vec<Certificate<'static>> = certs;
            tls = tls.root_certs(RootCerts::Specific(Arc::new(certs)));
        }
        let config = Agent::config_builder()
            .tls_config(tls.build())
            .proxy(None)
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_millis(settings.connect_timeout_ms)))
            .timeout_global(Some(Duration::from_millis(settings.request_timeout_ms)))
            .user_agent(concat!("dmnonced/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Transport {
            agent: config.into(),
            settings: settings.clone(),
        })
    }

    /// POSTs one message, retrying network failures with back-off.
    /// `stopping` is polled between tries.
    pub fn exchange(
        &self,
        url: &str,
        content_type: &str,
        body: &[u8],
        hmac_header: Option<&str>,
        stopping: &dyn Fn() -> bool,
    ) -> Result<Reply, HttpError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.once(url, content_type, body, hmac_header) {
                Err(Try::Retry(last)) => {
                    if attempt >= self.settings.max_attempts {
                        return Err(HttpError::Network {
                            attempts: attempt,
                            last,
                        });
                    }
                    let pause = self.settings.backoff(attempt);
                    log::info!(
                        "http: try {attempt} failed ({last}); retrying in {} ms",
                        pause.as_millis()
                    );
                    if sleep_unless(pause, stopping) {
                        return Err(HttpError::Stopping);
                    }
                }
                Err(Try::Fail(e)) => return Err(e),
                Ok(r) => return Ok(r),
            }
        }
    }

    fn once(
        &self,
        url: &str,
        content_type: &str,
        body: &[u8],
        hmac_header: Option<&str>,
    ) -> Result<Reply, Try> {
        let mut req = self
            .agent
            .post(url)
            .header("Content-Type", content_type)
            .header("Accept", content_type);
        if let Some(h) = hmac_header {
            req = req.header(HMAC_HEADER, h);
        }
        let mut resp = req.send(body).map_err(classify)?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(Try::Fail(HttpError::Status(status)));
        }
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if !ct
            .to_ascii_lowercase()
            .starts_with("application/vnd.syncml.dm+")
        {
            return Err(Try::Fail(HttpError::NotSyncMl(ct)));
        }
        let hmac = resp
            .headers()
            .get(HMAC_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = resp
            .body_mut()
            .with_config()
            .limit(self.settings.max_body_bytes)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::Timeout(_) | ureq::Error::Io(_) => Try::Retry(e.to_string()),
                other => Try::Fail(HttpError::Body(other.to_string())),
            })?;
        Ok(Reply {
            body,
            hmac_header: hmac,
        })
    }
}

enum Try {
    Retry(String),
    Fail(HttpError),
}

fn classify(e: ureq::Error) -> Try {
    match e {
        // rustls reports a refused certificate as InvalidData: retrying
        // cannot make it valid.
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            Try::Fail(HttpError::Fatal(format!("TLS: {io}")))
        }
        ureq::Error::Timeout(_)
        | ureq::Error::Io(_)
        | ureq::Error::ConnectionFailed
        | ureq::Error::HostNotFound => Try::Retry(e.to_string()),
        other => Try::Fail(HttpError::Fatal(other.to_string())),
    }
}

/// Sleeps `d` in short steps; true if a stop was requested meanwhile.
fn sleep_unless(d: Duration, stopping: &dyn Fn() -> bool) -> bool {
    let step = Duration::from_millis(50);
    let mut left = d;
    while !left.is_zero() {
        if stopping() {
            return true;
        }
        let s = left.min(step);
        std::thread::sleep(s);
        left -= s;
    }
    stopping()
}
