#!/usr/bin/env bash
# Runs every crate's tests on an emulated ARM device: cross-compiles them
# (scripts/cross-build.sh TARGET --tests), boots the device of
# scripts/emulated-device.sh with them and runs each test executable there,
# so that what differs on ARM and on 32 bits (usize, time_t, atomics,
# alignment) is caught where it happens.
#
#   scripts/device-tests.sh aarch64|armv7 [FILTER]
#
# FILTER keeps only the test executables whose name matches it at the start
# (an extended regex, e.g. "dmnonce_store|resync"). The tests that need a host tool the device does not have
# (python3, openssl, sqlite3, dbus-daemon, ...) are skipped there by name,
# each with its reason, in scripts/device/test-skips.txt; they run on the
# host in scripts/test.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
arch=${1:?usage: scripts/device-tests.sh aarch64|armv7 [FILTER]}
filter=${2:-}
source scripts/lib/cross-env.sh
target=$(cross_target_of "$arch")

# shellcheck source=scripts/lib/harness.sh
source scripts/lib/harness.sh
harness_init device-tests
stage=$H_WORK

scripts/cross-build.sh "$target" --tests >"$stage/list"
[[ $(head -c 1 "$stage/list") == / ]] || { echo "device-tests: scripts/cross-build.sh listed no test executables" >&2; exit 1; }
out=$(dirname "$(head -n 1 "$stage/list" | cut -f 1)")/..

# The tests find the daemon's binaries (CARGO_BIN_EXE_*) and their data
# (CARGO_MANIFEST_DIR) at the absolute paths they were built with: the
# share mirrors those paths under fs/, and the guest links them into place.
mirror() { install -D -m "${3:-0644}" "$1" "$stage/fs$2"; }
for f in dmnonced dmnoncectl dmnonce-testserver; do
    mirror "$out/$f" "$(readlink -f "$out")/$f" 0755
done
# The repository's files (vectors, the C header the client checks).
git ls-files -z | while IFS= read -r -d '' f; do
    [[ -f $f ]] && mirror "$f" "$root/$f"
done
: >"$stage/tests"
while IFS=$'\t' read -r exe dir; do
    name=$(basename "$exe")
    [[ -z $filter || $name =~ ^($filter) ]] || continue
    mirror "$exe" "$exe" 0755
    printf '%s\t%s\n' "$exe" "$dir" >>"$stage/tests"
done <"$stage/list"
cp scripts/device/test-skips.txt scripts/device/run-tests.sh "$stage/"

echo "device-tests: $(wc -l <"$stage/tests") test executables, $(du -sh "$stage" | cut -f 1) staged" >&2
# The store's tests make many small fsyncs and the daemon tests start
# daemons: a larger guest and a longer timeout than a single scenario needs.
scripts/emulated-device.sh --arch "$arch" --memory 1536 --timeout "${DMNONCE_DEVICE_TESTS_TIMEOUT:-1500}" \
    --share "$stage" -- sh /share/run-tests.sh
