#!/usr/bin/env bash
# libdmnonce from C: the checked-in header is current; the C tests, compiled
# with gcc -Wall -Wextra -Werror against include/dmnonce.h, linked once with
# libdmnonce.so and once with libdmnonce.a, run (under valgrind when present)
# without a daemon and against a real dmnonced + dmnonce-testserver on a
# temporary socket; the example agent is built through pkg-config from a
# scripts/install.sh installation and run against the daemon.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck source=scripts/lib/harness.sh
source scripts/lib/harness.sh
# shellcheck source=scripts/lib/libdmnonce.sh
source scripts/lib/libdmnonce.sh
harness_init 30-c
work=$H_WORK dbg=$H_BIN
failed=()
skipped=()

say "building libdmnonce, dmnonced, dmnonce-testserver (debug)"
cargo build --locked -q -p dmnonce-client
# The daemon tests are the point of this suite: a daemon or test server
# that does not build fails it (no silent skip).
if ! cargo build --locked -q -p dmnonced -p dmnonce-testserver; then
    say "FAIL: dmnonced or dmnonce-testserver did not build"
    exit 1
fi

say "checking include/dmnonce.h against a fresh cbindgen run"
scripts/gen-header.sh --check

# Every exported function is declared in the header, and nothing else is exported.
nm -D --defined-only "$dbg/libdmnonce.so" | awk '$2 == "T" {print $3}' | sort > "$work/exported"
grep -o 'dmnonce_[a-z_]*(' include/dmnonce.h | tr -d '(' | sort -u > "$work/declared"
if ! diff -u "$work/declared" "$work/exported"; then
    say "libdmnonce.so exports differ from include/dmnonce.h"; exit 1
fi
say "$(wc -l < "$work/exported") exported functions, all declared in the header"

# The tests link the libraries as they are installed: the versioned .so
# and the trimmed .a (scripts/lib/libdmnonce.sh).
lib=$work/lib
libdmnonce_package "$dbg" "$lib" "$(libdmnonce_version)"
cflags=(-std=c11 -O1 -g -Wall -Wextra -Werror -pthread -I"$root/include")
for prog in test_offline test_peer test_daemon test_denied test_closed test_idle test_busy test_store test_abi example_agent; do
    gcc "${cflags[@]}" "tests/c/$prog.c" -L"$lib" -ldmnonce -Wl,-rpath,"$lib" -o "$work/$prog.so"
    gcc "${cflags[@]}" "tests/c/$prog.c" "$lib/libdmnonce.a" "${LIBDMNONCE_NATIVE_LIBS[@]}" -o "$work/$prog.a"
    if ldd "$work/$prog.a" | grep libdmnonce >/dev/null; then
        say "$prog.a is not statically linked"; exit 1
    fi
done
say "compiled the C tests (.so and .a)"

if ! command -v valgrind >/dev/null && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    say "installing valgrind"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind >/dev/null || true
fi
vg=()
if command -v valgrind >/dev/null; then
    vg=(valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible)
    say "running under valgrind"
else
    say "valgrind missing: C tests run WITHOUT valgrind"
    skipped+=("valgrind (not installed)")
fi

run() { # name cmd...
    local name=$1; shift
    if "$@" > "$work/$name.log" 2>&1; then
        say "PASS $name: $(tail -n 1 "$work/$name.log")"
    else
        say "FAIL $name"; sed 's/^/    /' "$work/$name.log"; failed+=("$name")
    fi
}

for link in so a; do
    run "test_offline.$link" "${vg[@]}" "$work/test_offline.$link" "$work"
    # A scripted peer on a socket of its own (no daemon): the codes dmnonced
    # never sends on its own (protocol, unsupported version, each error class).
    mkdir -p "$work/peer-$link"
    run "test_peer.$link" "${vg[@]}" "$work/test_peer.$link" "$work/peer-$link"
done

wait_for_file() { # file seconds
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [[ -e $1 ]] && return 0
        sleep 0.1
    done
    return 1
}

for link in so a; do
    # A fresh server and daemon per run: the test provisions and resyncs.
    d=$work/run-$link
    harness_start_testserver "$d/ts"
    base=$H_BASE
    harness_start_daemon "$d" ""
    run "test_daemon.$link" "${vg[@]}" "$work/test_daemon.$link" "$d/d.sock" "$base" \
        "$root/scripts/hardening/dmn.py" "$d"
    eval "base_$link=\$base"
done

# A daemon whose allow-list excludes us.
harness_start_daemon "$work/denied" "allowed_uids = [4242]"
for link in so a; do
    run "test_denied.$link" "${vg[@]}" "$work/test_denied.$link" "$work/denied/d.sock"
done

# The daemon stops under a connected agent (SIGTERM), then comes back.
for link in so a; do
    d=$work/closed-$link
    harness_start_daemon "$d" ""
    "${vg[@]}" "$work/test_closed.$link" "$d/d.sock" "$d" > "$work/test_closed.$link.log" 2>&1 &
    tpid=$!
    if wait_for_file "$d/ready" 60; then
        harness_stop "$H_DAEMON_PID"
        if wait_for_file "$d/down-checked" 60; then
            harness_start_daemon "$d" ""
            touch "$d/restarted"
        fi
    fi
    if wait "$tpid"; then
        say "PASS test_closed.$link: $(tail -n 1 "$work/test_closed.$link.log")"
    else
        say "FAIL test_closed.$link"; sed 's/^/    /' "$work/test_closed.$link.log"
        failed+=("test_closed.$link")
    fi
done

# A client handle outlives the daemon's idle timeout.
# Above the client's 1 s idle probe: the calls a round makes one after the
# other (under valgrind, on a loaded machine) must fit inside it, or the
# daemon closes between them and the client, not having paused, does not probe.
harness_start_daemon "$work/idle" "$(printf '[control]\nidle_timeout_ms = 1200')"
for link in so a; do
    run "test_idle.$link" "${vg[@]}" "$work/test_idle.$link" "$work/idle/d.sock"
done

# A daemon with one connection slot: a second connection is refused (busy).
harness_start_daemon "$work/busy" "$(printf '[control]\nmax_connections = 1')"
for link in so a; do
    run "test_busy.$link" "${vg[@]}" "$work/test_busy.$link" "$work/busy/d.sock"
done

# Another process holds the store's write lock: the daemon's write fails
# (store) after its 5 s busy timeout, and nothing changes.
for link in so a; do
    harness_start_daemon "$work/store-$link" ""
    run "test_store.$link" "${vg[@]}" "$work/test_store.$link" "$work/store-$link/d.sock" \
        "$work/store-$link/state"
done

# The README's path: install, build the example with pkg-config, run it.
# The device of run-a was resynchronised, so a stored-nonce push is an alert.
PREFIX="$work/prefix" PROFILE=debug scripts/install.sh lib > "$work/install.log" 2>&1
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror tests/c/example_agent.c $(pkg-config --cflags --libs dmnonce) \
    -o "$work/example_agent"
# shellcheck disable=SC2154
python3 scripts/hardening/dmn.py notify "$base_a" c-agent stored wsp "$work/push.bin"
run example_agent env LD_LIBRARY_PATH="$work/prefix/lib" "${vg[@]}" \
    "$work/example_agent" "$work/push.bin" "$work/run-a/d.sock"
if [[ " ${failed[*]} " != *" example_agent "* ]] && ! grep -q '^alert from dmnonce-test' "$work/example_agent.log"; then
    say "FAIL example_agent: no alert reported"; failed+=(example_agent)
fi

# Callers built against older and newer headers (tests/c/test_abi.c), with
# the same stored-nonce push, so every push is an alert.
for link in so a; do
    run "test_abi.$link" "${vg[@]}" "$work/test_abi.$link" "$work/run-a/d.sock" "$work/push.bin"
done

for s in "${skipped[@]}"; do say "SKIPPED $s"; done
failed=(${failed[*]})
if ((${#failed[@]})); then
    say "FAILED: ${failed[*]}"
    exit 1
fi
say "all C tests passed"
