#!/usr/bin/env python3
"""Independent peer for the C tests: credentials with hashlib, and the test
server's admin API over HTTP (loopback only).

  dmhelper.py md5 USER PASSWORD NONCE_B64          -> Cred/Data text
  dmhelper.py hmac USER PASSWORD NONCE_B64 BODY_B64 -> x-syncml-hmac value
  dmhelper.py notify BASE_URL CLIENT NONCE WSP OUT  -> Package #0 / WSP PDU to OUT
  dmhelper.py device BASE_URL CLIENT                -> resyncs_completed
  dmhelper.py sms WSP_FILE PARTS OUT_PREFIX         -> SMS-DELIVER TPDUs OUT_PREFIX.1 …
  dmhelper.py add-device BASE_URL CLIENT SRV_PW CLI_PW (md5, xml)
Formulas: docs/design.md ("Formats", credentials), docs/package0.md (digest).
"""
import base64
import hashlib
import json
import sys
import urllib.request


def b64md5(*parts: bytes) -> bytes:
    return base64.b64encode(hashlib.md5(b"".join(parts)).digest())


def md5_cred(user: str, pw: str, nonce: bytes) -> str:
    inner = b64md5(user.encode(), b":", pw.encode())
    return b64md5(inner, b":", nonce).decode()


def hmac_header(user: str, pw: str, nonce: bytes, body: bytes) -> str:
    inner = b64md5(user.encode(), b":", pw.encode())
    mac = b64md5(inner, b":", nonce, b":", b64md5(body)).decode()
    return f'algorithm=MD5, username="{user}", mac={mac}'


def sms_deliver(wsp: bytes, parts: int, ref: int = 0x5A) -> list:
    """SMS-DELIVER TPDUs (3GPP TS 23.040) carrying a WAP push: 8-bit data,
    UDH with WDP ports 2948/9200 and, when split, 8-bit concatenation."""
    size = -(-len(wsp) // parts)
    tpdus = []
    for i in range(parts):
        udh = bytes([0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0])
        if parts > 1:
            udh += bytes([0x00, 0x03, ref, parts, i + 1])
        ud = bytes([len(udh)]) + udh + wsp[i * size : (i + 1) * size]
        tpdu = (
            bytes([0x44])  # SMS-DELIVER, more-messages-to-send clear, UDHI
            + bytes([0x0B, 0x91, 0x44, 0x77, 0x00, 0x11, 0x22, 0xF3])  # +44770011223
            + bytes([0x00, 0x04])  # PID, DCS 8-bit data
            + bytes([0x62, 0x11, 0x92, 0x21, 0x43, 0x00, 0x00])  # SCTS
            + bytes([len(ud)])
            + ud
        )
        tpdus.append(tpdu)
    return tpdus


def post(url: str, doc: dict) -> bytes:
    req = urllib.request.Request(
        url, data=json.dumps(doc).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read()


def main(argv: list) -> int:
    cmd = argv[1]
    if cmd == "md5":
        print(md5_cred(argv[2], argv[3], base64.b64decode(argv[4])))
    elif cmd == "hmac":
        print(hmac_header(argv[2], argv[3], base64.b64decode(argv[4]), base64.b64decode(argv[5])))
    elif cmd == "notify":
        body = post(
            argv[2] + "/admin/notify",
            {"client_name": argv[3], "nonce": argv[4], "wsp": argv[5] == "wsp"},
        )
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
    elif cmd == "add-device":
        post(
            argv[2] + "/admin/devices",
            {
                "client_name": argv[3],
                "server_password": argv[4],
                "client_password": argv[5],
                "auth_scheme": "md5",
                "encoding": "xml",
            },
        )
    else:
        print(f"unknown command {cmd}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
