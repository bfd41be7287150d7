#!/usr/bin/env bash
# Floods dmnonced's control socket for a bounded time and reports
# throughput, latency percentiles, the daemon's peak RSS (VmHWM), whether a
# canary client kept being served and whether a client that never reads was
# dropped; then client_cred throughput from 1 and 8 clients beside a bare
# line echo in the same run (use --release for figures to compare with
# issue 16's goals). Starts its own daemon (debug build unless --release) on
# a fresh state directory; Unix socket only. See docs/robustness.md for figures of real runs.
# Usage: scripts/load.sh [--duration SECS] [--clients N] [--window W]
#                        [--rss-limit-mib M] [--canary-limit-ms MS] [--cred-seconds S] [--release]
#   --release  build and load the release daemon (<cargo target dir>/release/dmnonced)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
args=()
profile=debug
for a in "$@"; do
    case "$a" in
    --release) profile=release ;;
    -h | --help)
        sed -n '2,12p' "$0"
        exit 0
        ;;
    *) args+=("$a") ;;
    esac
done
if [[ $profile == release ]]; then
    cargo build -q --release -p dmnonced
else
    cargo build -q -p dmnonced
fi
# shellcheck source=scripts/lib/target-dir.sh
source scripts/lib/target-dir.sh
bin=$(cargo_target_dir)/$profile
# scripts/hardening/dmn.py starts the test server from there.
export DMNONCE_BIN_DIR=${DMNONCE_BIN_DIR:-$bin}
exec python3 scripts/hardening/load.py --exe "$bin/dmnonced" "${args[@]}"
