"""The one Python peer of the test scripts: the hardening scripts (scripts/fault-inject.sh,
scripts/load.sh), scripts/field/dm_agent.py and the C tests (tests/c/peer.h, through the
command line at the end) use it. It starts and stops dmnonced and dmnonce-testserver, speaks the
control protocol (docs/protocol.md) on the Unix socket, drives the test
server's admin API, and build Package #0s and credentials the way a server
would (rust/proto formulas, docs/package0.md and docs/design.md).

Nonces and secrets only live in this process's memory; nothing here prints
one (failures name the nonce by role: "last acknowledged", "stored").
"""

import base64
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _cargo_debug_dir():
    """cargo's target directory (CARGO_TARGET_DIR honoured), as
    scripts/lib/target-dir.sh asks for it, plus the debug profile."""
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                          cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return os.path.join(json.loads(meta)["target_directory"], "debug")


def bin_dir():
    """Where the binaries are; asked for only when one is started, so the
    command line below (the C tests' peer) does not run cargo."""
    return os.environ.get("DMNONCE_BIN_DIR") or _cargo_debug_dir()


def b64(b):
    return base64.b64encode(b).decode()


def md5(b):
    return hashlib.md5(b).digest()


def package0(server_id, password, nonce, session_id, ui_mode=0, initiator=0, version=11):
    """A signed Package #0 (OMA-TS-DM_Notification-V1_2 section 6)."""
    sid = server_id.encode()
    word = (version << 54) | (ui_mode << 52) | (initiator << 51) | (session_id << 8) | len(sid)
    trigger = word.to_bytes(8, "big") + sid
    left = base64.b64encode(md5(sid + b":" + password))
    right = base64.b64encode(md5(trigger))
    return md5(left + b":" + nonce + b":" + right) + trigger


def md5_cred(name, password, nonce):
    """syncml:auth-md5 credential data."""
    return b64(md5(_b64md5_secret(name, password) + b":" + nonce))


def _b64md5_secret(name, password):
    return base64.b64encode(md5(name.encode() + b":" + password))


def hmac_header(name, password, nonce, body):
    """An x-syncml-hmac header value (docs/design.md, credentials)."""
    mac = b64(md5(_b64md5_secret(name, password) + b":" + nonce + b":" +
                  base64.b64encode(md5(body))))
    return f'algorithm=MD5, username="{name}", mac={mac}'


# The offset of TP-UDL (user data length, octets) in sms_deliver's TPDUs.
TPDU_UDL = 1 + 8 + 2 + 7


def sms_deliver(wsp, parts, ref=0x5A):
    """SMS-DELIVER TPDUs (3GPP TS 23.040) carrying a WAP push: 8-bit data,
    UDH with WDP ports 2948/9200 and, when split, 8-bit concatenation."""
    size = -(-len(wsp) // parts)
    tpdus = []
    for i in range(parts):
        udh = bytes([0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0])
        if parts > 1:
            udh += bytes([0x00, 0x03, ref, parts, i + 1])
        ud = bytes([len(udh)]) + udh + wsp[i * size:(i + 1) * size]
        tpdus.append(
            bytes([0x44])  # SMS-DELIVER, more-messages-to-send clear, UDHI
            + bytes([0x0B, 0x91, 0x44, 0x77, 0x00, 0x11, 0x22, 0xF3])  # +44770011223
            + bytes([0x00, 0x04])  # PID, DCS 8-bit data
            + bytes([0x62, 0x11, 0x92, 0x21, 0x43, 0x00, 0x00])  # SCTS
            + bytes([len(ud)]) + ud)
    return tpdus


class ProtocolError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


class Ctl:
    """One control-socket connection; requests answered in order."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, op, **fields):
        rid = self.next_id
        self.next_id += 1
        msg = {"v": 1, "id": rid, "op": op}
        msg.update(fields)
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        return rid

    def read_line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("daemon closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def recv(self):
        """The next response (events are skipped)."""
        while True:
            m = self.read_line()
            if "event" in m:
                continue
            return m

    def call(self, op, **fields):
        rid = self.send(op, **fields)
        m = self.recv()
        if m.get("id") not in (rid, 0):
            raise ConnectionError(f"answer for id {m.get('id')}, expected {rid}")
        if not m.get("ok"):
            e = m.get("error", {})
            raise ProtocolError(e.get("code", "unknown"), e.get("message", ""))
        return m.get("result", {})


def ctl_call(path, op, timeout=10.0, **fields):
    c = Ctl(path, timeout)
    try:
        return c.call(op, **fields)
    finally:
        c.close()


class Daemon:
    """A dmnonced process of ours (killed by its pid only). PREFIX runs it
    through another command (`ip netns exec NS`)."""

    def __init__(self, state_dir, socket_path, config_path, log_path, exe=None, prefix=()):
        self.state_dir = state_dir
        self.socket = socket_path
        self.config = config_path
        self.log_path = log_path
        self.exe = exe or os.path.join(bin_dir(), "dmnonced")
        self.prefix = list(prefix)
        self.proc = None

    def spawn(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.prefix + [self.exe, "--config", self.config, "--state-dir", self.state_dir,
             "--socket", self.socket],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        return self.proc

    def wait_ready(self, timeout=20.0):
        """True once `hello` answers; False if the process exited or timed out."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            try:
                ctl_call(self.socket, "hello", timeout=2.0)
                return True
            except (OSError, ConnectionError, ProtocolError, ValueError):
                time.sleep(0.02)
        return False

    def start(self, timeout=20.0):
        self.spawn()
        if not self.wait_ready(timeout):
            raise RuntimeError(f"dmnonced did not become ready (see {self.log_path})")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def pid(self):
        return self.proc.pid

    def log_tail(self, n=15):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""


def write_daemon_config(path, state_dir, socket_path, http=None, fallback_per_hour=1000000):
    h = {"connect_timeout_ms": 1000, "request_timeout_ms": 3000, "max_attempts": 3,
         "backoff_initial_ms": 50, "backoff_max_ms": 300}
    h.update(http or {})
    lines = [f'state_dir = "{state_dir}"', f'socket = "{socket_path}"',
             f"allowed_uids = [{os.getuid()}, 0]", "", "[http]"]
    lines += [f"{k} = {v}" for k, v in h.items()]
    lines += ["", "[fallback]", f"max_per_hour = {fallback_per_hour}", "",
              "[ofono]", "enabled = false", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


class TestServer:
    """A dmnonce-testserver process of ours; PREFIX as for Daemon."""

    def __init__(self, state_dir, log_path, extra=(), listen="127.0.0.1:0", prefix=()):
        self.state_dir = state_dir
        self.log_path = log_path
        self.extra = list(extra)
        self.listen = listen
        self.prefix = list(prefix)
        self.proc = None
        self.url = None

    def start(self, timeout=20.0):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.prefix + [os.path.join(bin_dir(), "dmnonce-testserver"), "--listen", self.listen,
             "--state", self.state_dir] + self.extra,
            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        line = [None]

        def first_line():
            line[0] = self.proc.stdout.readline().decode().strip()

        t = threading.Thread(target=first_line, daemon=True)
        t.start()
        t.join(timeout)
        m = re.match(r"listening (https?://\S+)", line[0] or "")
        if not m:
            self.stop()
            raise RuntimeError(f"dmnonce-testserver did not start (see {self.log_path})")
        self.url = m.group(1)
        self.listen = self.url.split("://", 1)[1]
        # keep draining stdout so the server never blocks on it
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def admin(self, method, path, body=None, timeout=10.0):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read(), dict(e.headers)

    def notify(self, client_name, nonce):
        st, body, _ = self.admin("POST", "/admin/notify",
                                 {"client_name": client_name, "nonce": nonce, "wsp": False})
        if st != 200:
            raise RuntimeError(f"/admin/notify {nonce}: HTTP {st} {body[:200]!r}")
        return body

    def device(self, client_name):
        st, body, _ = self.admin("GET", f"/admin/devices/{client_name}")
        if st != 200:
            raise RuntimeError(f"/admin/devices/{client_name}: HTTP {st}")
        return json.loads(body)


def account_state(sock, server_id):
    for a in ctl_call(sock, "account_list")["accounts"]:
        if a.get("server_id") == server_id:
            return a.get("state")
    return None


def wait_settled(sock, server_id, timeout):
    """Waits until the account is not `resyncing`; returns its state (or
    'resyncing' on timeout)."""
    end = time.monotonic() + timeout
    state = None
    while time.monotonic() < end:
        state = account_state(sock, server_id)
        if state != "resyncing":
            return state
        time.sleep(0.05)
    return state


def chal_nonce(result):
    """The raw NextNonce of an `issue_chal` result (XML encoding)."""
    m = re.search(r"<NextNonce[^>]*>([^<]+)</NextNonce>", result.get("chal", ""))
    if not m:
        raise ValueError("issue_chal result without a NextNonce")
    return base64.b64decode(m.group(1))


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * (len(sorted_values) - 1)))))
    return sorted_values[k]


def rss_kib(pid, field="VmHWM"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


USAGE = """The C tests' independent peer (tests/c/peer.h runs it):
  dmn.py md5 USER PASSWORD NONCE_B64           -> Cred/Data text
  dmn.py hmac USER PASSWORD NONCE_B64 BODY_B64 -> x-syncml-hmac value
  dmn.py notify BASE_URL CLIENT NONCE WSP OUT  -> Package #0 / WSP PDU to OUT
  dmn.py device BASE_URL CLIENT                -> resyncs_completed
  dmn.py sms WSP_FILE PARTS OUT_PREFIX         -> SMS-DELIVER TPDUs OUT_PREFIX.1 ...
  dmn.py cmt WSP_FILE                          -> one SMS-DELIVER as a modem's +CMT
                                                  hex, empty SMSC field in front
  dmn.py add-device BASE_URL CLIENT SRV_PW CLI_PW (md5, xml)"""


def _post(url, doc):
    req = urllib.request.Request(url, data=json.dumps(doc).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read()


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "md5":
        print(md5_cred(argv[2], argv[3].encode(), base64.b64decode(argv[4])))
    elif cmd == "hmac":
        print(hmac_header(argv[2], argv[3].encode(), base64.b64decode(argv[4]),
                          base64.b64decode(argv[5])))
    elif cmd == "notify":
        body = _post(argv[2] + "/admin/notify",
                     {"client_name": argv[3], "nonce": argv[4], "wsp": argv[5] == "wsp"})
        with open(argv[6], "wb") as f:
            f.write(body)
    elif cmd == "device":
        with urllib.request.urlopen(f"{argv[2]}/admin/devices/{argv[3]}", timeout=10) as resp:
            print(json.load(resp)["resyncs_completed"])
    elif cmd == "sms":
        with open(argv[2], "rb") as f:
            wsp = f.read()
        for i, tpdu in enumerate(sms_deliver(wsp, int(argv[3])), start=1):
            with open(f"{argv[4]}.{i}", "wb") as f:
                f.write(tpdu)
    elif cmd == "cmt":
        # scripts/ofono-phonesim.sh: its AT modem (scripts/ofono/at_modem.py)
        # hands this to ofono; one SMS only.
        with open(argv[2], "rb") as f:
            (tpdu,) = sms_deliver(f.read(), 1)
        if tpdu[TPDU_UDL] > 140:
            sys.exit("dmn.py cmt: the push does not fit in one SMS")
        print("00" + tpdu.hex().upper())
    elif cmd == "add-device":
        _post(argv[2] + "/admin/devices",
              {"client_name": argv[3], "server_password": argv[4], "client_password": argv[5],
               "auth_scheme": "md5", "encoding": "xml"})
    else:
        print(USAGE, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
