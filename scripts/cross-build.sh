#!/usr/bin/env bash
# Cross-builds dmnonce for a device: dmnonced, dmnoncectl, dmnonce-testserver,
# libdmnonce (.so and .a) and libdmnonce_jni into <cargo target dir>/TARGET/release/,
# installing the Debian cross toolchain on a fresh Debian 12 machine (see
# scripts/lib/cross-env.sh for why the cross builds use Debian's rustc while
# the host build keeps rustup's).
#
#   scripts/cross-build.sh TARGET              release binaries and libraries
#   scripts/cross-build.sh TARGET --tests      also every crate's tests
#                                              (cargo test --no-run, dev profile);
#                                              prints "EXECUTABLE<TAB>PACKAGE_DIR"
#                                              for each test executable
#   scripts/cross-build.sh TARGET --benches    also the Package #0 bench with
#                                              the device profile; prints its
#                                              executable
# TARGET: aarch64-unknown-linux-gnu | armv7-unknown-linux-gnueabihf
#
# What makes the device build small (docs/performance.md, "On the device",
# gives what each step saved):
# - SQLCipher encrypts with libtomcrypt (feature libtomcrypt) instead of
#   libcrypto, whose mapping was the largest part of the daemon's memory (a
#   check after the build refuses a dmnonced that still needs libcrypto);
# - the release profile is tuned for size: opt-level "z", one codegen unit,
#   fat LTO (DEVICE_PROFILE below); the Package #0 path (dmnonce-proto,
#   md-5) stays at "s", whose speed its bench checks;
# - the programs abort on a panic (DEVICE_PROGRAMS_PANIC): a panic is a bug,
#   the store survives a kill at any point (docs/store.md) and init restarts
#   the daemon. The two libraries keep unwinding, because their C and JNI
#   boundaries turn a panic into an error for the host process instead of
#   killing it.
# - once ready, dmnonced unmaps the pages of its program that starting
#   touched (feature release-start-pages): they are clean file pages, and a
#   page used again faults back. Sound because those segments are never
#   written, so a check after the build refuses a dmnonced with text
#   relocations. It does the same when a resync session ends;
# - one malloc arena for all threads (feature one-malloc-arena), so that
#   the pages of short-lived threads' arenas do not stay with the daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
# Only the lists of --tests and --benches go to standard output, which the
# callers read as data: everything else (apt, cargo, the build scripts) goes
# to standard error. (A CI run of 50-device-tests took './../dmnonced' for
# the first test's directory: the list's first line held no path. The cause
# was not found; scripts/device-tests.sh now checks the list it reads.)
exec 3>&1 1>&2
source scripts/lib/cross-env.sh
target=${1:?usage: scripts/cross-build.sh TARGET [--tests]}
mode=${2:-}
cross_install_toolchain "$target"
cross_export_env "$target"

DEVICE_PROFILE=(--config 'profile.release.opt-level="z"' --config 'profile.release.codegen-units=1'
    --config 'profile.release.lto="fat"'
    --config 'profile.release.package.dmnonce-proto.opt-level="s"' --config 'profile.release.package.md-5.opt-level="s"')
DEVICE_PROGRAMS_PANIC=(--config 'profile.release.panic="abort"')
# The device's dmnonced features, for its build and for the tests' build.
DEVICE_FEATURES=dmnonced/ofono,dmnonced/libtomcrypt,dmnonced/release-start-pages,dmnonced/one-malloc-arena
FEATURES=(--no-default-features --features "$DEVICE_FEATURES")
cargo_x() { "$CROSS_CARGO" "$1" --release --locked --target "$target" "${DEVICE_PROFILE[@]}" "${@:2}"; }

cargo_x build "${DEVICE_PROGRAMS_PANIC[@]}" "${FEATURES[@]}" -p dmnonced -p dmnoncectl -p dmnonce-testserver
cargo_x build -p dmnonce-client -p dmnonce-jni
out=$(cargo_target_dir)/$target/release
for f in dmnonced dmnoncectl dmnonce-testserver libdmnonce.so libdmnonce.a libdmnonce_jni.so; do
    [[ -e "$out/$f" ]] || { echo "missing after the build: $out/$f" >&2; exit 1; }
done
dynamic=$("$(cross_gnu_of "$target")-readelf" -d "$out/dmnonced")
if grep -q 'NEEDED.*libcrypto' <<<"$dynamic"; then
    echo "$out/dmnonced needs libcrypto: SQLCipher was not built on libtomcrypt" >&2; exit 1
fi
if grep -q 'TEXTREL' <<<"$dynamic"; then
    echo "$out/dmnonced has text relocations: it must not unmap its start pages (release-start-pages)" >&2; exit 1
fi
echo "built in $out: dmnonced dmnoncectl dmnonce-testserver libdmnonce.so libdmnonce.a libdmnonce_jni.so" >&2

if [[ "$mode" == --tests ]]; then
    # Plain `cargo test --no-run`: the dev profile, whose overflow checks and
    # debug assertions are what catches a 32-bit usize or time_t mistake,
    # and which builds and links far faster than the size-tuned release
    # profile (fat LTO of every test executable). No debug info: the
    # executables are copied into the device's RAM. The store's own tests
    # take its libtomcrypt backend, as the daemon does.
    "$CROSS_CARGO" test --locked --target "$target" --config 'profile.dev.debug=0' \
        --workspace --no-run --tests \
        --no-default-features --features "$DEVICE_FEATURES,dmnonce-store/libtomcrypt" \
        --message-format=json-render-diagnostics |
        python3 -c '
import json, os, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"], os.path.dirname(m["manifest_path"]), sep="\t")' >&3
fi
if [[ "$mode" == --benches ]]; then
    # (cargo bench is always optimised: no --release.)
    "$CROSS_CARGO" bench --locked --target "$target" "${DEVICE_PROFILE[@]}" --no-run -p dmnonce-proto --bench package0 --message-format=json-render-diagnostics |
        python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "package0":
        print(m["executable"])' >&3
fi
