#!/usr/bin/env bash
# Wireshark as an independent peer for the WAP-push bearer: our SMS-DELIVER
# and WSP push encodings go through text2pcap into tshark, whose reading of
# ports, concatenation, content type and application id must match ours.
# Needs tshark + text2pcap (Debian `tshark`, installed by scripts/ci-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/harness.sh
source scripts/lib/harness.sh
harness_name 25-tshark
if ! command -v tshark >/dev/null || ! command -v text2pcap >/dev/null; then
    say "tshark/text2pcap missing; run scripts/ci-deps.sh" >&2
    exit 1
fi
cargo test -p dmnonce-push --locked --test tshark -- --ignored
