#!/usr/bin/env python3
"""A minimal AT-command modem for ofono's phonesim plugin (test use).

ofonod's phonesim driver connects to Address:Port from OFONO_PHONESIM_CONFIG
and talks AT as to a real modem. This answers what ofono asks while it powers
the modem up (identity, SIM ready, SMS in PDU mode; every SIM file read gets
"not found", which ofono tolerates), so ofono brings up its SMS atom and with
it org.ofono.PushNotification. A WAP push arrives as an unsolicited
`+CMT: ,<len>` with an SMS-DELIVER PDU, written when a file named
`inject.hex` (hex PDU, SMSC octet included) appears in --dir.

Usage: at_modem.py --dir DIR   (prints the TCP port it listens on, one line)
"""
import argparse
import os
import socket
import threading
import time

ANSWERS = {
    "AT+CPIN?": "+CPIN: READY",
    "AT+CGMI": "dmnonce",
    "AT+CGMM": "at-modem",
    "AT+CGMR": "1",
    "AT+CGSN": "490154203237518",
    "AT+CIMI": "001010123456789",
    "AT+CSMS=?": "+CSMS: (0,1)",
    "AT+CSMS?": "+CSMS: 0,1,1,1",
    "AT+CMGF=?": "+CMGF: (0,1)",
    "AT+CNMI=?": "+CNMI: (0-2),(0-3),(0-3),(0-2),(0,1)",
    "AT+CPMS=?": '+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")',
    "AT+CPMS?": '+CPMS: "SM",0,10,"SM",0,10,"SM",0,10',
    "AT+CSCA?": '+CSCA: "+15550000",145',
    "AT+CFUN?": "+CFUN: 1",
    "AT+SIMSTATE?": "+SIMSTATE: 1",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    print(srv.getsockname()[1], flush=True)
    log = open(os.path.join(args.dir, "at.log"), "a", buffering=1)
    conn, _ = srv.accept()
    lock = threading.Lock()

    def send(text):
        with lock:
            conn.sendall(text.encode())
        log.write("<< %r\n" % text)

    def injector():
        path = os.path.join(args.dir, "inject.hex")
        while True:
            time.sleep(0.1)
            if not os.path.exists(path):
                continue
            pdu = open(path).read().strip()
            os.remove(path)
            smsc_len = int(pdu[:2], 16)
            tpdu_len = len(pdu) // 2 - 1 - smsc_len
            send("\r\n+CMT: ,%d\r\n%s\r\n" % (tpdu_len, pdu))

    threading.Thread(target=injector, daemon=True).start()
    buf = b""
    while True:
        data = conn.recv(4096)
        if not data:
            return
        buf += data
        while b"\r" in buf:
            line, buf = buf.split(b"\r", 1)
            cmd = line.strip().decode(errors="replace")
            if not cmd:
                continue
            log.write(">> %s\n" % cmd)
            up = cmd.upper()
            if up in ANSWERS:
                send("\r\n%s\r\n\r\nOK\r\n" % ANSWERS[up])
            elif up.startswith("AT+CRSM"):
                send("\r\n+CRSM: 106,130\r\n\r\nOK\r\n")  # 6A82: file not found
            else:
                send("\r\nOK\r\n")


if __name__ == "__main__":
    main()
