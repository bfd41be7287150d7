"""Issue 16's goals, checked against figures of one scripts/bench.sh run,
and the SVG plots of docs/performance/ (Python's standard library only).

Every goal lives here once: GOALS below. bench.sh's summary imports
goal_rows() for the table and write_plots() for the pictures.
"""

import html
import math
import pathlib

OPEN_SIZES = (1, 1_000, 10_000, 100_000)

# key -> (goal text, bound, direction): "max" = measured must be at most
# the bound, "min" = at least.
GOALS = {
    "resync_median": ("≤ 20 ms", 20.0, "max"),
    "resync_cpu": ("≤ 2 ms", 2.0, "max"),
    "open": ("≤ 1 ms", 1.0, "max"),
    "cred_rate": ("≥ 20,000/s", 20_000.0, "min"),
    "cred_vs_echo": ("≥ 0.3× the echo", 0.3, "min"),
    "rotation_wall": ("≤ 1.15×", 1.15, "max"),
    "rotation_instr": ("≤ 2×", 2.0, "max"),
    "pkg0_fallback": ("≤ 1.6×", 1.6, "max"),
    "pkg0_stored": ("≤ 1.0×", 1.0, "max"),
    "pkg0_floor_alloc": ("0", 0.0, "max"),
}


def _row(goal, what, measured, shown, anchor, kind):
    text, bound, direction = GOALS[goal]
    met = measured <= bound if direction == "max" else measured >= bound
    # Share of the goal used (1.0 = exactly at the goal, above 1 = missed),
    # for the plot; a bound of 0 (no allocation) has no share.
    if bound == 0:
        share = 0.0 if measured == 0 else float("inf")
    elif direction == "max":
        share = measured / bound
    else:
        share = bound / measured if measured else float("inf")
    return {"what": what, "measured": shown, "anchor": anchor, "kind": kind,
            "goal": text, "met": met, "share": share}


def goal_rows(means, rt, daemon, rotation_instr, allocations):
    """The rows of issue 16's table from this run's figures.

    means: criterion id -> mean ns; rt: roundtrip.py's JSON (or None);
    daemon: measure-daemon.sh's MEASURE_JSON (or None); rotation_instr:
    {"sqlcipher": n, "plain-sqlite": n} instructions per rotation (or None);
    allocations: {"floor": n, "verify": n} per 100 calls (or None).
    A row whose figures this run lacks says so instead of a verdict.
    """
    rows, missing = [], []
    if daemon and "md5/xml" in daemon["sessions"]:
        s, alert = daemon["sessions"]["md5/xml"], daemon["alert_median_ms"]
        rows.append(_row("resync_median",
                         f"loopback resync session md5/xml, push to `resync-finished`, "
                         f"median of {s['n']}",
                         s["median_ms"], f"{s['median_ms']:.1f} ms (min {s['min_ms']:.1f})",
                         f"stored-nonce push to `alert`: {alert:.2f} ms; "
                         f"ratio {s['median_ms'] / alert:.0f}", "wall"))
        rows.append(_row("resync_cpu", "daemon CPU per resync session md5/xml",
                         s["daemon_cpu_ms"], f"{s['daemon_cpu_ms']:.2f} ms",
                         f"stored-nonce push to `alert` (wall): {alert:.2f} ms",
                         "CPU time (user + system, clock ticks summed over the sessions)"))
    else:
        missing.append("loopback resync session (scripts/measure-daemon.sh)")
    for n in OPEN_SIZES:
        a, b = means.get(f"open-by-size/{n}"), means.get(f"open-by-size/plain-{n}")
        if a is None or b is None:
            missing.append(f"store open at {n:,} accounts")
            continue
        rows.append(_row("open", f"store open + first query, raw key, {n:,} account{'s' if n > 1 else ''}",
                         a / 1e6, f"{a / 1e6:.2f} ms",
                         f"plain SQLite, same pragmas and accounts: {b / 1e6:.2f} ms; "
                         f"ratio {a / b:.2f}", "wall (criterion mean)"))
    if rt:
        cred, echo = rt["client_cred"]["median_us"], rt["echo"]["median_us"]
        rows.append(_row("cred_rate", "`client_cred` round trips, one client",
                         1e6 / cred, f"{1e6 / cred:,.0f}/s",
                         f"bare Unix-socket line echo, same client: {1e6 / echo:,.0f}/s",
                         f"wall (median of {rt['client_cred']['n']} round trips)"))
        rows.append(_row("cred_vs_echo", "`client_cred` / line echo, round trips per second",
                         echo / cred, f"{echo / cred:.2f}×", "the echo above", "wall"))
    else:
        missing.append("`client_cred` round trips (scripts/hardening/roundtrip.py)")
    a, b = means.get("rotation/sqlcipher"), means.get("rotation/plain-sqlite")
    if a and b:
        rows.append(_row("rotation_wall", "nonce rotation, SQLCipher / plain SQLite",
                         a / b, f"{a / b:.2f}×",
                         f"plain SQLite, same schema and pragmas: {b / 1e6:.2f} ms",
                         "wall (criterion mean; fsync-bound)"))
    else:
        missing.append("nonce rotation, wall")
    if rotation_instr:
        a, b = rotation_instr["sqlcipher"], rotation_instr["plain-sqlite"]
        rows.append(_row("rotation_instr", "nonce rotation, SQLCipher / plain SQLite",
                         a / b, f"{a / b:.2f}×",
                         f"plain SQLite: {b:,.0f} instructions per rotation",
                         "instructions (valgrind cachegrind, user space)"))
    else:
        missing.append("nonce rotation, instructions (valgrind)")
    floor = means.get("package0/bare/stored-3md5-2b64")
    for goal, bench, what in [
        ("pkg0_fallback", "package0/verify/fallback-zero",
         "Package #0 verify, full fallback (stored and text fail, zero bytes match)"),
        ("pkg0_stored", "package0/verify/stored", "Package #0 verify, stored nonce"),
    ]:
        m = means.get(bench)
        if m and floor:
            rows.append(_row(goal, what, m / floor, f"{m / floor:.2f}×",
                             f"bare 3 MD5 + 2 Base64 floor: {floor:.0f} ns",
                             "wall (criterion mean)"))
        else:
            missing.append(what)
    if allocations:
        rows.append(_row("pkg0_floor_alloc", "heap allocations of the floor, per 100 calls",
                         allocations["floor"], str(allocations["floor"]),
                         f"verify, stored nonce: {allocations['verify']}",
                         "counting global allocator in the bench"))
    else:
        missing.append("allocations of the floor")
    return rows, missing


def goal_table(rows, missing):
    out = ["| what | measured | anchor in the same run | measured as | goal | |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['what']} | {r['measured']} | {r['anchor']} | {r['kind']} | "
                   f"{r['goal']} | {'met' if r['met'] else '**NOT met**'} |")
    for m in missing:
        out.append(f"| {m} | not measured in this run | | | | |")
    return "\n".join(out)


def _svg(width, height, body):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">\n'
            f'<rect width="{width}" height="{height}" fill="white"/>\n'
            + "\n".join(body) + "\n</svg>\n")


def _text(x, y, s, anchor="start", size=12, weight="normal"):
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'font-weight="{weight}">{html.escape(s)}</text>')


def ratios_svg(rows, title):
    """One bar per goal: the share of the goal used (measured / bound, or
    bound / measured for an at-least goal), with the goal at 1."""
    plotted = [r for r in rows if math.isfinite(r["share"]) and r["share"] > 0]
    left, bar_w, row_h, top = 430, 300, 26, 50
    scale_max = max([2.0] + [min(r["share"], 4.0) for r in plotted])
    height = top + row_h * len(plotted) + 50
    width = left + bar_w + 170
    x = lambda v: left + bar_w * min(v, scale_max) / scale_max
    body = [_text(10, 22, title, size=14, weight="bold"),
            _text(10, 40, "bar: measured as a share of its goal (1 = at the goal; "
                          "green met, red not met; past 4 the bar is cut)", size=11)]
    for i, r in enumerate(plotted):
        y = top + i * row_h
        colour = "#3a7d44" if r["met"] else "#c0392b"
        label = r["what"] if len(r["what"]) <= 68 else r["what"][:66] + "…"
        body.append(_text(left - 8, y + 16, label, anchor="end", size=11))
        body.append(f'<rect x="{left}" y="{y + 4}" width="{x(r["share"]) - left:.1f}" '
                    f'height="{row_h - 8}" fill="{colour}"/>')
        body.append(_text(x(r["share"]) + 4, y + 16, f"{r['measured']} (goal {r['goal']})",
                          size=11))
    gx = x(1.0)
    bottom = top + row_h * len(plotted)
    body.append(f'<line x1="{gx:.1f}" y1="{top - 4}" x2="{gx:.1f}" y2="{bottom + 4}" '
                f'stroke="black" stroke-width="2" stroke-dasharray="5,3"/>')
    body.append(_text(gx, bottom + 18, "goal", anchor="middle", size=11))
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{left + bar_w}" y2="{bottom}" '
                f'stroke="#888"/>')
    for v in (0, 1, 2, 3, 4):
        if v <= scale_max:
            body.append(_text(x(v), bottom + 34, f"{v}", anchor="middle", size=10))
    return _svg(width, height, body)


def open_svg(means, title):
    """Store open + first query (ms) against the number of accounts (log
    scale), SQLCipher and plain SQLite, with the 1 ms goal."""
    series = {"SQLCipher, raw key": ("", "#1f5fa8"), "plain SQLite": ("plain-", "#999999")}
    pts = {name: [(n, means[f"open-by-size/{p}{n}"] / 1e6) for n in OPEN_SIZES
                  if f"open-by-size/{p}{n}" in means] for name, (p, _) in series.items()}
    left, top, w, h = 70, 50, 420, 240
    ymax = max([GOALS["open"][1] * 1.5] + [v for s in pts.values() for _, v in s]) * 1.1
    xs = lambda n: left + w * math.log10(n) / math.log10(OPEN_SIZES[-1])
    ys = lambda v: top + h - h * v / ymax
    body = [_text(10, 22, title, size=14, weight="bold"),
            f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="black"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + h}" stroke="black"/>',
            _text(left + w / 2, top + h + 40, "accounts in the store (log scale)",
                  anchor="middle"),
            f'<text x="18" y="{top + h / 2}" transform="rotate(-90 18 {top + h / 2})" '
            f'text-anchor="middle">open + first query (ms)</text>']
    for n in OPEN_SIZES:
        body.append(_text(xs(n), top + h + 18, f"{n:,}", anchor="middle", size=11))
    step = 10 ** math.floor(math.log10(ymax / 2)) if ymax > 0 else 1
    v = 0.0
    while v <= ymax:
        body.append(_text(left - 6, ys(v) + 4, f"{v:g}", anchor="end", size=10))
        v += step if ymax / step <= 10 else step * 5
    gy = ys(GOALS["open"][1])
    body.append(f'<line x1="{left}" y1="{gy:.1f}" x2="{left + w}" y2="{gy:.1f}" '
                f'stroke="#c0392b" stroke-width="2" stroke-dasharray="5,3"/>')
    body.append(_text(left + w + 4, gy + 4, f"goal {GOALS['open'][0]}", size=11))
    for i, (name, (_, colour)) in enumerate(series.items()):
        p = pts[name]
        if p:
            body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
                        + " ".join(f"{xs(n):.1f},{ys(v):.1f}" for n, v in p) + '"/>')
            for n, v in p:
                body.append(f'<circle cx="{xs(n):.1f}" cy="{ys(v):.1f}" r="3.5" '
                            f'fill="{colour}"/>')
        body.append(f'<rect x="{left + 10}" y="{top + 6 + i * 18}" width="12" height="12" '
                    f'fill="{colour}"/>')
        body.append(_text(left + 28, top + 16 + i * 18, name, size=11))
    return _svg(left + w + 90, top + h + 60, body)


def write_plots(rows, means, outdir, stamp):
    """Writes ratios.svg and store-open.svg into outdir; returns their names."""
    outdir = pathlib.Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "ratios.svg").write_text(
        ratios_svg(rows, f"Issue 16 goals, scripts/bench.sh {stamp}"), encoding="utf-8")
    (outdir / "store-open.svg").write_text(
        open_svg(means, f"Store open time by size, scripts/bench.sh {stamp}"),
        encoding="utf-8")
    return ["ratios.svg", "store-open.svg"]
