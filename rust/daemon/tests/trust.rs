//! Trust boundaries (issue 17) with real processes: one daemon per state
//! directory, the state directory's owner, secrets kept out of dmnoncectl's
//! errors, peer text kept from forging log lines, and the checks on
//! `account_add`'s input.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use support::Daemon;

/// Runs dmnonced in the foreground until it exits (or 10 s pass).
fn run_daemon(config: &Path, state: &Path, socket: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dmnonced"))
        .arg("--config")
        .arg(config)
        .arg("--state-dir")
        .arg(state)
        .arg("--socket")
        .arg(socket)
        .arg("-v")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dmnonced");
    if support::wait_timeout(&mut child, Duration::from_secs(10)).is_none() {
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!(
            "dmnonced kept running:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_second_daemon_on_the_same_state_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = Daemon::start(dir.path(), "");
    let lock = dir.path().join("state/dmnonced.lock");
    let recorded = std::fs::read_to_string(&lock).unwrap();
    assert_eq!(recorded.trim(), first.pid().to_string());

    // Same state directory, its own socket: the socket test alone let it in.
    let other = dir.path().join("other.sock");
    let out = run_daemon(&first.config, &dir.path().join("state"), &other);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("in use by another dmnonced (pid {};", first.pid())),
        "{err}"
    );
    assert!(!err.contains("dmnonced ready"), "{err}");
    assert!(!other.exists(), "the refused daemon bound its socket");

    // The first one still serves, and its lock file is untouched.
    first.client().hello().unwrap();
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), recorded);

    // Once it stopped, the state directory is free again.
    let config = first.config.clone();
    assert_eq!(first.stop(), Some(0));
    let mut second = Daemon::start_with(dir.path(), &config);
    assert!(second.alive());
    assert_eq!(
        std::fs::read_to_string(&lock).unwrap().trim(),
        second.pid().to_string()
    );
}

#[test]
fn a_state_directory_owned_by_another_uid_is_refused() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to give the directory to another uid");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dmnonced.toml"), support::config_text("")).unwrap();
    // Pre-created by `nobody`, open to everyone.
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::os::unix::fs::chown(&state, Some(65534), Some(65534)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();

    let out = run_daemon(
        &dir.path().join("dmnonced.toml"),
        &state,
        &dir.path().join("d.sock"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "state directory {} is owned by uid 65534, not by uid 0",
            state.display()
        )),
        "{err}"
    );
    // Refused before anything was created or changed in it.
    assert_eq!(std::fs::read_dir(&state).unwrap().count(), 0);
    let meta = std::fs::metadata(&state).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o777);

    // Given back to us, the same directory is used (and closed to others).
    std::os::unix::fs::chown(&state, Some(0), Some(0)).unwrap();
    let d = Daemon::start(dir.path(), "");
    d.client().hello().unwrap();
    let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}

#[test]
fn a_bad_nonce_in_the_secrets_file_is_not_quoted_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), "");
    // A Base64 nonce with one character outside the alphabet: base64's own
    // message would quote that character's code (126 for `~`).
    let secrets = serde_json::json!({
        "server_password": "Srv-Secret-0", "client_password": "Cli-Secret-1",
        "server_nonce_b64": "c2Vj~mV0",
    });
    let out = d.ctl(
        &[
            "account",
            "add",
            "--server-id",
            "dm.trust.test",
            "--server-url",
            "http://127.0.0.1:9/dm",
            "--client-name",
            "device-1",
            "--secrets-file",
            "-",
        ],
        Some(secrets.to_string().as_bytes()),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("server_nonce_b64: not Base64 (invalid character at offset 4)"),
        "{err}"
    );
    for value in ["126", "~", "c2Vj", "Srv-Secret-0", "Cli-Secret-1"] {
        assert!(!err.contains(value), "{value} echoed: {err}");
        assert!(!d.log().contains(value), "{value} logged: {}", d.log());
    }
    // Nothing was added; the daemon still serves.
    assert!(d.client().account_list().unwrap().is_empty());
}

/// Every stderr line is one of the daemon's own: its `dmnonced[pid] LEVEL`
/// prefix, or the ready line. A peer's `\n` would start a line without it.
fn assert_no_forged_line(d: &Daemon) {
    let log = d.log();
    let prefix = format!("dmnonced[{}] ", d.pid());
    for line in log.lines() {
        assert!(
            line.starts_with(&prefix) || line.starts_with("dmnonced ready socket="),
            "forged log line {line:?} in:\n{log}"
        );
    }
    assert!(!log.contains(['\r', '\u{1b}', '\u{202e}']), "{log:?}");
}

#[test]
fn peer_text_cannot_forge_a_log_line() {
    use dmnonce_control::{AccountSpec, AuthScheme, Encoding, Policy, PushFormat};
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), "");
    let forged = "\ndmnonced[1] ERROR dmnonced::daemon: FORGED\r\u{1b}[1A\u{202e}";

    // A server id over the control socket (refused or added: either way
    // nothing of it may start a line).
    let spec = |server_id: String| AccountSpec {
        server_id,
        server_url: "http://127.0.0.1:9/dm".into(),
        client_name: "device-1".into(),
        auth_scheme: AuthScheme::Md5,
        encoding: Encoding::Xml,
        policy: Policy::Allow,
        server_password: "Srv-Secret-0".into(),
        client_password: "Cli-Secret-1".into(),
        server_nonce_b64: None,
        client_nonce_b64: None,
    };
    let id = format!("dm.evil{forged}");
    let _ = d.client().account_add(spec(id.clone()));
    let _ = d.client().account_remove(&id);
    let _ = d.client().accept_chal(&id, "bm9uY2UtMQ==");

    // A WSP push whose content type (text form, NUL-terminated) carries it.
    let mut ct = format!("text/x{forged}").into_bytes();
    ct.push(0);
    let mut wsp = vec![0x01, 0x06, ct.len() as u8];
    wsp.extend(&ct);
    wsp.extend(b"body of the push, long enough to be one");
    let r = d.client().push(PushFormat::Wsp, &wsp);
    assert!(r.is_err(), "{r:?}");

    // A Package #0 for that server id.
    let pkg0 = dmnonce_proto::Notification::new(&id, 7)
        .sign(b"Srv-Secret-0", b"n")
        .unwrap();
    let _ = d.client().push(PushFormat::Package0, &pkg0);

    // Each reached the log, escaped.
    d.client().hello().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_no_forged_line(&d);
    let log = d.log();
    assert!(log.contains("text/x\\ndmnonced[1] ERROR"), "{log}");
    assert!(log.contains("dm.evil\\ndmnonced[1] ERROR"), "{log}");
    assert!(!log.contains("Srv-Secret-0") && !log.contains("Cli-Secret-1"));
}

#[test]
fn account_add_refuses_weak_ids_and_urls_naming_the_field() {
    use dmnonce_control::{AccountSpec, AuthScheme, ClientError, Encoding, ErrorCode, Policy};
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), "");
    let spec = |server_id: &str, client_name: &str, url: &str| AccountSpec {
        server_id: server_id.into(),
        server_url: url.into(),
        client_name: client_name.into(),
        auth_scheme: AuthScheme::Md5,
        encoding: Encoding::Xml,
        policy: Policy::Allow,
        server_password: "Srv-Secret-0".into(),
        client_password: "Cli-Secret-1".into(),
        server_nonce_b64: None,
        client_nonce_b64: None,
    };
    // `says`: the field's prefix, then the reason somewhere after it.
    let refused = |s: AccountSpec, code: ErrorCode, says: &str| {
        let shown = format!("{:?}/{:?}/{:?}", s.server_id, s.client_name, s.server_url);
        let (field, why) = says.split_once(": ").unwrap_or((says, ""));
        match d.client().account_add(s) {
            Err(ClientError::Daemon(e)) => {
                assert_eq!(e.code, code, "{shown}: {}", e.message);
                let at = e.message.find(field);
                assert!(at.is_some(), "{shown}: {}", e.message);
                assert!(
                    e.message[at.unwrap()..].contains(why),
                    "{shown}: {}",
                    e.message
                );
                assert!(!e.message.contains("Secret"), "{}", e.message);
            }
            other => panic!("{shown}: {other:?}"),
        }
    };
    let url = "https://dm.example.net/dm";
    d.client()
        .account_add(spec("dm.example.net", "device-1", url))
        .unwrap();

    // Server ids and client names: one rule for both.
    let long = "x".repeat(256);
    for (id, why) in [
        ("dm.nul\0", "control or invisible"),
        ("dm.crlf\r\nx", "control or invisible"),
        ("dm.\u{202e}ten.xe", "control or invisible"),
        (" dm.spaced", "whitespace"),
        ("dm.spaced ", "whitespace"),
        ("", "empty"),
        (long.as_str(), "longer than 255 bytes"),
    ] {
        refused(
            spec(id, "device-1", url),
            ErrorCode::BadRequest,
            &format!("invalid server_id: {why}"),
        );
        refused(
            spec("dm.other", id, url),
            ErrorCode::BadRequest,
            &format!("invalid client_name: {why}"),
        );
    }
    // Case-sensitive, but a new id equal to one ignoring ASCII case is a
    // duplicate; so is the same id again.
    refused(
        spec("DM.Example.NET", "device-2", url),
        ErrorCode::AccountExists,
        "\"dm.example.net\" exists already; server ids that differ only in ASCII case",
    );
    refused(
        spec("dm.example.net", "device-2", url),
        ErrorCode::AccountExists,
        "\"dm.example.net\" exists already",
    );

    // URLs: parsed, not prefix-matched.
    for (url, why) in [
        ("http://", "has no host"),
        ("https://:443/dm", "has no host"),
        ("https:///dm", "has no host"),
        (
            "ftp://dm.example.net/",
            "must start with http:// or https://",
        ),
        (
            "https://dm.example.net:0/dm",
            "port must be a number from 1 to 65535",
        ),
        ("https://dm.example.net:65536/dm", "port must be a number"),
        ("https://dm.example.net:8a/dm", "port must be a number"),
        ("https://user:pw@dm.example.net/dm", "user name or password"),
        (
            "https://dm..example.net/dm",
            "host must be a name or address",
        ),
        ("https://dm.example.net/d m", "whitespace"),
        ("https://[::1/dm", "closing ]"),
    ] {
        refused(
            spec("dm.url.test", "device-3", url),
            ErrorCode::BadRequest,
            &format!("invalid server_url: {why}"),
        );
    }
    d.client()
        .account_add(spec("dm.v6.test", "device-4", "http://[::1]:8080/dm"))
        .unwrap();
    d.client()
        .account_add(spec("DM Server 5", "Gerät 5", "http://127.0.0.1:9/dm"))
        .unwrap();

    // Nothing refused was added, nothing was lost, the daemon serves on.
    let ids: Vec<String> = d
        .client()
        .account_list()
        .unwrap()
        .into_iter()
        .map(|a| a.server_id)
        .collect();
    assert_eq!(ids, ["DM Server 5", "dm.example.net", "dm.v6.test"]);
    assert_no_forged_line(&d);
}
