#!/usr/bin/env bash
# Fault injection against dmnonced and dmnonce-testserver on loopback:
#   kills  N SIGKILLs of the daemon at random points (start-up/resume, resync
#          sessions, nonce rotations); after each restart the store opens,
#          pending work is resumed or cleanly failed, nonces are consistent
#   http   a proxy that cuts the daemon's HTTP connection at points spread
#          over the whole session (once, and on every connection)
#   disk   state dir on a tiny tmpfs: disk full, then read-only (root only;
#          skipped with a message otherwise)
# Usage: scripts/fault-inject.sh [N] [--seed S] [--encoding xml|wbxml]
#                                [--only kills,http,disk] [--rotate-secret] [--keep]
#                                [--no-build]
#   N defaults to 50 (the CI sample); run 1000 by hand.
# Debug builds (cargo's target directory, debug); exit status 1 on any violation. See
# docs/robustness.md for what is checked and the figures of real runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

trials=50
build=1
rest=()
while (($#)); do
    case "$1" in
    --no-build) build=0 ;;
    --seed | --encoding | --only | --workdir)
        rest+=("$1" "$2")
        shift
        ;;
    --keep | --rotate-secret) rest+=("$1") ;;
    -h | --help)
        sed -n '2,16p' "$0"
        exit 0
        ;;
    [0-9]*) trials=$1 ;;
    *)
        echo "fault-inject.sh: unknown argument $1" >&2
        exit 2
        ;;
    esac
    shift
done

if ((build)); then
    cargo build -q -p dmnonced -p dmnonce-testserver
fi
# shellcheck source=scripts/lib/target-dir.sh
source scripts/lib/target-dir.sh
# scripts/hardening/dmn.py starts the binaries from there.
export DMNONCE_BIN_DIR=${DMNONCE_BIN_DIR:-$(cargo_target_dir)/debug}
for b in dmnonced dmnonce-testserver; do
    [[ -x $DMNONCE_BIN_DIR/$b ]] || {
        echo "fault-inject.sh: $DMNONCE_BIN_DIR/$b missing (cargo build -p $b)" >&2
        exit 2
    }
done
exec python3 scripts/hardening/fault_inject.py --trials "$trials" "${rest[@]}"
