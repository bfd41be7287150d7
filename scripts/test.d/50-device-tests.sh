#!/usr/bin/env bash
# Every crate's tests, cross-compiled for the two ARM targets and run on the
# emulated device (scripts/device-tests.sh: a real kernel under
# qemu-system, TCG), so that what only shows on ARM or on 32 bits is caught.
# DMNONCE_DEVICE_ARCHES="aarch64" limits the architectures.
set -euo pipefail
cd "$(dirname "$0")/../.."
for arch in ${DMNONCE_DEVICE_ARCHES:-aarch64 armv7}; do
    t0=$(date +%s)
    scripts/device-tests.sh "$arch"
    echo "50-device-tests: $arch passed in $(($(date +%s) - t0)) s (cross build included)"
done
