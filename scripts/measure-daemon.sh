#!/usr/bin/env bash
# Measures dmnonced (release build): stripped binary size, time from start to
# socket ready, idle RSS, and the time of a loopback resync session against
# dmnonce-testserver (push -> resync-finished), next to a stored-nonce push
# (push -> alert) on the same daemon. Writes a Markdown table on stdout.
#
#   scripts/measure-daemon.sh [RUNS]       (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-20}"
cargo build --release -q -p dmnonced -p dmnoncectl -p dmnonce-testserver
BIN="$PWD/target/release"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cp "$BIN/dmnonced" "$TMP/dmnonced"
strip "$TMP/dmnonced"
SIZE=$(stat -c %s "$TMP/dmnonced")
UNSTRIPPED=$(stat -c %s "$BIN/dmnonced")

python3 - "$BIN" "$TMP" "$RUNS" "$SIZE" "$UNSTRIPPED" <<'PY'
import base64, json, os, signal, socket, statistics, subprocess, sys, time

BIN, TMP, RUNS, SIZE, UNSTRIPPED = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
CONFIG = os.path.join(TMP, "d.toml")
with open(CONFIG, "w") as f:
    f.write('[ofono]\nenabled = false\n[fallback]\nmax_per_hour = 100000\n')

def start(state, sock):
    t0 = time.perf_counter()
    p = subprocess.Popen([os.path.join(BIN, "dmnonced"), "--config", CONFIG,
                          "--state-dir", state, "--socket", sock],
                         stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for line in p.stderr:
        if line.startswith("dmnonced ready"):
            break
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
# The test server has one server id: each combination gets the account in
# turn (added, measured, removed).
def run_combo(scheme, enc, server_base, sid):
    name = f"dev-{scheme}-{enc}"
    c.call({"op": "account_add", "account": {"server_id": sid, "server_url": server_base + "/dm",
            "client_name": name, "auth_scheme": scheme, "encoding": enc, "policy": "allow",
            "server_password": "sp", "client_password": "cp"}})
    times = []
    for i in range(RUNS):
        pkg = admin("/admin/notify", {"client_name": name, "nonce": "text", "wsp": True})
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
        pkg = admin("/admin/notify", {"client_name": name, "nonce": "stored", "wsp": True})
        t0 = time.perf_counter()
        r = c.call({"op": "push", "format": "auto", "data_b64": base64.b64encode(pkg).decode()})
        assert r["outcome"] == "alert", r
        while ev.event()["kind"] != "alert":
            pass
        alerts.append(time.perf_counter() - t0)
    c.call({"op": "account_remove", "server_id": sid})
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
    print(f"| loopback resync session {k} (push -> resync-finished) | {ms(v):.1f} ms |")
print(f"| stored-nonce push (push -> alert event) | {ms(alerts):.2f} ms |")
for k, v in sessions.items():
    print(f"| ratio resync {k} / stored-nonce push | {statistics.median(v)/statistics.median(alerts):.0f} |")
print(f"| ratio start fresh / start existing | {statistics.median(fresh)/statistics.median(again):.2f} |")
PY
