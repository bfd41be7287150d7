//! Store benchmarks (criterion):
//!
//! - `rotation`: one two-phase rotation transaction (`commit_new_server_nonce`,
//!   `BEGIN IMMEDIATE` … `COMMIT` with `synchronous=FULL`) on the encrypted
//!   store vs. the same code on an unencrypted database. The unencrypted one
//!   is opened with the same SQLCipher build and no key, which is the plain
//!   SQLite file format; schema and pragmas are identical.
//! - `open`: opening an existing store (key, page-1 check,
//!   `cipher_integrity_check`, `quick_check`, migration check) with a raw
//!   key vs. a passphrase (SQLCipher's PBKDF2-HMAC-SHA512, 256,000
//!   iterations), plus the unencrypted open for reference.
//!
//! - `open-by-size`: open after a clean stop plus the first query, with 1,
//!   1,000, 10,000 and 100,000 accounts, encrypted and plain.
//! - `STORE_BENCH_ROTATIONS=KIND:N` (no criterion): N rotations only, for
//!   instruction counts under valgrind (see `count_rotations`).
//!
//! After the runs, the ratios are printed from criterion's estimates.
//! Run: `cargo bench -p dmnonce-store --bench store`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{criterion_group, BenchmarkId, Criterion};
use dmnonce_store::{
    AccountProvisioning, AuthScheme, AuthSecret, Encoding, Key, Nonce, Policy, Store, UnixTime,
};

const NOW: UnixTime = UnixTime(1_795_917_310);

fn provisioning() -> AccountProvisioning {
    AccountProvisioning {
        server_id: "bench.example".into(),
        server_url: "https://127.0.0.1:8443/dm".into(),
        client_name: "device".into(),
        client_secret: AuthSecret::new(b"client-secret".to_vec()).unwrap(),
        server_secret: AuthSecret::new(b"server-secret".to_vec()).unwrap(),
        server_secret_previous: None,
        auth_scheme: AuthScheme::Md5,
        encoding: Encoding::Xml,
        policy: Policy::Allow,
        client_nonce: Some(Nonce::new(b"client-nonce-0".to_vec()).unwrap()),
        server_nonce: Some(Nonce::new(b"server-nonce-0".to_vec()).unwrap()),
    }
}

/// Nonce counter shared by every call: criterion re-enters the routine for
/// warm-up and sampling, and re-issuing the current nonce is refused.
static NEXT_NONCE: AtomicU64 = AtomicU64::new(1);

fn rotate_loop(store: &Store, b: &mut criterion::Bencher<'_>) {
    b.iter(|| {
        let i = NEXT_NONCE.fetch_add(1, Ordering::Relaxed);
        let n = Nonce::new(i.to_be_bytes().repeat(2)).unwrap();
        store
            .commit_new_server_nonce("bench.example", &n, NOW)
            .unwrap();
    });
}

fn rotation(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let (enc, _) = Store::open(
        &dir.path().join("enc.db"),
        &key,
        Some(&[provisioning()]),
        NOW,
    )
    .unwrap();
    let (plain, _) = Store::open_plaintext_for_bench(&dir.path().join("plain.db"), NOW).unwrap();
    plain.create_account(&provisioning(), NOW).unwrap();
    let mut g = c.benchmark_group("rotation");
    g.bench_function("sqlcipher", |b| rotate_loop(&enc, b));
    g.bench_function("plain-sqlite", |b| rotate_loop(&plain, b));
    g.finish();
}

fn open(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let raw = dir.path().join("raw.db");
    let pass = dir.path().join("pass.db");
    let plain = dir.path().join("plain.db");
    drop(Store::open(&raw, &key, Some(&[provisioning()]), NOW).unwrap());
    let passphrase = "correct horse battery staple";
    let (s, _) = Store::open_with_passphrase_for_bench(&pass, passphrase, NOW).unwrap();
    s.create_account(&provisioning(), NOW).unwrap();
    drop(s);
    let (s, _) = Store::open_plaintext_for_bench(&plain, NOW).unwrap();
    s.create_account(&provisioning(), NOW).unwrap();
    drop(s);

    let mut g = c.benchmark_group("open");
    g.sample_size(10);
    g.bench_function(BenchmarkId::from_parameter("raw-key"), |b| {
        b.iter(|| Store::open(&raw, &key, None, NOW).unwrap())
    });
    g.bench_function(BenchmarkId::from_parameter("passphrase-kdf"), |b| {
        b.iter(|| Store::open_with_passphrase_for_bench(&pass, passphrase, NOW).unwrap())
    });
    g.bench_function(BenchmarkId::from_parameter("plain-sqlite"), |b| {
        b.iter(|| Store::open_plaintext_for_bench(&plain, NOW).unwrap())
    });
    g.finish();
}

/// Mean (ns) from criterion's `estimates.json` for one benchmark.
fn mean_ns(criterion_dir: &Path, group: &str, bench: &str) -> Option<f64> {
    let text = std::fs::read_to_string(
        criterion_dir
            .join(group)
            .join(bench)
            .join("new/estimates.json"),
    )
    .ok()?;
    let mean = &text[text.find("\"mean\"")?..];
    let pe = &mean[mean.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = pe.find([',', '}'])?;
    pe[..end].trim().parse().ok()
}

fn criterion_dir() -> PathBuf {
    // The bench binary lives in <target>/<profile>/deps/.
    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| target.join("criterion"))
}

fn print_ratios() {
    let dir = criterion_dir();
    let ratio =
        |group: &str, a: &str, b: &str| match (mean_ns(&dir, group, a), mean_ns(&dir, group, b)) {
            (Some(x), Some(y)) => println!(
                "ratio {group}: {a} / {b} = {:.2} ({:.3} ms vs {:.3} ms)",
                x / y,
                x / 1e6,
                y / 1e6
            ),
            _ => println!("ratio {group}: {a} / {b}: estimates not found (filtered run?)"),
        };
    ratio("rotation", "sqlcipher", "plain-sqlite");
    ratio("open", "passphrase-kdf", "raw-key");
    ratio("open", "raw-key", "plain-sqlite");
}

/// Start-up cost by store size (issue 16): `Store::open` after a clean stop
/// plus the first query, for 1 to 100,000 accounts, on the encrypted store
/// (`N`) and on the unencrypted anchor with the same pragmas (`plain-N`).
/// Constant since the full-page check runs only after an unclean stop. Each
/// store is populated once per run, in one transaction (the open's
/// provisioning).
fn open_by_size(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let mut g = c.benchmark_group("open-by-size");
    g.sample_size(20);
    for n in [1usize, 1_000, 10_000, 100_000] {
        let accounts: Vec<AccountProvisioning> = (0..n)
            .map(|i| AccountProvisioning {
                server_id: format!("bench-{i:06}"),
                ..provisioning()
            })
            .collect();
        let db = dir.path().join(format!("n{n}.db"));
        let plain = dir.path().join(format!("plain-n{n}.db"));
        drop(Store::open(&db, &key, Some(&accounts), NOW).unwrap());
        drop(Store::open_plaintext_provisioned_for_bench(&plain, &accounts, NOW).unwrap());
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                let (s, _) = Store::open(&db, &key, None, NOW).unwrap();
                s.nonces("bench-000000").unwrap();
            })
        });
        g.bench_function(BenchmarkId::from_parameter(format!("plain-{n}")), |b| {
            b.iter(|| {
                let (s, _) = Store::open_plaintext_for_bench(&plain, NOW).unwrap();
                s.nonces("bench-000000").unwrap();
            })
        });
    }
    g.finish();
}

/// `STORE_BENCH_ROTATIONS=sqlcipher|plain-sqlite:N`: instead of criterion,
/// open one store of that kind and make N rotations, nothing else. Run under
/// `valgrind --tool=cachegrind` with N and with 0, the difference over N is
/// the instructions of one rotation (scripts/bench.sh does this: this
/// machine has no hardware counters for `perf stat`).
fn count_rotations(spec: &str) {
    let (kind, n) = spec.split_once(':').expect("KIND:N");
    let n: u64 = n.parse().expect("N");
    let dir = tempfile::tempdir().unwrap();
    let store = match kind {
        "sqlcipher" => {
            let key = Key::generate().unwrap();
            Store::open(
                &dir.path().join("enc.db"),
                &key,
                Some(&[provisioning()]),
                NOW,
            )
            .unwrap()
            .0
        }
        "plain-sqlite" => {
            Store::open_plaintext_provisioned_for_bench(
                &dir.path().join("plain.db"),
                &[provisioning()],
                NOW,
            )
            .unwrap()
            .0
        }
        other => panic!("unknown store kind {other}"),
    };
    for i in 1..=n {
        let nonce = Nonce::new(i.to_be_bytes().repeat(2)).unwrap();
        store
            .commit_new_server_nonce("bench.example", &nonce, NOW)
            .unwrap();
    }
}

criterion_group!(benches, rotation, open, open_by_size);

fn main() {
    if let Ok(spec) = std::env::var("STORE_BENCH_ROTATIONS") {
        count_rotations(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
    if !std::env::args().any(|a| a == "--test" || a == "--list") {
        print_ratios();
    }
}
