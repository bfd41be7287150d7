//! `dmnonced` with no arguments: the embedded default of
//! docs/configuration.md ("The embedded default"), as a real process in a
//! fresh environment. State in `$XDG_STATE_HOME/dmnonce` (else
//! `$HOME/.local/state/dmnonce`), created mode 0700, with `store.key` (32 bytes, mode
//! 0600); control socket `$XDG_RUNTIME_DIR/dmnonced.sock` (else
//! `<state>/dmnonced.sock`), mode 0600; the ready line on stderr; SIGTERM
//! stops it with status 0 and removes the socket it bound; a second start
//! opens the same store.

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use dmnonce_control::{AccountSpec, AuthScheme, Client, Encoding, Policy};

const SERVER_ID: &str = "embedded-default-test";
const CLIENT_NAME: &str = "embedded-device";
const CLIENT_PW: &str = "cli-Embedded-pw-2";
const CLIENT_NONCE: &[u8] = b"embedded-client-nonce";

/// The process environment of one scenario. Everything else is cleared,
/// so the user's own XDG directories, a supervisor's LISTEN_FDS or the
/// machine's D-Bus system bus cannot leak in.
struct Env {
    /// `$XDG_STATE_HOME`; `None`: unset.
    state_home: Option<PathBuf>,
    /// `$XDG_RUNTIME_DIR`; `None`: unset.
    runtime_dir: Option<PathBuf>,
    home: PathBuf,
    cwd: PathBuf,
    /// A bus address nobody listens on: the default-on ofono agent fails
    /// to connect (a warning) instead of talking to the host's bus.
    no_bus: PathBuf,
}

impl Env {
    /// Fresh directories under `root`: `cwd` and `home` always, the XDG
    /// ones when asked for (a real runtime dir is 0700).
    fn fresh(root: &Path, with_state_home: bool, with_runtime_dir: bool) -> Env {
        let dir = |name: &str| {
            let p = root.join(name);
            std::fs::create_dir(&p).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
            p
        };
        Env {
            state_home: with_state_home.then(|| dir("xdg-state")),
            runtime_dir: with_runtime_dir.then(|| dir("xdg-runtime")),
            home: dir("home"),
            cwd: dir("cwd"),
            no_bus: root.join("no-system-bus"),
        }
    }
}

/// A running `dmnonced` started with no arguments.
struct Run {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Run {
    fn start(env: &Env) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dmnonced"));
        cmd.env_clear()
            .env("HOME", &env.home)
            .env(
                "DBUS_SYSTEM_BUS_ADDRESS",
                format!("unix:path={}", env.no_bus.display()),
            )
            .current_dir(&env.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(d) = &env.state_home {
            cmd.env("XDG_STATE_HOME", d);
        }
        if let Some(d) = &env.runtime_dir {
            cmd.env("XDG_RUNTIME_DIR", d);
        }
        let mut child = cmd.spawn().expect("start dmnonced");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        Run { child, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits for `dmnonced ready socket=<path>` and returns the path as
    /// printed.
    fn ready_socket(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let log = self.log();
            if let Some(path) = log
                .lines()
                .find_map(|l| l.strip_prefix("dmnonced ready socket="))
            {
                return path.to_string();
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!("dmnonced exited ({st}) before its ready line:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "no ready line within 20 s:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM; the exit status code.
    fn stop(mut self) -> Option<i32> {
        support::signal(self.child.id() as i32, libc::SIGTERM);
        let code = support::wait_timeout(&mut self.child, Duration::from_secs(10));
        std::mem::forget(self);
        code
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

fn account() -> AccountSpec {
    AccountSpec {
        server_id: SERVER_ID.into(),
        server_url: "http://127.0.0.1:9/dm".into(),
        client_name: CLIENT_NAME.into(),
        auth_scheme: AuthScheme::Md5,
        encoding: Encoding::Xml,
        policy: Policy::Allow,
        server_password: "srv-Embedded-pw-1".into(),
        client_password: CLIENT_PW.into(),
        server_nonce_b64: Some(B64.encode(b"embedded-server-nonce")),
        client_nonce_b64: Some(B64.encode(CLIENT_NONCE)),
    }
}

/// First start: the state directory, key file and socket the docs promise,
/// `hello` answers, an account goes in; SIGTERM ends it with 0 and the
/// socket file goes. Second start with the same environment: the same key
/// opens the same store (the account is still there) and `status` answers.
fn first_and_second_start(env: &Env, state_dir: &Path, socket: &Path) {
    let mut run = Run::start(env);
    let printed = run.ready_socket();
    assert_eq!(
        env.cwd.join(&printed),
        socket,
        "ready line names the socket (relative paths are the working directory's)"
    );
    assert!(state_dir.is_dir(), "{} not created", state_dir.display());
    assert_eq!(mode(state_dir), 0o700, "state directory mode");
    let key = state_dir.join("store.key");
    assert_eq!(mode(&key), 0o600, "key file mode");
    let key_bytes = std::fs::read(&key).unwrap();
    assert_eq!(key_bytes.len(), 32, "key file holds 32 random bytes");
    assert!(state_dir.join("dmnonce.db").is_file(), "store file");
    let meta = std::fs::symlink_metadata(socket)
        .unwrap_or_else(|e| panic!("socket {}: {e}\n{}", socket.display(), run.log()));
    assert!(
        meta.file_type().is_socket(),
        "{} is a socket",
        socket.display()
    );
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "socket mode");

    let mut c = Client::connect(socket).expect("connect to the default socket");
    let hello = c.hello().expect("hello");
    assert_eq!(hello.daemon_version, env!("CARGO_PKG_VERSION"));
    c.account_add(account()).expect("account_add");
    let before = c.status().expect("status").accounts;
    drop(c);

    let log = run.log.clone();
    assert_eq!(
        run.stop(),
        Some(0),
        "SIGTERM exit status\n{}",
        log_text(&log)
    );
    let first = log_text(&log);
    assert!(first.contains("store created at"), "{first}");
    assert!(
        !first.contains(" ERROR "),
        "a clean run logs no error:\n{first}"
    );
    assert!(
        !socket.exists(),
        "the socket file it bound is removed on SIGTERM"
    );

    let mut again = Run::start(env);
    assert_eq!(env.cwd.join(again.ready_socket()), socket);
    let mut c = Client::connect(socket).expect("connect after the restart");
    let st = c.status().expect("status after the restart");
    assert_eq!(st.accounts.len(), 1, "{st:?}");
    assert_eq!(st.accounts[0].server_id, SERVER_ID);
    assert_eq!(st.accounts, before, "the same account, in the same state");
    // Its secret and nonce came back out of the reopened store.
    let cred = c.client_cred(SERVER_ID, None).expect("client_cred");
    let expected = dmnonce_syncml::cred::md5_credential(
        CLIENT_NAME.as_bytes(),
        CLIENT_PW.as_bytes(),
        CLIENT_NONCE,
    );
    assert!(
        cred.cred_data.as_deref() == Some(expected.as_str()),
        "credential from the reopened store differs"
    );
    drop(c);
    assert_eq!(
        std::fs::read(&key).unwrap(),
        key_bytes,
        "the key file is kept, not replaced"
    );
    let second = again.log();
    assert_eq!(again.stop(), Some(0));
    assert!(!second.contains("store created at"), "{second}");
    assert!(!second.contains(" ERROR "), "{second}");
}

fn log_text(log: &Arc<Mutex<String>>) -> String {
    log.lock().unwrap().clone()
}

/// Nothing but what the default names was created under `root/<name>`.
fn assert_empty(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{}: {left:?}", dir.display());
}

#[test]
fn no_arguments_state_in_xdg_state_home_socket_in_xdg_runtime_dir() {
    let root = tempfile::tempdir().unwrap();
    let env = Env::fresh(root.path(), true, true);
    let state_dir = env.state_home.as_ref().unwrap().join("dmnonce");
    let socket = env.runtime_dir.as_ref().unwrap().join("dmnonced.sock");
    first_and_second_start(&env, &state_dir, &socket);
    assert!(
        !state_dir.join("dmnonced.sock").exists(),
        "no socket in the state directory when XDG_RUNTIME_DIR is set"
    );
    assert_empty(&env.cwd);
    assert_empty(&env.home);
}

#[test]
fn without_xdg_runtime_dir_the_socket_is_in_the_state_directory() {
    let root = tempfile::tempdir().unwrap();
    let env = Env::fresh(root.path(), true, false);
    let state_dir = env.state_home.as_ref().unwrap().join("dmnonce");
    first_and_second_start(&env, &state_dir, &state_dir.join("dmnonced.sock"));
    assert_empty(&env.cwd);
    assert_empty(&env.home);
}

#[test]
fn without_xdg_variables_the_state_is_under_home_never_the_working_directory() {
    let root = tempfile::tempdir().unwrap();
    let env = Env::fresh(root.path(), false, false);
    // The XDG default for an unset XDG_STATE_HOME: one store per user,
    // whichever directory the daemon was started from.
    let state_dir = env.home.join(".local/state/dmnonce");
    first_and_second_start(&env, &state_dir, &state_dir.join("dmnonced.sock"));
    assert_empty(&env.cwd);
}
