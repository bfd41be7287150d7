//! Package #0 verification against the bare MD5/Base64 operations it needs,
//! in one run: `cargo bench -p dmnonce-proto --bench package0`, then
//! `python3 rust/proto/benches/package0_ratios.py` for the ratios.
//!
//! Work per path (the two nonce-independent halves are computed once):
//! - stored nonce:      MD5(id:pw), MD5(trigger), 2 x Base64, 1 final MD5
//! - fallback, text:    the same + 1 final MD5 (stored failed, text matched)
//! - fallback, zero:    the same + 2 final MD5s
//! - rejected:          the same + 2 final MD5s (stored, text, zero all fail)

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use dmnonce_proto::package0::{
    verify, DefaultNonce, Fallback, Notification, Package0, DEFAULT_NONCE_TEXT, DEFAULT_NONCE_ZERO,
};
use md5::{Digest as _, Md5};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const SERVER_ID: &str = "dm.example.net";
const PASSWORD: &[u8] = b"public-pw";
const STORED: &[u8] = &[0xca, 0xfe, 0xba, 0xbe];

fn signed(nonce: &[u8]) -> Package0 {
    let n = Notification::new(SERVER_ID, 258);
    Package0::decode(&n.sign(PASSWORD, nonce).unwrap()).unwrap()
}

/// Counts heap allocations, so the bench can show that the floor (and the
/// stored-nonce verification) allocate nothing: a floor that allocated
/// would flatter every ratio against it.
struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter has no effect on the memory handed out.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Heap allocations made by `f`, which runs 100 times.
fn allocations(mut f: impl FnMut()) -> u64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..100 {
        f();
    }
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

/// Base64 of one raw MD5 into a stack buffer (24 characters).
fn b64_16(raw: &[u8; 16]) -> [u8; 24] {
    let mut out = [0u8; 24];
    let n = B64.encode_slice(raw, &mut out).unwrap();
    debug_assert_eq!(n, out.len());
    out
}

/// The bare operations, with the raw crates and no allocation: MD5 and
/// Base64 of the halves, then one MD5 per nonce over `B64 ":" nonce ":" B64`.
fn bare(id_pw: &[u8], trigger: &[u8], nonces: &[&[u8]]) -> [u8; 16] {
    let b1 = b64_16(&Md5::digest(id_pw).into());
    let b2 = b64_16(&Md5::digest(trigger).into());
    let mut last = [0u8; 16];
    for nonce in nonces {
        let mut h = Md5::new();
        h.update(b1);
        h.update(b":");
        h.update(nonce);
        h.update(b":");
        h.update(b2);
        last = h.finalize().into();
    }
    last
}

fn benches(c: &mut Criterion) {
    let stored = signed(STORED);
    let text = signed(DEFAULT_NONCE_TEXT);
    let zero = signed(DEFAULT_NONCE_ZERO);
    let rejected = signed(b"unknown");
    assert_eq!(
        verify(&stored, PASSWORD, &[STORED], Fallback::default()).label(),
        "stored-nonce"
    );
    assert_eq!(
        verify(&text, PASSWORD, &[STORED], Fallback::default()),
        dmnonce_proto::Verdict::Default(DefaultNonce::Text)
    );
    assert_eq!(
        verify(&zero, PASSWORD, &[STORED], Fallback::default()),
        dmnonce_proto::Verdict::Default(DefaultNonce::Zero)
    );
    let id_pw = [SERVER_ID.as_bytes(), b":", PASSWORD].concat();
    let trigger = stored.trigger().to_vec();
    let raw_md5: [u8; 16] = Md5::digest(&trigger).into();
    // Printed for scripts/bench.sh, which reports them beside the ratios.
    let floor = allocations(|| {
        black_box(bare(black_box(&id_pw), black_box(&trigger), &[STORED]));
    });
    let stored_verify = allocations(|| {
        black_box(verify(
            black_box(&stored),
            PASSWORD,
            &[STORED],
            Fallback::default(),
        ));
    });
    println!("allocations per 100 calls: floor (bare/stored-3md5-2b64) {floor}, verify/stored {stored_verify}");
    assert_eq!(floor, 0, "the floor must not allocate");

    let mut g = c.benchmark_group("package0");
    g.bench_function("bare/md5-16B", |b| {
        b.iter(|| Md5::digest(black_box(&raw_md5)))
    });
    g.bench_function("bare/md5-trigger", |b| {
        b.iter(|| Md5::digest(black_box(&trigger)))
    });
    g.bench_function("bare/b64-16B", |b| b.iter(|| b64_16(black_box(&raw_md5))));
    g.bench_function("bare/stored-3md5-2b64", |b| {
        b.iter(|| bare(black_box(&id_pw), black_box(&trigger), &[STORED]))
    });
    g.bench_function("bare/fallback-text-4md5-2b64", |b| {
        b.iter(|| {
            bare(
                black_box(&id_pw),
                black_box(&trigger),
                &[STORED, DEFAULT_NONCE_TEXT],
            )
        })
    });
    g.bench_function("bare/fallback-zero-5md5-2b64", |b| {
        b.iter(|| {
            bare(
                black_box(&id_pw),
                black_box(&trigger),
                &[STORED, DEFAULT_NONCE_TEXT, DEFAULT_NONCE_ZERO],
            )
        })
    });
    let bytes = stored.to_bytes();
    g.bench_function("decode", |b| b.iter(|| Package0::decode(black_box(&bytes))));
    for (name, pkg) in [
        ("verify/stored", &stored),
        ("verify/fallback-text", &text),
        ("verify/fallback-zero", &zero),
        ("verify/rejected", &rejected),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                verify(
                    black_box(pkg),
                    black_box(PASSWORD),
                    &[STORED],
                    Fallback::default(),
                )
            })
        });
    }
    g.bench_function("decode+verify/stored", |b| {
        b.iter_batched(
            || bytes.clone(),
            |bytes| {
                let pkg = Package0::decode(&bytes).unwrap();
                verify(&pkg, PASSWORD, &[STORED], Fallback::default())
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group! {
    name = package0;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(package0);
