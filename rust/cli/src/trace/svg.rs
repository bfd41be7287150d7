//! `dmnoncectl trace --svg FILE`: the trace drawn like the change
//! request's Figure 1. Self-contained (generic font family, no stylesheet,
//! no external reference): two lifelines with their labels at the top, one
//! `<line class="msg">` per session message in order, a dashed
//! `<line class="push">` per notification, boxed notes for commits and
//! failures, a title with the account and the time range.
//!
//! The label boxes sit at fixed positions ([`DEVICE_LABEL`],
//! [`SERVER_LABEL`]) so a screenshot test can look for them.

use dmnonce_control::trace::Direction;

use super::escape::xml;
use super::model::{self, NoteKind, Step, Trace};

pub const WIDTH: u32 = 760;
/// The lifelines' x positions.
const DEVICE_X: u32 = 120;
const SERVER_X: u32 = 640;
/// Label boxes (x, y, width, height), centred on their lifelines.
pub const DEVICE_LABEL: (u32, u32, u32, u32) = (DEVICE_X - 80, 36, 160, 36);
pub const SERVER_LABEL: (u32, u32, u32, u32) = (SERVER_X - 80, 36, 160, 36);
const TOP: u32 = 72;
const MESSAGE_ROW: u32 = 48;
const NOTE_ROW: u32 = 30;

fn text(x: u32, y: u32, anchor: &str, size: u32, fill: &str, body: &str) -> String {
    format!(
        r#"<text x="{x}" y="{y}" text-anchor="{anchor}" font-family="sans-serif" font-size="{size}" fill="{fill}">{}</text>"#,
        xml(body)
    )
}

/// Text centred between the lifelines: an arrow's labels.
fn centred_text(y: u32, size: u32, fill: &str, body: &str) -> String {
    text((DEVICE_X + SERVER_X) / 2, y, "middle", size, fill, body)
}

fn label(b: (u32, u32, u32, u32), name: &str) -> String {
    let (x, y, w, h) = b;
    format!(
        r##"<rect class="lifeline-label" x="{x}" y="{y}" width="{w}" height="{h}" fill="#1b2a4a" stroke="#000" stroke-width="2"/>{}"##,
        text(x + w / 2, y + h / 2 + 6, "middle", 16, "#fff", name)
    )
}

fn arrow(class: &str, direction: Direction, y: u32, extra: &str) -> String {
    let (x1, x2) = match direction {
        Direction::ToServer => (DEVICE_X, SERVER_X),
        Direction::ToDevice => (SERVER_X, DEVICE_X),
    };
    let dir = match direction {
        Direction::ToServer => "to-server",
        Direction::ToDevice => "to-device",
    };
    format!(
        r##"<line class="{class}" data-direction="{dir}"{extra} x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="#000" stroke-width="1.5" marker-end="url(#head)"/>"##
    )
}

fn note(kind: NoteKind, event: &str, body: &str, y: u32) -> String {
    let fill = match kind {
        NoteKind::Commit => "#fff4c2",
        NoteKind::Failure => "#ffd0d0",
        NoteKind::Restart => "#ffe2b8",
        NoteKind::State | NoteKind::Other => "#eeeeee",
    };
    let class = match kind {
        NoteKind::Commit => "commit",
        NoteKind::Failure => "failure",
        NoteKind::Restart => "restart",
        NoteKind::State => "state",
        NoteKind::Other => "other",
    };
    let mut shown = format!("{event}: {body}");
    if shown.chars().count() > 80 {
        shown = shown.chars().take(79).collect::<String>() + "…";
    }
    format!(
        r##"<g class="note {class}"><rect x="{}" y="{}" width="{}" height="22" fill="{fill}" stroke="#666"/>{}</g>"##,
        DEVICE_X + 10,
        y,
        SERVER_X - DEVICE_X - 20,
        text(DEVICE_X + 16, y + 15, "start", 11, "#000", &shown)
    )
}

/// The whole drawing.
pub fn render(t: &Trace) -> String {
    let mut body = Vec::new();
    let mut y = TOP + 20;
    for s in &t.steps {
        match s {
            Step::Notification { record, .. } => {
                y += MESSAGE_ROW / 2;
                body.push(centred_text(
                    y - 6,
                    12,
                    "#000",
                    &model::notification_label(record),
                ));
                body.push(arrow(
                    "push",
                    Direction::ToDevice,
                    y,
                    r#" stroke-dasharray="6 4""#,
                ));
                y += MESSAGE_ROW / 2;
            }
            Step::Message { record, .. } => {
                y += MESSAGE_ROW / 2;
                body.push(centred_text(
                    y - 6,
                    13,
                    "#000",
                    &model::message_label(record),
                ));
                let extra = format!(r#" data-package="{}""#, record.package);
                body.push(arrow("msg", record.direction, y, &extra));
                body.push(centred_text(
                    y + 14,
                    10,
                    "#555",
                    &model::nonce_label(record),
                ));
                y += MESSAGE_ROW / 2;
                if let Some(p) = &record.problem {
                    body.push(note(NoteKind::Failure, "refused", p, y));
                    y += NOTE_ROW;
                }
            }
            Step::Note {
                note: kind,
                event,
                text,
                ..
            } => {
                body.push(note(*kind, event, text, y));
                y += NOTE_ROW;
            }
        }
    }
    let height = y + 30;
    let mut out = vec![
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">"#
        ),
        r##"<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#000"/></marker></defs>"##.to_owned(),
        format!(r##"<rect width="{WIDTH}" height="{height}" fill="#fff"/>"##),
        format!(
            "<title>{}</title>",
            xml(&format!("dmnonce trace of {}", model::title(t)))
        ),
        text(WIDTH / 2, 22, "middle", 15, "#000", &model::title(t)),
        label(DEVICE_LABEL, "Device"),
        label(SERVER_LABEL, "DM server"),
    ];
    for x in [DEVICE_X, SERVER_X] {
        out.push(format!(
            r##"<line class="lifeline" x1="{x}" y1="{TOP}" x2="{x}" y2="{}" stroke="#888" stroke-width="2"/>"##,
            height - 20
        ));
    }
    out.extend(body);
    if let Some(oldest) = t.oldest_kept {
        out.push(text(
            10,
            height - 6,
            "start",
            10,
            "#555",
            &format!("audit entries before id {oldest} were pruned and are not shown"),
        ));
    }
    out.push("</svg>".to_owned());
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::model::tests::change_request_trace;

    #[test]
    fn one_msg_line_per_message_in_package_order_and_notes() {
        let svg = render(&change_request_trace());
        let packages: Vec<&str> = svg
            .lines()
            .filter(|l| l.starts_with(r#"<line class="msg""#))
            .map(|l| {
                l.split("data-package=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
            })
            .collect();
        assert_eq!(packages, ["1", "2", "3", "4"], "{svg}");
        assert_eq!(svg.matches(r#"<line class="push""#).count(), 2);
        assert!(svg.contains(r#"<g class="note commit">"#));
        assert!(svg.contains(r#"<g class="note failure">"#));
        assert!(svg.contains(">Device</text>") && svg.contains(">DM server</text>"));
        assert!(!svg.contains("<style") && !svg.contains("href=\"http"));
    }

    #[test]
    fn peer_text_is_escaped_for_xml() {
        let svg = render(&change_request_trace());
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;\\u{1b}[31m"));
    }
}
