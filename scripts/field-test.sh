#!/usr/bin/env bash
# The nonce-resync change request's field cases, end to end, on two emulated
# hosts: a *device* running dmnonced and a *server* running
# dmnonce-testserver, each in its own network namespace joined by a veth
# pair (private addresses inside those namespaces only), or both on
# 127.0.0.1 when namespaces are not permitted. See docs/field-test.md.
#
# Usage: scripts/field-test.sh [--mode auto|netns|loopback] [--fallback-ms N]
#                              [--outage-ms N] [--scenarios LIST] [--traces DIR]
#                              [--keep] [--no-build]
#   --mode        auto (default): netns when root and `ip netns` works, else loopback
#   --fallback-ms the server's wait for a session before the default-nonce
#                 notification (default 1500; a real server would wait minutes)
#   --outage-ms   the link-down scenario's outage (default 10000)
#   --scenarios   comma list of: case1,case2,linkdown,replay,restart (default all,
#                 in that order; replay needs case1's capture)
#   --auth-scheme md5 (default) | hmac, --encoding xml (default) | wbxml: the account's
#   --bearer      socket (default): pushes go to dmnonced's control socket;
#                 dbus: over a private dbus-daemon to dmnonced's ofono push
#                 agent (ReceiveNotification, called with busctl), as ofono would
#   --rotate-secret  the server replaces its AuthSecret at Pkg#4 of every resync;
#                 case2 is then left out by default: a backup older than the
#                 rotation holds the old secret, which no nonce can repair
#                 (docs/field-test.md)
#   --traces      where each scenario's `dmnoncectl trace` goes, SCENARIO.svg (the
#                 message sequence chart) and SCENARIO.json (default: traces/ in
#                 the work directory, which goes with it unless --keep)
#   --keep        keep the work directory /tmp/dmnonce-field-test for inspection
# Prints a timeline, then "field-test: N passed, M failed"; exit 1 on a failure.
# Idempotent: a run that died leaves namespaces, a veth pair, processes and
# the work directory, which the next run removes first; a run still alive is
# waited for (the work directory is fixed). Only processes this script
# started (pid files) are stopped.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/target-dir.sh
source "$ROOT/scripts/lib/target-dir.sh"
BIN=$(cd "$ROOT" && cargo_target_dir)/debug
RUN=/tmp/dmnonce-field-test
NS_DEV=dmnft-dev NS_SRV=dmnft-srv VETH_DEV=dmnft-d0 VETH_SRV=dmnft-s0
ADDR_DEV=10.231.77.1 ADDR_SRV=10.231.77.2
SERVER_ID=dmnonce-test CLIENT=field-device

scenarios_given=0
mode=auto fallback_ms=1500 outage_ms=10000 keep=0 build=1 traces= scheme=md5 encoding=xml bearer=socket rotate=()
scenarios=case1,case2,linkdown,replay,restart
while (($#)); do
    case $1 in
    --mode) mode=$2; shift 2 ;;
    --fallback-ms) fallback_ms=$2; shift 2 ;;
    --outage-ms) outage_ms=$2; shift 2 ;;
    --scenarios) scenarios=$2; scenarios_given=1; shift 2 ;;
    --auth-scheme) scheme=$2; shift 2 ;;
    --encoding) encoding=$2; shift 2 ;;
    --bearer) bearer=$2; shift 2 ;;
    --rotate-secret) rotate=(--rotate-secret); shift ;;
    --traces) traces=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-build) build=0; shift ;;
    -h | --help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "field-test: unknown argument $1" >&2; exit 2 ;;
    esac
done

if ((${#rotate[@]})) && ((!scenarios_given)); then
    scenarios=case1,linkdown,replay,restart
fi

# ---------------------------------------------------------------- timeline
T0=$(date +%s%3N)
ts() { date +%H:%M:%S.%3N; }
since() { local now; now=$(date +%s%3N); printf '+%7.3fs' "$(((now - T0)))e-3"; }
# One line per step, appended (O_APPEND keeps concurrent writers whole).
say() { printf '%s %s %s: %s\n' "$(ts)" "$(since)" "$1" "$2" >>"$RUN/timeline.log"; }
banner() { printf '\n%s\n' "=== $* ===" >>"$RUN/timeline.log"; }

# ---------------------------------------------------------------- cleanup
stop_pid() {
    local pid=$1
    # Only our own processes: the pid must still run one of our binaries.
    if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'dmnonce\|tail -n\|field-test\|dbus-daemon --session --nofork'; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do [[ -e /proc/$pid ]] || break; sleep 0.05; done
        kill -9 "$pid" 2>/dev/null || true
    fi
}
cleanup() {
    if [[ -f $RUN/pids ]]; then
        while read -r pid; do stop_pid "$pid"; done <"$RUN/pids"
        : >"$RUN/pids"
    fi
    ip netns del "$NS_DEV" 2>/dev/null || true
    ip netns del "$NS_SRV" 2>/dev/null || true
    ip netns del dmnft-probe 2>/dev/null || true
    # A run that died between `ip link add` and moving the ends into the
    # namespaces left the veth pair in this namespace (deleting one end
    # deletes both).
    ip link del "$VETH_DEV" 2>/dev/null || true
    ip link del "$VETH_SRV" 2>/dev/null || true
}
remember() { echo "$1" >>"$RUN/pids"; }

# The work directory is fixed: a run still alive owns it (its processes are
# in the pid file the cleanup below stops). Wait for it rather than break it.
waited=0
while owner=$(cat "$RUN/owner" 2>/dev/null) && [[ $owner != "$$" ]] &&
    tr '\0' ' ' 2>/dev/null <"/proc/$owner/cmdline" | grep -q 'field-test'; do
    ((waited == 0)) && echo "field-test: another run (pid $owner) is using $RUN; waiting for it" >&2
    ((waited++ < 600)) || { echo "field-test: $RUN still in use by pid $owner after 600 s" >&2; exit 1; }
    sleep 1
done
cleanup # leftovers of a run that died: processes, namespaces, veth pair
rm -rf "$RUN"
mkdir -p "$RUN"/{server,device,captured}
traces=${traces:-$RUN/traces}
mkdir -p "$traces"
chmod 700 "$RUN"
echo $$ >"$RUN/owner"
: >"$RUN/timeline.log"
tail -n +1 -F "$RUN/timeline.log" 2>/dev/null &
TAIL_PID=$!
remember $TAIL_PID
finish() {
    local rc=$?
    sleep 0.3
    cleanup
    if ((keep)); then echo "field-test: work directory kept: $RUN"; else rm -rf "$RUN"; fi
    exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- build, mode
if ((build)); then
    (cd "$ROOT" && cargo build -q -p dmnonced -p dmnoncectl -p dmnonce-testserver)
fi
for b in dmnonced dmnoncectl dmnonce-testserver; do
    [[ -x $BIN/$b ]] || { echo "field-test: $BIN/$b missing (cargo build)" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "field-test: curl missing (scripts/ci-deps.sh)" >&2; exit 1; }

if [[ $mode == auto ]]; then
    mode=loopback
    if [[ $EUID -eq 0 ]] && ip netns add dmnft-probe 2>/dev/null; then
        ip netns del dmnft-probe
        mode=netns
    fi
fi
case $mode in
netns)
    IN_DEV=(ip netns exec "$NS_DEV") IN_SRV=(ip netns exec "$NS_SRV")
    ip netns add "$NS_DEV"
    ip netns add "$NS_SRV"
    ip link add "$VETH_DEV" type veth peer name "$VETH_SRV"
    ip link set "$VETH_DEV" netns "$NS_DEV"
    ip link set "$VETH_SRV" netns "$NS_SRV"
    ip -n "$NS_DEV" addr add "$ADDR_DEV/24" dev "$VETH_DEV"
    ip -n "$NS_SRV" addr add "$ADDR_SRV/24" dev "$VETH_SRV"
    for ns in "$NS_DEV" "$NS_SRV"; do ip -n "$ns" link set lo up; done
    ip -n "$NS_DEV" link set "$VETH_DEV" up
    ip -n "$NS_SRV" link set "$VETH_SRV" up
    LISTEN=$ADDR_SRV:8080
    ;;
loopback)
    IN_DEV=() IN_SRV=()
    LISTEN=127.0.0.1:0
    ;;
*) echo "field-test: --mode must be auto, netns or loopback" >&2; exit 2 ;;
esac
say setup "mode $mode$([[ $mode == netns ]] && echo " (device $NS_DEV $ADDR_DEV, server $NS_SRV $ADDR_SRV, veth)" || true); fallback after ${fallback_ms} ms"

# ---------------------------------------------------------------- the server
SOCK=$RUN/device/dmnonced.sock
# The bearer: a notification reaches a device as a WAP push over SMS, not
# over the IP link between the hosts (so it works while that link is down).
# bearer.sh hands a WSP push PDU to the device: to dmnonced's control socket
# (`dmnoncectl push`, as the Android receiver does), or over D-Bus to
# dmnonced's ofono push agent (ReceiveNotification(ay, a{sv}), called with
# busctl, as ofono does). The server's delivery hook (deliver.sh) keeps a
# copy of each PDU, then uses bearer.sh.
cat >"$RUN/bearer.sh" <<EOF
#!/bin/bash
# bearer.sh FILE: delivers the PDU, prints what the transport answered.
if [[ "$bearer" == dbus ]]; then
    bytes=\$(od -An -tu1 -v "\$1" | tr -s ' \n' ' ')
    busctl --address="\$(cat "$RUN/device/bus")" call "\$(cat "$RUN/device/agent-name")" \\
        /org/dmnonce/PushAgent org.ofono.PushNotificationAgent ReceiveNotification 'aya{sv}' \\
        "\$(stat -c %s "\$1")" \$bytes 1 Sender s +15550100 2>&1 && echo "ReceiveNotification answered"
else
    "$BIN/dmnoncectl" --socket "$SOCK" --json push "\$1" 2>&1
fi
EOF
cat >"$RUN/deliver.sh" <<EOF
#!/bin/sh
f=\$(mktemp "$RUN/captured/push.XXXXXX")
cat >"\$f"
cp "\$f" "$RUN/captured/\$(date +%s%N)-\$DMNONCE_NOTIFY_NONCE.\$DMNONCE_NOTIFY_FORMAT"
out=\$("$RUN/bearer.sh" "\$f") || true
rm -f "\$f"
printf '%s %s bearer: WAP push (Pkg#0 signed with the %s nonce) -> device over %s: %s\n' "\$(date +%H:%M:%S.%3N)" "        " "\$DMNONCE_NOTIFY_NONCE" "$bearer" "\$(echo "\$out" | tr -d '\n' | sed 's/"notification":{[^}]*},\{0,1\}//')" >>"$RUN/timeline.log"
EOF
# The link outage (netns only): take the server's veth end down and bring it
# back after the outage, in the background so the server carries on.
cat >"$RUN/link.sh" <<EOF
#!/bin/sh
ip link set $VETH_SRV down || exit 1
printf '%s %s link: veth down for %s ms\n' "\$(date +%H:%M:%S.%3N)" "        " "\$DMNONCE_OUTAGE_MS" >>"$RUN/timeline.log"
( sleep \$((DMNONCE_OUTAGE_MS / 1000)).\$((DMNONCE_OUTAGE_MS % 1000)); ip link set $VETH_SRV up;
  printf '%s %s link: veth up\n' "\$(date +%H:%M:%S.%3N)" "        " >>"$RUN/timeline.log" ) >/dev/null 2>&1 &
echo \$! >>"$RUN/pids"
EOF
chmod 700 "$RUN/deliver.sh" "$RUN/bearer.sh" "$RUN/link.sh"

start_server() {
    local fault=()
    [[ $mode == netns ]] && fault=(--fault-hook "$RUN/link.sh")
    : >"$RUN/server/stdout"
    "${IN_SRV[@]}" "$BIN/dmnonce-testserver" --listen "$LISTEN" --state "$RUN/server/state" \
        --server-id "$SERVER_ID" --fallback-after-ms "$fallback_ms" \
        --deliver-cmd "$RUN/deliver.sh" "${fault[@]}" "${rotate[@]}" \
        >"$RUN/server/stdout" 2>>"$RUN/timeline.log" &
    SERVER_PID=$!
    remember $SERVER_PID
    for _ in $(seq 100); do
        grep -q '^listening ' "$RUN/server/stdout" && break
        sleep 0.05
    done
    local line
    line=$(head -n1 "$RUN/server/stdout")
    [[ $line == listening\ http://* ]] || { echo "field-test: server did not start" >&2; exit 1; }
    BASE=${line#listening }
    LISTEN=${BASE#http://} # a restart keeps the port
}
srv_curl() { "${IN_SRV[@]}" curl -sS --max-time 30 "$@"; }
admin() { # admin PATH JSON -> body on stdout; fails on HTTP >= 400
    srv_curl -f -X POST -H 'Content-Type: application/json' --data "$2" "$BASE$1"
}
device_info() { srv_curl -f "$BASE/admin/devices/$CLIENT"; }
json_field() { python3 -c 'import json,sys; v=json.load(sys.stdin); print(v.get(sys.argv[1], ""))' "$1"; }

# ---------------------------------------------------------------- the device
case $bearer in
socket) ;;
dbus)
    command -v busctl >/dev/null && command -v dbus-daemon >/dev/null ||
        { echo "field-test: --bearer dbus needs dbus-daemon and busctl" >&2; exit 1; }
    dbus-daemon --session --nofork --print-address >"$RUN/device/bus.out" 2>/dev/null &
    remember $!
    for _ in $(seq 100); do [[ -s $RUN/device/bus.out ]] && break; sleep 0.05; done
    head -n1 "$RUN/device/bus.out" >"$RUN/device/bus"
    ;;
*) echo "field-test: --bearer must be socket or dbus" >&2; exit 2 ;;
esac
cat >"$RUN/device/dmnonced.toml" <<EOF
state_dir = "$RUN/device/state"
socket = "$SOCK"
[http]
connect_timeout_ms = 1000
request_timeout_ms = 3000
max_attempts = 14
backoff_initial_ms = 250
backoff_max_ms = 2000
[fallback]
max_per_hour = 30
[ofono]
enabled = $([[ $bearer == dbus ]] && echo true || echo false)
bus = "$(cat "$RUN/device/bus" 2>/dev/null || echo system)"
# No ofono owns org.ofono on the private bus: the bearer (busctl, as this
# user) calls the agent in its place, so the agent must let this uid in.
allowed_uids = [$(id -u)]
EOF
ctl() { "$BIN/dmnoncectl" --socket "$SOCK" "$@"; }
# "resync-finished session 5A3C" from one JSON event line (sed only: fast
# enough that the timeline keeps its order). Session ids in hex, as the
# server writes them.
describe_event() {
    local kind sid reason verdict out
    kind=$(sed -n 's/.*"kind" *: *"\([^"]*\)".*/\1/p' <<<"$1")
    sid=$(sed -n 's/.*"session_id" *: *\([0-9]*\).*/\1/p' <<<"$1")
    reason=$(sed -n 's/.*"reason" *: *"\([^"]*\)".*/\1/p' <<<"$1")
    verdict=$(sed -n 's/.*"verdict" *: *"\([^"]*\)".*/\1/p' <<<"$1")
    out=$kind
    [[ -n $sid ]] && out+=" session $(printf '%X' "$sid")"
    [[ -n $verdict ]] && out+=" ($verdict)"
    [[ -n $reason ]] && out+=": $reason"
    echo "$out"
}
# Which state each side is in, for the timeline (sed only, like
# describe_event). The device: its account's state in `dmnoncectl status`
# (in-sync, needs-resync, resyncing). The server: its record of the device
# (GET /admin/devices/NAME; no secrets, no nonces).
device_state() {
    local acct st
    acct=$(ctl --json status 2>/dev/null | grep -o "{[^{}]*\"server_id\" *: *\"$SERVER_ID\"[^{}]*}") || true
    st=$(sed -n 's/.*"state" *: *"\([^"]*\)".*/\1/p' <<<"$acct")
    echo "account $SERVER_ID ${st:-unknown (dmnonced not answering)}"
}
server_state() {
    local j err
    # A short timeout: the server may be down (restart) or cut off (linkdown).
    j=$(srv_curl -f --max-time 2 "$BASE/admin/devices/$CLIENT" 2>/dev/null) || { echo "$CLIENT: server not answering"; return 0; }
    err=$(sed -n 's/.*"last_error" *: *"\([^"]*\)".*/\1/p' <<<"$j")
    echo "$CLIENT resyncs completed $(srv_field resyncs_completed "$j"), session in flight $(srv_field session_active "$j"), notification pending $(srv_field notification_pending "$j"), last error ${err:-none}"
}
# The state of both sides at a moment no event marks (mid-outage, after a crash).
show_states() {
    say device "  state: $(device_state)"
    say server "  state: $(server_state)"
}
wait_device_state() { # wait_device_state STATE TIMEOUT_S
    local deadline=$(($(date +%s) + $2))
    while (($(date +%s) < deadline)); do
        [[ $(device_state) == *" $1" ]] && return 0
        sleep 0.1
    done
    return 1
}
srv_field() { # srv_field NAME JSON: a number, or yes/no for a boolean
    sed -n "s/.*\"$1\" *: *\([0-9a-z]*\).*/\1/p" <<<"$2" | sed 's/^true$/yes/; s/^false$/no/'
}
start_device() {
    "${IN_DEV[@]}" "$BIN/dmnonced" --config "$RUN/device/dmnonced.toml" 2>>"$RUN/device/daemon.log" &
    DEVICE_PID=$!
    remember $DEVICE_PID
    for _ in $(seq 200); do
        ctl status >/dev/null 2>&1 && break
        sleep 0.05
    done
    ctl status >/dev/null || { echo "field-test: dmnonced did not become ready" >&2; tail -n 20 "$RUN/device/daemon.log" >&2; exit 1; }
    [[ $bearer == dbus ]] && find_agent
    # Follow the device's events into the timeline and a file the checks read.
    # Every event is a push outcome or a resync step: after each, the state
    # each side is in (the server's too after a rejection or a session's end).
    ("$BIN/dmnoncectl" --socket "$SOCK" --json events 2>/dev/null | while IFS= read -r ev; do
        echo "$ev" >>"$RUN/events.jsonl"
        say device "event $(describe_event "$ev")"
        say device "  state: $(device_state)"
        case $ev in
        *'"push-rejected"'* | *'"resync-finished"'* | *'"resync-failed"'*) say server "  state: $(server_state)" ;;
        esac
    done) &
    remember $!
    sleep 0.2
}
# The bus name of dmnonced's ofono push agent: the connection that exports
# /org/dmnonce/PushAgent (no ofono runs here, so nothing registers it; the
# bearer calls it directly, as ofono would).
find_agent() {
    local bus n
    bus=$(cat "$RUN/device/bus")
    for _ in $(seq 100); do
        for n in $(busctl --address="$bus" list --unique --no-legend --no-pager 2>/dev/null | awk '{print $1}'); do
            if busctl --address="$bus" introspect "$n" /org/dmnonce/PushAgent org.ofono.PushNotificationAgent >/dev/null 2>&1; then
                echo "$n" >"$RUN/device/agent-name"
                say device "ofono push agent on the private bus as $n"
                return 0
            fi
        done
        sleep 0.1
    done
    echo "field-test: dmnonced's ofono push agent not found on the bus" >&2
    exit 1
}
stop_device() {
    stop_pid "$DEVICE_PID"
}

# Secrets and bootstrap nonces: random, in files only (never on a command line).
SERVER_PW=$(openssl rand -hex 12)
CLIENT_PW=$(openssl rand -hex 12)
SN=$(openssl rand -base64 12)
CN=$(openssl rand -base64 12)
provision_device() { # $1: with nonces (1) or as after a factory reset (0)
    local f=$RUN/device/secrets.json
    if (($1)); then
        printf '{"server_password":"%s","client_password":"%s","server_nonce_b64":"%s","client_nonce_b64":"%s"}' "$SERVER_PW" "$CLIENT_PW" "$SN" "$CN" >"$f"
    else
        printf '{"server_password":"%s","client_password":"%s"}' "$SERVER_PW" "$CLIENT_PW" >"$f"
    fi
    chmod 600 "$f"
    ctl account add --server-id "$SERVER_ID" --server-url "$BASE/dm" --client-name "$CLIENT" \
        --auth-scheme "$scheme" --encoding "$encoding" --policy allow --secrets-file "$f" >/dev/null
    rm -f "$f"
}

# ---------------------------------------------------------------- checks
event_count() { grep -c "\"kind\" *: *\"$1\"" "$RUN/events.jsonl" 2>/dev/null || true; }
wait_event() { # wait_event KIND BEFORE_COUNT TIMEOUT_S
    local deadline=$(($(date +%s) + $3))
    while (($(date +%s) < deadline)); do
        (($(event_count "$1") > $2)) && return 0
        sleep 0.1
    done
    return 1
}
push_file() { # push_file FILE -> the device's outcome (alert, rejected, replay, ...)
    if [[ $bearer == socket ]]; then
        ctl --json push "$1" | json_field outcome
        return
    fi
    # Over D-Bus the agent answers nothing: the outcome is the event it caused.
    local n line
    n=$(wc -l <"$RUN/events.jsonl" 2>/dev/null || echo 0)
    "$RUN/bearer.sh" "$1" >/dev/null
    for _ in $(seq 100); do
        line=$(tail -n +$((n + 1)) "$RUN/events.jsonl" 2>/dev/null | grep -m1 '"kind" *: *"\(alert\|push-rejected\|resync-started\)"' || true)
        case $line in
        *'"alert"'*) echo alert; return ;;
        *'"resync-started"'*) echo resync_started; return ;;
        *replay*) echo replay; return ;;
        *'"push-rejected"'*) echo rejected; return ;;
        esac
        sleep 0.1
    done
    echo none
}
notify_to_file() { # notify_to_file NONCE FILE
    srv_curl -f -o "$2" -X POST -H 'Content-Type: application/json' \
        --data "{\"client_name\":\"$CLIENT\",\"nonce\":\"$1\",\"wsp\":true}" "$BASE/admin/notify"
}
# The closing check of every scenario: a normal notification (stored nonce)
# is accepted by the device.
check_in_step() {
    notify_to_file stored "$RUN/check.wsp"
    local out
    out=$(push_file "$RUN/check.wsp")
    say check "server's stored-nonce Pkg#0 pushed -> device outcome $out"
    [[ $out == alert ]]
}
resyncs() { device_info | json_field resyncs_completed; }
figure() { echo "$1 $2" >>"$RUN/figures"; say figure "$1: first notification to both sides in step: $2 ms"; }

# Each scenario's trace: the account's audit entries after the last one
# before it started (trace_after), drawn by dmnoncectl.
trace_after=0
last_audit_id() {
    ctl --json trace --server-id "$SERVER_ID" | grep -o '"id":[0-9]*' | tail -n1 | cut -d: -f2
}
draw_trace() { # draw_trace SCENARIO
    if ctl --json trace --server-id "$SERVER_ID" --after "$trace_after" --svg "$traces/$1.svg" >"$traces/$1.json"; then
        say trace "$1: $traces/$1.svg"
    else
        say trace "$1: no trace (dmnoncectl trace failed)"
    fi
}

fail_reason=""
expect() { # expect DESCRIPTION COMMAND...
    local what=$1; shift
    if ! "$@"; then fail_reason=$what; return 1; fi
}

# ---------------------------------------------------------------- scenarios
scenario_case1() {
    banner "case 1: the device loses its nonces (data wipe / firmware update)"
    stop_device
    rm -rf "$RUN/device/state"
    trace_after=0 # the new store numbers its audit entries from 1 again
    say device "state wiped; dmnonced restarts and the account is provisioned again without nonces"
    start_device
    provision_device 0
    local finished rejected t0 t1
    finished=$(event_count resync-finished)
    rejected=$(event_count push-rejected)
    t0=$(date +%s%3N)
    say server "notification due: stored nonce first, through the bearer (hook)"
    expect "notify" admin /admin/notify "{\"client_name\":\"$CLIENT\",\"nonce\":\"auto\",\"wsp\":true,\"deliver\":true}" >/dev/null || return 1
    expect "resync-finished event" wait_event resync-finished "$finished" $((fallback_ms / 1000 + 30)) || return 1
    t1=$(date +%s%3N)
    expect "stored-nonce Pkg#0 ignored by the device" test "$(event_count push-rejected)" -gt "$rejected" || return 1
    expect "server in step (resyncs_completed)" test "$(resyncs)" -ge 1 || return 1
    figure case1 $((t1 - t0))
    expect "stored-nonce notification accepted" check_in_step
}

scenario_case2() {
    banner "case 2: the server's database is restored from an old backup"
    admin /admin/snapshot '{}' >/dev/null
    say server "snapshot taken (the backup)"
    local finished before t0 t1 f
    finished=$(event_count resync-finished)
    f=$RUN/rotate.wsp
    notify_to_file text "$f"
    say server "a session that rotates both nonces (the daemon's session is the resync session)"
    say device "push outcome $(push_file "$f")"
    expect "rotation session finished" wait_event resync-finished "$finished" 30 || return 1
    expect "in step after rotation" check_in_step || return 1
    admin /admin/restore '{}' >/dev/null
    say server "database restored from the backup: the server holds the older nonces"
    finished=$(event_count resync-finished)
    before=$(event_count push-rejected)
    t0=$(date +%s%3N)
    expect "notify" admin /admin/notify "{\"client_name\":\"$CLIENT\",\"nonce\":\"auto\",\"wsp\":true,\"deliver\":true}" >/dev/null || return 1
    expect "resync-finished event" wait_event resync-finished "$finished" $((fallback_ms / 1000 + 30)) || return 1
    t1=$(date +%s%3N)
    expect "stale Pkg#0 refused by the device" test "$(event_count push-rejected)" -gt "$before" || return 1
    figure case2 $((t1 - t0))
    expect "stored-nonce notification accepted" check_in_step
}

scenario_linkdown() {
    banner "link down after Pkg#2 for ${outage_ms} ms"
    local finished failed before t0 t1 f=$RUN/linkdown.wsp
    finished=$(event_count resync-finished)
    failed=$(event_count resync-failed)
    before=$(resyncs)
    admin /admin/fault "{\"after_pkg\":2,\"action\":\"outage\",\"outage_ms\":$outage_ms}" >/dev/null
    notify_to_file text "$f"
    t0=$(date +%s%3N)
    say device "push outcome $(push_file "$f")"
    # Pkg#2 committed the device's new nonces before the outage began: the
    # device is mid-session until the link comes back.
    expect "device resyncing during the outage" wait_device_state resyncing 5 || return 1
    show_states
    expect "resync-finished after the outage" wait_event resync-finished "$finished" $((outage_ms / 1000 + 40)) || return 1
    t1=$(date +%s%3N)
    expect "session outlived the outage" test $((t1 - t0)) -ge "$outage_ms" || return 1
    expect "no resync-failed" test "$(event_count resync-failed)" -eq "$failed" || return 1
    expect "exactly one session completed on the server" test "$(resyncs)" -eq $((before + 1)) || return 1
    figure linkdown $((t1 - t0))
    expect "stored-nonce notification accepted" check_in_step
}

scenario_replay() {
    banner "a captured default-nonce notification is replayed"
    local captured
    captured=$(ls "$RUN"/captured/*-default-text.wsp 2>/dev/null | head -n1)
    expect "a default-nonce push was captured in case 1" test -n "$captured" || return 1
    local started out
    started=$(event_count resync-started)
    out=$(push_file "$captured")
    say attacker "replays the captured default-nonce Pkg#0 -> device outcome $out"
    # With --rotate-secret the captured PDU was signed with a secret that has
    # since been replaced: refused before the replay cache is even asked.
    if ((${#rotate[@]})); then
        expect "replay refused" test "$out" = replay -o "$out" = rejected || return 1
    else
        expect "replay refused" test "$out" = replay || return 1
    fi
    sleep 0.5
    expect "no session started" test "$(event_count resync-started)" -eq "$started" || return 1
    expect "stored-nonce notification accepted" check_in_step
}

scenario_restart() {
    banner "the server restarts in the middle of a session"
    local finished failed t0 t1 f=$RUN/restart.wsp
    finished=$(event_count resync-finished)
    failed=$(event_count resync-failed)
    admin /admin/fault '{"after_pkg":2,"action":"crash"}' >/dev/null
    notify_to_file text "$f"
    t0=$(date +%s%3N)
    say device "push outcome $(push_file "$f")"
    for _ in $(seq 100); do [[ -e /proc/$SERVER_PID ]] || break; sleep 0.05; done
    expect "server crashed after Pkg#2" test ! -e "/proc/$SERVER_PID" || return 1
    show_states
    start_server
    say server "restarted from its state file (the session in flight is gone)"
    # The device's Pkg#3 reaches the new process, which refuses it; the
    # session fails cleanly on the device.
    expect "the interrupted session fails cleanly" wait_event resync-failed "$failed" 40 || return 1
    say server "the session did not complete: notifying again with the default nonce"
    notify_to_file text "$f"
    say device "push outcome $(push_file "$f")"
    expect "resync-finished after the restart" wait_event resync-finished "$finished" 30 || return 1
    t1=$(date +%s%3N)
    figure restart $((t1 - t0))
    expect "stored-nonce notification accepted" check_in_step
}

# ---------------------------------------------------------------- run
start_server
say server "listening on $BASE ($SERVER_ID)"
admin /admin/devices "{\"client_name\":\"$CLIENT\",\"server_password\":\"$SERVER_PW\",\"client_password\":\"$CLIENT_PW\",\"auth_scheme\":\"$scheme\",\"encoding\":\"$encoding\",\"server_nonce_b64\":\"$SN\",\"client_nonce_b64\":\"$CN\"}" >/dev/null
start_device
provision_device 1
say setup "device account ($scheme, $encoding) provisioned on both sides with the same secrets and bootstrap nonces"
check_in_step || { echo "field-test: the bootstrap is not in step" >&2; exit 1; }

passed=0 failed=0
IFS=, read -r -a list <<<"$scenarios"
for s in "${list[@]}"; do
    fail_reason=""
    trace_after=$(last_audit_id || true)
    trace_after=${trace_after:-0}
    if "scenario_$s"; then
        passed=$((passed + 1))
        say result "$s passed"
    else
        failed=$((failed + 1))
        say result "$s FAILED: ${fail_reason:-check failed}"
        {
            echo "--- device log (last 25 lines) ---"
            tail -n 25 "$RUN/device/daemon.log" 2>/dev/null || true
        } >>"$RUN/timeline.log"
    fi
    draw_trace "$s"
done
# No secret and no bootstrap nonce may appear in anything printed or logged.
for secret in "$SERVER_PW" "$CLIENT_PW" "$SN" "$CN"; do
    if grep -qF -- "$secret" "$RUN/timeline.log" "$RUN/device/daemon.log" "$RUN/events.jsonl" 2>/dev/null; then
        failed=$((failed + 1))
        say result "a secret or nonce appears in a log: FAILED"
        break
    fi
done
sleep 0.3
kill "$TAIL_PID" 2>/dev/null || true
echo
echo "field-test: mode $mode, $scheme/$encoding, bearer $bearer$( ((${#rotate[@]})) && echo ", AuthSecret rotation"), fallback after ${fallback_ms} ms"
[[ -f $RUN/figures ]] && sed 's/^/  time to in step (ms): /' "$RUN/figures"
echo "field-test: $passed passed, $failed failed"
((failed == 0))
