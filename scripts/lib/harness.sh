# shellcheck shell=bash
# Sourced by the test suites: one work directory, one EXIT trap, and the
# start/stop of dmnonced and dmnonce-testserver, so that no suite writes its
# own. $H_ROOT is the repository (cargo is asked there for the binaries).
#
#   harness_name NAME     say() prefixed with NAME; nothing else (suites that
#                         start nothing and need no work directory)
#   harness_init NAME     harness_name, plus the work dir $H_WORK (removed at
#                         exit) and $H_BIN = cargo's debug directory
#   harness_track PID     a process of ours, stopped at exit
#   harness_track_group PGID  a process group of ours (setsid), TERM then
#                         KILL at exit: for what starts processes we cannot
#                         name one by one
#   harness_start_testserver DIR [ARG...]   sets H_BASE (http://…), H_PORT,
#                         H_TESTSERVER_PID; log DIR/err
#   harness_start_daemon DIR [CONFIG]       state DIR/state, socket DIR/d.sock,
#                         log DIR/err, H_DAEMON_PID; CONFIG is extra TOML
#                         (ofono is off); $H_DAEMON_EXE, when set, is the
#                         dmnonced started (another build's)
#   harness_untrack PID   no longer ours to stop (it was waited for)
#   harness_stop PID      SIGTERM, then wait for it; untracked
#   harness_wait_until SECONDS COMMAND...   COMMAND polled until it succeeds
#   harness_wait_for FILE PATTERN SECONDS   grep -q PATTERN FILE, polled

# shellcheck source=scripts/lib/target-dir.sh
source "$(dirname "${BASH_SOURCE[0]}")/target-dir.sh"

H_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
H_PIDS=()
H_GROUPS=()
H_WORK=

harness_name() { H_NAME=$1; }

harness_init() {
    harness_name "$1"
    H_WORK=$(mktemp -d "/tmp/dmnonce-$1.XXXXXX")
    H_BIN=$(cd "$H_ROOT" && cargo_target_dir)/debug
    trap _harness_exit EXIT
}

say() { printf '%s: %s\n' "$H_NAME" "$*"; }

harness_track() { H_PIDS+=("$1"); }

harness_track_group() { H_GROUPS+=("$1"); }

harness_untrack() {
    local p keep=()
    for p in "${H_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    H_PIDS=("${keep[@]}")
}

harness_stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    harness_untrack "$1"
}

# The one EXIT trap: every process of ours, then the work directory.
_harness_exit() {
    local p
    for p in "${H_GROUPS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
    for p in "${H_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${H_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    if ((${#H_GROUPS[@]})); then
        sleep 0.3
        for p in "${H_GROUPS[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
    fi
    [[ -z $H_WORK ]] || rm -rf "$H_WORK"
}

harness_wait_until() {
    local i n=$(($1 * 10))
    shift
    for ((i = 0; i < n; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

harness_wait_for() { harness_wait_until "$3" grep -q "$2" "$1" 2>/dev/null; }

harness_start_testserver() {
    local dir=$1
    shift
    mkdir -p "$dir"
    "$H_BIN/dmnonce-testserver" --listen 127.0.0.1:0 --state "$dir" "$@" >"$dir/out" 2>"$dir/err" &
    H_TESTSERVER_PID=$!
    harness_track "$H_TESTSERVER_PID"
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
    "${H_DAEMON_EXE:-$H_BIN/dmnonced}" --config "$dir/dmnonced.toml" --state-dir "$dir/state" --socket "$dir/d.sock" \
        2>"$dir/err" &
    H_DAEMON_PID=$!
    harness_track "$H_DAEMON_PID"
    harness_wait_for "$dir/err" 'dmnonced ready' 20 || { cat "$dir/err" >&2; say "dmnonced did not become ready"; return 1; }
}
