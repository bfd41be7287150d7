#!/usr/bin/env bash
# Regenerates include/dmnonce.h from rust/client with a pinned cbindgen.
# Usage: scripts/gen-header.sh            (write include/dmnonce.h)
#        scripts/gen-header.sh --check    (exit 1 when the checked-in header is stale)
set -euo pipefail
cd "$(dirname "$0")/.."
CBINDGEN_VERSION=0.29.4

if [[ "$(cbindgen --version 2>/dev/null)" != "cbindgen $CBINDGEN_VERSION" ]]; then
    echo "installing cbindgen $CBINDGEN_VERSION" >&2
    cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --quiet
fi

out=include/dmnonce.h
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
cbindgen --quiet --config rust/client/cbindgen.toml --crate dmnonce-client \
    --output "$tmp" rust/client

if [[ "${1:-}" == --check ]]; then
    if ! diff -u "$out" "$tmp"; then
        echo "include/dmnonce.h is stale: run scripts/gen-header.sh and commit it" >&2
        exit 1
    fi
    echo "include/dmnonce.h is current"
else
    mkdir -p include
    cp "$tmp" "$out"
    echo "wrote $out"
fi
