#!/usr/bin/env python3
"""The nonce-resync change request's field cases, end to end, on two emulated
hosts: a *device* running dmnonced and a *server* running
dmnonce-testserver, each in its own network namespace joined by a veth
pair (private addresses inside those namespaces only), or both on
127.0.0.1 when namespaces are not permitted. See docs/field-test.md.

Usage: scripts/field-test.sh [--mode auto|netns|loopback] [--fallback-ms N]
                             [--outage-ms N] [--scenarios LIST] [--traces DIR]
                             [--keep] [--no-build]
  --mode        auto (default): netns when root and `ip netns` works, else loopback
  --fallback-ms the server's wait for a session before the default-nonce
                notification (default 1500; a real server would wait minutes)
  --outage-ms   the link-down scenario's outage (default 10000)
  --scenarios   comma list of: case1,case2,linkdown,replay,restart (default all,
                in that order; replay needs case1's capture)
  --auth-scheme md5 (default) | hmac, --encoding xml (default) | wbxml: the account's
  --bearer      socket (default): pushes go to dmnonced's control socket;
                dbus: over a private dbus-daemon to dmnonced's ofono push
                agent (ReceiveNotification, called with busctl), as ofono would
  --rotate-secret  the server replaces its AuthSecret at Pkg#4 of every resync;
                case2 is then left out by default: a backup older than the
                rotation holds the old secret, which no nonce can repair
                (docs/field-test.md)
  --traces      where each scenario's `dmnoncectl trace` goes, SCENARIO.svg (the
                message sequence chart) and SCENARIO.json (default: traces/ in
                the work directory, which goes with it unless --keep)
  --keep        keep the work directory /tmp/dmnonce-field-test for inspection
Prints a timeline, then "field-test: N passed, M failed"; exit 1 on a failure.
Idempotent: a run that died leaves namespaces, a veth pair, processes and
the work directory, which the next run removes first; a run still alive is
waited for (the work directory is fixed). Only processes this script
started (pid files) are stopped.

scripts/field-test.sh runs this file; the server's delivery and fault hooks
are this file too (`field_test.py hook deliver|link`). The processes are
started and spoken to through scripts/hardening/dmn.py.
"""

import base64
import glob
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hardening"))
import dmn  # noqa: E402

RUN = "/tmp/dmnonce-field-test"
NS_DEV, NS_SRV, VETH_DEV, VETH_SRV = "dmnft-dev", "dmnft-srv", "dmnft-d0", "dmnft-s0"
ADDR_DEV, ADDR_SRV = "10.231.77.1", "10.231.77.2"
SERVER_ID, CLIENT = "dmnonce-test", "field-device"
SCENARIOS = ["case1", "case2", "linkdown", "replay", "restart"]
# Whose processes may be stopped: the pid must still run one of these.
OURS = re.compile(r"dmnonce|tail -n|field-test|field_test|dbus-daemon --session --nofork")
TIMELINE = os.path.join(RUN, "timeline.log")
HOOK_CONF = os.path.join(RUN, "hook.json")


class Failed(Exception):
    """A scenario's check failed: the message is its description."""


def die(msg, code=1):
    print(f"field-test: {msg}", file=sys.stderr)
    sys.exit(code)


# ---------------------------------------------------------------- timeline
T0 = time.time()


def clock():
    now = time.time()
    return time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"


def append(line):
    # One write per line, O_APPEND: concurrent writers stay whole.
    fd = os.open(TIMELINE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def say(who, what):
    append(f"{clock()} +{time.time() - T0:7.3f}s {who}: {what}")


def banner(text):
    append(f"\n=== {text} ===")


def now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------- processes
def remember(pid):
    with open(os.path.join(RUN, "pids"), "a") as f:
        f.write(f"{pid}\n")


def ours(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return bool(OURS.search(f.read().replace(b"\0", b" ").decode(errors="replace")))
    except OSError:
        return False


def stop_pid(pid):
    """Only our own processes: the pid must still run one of our binaries."""
    if not ours(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return
    for _ in range(50):
        if not os.path.exists(f"/proc/{pid}"):
            break
        try:  # our child: reap it, or it stays a zombie in /proc
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                break
        except ChildProcessError:
            pass
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (OSError, ChildProcessError):
        pass


def quiet(*cmd):
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cleanup():
    pids = os.path.join(RUN, "pids")
    if os.path.isfile(pids):
        with open(pids) as f:
            for line in f:
                if line.strip().isdigit():
                    stop_pid(int(line))
        open(pids, "w").close()
    for ns in (NS_DEV, NS_SRV, "dmnft-probe"):
        quiet("ip", "netns", "del", ns)
    # A run that died between `ip link add` and moving the ends into the
    # namespaces left the veth pair in this namespace (deleting one end
    # deletes both).
    quiet("ip", "link", "del", VETH_DEV)
    quiet("ip", "link", "del", VETH_SRV)


def wait_for_owner():
    """The work directory is fixed: a run still alive owns it (its processes
    are in the pid file the cleanup stops). Wait for it rather than break it."""
    waited = 0
    while True:
        try:
            owner = open(os.path.join(RUN, "owner")).read().strip()
        except OSError:
            return
        if owner == str(os.getpid()) or not owner.isdigit() or not ours_run(int(owner)):
            return
        if waited == 0:
            print(f"field-test: another run (pid {owner}) is using {RUN}; waiting for it", file=sys.stderr)
        waited += 1
        if waited > 600:
            die(f"{RUN} still in use by pid {owner} after 600 s")
        time.sleep(1)


def ours_run(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return re.search(rb"field[-_]test", f.read()) is not None
    except OSError:
        return False


def wait_until(pred, timeout, step=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return False


# ---------------------------------------------------------------- options
def parse_args(argv):
    o = {"mode": "auto", "fallback_ms": 1500, "outage_ms": 10000, "keep": False, "build": True,
         "traces": "", "scheme": "md5", "encoding": "xml", "bearer": "socket", "rotate": False,
         "scenarios": None}
    valued = {"--mode": "mode", "--fallback-ms": "fallback_ms", "--outage-ms": "outage_ms",
              "--scenarios": "scenarios", "--auth-scheme": "scheme", "--encoding": "encoding",
              "--bearer": "bearer", "--traces": "traces"}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in valued and i + 1 < len(argv):
            o[valued[a]] = argv[i + 1]
            i += 2
            continue
        if a == "--rotate-secret":
            o["rotate"] = True
        elif a == "--keep":
            o["keep"] = True
        elif a == "--no-build":
            o["build"] = False
        elif a in ("-h", "--help"):
            print(__doc__.split("\nscripts/field-test.sh runs")[0].strip())
            sys.exit(0)
        else:
            die(f"unknown argument {a}", 2)
        i += 1
    for k in ("fallback_ms", "outage_ms"):
        o[k] = int(o[k])
    if o["scenarios"] is None:
        # With rotation, case2 only when asked for (see the usage).
        o["scenarios"] = ",".join(s for s in SCENARIOS if not (o["rotate"] and s == "case2"))
    return o


# ---------------------------------------------------------------- the run
class FieldTest:
    def __init__(self, o):
        self.o = o
        self.bin = dmn.bin_dir()
        self.sock = os.path.join(RUN, "device", "dmnonced.sock")
        self.events = os.path.join(RUN, "events.jsonl")
        self.traces = o["traces"] or os.path.join(RUN, "traces")
        self.in_dev, self.in_srv = [], []
        self.server = None
        self.device = None
        self.events_lock = threading.Lock()
        self.trace_after = 0
        # Secrets and bootstrap nonces: random, in files only (never on a
        # command line), never printed.
        self.server_pw, self.client_pw = secrets.token_hex(12), secrets.token_hex(12)
        self.sn = base64.b64encode(secrets.token_bytes(12)).decode()
        self.cn = base64.b64encode(secrets.token_bytes(12)).decode()

    # ------------------------------------------------------------ network
    def setup_mode(self):
        mode = self.o["mode"]
        if mode == "auto":
            mode = "loopback"
            if os.geteuid() == 0 and subprocess.run(
                    ["ip", "netns", "add", "dmnft-probe"], stderr=subprocess.DEVNULL).returncode == 0:
                quiet("ip", "netns", "del", "dmnft-probe")
                mode = "netns"
        if mode == "netns":
            self.in_dev, self.in_srv = ["ip", "netns", "exec", NS_DEV], ["ip", "netns", "exec", NS_SRV]
            for cmd in (["netns", "add", NS_DEV], ["netns", "add", NS_SRV],
                        ["link", "add", VETH_DEV, "type", "veth", "peer", "name", VETH_SRV],
                        ["link", "set", VETH_DEV, "netns", NS_DEV],
                        ["link", "set", VETH_SRV, "netns", NS_SRV],
                        ["-n", NS_DEV, "addr", "add", f"{ADDR_DEV}/24", "dev", VETH_DEV],
                        ["-n", NS_SRV, "addr", "add", f"{ADDR_SRV}/24", "dev", VETH_SRV],
                        ["-n", NS_DEV, "link", "set", "lo", "up"],
                        ["-n", NS_SRV, "link", "set", "lo", "up"],
                        ["-n", NS_DEV, "link", "set", VETH_DEV, "up"],
                        ["-n", NS_SRV, "link", "set", VETH_SRV, "up"]):
                subprocess.run(["ip"] + cmd, check=True)
            listen = f"{ADDR_SRV}:8080"
        elif mode == "loopback":
            listen = "127.0.0.1:0"
        else:
            die("--mode must be auto, netns or loopback", 2)
        self.mode = mode
        extra = f" (device {NS_DEV} {ADDR_DEV}, server {NS_SRV} {ADDR_SRV}, veth)" if mode == "netns" else ""
        say("setup", f"mode {mode}{extra}; fallback after {self.o['fallback_ms']} ms")
        return listen

    # ------------------------------------------------------------ the server
    def start_server(self, listen):
        extra = ["--server-id", SERVER_ID, "--fallback-after-ms", str(self.o["fallback_ms"]),
                 "--deliver-cmd", hook_cmd("deliver")]
        if self.mode == "netns":
            extra += ["--fault-hook", hook_cmd("link")]
        if self.o["rotate"]:
            extra.append("--rotate-secret")
        self.server = dmn.TestServer(os.path.join(RUN, "server", "state"), TIMELINE, extra,
                                     listen=listen, prefix=self.in_srv)
        try:
            self.server.start()
        except RuntimeError:
            die("server did not start")
        remember(self.server.proc.pid)
        self.base = self.server.url

    def curl(self, *args, timeout=30, stdin=""):
        """curl where the server is reachable (its namespace in netns mode):
        the body, or None on a failure (HTTP >= 400 included)."""
        r = subprocess.run(self.in_srv + ["curl", "-sS", "-f", "--max-time", str(timeout)] + list(args),
                           input=stdin.encode(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return r.stdout if r.returncode == 0 else None

    def admin(self, path, doc):
        # The document on stdin: it may hold secrets, never on a command line.
        body = self.curl("-X", "POST", "-H", "Content-Type: application/json",
                         "--data-binary", "@-", self.base + path, stdin=json.dumps(doc))
        if body is None:
            raise Failed(f"POST {path}")
        return body

    def device_info(self, timeout=30):
        body = self.curl(f"{self.base}/admin/devices/{CLIENT}", timeout=timeout)
        return json.loads(body) if body is not None else None

    def resyncs(self):
        info = self.device_info()
        return info.get("resyncs_completed", 0) if info else -1

    def notify_to_file(self, nonce, path):
        body = self.curl("-X", "POST", "-H", "Content-Type: application/json", "--data",
                         json.dumps({"client_name": CLIENT, "nonce": nonce, "wsp": True}),
                         f"{self.base}/admin/notify")
        if body is None:
            raise Failed(f"/admin/notify {nonce}")
        with open(path, "wb") as f:
            f.write(body)

    def notify_deliver(self):
        self.admin("/admin/notify", {"client_name": CLIENT, "nonce": "auto", "wsp": True, "deliver": True})

    # ------------------------------------------------------------ the device
    def start_bus(self):
        if self.o["bearer"] == "socket":
            return
        if self.o["bearer"] != "dbus":
            die("--bearer must be socket or dbus", 2)
        if not (shutil.which("busctl") and shutil.which("dbus-daemon")):
            die("--bearer dbus needs dbus-daemon and busctl")
        out = os.path.join(RUN, "device", "bus.out")
        with open(out, "w") as f:
            p = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address"],
                                 stdout=f, stderr=subprocess.DEVNULL)
        remember(p.pid)
        wait_until(lambda: os.path.getsize(out) > 0, 5, 0.05)
        with open(out) as f, open(os.path.join(RUN, "device", "bus"), "w") as g:
            g.write(f.readline())

    def write_device_config(self):
        bus = self.read(os.path.join(RUN, "device", "bus")) or "system"
        conf = f"""state_dir = "{RUN}/device/state"
socket = "{self.sock}"
[http]
connect_timeout_ms = 1000
request_timeout_ms = 3000
max_attempts = 14
backoff_initial_ms = 250
backoff_max_ms = 2000
[fallback]
max_per_hour = 30
[ofono]
enabled = {"true" if self.o["bearer"] == "dbus" else "false"}
bus = "{bus}"
# No ofono owns org.ofono on the private bus: the bearer (busctl, as this
# user) calls the agent in its place, so the agent must let this uid in.
allowed_uids = [{os.getuid()}]
"""
        with open(os.path.join(RUN, "device", "dmnonced.toml"), "w") as f:
            f.write(conf)

    @staticmethod
    def read(path):
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError:
            return ""

    def ctl(self, *args, check=False):
        return subprocess.run([os.path.join(self.bin, "dmnoncectl"), "--socket", self.sock] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=check)

    def start_device(self):
        d = os.path.join(RUN, "device")
        self.device = dmn.Daemon(os.path.join(d, "state"), self.sock, os.path.join(d, "dmnonced.toml"),
                                 os.path.join(d, "daemon.log"), prefix=self.in_dev)
        self.device.spawn()
        remember(self.device.pid())
        if not self.device.wait_ready(10):
            print("field-test: dmnonced did not become ready", file=sys.stderr)
            print(self.device.log_tail(20), file=sys.stderr)
            sys.exit(1)
        if self.o["bearer"] == "dbus":
            self.find_agent()
        # Follow the device's events into the timeline and a file the checks
        # read. Every event is a push outcome or a resync step: after each,
        # the state each side is in (the server's too after a rejection or a
        # session's end).
        p = subprocess.Popen([os.path.join(self.bin, "dmnoncectl"), "--socket", self.sock, "--json", "events"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        remember(p.pid)
        threading.Thread(target=self.follow_events, args=(p,), daemon=True).start()
        time.sleep(0.2)

    def follow_events(self, proc):
        for raw in proc.stdout:
            ev = raw.decode(errors="replace").rstrip("\n")
            with self.events_lock:
                with open(self.events, "a") as f:
                    f.write(ev + "\n")
            say("device", f"event {describe_event(ev)}")
            say("device", f"  state: {self.device_state()}")
            if re.search(r'"(push-rejected|resync-finished|resync-failed)"', ev):
                say("server", f"  state: {self.server_state()}")

    def find_agent(self):
        """The bus name of dmnonced's ofono push agent: the connection that
        exports /org/dmnonce/PushAgent (no ofono runs here, so nothing
        registers it; the bearer calls it directly, as ofono would)."""
        bus = self.read(os.path.join(RUN, "device", "bus"))
        for _ in range(100):
            names = subprocess.run(["busctl", f"--address={bus}", "list", "--unique", "--no-legend", "--no-pager"],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
            for n in (line.split()[0] for line in names.splitlines() if line.split()):
                if subprocess.run(["busctl", f"--address={bus}", "introspect", n, "/org/dmnonce/PushAgent",
                                   "org.ofono.PushNotificationAgent"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
                    with open(os.path.join(RUN, "device", "agent-name"), "w") as f:
                        f.write(n + "\n")
                    say("device", f"ofono push agent on the private bus as {n}")
                    return
            time.sleep(0.1)
        die("dmnonced's ofono push agent not found on the bus")

    def stop_device(self):
        stop_pid(self.device.pid())

    def provision_device(self, with_nonces):
        doc = {"server_password": self.server_pw, "client_password": self.client_pw}
        if with_nonces:
            doc.update(server_nonce_b64=self.sn, client_nonce_b64=self.cn)
        f = os.path.join(RUN, "device", "secrets.json")
        fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(doc, out)
        try:
            if self.ctl("account", "add", "--server-id", SERVER_ID, "--server-url", f"{self.base}/dm",
                        "--client-name", CLIENT, "--auth-scheme", self.o["scheme"], "--encoding",
                        self.o["encoding"], "--policy", "allow", "--secrets-file", f).returncode:
                raise Failed("dmnoncectl account add")
        finally:
            os.remove(f)

    # ------------------------------------------------------------ states
    def device_state(self):
        """The device's account state (in-sync, needs-resync, resyncing)."""
        try:
            st = dmn.account_state(self.sock, SERVER_ID)
        except (OSError, ConnectionError, dmn.ProtocolError, ValueError):
            st = None
        return f"account {SERVER_ID} {st or 'unknown (dmnonced not answering)'}"

    def server_state(self):
        """The server's record of the device (no secrets, no nonces)."""
        # A short timeout: the server may be down (restart) or cut off (linkdown).
        j = self.device_info(timeout=2)
        if j is None:
            return f"{CLIENT}: server not answering"
        yn = lambda v: {True: "yes", False: "no"}.get(v, v)  # noqa: E731
        return (f"{CLIENT} resyncs completed {j.get('resyncs_completed')}, session in flight "
                f"{yn(j.get('session_active'))}, notification pending {yn(j.get('notification_pending'))}, "
                f"last error {j.get('last_error') or 'none'}")

    def show_states(self):
        """The state of both sides at a moment no event marks."""
        say("device", f"  state: {self.device_state()}")
        say("server", f"  state: {self.server_state()}")

    # ------------------------------------------------------------ checks
    def event_lines(self):
        with self.events_lock:
            try:
                with open(self.events) as f:
                    return f.read().splitlines()
            except OSError:
                return []

    def event_count(self, kind):
        pat = re.compile(rf'"kind" *: *"{re.escape(kind)}"')
        return sum(1 for line in self.event_lines() if pat.search(line))

    def wait_event(self, kind, before, timeout):
        return wait_until(lambda: self.event_count(kind) > before, timeout)

    def push_file(self, path):
        """Pushes FILE over the bearer: the device's outcome (alert, rejected, replay, ...)."""
        if self.o["bearer"] == "socket":
            out = self.ctl("--json", "push", path).stdout
            try:
                return json.loads(out).get("outcome", "")
            except ValueError:
                return ""
        # Over D-Bus the agent answers nothing: the outcome is the event it caused.
        n = len(self.event_lines())
        bearer(path, hook_conf())
        pat = re.compile(r'"kind" *: *"(alert|push-rejected|resync-started)"')
        for _ in range(100):
            line = next((x for x in self.event_lines()[n:] if pat.search(x)), "")
            if '"alert"' in line:
                return "alert"
            if '"resync-started"' in line:
                return "resync_started"
            if "replay" in line:
                return "replay"
            if '"push-rejected"' in line:
                return "rejected"
            time.sleep(0.1)
        return "none"

    def check_in_step(self):
        """The closing check of every scenario: a normal notification
        (stored nonce) is accepted by the device."""
        f = os.path.join(RUN, "check.wsp")
        self.notify_to_file("stored", f)
        out = self.push_file(f)
        say("check", f"server's stored-nonce Pkg#0 pushed -> device outcome {out}")
        return out == "alert"

    def figure(self, name, ms):
        with open(os.path.join(RUN, "figures"), "a") as f:
            f.write(f"{name} {ms}\n")
        say("figure", f"{name}: first notification to both sides in step: {ms} ms")

    # Each scenario's trace: the account's audit entries after the last one
    # before it started (trace_after), drawn by dmnoncectl.
    def last_audit_id(self):
        ids = re.findall(r'"id":([0-9]+)', self.ctl("--json", "trace", "--server-id", SERVER_ID)
                         .stdout.decode(errors="replace"))
        return int(ids[-1]) if ids else 0

    def draw_trace(self, scenario):
        svg, js = (os.path.join(self.traces, f"{scenario}.{x}") for x in ("svg", "json"))
        r = self.ctl("--json", "trace", "--server-id", SERVER_ID, "--after", str(self.trace_after), "--svg", svg)
        with open(js, "wb") as f:
            f.write(r.stdout)
        if r.returncode == 0:
            say("trace", f"{scenario}: {svg}")
        else:
            say("trace", f"{scenario}: no trace (dmnoncectl trace failed)")

    # ------------------------------------------------------------ scenarios
    def case1(self):
        banner("case 1: the device loses its nonces (data wipe / firmware update)")
        self.stop_device()
        shutil.rmtree(os.path.join(RUN, "device", "state"), ignore_errors=True)
        self.trace_after = 0  # the new store numbers its audit entries from 1 again
        say("device", "state wiped; dmnonced restarts and the account is provisioned again without nonces")
        self.start_device()
        self.provision_device(False)
        finished, rejected = self.event_count("resync-finished"), self.event_count("push-rejected")
        t0 = now_ms()
        say("server", "notification due: stored nonce first, through the bearer (hook)")
        self.notify_deliver()
        expect("resync-finished event",
               self.wait_event("resync-finished", finished, self.o["fallback_ms"] // 1000 + 30))
        t1 = now_ms()
        expect("stored-nonce Pkg#0 ignored by the device", self.event_count("push-rejected") > rejected)
        expect("server in step (resyncs_completed)", self.resyncs() >= 1)
        self.figure("case1", t1 - t0)
        expect("stored-nonce notification accepted", self.check_in_step())

    def case2(self):
        banner("case 2: the server's database is restored from an old backup")
        self.admin("/admin/snapshot", {})
        say("server", "snapshot taken (the backup)")
        finished = self.event_count("resync-finished")
        f = os.path.join(RUN, "rotate.wsp")
        self.notify_to_file("text", f)
        say("server", "a session that rotates both nonces (the daemon's session is the resync session)")
        say("device", f"push outcome {self.push_file(f)}")
        expect("rotation session finished", self.wait_event("resync-finished", finished, 30))
        expect("in step after rotation", self.check_in_step())
        self.admin("/admin/restore", {})
        say("server", "database restored from the backup: the server holds the older nonces")
        finished, before = self.event_count("resync-finished"), self.event_count("push-rejected")
        t0 = now_ms()
        self.notify_deliver()
        expect("resync-finished event",
               self.wait_event("resync-finished", finished, self.o["fallback_ms"] // 1000 + 30))
        t1 = now_ms()
        expect("stale Pkg#0 refused by the device", self.event_count("push-rejected") > before)
        self.figure("case2", t1 - t0)
        expect("stored-nonce notification accepted", self.check_in_step())

    def linkdown(self):
        outage = self.o["outage_ms"]
        banner(f"link down after Pkg#2 for {outage} ms")
        f = os.path.join(RUN, "linkdown.wsp")
        finished, failed = self.event_count("resync-finished"), self.event_count("resync-failed")
        before = self.resyncs()
        self.admin("/admin/fault", {"after_pkg": 2, "action": "outage", "outage_ms": outage})
        self.notify_to_file("text", f)
        t0 = now_ms()
        say("device", f"push outcome {self.push_file(f)}")
        # Pkg#2 committed the device's new nonces before the outage began:
        # the device is mid-session until the link comes back.
        expect("device resyncing during the outage",
               wait_until(lambda: self.device_state().endswith(" resyncing"), 5))
        self.show_states()
        expect("resync-finished after the outage",
               self.wait_event("resync-finished", finished, outage // 1000 + 40))
        t1 = now_ms()
        expect("session outlived the outage", t1 - t0 >= outage)
        expect("no resync-failed", self.event_count("resync-failed") == failed)
        expect("exactly one session completed on the server", self.resyncs() == before + 1)
        self.figure("linkdown", t1 - t0)
        expect("stored-nonce notification accepted", self.check_in_step())

    def replay(self):
        banner("a captured default-nonce notification is replayed")
        captured = sorted(glob.glob(os.path.join(RUN, "captured", "*-default-text.wsp")))
        expect("a default-nonce push was captured in case 1", bool(captured))
        started = self.event_count("resync-started")
        out = self.push_file(captured[0])
        say("attacker", f"replays the captured default-nonce Pkg#0 -> device outcome {out}")
        # With --rotate-secret the captured PDU was signed with a secret that
        # has since been replaced: refused before the replay cache is even asked.
        expect("replay refused", out in (("replay", "rejected") if self.o["rotate"] else ("replay",)))
        time.sleep(0.5)
        expect("no session started", self.event_count("resync-started") == started)
        expect("stored-nonce notification accepted", self.check_in_step())

    def restart(self):
        banner("the server restarts in the middle of a session")
        f = os.path.join(RUN, "restart.wsp")
        finished, failed = self.event_count("resync-finished"), self.event_count("resync-failed")
        self.admin("/admin/fault", {"after_pkg": 2, "action": "crash"})
        self.notify_to_file("text", f)
        t0 = now_ms()
        say("device", f"push outcome {self.push_file(f)}")
        expect("server crashed after Pkg#2", wait_until(lambda: self.server.proc.poll() is not None, 5, 0.05))
        self.show_states()
        self.start_server(self.server.listen)  # a restart keeps the port
        say("server", "restarted from its state file (the session in flight is gone)")
        # The device's Pkg#3 reaches the new process, which refuses it; the
        # session fails cleanly on the device.
        expect("the interrupted session fails cleanly", self.wait_event("resync-failed", failed, 40))
        say("server", "the session did not complete: notifying again with the default nonce")
        self.notify_to_file("text", f)
        say("device", f"push outcome {self.push_file(f)}")
        expect("resync-finished after the restart", self.wait_event("resync-finished", finished, 30))
        t1 = now_ms()
        self.figure("restart", t1 - t0)
        expect("stored-nonce notification accepted", self.check_in_step())

    # ------------------------------------------------------------ main
    def run(self):
        o = self.o
        listen = self.setup_mode()
        conf = {"bearer": o["bearer"], "bin": self.bin, "sock": self.sock}
        with open(HOOK_CONF, "w") as f:
            json.dump(conf, f)
        self.start_server(listen)
        say("server", f"listening on {self.base} ({SERVER_ID})")
        self.admin("/admin/devices", {
            "client_name": CLIENT, "server_password": self.server_pw, "client_password": self.client_pw,
            "auth_scheme": o["scheme"], "encoding": o["encoding"], "server_nonce_b64": self.sn,
            "client_nonce_b64": self.cn})
        self.start_bus()
        self.write_device_config()
        self.start_device()
        self.provision_device(True)
        say("setup", f"device account ({o['scheme']}, {o['encoding']}) provisioned on both sides "
                     "with the same secrets and bootstrap nonces")
        if not self.check_in_step():
            die("the bootstrap is not in step")

        passed = failed = 0
        for s in o["scenarios"].split(","):
            try:
                self.trace_after = self.last_audit_id()
            except OSError:
                self.trace_after = 0
            try:
                if s not in SCENARIOS:
                    raise Failed(f"no scenario {s}")
                getattr(self, s)()
                passed += 1
                say("result", f"{s} passed")
            except Failed as e:
                failed += 1
                say("result", f"{s} FAILED: {e or 'check failed'}")
                tail = self.device.log_tail(25) if self.device else ""
                append("--- device log (last 25 lines) ---" + ("\n" + tail if tail else ""))
            self.draw_trace(s)
        # No secret and no bootstrap nonce may appear in anything printed or logged.
        logs = ""
        for p in (TIMELINE, os.path.join(RUN, "device", "daemon.log"), self.events):
            logs += self.read(p)
        if any(x in logs for x in (self.server_pw, self.client_pw, self.sn, self.cn)):
            failed += 1
            say("result", "a secret or nonce appears in a log: FAILED")
        return passed, failed


def expect(what, ok):
    if not ok:
        raise Failed(what)


def describe_event(ev):
    """'resync-finished session 5A3C' from one JSON event line (session ids
    in hex, as the server writes them)."""
    def field(pat):  # the last match, as sed's greedy `.*` finds it
        m = re.findall(pat, ev)
        return m[-1] if m else ""
    kind = field(r'"kind" *: *"([^"]*)"')
    sid = field(r'"session_id" *: *([0-9]+)')
    reason = field(r'"reason" *: *"([^"]*)"')
    verdict = field(r'"verdict" *: *"([^"]*)"')
    out = kind
    if sid:
        out += f" session {int(sid):X}"
    if verdict:
        out += f" ({verdict})"
    if reason:
        out += f": {reason}"
    return out


# ---------------------------------------------------------------- hooks
# The server runs these (sh -c) in its namespace. A notification reaches a
# device as a WAP push over SMS, not over the IP link between the hosts (so
# it works while that link is down).
def hook_cmd(name):
    return f"python3 '{os.path.abspath(__file__)}' hook {name}"


def hook_conf():
    with open(HOOK_CONF) as f:
        return json.load(f)


def bearer(path, conf):
    """Hands a WSP push PDU to the device: to dmnonced's control socket
    (`dmnoncectl push`, as the Android receiver does), or over D-Bus to
    dmnonced's ofono push agent (ReceiveNotification(ay, a{sv}), called with
    busctl, as ofono does). What the transport answered."""
    if conf["bearer"] == "dbus":
        data = open(path, "rb").read()
        bus = open(os.path.join(RUN, "device", "bus")).read().strip()
        agent = open(os.path.join(RUN, "device", "agent-name")).read().strip()
        r = subprocess.run(["busctl", f"--address={bus}", "call", agent, "/org/dmnonce/PushAgent",
                            "org.ofono.PushNotificationAgent", "ReceiveNotification", "aya{sv}",
                            str(len(data))] + [str(b) for b in data] + ["1", "Sender", "s", "+15550100"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return r.stdout + ("ReceiveNotification answered\n" if r.returncode == 0 else "")
    r = subprocess.run([os.path.join(conf["bin"], "dmnoncectl"), "--socket", conf["sock"], "--json", "push", path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return r.stdout


def hook_deliver():
    """--deliver-cmd: keeps a copy of each PDU (the replay scenario needs
    one), then uses the bearer."""
    conf = hook_conf()
    data = sys.stdin.buffer.read()
    nonce, fmt = os.environ.get("DMNONCE_NOTIFY_NONCE", ""), os.environ.get("DMNONCE_NOTIFY_FORMAT", "")
    captured = os.path.join(RUN, "captured")
    with open(os.path.join(captured, f"{time.time_ns()}-{nonce}.{fmt}"), "wb") as f:
        f.write(data)
    tmp = os.path.join(captured, f"push.{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
    try:
        out = bearer(tmp, conf)
    finally:
        os.remove(tmp)
    out = re.sub(r'"notification":\{[^}]*\},?', "", out.replace("\n", ""))
    append(f"{clock()}          bearer: WAP push (Pkg#0 signed with the {nonce} nonce) -> device over "
           f"{conf['bearer']}: {out}")


def hook_link():
    """--fault-hook (netns only): the link outage. The server's veth end goes
    down, and back up after the outage, in the background so the server
    carries on."""
    ms = int(os.environ.get("DMNONCE_OUTAGE_MS", "0"))
    if subprocess.run(["ip", "link", "set", VETH_SRV, "down"]).returncode != 0:
        return 1
    append(f"{clock()}          link: veth down for {ms} ms")
    up = (f"sleep {ms // 1000}.{ms % 1000:03d}; ip link set {VETH_SRV} up; "
          f"printf '%s %s link: veth up\\n' \"$(date +%H:%M:%S.%3N)\" '        ' >>{TIMELINE}")
    p = subprocess.Popen(["sh", "-c", up], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    remember(p.pid)
    return 0


# ---------------------------------------------------------------- main
def main(argv):
    if argv[:1] == ["hook"]:
        return {"deliver": hook_deliver, "link": hook_link}[argv[1]]() or 0
    o = parse_args(argv)
    wait_for_owner()
    cleanup()  # leftovers of a run that died: processes, namespaces, veth pair
    shutil.rmtree(RUN, ignore_errors=True)
    for d in ("server", "device", "captured"):
        os.makedirs(os.path.join(RUN, d))
    os.chmod(RUN, 0o700)
    with open(os.path.join(RUN, "owner"), "w") as f:
        f.write(f"{os.getpid()}\n")
    open(TIMELINE, "w").close()
    tail = subprocess.Popen(["tail", "-n", "+1", "-F", TIMELINE], stderr=subprocess.DEVNULL)
    remember(tail.pid)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    rc = 1
    try:
        rc = run(o, tail)
    except KeyboardInterrupt:
        rc = 130
    except Failed as e:
        print(f"field-test: {e} failed", file=sys.stderr)
        rc = 1
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 1
    finally:
        time.sleep(0.3)
        cleanup()
        if o["keep"]:
            print(f"field-test: work directory kept: {RUN}")
        else:
            shutil.rmtree(RUN, ignore_errors=True)
    return rc


def run(o, tail):
    if o["build"]:
        subprocess.run(["cargo", "build", "-q", "-p", "dmnonced", "-p", "dmnoncectl", "-p", "dmnonce-testserver"],
                       cwd=dmn.ROOT, check=True)
    ft = FieldTest(o)
    os.makedirs(ft.traces, exist_ok=True)
    for b in ("dmnonced", "dmnoncectl", "dmnonce-testserver"):
        if not os.access(os.path.join(ft.bin, b), os.X_OK):
            die(f"{ft.bin}/{b} missing (cargo build)")
    if not shutil.which("curl"):
        die("curl missing (scripts/ci-deps.sh)")
    passed, failed = ft.run()
    time.sleep(0.3)
    stop_pid(tail.pid)
    print()
    rot = ", AuthSecret rotation" if o["rotate"] else ""
    print(f"field-test: mode {ft.mode}, {o['scheme']}/{o['encoding']}, bearer {o['bearer']}{rot}, "
          f"fallback after {o['fallback_ms']} ms")
    figures = os.path.join(RUN, "figures")
    if os.path.isfile(figures):
        for line in open(figures):
            print(f"  time to in step (ms): {line.rstrip()}")
    print(f"field-test: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
