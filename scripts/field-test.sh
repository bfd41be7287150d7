#!/usr/bin/env bash
# The nonce-resync change request's field cases, end to end, on two emulated
# hosts (network namespaces joined by a veth pair, or loopback): a device
# running dmnonced, a server running dmnonce-testserver. See
# docs/field-test.md; the options: scripts/field-test.sh --help.
#
# Usage: scripts/field-test.sh [--mode auto|netns|loopback] [--fallback-ms N]
#          [--outage-ms N] [--scenarios LIST] [--auth-scheme md5|hmac]
#          [--encoding xml|wbxml] [--bearer socket|dbus] [--rotate-secret]
#          [--traces DIR] [--keep] [--no-build]
# Prints a timeline, then "field-test: N passed, M failed"; exit 1 on a failure.
# The scenarios, the checks and the timeline are scripts/field/field_test.py
# (on scripts/hardening/dmn.py); this is its entry point.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 -u scripts/field/field_test.py "$@"
