# shellcheck shell=bash
# Sourced by the test suites: one work directory, one EXIT trap, and the
# start/stop of dmnonced and dmnonce-testserver, so that no suite writes its
# own. Run from the repository (cargo is asked for the binaries).
#
#   harness_init NAME     work dir $H_WORK (removed at exit), say() prefixed
#                         with NAME, $H_BIN = cargo's debug directory
#   harness_track PID     a process of ours, stopped at exit
#   harness_start_testserver DIR [ARG...]   sets H_BASE (http://…), H_PORT
#   harness_start_daemon DIR [CONFIG]       state DIR/state, socket DIR/d.sock,
#                         log DIR/err; CONFIG is extra TOML (ofono is off)
#   harness_stop PID      SIGTERM, then wait for it
#   harness_wait_for FILE PATTERN SECONDS   grep -q PATTERN FILE, polled

# shellcheck source=scripts/lib/target-dir.sh
source "$(dirname "${BASH_SOURCE[0]}")/target-dir.sh"

H_PIDS=()

harness_init() {
    H_NAME=$1
    H_WORK=$(mktemp -d "/tmp/dmnonce-$1.XXXXXX")
    H_BIN=$(cargo_target_dir)/debug
    trap _harness_exit EXIT
}

say() { printf '%s: %s\n' "$H_NAME" "$*"; }

harness_track() { H_PIDS+=("$1"); }

harness_stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# The one EXIT trap: every process of ours, then the work directory.
_harness_exit() {
    local p
    for p in "${H_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${H_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$H_WORK"
}

harness_wait_for() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

harness_start_testserver() {
    local dir=$1
    shift
    mkdir -p "$dir"
    "$H_BIN/dmnonce-testserver" --listen 127.0.0.1:0 --state "$dir" "$@" >"$dir/out" 2>"$dir/err" &
    harness_track $!
    harness_wait_for "$dir/out" '^listening http' 20 || { cat "$dir/err" >&2; say "dmnonce-testserver did not start"; return 1; }
    H_BASE=$(sed -n 's/^listening //p' "$dir/out" | head -n 1)
    # shellcheck disable=SC2034 # read by the suites that source this
    H_PORT=${H_BASE##*:}
}

harness_start_daemon() {
    local dir=$1
    mkdir -p "$dir/state"
    # A restart in the same dir: the old log says "ready" too.
    rm -f "$dir/err"
    printf '%s\n[ofono]\nenabled = false\n' "${2:-}" >"$dir/dmnonced.toml"
    "$H_BIN/dmnonced" --config "$dir/dmnonced.toml" --state-dir "$dir/state" --socket "$dir/d.sock" \
        2>"$dir/err" &
    H_DAEMON_PID=$!
    harness_track "$H_DAEMON_PID"
    harness_wait_for "$dir/err" 'dmnonced ready' 20 || { cat "$dir/err" >&2; say "dmnonced did not become ready"; return 1; }
}
