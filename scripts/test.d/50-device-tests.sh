#!/usr/bin/env bash
# The device build for the two ARM targets (scripts/cross-build.sh): its
# files are there and the stripped dmnonced keeps to its budget
# (docs/performance.md, "On the device"); then every crate's tests,
# cross-compiled, run on the emulated device (scripts/device-tests.sh: a
# real kernel under qemu-system, TCG), so that what only shows on ARM or on
# 32 bits is caught. DMNONCE_DEVICE_ARCHES="aarch64" limits the architectures.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/harness.sh
source scripts/lib/harness.sh
harness_init 50-device-tests
source scripts/lib/cross-env.sh
budget=5000000
arches=$(cross_ready_arches 50-device-tests ${DMNONCE_DEVICE_ARCHES:-aarch64 armv7})
for arch in $arches; do
    target=$(cross_target_of "$arch") gnu=$(cross_gnu_of "$target")
    t0=$(date +%s)
    scripts/device-tests.sh "$arch"
    out=$(cargo_target_dir)/$target/release
    stripped=$H_WORK/dmnonced-$arch
    "$gnu-strip" -o "$stripped" "$out/dmnonced"
    size=$(stat -c %s "$stripped")
    rm -f "$stripped"
    say "$arch stripped dmnonced $size bytes (budget $budget)"
    ((size <= budget)) || { say "$arch dmnonced is over its budget"; exit 1; }
    say "$arch passed in $(($(date +%s) - t0)) s (cross builds included)"
done
