#!/usr/bin/env python3
"""Writes seed inputs for the fuzz targets added by the hardening work
(rust/fuzz/seeds/<target>/):

- xml_decode, wbxml_decode: the four messages of a real resync session
  (Pkg#1..Pkg#4) between dmnonced and dmnonce-testserver on loopback, in
  each encoding, captured by a recording proxy;
- control_frame: one line per control-protocol op (docs/protocol.md), some
  with \\r\\n, pipelined, and a broken one; first byte 0 = the protocol's
  own frame limit (see the target).

Needs target/debug/dmnonced and dmnonce-testserver. Secrets and nonces are
throwaway values generated here; the seeds hold only what went on the wire.
"""

import json
import os
import socket
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dmn  # noqa: E402

SEEDS = os.path.join(dmn.ROOT, "rust", "fuzz", "seeds")


class RecordingProxy:
    """Forwards one TCP stream at a time and keeps both directions."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.port = self.ls.getsockname()[1]
        self.c2s, self.s2c = bytearray(), bytearray()
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            c, _ = self.ls.accept()
            u = socket.create_connection(self.target)
            for src, dst, buf in ((c, u, self.c2s), (u, c, self.s2c)):
                threading.Thread(target=self.pump, args=(src, dst, buf), daemon=True).start()

    @staticmethod
    def pump(src, dst, buf):
        while True:
            try:
                d = src.recv(65536)
            except OSError:
                return
            if not d:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            buf.extend(d)
            dst.sendall(d)


def http_bodies(stream):
    """Bodies of the HTTP messages in a byte stream (Content-Length framing)."""
    out, i = [], 0
    while True:
        end = stream.find(b"\r\n\r\n", i)
        if end < 0:
            return out
        head = stream[i:end].decode("latin-1").lower()
        n = 0
        for line in head.split("\r\n"):
            if line.startswith("content-length:"):
                n = int(line.split(":", 1)[1])
        out.append(bytes(stream[end + 4:end + 4 + n]))
        i = end + 4 + n


def session_messages(work, encoding):
    server = dmn.TestServer(os.path.join(work, f"srv-{encoding}"),
                            os.path.join(work, f"srv-{encoding}.log"),
                            extra=["--server-id", f"seed-{encoding}"])
    server.start()
    host, port = server.listen.rsplit(":", 1)
    proxy = RecordingProxy(host, int(port))
    pw_s, pw_c = dmn.b64(os.urandom(9)), dmn.b64(os.urandom(9))
    sn, cn = dmn.b64(os.urandom(8)), dmn.b64(os.urandom(8))
    server.admin("POST", "/admin/devices", {
        "client_name": "seed-device", "server_password": pw_s, "client_password": pw_c,
        "auth_scheme": "md5", "encoding": encoding,
        "server_nonce_b64": sn, "client_nonce_b64": cn})
    state, sock, conf = (os.path.join(work, f"{n}-{encoding}") for n in ("st", "s.sock", "c.toml"))
    dmn.write_daemon_config(conf, state, sock)
    d = dmn.Daemon(state, sock, conf, os.path.join(work, f"d-{encoding}.log"))
    try:
        d.start()
        dmn.ctl_call(sock, "account_add", account={
            "server_id": f"seed-{encoding}", "server_url": f"http://127.0.0.1:{proxy.port}/dm",
            "client_name": "seed-device", "auth_scheme": "md5", "encoding": encoding,
            "policy": "allow", "server_password": pw_s, "client_password": pw_c,
            "server_nonce_b64": sn, "client_nonce_b64": cn})
        pkg = server.notify("seed-device", "text")
        out = dmn.ctl_call(sock, "push", format="package0", data_b64=dmn.b64(pkg))["outcome"]
        if out != "resync_started" or dmn.wait_settled(sock, f"seed-{encoding}", 30) != "in-sync":
            raise RuntimeError(f"{encoding} session did not complete ({out})")
    finally:
        d.stop()
        server.stop()
    c2s, s2c = http_bodies(proxy.c2s), http_bodies(proxy.s2c)
    msgs = []
    for i in range(max(len(c2s), len(s2c))):
        if i < len(c2s):
            msgs.append((f"pkg{2 * i + 1}", c2s[i]))
        if i < len(s2c):
            msgs.append((f"pkg{2 * i + 2}", s2c[i]))
    return msgs


def control_lines():
    b = dmn.b64
    reqs = [
        {"op": "hello"},
        {"op": "push", "format": "package0", "data_b64": b(b"\x00" * 16 + b"\x02\xc0\x00\x00\x00\x12\x34\x04test")},
        {"op": "push", "format": "sms", "sms_pdus_b64": [b(b"\x00\x01")], "smsc_included": False},
        {"op": "verify", "package0_b64": b(b"x" * 30)},
        {"op": "client_cred", "server_id": "com.example.dm", "body_b64": b(b"<SyncML/>")},
        {"op": "check_server_cred", "server_id": "com.example.dm", "body_b64": b(b"<SyncML/>"),
         "cred_data": "AAAAAAAAAAAAAAAAAAAAAA=="},
        {"op": "check_server_cred", "server_id": "s", "body_b64": "",
         "hmac_header": 'algorithm=MD5, username="s", mac=AAAA'},
        {"op": "accept_chal", "server_id": "com.example.dm", "next_nonce_b64": b(b"nonce")},
        {"op": "issue_chal", "server_id": "com.example.dm", "encoding": "wbxml"},
        {"op": "status"},
        {"op": "account_add", "account": {
            "server_id": "com.example.dm", "server_url": "https://dm.example/dm",
            "client_name": "dev", "auth_scheme": "hmac", "encoding": "wbxml", "policy": "deny",
            "server_password": "a", "client_password": "b", "server_nonce_b64": b(b"1"),
            "client_nonce_b64": b(b"2")}},
        {"op": "account_remove", "server_id": "com.example.dm"},
        {"op": "account_list"},
        {"op": "subscribe", "kinds": ["alert", "resync-finished"]},
    ]
    lines = []
    for i, r in enumerate(reqs, 1):
        m = {"v": 1, "id": i}
        m.update(r)
        lines.append((f"op-{r['op']}-{i}", json.dumps(m).encode() + b"\n"))
    return lines


def write(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    lines = control_lines()
    for name, line in lines:
        write("control_frame", name, b"\x00" + line)
    write("control_frame", "pipelined-crlf", b"\x00" + b"".join(
        line.replace(b"\n", b"\r\n") for _, line in lines[:4]))
    write("control_frame", "small-limit-and-garbage",
          b"\x09" + lines[0][1] + b'{"v":2,"id":3,"op":"hello"}\n{"id":"x"}\nnot json\n\xff\xfe\n')
    with tempfile.TemporaryDirectory(prefix="dmnonce-seeds-") as work:
        for enc, target in (("xml", "xml_decode"), ("wbxml", "wbxml_decode")):
            msgs = session_messages(work, enc)
            for name, body in msgs:
                write(target, f"resync-{name}", body)
            print(f"{target}: {len(msgs)} messages of a real session")
    print(f"control_frame: {len(lines) + 2} seeds")


if __name__ == "__main__":
    main()
