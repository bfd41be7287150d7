# The daemon's footprint, measured on the emulated device
# (scripts/measure-daemon.sh --target TRIPLE): start to ready (fresh state,
# then existing state), idle RSS, and RSS after SESSIONS resync sessions
# against dmnonce-testserver and PUSHES stored-nonce pushes, then the
# Package #0 bench. The DM server runs on the device itself, on its
# loopback, so that nothing but the device is measured and no port is
# forwarded. Prints "measure KEY VALUE" lines for the host's table.
# Needs /share/env (RUNS, PUSHES, SESSIONS, BENCH).
set -eu
. /share/env
. /share/lib.sh
SERVER_ID=dmnonce-test CLIENT=measured-device

mkdir -p /tmp/srv
dmnonce-testserver --listen 127.0.0.1:0 --state /tmp/srv --server-id "$SERVER_ID" >/tmp/srv/out 2>/tmp/srv/log &
wait_for "dmnonce-testserver" 60 grep -q '^listening http' /tmp/srv/out || { cat /tmp/srv/log; fail "no test server"; }
BASE=$(sed -n 's/^listening //p' /tmp/srv/out)
wget -q -O /dev/null --header 'Content-Type: application/json' --post-data \
    "{\"client_name\":\"$CLIENT\",\"server_password\":\"measure-sp\",\"client_password\":\"measure-cp\",\"auth_scheme\":\"md5\",\"encoding\":\"xml\"}" \
    "$BASE/admin/devices" || fail "cannot register the device with the test server"
printf '{"server_password":"measure-sp","client_password":"measure-cp"}' >/tmp/srv/secrets.json
chmod 600 /tmp/srv/secrets.json

# busybox date has no %N: the uptime clock, 10 ms steps.
now_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
status_kib() { sed -n "s/^$2:[[:space:]]*\([0-9]*\).*/\1/p" "/proc/$1/status"; }
out() { echo "measure $*"; }

# start_timed DIR: like start_daemon, polling every 10 ms; the time it
# took in READY_MS (not printed: a command substitution would lose
# DAEMON_PID in its subshell).
start_timed() {
    mkdir -p "$1"
    SOCK=$1/dmnonced.sock
    printf 'state_dir = "%s"\nsocket = "%s"\n[fallback]\nmax_per_hour = 100000\n[ofono]\nenabled = false\n' \
        "$1/state" "$SOCK" >"$1/dmnonced.toml"
    t0=$(now_ms)
    dmnonced --config "$1/dmnonced.toml" 2>"$1/daemon.log" &
    DAEMON_PID=$!
    n=0
    until grep -q 'dmnonced ready' "$1/daemon.log" 2>/dev/null; do
        n=$((n + 1))
        [ $n -lt 6000 ] || { cat "$1/daemon.log"; fail "dmnonced did not become ready"; }
        sleep 0.01
    done
    READY_MS=$(($(now_ms) - t0))
}
stop_daemon() { kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; }

i=0
while [ $i -lt "$RUNS" ]; do
    start_timed /tmp/m$i
    out start_fresh_ms "$READY_MS"
    sleep 2
    out idle_rss_kib "$(status_kib "$DAEMON_PID" VmRSS)"
    out threads_idle "$(ls /proc/$DAEMON_PID/task | wc -l)"
    # Where the idle RSS goes, once: Rss summed per mapped file (the
    # program, each library) and per kind of anonymous memory.
    [ $i -gt 0 ] || awk '
        /^[0-9a-f]+-[0-9a-f]+ / { n = split($6, p, "/"); name = (NF >= 6) ? p[n] : "[anonymous]" }
        /^Rss:/ { kib[name] += $2 }
        END { for (k in kib) if (kib[k] > 0) print "measure rss_in", k, kib[k] }' "/proc/$DAEMON_PID/smaps"
    stop_daemon
    start_timed /tmp/m$i
    out start_existing_ms "$READY_MS"
    stop_daemon
    i=$((i + 1))
done

start_timed /tmp/load
ctl account add --server-id "$SERVER_ID" --server-url "$BASE/dm" --client-name "$CLIENT" \
    --auth-scheme md5 --encoding xml --policy allow --secrets-file /tmp/srv/secrets.json >/dev/null
ctl --json events >/tmp/load/events.jsonl 2>/dev/null &
events_pid=$!
sleep 0.5
s=0
while [ $s -lt "$SESSIONS" ]; do
    notify text /tmp/load/n.wsp "$CLIENT" >/dev/null
    ctl --json push /tmp/load/n.wsp >/dev/null
    s=$((s + 1))
    wait_for "resync-finished $s" 60 sh -c "[ \$(grep -c '\"resync-finished\"' /tmp/load/events.jsonl) -ge $s ]" ||
        fail "resync session $s did not finish"
done
[ "$(grep -c '"resync-failed"' /tmp/load/events.jsonl || true)" = 0 ] || fail "a resync session failed"
notify stored /tmp/load/stored.wsp "$CLIENT" >/dev/null
p=0 alerts=0
while [ $p -lt "$PUSHES" ]; do
    case $(ctl --json push /tmp/load/stored.wsp) in *'"alert"'*) alerts=$((alerts + 1)) ;; esac
    p=$((p + 1))
done
[ "$alerts" = "$PUSHES" ] || fail "$alerts of $PUSHES stored-nonce pushes were alerts"
out loaded_rss_kib "$(status_kib "$DAEMON_PID" VmRSS)"
out loaded_hwm_kib "$(status_kib "$DAEMON_PID" VmHWM)"
out threads_loaded "$(ls /proc/$DAEMON_PID/task | wc -l)"
kill "$events_pid" 2>/dev/null || true
stop_daemon

# Package #0 verify against the bare MD5/Base64 work it needs, same build.
if [ -n "${BENCH:-}" ]; then
    cd /tmp
    # Criterion's report, whole: the host reads the estimates from it.
    "$BENCH" --bench 'package0/(bare/stored|bare/fallback-text|verify/stored|verify/fallback-text)' 2>&1 |
        sed 's/^/bench| /'
fi
out done 1
