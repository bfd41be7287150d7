#!/usr/bin/env python3
"""Fault injection against dmnonced (driven by scripts/fault-inject.sh).

1. kills: N SIGKILLs of dmnonced at random points (during start-up and
   resume, during resync sessions with dmnonce-testserver, during nonce
   rotations by issue_chal/accept_chal); after each restart: the store
   opens, the pending resync is resumed or cleanly failed, the rotation
   account holds the last acknowledged nonces (or the one in flight), and
   the test server's stored-nonce Package #0 is accepted — or, after a
   cleanly failed resync, rejected and repaired by the default-nonce
   fallback; never in-sync with mismatched nonces.
2. http: an HTTP peer that cuts the connection at points spread over the
   whole session (both directions), once and on every connection.
3. disk: the state directory on a tiny tmpfs that fills up, then is
   remounted read-only (root only): clear error, nothing lost.

Prints one line per trial and a summary; exit status 1 on any violation.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dmn  # noqa: E402
from proxy import CuttingProxy  # noqa: E402

SERVER_ID = "dmnonce-test"
CLIENT = "fi-device"
ROT_ID = "rotation.fault-inject"
ROT_CLIENT = "rot-device"


class Violation(Exception):
    pass


class Harness:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.work = args.workdir or tempfile.mkdtemp(prefix="dmnonce-fault-")
        os.makedirs(self.work, exist_ok=True)
        os.chmod(self.work, 0o700)
        self.failures = []
        self.stats = {}
        self.secrets = []  # every secret and nonce we know, for the log scan
        self.restarts = []  # ms from spawn to `hello` answered, after each kill

    def note(self, key, n=1):
        self.stats[key] = self.stats.get(key, 0) + n

    def rand(self, n):
        """Random nonce bytes (remembered for the log scan)."""
        b = os.urandom(n)
        self.secrets.append(b)
        return b

    def secret(self):
        """A printable random AuthSecret (passwords travel as JSON strings)."""
        s = dmn.b64(os.urandom(12)).encode()
        self.secrets.append(s)
        return s

    # ---- set-up -----------------------------------------------------
    def setup(self):
        w = self.work
        self.server = dmn.TestServer(os.path.join(w, "server"), os.path.join(w, "server.log"),
                                     extra=["--fallback-after-ms", "600000"]
                                     + (["--rotate-secret"] if self.args.rotate_secret else []))
        self.server.start()
        host, port = self.server.listen.rsplit(":", 1)
        self.proxy = CuttingProxy(host, int(port))
        self.srv_pw, self.cl_pw = self.secret(), self.secret()
        sn, cn = self.rand(16), self.rand(16)
        st, body, _ = self.server.admin("POST", "/admin/devices", {
            "client_name": CLIENT, "server_password": self.srv_pw.decode(),
            "client_password": self.cl_pw.decode(), "auth_scheme": "md5",
            "encoding": self.args.encoding,
            "server_nonce_b64": dmn.b64(sn), "client_nonce_b64": dmn.b64(cn)})
        if st != 201:
            raise RuntimeError(f"/admin/devices: HTTP {st} {body[:200]!r}")
        self.state = os.path.join(w, "state")
        self.sock = os.path.join(w, "d.sock")
        self.config = os.path.join(w, "dmnonced.toml")
        dmn.write_daemon_config(self.config, self.state, self.sock)
        self.daemon = dmn.Daemon(self.state, self.sock, self.config, os.path.join(w, "daemon.log"))
        self.daemon.start()
        dmn.ctl_call(self.sock, "account_add", account={
            "server_id": SERVER_ID, "server_url": f"http://127.0.0.1:{self.proxy.port}/dm",
            "client_name": CLIENT, "auth_scheme": "md5", "encoding": self.args.encoding,
            "policy": "allow", "server_password": self.srv_pw.decode(),
            "client_password": self.cl_pw.decode(),
            "server_nonce_b64": dmn.b64(sn), "client_nonce_b64": dmn.b64(cn)})
        # The rotation account: no server; the harness plays the DM client
        # (issue_chal / accept_chal) and checks with its own Package #0s.
        self.rot_srv_pw, self.rot_cl_pw = self.secret(), self.secret()
        self.rot_server = [self.rand(16)]   # acknowledged server nonces, last = newest
        self.rot_client = [self.rand(16)]   # acknowledged client nonces
        dmn.ctl_call(self.sock, "account_add", account={
            "server_id": ROT_ID, "server_url": "http://127.0.0.1:9/dm",
            "client_name": ROT_CLIENT, "auth_scheme": "md5", "encoding": "xml",
            "policy": "allow", "server_password": self.rot_srv_pw.decode(),
            "client_password": self.rot_cl_pw.decode(),
            "server_nonce_b64": dmn.b64(self.rot_server[0]),
            "client_nonce_b64": dmn.b64(self.rot_client[0])})
        self.check_sync("set-up")

    # ---- checks -----------------------------------------------------
    def push_pkg0(self, data):
        return dmn.ctl_call(self.sock, "push", format="package0", data_b64=dmn.b64(data))

    def push_default(self):
        """Pushes the server's default-nonce Package #0. The server draws
        16-bit session ids at random, so over a thousand trials one repeats
        and the notification is byte-identical to one accepted before: the
        daemon rightly answers `replay`; ask the server for another."""
        for _ in range(5):
            out = self.push_pkg0(self.server.notify(CLIENT, "text"))["outcome"]
            if out != "replay":
                return out
            self.note("default-nonce Package #0 repeated by the server: replay refused")
        return out

    def resync_once(self, why):
        """Default-nonce notification, session, until the account settles."""
        out = self.push_default()
        if out != "resync_started":
            raise Violation(f"{why}: default-nonce push gave {out!r}, expected resync_started")
        state = dmn.wait_settled(self.sock, SERVER_ID, 30)
        if state != "in-sync":
            raise Violation(f"{why}: resync session ended in state {state!r}")

    def check_sync(self, why):
        """The server's stored-nonce Package #0 is accepted; if the account
        cleanly failed its resync, the fallback repairs it. Returns how."""
        state = dmn.wait_settled(self.sock, SERVER_ID, 40)
        if state == "resyncing":
            raise Violation(f"{why}: account still resyncing 40 s after the restart "
                            "(pending work neither resumed nor failed)")
        if state not in ("in-sync", "needs-resync"):
            raise Violation(f"{why}: account state {state!r} after the restart")
        out = self.push_pkg0(self.server.notify(CLIENT, "stored"))["outcome"]
        client_ok = self.client_nonce_in_step()
        if out == "alert" and client_ok:
            return f"{state}/stored-ok"
        if out == "alert" and state == "in-sync":
            raise Violation(f"{why}: MIX: account in-sync, server nonce in step, but the "
                            "client nonce differs from the server's")
        if out == "alert":
            # needs-resync with the client nonce behind the server's: the
            # server issued a Chal the device never stored (the session
            # then failed). The next resync session repairs it.
            self.resync_once(why + " (client nonce repair)")
            if not self.client_nonce_in_step():
                raise Violation(f"{why}: client nonce still out of step after a resync")
            return f"{state}/client-nonce-repaired-by-fallback"
        if out == "rejected" and state == "in-sync":
            raise Violation(f"{why}: MIX: account in-sync but the server's stored-nonce "
                            "Package #0 is rejected")
        if out != "rejected":
            raise Violation(f"{why}: stored-nonce push gave {out!r}")
        self.resync_once(why + " (repair)")
        out = self.push_pkg0(self.server.notify(CLIENT, "stored"))["outcome"]
        if out != "alert":
            raise Violation(f"{why}: after the repair session the stored-nonce push gave {out!r}")
        return f"{state}/repaired-by-fallback"

    def client_nonce_in_step(self):
        """The daemon's client credential is the one the server expects:
        computed here with the client nonce from the test server's state
        file (the harness's white-box view of the server side)."""
        import base64
        import json
        with open(os.path.join(self.work, "server", "server-state.json")) as f:
            dev = json.load(f)["devices"][CLIENT]
        nonce = base64.b64decode(dev["client_nonce"])
        self.secrets.append(nonce)
        body = b"<SyncML>fault-inject</SyncML>"
        got = dmn.ctl_call(self.sock, "client_cred", server_id=SERVER_ID,
                           body_b64=dmn.b64(body))["cred_data"]
        return got == dmn.md5_cred(CLIENT, self.cl_pw, nonce)

    def check_rotation(self, why, issue_in_flight, inflight_client):
        """The last acknowledged nonces (or the one in flight) are the
        daemon's: a Package #0 signed with the last acknowledged server
        nonce verifies as stored, the credential uses the last acknowledged
        (or in-flight) client nonce."""
        sid = self.rng.randrange(1, 65535)
        pkg = dmn.package0(ROT_ID, self.rot_srv_pw, self.rot_server[-1], sid)
        v = dmn.ctl_call(self.sock, "verify", package0_b64=dmn.b64(pkg))["verdict"]
        if v != "stored-nonce":
            raise Violation(f"{why}: the last acknowledged server nonce gives {v!r}")
        if issue_in_flight:
            # Its nonce never reached us: if the daemon committed it, the
            # last acknowledged one is now `previous` (checked above). One
            # acknowledged rotation re-anchors the harness's knowledge.
            res = dmn.ctl_call(self.sock, "issue_chal", server_id=ROT_ID, encoding="xml")
            n = dmn.chal_nonce(res)
            self.secrets.append(n)
            self.rot_server.append(n)
            self.note("rotation: issue_chal in flight at the kill")
        got = dmn.ctl_call(self.sock, "client_cred", server_id=ROT_ID,
                           body_b64=dmn.b64(b"<SyncML/>"))["cred_data"]
        ok = {dmn.md5_cred(ROT_CLIENT, self.rot_cl_pw, self.rot_client[-1]): "acked"}
        if inflight_client is not None:
            ok[dmn.md5_cred(ROT_CLIENT, self.rot_cl_pw, inflight_client)] = "inflight"
        if got not in ok:
            raise Violation(f"{why}: the client credential uses neither the last acknowledged "
                            "nor the in-flight client nonce")
        if ok[got] == "inflight":
            self.rot_client.append(inflight_client)
            self.note("rotation: in-flight accept_chal committed")

    # ---- 1. kills ---------------------------------------------------
    def rotation_worker(self, stop, box, seed):
        """issue_chal / accept_chal at random until the connection dies."""
        rng = random.Random(seed)
        try:
            c = dmn.Ctl(self.sock, timeout=5)
        except OSError:
            return
        try:
            while not stop["now"]:
                if rng.random() < 0.5:
                    box["server"] = "pending"
                    res = c.call("issue_chal", server_id=ROT_ID, encoding="xml")
                    n = dmn.chal_nonce(res)
                    self.secrets.append(n)
                    self.rot_server.append(n)
                    box["server"] = None
                    box["acked"] += 1
                else:
                    n = self.rand(16)
                    box["client"] = n
                    c.call("accept_chal", server_id=ROT_ID, next_nonce_b64=dmn.b64(n))
                    self.rot_client.append(n)
                    box["client"] = None
                    box["acked"] += 1
        except (OSError, ConnectionError, ValueError, dmn.ProtocolError):
            pass
        finally:
            c.close()

    def kill_trials(self):
        import threading
        n = self.args.trials
        # calibrate: how long a resync session takes here
        t0 = time.monotonic()
        self.resync_once("calibration")
        session_s = max(0.05, time.monotonic() - t0)
        t0 = time.monotonic()
        self.daemon.stop()
        self.daemon.start()
        startup_s = max(0.02, time.monotonic() - t0)
        print(f"fault-inject: resync session ≈ {session_s * 1000:.0f} ms, "
              f"daemon restart ≈ {startup_s * 1000:.0f} ms", flush=True)
        for i in range(1, n + 1):
            phase = self.rng.choices(["startup", "session", "rotation"], [15, 60, 25])[0]
            box = {"server": None, "client": None, "acked": 0}
            stop = {"now": False}
            worker = None
            if phase == "startup":
                # restart, kill during store open / resume_pending
                self.daemon.stop()
                delay = self.rng.uniform(0, startup_s * 1.2)
                self.daemon.spawn()
                time.sleep(delay)
            else:
                worker = threading.Thread(target=self.rotation_worker, args=(stop, box, self.rng.random()))
                worker.start()
                if phase == "session":
                    try:
                        out = self.push_default()
                    except (OSError, ConnectionError, dmn.ProtocolError) as e:
                        out = f"error {e}"
                    if out != "resync_started":
                        self.fail(i, f"trial push gave {out!r}")
                    delay = self.rng.uniform(0, session_s * 1.3)
                else:
                    delay = self.rng.uniform(0, 0.3)
                time.sleep(delay)
            self.daemon.kill()
            stop["now"] = True
            if worker:
                worker.join(10)
            t0 = time.monotonic()
            log_mark = os.path.getsize(self.daemon.log_path)
            self.daemon.spawn()
            if not self.daemon.wait_ready(30):
                self.fail(i, "daemon did not come back after the kill (store did not open?)\n"
                          + self.daemon.log_tail())
                self.daemon.kill()
                self.daemon.start()
                continue
            restart_ms = (time.monotonic() - t0) * 1000
            self.restarts.append(restart_ms)
            try:
                self.check_rotation(f"trial {i}", box["server"] == "pending", box["client"])
                how = self.check_sync(f"trial {i}")
                pending = self.pending_outcome(log_mark)
                self.note(f"{phase}: {how}")
                self.note(f"pending resync after restart: {pending}")
                print(f"trial {i:4d}: kill during {phase:8s} at {delay * 1000:6.1f} ms; "
                      f"restart {restart_ms:5.0f} ms; rotation ok ({box['acked']} acked); "
                      f"pending: {pending}; account {how}", flush=True)
            except Violation as e:
                self.fail(i, str(e))
            except (OSError, ConnectionError, dmn.ProtocolError, RuntimeError) as e:
                self.fail(i, f"check failed: {e}\n{self.daemon.log_tail()}")

    def pending_outcome(self, mark):
        """What the restarted daemon did with the resync left pending (its
        log since `mark`: resumed and finished, resumed and failed, none)."""
        import re
        with open(self.daemon.log_path, "rb") as f:
            f.seek(mark)
            text = f.read().decode(errors="replace")
        if "resuming the resync session" not in text:
            return "none"
        m = re.search(r"resync session \d+ failed: (.*)", text)
        if m:
            return "resumed, failed cleanly (" + m.group(1).strip() + ")"
        if re.search(r"resync session \d+ finished", text):
            return "resumed, finished"
        return "resumed, outcome not logged"

    def fail(self, i, msg):
        print(f"trial {i}: VIOLATION: {msg}", flush=True)
        self.failures.append(f"{i}: {msg}")

    # ---- 2. HTTP drops ----------------------------------------------
    def http_drops(self):
        self.proxy.arm()
        self.resync_once("http calibration")
        counts, conns, _ = self.proxy.totals()
        print(f"http: one session = {counts['c2s']} bytes device->server, {counts['s2c']} "
              f"server->device over {conns} connection(s)", flush=True)
        starts = self.proxy.request_offsets()
        fractions = [0.0, 0.1, 0.3, 0.45, 0.55, 0.7, 0.9, 0.99]
        points = [(d, int(counts[d] * f)) for d in ("c2s", "s2c") for f in fractions]
        # every connection cut at the same early point: the session must fail cleanly
        points += [("c2s-every", int(counts["c2s"] * 0.3)), ("s2c-every", 10)]
        # the link goes down for good just before each request of the
        # session (Pkg#1, Pkg#3, ...) reaches the server
        points += [(f"c2s-down-before-request-{k + 1}", off) for k, off in enumerate(starts)]
        for direction, offset in points:
            repeat = direction.endswith("-every")
            sticky = "-down-" in direction
            d = direction.split("-")[0]
            label = f"cut {direction} at byte {offset}"
            if sticky:
                label = f"link down before request {direction.rsplit('-', 1)[1]} (byte {offset})"
            try:
                self.proxy.arm(d, offset, repeat, sticky)
                out = self.push_default()
                if out != "resync_started":
                    raise Violation(f"{label}: push gave {out!r}")
                state = dmn.wait_settled(self.sock, SERVER_ID, 60)
                _, _, cuts = self.proxy.totals()
                self.proxy.arm()
                how = self.check_sync(label)
                self.note(f"http: {state} then {how}")
                print(f"http: {label:28s}: {cuts} cut(s); session ended {state}; {how}", flush=True)
                if (repeat or sticky) and state == "in-sync":
                    raise Violation(f"{label}: every connection was cut, yet the session "
                                    "reported success")
            except Violation as e:
                self.fail(f"http {label}", str(e))
            except (OSError, ConnectionError, dmn.ProtocolError, RuntimeError) as e:
                self.fail(f"http {label}", f"check failed: {e}\n{self.daemon.log_tail()}")
        self.proxy.arm()

    # ---- 3. disk full / read-only -----------------------------------
    def disk_cases(self):
        if os.geteuid() != 0 or not shutil.which("mount"):
            print("disk: SKIPPED: needs root to mount a tiny tmpfs (disk full, read-only)")
            self.note("disk: skipped (not root)")
            return
        mnt = os.path.join(self.work, "tiny")
        os.makedirs(mnt, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", mnt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"disk: SKIPPED: tmpfs mount refused: {r.stderr.strip()}")
            self.note("disk: skipped (mount refused)")
            return
        try:
            self._disk_cases(mnt)
        finally:
            subprocess.run(["umount", "-l", mnt], capture_output=True)

    def _disk_cases(self, mnt):
        state = os.path.join(mnt, "state")
        sock = os.path.join(self.work, "tiny.sock")
        conf = os.path.join(self.work, "tiny.toml")
        dmn.write_daemon_config(conf, state, sock)
        d = dmn.Daemon(state, sock, conf, os.path.join(self.work, "tiny-daemon.log"))
        d.start()
        srv_pw, cl_pw = self.secret(), self.secret()
        server = [self.rand(16)]
        sid = "disk.fault-inject"
        dmn.ctl_call(sock, "account_add", account={
            "server_id": sid, "server_url": "http://127.0.0.1:9/dm", "client_name": "disk",
            "auth_scheme": "md5", "encoding": "xml", "policy": "allow",
            "server_password": srv_pw.decode(), "client_password": cl_pw.decode(),
            "server_nonce_b64": dmn.b64(server[0]), "client_nonce_b64": dmn.b64(self.rand(16))})
        pw = srv_pw

        def verify_last(why):
            pkg = dmn.package0(sid, pw, server[-1], self.rng.randrange(1, 65535))
            v = dmn.ctl_call(sock, "verify", package0_b64=dmn.b64(pkg))["verdict"]
            if v != "stored-nonce":
                raise Violation(f"{why}: the last acknowledged server nonce gives {v!r}")

        def rotate(times):
            """issue_chal until an error; returns (acked, first error code)."""
            acked = 0
            for _ in range(times):
                try:
                    server.append(dmn.chal_nonce(dmn.ctl_call(sock, "issue_chal", server_id=sid)))
                    acked += 1
                except dmn.ProtocolError as e:
                    print(f"    issue_chal error: {e}", flush=True)
                    return acked, e.code
            return acked, None

        try:
            rotate(3)
            # --- disk full while running
            filler = os.path.join(mnt, "filler")
            with open(filler, "wb") as f:
                try:
                    while True:
                        f.write(b"\0" * 65536)
                        f.flush()
                except OSError:
                    pass
            acked, code = rotate(300)
            alive = d.proc.poll() is None
            print(f"disk full (running): {acked} rotation(s) still fit, then error "
                  f"{code!r}; daemon alive: {alive}", flush=True)
            if not alive:
                raise Violation("disk full: the daemon died")
            if code is None:
                self.note("disk: full never reached the store (inconclusive)")
            elif code not in ("store", "busy"):
                raise Violation(f"disk full: issue_chal failed with {code!r}, expected 'store'")
            verify_last("disk full, running")
            st = dmn.ctl_call(sock, "status")
            if not any(a.get("server_id") == sid for a in st.get("accounts", [])):
                raise Violation("disk full: status lost the account")
            # --- restart while full
            d.stop()
            d.spawn()
            up = d.wait_ready(15)
            msg = "" if up else d.log_tail(3)
            print(f"disk full (restart): daemon {'serves' if up else 'refused to start'}"
                  + (f": {msg}" if msg else ""), flush=True)
            if up:
                verify_last("disk full, after restart")
            else:
                d.kill()
            os.unlink(filler)
            if not up:
                d.start()
            verify_last("disk freed")
            a2, code2 = rotate(2)
            if code2 is not None:
                raise Violation(f"disk freed: issue_chal still fails with {code2!r}")
            self.note("disk full: ok")
            # --- read-only state dir (a read-only bind mount over it, as a
            # /var/lib mounted read-only at boot would be). A running
            # daemon's files cannot be made read-only under it (remount
            # gives EBUSY): disk full above is the "writes fail while
            # serving" case.
            d.stop()
            subprocess.run(["mount", "--bind", state, state], check=True)
            try:
                subprocess.run(["mount", "-o", "remount,bind,ro", state], check=True)
                d.spawn()
                up = d.wait_ready(15)
                tail = d.log_tail(2)
                print(f"read-only (start): daemon {'serves' if up else 'exits'}; last log lines:\n"
                      + "\n".join("    " + ln for ln in tail.splitlines()), flush=True)
                if up:
                    verify_last("read-only start")
                    acked, code = rotate(2)
                    print(f"read-only (serving): {acked} rotation(s), then error {code!r}",
                          flush=True)
                    if code not in ("store", "busy"):
                        raise Violation(f"read-only: issue_chal gave {code!r} after {acked} "
                                        "acks, expected a 'store' error")
                elif d.proc.returncode == 0:
                    raise Violation("read-only: the daemon exited with status 0")
                else:
                    last = tail.splitlines()[-1] if tail else ""
                    if "Read-only" not in last and "read-only" not in last:
                        raise Violation(f"read-only: the exit message does not say why: {last!r}")
                    cause = "Read-only file system (os error 30)"
                    if last.count(cause) != 1:
                        raise Violation(f"read-only: the cause must be said once: {last!r}")
                    if sum(cause in ln for ln in d.log_tail(5).splitlines()) != 1:
                        raise Violation("read-only: the exit message is printed more than once")
                d.kill()
            finally:
                subprocess.run(["umount", state], capture_output=True)
            d.start()
            verify_last("read-write again")
            self.note("read-only: ok")
        except Violation as e:
            self.fail("disk", str(e))
        except (OSError, ConnectionError, dmn.ProtocolError, RuntimeError,
                subprocess.CalledProcessError) as e:
            self.fail("disk", f"check failed: {e}\n{d.log_tail()}")
        finally:
            d.kill()

    # ---- logs -------------------------------------------------------
    def scan_logs(self):
        """No secret or nonce we handed out may appear in any log, as raw
        text, Base64 or hex. Indexed by 12-byte windows so a thousand
        trials' worth of nonces is checked in one pass over the logs."""
        import base64
        k = 12
        index = {}
        for s in self.secrets:
            for form in (s, base64.b64encode(s), s.hex().encode(), s.hex().upper().encode()):
                if len(form) >= k:
                    index.setdefault(form[:k], []).append(form)
        for name in sorted(os.listdir(self.work)):
            if not name.endswith(".log"):
                continue
            data = open(os.path.join(self.work, name), "rb").read()
            for i in range(len(data) - k + 1):
                hits = index.get(data[i:i + k])
                if hits and any(data.startswith(h, i) for h in hits):
                    self.fail("logs", f"{name} contains a secret or nonce value")
                    return
        print(f"logs: {len(self.secrets)} secrets/nonces, none in any log", flush=True)

    def teardown(self):
        for p in (getattr(self, "daemon", None), getattr(self, "server", None)):
            if p:
                p.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--encoding", default="xml", choices=["xml", "wbxml"])
    ap.add_argument("--only", default="kills,http,disk")
    ap.add_argument("--rotate-secret", action="store_true",
                    help="the test server replaces the server AuthSecret at Pkg#4 of every "
                         "resync session (change request step 6)")
    ap.add_argument("--workdir")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), "big")
    print(f"fault-inject: seed {args.seed}, {args.trials} kill trials, {args.encoding}"
          + (", server AuthSecret rotated at Pkg#4" if args.rotate_secret else ""), flush=True)
    h = Harness(args)
    only = set(args.only.split(","))
    t0 = time.monotonic()
    try:
        h.setup()
        if "kills" in only:
            h.kill_trials()
        if "http" in only:
            h.http_drops()
        if "disk" in only:
            h.disk_cases()
    finally:
        h.teardown()
        h.scan_logs()
    print(f"\nfault-inject summary (seed {args.seed}, {time.monotonic() - t0:.0f} s):")
    if h.restarts:
        r = sorted(h.restarts)
        print(f"  restart after kill to hello answered: p50 {dmn.percentile(r, 50):.0f} ms, "
              f"p99 {dmn.percentile(r, 99):.0f} ms, max {r[-1]:.0f} ms ({len(r)} restarts)")
    for k, v in sorted(h.stats.items()):
        print(f"  {k}: {v}")
    if h.failures:
        print(f"FAILED: {len(h.failures)} violation(s)")
        for f in h.failures:
            print("  " + f.splitlines()[0])
    else:
        print("fault-inject: OK, no violation")
    if not args.keep and not h.failures:
        shutil.rmtree(h.work, ignore_errors=True)
    else:
        print(f"work directory kept: {h.work}")
    sys.exit(1 if h.failures else 0)


if __name__ == "__main__":
    main()
