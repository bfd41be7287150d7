//! Real processes for the daemon's end-to-end tests: `dmnonced` on a
//! temporary state directory and socket, `dmnoncectl`, and
//! `dmnonce-testserver` (the server role over HTTP(S) on 127.0.0.1).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use dmnonce_control::{Client, Event, EventKind, EventStream};

/// Binaries of other workspace packages, next to ours in target/debug.
pub fn sibling_bin(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    let dir = Path::new(env!("CARGO_BIN_EXE_dmnonced"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = dir.join(name);
    if !path.exists() {
        // `cargo test --workspace` builds every binary first; a lone
        // `cargo test -p dmnonced` may not have them yet.
        BUILD.call_once(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let st = Command::new(cargo)
                .args(["build", "-p", "dmnoncectl", "-p", "dmnonce-testserver"])
                .status()
                .expect("cargo build");
            assert!(st.success(), "building dmnoncectl and dmnonce-testserver");
        });
    }
    assert!(path.exists(), "{} missing", path.display());
    path
}

/// Collects a child's stderr into a string, line by line.
fn collect(from: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut r = BufReader::new(from);
        let mut line = String::new();
        while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            into.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
}

/// A running dmnonced.
pub struct Daemon {
    pub child: Child,
    pub dir: PathBuf,
    pub socket: PathBuf,
    pub log: Arc<Mutex<String>>,
    pub config: PathBuf,
}

/// Test configuration: no ofono, short network timeouts, verbose logs.
pub fn config_text(extra: &str) -> String {
    let defaults = [
        ("connect_timeout_ms", "1000"),
        ("request_timeout_ms", "3000"),
        ("max_attempts", "3"),
        ("backoff_initial_ms", "100"),
        ("backoff_max_ms", "400"),
    ];
    let mut http = String::new();
    for (k, v) in defaults {
        if !extra.lines().any(|l| l.trim_start().starts_with(k)) {
            http.push_str(&format!("{k} = {v}\n"));
        }
    }
    format!("log_level = \"trace\"\n[ofono]\nenabled = false\n[http]\n{http}{extra}\n")
}

impl Daemon {
    /// Starts dmnonced in `dir` (state in `dir/state`, socket `dir/d.sock`)
    /// and waits for its ready line. `http_extra` goes into `[http]`.
    pub fn start(dir: &Path, http_extra: &str) -> Daemon {
        let config = dir.join("dmnonced.toml");
        std::fs::write(&config, config_text(http_extra)).unwrap();
        Self::start_with(dir, &config)
    }

    pub fn start_with(dir: &Path, config: &Path) -> Daemon {
        let socket = dir.join("d.sock");
        let mut child = Command::new(env!("CARGO_BIN_EXE_dmnonced"))
            .arg("--config")
            .arg(config)
            .arg("--state-dir")
            .arg(dir.join("state"))
            .arg("--socket")
            .arg(&socket)
            .arg("-v")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dmnonced");
        let log = Arc::new(Mutex::new(String::new()));
        collect(child.stderr.take().unwrap(), log.clone());
        let d = Daemon {
            child,
            dir: dir.to_path_buf(),
            socket,
            log,
            config: config.to_path_buf(),
        };
        d.wait_ready();
        d
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.log.lock().unwrap().contains("dmnonced ready socket=") {
                if let Ok(mut c) = Client::connect(&self.socket) {
                    if c.hello().is_ok() {
                        return;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("dmnonced did not become ready:\n{}", self.log());
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn client(&self) -> Client {
        Client::connect(&self.socket).expect("connect")
    }

    pub fn subscribe(&self) -> EventStream {
        self.client().subscribe(&[]).expect("subscribe")
    }

    /// Runs dmnoncectl against this daemon.
    pub fn ctl(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        ctl(&self.socket, args, stdin)
    }

    /// Provisions an account through dmnoncectl (secrets on stdin).
    pub fn add_account(&self, a: &AccountArgs) {
        let secrets = serde_json::json!({
            "server_password": a.server_pw, "client_password": a.client_pw,
            "server_nonce_b64": a.server_nonce.map(|n| B64.encode(n)),
            "client_nonce_b64": a.client_nonce.map(|n| B64.encode(n)),
        });
        let out = self.ctl(
            &[
                "account",
                "add",
                "--server-id",
                a.server_id,
                "--server-url",
                &a.url,
                "--client-name",
                a.client_name,
                "--auth-scheme",
                a.scheme,
                "--encoding",
                a.encoding,
                "--secrets-file",
                "-",
            ],
            Some(secrets.to_string().as_bytes()),
        );
        assert!(
            out.status.success(),
            "account add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// SIGTERM and wait; returns the exit status code.
    pub fn stop(mut self) -> Option<i32> {
        signal(self.pid(), libc::SIGTERM);
        let st = wait_timeout(&mut self.child, Duration::from_secs(10));
        std::mem::forget(self);
        st
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::forget(self);
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        signal(self.pid(), libc::SIGTERM);
        if wait_timeout(&mut self.child, Duration::from_secs(5)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn signal(pid: i32, sig: i32) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(pid, sig);
    }
}

pub fn wait_timeout(child: &mut Child, t: Duration) -> Option<i32> {
    let deadline = Instant::now() + t;
    while Instant::now() < deadline {
        if let Ok(Some(st)) = child.try_wait() {
            return Some(st.code().unwrap_or(-1));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

pub fn ctl(socket: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut child = Command::new(sibling_bin("dmnoncectl"))
        .arg("--socket")
        .arg(socket)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dmnoncectl");
    let mut input = child.stdin.take().unwrap();
    if let Some(b) = stdin {
        input.write_all(b).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

pub struct AccountArgs<'a> {
    pub server_id: &'a str,
    pub url: String,
    pub client_name: &'a str,
    pub scheme: &'a str,
    pub encoding: &'a str,
    pub server_pw: &'a str,
    pub client_pw: &'a str,
    pub server_nonce: Option<&'a [u8]>,
    pub client_nonce: Option<&'a [u8]>,
}

/// Waits for the next event of `kind`, skipping others; panics on timeout.
pub fn wait_event(events: &mut EventStream, kind: EventKind, secs: u64) -> Event {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("no {kind:?} event within {secs} s"));
        match events.next_event(Some(left)).expect("event stream") {
            Some(e) if e.kind() == kind => return e,
            Some(_) => continue,
            None => panic!("no {kind:?} event within {secs} s"),
        }
    }
}

/// A running dmnonce-testserver.
pub struct TestServer {
    pub child: Child,
    pub base: String,
    pub log: Arc<Mutex<String>>,
    pub agent: ureq::Agent,
}

impl TestServer {
    /// Starts it; `ca` is the CA file for HTTPS admin calls.
    pub fn start(state: &Path, extra: &[&str], ca: Option<&Path>) -> TestServer {
        let mut child = Command::new(sibling_bin("dmnonce-testserver"))
            .args(["--listen", "127.0.0.1:0", "--state"])
            .arg(state)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dmnonce-testserver");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        let log = Arc::new(Mutex::new(String::new()));
        collect(child.stderr.take().unwrap(), log.clone());
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(ca) = ca {
            let pem = std::fs::read(ca).unwrap();
            let cert = ureq::tls::Certificate::from_pem(&pem).unwrap();
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&[cert]));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(tls.build())
            .proxy(None)
            .http_status_as_error(false)
            .build()
            .into();
        TestServer {
            child,
            base,
            log,
            agent,
        }
    }

    pub fn dm_url(&self) -> String {
        format!("{}/dm", self.base)
    }

    pub fn post(&self, path: &str, body: serde_json::Value) -> (u16, Vec<u8>) {
        let mut r = self
            .agent
            .post(&format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes())
            .expect("admin request");
        let status = r.status().as_u16();
        (status, r.body_mut().read_to_vec().unwrap())
    }

    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let mut r = self
            .agent
            .get(&format!("{}{path}", self.base))
            .call()
            .expect("admin request");
        serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap()
    }

    pub fn add_device(&self, body: serde_json::Value) {
        let (st, b) = self.post("/admin/devices", body);
        assert_eq!(st, 201, "{}", String::from_utf8_lossy(&b));
    }

    /// A Package #0 (or WSP PDU) from the server for `client_name`.
    pub fn notify(&self, client_name: &str, nonce: &str, wsp: bool) -> Vec<u8> {
        let (st, b) = self.post(
            "/admin/notify",
            serde_json::json!({"client_name": client_name, "nonce": nonce, "wsp": wsp}),
        );
        assert_eq!(st, 200, "{}", String::from_utf8_lossy(&b));
        b
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        signal(self.child.id() as i32, libc::SIGTERM);
        if wait_timeout(&mut self.child, Duration::from_secs(3)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Writes `bytes` to a file in `dir` and returns its path as a string.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}
