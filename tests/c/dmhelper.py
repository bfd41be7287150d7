#!/usr/bin/env python3
"""Independent peer for the C tests: credentials with hashlib, and the test
server's admin API over HTTP (loopback only).

  dmhelper.py md5 USER PASSWORD NONCE_B64          -> Cred/Data text
  dmhelper.py hmac USER PASSWORD NONCE_B64 BODY_B64 -> x-syncml-hmac value
  dmhelper.py notify BASE_URL CLIENT NONCE WSP OUT  -> Package #0 / WSP PDU to OUT
  dmhelper.py device BASE_URL CLIENT                -> resyncs_completed
  dmhelper.py add-device BASE_URL CLIENT SRV_PW CLI_PW (md5, xml)
Formulas: /work/shared/reference/formats.md ("Credentials in SyncML DM 1.2").
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
