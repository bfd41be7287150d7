//! The parsed trace: one account's audit entries, read as the story of
//! its notifications and sessions. Pure: entries in, model out.

use dmnonce_control::trace::{MessageRecord, NotificationRecord, NOTIFICATION, SESSION_MESSAGE};
use dmnonce_control::AuditEntryInfo;
use serde::Serialize;

/// The trace of one account (`dmnoncectl trace --json` prints it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    pub server_id: String,
    /// Time of the first and the last step (Unix seconds), if any.
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// The oldest audit id the daemon still keeps (of any account): the
    /// log is pruned in batches, and what is older is not in the trace.
    pub oldest_kept: Option<i64>,
    pub steps: Vec<Step>,
}

/// One thing that happened, in audit order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Step {
    /// A Package #0 from the server and what the daemon made of it.
    Notification {
        id: i64,
        at: i64,
        #[serde(flatten)]
        record: NotificationRecord,
    },
    /// One message of a resync session.
    Message {
        id: i64,
        at: i64,
        #[serde(flatten)]
        record: MessageRecord,
    },
    /// A commit, a failure, a restart, a state change.
    Note {
        id: i64,
        at: i64,
        note: NoteKind,
        /// The audit event name.
        event: String,
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteKind {
    /// Nonces or secrets were committed to the store.
    Commit,
    /// A session failed.
    Failure,
    /// A session was interrupted and retried after a daemon restart.
    Restart,
    /// The account's sync state changed (the last one is the end state).
    State,
    /// Anything else the audit says about the account.
    Other,
}

impl Step {
    pub fn at(&self) -> i64 {
        match self {
            Step::Notification { at, .. } | Step::Message { at, .. } | Step::Note { at, .. } => *at,
        }
    }
}

/// "session id 4660" in the store's fallback entries.
fn session_id_in(detail: &str) -> u16 {
    detail
        .split("session id ")
        .nth(1)
        .and_then(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .unwrap_or(0)
}

/// "default nonce text" in the store's fallback entries (entries written
/// before the reading was recorded have none).
fn reading_in(detail: &str) -> Option<&str> {
    let rest = detail.split("default nonce ").nth(1)?;
    Some(rest.split(|c: char| !c.is_ascii_alphanumeric()).next()?).filter(|r| !r.is_empty())
}

/// The store's default-nonce admissions, read as notifications.
fn admission(event: &str, detail: &str) -> Option<NotificationRecord> {
    let outcome = match event {
        "fallback-used" => "resync_started",
        "replay-rejected" => "replay",
        "fallback-rate-limited" => "rate_limited",
        "fallback-denied" => "policy_denied",
        _ => return None,
    };
    let reading = reading_in(detail);
    let (verdict, matched) = match (event, reading) {
        // Refused by policy before the default nonce could be used.
        ("fallback-denied", _) => ("stored nonces failed".to_owned(), String::new()),
        (_, Some(r)) => (format!("default-nonce-{r}"), format!("default nonce {r}")),
        (_, None) => ("default-nonce".to_owned(), "default nonce".to_owned()),
    };
    Some(NotificationRecord {
        session_id: session_id_in(detail),
        verdict,
        matched,
        outcome: outcome.into(),
    })
}

fn note_kind(event: &str) -> NoteKind {
    match event {
        "nonce-rotated"
        | "nonce-confirmed"
        | "client-nonce-changed"
        | "secret-changed"
        | "secret-confirmed" => NoteKind::Commit,
        "resync-failed" => NoteKind::Failure,
        "pending-failed" => NoteKind::Restart,
        "state-changed" | "resync-started" | "resync-finished" => NoteKind::State,
        _ => NoteKind::Other,
    }
}

/// Reads `entries` (oldest first) as a trace.
pub fn from_entries(
    server_id: &str,
    entries: &[AuditEntryInfo],
    oldest_kept: Option<i64>,
) -> Trace {
    let steps: Vec<Step> = entries.iter().map(step).collect();
    Trace {
        server_id: server_id.to_owned(),
        from: steps.first().map(Step::at),
        to: steps.last().map(Step::at),
        oldest_kept,
        steps,
    }
}

fn step(e: &AuditEntryInfo) -> Step {
    let (id, at) = (e.id, e.at);
    if e.event == NOTIFICATION {
        if let Ok(record) = serde_json::from_str(&e.detail) {
            return Step::Notification { id, at, record };
        }
    }
    if e.event == SESSION_MESSAGE {
        if let Ok(record) = serde_json::from_str(&e.detail) {
            return Step::Message { id, at, record };
        }
    }
    if let Some(record) = admission(&e.event, &e.detail) {
        return Step::Notification { id, at, record };
    }
    Step::Note {
        id,
        at,
        note: note_kind(&e.event),
        event: e.event.clone(),
        text: e.detail.clone(),
    }
}

/// The package's label: `Pkg#1 (Alert 1200/Replace)`.
pub fn message_label(m: &MessageRecord) -> String {
    if m.commands.is_empty() {
        format!("Pkg#{}", m.package)
    } else {
        format!("Pkg#{} ({})", m.package, m.commands.join("/"))
    }
}

/// Which nonce signed it: `client nonce gen 0 (default-text)`.
pub fn nonce_label(m: &MessageRecord) -> String {
    match &m.nonce {
        Some(n) => format!("{} nonce gen {} ({})", n.role, n.generation, n.source),
        None => "nonce unknown (message unreadable)".into(),
    }
}

/// `Pkg#0 session 4660: default-nonce-text -> resync_started`.
pub fn notification_label(n: &NotificationRecord) -> String {
    let matched = if n.matched.is_empty() {
        String::new()
    } else {
        format!(" [{}]", n.matched)
    };
    format!(
        "Pkg#0 session {}: {}{} -> {}",
        n.session_id, n.verdict, matched, n.outcome
    )
}

/// `2026-12-03 15:56:53 UTC` (no calendar crate: days to civil date).
pub fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days_from_civil, inverted.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The title line: account and time range.
pub fn title(t: &Trace) -> String {
    match (t.from, t.to) {
        (Some(a), Some(b)) => format!("{}: {} to {}", t.server_id, utc(a), utc(b)),
        _ => format!("{}: no audit entries kept", t.server_id),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use dmnonce_control::trace::{Direction, NonceUse};

    pub(crate) fn entry(id: i64, event: &str, detail: &str) -> AuditEntryInfo {
        AuditEntryInfo {
            id,
            at: 1_796_313_413 + id,
            event: event.into(),
            detail: detail.into(),
        }
    }

    pub(crate) fn message(package: u32, direction: Direction, commands: &[&str]) -> String {
        let role = match direction {
            Direction::ToServer => "client",
            Direction::ToDevice => "server",
        };
        serde_json::to_string(&MessageRecord {
            session_id: 4660,
            direction,
            package,
            msg_id: package.div_ceil(2),
            commands: commands.iter().map(|c| c.to_string()).collect(),
            statuses: vec![],
            nonce: Some(NonceUse {
                role: role.into(),
                generation: 0,
                source: "default-text".into(),
            }),
            problem: None,
        })
        .unwrap()
    }

    /// The change request's case as the daemon audits it.
    pub(crate) fn change_request_trace() -> Trace {
        let notif = |verdict: &str, outcome: &str| {
            serde_json::to_string(&NotificationRecord {
                session_id: 4660,
                verdict: verdict.into(),
                matched: String::new(),
                outcome: outcome.into(),
            })
            .unwrap()
        };
        let entries = [
            entry(1, "notification", &notif("rejected", "rejected")),
            entry(2, "fallback-used", "session id 4660; default nonce text"),
            entry(3, "state-changed", "in-sync -> resyncing"),
            entry(
                4,
                "session-message",
                &message(1, Direction::ToServer, &["Alert 1200", "Replace"]),
            ),
            entry(
                5,
                "session-message",
                &message(2, Direction::ToDevice, &["Status 212", "Chal"]),
            ),
            entry(
                6,
                "session-message",
                &message(3, Direction::ToServer, &["Status 212", "Chal"]),
            ),
            entry(
                7,
                "nonce-rotated",
                "resync committed: nonces (generation 2)",
            ),
            entry(
                8,
                "session-message",
                &message(4, Direction::ToDevice, &["Status 212"]),
            ),
            entry(9, "resync-failed", "session 4660: <script>\u{1b}[31m"),
        ];
        from_entries("com.example.dm", &entries, Some(1))
    }

    #[test]
    fn entries_become_notifications_messages_and_notes_in_order() {
        let t = change_request_trace();
        let kinds: Vec<&str> = t
            .steps
            .iter()
            .map(|s| match s {
                Step::Notification { .. } => "n",
                Step::Message { .. } => "m",
                Step::Note { .. } => "o",
            })
            .collect();
        assert_eq!(kinds, ["n", "n", "o", "m", "m", "m", "o", "m", "o"]);
        let Step::Notification { record, .. } = &t.steps[1] else {
            panic!()
        };
        assert_eq!(
            (
                record.session_id,
                record.outcome.as_str(),
                record.verdict.as_str(),
                record.matched.as_str()
            ),
            (
                4660,
                "resync_started",
                "default-nonce-text",
                "default nonce text"
            )
        );
        let Step::Note { note, .. } = &t.steps[8] else {
            panic!()
        };
        assert_eq!(*note, NoteKind::Failure);
        assert_eq!(t.from, Some(1_796_313_414));
    }

    #[test]
    fn admissions_name_the_reading_that_matched_when_the_entry_has_it() {
        let read = |event, detail| admission(event, detail).unwrap();
        let replay = read(
            "replay-rejected",
            "session id 7, first accepted at 5; default nonce zero",
        );
        assert_eq!(
            (
                replay.session_id,
                replay.verdict.as_str(),
                replay.matched.as_str()
            ),
            (7, "default-nonce-zero", "default nonce zero")
        );
        let limited = read(
            "fallback-rate-limited",
            "3 accepted in the last 60 s (limit 3); session id 9; default nonce text",
        );
        assert_eq!(
            (limited.session_id, limited.outcome.as_str()),
            (9, "rate_limited")
        );
        assert_eq!(limited.matched, "default nonce text");
        // Entries written before the reading was recorded.
        assert_eq!(
            read("fallback-used", "session id 3").matched,
            "default nonce"
        );
        let denied = read(
            "fallback-denied",
            "policy deny; session id 4; default nonce text",
        );
        assert_eq!(
            (denied.verdict.as_str(), denied.matched.as_str()),
            ("stored nonces failed", "")
        );
    }

    #[test]
    fn utc_dates_are_the_calendar_ones() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_796_313_413), "2026-12-03 15:56:53 UTC");
    }
}
