#!/usr/bin/env bash
# The C tests of libdmnonce (tests/c) built with AddressSanitizer and
# UndefinedBehaviorSanitizer (gcc -fsanitize=address,undefined), linked with
# libdmnonce.so, and run without a daemon (test_offline) and against a real
# dmnonced + dmnonce-testserver (test_daemon). The Rust side is not
# instrumented; what ASan sees is every C read/write of the buffers
# libdmnonce fills (capacity in, length out) and the C side's own memory.
# (scripts/test.d/30-c.sh runs the same tests under valgrind.)
# Usage: scripts/hardening/asan-c.sh        (needs the debug builds)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck source=scripts/lib/target-dir.sh
source scripts/lib/target-dir.sh
dbg=$(cargo_target_dir)/debug
work=$(mktemp -d /tmp/dmnonce-asan.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
say() { printf 'asan-c: %s\n' "$*"; }

if ! echo 'int main(void){return 0;}' | gcc -x c -fsanitize=address,undefined - -o "$work/probe" 2>/dev/null; then
    say "SKIPPED: gcc cannot link -fsanitize=address,undefined (libasan/libubsan missing)"
    exit 0
fi
cargo build --locked -q -p dmnonce-client -p dmnonced -p dmnonce-testserver

cflags=(-std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined
    -fno-sanitize-recover=all -Wall -Wextra -pthread -I"$root/include")
# The shared library as installed (SONAME libdmnonce.so.0, scripts/lib/libdmnonce.sh).
# shellcheck source=scripts/lib/libdmnonce.sh
source scripts/lib/libdmnonce.sh
lib=$work/lib
libdmnonce_package "$dbg" "$lib" "$(libdmnonce_version)"
for prog in test_offline test_daemon; do
    gcc "${cflags[@]}" "tests/c/$prog.c" -L"$lib" -ldmnonce -Wl,-rpath,"$lib" -o "$work/$prog"
done
# detect_leaks: the C side must free what it creates; Rust allocations
# freed by their _free functions are seen too (same malloc).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

status=0
if "$work/test_offline" "$work" > "$work/offline.log" 2>&1; then
    say "PASS test_offline: $(tail -n 1 "$work/offline.log")"
else
    say "FAIL test_offline"; sed 's/^/    /' "$work/offline.log" | tail -n 40; status=1
fi

mkdir -p "$work/ts" "$work/d/state"
"$dbg/dmnonce-testserver" --listen 127.0.0.1:0 --state "$work/ts" > "$work/ts/out" 2> "$work/ts/err" &
pids+=($!)
printf '[ofono]\nenabled = false\n' > "$work/d/dmnonced.toml"
"$dbg/dmnonced" --config "$work/d/dmnonced.toml" --state-dir "$work/d/state" \
    --socket "$work/d/d.sock" 2> "$work/d/err" &
pids+=($!)
for _ in $(seq 200); do
    grep -q '^listening http' "$work/ts/out" 2>/dev/null && grep -q 'dmnonced ready' "$work/d/err" 2>/dev/null && break
    sleep 0.1
done
base=$(sed -n 's/^listening //p' "$work/ts/out" | head -n 1)
if "$work/test_daemon" "$work/d/d.sock" "$base" "$root/tests/c/dmhelper.py" "$work/d" \
    > "$work/daemon.log" 2>&1; then
    say "PASS test_daemon: $(tail -n 1 "$work/daemon.log")"
else
    say "FAIL test_daemon"; sed 's/^/    /' "$work/daemon.log" | tail -n 40; status=1
fi
exit $status
