#!/usr/bin/env python3
"""Wraps a WSP push PDU (file argument) into one SMS-DELIVER TPDU for WAP
push port 2948 (3GPP TS 23.040: UDH IEI 0x05 16-bit ports, 8-bit data) and
prints it as hex with an empty SMSC field in front, as a modem's +CMT
carries it. One SMS only: the PDU must fit in 140 - 7 octets."""
import sys

wsp = open(sys.argv[1], "rb").read()
udh = bytes([0x06, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0])  # dst 2948, src 9200
ud = udh + wsp
if len(ud) > 140:
    sys.exit("sms_deliver.py: the push does not fit in one SMS")
digits = "15550100"  # originator, international
oa = bytes([len(digits), 0x91]) + bytes(
    int(digits[i + 1] + digits[i], 16) for i in range(0, len(digits), 2)
)
scts = bytes([0x62, 0x11, 0x92, 0x30, 0x00, 0x00, 0x00])  # 26-11-29 03:00:00 UTC
# First octet: SMS-DELIVER, more-messages-to-send off, UDHI set.
tpdu = bytes([0x44]) + oa + bytes([0x00, 0x04]) + scts + bytes([len(ud)]) + ud
print("00" + tpdu.hex().upper())
