#!/usr/bin/env bash
# Runs every criterion bench of the workspace (each crate's [[bench]] targets,
# found with `cargo metadata`), then writes the "Summary" block of
# docs/performance.md with ratios computed from the means measured in THIS
# run only (criterion's <target dir>/criterion/**/new/estimates.json files written
# after the run started). Absolute times depend on the machine; the summary
# gives ratios against a baseline measured in the same run.
#
# Besides criterion, two script measurements of the release daemon join the
# summary (skip them with --no-daemon): control-socket round trips against
# a bare Unix-socket echo (scripts/hardening/roundtrip.py), and
# scripts/measure-daemon.sh (start-up, idle RSS, 100 loopback resync
# sessions vs a stored-nonce push, daemon CPU per session). Under valgrind
# (cachegrind), when installed, the store bench's rotation mode gives the
# instructions of one rotation, SQLCipher and plain (this machine has no
# hardware counters for perf stat).
#
# The summary opens with issue 16's goals (scripts/lib/bench_goals.py),
# each row measured against its anchor in the same run, and writes two SVG
# plots to docs/performance/ (with the doc: not with --no-doc).
#
# Usage: scripts/bench.sh [--quick] [--no-doc] [--no-daemon] [PACKAGE...]
#   --quick      shorter criterion warm-up/measurement (1 s / 3 s): a smoke
#                run, noisier ratios
#   --no-doc     print the summary, leave docs/performance.md alone
#   --no-daemon  criterion benches only
#   PACKAGE      only these workspace packages (default: all with benches)
#
# Only the block between the two "bench.sh summary" markers in
# docs/performance.md is rewritten; the sections other benches own are left
# as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/target-dir.sh
source scripts/lib/target-dir.sh
target=$(cargo_target_dir)
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

quick=0
daemon=1
write_doc=1
packages=()
for a in "$@"; do
    case "$a" in
    --quick) quick=1 ;;
    --no-doc) write_doc=0 ;;
    --no-daemon) daemon=0 ;;
    -h | --help)
        sed -n '2,24p' "$0"
        exit 0
        ;;
    -*)
        echo "bench.sh: unknown option $a" >&2
        exit 2
        ;;
    *) packages+=("$a") ;;
    esac
done

command -v python3 >/dev/null || {
    echo "bench.sh: python3 is needed for the summary" >&2
    exit 2
}

# Every (package, bench target) pair of the workspace members.
mapfile -t pairs < <(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
m = json.load(sys.stdin)
members = set(m["workspace_members"])
for p in m["packages"]:
    if p["id"] not in members:
        continue
    for t in p["targets"]:
        if "bench" in t["kind"]:
            print(p["name"], t["name"])
')

if ((${#pairs[@]} == 0)); then
    echo "bench.sh: no criterion benches in the workspace" >&2
    exit 1
fi

# Marker: estimates newer than this file belong to this run.
stamp=$(mktemp)
logs=$(mktemp -d)
trap 'rm -rf "$stamp" "$logs"' EXIT
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)

crit_args=()
if ((quick)); then
    crit_args=(--warm-up-time 1 --measurement-time 3)
fi

ran=()
failed=()
for pair in "${pairs[@]}"; do
    read -r pkg bench <<<"$pair"
    if ((${#packages[@]})); then
        keep=0
        for p in "${packages[@]}"; do [[ "$p" == "$pkg" ]] && keep=1; done
        ((keep)) || continue
    fi
    printf '\n=== bench %s --bench %s ===\n' "$pkg" "$bench"
    if cargo bench -p "$pkg" --bench "$bench" -- "${crit_args[@]}" 2>&1 | tee "$logs/$pkg-$bench.log"; then
        ran+=("$pkg/$bench")
    else
        echo "bench.sh: $pkg --bench $bench FAILED" >&2
        failed+=("$pkg/$bench")
    fi
done

# Heap allocations of the Package #0 floor (the bench prints them).
allocations=""
if [[ -f $logs/dmnonce-proto-package0.log ]]; then
    allocations=$(sed -n 's/^allocations per 100 calls: floor (bare\/stored-3md5-2b64) \([0-9]*\), verify\/stored \([0-9]*\)$/{"floor": \1, "verify": \2}/p' \
        "$logs/dmnonce-proto-package0.log")
fi

# Instructions per rotation: N rotations minus none, under cachegrind.
rotation_instr=""
if [[ -f $logs/dmnonce-store-store.log ]] && command -v valgrind >/dev/null; then
    printf '\n=== rotation instructions (valgrind cachegrind) ===\n'
    store_bench=$(cargo bench -q --no-run -p dmnonce-store --bench store --message-format=json |
        python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "bench" in m["target"]["kind"]:
        print(m["executable"])')
    instr() { # KIND N -> user-space instructions of the whole run
        STORE_BENCH_ROTATIONS="$1:$2" valgrind --tool=cachegrind --cache-sim=no \
            --cachegrind-out-file=/dev/null "$store_bench" 2>&1 |
            sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d ,
    }
    n=200
    rotation_instr=$(
        for kind in sqlcipher plain-sqlite; do
            with=$(instr "$kind" "$n")
            without=$(instr "$kind" 0)
            echo "$kind $(((with - without) / n))"
        done | python3 -c 'import json,sys; print(json.dumps({k: int(v) for k, v in (l.split() for l in sys.stdin)}))'
    ) || rotation_instr=""
    echo "instructions per rotation: ${rotation_instr:-not measured}"
fi

roundtrip=""
measure=""
measure_json=$logs/measure.json
if ((daemon)); then
    printf '\n=== control-socket round trips (release dmnonced) ===\n'
    if cargo build -q --release -p dmnonced &&
        roundtrip=$(python3 scripts/hardening/roundtrip.py "$target/release/dmnonced" 3000); then
        echo "$roundtrip"
        ran+=("roundtrip.py")
    else
        failed+=("roundtrip.py")
    fi
    if [[ -x scripts/measure-daemon.sh ]]; then
        printf '\n=== scripts/measure-daemon.sh 10 100 ===\n'
        if measure=$(MEASURE_JSON=$measure_json bash scripts/measure-daemon.sh 10 100); then
            echo "$measure"
            ran+=("measure-daemon.sh")
        else
            failed+=("measure-daemon.sh")
        fi
    fi
fi

load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
summary=$(
    STAMP="$stamp" STARTED="$started" RAN="${ran[*]:-}" FAILED="${failed[*]:-}" \
        ROUNDTRIP="$roundtrip" MEASURE="$measure" MEASURE_JSON="$measure_json" \
        ALLOCATIONS="$allocations" ROTATION_INSTR="$rotation_instr" WRITE_DOC="$write_doc" \
        LOADAVG="$load" QUICK="$quick" TARGET_DIR="$target" python3 - <<'PY'
import json, os, pathlib, sys
sys.path.insert(0, "scripts/lib")
import bench_goals

root = pathlib.Path(os.environ["TARGET_DIR"]) / "criterion"
since = os.stat(os.environ["STAMP"]).st_mtime

# full_id -> mean (ns), only estimates written by this run
means = {}
if root.is_dir():
    for est in root.glob("**/new/estimates.json"):
        if est.stat().st_mtime < since:
            continue
        meta = est.with_name("benchmark.json")
        try:
            full_id = json.loads(meta.read_text())["full_id"]
            means[full_id] = json.loads(est.read_text())["mean"]["point_estimate"]
        except (OSError, KeyError, ValueError):
            continue

# (numerator, denominator, what it says). Rows whose benches did not run
# are listed as "not measured in this run".
known = [
    ("Package #0 (rust/proto)", [
        ("package0/verify/stored", "package0/bare/stored-3md5-2b64",
         "verify, stored nonce / the bare 3 MD5 + 2 Base64 it needs"),
        ("package0/verify/fallback-text", "package0/bare/fallback-text-4md5-2b64",
         "verify, default-nonce fallback / the bare 4 MD5 + 2 Base64 it needs"),
        ("package0/verify/rejected", "package0/verify/stored",
         "verify, rejected (every nonce tried) / verify, stored nonce"),
        ("package0/decode+verify/stored", "package0/verify/stored",
         "decode + verify / verify alone"),
    ]),
    ("SyncML resync packages (rust/syncml)", [
        ("pkg1_decode_xml", "pkg1_decode_wbxml", "Pkg#1 decode, XML / WBXML"),
        ("pkg1_encode_xml", "pkg1_encode_wbxml", "Pkg#1 encode, XML / WBXML"),
        ("resync_session_md5_xml", "resync_session_md5_wbxml",
         "whole in-memory resync session, XML / WBXML"),
        ("resync_session_md5_xml", "package0/verify/stored",
         "whole in-memory resync session (XML) / one Package #0 verify"),
    ]),
    ("Store (rust/store)", [
        ("rotation/sqlcipher", "rotation/plain-sqlite",
         "nonce rotation, SQLCipher / plain SQLite"),
        ("open/passphrase-kdf", "open/raw-key", "store open, passphrase (KDF) / raw key"),
        ("open/raw-key", "open/plain-sqlite", "store open, raw key / plain SQLite"),
        ("rotation/sqlcipher", "package0/verify/stored",
         "one durable rotation / one Package #0 verify"),
    ]),
]

used = set()
out = []
for title, rows in known:
    lines = []
    for a, b, what in rows:
        if a in means and b in means:
            lines.append(f"| {what} | {means[a] / means[b]:.2f} |")
            used.update((a, b))
        else:
            lines.append(f"| {what} | not measured in this run |")
    out.append(f"**{title}**\n\n| Comparison | Ratio |\n|---|---|\n" + "\n".join(lines))

# Benches no row above covers (benches added later, e.g. the daemon's
# control-socket round trip): each against the fastest of its group.
groups = {}
for fid, m in means.items():
    if fid in used:
        continue
    groups.setdefault(fid.split("/")[0], []).append((fid, m))
extra = []
for g, items in sorted(groups.items()):
    if len(items) < 2:
        # a group of one: against the Package #0 stored verify if present
        fid, m = items[0]
        base = "package0/verify/stored"
        if base in means:
            extra.append(f"| {fid} / {base} | {m / means[base]:.2f} |")
        continue
    items.sort(key=lambda x: x[1])
    base_id, base = items[0]
    for fid, m in items[1:]:
        extra.append(f"| {fid} / {base_id} | {m / base:.2f} |")
if extra:
    out.append("**Other benches in this run** (each against the fastest of its group)\n\n"
               "| Comparison | Ratio |\n|---|---|\n" + "\n".join(extra))

rt = json.loads(os.environ["ROUNDTRIP"]) if os.environ.get("ROUNDTRIP") else None
if rt:
    def r(a, b):
        return f"{rt[a]['median_us'] / rt[b]['median_us']:.2f}"
    out.append(
        "**Control socket** (release dmnonced, one client, one request in flight, "
        f"median of {rt['hello']['n']} round trips each; `scripts/hardening/roundtrip.py`)\n\n"
        "| Comparison | Ratio |\n|---|---|\n"
        f"| `hello` round trip / bare Unix-socket line echo (same client) | {r('hello', 'echo')} |\n"
        f"| `client_cred` (store read + MD5) / `hello` | {r('client_cred', 'hello')} |\n"
        f"| `verify` (Package #0, stored nonce) / `hello` | {r('verify', 'hello')} |\n"
        f"| `push` (stored nonce, alert + audit; includes a durable store write, "
        f"so it follows the disk's load) / `hello` | {r('push_alert', 'hello')} |\n"
        f"| `hello` p99 / `hello` median | {rt['hello']['p99_us'] / rt['hello']['median_us']:.2f} |")
if os.environ.get("MEASURE"):
    out.append("**Daemon** (`scripts/measure-daemon.sh 10`, release build, same run; "
               "absolute figures of this machine)\n\n" + os.environ["MEASURE"].strip())

def env_json(name):
    v = os.environ.get(name, "").strip()
    return json.loads(v) if v else None

mj = pathlib.Path(os.environ["MEASURE_JSON"])
daemon = json.loads(mj.read_text()) if os.environ.get("MEASURE") and mj.is_file() else None
rows, missing = bench_goals.goal_rows(means, rt, daemon, env_json("ROTATION_INSTR"),
                                      env_json("ALLOCATIONS"))
goals = ("**Issue 16's goals** (each row against its anchor measured in the same run; "
         "the last column says whether the goal is met)\n\n"
         + bench_goals.goal_table(rows, missing))
if os.environ["WRITE_DOC"] == "1":
    names = bench_goals.write_plots(rows, means, "docs/performance", os.environ["STARTED"])
    goals += ("\n\nPlots of this run: " + ", ".join(
        f"[{n}](performance/{n})" for n in names)
        + " (each goal's share used; store open time against the number of accounts).")
out.insert(0, goals)

ran = os.environ["RAN"].split()
failed = os.environ["FAILED"].split()
head = (f"Generated by `scripts/bench.sh`{' --quick' if os.environ['QUICK'] == '1' else ''} "
        f"run at {os.environ['STARTED']} (load average at the end: {os.environ['LOADAVG']}; "
        f"this machine is shared, so ratios move by ±15–40 % between runs — see the "
        f"per-crate sections below for repeated runs). {len(means)} criterion benchmarks; "
        f"ran: {', '.join(ran) or 'none'}."
        + (f" FAILED: {', '.join(failed)}." if failed else ""))
print(head + "\n\n" + "\n\n".join(out))
PY
)

echo
echo "$summary"

if ((write_doc)); then
    SUMMARY="$summary" python3 - <<'PY'
import os, pathlib
doc = pathlib.Path("docs/performance.md")
begin = "<!-- bench.sh summary: begin (generated by scripts/bench.sh; edits here are overwritten) -->"
end = "<!-- bench.sh summary: end -->"
block = f"{begin}\n## Summary\n\n{os.environ['SUMMARY']}\n{end}"
text = doc.read_text() if doc.exists() else "# Performance\n"
if begin in text and end in text:
    pre, rest = text.split(begin, 1)
    _, post = rest.split(end, 1)
    text = pre + block + post
else:
    # Insert before the first "## " section, after the introduction.
    i = text.find("\n## ")
    if i < 0:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    else:
        text = text[: i + 1] + block + "\n\n" + text[i + 1 :]
doc.write_text(text)
PY
    echo "bench.sh: docs/performance.md Summary updated"
fi

((${#failed[@]} == 0))
