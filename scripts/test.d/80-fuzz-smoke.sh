#!/usr/bin/env bash
# Fuzz smoke for CI: every cargo-fuzz target of rust/fuzz runs for a short
# time (default 20 s, DMNONCE_FUZZ_SMOKE_SECS), so the targets keep
# compiling and the seed corpora keep passing. The long runs are by hand:
# `scripts/fuzz.sh 3600` (docs/robustness.md). Installs the nightly
# toolchain (minimal profile) and cargo-fuzz when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/harness.sh
source scripts/lib/harness.sh
harness_name 80-fuzz-smoke
if ! cargo +nightly --version >/dev/null 2>&1; then
    say "installing the nightly toolchain"
    rustup toolchain install nightly --profile minimal
fi
exec bash scripts/fuzz.sh "${DMNONCE_FUZZ_SMOKE_SECS:-20}"
