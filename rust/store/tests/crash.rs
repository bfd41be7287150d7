//! Crash safety under SIGKILL (custom harness: the binary re-executes itself
//! as the child).
//!
//! The child opens the store and rotates nonces of three accounts from three
//! threads, printing "account generation" after every commit. The parent
//! kills it with SIGKILL at a random moment, reopens the store and checks
//! that every account holds a complete nonce set of exactly one generation
//! (never a mix, never nothing), no older than the last commit the child
//! reported. Trials: `DMNONCE_CRASH_TRIALS` (default 200); seed:
//! `DMNONCE_CRASH_SEED` (printed). `scripts/crash-soak.sh` runs 1,000+.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{provisioning, T0};
use dmnonce_store::{Key, OpenOutcome, ResyncCommit, Store, SyncState, UnixTime};

const ACCOUNTS: usize = 3;
const TEST_NAME: &str = "sigkill_during_rotation_never_loses_or_mixes_nonces";

fn client_nonce(account: usize, generation: u64) -> Vec<u8> {
    format!("c-{account}-{generation:010}").into_bytes()
}
fn server_nonce(account: usize, generation: u64) -> Vec<u8> {
    format!("s-{account}-{generation:010}").into_bytes()
}
fn account_id(account: usize) -> String {
    format!("acct-{account}")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Ok(dir) = std::env::var("DMNONCE_CRASH_CHILD") {
        child(Path::new(&dir));
        return;
    }
    if args.iter().any(|a| a == "--list") {
        println!("{TEST_NAME}: test");
        return;
    }
    // `cargo test <filter>` passes the filter to every test binary.
    if let Some(filter) = args.iter().find(|a| !a.starts_with('-')) {
        if !TEST_NAME.contains(filter.as_str()) {
            return;
        }
    }
    parent();
}

/// Generation `g` of account `a`: even generations come from
/// `commit_resync` (client + server nonce, no previous), odd ones from
/// `commit_new_server_nonce` (server nonce only, old one kept as previous).
fn child(dir: &Path) {
    let key_hex = std::env::var("DMNONCE_CRASH_KEY").expect("key");
    let mut key = [0u8; 32];
    for (i, b) in key.iter_mut().enumerate() {
        *b = u8::from_str_radix(&key_hex[2 * i..2 * i + 2], 16).expect("hex key");
    }
    let (store, _) =
        Store::open(&common::db_path(dir), &Key::from_bytes(key), None, T0).expect("child open");
    let store = Arc::new(store);
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let threads: Vec<_> = (0..ACCOUNTS)
        .map(|a| {
            let store = store.clone();
            let out = out.clone();
            std::thread::spawn(move || loop {
                let id = account_id(a);
                let g = store.nonces(&id).expect("read").generation + 1;
                let now = UnixTime(T0.0 + g as i64);
                if g % 2 == 0 {
                    store
                        .commit_resync(
                            &id,
                            &ResyncCommit {
                                client_nonce: Some(nonce_bytes(client_nonce(a, g))),
                                server_nonce: Some(nonce_bytes(server_nonce(a, g))),
                                server_secret: None,
                                state: SyncState::InSync,
                                complete_pending: None,
                                server_secret_used: dmnonce_store::SecretSlot::Current,
                            },
                            now,
                        )
                        .expect("commit_resync");
                } else {
                    store
                        .commit_new_server_nonce(&id, &nonce_bytes(server_nonce(a, g)), now)
                        .expect("rotate");
                }
                use std::io::Write;
                let mut o = out.lock().unwrap();
                writeln!(o, "{a} {g}").expect("report");
                o.flush().expect("flush");
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

fn nonce_bytes(b: Vec<u8>) -> dmnonce_store::Nonce {
    dmnonce_store::Nonce::new(b).unwrap()
}

/// xorshift64*: enough randomness for kill timing, reproducible by seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn parent() {
    let trials: usize = std::env::var("DMNONCE_CRASH_TRIALS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("DMNONCE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("test {TEST_NAME} ... ({trials} trials, DMNONCE_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut key_bytes = [0u8; 32];
    for (i, b) in key_bytes.iter_mut().enumerate() {
        *b = (rng.next() >> 8) as u8 ^ i as u8;
    }
    let key = Key::from_bytes(key_bytes);
    let key_hex: String = key_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let prov: Vec<_> = (0..ACCOUNTS)
        .map(|a| {
            let mut p = provisioning(&account_id(a));
            p.client_nonce = Some(nonce_bytes(client_nonce(a, 0)));
            p.server_nonce = Some(nonce_bytes(server_nonce(a, 0)));
            p
        })
        .collect();
    drop(Store::open(&common::db_path(dir.path()), &key, Some(&prov), T0).unwrap());

    let exe = std::env::current_exe().unwrap();
    let started = Instant::now();
    let mut acked = [0u64; ACCOUNTS];
    let mut trials_with_progress = 0;
    let mut commits = 0u64;
    for trial in 0..trials {
        let mut child = Command::new(&exe)
            .env("DMNONCE_CRASH_CHILD", dir.path())
            .env("DMNONCE_CRASH_KEY", &key_hex)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (first_tx, first_rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.is_empty() {
                    let _ = first_tx.send(());
                }
                lines.push(line);
            }
            lines
        });
        // One trial in five is killed blind within 15 ms of the spawn
        // (start-up, open, checks); the others once the rotation loop runs,
        // after a random 0-20 ms, so that load on the machine cannot push
        // every kill into start-up.
        if rng.next().is_multiple_of(5) {
            std::thread::sleep(Duration::from_micros(rng.next() % 15_000));
        } else {
            let _ = first_rx.recv_timeout(Duration::from_secs(20));
            std::thread::sleep(Duration::from_micros(rng.next() % 20_000));
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let lines = reader.join().unwrap();
        let mut progressed = false;
        for line in &lines {
            let mut it = line.split(' ');
            let a: usize = it.next().unwrap().parse().unwrap();
            let g: u64 = it.next().unwrap().parse().unwrap();
            assert!(g > acked[a], "reported generation did not advance");
            acked[a] = acked[a].max(g);
            progressed = true;
            commits += 1;
        }
        trials_with_progress += usize::from(progressed);
        check(dir.path(), &key, &mut acked, trial);
    }
    let elapsed = started.elapsed();
    println!(
        "{trials} SIGKILL trials in {:.1} s: {commits} acknowledged commits, \
         {trials_with_progress} trials killed mid-rotation, final generations {acked:?}",
        elapsed.as_secs_f64()
    );
    assert!(
        trials_with_progress * 3 >= trials * 2,
        "too few trials reached the rotation loop ({trials_with_progress}/{trials}); \
         kill timing needs tuning"
    );
    println!("test {TEST_NAME} ... ok");
}

/// Reopens after a kill and checks every account. Updates `acked` to the
/// generation found (a commit may be durable before the child reported it).
fn check(dir: &Path, key: &Key, acked: &mut [u64; ACCOUNTS], trial: usize) {
    let (store, report) = Store::open(&common::db_path(dir), key, None, T0)
        .unwrap_or_else(|e| panic!("trial {trial}: reopen failed: {e}"));
    assert_eq!(report.outcome, OpenOutcome::Opened, "trial {trial}");
    for (a, acked) in acked.iter_mut().enumerate() {
        let set = store.nonces(&account_id(a)).unwrap();
        let g = set.generation;
        assert!(
            g >= *acked,
            "trial {trial}: account {a} lost commit {acked} (has {g})"
        );
        assert!(
            g <= *acked + 1,
            "trial {trial}: account {a} jumped to {g} from {acked}"
        );
        let (want_client, want_prev) = if g % 2 == 0 {
            (client_nonce(a, g), None)
        } else {
            (client_nonce(a, g - 1), Some(server_nonce(a, g - 1)))
        };
        let client = set.client.as_ref().map(|n| n.expose().to_vec());
        let current = set.server_current.as_ref().map(|n| n.expose().to_vec());
        let previous = set.server_previous.as_ref().map(|n| n.expose().to_vec());
        assert_eq!(
            client,
            Some(want_client),
            "trial {trial}: account {a} client nonce at {g}"
        );
        assert_eq!(
            current,
            Some(server_nonce(a, g)),
            "trial {trial}: account {a} server nonce at {g}"
        );
        assert_eq!(
            previous, want_prev,
            "trial {trial}: account {a} previous nonce at {g}"
        );
        *acked = g;
    }
}
