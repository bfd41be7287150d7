#!/usr/bin/env python3
"""Control-socket load generator (driven by scripts/load.sh).

Starts its own dmnonced on a fresh state directory, provisions one account,
then for a bounded time floods the Unix socket from several client
processes (each pipelining up to WINDOW requests on one connection) with a
mix of pushes and credential requests, while

- a *canary* client sends one `status` request every 50 ms and records its
  latency (other clients must keep being served),
- a *stalled* client sends requests and never reads the answers (the daemon
  must drop it, not buffer for it),
- the daemon's VmRSS is sampled every 100 ms (memory must stay bounded).

Reports throughput, latency percentiles per operation, errors by code, the
canary's latencies and the daemon's peak RSS (VmHWM); then `client_cred`
throughput from 1 and 8 clients beside a bare line echo (same run). Exit status 1 when a
bound is broken.
"""

import argparse
import multiprocessing as mp
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dmn  # noqa: E402

SID = "load.example"
CLIENT = "load-device"


def build_requests(seed, secrets, n=512):
    """A pool of pre-encoded request lines (JSON bytes without id) so the
    generator spends its time on the socket, not on MD5 and JSON."""
    import json
    rng = random.Random(seed)
    srv_pw, cl_pw, server_nonce = secrets
    pool = []
    for _ in range(n):
        r = rng.random()
        if r < 0.40:
            op, f = "client_cred", {"server_id": SID, "body_b64": dmn.b64(os.urandom(64))}
        elif r < 0.50:
            cred = dmn.md5_cred(SID, srv_pw, server_nonce)
            op, f = "check_server_cred", {"server_id": SID, "body_b64": dmn.b64(b"<SyncML/>"),
                                          "cred_data": cred}
        elif r < 0.75:
            pkg = dmn.package0(SID, srv_pw, server_nonce, rng.randrange(1, 65535))
            op, f = "push", {"format": "package0", "data_b64": dmn.b64(pkg)}
        elif r < 0.95:
            pkg = bytearray(dmn.package0(SID, srv_pw, server_nonce, rng.randrange(1, 65535)))
            pkg[0] ^= 0xFF  # digest fails with every nonce: rejected
            op, f = "push-rejected", {"format": "package0", "data_b64": dmn.b64(bytes(pkg))}
        else:
            pkg = dmn.package0(SID, srv_pw, server_nonce, rng.randrange(1, 65535))
            op, f = "verify", {"package0_b64": dmn.b64(pkg)}
        wire_op = "push" if op == "push-rejected" else op
        body = json.dumps(f)[1:-1]
        pool.append((op, f'"op":"{wire_op}",{body}}}\n'.encode()))
    return pool


def worker(sock_path, start, deadline, window, seed, secrets, out_q):
    import json
    pool = build_requests(seed, secrets)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(sock_path)
    lat = {}
    errors = {}
    inflight = {}
    next_id = 1
    buf = b""
    k = 0
    done = 0
    per_sec = {}
    try:
        while True:
            now = time.monotonic()
            sending = now < deadline
            batch, ops = [], []
            while sending and len(inflight) + len(batch) < window:
                op, tail = pool[k % len(pool)]
                k += 1
                batch.append(b'{"v":1,"id":%d,' % next_id + tail)
                ops.append((next_id, op))
                next_id += 1
            if batch:
                t = time.monotonic()
                s.sendall(b"".join(batch))
                for rid, op in ops:
                    inflight[rid] = (op, t)
            if not inflight:
                break
            chunk = s.recv(1 << 20)
            if not chunk:
                errors["connection closed"] = errors.get("connection closed", 0) + 1
                break
            buf += chunk
            t = time.monotonic()
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                m = json.loads(line)
                op, t0 = inflight.pop(m.get("id"), ("?", t))
                lat.setdefault(op, []).append(t - t0)
                done += 1
                sec = int(t - start)
                per_sec[sec] = per_sec.get(sec, 0) + 1
                if not m.get("ok"):
                    code = m.get("error", {}).get("code", "?")
                    errors[f"{op}: {code}"] = errors.get(f"{op}: {code}", 0) + 1
                elif op == "push":
                    o = m["result"].get("outcome")
                    if o != "alert":
                        errors[f"push: outcome {o}"] = errors.get(f"push: outcome {o}", 0) + 1
                elif op == "check_server_cred" and m["result"].get("valid") is not True:
                    errors["check_server_cred: not valid"] = errors.get(
                        "check_server_cred: not valid", 0) + 1
                elif op == "push-rejected":
                    o = m["result"].get("outcome")
                    if o != "rejected":
                        key = f"push-rejected: outcome {o}"
                        errors[key] = errors.get(key, 0) + 1
    except (OSError, ValueError) as e:
        errors[f"worker: {type(e).__name__}"] = errors.get(f"worker: {type(e).__name__}", 0) + 1
    finally:
        s.close()
    out_q.put((lat, errors, done, per_sec))


def canary(sock_path, stop, result):
    """status every 50 ms on its own connection."""
    lat, errors = [], 0
    c = None
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            if c is None:
                c = dmn.Ctl(sock_path, timeout=10)
            c.call("status")
            lat.append(time.monotonic() - t0)
        except (OSError, ConnectionError, ValueError, dmn.ProtocolError):
            errors += 1
            if c:
                c.close()
            c = None
        stop.wait(0.05)
    if c:
        c.close()
    result["canary"] = (lat, errors)


def stalled(sock_path, stop, result):
    """Sends requests, never reads: must be disconnected by the daemon."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.settimeout(1)
    line = b'{"v":1,"id":1,"op":"status"}\n' * 256
    sent = 0
    outcome = "still connected at the end"
    t0 = time.monotonic()
    while not stop.is_set():
        try:
            s.sendall(line)
            sent += len(line)
        except socket.timeout:
            continue  # the daemon stopped reading us (back-pressure): keep trying
        except OSError as e:
            outcome = f"disconnected after {time.monotonic() - t0:.1f} s ({e.__class__.__name__})"
            break
    s.close()
    result["stalled"] = (outcome, sent)


def raw_exchange(sock_path, data, wait=2.0):
    """Sends bytes, returns the first answer line as JSON (None if none)."""
    import json
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.settimeout(wait)
    out = b""
    try:
        s.sendall(data)
        while b"\n" not in out:
            c = s.recv(65536)
            if not c:
                break
            out += c
    except OSError:
        pass  # reset after the daemon closed: what was read still counts
    finally:
        s.close()
    line = out.split(b"\n", 1)[0]
    return json.loads(line) if line else None


def abuse(sock_path):
    """Malformed and hostile control input: each gets its typed error (the
    daemon keeps serving). Returns a list of failures."""
    cases = [
        ("line over 256 KiB", b"a" * (300 * 1024) + b"\n", "frame_too_large"),
        ("not UTF-8", b'\xff\xfe{"v":1,"id":3,"op":"hello"}\n', "bad_request"),
        ("JSON nested 100,000 deep", b"[" * 100000 + b"\n", "bad_request"),
        ("id over u64", b'{"v":1,"id":18446744073709551616,"op":"hello"}\n', "bad_request"),
        ("negative id", b'{"v":1,"id":-1,"op":"hello"}\n', "bad_request"),
        ("protocol v2", b'{"v":2,"id":5,"op":"hello"}\n', "unsupported_version"),
        ("unknown op", b'{"v":1,"id":5,"op":"format_disk"}\n', "bad_request"),
        ("empty push", b'{"v":1,"id":5,"op":"push","data_b64":""}\n', "bad_push"),
        ("bad Base64", b'{"v":1,"id":5,"op":"verify","package0_b64":"!!"}\n', "bad_request"),
    ]
    failures = []
    for name, data, want in cases:
        m = raw_exchange(sock_path, data)
        got = (m or {}).get("error", {}).get("code") if m else None
        print(f"  abuse: {name:26s} -> {got}")
        if got != want:
            failures.append(f"{name}: got {got!r}, expected {want!r}")
    return failures


def connection_flood(sock_path, n=64):
    """More connections than the daemon's limit: the extra ones are told
    `busy`; once they close, a new client is served again."""
    conns, busy = [], 0
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock_path)
        conns.append(s)
    time.sleep(0.3)
    for s in conns:
        s.settimeout(0.2)
        try:
            if b'"busy"' in s.recv(4096):
                busy += 1
        except OSError:
            pass
    for s in conns:
        s.close()
    time.sleep(0.3)
    ok = dmn.ctl_call(sock_path, "hello").get("protocol") == 1
    print(f"  connection flood: {n} connections, {busy} told busy, {n - busy} held; "
          f"served again after they closed: {ok}")
    return [] if ok and busy > 0 else [f"connection flood: busy {busy}, served after: {ok}"]

ECHO_SERVER = r"""
import socketserver, sys
class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line)
            self.wfile.flush()
socketserver.ThreadingUnixStreamServer.daemon_threads = True
srv = socketserver.ThreadingUnixStreamServer(sys.argv[1], Echo)
print("ready", flush=True)
srv.serve_forever()
"""


def round_trips(sock_path, line, deadline, out_q):
    """One request in flight on one connection until `deadline`; puts the
    number of answers."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(sock_path)
    buf, n = b"", 0
    while time.monotonic() < deadline:
        s.sendall(line)
        while b"\n" not in buf:
            buf += s.recv(65536)
        answer, buf = buf.split(b"\n", 1)
        if b'"ok":false' in answer:
            raise RuntimeError("client_cred refused")
        n += 1
    s.close()
    out_q.put(n)


def rate(sock_path, line, clients, seconds):
    """Answers per second from `clients` processes, each one request in flight."""
    q = mp.Queue()
    deadline = time.monotonic() + seconds
    procs = [mp.Process(target=round_trips, args=(sock_path, line, deadline, q))
             for _ in range(clients)]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    total = sum(q.get(timeout=seconds + 60) for _ in procs)
    elapsed = time.monotonic() - t0
    for p in procs:
        p.join()
    return total / elapsed


def client_cred_scaling(sock_path, work, seconds):
    """`client_cred` throughput with 1 and 8 clients (one request in flight
    each), against a bare Unix-socket line echo (threaded Python server, the
    same client code) measured in the same run. Returns the figures."""
    import json
    echo_path = os.path.join(work, "echo.sock")
    echo = subprocess.Popen([sys.executable, "-c", ECHO_SERVER, echo_path],
                            stdout=subprocess.PIPE)
    echo.stdout.readline()
    cred = (json.dumps({"v": 1, "id": 1, "op": "client_cred", "server_id": SID,
                        "body_b64": dmn.b64(b"<SyncML/>" * 40)}) + "\n").encode()
    out = {}
    try:
        for clients in (1, 8):
            e = rate(echo_path, cred, clients, seconds)
            c = rate(sock_path, cred, clients, seconds)
            out[clients] = {"client_cred_per_s": c, "echo_per_s": e}
            print(f"  client_cred, {clients} client(s), one request in flight each: "
                  f"{c:.0f}/s; bare line echo, same clients: {e:.0f}/s; ratio {c / e:.2f}")
    finally:
        echo.kill()
        echo.wait()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--rss-limit-mib", type=float, default=256.0)
    ap.add_argument("--canary-limit-ms", type=float, default=1000.0)
    ap.add_argument("--exe", default=None)
    ap.add_argument("--cred-seconds", type=float, default=3.0,
                    help="length of each client_cred throughput measurement (0: skip)")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="dmnonce-load-")
    state, sock, conf = (os.path.join(work, n) for n in ("state", "d.sock", "d.toml"))
    dmn.write_daemon_config(conf, state, sock)
    d = dmn.Daemon(state, sock, conf, os.path.join(work, "daemon.log"), exe=args.exe)
    failures = []
    try:
        d.start()
        srv_pw = dmn.b64(os.urandom(12)).encode()
        cl_pw = dmn.b64(os.urandom(12)).encode()
        server_nonce = os.urandom(16)
        dmn.ctl_call(sock, "account_add", account={
            "server_id": SID, "server_url": "http://127.0.0.1:9/dm", "client_name": CLIENT,
            "auth_scheme": "md5", "encoding": "xml", "policy": "allow",
            "server_password": srv_pw.decode(), "client_password": cl_pw.decode(),
            "server_nonce_b64": dmn.b64(server_nonce),
            "client_nonce_b64": dmn.b64(os.urandom(16))})
        rss0 = dmn.rss_kib(d.pid(), "VmRSS")
        stop = threading.Event()
        side = {}
        samples = []

        def sample():
            t0 = time.monotonic()
            while not stop.is_set():
                r = dmn.rss_kib(d.pid(), "VmRSS")
                if r:
                    samples.append((time.monotonic() - t0, r))
                stop.wait(0.1)

        ts = [threading.Thread(target=f, args=a) for f, a in
              [(sample, ()), (canary, (sock, stop, side)), (stalled, (sock, stop, side))]]
        for t in ts:
            t.start()
        q = mp.Queue()
        t_start = time.monotonic()
        deadline = t_start + args.duration
        procs = [mp.Process(target=worker, args=(sock, t_start, deadline, args.window, i,
                                                 (srv_pw, cl_pw, server_nonce), q))
                 for i in range(args.clients)]
        for p in procs:
            p.start()
        results = [q.get(timeout=args.duration + 120) for _ in procs]
        elapsed = time.monotonic() - t_start
        for p in procs:
            p.join()
        stop.set()
        for t in ts:
            t.join(30)
        hwm = dmn.rss_kib(d.pid(), "VmHWM")
        alive = d.proc.poll() is None

        lat, errors, done, per_sec = {}, {}, 0, {}
        for l, e, n, ps in results:
            done += n
            for k, v in ps.items():
                per_sec[k] = per_sec.get(k, 0) + v
            for k, v in l.items():
                lat.setdefault(k, []).extend(v)
            for k, v in e.items():
                errors[k] = errors.get(k, 0) + v
        print(f"load: {args.clients} clients x window {args.window}, {elapsed:.1f} s, "
              f"{done} requests answered: {done / elapsed:.0f} requests/s")
        step = max(1, int(args.duration // 10))
        timeline = [sum(per_sec.get(k, 0) for k in range(a, a + step)) / step
                    for a in range(0, int(args.duration), step)]
        print(f"  requests/s per {step} s: " + " ".join(f"{x:.0f}" for x in timeline))
        alll = sorted(x for v in lat.values() for x in v)
        print(f"  latency all ops: p50 {dmn.percentile(alll, 50) * 1000:.2f} ms, "
              f"p95 {dmn.percentile(alll, 95) * 1000:.2f} ms, "
              f"p99 {dmn.percentile(alll, 99) * 1000:.2f} ms")
        for op in sorted(lat):
            v = sorted(lat[op])
            print(f"  {op:18s} {len(v):8d}  p50 {dmn.percentile(v, 50) * 1000:7.2f} ms  "
                  f"p95 {dmn.percentile(v, 95) * 1000:7.2f} ms  "
                  f"p99 {dmn.percentile(v, 99) * 1000:7.2f} ms")
        for k, v in sorted(errors.items()):
            print(f"  unexpected: {k}: {v}")
        if errors:
            failures.append(f"{sum(errors.values())} unexpected answers")
        clat, cerr = side.get("canary", ([], 1))
        clat.sort()
        cmax = (clat[-1] * 1000) if clat else float("inf")
        print(f"  canary (status every 50 ms): {len(clat)} answered, {cerr} errors, "
              f"p50 {dmn.percentile(clat, 50) * 1000:.2f} ms, "
              f"p99 {dmn.percentile(clat, 99) * 1000:.2f} ms, max {cmax:.2f} ms")
        if cerr or not clat or cmax > args.canary_limit_ms:
            failures.append(f"canary not served within {args.canary_limit_ms:.0f} ms "
                            f"(max {cmax:.0f} ms, {cerr} errors)")
        outcome, sent = side.get("stalled", ("?", 0))
        print(f"  stalled client (never reads): {outcome}; {sent // 1024} KiB written")
        mid = [r for t, r in samples if t <= elapsed * 0.3]
        end = [r for t, r in samples if t >= elapsed * 0.7]
        rss_mid = max(mid) if mid else 0
        rss_end = max(end) if end else 0
        print(f"  daemon RSS: {rss0} KiB before, {rss_mid} KiB max in the first 30 %, "
              f"{rss_end} KiB max in the last 30 %, peak (VmHWM) {hwm} KiB; alive: {alive}")
        if not alive:
            failures.append("daemon died")
        if hwm and hwm / 1024 > args.rss_limit_mib:
            failures.append(f"peak RSS {hwm / 1024:.0f} MiB over {args.rss_limit_mib:.0f} MiB")
        if rss_mid and rss_end > rss_mid * 1.5 and rss_end - rss_mid > 16 * 1024:
            failures.append(f"RSS still growing: {rss_mid} KiB -> {rss_end} KiB")
        st = dmn.ctl_call(sock, "status")
        print(f"  daemon counters after the run: {st.get('counters')}")
        if args.cred_seconds > 0:
            client_cred_scaling(sock, work, args.cred_seconds)
        failures += abuse(sock)
        failures += connection_flood(sock)
        if d.proc.poll() is not None:
            failures.append("daemon died under malformed input")
        files = sorted((n, os.path.getsize(os.path.join(state, n))) for n in os.listdir(state)
                       if os.path.isfile(os.path.join(state, n)))
        print("  state directory after the run: "
              + ", ".join(f"{n} {sz // 1024} KiB" for n, sz in files))
    finally:
        d.stop()
    if failures:
        print("load: FAILED: " + "; ".join(failures))
        print(f"work directory kept: {work}")
        sys.exit(1)
    print("load: OK")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
