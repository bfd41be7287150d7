#!/usr/bin/env bash
# Runs every dmnonce test suite: Rust (fmt, clippy, unit + integration tests),
# then each cross-language / end-to-end suite in scripts/test.d/ in name order.
# Usage: scripts/test.sh            (everything)
#        scripts/test.sh rust       (only the cargo part)
#        scripts/test.sh 30-c       (only suites whose file name starts so)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
only=${1:-}

step() { printf '\n=== %s ===\n' "$*"; }

# System tools the suites need (libwbxml, sqlite3, a JDK, junit4, valgrind,
# dbus, ...): installed when missing (needs root and apt-get); without them
# the suites that use them fail and say what is missing.
if [[ -z "${DMNONCE_NO_INSTALL:-}" ]]; then
    bash scripts/ci-deps.sh || echo "warning: could not install the missing system tools (root and apt-get needed)"
fi

if [[ -z "$only" || "$only" == rust ]]; then
    step "cargo fmt --check"
    cargo fmt --all -- --check
    step "cargo clippy -D warnings"
    cargo clippy --workspace --all-targets --locked -- -D warnings
    step "cargo test --workspace"
    cargo test --workspace --locked
fi

status=0
for suite in scripts/test.d/*.sh; do
    [[ -e "$suite" ]] || continue
    name=$(basename "$suite" .sh)
    if [[ -n "$only" && "$only" != rust && "$name" != "$only"* ]]; then continue; fi
    [[ "$only" == rust ]] && continue
    step "suite $name"
    if ! bash "$suite"; then
        echo "suite $name FAILED"
        status=1
    fi
done
exit $status
