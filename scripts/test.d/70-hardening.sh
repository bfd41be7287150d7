#!/usr/bin/env bash
# Hardening sample for CI (scripts/fault-inject.sh, scripts/load.sh; the
# long runs are by hand, docs/robustness.md): 50 SIGKILLs of dmnonced
# during resync sessions, rotations and start-up, the cutting HTTP proxy,
# disk full / read-only state dir (root only: skipped with a message
# otherwise), a 5-second control-socket flood with its bounds, and the C
# tests under AddressSanitizer + UBSan. Debug builds; about a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/fault-inject.sh 50
bash scripts/load.sh --duration 5 --clients 3
bash scripts/hardening/asan-c.sh
