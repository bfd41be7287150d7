#!/usr/bin/env bash
# Runs every cargo-fuzz target in rust/fuzz/fuzz_targets for SECONDS each
# (default 60) and reports executions per target.
#   scripts/fuzz.sh [SECONDS]
# Seeds: rust/fuzz/seeds/<target>/ (checked in, made by
# `cargo run -p dmnonce-push --example fuzz_seeds -- rust/fuzz/seeds`) are
# copied into the working corpus rust/fuzz/corpus/<target>/ (not checked in),
# which keeps growing across runs. Crashes land in rust/fuzz/artifacts/.
# Needs the nightly toolchain; installs cargo-fuzz when missing.
# Exit status: non-zero when any target crashed or failed to build.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
[[ "$secs" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "the nightly toolchain is needed: rustup toolchain install nightly" >&2
    exit 1
fi

cd rust/fuzz
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
status=0
summary=()
for src in fuzz_targets/*.rs; do
    target=$(basename "$src" .rs)
    mkdir -p "corpus/$target" "artifacts/$target"
    if [[ -d "seeds/$target" ]]; then
        cp -n "seeds/$target"/* "corpus/$target/" 2>/dev/null || true
    fi
    echo "=== $target: ${secs}s ==="
    log="$logs/$target.log"
    if cargo +nightly fuzz run --fuzz-dir . "$target" "corpus/$target" -- \
        -max_total_time="$secs" -print_final_stats=1 \
        -artifact_prefix="artifacts/$target/" >"$log" 2>&1; then
        result=ok
    else
        result=FAILED
        status=1
        tail -n 40 "$log"
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
    corpus=$(find "corpus/$target" -type f | wc -l)
    summary+=("$(printf '%-16s %-6s execs=%-12s execs/s=%-9s corpus=%s' \
        "$target" "$result" "${execs:-?}" "${rate:-?}" "$corpus")")
done

echo
echo "=== fuzz summary (${secs}s per target) ==="
printf '%s\n' "${summary[@]}"
exit $status
