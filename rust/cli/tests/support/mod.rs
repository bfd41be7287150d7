//! Real processes for dmnoncectl's tests: the built `dmnoncectl`, and a
//! real `dmnonced` on a temporary state directory.

#![allow(dead_code)]

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

pub const CTL: &str = env!("CARGO_BIN_EXE_dmnoncectl");

/// dmnonced, next to dmnoncectl in cargo's target directory; built first
/// when a lone `cargo test -p dmnoncectl` has not built it yet.
pub fn dmnonced_bin() -> PathBuf {
    static BUILD: Once = Once::new();
    let path = Path::new(CTL).with_file_name("dmnonced");
    if !path.exists() {
        BUILD.call_once(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let st = Command::new(cargo)
                .args(["build", "-p", "dmnonced"])
                .status()
                .expect("cargo build");
            assert!(st.success(), "building dmnonced");
        });
    }
    assert!(path.exists(), "{} missing", path.display());
    path
}

/// A dmnoncectl run in a cleared environment: only what a test sets
/// reaches it, never the caller's XDG directories or DMNONCE_SOCKET.
pub struct Ctl {
    cmd: Command,
    stdin: Vec<u8>,
}

impl Ctl {
    pub fn new(args: &[&str]) -> Ctl {
        let mut cmd = Command::new(CTL);
        cmd.env_clear().args(args);
        Ctl {
            cmd,
            stdin: Vec::new(),
        }
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Ctl {
        self.cmd.env(key, value);
        self
    }

    pub fn cwd(mut self, dir: &Path) -> Ctl {
        self.cmd.current_dir(dir);
        self
    }

    pub fn stdin(mut self, bytes: &[u8]) -> Ctl {
        self.stdin = bytes.to_vec();
        self
    }

    pub fn run(mut self) -> Output {
        let mut child = self
            .cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dmnoncectl runs");
        // A command that does not read stdin may exit first: ignore EPIPE.
        let _ = child.stdin.take().unwrap().write_all(&self.stdin);
        child.wait_with_output().unwrap()
    }
}

/// stderr as one JSON object (what --json promises for a failure).
pub fn stderr_json(out: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        text.lines().count(),
        1,
        "one stderr line expected: {text:?}"
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {text:?}"))
}

/// A running dmnonced (our child), stopped (SIGTERM, then SIGKILL) when
/// dropped.
pub struct Daemon {
    child: Child,
    log: Arc<Mutex<String>>,
    pub socket: PathBuf,
}

impl Daemon {
    /// Starts dmnonced with `--config config` and `env` only (no ofono:
    /// the config says so), and waits until `socket` answers.
    pub fn start(config: &Path, env: &[(&str, &Path)], socket: &Path) -> Daemon {
        let mut cmd = Command::new(dmnonced_bin());
        cmd.env_clear()
            .arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start dmnonced");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let mut stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let d = Daemon {
            child,
            log,
            socket: socket.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !d.log().contains("dmnonced ready socket=") || !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "dmnonced not ready:\n{}",
                d.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        d
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGTERM first: the daemon removes its socket and lock file.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
