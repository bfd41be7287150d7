"""A TCP proxy for the HTTP-drop cases of scripts/fault-inject.sh: forwards
127.0.0.1 connections to the test server and, when armed, cuts the
connection that carries byte N (counted from the arming, per direction,
across every connection, so HTTP keep-alive does not hide a point).

Loopback only: it listens on 127.0.0.1 and connects to the address given.
"""

import socket
import threading


class CuttingProxy:
    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.lock = threading.Lock()
        self.counts = {"c2s": 0, "s2c": 0}
        self.cut = None  # (direction, offset, repeat)
        self.cuts_done = 0
        self.conns = 0
        self.sticky = False  # after the cut, every new connection is dropped
        self.down = False
        self.c2s_log = bytearray()  # device->server bytes since arming
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, direction=None, offset=0, repeat=False, sticky=False):
        """Counts from zero again; with a direction, cuts at `offset` bytes
        (once, or every time the count passes it again when `repeat`, which
        then also restarts the count on each new connection)."""
        with self.lock:
            self.counts = {"c2s": 0, "s2c": 0}
            self.cut = (direction, offset, repeat) if direction else None
            self.cuts_done = 0
            self.conns = 0
            self.sticky = sticky
            self.down = False
            self.c2s_log = bytearray()

    def totals(self):
        with self.lock:
            return dict(self.counts), self.conns, self.cuts_done

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def request_offsets(self):
        """Offsets (device->server, since arming) where HTTP requests start."""
        with self.lock:
            data = bytes(self.c2s_log)
        out, i = [], data.find(b"POST ")
        while i >= 0:
            out.append(i)
            i = data.find(b"POST ", i + 1)
        return out

    def _serve(self, client):
        with self.lock:
            down = self.down
        if down:
            # the link stays down after a sticky cut
            client.close()
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self.lock:
            self.conns += 1
            if self.cut and self.cut[2]:
                # repeat mode: every connection is cut at the same point
                self.counts = {"c2s": 0, "s2c": 0}
        dead = threading.Event()

        def close_both():
            dead.set()
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                try:
                    s.close()
                except OSError:
                    pass

        def pump(src, dst, direction):
            while not dead.is_set():
                try:
                    data = src.recv(65536)
                except OSError:
                    break
                if not data:
                    try:
                        dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    return
                with self.lock:
                    start = self.counts[direction]
                    self.counts[direction] += len(data)
                    if direction == "c2s" and len(self.c2s_log) < 1 << 20:
                        self.c2s_log.extend(data)
                    cut = self.cut
                    cut_here = (cut is not None and cut[0] == direction
                                and (cut[2] or self.cuts_done == 0)
                                and start <= cut[1] < start + len(data))
                    if cut_here:
                        self.cuts_done += 1
                        self.down = self.sticky
                if cut_here:
                    keep = data[: cut[1] - start]
                    try:
                        if keep:
                            dst.sendall(keep)
                    except OSError:
                        pass
                    break
                try:
                    dst.sendall(data)
                except OSError:
                    break
            close_both()

        threading.Thread(target=pump, args=(client, upstream, "c2s"), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client, "s2c"), daemon=True).start()
