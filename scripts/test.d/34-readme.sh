#!/usr/bin/env bash
# The README's command blocks, run as written and in order, in a fresh clone
# of this repository, and the clone left with nothing untracked.
#
# Run: every block preceded by `<!-- readme-test -->` (Package #0 tools, the
# daemon, the C library), in one shell with `set -e`, so a later block sees
# what an earlier one started, as a reader's terminal would. Not run here,
# because other suites run them and running them from here would repeat
# or recurse: the set-up block (`scripts/test.sh` is this very suite
# runner), the field test (60-field-test), the JUnit suite (40-jvm) and the
# hardening scripts (70-hardening, 80-fuzz-smoke).
#
# Two things differ from a reader's machine, both about where files go:
# `/tmp/` in the blocks is a private directory of this run, so that earlier
# runs or other users' files cannot matter, and HOME, XDG_RUNTIME_DIR and
# XDG_STATE_HOME point into it (the daemon's embedded default and
# `PREFIX=$HOME/.local` land there). The build output is the repository's
# own (CARGO_TARGET_DIR), so nothing is rebuilt.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck source=scripts/lib/harness.sh
source scripts/lib/harness.sh
harness_init 34-readme
fail() { say "FAIL: $*"; exit 1; }
target=$(cargo_target_dir)
work=$H_WORK

git clone -q "$root" "$work/clone"
mkdir -p "$work/tmp" "$work/home" "$work/run"
chmod 700 "$work/run"

# The marked blocks, /tmp/ mapped to this run's directory.
python3 - "$root/README.md" "$work/tmp/" >"$work/blocks.sh" <<'PY'
import re, sys
readme, tmp = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
blocks = re.findall(r"<!-- readme-test -->\n```sh\n(.*?)```", readme, re.S)
if not blocks:
    sys.exit("no <!-- readme-test --> block in README.md")
for i, b in enumerate(blocks, 1):
    print(f"echo '34-readme: block {i} of {len(blocks)}' >&2")
    print(b.replace("/tmp/", tmp))
PY
blocks=$(grep -c '^echo .34-readme: block' "$work/blocks.sh")
say "running $blocks README blocks in a fresh clone"

# Its own process group, so that the harness's exit trap stops what the
# blocks started (they leave daemons and servers running in the background).
set +e
(
    cd "$work/clone"
    # rustup and cargo keep their own homes (toolchains, the registry).
    export RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup} CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
    export HOME=$work/home XDG_RUNTIME_DIR=$work/run CARGO_TARGET_DIR=$target
    unset XDG_STATE_HOME DMNONCE_SOCKET
    exec setsid bash -e -o pipefail "$work/blocks.sh"
) >"$work/out" 2>"$work/err" &
runner=$!
harness_track_group "$runner"
wait "$runner"
rc=$?
set -e
if ((rc != 0)); then
    tail -n 40 "$work/err"
    tail -n 20 "$work/out"
    fail "a README block failed (exit $rc)"
fi

# What the comments in the blocks promise.
grep -q '"verdict":"default-nonce-text"' "$work/out" || fail "pkg0 verify did not print the default-nonce-text verdict"
grep -q rejected "$work/out" "$work/err" || fail "the daemon block's push was not rejected"
grep -q '"accounts"' "$work/out" || fail "status --json printed no accounts"
grep -qi 'resync finished' "$work/out" || { cat "$work/out"; fail "the C agent did not see the resync finish"; }
grep -qi 'alert from dmnonce-test' "$work/out" || { cat "$work/out"; fail "the C agent got no alert for the stored-nonce notification"; }
say "every block ran; outputs as the README says"

untracked=$(git -C "$work/clone" status --porcelain --untracked-files=all)
[[ -z $untracked ]] || fail "the README's commands left files in the clone: $untracked"
say "PASS (the clone has nothing untracked or changed)"
