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
bash scripts/fault-inject.sh 50
bash scripts/load.sh --duration 5 --clients 3
bash scripts/hardening/asan-c.sh

# Known bug (reported; docs/robustness.md "AuthSecret rotation"): the
# device commits the new server AuthSecret from Pkg#4 before its Pkg#5
# (status 200) reaches the server; if Pkg#5 never arrives the server keeps
# the old secret and every later Package #0, default nonce included, is
# rejected. Exactly that failure is reported as KNOWN; any other failure of
# this run fails the suite, and so does this one once DMNONCE_STRICT=1.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if bash scripts/fault-inject.sh 0 --no-build --only http --rotate-secret >"$out" 2>&1; then
    grep -E '^http: link down|^fault-inject: OK' "$out"
else
    cat "$out"
    viol=$(grep -c '^trial .*VIOLATION' "$out" || true)
    known=$(grep -c '^trial http link down before request 3 .*VIOLATION: .*default-nonce push gave .rejected.' "$out" || true)
    if [[ ${DMNONCE_STRICT:-0} == 1 || $viol != "$known" || $known == 0 ]]; then
        echo "70-hardening: FAILED"
        exit 1
    fi
    kept=$(sed -n 's/^work directory kept: //p' "$out")
    [[ $kept == /tmp/dmnonce-fault-* ]] && rm -rf "$kept"
    echo "70-hardening: KNOWN FAILURE: server AuthSecret committed before Pkg#5 reached the server (secret rotation desync); fix pending in daemon/store"
fi
