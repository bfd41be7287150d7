# Helpers for the scripts that run inside the emulated device
# (scripts/emulated-device.sh; busybox sh, no bash, no python). Sourced from
# /share, where scripts/test.d/52-emulated-device.sh copies this directory
# next to `env`, the run's settings (PORT, SERVER_ID, CLIENT, ...).

say() { echo "device: $*"; }
fail() { echo "device: FAIL: $*"; exit 1; }
# check DESCRIPTION COMMAND...: the command must succeed.
check() {
    local what=$1; shift
    if "$@"; then say "ok: $what"; else fail "$what"; fi
}

# json_str KEY JSON / json_num KEY JSON: the first such field (flat enough
# for the daemon's and the server's answers).
json_str() { printf '%s\n' "$2" | sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p" | head -n 1; }
json_num() { printf '%s\n' "$2" | sed -n "s/.*\"$1\" *: *\([0-9][0-9]*\).*/\1/p" | head -n 1; }

# The DM server on the host, through QEMU's guestfwd.
BASE=http://10.0.2.100:${PORT:-0}

# notify NONCE FILE CLIENT: the server's Package #0 for CLIENT (stored, text,
# zero or auto) as a WSP push PDU in FILE; prints the nonce the server says
# it signed with (its X-Dmnonce-Nonce header). The admin API stands in for
# the SMS bearer, which is not IP on a real device either.
notify() {
    wget -q -S -O "$2" --header 'Content-Type: application/json' \
        --post-data "{\"client_name\":\"$3\",\"nonce\":\"$1\",\"wsp\":true}" \
        "$BASE/admin/notify" 2>"$2.headers" || { cat "$2.headers"; fail "notify $1 for $3"; }
    sed -n 's/^ *X-Dmnonce-Nonce: *\([a-z-]*\).*/\1/ip' "$2.headers" | head -n 1
}

# start_daemon DIR [EXTRA_TOML]: dmnonced as root with its state, socket and
# log in DIR; waits until it serves. Sets SOCK and DAEMON_PID.
start_daemon() {
    mkdir -p "$1"
    SOCK=$1/dmnonced.sock
    cat >"$1/dmnonced.toml" <<TOML
state_dir = "$1/state"
socket = "$SOCK"
[http]
connect_timeout_ms = 2000
request_timeout_ms = 10000
[fallback]
max_per_hour = 30
[ofono]
enabled = false
${2:-}
TOML
    dmnonced --config "$1/dmnonced.toml" 2>"$1/daemon.log" &
    DAEMON_PID=$!
    wait_for "dmnonced ready" 60 grep -q 'dmnonced ready' "$1/daemon.log" ||
        { cat "$1/daemon.log"; fail "dmnonced did not become ready"; }
}
ctl() { dmnoncectl --socket "$SOCK" "$@"; }

# wait_for WHAT SECONDS COMMAND...: polls COMMAND every 0.1 s.
wait_for() {
    local what=$1 n=$(($2 * 10)); shift 2
    while [ "$n" -gt 0 ]; do
        "$@" 2>/dev/null && return 0
        sleep 0.1
        n=$((n - 1))
    done
    say "timed out waiting for $what"
    return 1
}

# account_state SERVER_ID: in-sync, needs-resync or resyncing.
account_state() {
    ctl --json status | grep -o "{[^{}]*\"server_id\" *: *\"$1\"[^{}]*}" | sed -n 's/.*"state" *: *"\([^"]*\)".*/\1/p'
}
counter() { json_num "$1" "$(ctl --json status)"; }
