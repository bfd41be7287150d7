//! `dmnoncectl trace --text`: the trace as a message sequence chart in the
//! terminal. Two lifelines (device left, DM server right), one arrow per
//! message, notes between them.

use dmnonce_control::trace::Direction;

use super::escape::terminal;
use super::model::{self, NoteKind, Step, Trace};

/// Columns between the two lifelines.
const SPAN: usize = 60;

fn arrow(direction: Direction, double: bool) -> String {
    let body = if double { "=" } else { "-" };
    match direction {
        Direction::ToServer => format!("  |{}>|", body.repeat(SPAN - 1)),
        Direction::ToDevice => format!("  |<{}|", body.repeat(SPAN - 1)),
    }
}

/// A line of text between the lifelines (cut to fit, the rest after).
fn between(text: &str) -> String {
    let text = terminal(text);
    let shown: String = text.chars().take(SPAN - 2).collect();
    let pad = SPAN.saturating_sub(shown.chars().count() + 2);
    let rest: String = text.chars().skip(SPAN - 2).collect();
    format!("  | {shown}{} |{rest}", " ".repeat(pad))
}

fn note(kind: NoteKind, event: &str, text: &str) -> String {
    let mark = match kind {
        NoteKind::Commit => "commit",
        NoteKind::Failure => "FAILURE",
        NoteKind::Restart => "restart",
        NoteKind::State => "state",
        NoteKind::Other => "note",
    };
    // Notes may be long (a failure's reason): past the lifelines.
    format!("  +-- [{mark}] {event}: {}", terminal(text))
}

/// The whole chart.
pub fn render(t: &Trace) -> String {
    let mut out = vec![
        terminal(&model::title(t)),
        format!("  Device{}DM server", " ".repeat(SPAN - 5)),
    ];
    for s in &t.steps {
        match s {
            Step::Notification { record, .. } => {
                out.push(between(&model::notification_label(record)));
                out.push(arrow(Direction::ToDevice, true));
                if record.verdict.starts_with("default-nonce") {
                    out.push(note(NoteKind::Other, "fallback", &record.matched));
                }
            }
            Step::Message { record, .. } => {
                out.push(between(&model::message_label(record)));
                out.push(arrow(record.direction, false));
                out.push(between(&model::nonce_label(record)));
                if let Some(p) = &record.problem {
                    out.push(note(NoteKind::Failure, "refused", p));
                }
            }
            Step::Note {
                note: kind,
                event,
                text,
                ..
            } => out.push(note(*kind, event, text)),
        }
    }
    if let Some(oldest) = t.oldest_kept {
        out.push(format!(
            "  (audit entries before id {oldest} were pruned and are not shown)"
        ));
    }
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::model::tests::change_request_trace;

    #[test]
    fn one_arrow_per_message_in_order_with_labels_and_notes() {
        let text = render(&change_request_trace());
        let arrows: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("->|") || l.contains("|<-"))
            .collect();
        assert_eq!(arrows.len(), 4, "{text}");
        assert!(arrows[0].ends_with(">|") && arrows[1].contains("|<-"));
        let p1 = text.find("Pkg#1 (Alert 1200/Replace)").expect("Pkg#1");
        let p4 = text.find("Pkg#4 (Status 212)").expect("Pkg#4");
        assert!(p1 < p4);
        assert!(text.contains("[commit] nonce-rotated"), "{text}");
        assert!(text.contains("client nonce gen 0 (default-text)"), "{text}");
        assert!(
            text.starts_with("com.example.dm: 2026-12-03 15:56:54 UTC"),
            "{text}"
        );
    }

    #[test]
    fn peer_text_cannot_reach_the_terminal_raw() {
        let text = render(&change_request_trace());
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("[FAILURE] resync-failed: session 4660: <script>\\u{1b}[31m"));
    }
}
