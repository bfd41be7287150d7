#!/usr/bin/env bash
# Runs every cargo-fuzz target in rust/fuzz/fuzz_targets for SECONDS each
# (default 60), or until it has run N inputs, and reports executions, rate
# and coverage per target, and how long 10 million executions take at the
# rate this machine reached.
#   scripts/fuzz.sh [SECONDS]
#   scripts/fuzz.sh --runs N [TARGET...]   (the depth goal: --runs 10000000)
# Seeds: rust/fuzz/seeds/<target>/ (checked in, made by
# `cargo run -p dmnonce-push --example fuzz_seeds -- rust/fuzz/seeds`) are
# copied into the working corpus rust/fuzz/corpus/<target>/ (not checked in),
# which keeps growing across runs. Crashes land in rust/fuzz/artifacts/.
# Needs the nightly toolchain; installs cargo-fuzz when missing.
# Exit status: non-zero when any target crashed or failed to build.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { echo "usage: $0 [SECONDS] | --runs N [TARGET...]" >&2; exit 2; }
runs=
only=()
if [[ ${1:-} == --runs ]]; then
    runs=${2:-}
    [[ "$runs" =~ ^[0-9]+$ ]] || usage
    only=("${@:3}")
    limit=(-runs="$runs")
    what="$runs executions"
else
    secs=${1:-60}
    [[ "$secs" =~ ^[0-9]+$ ]] || usage
    limit=(-max_total_time="$secs")
    what="${secs}s"
fi

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
    if ((${#only[@]})) && [[ " ${only[*]} " != *" $target "* ]]; then
        continue
    fi
    mkdir -p "corpus/$target" "artifacts/$target"
    if [[ -d "seeds/$target" ]]; then
        cp -n "seeds/$target"/* "corpus/$target/" 2>/dev/null || true
    fi
    echo "=== $target: $what ==="
    log="$logs/$target.log"
    if cargo +nightly fuzz run --fuzz-dir . "$target" "corpus/$target" -- \
        "${limit[@]}" -print_final_stats=1 \
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
    # libFuzzer's last "cov: N ft: M" line: edges and features reached.
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 | awk '{print $2 "/" $4}' || true)
    to_goal=?
    [[ ${rate:-0} -gt 0 ]] && to_goal="$(((10000000 / rate + 59) / 60))min"
    summary+=("$(printf '%-16s %-6s execs=%-12s execs/s=%-9s cov/ft=%-12s corpus=%-6s 10M-here=%s' \
        "$target" "$result" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$corpus" "$to_goal")")
done

echo
echo "=== fuzz summary ($what per target) ==="
printf '%s\n' "${summary[@]}"
exit $status
