#!/usr/bin/env python3
"""Control-socket round trips of a release dmnonced, against a baseline
measured in the same run: a bare Unix-socket line echo (a Python process
that answers each line with the same line). One client, one request in
flight, N round trips each, median and p99. Prints JSON (used by
scripts/bench.sh for the Summary of docs/performance.md).

Usage: roundtrip.py DMNONCED_EXE [N]
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dmn  # noqa: E402

ECHO = r"""
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
f = c.makefile("rb")
for line in f:
    c.sendall(line)
"""


def timed(sock, line, n):
    buf = b""
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        sock.sendall(line)
        while b"\n" not in buf:
            buf += sock.recv(65536)
        _, buf = buf.split(b"\n", 1)
        out.append(time.perf_counter() - t0)
    out.sort()
    return {"median_us": statistics.median(out) * 1e6,
            "p99_us": dmn.percentile(out, 99) * 1e6, "n": n}


def main():
    exe = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    res = {}
    with tempfile.TemporaryDirectory(prefix="dmnonce-rt-") as work:
        path = os.path.join(work, "echo.sock")
        echo = subprocess.Popen([sys.executable, "-c", ECHO, path], stdout=subprocess.PIPE)
        echo.stdout.readline()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        res["echo"] = timed(s, b'{"v":1,"id":1,"op":"hello"}\n', n)
        s.close()
        echo.kill()
        echo.wait()

        state, sock, conf = (os.path.join(work, x) for x in ("st", "d.sock", "d.toml"))
        dmn.write_daemon_config(conf, state, sock)
        d = dmn.Daemon(state, sock, conf, os.path.join(work, "d.log"), exe=exe)
        d.start()
        try:
            pw, cpw, nonce = b"srv-pw-rt", b"cli-pw-rt", os.urandom(16)
            dmn.ctl_call(sock, "account_add", account={
                "server_id": "rt.example", "server_url": "http://127.0.0.1:9/dm",
                "client_name": "rt", "auth_scheme": "md5", "encoding": "xml",
                "policy": "allow", "server_password": pw.decode(),
                "client_password": cpw.decode(), "server_nonce_b64": dmn.b64(nonce),
                "client_nonce_b64": dmn.b64(os.urandom(16))})
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(sock)
            lines = {
                "hello": {"op": "hello"},
                "client_cred": {"op": "client_cred", "server_id": "rt.example",
                                "body_b64": dmn.b64(b"<SyncML/>" * 40)},
                "verify": {"op": "verify", "package0_b64": dmn.b64(
                    dmn.package0("rt.example", pw, nonce, 4660))},
                "push_alert": {"op": "push", "format": "package0", "data_b64": dmn.b64(
                    dmn.package0("rt.example", pw, nonce, 4661))},
            }
            for name, req in lines.items():
                req = dict(req, v=1, id=1)
                res[name] = timed(c, json.dumps(req).encode() + b"\n", n)
            c.close()
        finally:
            d.stop()
    print(json.dumps(res))


if __name__ == "__main__":
    main()
