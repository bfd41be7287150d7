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
# shellcheck source=scripts/lib/harness.sh
source scripts/lib/harness.sh
harness_init asan-c
work=$H_WORK dbg=$H_BIN

if ! echo 'int main(void){return 0;}' | gcc -x c -fsanitize=address,undefined - -o "$work/probe" 2>/dev/null; then
    say "SKIPPED: gcc cannot link -fsanitize=address,undefined (libasan/libubsan missing)"
    exit 0
fi
cargo build --locked -q -p dmnonce-client -p dmnonced -p dmnonce-testserver

# shellcheck disable=SC2054 # the commas belong to -fsanitize=
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

harness_start_testserver "$work/ts"
harness_start_daemon "$work/d"
base=$H_BASE
if "$work/test_daemon" "$work/d/d.sock" "$base" "$root/scripts/hardening/dmn.py" "$work/d" \
    > "$work/daemon.log" 2>&1; then
    say "PASS test_daemon: $(tail -n 1 "$work/daemon.log")"
else
    say "FAIL test_daemon"; sed 's/^/    /' "$work/daemon.log" | tail -n 40; status=1
fi
exit $status
