//! `dmnoncectl trace --svg` of a real resync: dmnonced against
//! dmnonce-testserver on 127.0.0.1, the change request's case (the
//! server's stored-nonce notification fails, its default-nonce one is
//! accepted, Pkg#1..#4 run). The SVG must parse as XML and hold one arrow
//! per message of the session, in the order the server saw them.

mod support;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use dmnonce_control::{Event, EventKind};
use quick_xml::events::Event as Xml;
use support::{wait_event, AccountArgs, Daemon, TestServer};

/// The test server's own server id (it signs every Package #0 with it).
const SERVER_ID: &str = "dmnonce-test";
const DEVICE: &str = "device-trace";

/// `(package, direction)` of each `<line class="msg">`, in document order.
fn arrows(svg: &str) -> Vec<(u32, String)> {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut found = Vec::new();
    let mut depth = 0i32;
    loop {
        match reader.read_event().expect("the SVG is well-formed XML") {
            Xml::Eof => break,
            Xml::Start(_) => depth += 1,
            Xml::End(_) => depth -= 1,
            Xml::Empty(e) if e.name().as_ref() == b"line" => {
                let attr = |name: &[u8]| {
                    e.try_get_attribute(name)
                        .unwrap()
                        .map(|a| a.unescape_value().unwrap().into_owned())
                };
                if attr(b"class").as_deref() == Some("msg") {
                    found.push((
                        attr(b"data-package").unwrap().parse().unwrap(),
                        attr(b"data-direction").unwrap(),
                    ));
                }
            }
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unbalanced elements");
    found
}

/// `(package, direction)` of each message the test server logged.
fn server_messages(log: &str) -> Vec<(u32, String)> {
    log.lines()
        .filter_map(|l| {
            let rest = &l[l.find("Pkg#")? + 4..];
            let (n, rest) = rest.split_once(' ')?;
            let dir = if rest.starts_with("from ") {
                "to-server"
            } else if rest.starts_with("to ") {
                "to-device"
            } else {
                return None;
            };
            Some((n.parse().ok()?, dir.to_owned()))
        })
        .collect()
}

#[test]
fn the_svg_of_a_real_resync_holds_one_arrow_per_message_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"), &[], None);
    server.add_device(serde_json::json!({
        "client_name": DEVICE, "server_password": "srv-Trace-pw-1",
        "client_password": "cli-Trace-pw-2", "auth_scheme": "md5", "encoding": "xml",
        "server_nonce_b64": B64.encode(b"server-nonce-now"),
        "client_nonce_b64": B64.encode(b"client-nonce-now"),
    }));
    let ddir = dir.path().join("device");
    std::fs::create_dir_all(&ddir).unwrap();
    let daemon = Daemon::start(&ddir, "");
    // The device holds an older server nonce than the server signs with:
    // the change request's lost step.
    daemon.add_account(&AccountArgs {
        server_id: SERVER_ID,
        url: server.dm_url(),
        client_name: DEVICE,
        scheme: "md5",
        encoding: "xml",
        server_pw: "srv-Trace-pw-1",
        client_pw: "cli-Trace-pw-2",
        server_nonce: Some(b"server-nonce-lost"),
        client_nonce: Some(b"client-nonce-now"),
    });
    let mut events = daemon.subscribe();
    let push = |nonce: &str| {
        let bytes = server.notify(DEVICE, nonce, true);
        let f = support::write_file(dir.path(), "push.bin", &bytes);
        let out = daemon.ctl(&["--json", "push", &f], None);
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        r["outcome"].as_str().unwrap().to_owned()
    };
    assert_eq!(push("stored"), "rejected");
    assert_eq!(push("text"), "resync_started");
    let done = wait_event(&mut events, EventKind::ResyncFinished, 30);
    assert!(matches!(done, Event::ResyncFinished { .. }));

    let svg_path = dir.path().join("trace.svg");
    let out = daemon.ctl(
        &[
            "trace",
            "--server-id",
            SERVER_ID,
            "--svg",
            svg_path.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    let drawn = arrows(&svg);
    let seen = server_messages(&server.log());
    assert_eq!(seen.len(), 4, "server log:\n{}", server.log());
    assert_eq!(drawn, seen, "{svg}");
    // Both notifications are drawn; the end state and a commit are noted.
    assert_eq!(svg.matches(r#"<line class="push""#).count(), 2, "{svg}");
    assert!(svg.contains(r#"<g class="note commit">"#), "{svg}");
    assert!(
        svg.contains("resyncing -&gt; in-sync") || svg.contains("in-sync"),
        "{svg}"
    );

    // The JSON model holds the same messages; no nonce value anywhere.
    let out = daemon.ctl(&["--json", "trace", "--server-id", SERVER_ID], None);
    let model: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let messages: Vec<_> = model["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "message")
        .map(|s| {
            (
                s["package"].as_u64().unwrap() as u32,
                s["direction"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(messages, drawn);
    let text = String::from_utf8_lossy(&out.stdout);
    for secret in [
        "server-nonce",
        "client-nonce",
        "Trace-pw",
        &B64.encode(b"server-nonce-now"),
    ] {
        assert!(
            !text.contains(secret) && !svg.contains(secret),
            "{secret} leaked"
        );
    }
    let out = daemon.ctl(&["trace", "--server-id", SERVER_ID, "--text"], None);
    let chart = String::from_utf8_lossy(&out.stdout);
    assert!(chart.contains("Pkg#1 (Alert 1200/Replace)"), "{chart}");
}
