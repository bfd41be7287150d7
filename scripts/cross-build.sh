#!/usr/bin/env bash
# Cross-builds dmnonce for a device: dmnonced, dmnoncectl, libdmnonce (.so and
# .a) and libdmnonce_jni into target/TARGET/release/, installing the Debian
# cross toolchain on a fresh Debian 12 machine (see scripts/lib/cross-env.sh
# for why the cross builds use Debian's rustc while the host build keeps
# rustup's).
#
#   scripts/cross-build.sh TARGET              release binaries and libraries
#   scripts/cross-build.sh TARGET --tests      also every crate's tests
#                                              (cargo test --no-run); prints
#                                              "EXECUTABLE<TAB>PACKAGE_DIR" for
#                                              each test executable
# TARGET: aarch64-unknown-linux-gnu | armv7-unknown-linux-gnueabihf
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/cross-env.sh
target=${1:?usage: scripts/cross-build.sh TARGET [--tests]}
mode=${2:-}
cross_install_toolchain "$target"
cross_export_env "$target"

"$CROSS_CARGO" build --release --locked --target "$target" \
    -p dmnonced -p dmnoncectl -p dmnonce-client -p dmnonce-jni -p dmnonce-testserver
out=$("$CROSS_CARGO" metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/$target/release
for f in dmnonced dmnoncectl dmnonce-testserver libdmnonce.so libdmnonce.a libdmnonce_jni.so; do
    [[ -e "$out/$f" ]] || { echo "missing after the build: $out/$f" >&2; exit 1; }
done
echo "built in $out: dmnonced dmnoncectl dmnonce-testserver libdmnonce.so libdmnonce.a libdmnonce_jni.so" >&2

if [[ "$mode" == --tests ]]; then
    "$CROSS_CARGO" test --release --locked --target "$target" --workspace --no-run \
        --message-format=json-render-diagnostics \
      | python3 -c '
import json, os, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"], os.path.dirname(m["manifest_path"]), sep="\t")'
fi
