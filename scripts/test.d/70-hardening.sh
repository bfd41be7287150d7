#!/usr/bin/env bash
# Hardening sample for CI (scripts/fault-inject.sh, scripts/load.sh; the
# long runs are by hand, docs/robustness.md): 50 SIGKILLs of dmnonced
# during resync sessions, rotations and start-up, the cutting HTTP proxy,
# disk full / read-only state dir (root only: skipped with a message
# otherwise), a 5-second control-socket flood with its bounds, the C tests
# under AddressSanitizer + UBSan, and the HTTP cuts again with the server
# AuthSecret rotated at Pkg#4. Debug builds; about a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/harness.sh
source scripts/lib/harness.sh
harness_name 70-hardening
bash scripts/fault-inject.sh 50
bash scripts/load.sh --duration 5 --clients 3
bash scripts/hardening/asan-c.sh

# The HTTP cuts again with the server AuthSecret rotated at Pkg#4: a lost
# Pkg#5 once left the device holding only the new secret, cut off for good
# (docs/robustness.md, "AuthSecret rotation"); now a regression check.
bash scripts/fault-inject.sh 0 --no-build --only http --rotate-secret
say "fault injection, load, ASan/UBSan C tests and the rotated-secret HTTP cuts passed"
