#!/usr/bin/env bash
# Crash soak for the encrypted store: SIGKILLs a child process that rotates
# nonces, N times (default 1000), and checks after every kill that each
# account holds exactly one complete nonce generation, no older than the last
# acknowledged commit. CI runs 200 trials of the same test (cargo test).
# Usage: scripts/crash-soak.sh [TRIALS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
export DMNONCE_CRASH_TRIALS=${1:-1000}
if [[ -n "${2:-}" ]]; then export DMNONCE_CRASH_SEED=$2; fi
cargo test -p dmnonce-store --test crash -- --nocapture 2>&1 | grep -v 'ERROR CORE'
exit "${PIPESTATUS[0]}"
