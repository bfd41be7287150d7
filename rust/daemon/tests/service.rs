//! dmnonced as a systemd service sees it, with the real daemon: readiness
//! through `NOTIFY_SOCKET` (Type=notify) once the control socket answers,
//! `<N>` priority prefixes only when stderr is the `JOURNAL_STREAM`, and
//! no warning at every start where there is no D-Bus.

mod support;

use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts dmnonced in `dir` with stderr into `dir/err` and `env` set.
fn start(dir: &Path, env: &[(&str, String)]) -> Child {
    start_with(dir, &support::config_text(""), env)
}

fn start_with(dir: &Path, config: &str, env: &[(&str, String)]) -> Child {
    let cfg = dir.join("c.toml");
    std::fs::write(&cfg, config).unwrap();
    let err = std::fs::File::create(dir.join("err")).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dmnonced"));
    cmd.arg("--config")
        .arg(&cfg)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--socket")
        .arg(dir.join("d.sock"))
        .env_remove("NOTIFY_SOCKET")
        .env_remove("JOURNAL_STREAM")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start dmnonced")
}

fn wait_for_log(dir: &Path, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = std::fs::read_to_string(dir.join("err")).unwrap_or_default();
        if log.contains(what) {
            return log;
        }
        assert!(Instant::now() < deadline, "no {what:?} in:\n{log}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stop(mut child: Child) {
    support::signal(child.id() as i32, libc::SIGTERM);
    assert_eq!(
        support::wait_timeout(&mut child, Duration::from_secs(10)),
        Some(0)
    );
}

#[test]
fn readiness_is_sent_to_notify_socket_once_the_control_socket_answers() {
    let dir = tempfile::tempdir().unwrap();
    let notify_path = dir.path().join("notify");
    let manager = UnixDatagram::bind(&notify_path).unwrap();
    manager
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let child = start(
        dir.path(),
        &[("NOTIFY_SOCKET", notify_path.display().to_string())],
    );
    let mut buf = [0u8; 512];
    let n = manager
        .recv(&mut buf)
        .expect("no notification from dmnonced");
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(msg.lines().any(|l| l == "READY=1"), "{msg}");
    let socket = dir.path().join("d.sock");
    assert!(
        msg.contains(&format!("STATUS=serving {}", socket.display())),
        "{msg}"
    );
    // Ready means ready: the control socket answers right away.
    let mut c = dmnonce_control::Client::connect(&socket).unwrap();
    assert_eq!(c.hello().unwrap().protocol, 1);
    stop(child);
}

#[test]
fn log_lines_carry_priorities_only_when_stderr_is_the_journal_stream() {
    // The journal's stream is stderr itself: its device and inode.
    let dir = tempfile::tempdir().unwrap();
    std::fs::File::create(dir.path().join("err")).unwrap();
    let meta = std::fs::metadata(dir.path().join("err")).unwrap();
    let stream = format!("{}:{}", meta.dev(), meta.ino());
    // start() truncates the file in place (File::create): same inode.
    let child = start(dir.path(), &[("JOURNAL_STREAM", stream)]);
    let log = wait_for_log(dir.path(), "dmnonced ready");
    stop(child);
    let log = std::fs::read_to_string(dir.path().join("err")).unwrap_or(log);
    let records: Vec<&str> = log.lines().filter(|l| l.contains("dmnonced[")).collect();
    assert!(!records.is_empty(), "{log}");
    for l in &records {
        let prefixed = ["<3>", "<4>", "<6>", "<7>"]
            .iter()
            .any(|p| l.starts_with(p));
        assert!(prefixed, "no priority on {l:?}");
    }
    assert!(
        records.iter().any(|l| l.starts_with("<6>")
            && l.contains(" INFO ")
            && l.contains("serving control socket")),
        "{log}"
    );
    assert!(
        records
            .iter()
            .all(|l| !l.starts_with("<7>") || l.contains("DEBUG") || l.contains("TRACE")),
        "{log}"
    );

    // The variable names another stream (a script redirected stderr):
    // plain lines.
    let other = tempfile::tempdir().unwrap();
    let child = start(other.path(), &[("JOURNAL_STREAM", "1:1".to_string())]);
    let log = wait_for_log(other.path(), "dmnonced ready");
    stop(child);
    assert!(log.lines().any(|l| l.starts_with("dmnonced[")), "{log}");
    assert!(!log.lines().any(|l| l.starts_with('<')), "{log}");
}

#[test]
fn a_failed_start_is_logged_at_error_priority() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::File::create(dir.path().join("err")).unwrap();
    let meta = std::fs::metadata(dir.path().join("err")).unwrap();
    // A state directory that is a file: the daemon cannot run.
    std::fs::write(dir.path().join("state"), b"not a directory").unwrap();
    let mut child = start(
        dir.path(),
        &[("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))],
    );
    let status = support::wait_timeout(&mut child, Duration::from_secs(20));
    assert!(matches!(status, Some(c) if c != 0), "{status:?}");
    let log = std::fs::read_to_string(dir.path().join("err")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.starts_with("<3>dmnonced[") && l.contains("cannot run")),
        "{log}"
    );
}

#[cfg(feature = "ofono")]
#[test]
fn an_absent_bus_is_reported_at_info_not_as_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let bus = dir.path().join("no-bus-here");
    let config = format!(
        "log_level = \"info\"\n[ofono]\nenabled = true\nbus = \"unix:path={}\"\n",
        bus.display()
    );
    let child = start_with(dir.path(), &config, &[]);
    let log = wait_for_log(dir.path(), "dmnonced ready");
    stop(child);
    let about_ofono: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("ofono push agent not started"))
        .collect();
    assert_eq!(about_ofono.len(), 1, "{log}");
    assert!(about_ofono[0].contains(" INFO "), "{log}");
    assert!(!log.contains(" WARN "), "{log}");
}
