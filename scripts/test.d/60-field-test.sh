#!/usr/bin/env bash
# The change request's field cases end to end (scripts/field-test.sh): in
# network namespaces when this machine allows them (root, `ip netns`), then
# on loopback too; loopback only otherwise. Short fallback timeout for CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
bash scripts/field-test.sh --mode auto --fallback-ms 1500 | tee "$out"
if grep -q '^field-test: mode netns' "$out"; then
    # The second run also covers the other scheme and encoding.
    bash scripts/field-test.sh --mode loopback --fallback-ms 1500 --no-build --auth-scheme hmac --encoding wbxml
fi
