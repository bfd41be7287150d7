#!/usr/bin/env bash
# dmnonced built the way a distribution or an Android system image builds
# it: SQLCipher linked to the platform's libcrypto (feature
# system-libcrypto) instead of OpenSSL built from source. Checks that the
# binary links the system libcrypto, starts, creates an encrypted store
# that the sqlite3 CLI cannot read, serves requests, and that a build with
# no SQLCipher backend at all is refused at compile time (plain SQLite
# would ignore the key and write the store in clear).
# Needs libssl-dev and pkg-config (scripts/ci-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/harness.sh
source scripts/lib/harness.sh
harness_init 20-system-libcrypto
features=(--no-default-features --features ofono,system-libcrypto)
target=$(cargo_target_dir)
# A target dir of its own: other features than the host build's.
own=$target/system-libcrypto
cargo build -q --locked -p dmnonced "${features[@]}" --target-dir "$own"
cargo build -q --locked -p dmnoncectl
bin=$own/debug/dmnonced
ctl=$target/debug/dmnoncectl
# Read whole first: `ldd | grep -q` under pipefail fails when grep's early
# exit hits ldd with SIGPIPE.
libs=$(ldd "$bin")
grep -q 'libcrypto\.so' <<<"$libs" || { say "dmnonced does not link the system libcrypto"; exit 1; }
say "links $(grep -o 'libcrypto\.so[^ ]*' <<<"$libs" | head -n1)"

work=$H_WORK
H_DAEMON_EXE=$bin harness_start_daemon "$work"
"$ctl" --socket "$work/d.sock" --json status >"$work/status.json"
grep -q '"accounts"' "$work/status.json" || { say "status failed"; exit 1; }
if sqlite3 "$work/state/dmnonce.db" 'SELECT count(*) FROM sqlite_master;' >/dev/null 2>&1; then
    say "the store is readable without the key"; exit 1
fi
harness_stop "$H_DAEMON_PID"
say "daemon started, served, stopped; its store is encrypted"

if cargo check -q --locked -p dmnonced --no-default-features --features ofono \
    --target-dir "$own" 2>"$work/nobackend.log"; then
    say "a build without a SQLCipher backend was accepted"; exit 1
fi
grep -q 'needs a SQLCipher backend' "$work/nobackend.log" || { cat "$work/nobackend.log"; exit 1; }
say "a build without a SQLCipher backend is refused"
