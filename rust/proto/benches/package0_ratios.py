#!/usr/bin/env python3
"""Print the Package #0 bench results as ratios (after
`cargo bench -p dmnonce-proto --bench package0`): each verify path against
the bare MD5/Base64 operations it needs, from the same run."""
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parents[3] / "target" / "criterion" / "package0"


def mean_ns(name):
    path = root / name.replace("/", "_") / "new" / "estimates.json"
    return json.loads(path.read_text())["mean"]["point_estimate"]


try:
    t = {n: mean_ns(n) for n in [
        "bare/md5-16B", "bare/md5-trigger", "bare/b64-16B",
        "bare/stored-3md5-2b64", "bare/fallback-text-4md5-2b64",
        "bare/fallback-zero-5md5-2b64", "decode",
        "verify/stored", "verify/fallback-text", "verify/fallback-zero",
        "verify/rejected", "decode+verify/stored"]}
except FileNotFoundError as e:
    sys.exit(f"no bench results ({e.filename}); run cargo bench -p dmnonce-proto --bench package0")

rows = [
    ("verify/stored", "bare/stored-3md5-2b64"),
    ("verify/fallback-text", "bare/fallback-text-4md5-2b64"),
    ("verify/fallback-zero", "bare/fallback-zero-5md5-2b64"),
    ("verify/rejected", "bare/fallback-zero-5md5-2b64"),
    ("verify/fallback-text", "verify/stored"),
    ("verify/fallback-zero", "verify/stored"),
    ("verify/rejected", "verify/stored"),
    ("decode+verify/stored", "verify/stored"),
    ("bare/stored-3md5-2b64", "bare/md5-16B"),
    ("bare/b64-16B", "bare/md5-16B"),
]
for a, b in rows:
    print(f"{a:24} / {b:30} = {t[a] / t[b]:6.2f}")
