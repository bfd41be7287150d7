#!/usr/bin/env python3
"""dm_agent.py: a stand-in for a legacy OMA DM 1.2 client that leaves every
nonce to dmnonced, as the change request expects of a DM agent next to the
daemon. It runs ONE normal (stored-nonce) management session for an account
against the server's /dm URL and exits.

The agent builds and parses the SyncML DM 1.2 XML itself (SyncHdr with
VerDTD 1.2 and VerProto DM/1.2, Alert 1200, a Replace of ./DevInfo/*,
statuses), and asks the daemon over its control socket (docs/protocol.md)
for everything that involves a secret or a nonce:

  client_cred        the Cred of each message it sends (current client nonce)
  check_server_cred  the server's Cred in each message it receives
  accept_chal        the server's Chal (NextNonce = the new client nonce)
  issue_chal         our Chal for Pkg#3 (a fresh server nonce, stored by
                     the daemon; the agent pastes the fragment unread)

It never sees a secret, and no nonce except inside the Chal fragments it
passes on; it prints none. Supported: auth scheme md5 with the XML
encoding only (exit 2 for an account with another scheme or encoding).

Session:  Pkg#1 -> Alert 1200 + DevInfo, Cred (stored client nonce)
          Pkg#2 <- server Cred (stored server nonce), 212 + Chal
                   (accept_chal), statuses, commands (answered 406)
          Pkg#3 -> 212 + our Chal (issue_chal), Cred (new client nonce)
          Pkg#4 <- server Cred verified with the NEW server nonce: done
A 401/407 + Chal answer to Pkg#1 is taken up once (accept_chal, Pkg#1
again). Exit 0 when the session completed and the server proved itself with
the new server nonce (the daemon retired the previous one); 1 when the
session failed; 2 on bad usage or an unsupported account.
"""

import argparse
import base64
import os
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hardening"))
from dmn import Ctl, ProtocolError  # noqa: E402  (the control-protocol client)

CONTENT_TYPE = "application/vnd.syncml.dm+xml"
SYNCML_NS = "SYNCML:SYNCML1.2"
METINF_NS = "syncml:metinf"
ALERT_SERVER_INITIATED = 1200
ALERT_NEXT_MESSAGE = 1222
NOT_HANDLED = 406  # RepPro 1.2 §10: valid command, not implemented here


class SessionFailed(Exception):
    pass


def say(text):
    print(f"dm-agent: {text}", flush=True)


# ------------------------------------------------------------------ XML out
def el(tag, *children, text=None, ns=None):
    """One element as text; children are element texts."""
    attr = f' xmlns="{ns}"' if ns else ""
    inner = escape(text) if text is not None else "".join(children)
    return f"<{tag}{attr}>{inner}</{tag}>"


def cred_xml(cred_type, cred_data):
    return el("Cred",
              el("Meta", el("Format", text="b64", ns=METINF_NS),
                 el("Type", text=cred_type, ns=METINF_NS)),
              el("Data", text=cred_data))


def message(session, msg_id, commands, cred=""):
    """A whole message; `commands` are (tag, inner XML) pairs, numbered here
    (CmdID is per message and comes first in every command)."""
    hdr = el("SyncHdr",
             el("VerDTD", text="1.2"),
             el("VerProto", text="DM/1.2"),
             el("SessionID", text=session.session_id_text),
             el("MsgID", text=str(msg_id)),
             el("Target", el("LocURI", text=session.url)),
             el("Source", el("LocURI", text=session.dev_id),
                el("LocName", text=session.client_name)),
             cred)
    cmds = "".join(f"<{tag}><CmdID>{i + 1}</CmdID>{inner}</{tag}>"
                   for i, (tag, inner) in enumerate(commands))
    body = el("SyncBody", cmds + "<Final/>")
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            + el("SyncML", hdr + body, ns=SYNCML_NS)).encode()


def status_cmd(msg_ref, cmd_ref, cmd, code, target_refs=(), source_refs=(), chal=""):
    """A Status, children in DTD order; `chal` is a Chal fragment or ''."""
    parts = [el("MsgRef", text=str(msg_ref)), el("CmdRef", text=str(cmd_ref)),
             el("Cmd", text=cmd)]
    parts += [el("TargetRef", text=t) for t in target_refs]
    parts += [el("SourceRef", text=s) for s in source_refs]
    parts += [chal, el("Data", text=str(code))]
    return ("Status", "".join(parts))


def alert_cmd(code):
    return ("Alert", el("Data", text=str(code)))


def devinfo_cmd(info):
    return ("Replace", "".join(
        el("Item", el("Source", el("LocURI", text=f"./DevInfo/{leaf}")), el("Data", text=value))
        for leaf, value in info))


# ------------------------------------------------------------------ XML in
def local(tag):
    return tag.rsplit("}", 1)[-1]


def child(e, name):
    for k in e:
        if local(k.tag) == name:
            return k
    return None


def child_text(e, *path):
    for name in path:
        if e is None:
            return None
        e = child(e, name)
    return None if e is None else (e.text or "").strip()


class Received:
    """The parts of a server message the agent acts on."""

    def __init__(self, body):
        try:
            root = ET.fromstring(body)
        except ET.ParseError as e:
            raise SessionFailed(f"server answer is not XML ({e})") from None
        hdr, sbody = child(root, "SyncHdr"), child(root, "SyncBody")
        if local(root.tag) != "SyncML" or hdr is None or sbody is None:
            raise SessionFailed("server answer is not a SyncML message")
        self.session_id = child_text(hdr, "SessionID")
        self.msg_id = int(child_text(hdr, "MsgID") or 0)
        self.target = child_text(hdr, "Target", "LocURI") or ""
        self.source = child_text(hdr, "Source", "LocURI") or ""
        self.cred_data = child_text(hdr, "Cred", "Data")
        self.final = child(sbody, "Final") is not None
        self.commands = [k for k in sbody if local(k.tag) != "Final"]

    def header_status(self, our_msg_id):
        for c in self.commands:
            if (local(c.tag) == "Status" and child_text(c, "CmdRef") == "0"
                    and child_text(c, "MsgRef") == str(our_msg_id)
                    and child_text(c, "Cmd") == "SyncHdr"):
                code = int(child_text(c, "Data") or 0)
                return code, child_text(c, "Chal", "Meta", "NextNonce")
        return None, None


# ------------------------------------------------------------------ session
class Session:
    def __init__(self, ctl, account, session_id, dev_id, timeout):
        self.ctl = ctl
        self.server_id = account["server_id"]
        self.url = account["server_url"]
        self.client_name = account["client_name"]
        self.dev_id = dev_id or self.client_name
        # Upper-case hex without leading zeros, as most handsets write it.
        self.session_id_text = f"{session_id:X}"
        self.timeout = timeout
        self.msg_id = 0

    def send(self, commands):
        """Signs (Cred from the daemon) and posts; returns the answer."""
        self.msg_id += 1
        unsigned = message(self, self.msg_id, commands)
        r = self.ctl.call("client_cred", server_id=self.server_id,
                          body_b64=base64.b64encode(unsigned).decode())
        if r.get("scheme") != "md5" or not r.get("cred_data"):
            raise SessionFailed(f"daemon answered client_cred with scheme {r.get('scheme')}")
        body = message(self, self.msg_id, commands, cred_xml(r["cred_type"], r["cred_data"]))
        req = urllib.request.Request(self.url, data=body, method="POST",
                                     headers={"Content-Type": CONTENT_TYPE})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                answer = resp.read()
        except urllib.error.HTTPError as e:
            raise SessionFailed(f"server answered HTTP {e.code}: "
                                f"{e.read()[:200].decode(errors='replace')}") from None
        except OSError as e:
            raise SessionFailed(f"server unreachable ({e})") from None
        return answer

    def check_server(self, body, m, what):
        """The server proves itself before anything in `m` is believed."""
        if m.session_id != self.session_id_text:
            raise SessionFailed(f"{what}: SessionID differs from ours")
        if not m.cred_data:
            raise SessionFailed(f"{what}: no server credentials")
        r = self.ctl.call("check_server_cred", server_id=self.server_id,
                          body_b64=base64.b64encode(body).decode(), cred_data=m.cred_data)
        if not r.get("valid"):
            raise SessionFailed(f"{what}: server credentials rejected by dmnonced")

    def answers(self, m, chal=""):
        """Status 212 for the server's header (with `chal`), 406 for its commands."""
        out = [status_cmd(m.msg_id, 0, "SyncHdr", 212, [m.target], [m.source], chal)]
        for c in m.commands:
            name = local(c.tag)
            if name == "Status":
                continue  # the one command never answered
            if child(c, "NoResp") is not None:
                continue  # the sender asked for no status
            out.append(status_cmd(m.msg_id, child_text(c, "CmdID") or 0, name, NOT_HANDLED))
        return out

    def run(self):
        pkg1 = [alert_cmd(ALERT_SERVER_INITIATED),
                devinfo_cmd([("DevId", self.dev_id), ("Man", "dmnonce"), ("Mod", "dm_agent.py"),
                             ("DmV", "1.2"), ("Lang", "en")])]
        body = self.send(pkg1)
        say("Pkg#1 sent: Alert 1200 + DevInfo, Cred from dmnonced (client_cred)")
        phase, retried, pkg2_creds = "pkg2", False, None
        while True:
            m = Received(body)
            what = {"pkg2": "Pkg#2", "pkg4": "Pkg#4"}.get(phase, "closing message")
            self.check_server(body, m, what)
            if phase == "pkg2" and pkg2_creds is None:
                pkg2_creds = (body, m.cred_data)
            code, next_nonce = m.header_status(self.msg_id)
            if code in (401, 407) and phase == "pkg2" and not retried and next_nonce:
                # The server challenged our client nonce (DM Security §5.3): once.
                self.ctl.call("accept_chal", server_id=self.server_id, next_nonce_b64=next_nonce)
                retried, pkg2_creds = True, None
                say(f"{what}: status {code} with a Chal: nonce handed to dmnonced "
                    "(accept_chal), Pkg#1 again")
                body = self.send(pkg1)
                continue
            if code not in (200, 212):
                raise SessionFailed(f"{what}: server answered our header with status {code}")
            say(f"{what} received: server credentials verified by dmnonced (check_server_cred), "
                f"status {code}")
            if next_nonce:
                self.ctl.call("accept_chal", server_id=self.server_id, next_nonce_b64=next_nonce)
                say(f"  {what}'s Chal: the new client nonce stored by dmnonced (accept_chal)")
            if not m.final:
                body = self.send(self.answers(m) + [alert_cmd(ALERT_NEXT_MESSAGE)])
                say("  package continues: Alert 1222 sent")
                continue
            if phase == "pkg2":
                r = self.ctl.call("issue_chal", server_id=self.server_id, encoding="xml")
                body = self.send(self.answers(m, chal=r["chal"]))
                say("Pkg#3 sent: 212 + our Chal (issue_chal: dmnonced drew and stored a fresh "
                    "server nonce), Cred with the new client nonce")
                phase = "pkg4"
                continue
            replies = self.answers(m)
            if len(replies) > 1:
                body = self.send(replies)
                say(f"  statuses for {len(replies) - 1} command(s) sent")
                phase = "closing"
                continue
            # The daemon retires the previous server nonce once the server is
            # seen using the new one: Pkg#2's credentials no longer verify.
            old_body, old_cred = pkg2_creds
            r = self.ctl.call("check_server_cred", server_id=self.server_id,
                              body_b64=base64.b64encode(old_body).decode(), cred_data=old_cred)
            if r.get("valid"):
                raise SessionFailed(f"{what}: the server did not use the new server nonce")
            say(f"{what}: server signed with the new server nonce; session complete, "
                "both nonces rotated")
            return


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Supports the syncml:auth-md5 scheme with the XML encoding only "
               "(exit 2 for other schemes or encodings). Exit 0: session complete, "
               "server verified with the new server nonce; 1: session failed; 2: usage.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--socket", required=True, help="dmnonced's control socket")
    ap.add_argument("--server-id", required=True, help="the account (DMAcc ServerID)")
    ap.add_argument("--session-id", required=True,
                    help="the session id of the alert (the notification's session_id; "
                         "decimal, or hex with 0x)")
    ap.add_argument("--dev-id", help="DevId and SyncHdr Source (default: the account's client name)")
    ap.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds")
    args = ap.parse_args()
    try:
        sid = int(args.session_id, 0)
    except ValueError:
        ap.error("--session-id must be a number")
    if not 0 < sid < 0x10000:
        ap.error("--session-id must be 1..65535")
    try:
        ctl = Ctl(args.socket, timeout=args.timeout)
    except OSError as e:
        print(f"dm-agent: dmnonced not reachable at {args.socket} ({e})", file=sys.stderr)
        return 1
    try:
        accounts = ctl.call("account_list").get("accounts", [])
        account = next((a for a in accounts if a.get("server_id") == args.server_id), None)
        if account is None:
            print(f"dm-agent: no account {args.server_id} in dmnonced", file=sys.stderr)
            return 2
        if account.get("auth_scheme") != "md5" or account.get("encoding") != "xml":
            print(f"dm-agent: account {args.server_id} uses {account.get('auth_scheme')}/"
                  f"{account.get('encoding')}; this agent speaks md5 with XML only",
                  file=sys.stderr)
            return 2
        Session(ctl, account, sid, args.dev_id, args.timeout).run()
        return 0
    except SessionFailed as e:
        print(f"dm-agent: session failed: {e}", file=sys.stderr)
        return 1
    except ProtocolError as e:
        print(f"dm-agent: dmnonced refused a request: {e}", file=sys.stderr)
        return 1
    except (OSError, ConnectionError, ValueError) as e:
        print(f"dm-agent: control socket: {e}", file=sys.stderr)
        return 1
    finally:
        ctl.close()


if __name__ == "__main__":
    sys.exit(main())
