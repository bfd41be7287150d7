//! dmnoncectl against a real dmnonced: how it finds the socket (docs/cli.md,
//! "Finding the daemon"), its exit statuses and its JSON errors, and the
//! warning for a secrets file others can read.

mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use support::{stderr_json, Ctl, Daemon};

/// A daemon on its per-user default socket `$XDG_RUNTIME_DIR/dmnonced.sock`
/// (its config names no socket), with `<root>/with-socket.toml`: the same
/// configuration naming that socket, as a packaged one does.
struct Setup {
    root: tempfile::TempDir,
    daemon: Daemon,
}

impl Setup {
    fn start() -> Setup {
        let root = tempfile::tempdir().unwrap();
        let run = dir(root.path(), "run");
        let state = root.path().join("state");
        let body = format!(
            "state_dir = \"{}\"\n[ofono]\nenabled = false\n",
            state.display()
        );
        let config = root.path().join("dmnonced.toml");
        std::fs::write(&config, &body).unwrap();
        let socket = run.join("dmnonced.sock");
        let named = format!("socket = \"{}\"\n{body}", socket.display());
        std::fs::write(root.path().join("with-socket.toml"), named).unwrap();
        let daemon = Daemon::start(&config, &[("XDG_RUNTIME_DIR", &run)], &socket);
        Setup { root, daemon }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }
}

fn dir(root: &Path, name: &str) -> PathBuf {
    let p = root.join(name);
    std::fs::create_dir(&p).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
    p
}

fn answers_status(out: &std::process::Output) -> bool {
    out.status.success()
        && serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .is_ok_and(|v| v["daemon_version"].is_string())
}

#[test]
fn the_socket_comes_from_flag_then_env_then_config_then_defaults() {
    let s = Setup::start();
    let good = s.daemon.socket.clone();
    let bogus = s.path("nobody-here.sock");
    let config = s.path("with-socket.toml");
    let elsewhere = tempfile::tempdir().unwrap();

    // --config alone, from another directory: its `socket`.
    let out = Ctl::new(&["--json", "--config", config.to_str().unwrap(), "status"])
        .cwd(elsewhere.path())
        .run();
    assert!(answers_status(&out), "{out:?}");

    // DMNONCE_SOCKET alone.
    let out = Ctl::new(&["--json", "status"])
        .env("DMNONCE_SOCKET", &good)
        .cwd(elsewhere.path())
        .run();
    assert!(answers_status(&out), "{out:?}");

    // The variable wins over --config, the flag over the variable: each
    // time the bogus one is used, so the daemon is unreachable (3).
    let out = Ctl::new(&["--config", config.to_str().unwrap(), "status"])
        .env("DMNONCE_SOCKET", &bogus)
        .run();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody-here.sock"));
    let out = Ctl::new(&["--socket", bogus.to_str().unwrap(), "status"])
        .env("DMNONCE_SOCKET", &good)
        .run();
    assert_eq!(out.status.code(), Some(3), "{out:?}");

    // Nothing named: the per-user default, as the daemon computed it.
    let system = ["/run/dmnonced.sock", "/dev/socket/dmnonced"];
    if system.iter().any(|p| Path::new(p).exists()) {
        eprintln!("a packaged dmnonced runs here: its socket comes first, default not checked");
        return;
    }
    let out = Ctl::new(&["--json", "status"])
        .env("XDG_RUNTIME_DIR", s.path("run"))
        .cwd(elsewhere.path())
        .run();
    assert!(answers_status(&out), "{out:?}");
}

#[test]
fn without_a_daemon_the_defaults_are_named_and_the_status_is_3() {
    let home = tempfile::tempdir().unwrap();
    let out = Ctl::new(&["--json", "status"])
        .env("HOME", home.path())
        .run();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let err = stderr_json(&out);
    assert_eq!(err["error"]["kind"], "unreachable");
    let message = err["error"]["message"].as_str().unwrap();
    // System sockets first, then the XDG default under HOME.
    let user = home.path().join(".local/state/dmnonce/dmnonced.sock");
    let order = [
        "/run/dmnonced.sock",
        "/dev/socket/dmnonced",
        user.to_str().unwrap(),
    ];
    let at: Vec<usize> = order.iter().map(|p| message.find(p).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{message}");
    assert!(out.stdout.is_empty());
}

#[test]
fn exit_statuses_and_json_errors() {
    let s = Setup::start();
    let sock = s.daemon.socket.to_str().unwrap().to_owned();
    let ctl = |args: &[&str]| {
        let mut all = vec!["--socket", sock.as_str()];
        all.extend_from_slice(args);
        Ctl::new(&all).run()
    };

    // 4: the daemon refused (no such account); its code in daemon_code.
    let out = ctl(&["--json", "account", "remove", "--server-id", "nobody"]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = stderr_json(&out);
    assert_eq!(err["error"]["kind"], "refused");
    assert_eq!(err["error"]["daemon_code"], "unknown_account");
    assert!(out.stdout.is_empty());
    // Without --json: one text line.
    let out = ctl(&["account", "remove", "--server-id", "nobody"]);
    assert_eq!(out.status.code(), Some(4));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.starts_with("dmnoncectl: ") && text.lines().count() == 1,
        "{text}"
    );

    // 1: a push the daemon dropped (nobody's account) is a "no", not an error.
    let pkg = s.path("p.bin");
    let build = Ctl::new(&[
        "pkg0",
        "build",
        "--server-id",
        "nobody",
        "--password",
        "pw",
        "--nonce-hex",
        "00",
        "--session-id",
        "1",
        "-o",
        pkg.to_str().unwrap(),
    ])
    .run();
    assert!(build.status.success(), "{build:?}");
    let out = ctl(&["--json", "push", pkg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["outcome"], "unknown_account");

    // 2: usage, as JSON too (clap's own errors), with clap's suggestion.
    let out = ctl(&["--json", "account", "remove"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr_json(&out)["error"]["kind"], "usage");
    let out = ctl(&["stauts"]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("a similar subcommand exists: 'status'"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");

    // 1 with --json: events that never came are a JSON "timeout".
    let out = ctl(&["--json", "events", "--count", "1", "--timeout", "0.2"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    let last = text.lines().last().unwrap();
    let err: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(err["error"]["kind"], "timeout");
}

const SECRETS: &str = r#"{"server_password":"Srv-Secret-0","client_password":"Cli-Secret-1"}"#;

#[test]
fn a_secrets_file_others_can_read_is_warned_about() {
    let s = Setup::start();
    let sock = s.daemon.socket.to_str().unwrap().to_owned();
    let add = |file: &Path, id: &str, json: bool| {
        let mut args = vec!["--socket", sock.as_str()];
        if json {
            args.push("--json");
        }
        args.extend_from_slice(&[
            "account",
            "add",
            "--server-id",
            id,
            "--server-url",
            "https://dm.example.net/dm",
            "--client-name",
            "dev",
            "--secrets-file",
            file.to_str().unwrap(),
        ]);
        Ctl::new(&args).run()
    };
    let file = s.path("secrets.json");
    std::fs::write(&file, SECRETS).unwrap();
    for (mode, warned) in [(0o600, false), (0o640, true), (0o666, true), (0o604, true)] {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let id = format!("dm-{mode:o}");
        let out = add(&file, &id, false);
        // The warning does not stop the command.
        assert!(out.status.success(), "{mode:o}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.contains("warning:"), warned, "{mode:o}: {err}");
        if warned {
            assert!(err.contains(&format!("mode {mode:04o}")), "{err}");
        }
        assert!(!err.contains("Secret-"), "{err}");
    }
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = add(&file, "dm-json", true);
    assert!(out.status.success(), "{out:?}");
    let warning = stderr_json(&out);
    assert_eq!(warning["warning"]["kind"], "secrets_file_mode");
}
