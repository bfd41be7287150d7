#!/usr/bin/env bash
# Measures dmnonced (release build): stripped binary size, time from start to
# socket ready, idle RSS, and the time of a loopback resync session against
# dmnonce-testserver (push -> resync-finished), next to a stored-nonce push
# (push -> alert) on the same daemon. Writes a Markdown table on stdout.
#
#   scripts/measure-daemon.sh [RUNS [SESSIONS]]   (default 20; SESSIONS: resync
#       sessions per combination, default RUNS)
#   MEASURE_JSON=FILE: also write the figures as JSON (scripts/bench.sh reads it)
#   scripts/measure-daemon.sh --target aarch64-unknown-linux-gnu|armv7-unknown-linux-gnueabihf [RUNS]
#       the device build (scripts/cross-build.sh) on the emulated device
#       (scripts/emulated-device.sh; the guest side is scripts/device/measure.sh):
#       stripped size, start to ready, idle RSS, RSS after 1,000 pushes and
#       10 resync sessions, and the Package #0 verify / bare MD5+Base64
#       ratio of the same build, each beside its goal (RUNS default 3).
set -euo pipefail
cd "$(dirname "$0")/.."

measure_on_device() {
    local target=$1 runs=$2 arch gnu bench out
    # (tmp is global: the EXIT trap runs after this function returned.)
    source scripts/lib/cross-env.sh
    cross_arch_of "$target" >/dev/null || exit 2
    arch=${target%%-*} gnu=$(cross_gnu_of "$target")
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    bench=$(scripts/cross-build.sh "$target" --benches)
    out=$(dirname "$bench")/..
    "$gnu-strip" -o "$tmp/dmnonced.stripped" "$out/dmnonced"
    mkdir -p "$tmp/share"
    cp scripts/device/lib.sh scripts/device/measure.sh "$tmp/share/"
    printf 'RUNS=%s\nPUSHES=1000\nSESSIONS=10\nBENCH=/usr/local/bin/%s\n' "$runs" "$(basename "$bench")" >"$tmp/share/env"
    scripts/emulated-device.sh --arch "$arch" --timeout 1800 --share "$tmp/share" --bin "$bench" \
        -- sh /share/measure.sh | tee "$tmp/device.log" >&2
    python3 - "$target" "$(stat -c %s "$tmp/dmnonced.stripped")" "$tmp/device.log" <<'PY'
import re, statistics, sys
target, size, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
m, bench, rss_in, lines = {}, {}, {}, open(log, encoding="utf-8", errors="replace").read().splitlines()
for l in lines:
    if l.startswith("measure rss_in "):
        _, _, name, kib = l.split()
        rss_in[name] = int(kib)
    elif l.startswith("measure "):
        _, k, v = l.split(None, 2)
        m.setdefault(k, []).append(float(v))
# Criterion: the name, then (same or next line) "time: [low estimate high]".
name = None
unit = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
for l in (l[len("bench| "):] for l in lines if l.startswith("bench| ")):
    n = re.match(r"(package0/\S+)", l)
    if n:
        name = n.group(1)
    t = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+)", l)
    if t and name:
        bench[name] = float(t.group(1)) * unit[t.group(2)]
        name = None
if "done" not in m:
    sys.exit("measure-daemon: the device run did not finish (see its output above)")
med = lambda k: statistics.median(m[k])
mib = lambda kib: kib / 1024
def row(what, value, goal, ok):
    print(f"| {what} | {value} | {goal} | {'met' if ok else 'NOT met'} |")
print(f"On the device: {target} under qemu-system (TCG), median of {len(m['start_fresh_ms'])} starts\n")
print("| figure | measured | goal | |")
print("|---|---|---|---|")
row("stripped `dmnonced`", f"{size:,} bytes", "≤ 5,000,000 bytes", size <= 5_000_000)
row("idle RSS", f"{mib(med('idle_rss_kib')):.1f} MiB ({int(med('threads_idle'))} threads)", "≤ 4 MiB", mib(med('idle_rss_kib')) <= 4)
row("RSS after 10 resync sessions and 1,000 pushes", f"{mib(med('loaded_rss_kib')):.1f} MiB (peak {mib(med('loaded_hwm_kib')):.1f}; {int(med('threads_loaded'))} threads)", "≤ 6 MiB", mib(med('loaded_rss_kib')) <= 6)
row("start to ready, fresh state (key + store created)", f"{med('start_fresh_ms'):.0f} ms", "(recorded)", True)
row("start to ready, existing state", f"{med('start_existing_ms'):.0f} ms", "(recorded)", True)
for v, b in [("verify/stored", "bare/stored-3md5-2b64"), ("verify/fallback-text", "bare/fallback-text-4md5-2b64")]:
    a, f = bench.get("package0/" + v), bench.get("package0/" + b)
    if a and f:
        row(f"Package #0 {v} / the bare MD5+Base64 work ({b}), same build", f"{a / f:.2f}", "≤ 1.1", a / f <= 1.1)
    else:
        row(f"Package #0 {v} / {b}", "not measured", "≤ 1.1", False)
print("\nIdle RSS by mapping (first start, /proc/PID/smaps):\n")
print("| mapping | RSS |")
print("|---|---|")
for name, kib in sorted(rss_in.items(), key=lambda e: -e[1]):
    print(f"| `{name}` | {kib:,} KiB |")
print(f"| **sum** | **{sum(rss_in.values()):,} KiB** |")
PY
}

if [[ ${1:-} == --target ]]; then
    measure_on_device "${2:?--target needs a target triple}" "${3:-3}"
    exit
fi
RUNS="${1:-20}"
SESSIONS="${2:-$RUNS}"
cargo build --release -q -p dmnonced -p dmnoncectl -p dmnonce-testserver
# shellcheck source=scripts/lib/target-dir.sh
source scripts/lib/target-dir.sh
BIN="$(cargo_target_dir)/release"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cp "$BIN/dmnonced" "$TMP/dmnonced"
strip "$TMP/dmnonced"
SIZE=$(stat -c %s "$TMP/dmnonced")
UNSTRIPPED=$(stat -c %s "$BIN/dmnonced")

python3 - "$BIN" "$TMP" "$RUNS" "$SIZE" "$UNSTRIPPED" "$SESSIONS" <<'PY'
import base64, json, os, signal, socket, statistics, subprocess, sys, threading, time

BIN, TMP, RUNS, SIZE, UNSTRIPPED = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
SESSIONS = int(sys.argv[6])
TICK = os.sysconf("SC_CLK_TCK")

def cpu_s(pid):
    # utime + stime of the whole process, exited threads included.
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK
CONFIG = os.path.join(TMP, "d.toml")
with open(CONFIG, "w") as f:
    f.write('[ofono]\nenabled = false\n[fallback]\nmax_per_hour = 100000\n')

def drain(stream):
    for _ in stream:
        pass

def start(state, sock):
    t0 = time.perf_counter()
    p = subprocess.Popen([os.path.join(BIN, "dmnonced"), "--config", CONFIG,
                          "--state-dir", state, "--socket", sock],
                         stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for line in p.stderr:
        if line.startswith("dmnonced ready"):
            break
    # Keep reading (and dropping) the log: a pipe nobody reads fills after
    # 64 KiB, and the daemon then blocks in its next log write (100 sessions
    # log more than that).
    threading.Thread(target=drain, args=(p.stderr,), daemon=True).start()
    c = Conn(sock)
    c.call({"op": "hello"})
    t = time.perf_counter() - t0
    c.close()
    return p, t

def stop(p):
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=10)

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1])

class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.f = self.s.makefile("rwb")
        self.id = 0
    def call(self, req):
        self.id += 1
        req = dict(req, v=1, id=self.id)
        self.f.write((json.dumps(req) + "\n").encode()); self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if r.get("id") == self.id:
                if not r["ok"]:
                    raise RuntimeError(r["error"])
                return r["result"]
    def event(self):
        return json.loads(self.f.readline())["event"]
    def close(self):
        self.s.close()

# Start to ready: fresh state (key file and store created) and existing state.
fresh, again, rss = [], [], []
for i in range(RUNS):
    state, sock = os.path.join(TMP, f"s{i}"), os.path.join(TMP, f"s{i}.sock")
    p, t = start(state, sock); fresh.append(t)
    time.sleep(0.5 if i else 2.0)
    rss.append(rss_kib(p.pid))
    stop(p)
    p, t = start(state, sock); again.append(t); stop(p)

# Loopback resync sessions against the test server.
srv = subprocess.Popen([os.path.join(BIN, "dmnonce-testserver"), "--listen", "127.0.0.1:0",
                        "--state", os.path.join(TMP, "server")],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
base = srv.stdout.readline().split()[1]
import urllib.request
def admin(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return r.read()
sessions = {}
for scheme, enc in [("md5", "xml"), ("hmac", "wbxml")]:
    name = f"dev-{scheme}-{enc}"
    admin("/admin/devices", {"client_name": name, "server_password": "sp", "client_password": "cp",
                             "auth_scheme": scheme, "encoding": enc})
state, sock = os.path.join(TMP, "rs"), os.path.join(TMP, "rs.sock")
p, _ = start(state, sock)
c = Conn(sock)
ev = Conn(sock); ev.call({"op": "subscribe"})
alerts = []
cpu_per_session = {}
# The test server has one server id: each combination gets the account in
# turn (added, measured, removed).
def run_combo(scheme, enc, server_base, sid):
    name = f"dev-{scheme}-{enc}"
    c.call({"op": "account_add", "account": {"server_id": sid, "server_url": server_base + "/dm",
            "client_name": name, "auth_scheme": scheme, "encoding": enc, "policy": "allow",
            "server_password": "sp", "client_password": "cp"}})
    times, cpu = [], 0.0
    for i in range(SESSIONS):
        pkg = admin("/admin/notify", {"client_name": name, "nonce": "text", "wsp": True})
        c0 = cpu_s(p.pid)
        t0 = time.perf_counter()
        r = c.call({"op": "push", "format": "auto", "data_b64": base64.b64encode(pkg).decode()})
        assert r["outcome"] == "resync_started", r
        while True:
            e = ev.event()
            if e["kind"] == "resync-finished":
                break
            if e["kind"] == "resync-failed":
                raise RuntimeError(e)
        times.append(time.perf_counter() - t0)
        cpu += cpu_s(p.pid) - c0
        pkg = admin("/admin/notify", {"client_name": name, "nonce": "stored", "wsp": True})
        t0 = time.perf_counter()
        r = c.call({"op": "push", "format": "auto", "data_b64": base64.b64encode(pkg).decode()})
        assert r["outcome"] == "alert", r
        while ev.event()["kind"] != "alert":
            pass
        alerts.append(time.perf_counter() - t0)
    c.call({"op": "account_remove", "server_id": sid})
    cpu_per_session[f"{scheme}/{enc}"] = cpu / SESSIONS
    return times
sessions["md5/xml"] = run_combo("md5", "xml", base, "dmnonce-test")
sessions["hmac/wbxml"] = run_combo("hmac", "wbxml", base, "dmnonce-test")
stop(p)
srv.send_signal(signal.SIGTERM); srv.wait(timeout=10)

ms = lambda xs: statistics.median(xs) * 1000
print(f"| figure | median of {RUNS} |")
print("|---|---|")
print(f"| release binary, stripped | {SIZE/1024/1024:.2f} MiB ({SIZE} bytes; unstripped {UNSTRIPPED/1024/1024:.2f} MiB) |")
print(f"| start to ready, fresh state (key + store created) | {ms(fresh):.1f} ms |")
print(f"| start to ready, existing state | {ms(again):.1f} ms |")
print(f"| idle RSS after start | {statistics.median(rss)/1024:.1f} MiB (min {min(rss)/1024:.1f}, max {max(rss)/1024:.1f}) |")
for k, v in sessions.items():
    print(f"| loopback resync session {k} (push -> resync-finished), median of {len(v)} | {ms(v):.1f} ms (min {min(v) * 1000:.1f}) |")
    print(f"| daemon CPU per resync session {k} (user + system) | {cpu_per_session[k] * 1000:.2f} ms |")
print(f"| stored-nonce push (push -> alert event) | {ms(alerts):.2f} ms |")
for k, v in sessions.items():
    print(f"| ratio resync {k} / stored-nonce push | {statistics.median(v)/statistics.median(alerts):.0f} |")
print(f"| ratio start fresh / start existing | {statistics.median(fresh)/statistics.median(again):.2f} |")
if os.environ.get("MEASURE_JSON"):
    with open(os.environ["MEASURE_JSON"], "w") as f:
        json.dump({"sessions": {k: {"median_ms": ms(v), "min_ms": min(v) * 1000, "n": len(v),
                                    "daemon_cpu_ms": cpu_per_session[k] * 1000}
                                for k, v in sessions.items()},
                   "alert_median_ms": ms(alerts), "alert_n": len(alerts)}, f)
PY
