//! Exit statuses and how a failure reaches stderr: one line of text, or
//! with `--json` one JSON object (docs/cli.md, "Exit status" and
//! "Errors"). Scripts branch on the status, so each class has its own and
//! none is reused for another meaning.

use dmnonce_control::ClientError;
use serde_json::{json, Value};
use std::process::ExitCode;

use crate::json;

/// The command ran and its answer is "no": `pkg0 verify` rejected, `push`
/// dropped, `store check` found damage, `events --timeout` expired.
pub const EXIT_NEGATIVE: u8 = 1;

/// Why a command failed; each class has its exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `events --timeout` expired before enough events arrived.
    Timeout,
    /// Bad command line or unusable input (file, hex, JSON).
    Usage,
    /// No daemon at the socket, or the connection failed or timed out.
    Unreachable,
    /// The daemon answered with an error (its code in `daemon_code`), or
    /// with something this client does not understand.
    Refused,
}

impl Kind {
    pub fn exit_status(self) -> u8 {
        match self {
            Kind::Timeout => EXIT_NEGATIVE,
            Kind::Usage => 2,
            Kind::Unreachable => 3,
            Kind::Refused => 4,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Timeout => "timeout",
            Kind::Usage => "usage",
            Kind::Unreachable => "unreachable",
            Kind::Refused => "refused",
        }
    }
}

/// A failure whose class is known where it happens (e.g. no socket to
/// try), carried through `anyhow` to `main`.
#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The class, the daemon's error code if it gave one, and the message.
fn classify(e: &anyhow::Error) -> (Kind, Option<&'static str>, String) {
    if let Some(f) = e.downcast_ref::<Failure>() {
        return (f.kind, None, f.message.clone());
    }
    if let Some(ce) = e.downcast_ref::<ClientError>() {
        // The client's message already names its cause; the chain would
        // repeat it.
        let message = ce.to_string();
        return match ce {
            ClientError::Connect { .. }
            | ClientError::Io(_)
            | ClientError::Timeout
            | ClientError::Closed => (Kind::Unreachable, None, message),
            ClientError::Daemon(wire) => (Kind::Refused, Some(wire.code.as_str()), message),
            ClientError::Protocol(_) | ClientError::UnsupportedVersion { .. } => {
                (Kind::Refused, None, message)
            }
        };
    }
    (Kind::Usage, None, format!("{e:#}"))
}

/// Writes the failure to stderr and returns its exit status.
pub fn report(json_output: bool, e: &anyhow::Error) -> ExitCode {
    let (kind, daemon_code, message) = classify(e);
    emit(json_output, "error", kind.name(), daemon_code, &message);
    ExitCode::from(kind.exit_status())
}

/// Writes a failure of a known class (clap's usage errors, a timeout).
pub fn report_kind(json_output: bool, kind: Kind, message: &str) -> ExitCode {
    emit(json_output, "error", kind.name(), None, message);
    ExitCode::from(kind.exit_status())
}

/// A warning: the command goes on. `kind` names it for scripts.
pub fn warn(json_output: bool, kind: &str, message: &str) {
    emit(json_output, "warning", kind, None, message);
}

fn emit(json_output: bool, what: &str, kind: &str, daemon_code: Option<&str>, message: &str) {
    if json_output {
        let mut fields = vec![("kind", json!(kind))];
        if let Some(code) = daemon_code {
            fields.push(("daemon_code", json!(code)));
        }
        fields.push(("message", json!(message)));
        // Written as text so that the inner object keeps its documented
        // order too (a serde_json map would sort it).
        eprintln!("{{{}:{}}}", Value::from(what), json::object(&fields));
    } else if what == "warning" {
        eprintln!("dmnoncectl: warning: {message}");
    } else {
        eprintln!("dmnoncectl: {message}");
    }
}
