"""Checks the message sequence charts of `dmnoncectl trace --svg` as a reader
of a bug report would see them (issue 18): the SVG parses as XML, holds one
arrow per message of the trace in order, and a headless Chromium
screenshot of it is not blank and shows both lifeline labels and
lifelines (pixels, not the file).

    python3 scripts/hardening/trace_svg.py DIR

DIR holds SCENARIO.svg with SCENARIO.json beside it (`dmnoncectl --json
trace ... --svg SCENARIO.svg > SCENARIO.json`, as scripts/field-test.sh
writes them). Geometry and colours are read from the SVG itself, so
nothing of rust/cli/src/trace/svg.rs is written twice. Needs Debian's
chromium (scripts/ci-deps.sh installs it). Exit status 1 on any failure.
"""

import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

SVG_NS = "{http://www.w3.org/2000/svg}"


def arrows(root):
    """(package, direction) of each <line class="msg">, in document order."""
    return [
        (int(e.get("data-package")), e.get("data-direction"))
        for e in root.iter(SVG_NS + "line")
        if e.get("class") == "msg"
    ]


def messages(trace):
    """(session id, package, direction) of each message step of the trace."""
    return [
        (s["session_id"], s["package"], s["direction"])
        for s in trace["steps"]
        if s["kind"] == "message"
    ]


def protocol_problems(msgs):
    """Where the messages break DM's package order: within a session the
    package numbers go up by one (a resend repeats one), the client sends
    the odd ones and the server the even ones."""
    problems = []
    last = {}
    for sid, pkg, direction in msgs:
        want = "to-server" if pkg % 2 else "to-device"
        if direction != want:
            problems.append(f"session {sid}: Pkg#{pkg} drawn {direction}, expected {want}")
        prev = last.get(sid, 0)
        if pkg not in (prev, prev + 1):
            problems.append(f"session {sid}: Pkg#{pkg} follows Pkg#{prev}")
        last[sid] = pkg
    return problems


# ------------------------------------------------------------------ PNG


def read_png(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit, non-interlaced
    RGB or RGBA PNG (what Chromium writes)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
    width, height = int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")
    depth, colour, interlace = header[8], header[9], header[12]
    channels = {2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"{path}: PNG depth {depth} colour type {colour} interlace {interlace} not read here")
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append([tuple(line[x * channels : x * channels + 3]) for x in range(width)])
        prev = line
    return width, height, rows


def colour(text):
    """#rgb or #rrggbb as (r, g, b)."""
    h = text.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return tuple(int(h[i : i + 2], 16) for i in (0, 2, 4))


def near(p, q, tolerance=48):
    return all(abs(a - b) <= tolerance for a, b in zip(p, q))


def screenshot(svg_path, png_path, width, height):
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--hide-scrollbars", "--force-device-scale-factor=1",
                f"--user-data-dir={profile}", f"--window-size={width},{height}",
                f"--screenshot={png_path}", "file://" + os.path.abspath(svg_path),
            ],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120,
        )


def pixel_problems(root, png_path):
    """What a reader would miss in the screenshot."""
    _, height, rows = read_png(png_path)
    problems = []
    flat = [p for row in rows for p in row]
    inked = sum(1 for p in flat if not near(p, (255, 255, 255), 16))
    if inked < len(flat) // 200 or len(set(flat)) < 3:
        problems.append(f"blank: {inked} of {len(flat)} pixels not white, {len(set(flat))} colours")
    children = list(root)
    for i, rect in enumerate(children):
        if rect.get("class") != "lifeline-label":
            continue
        label = children[i + 1]
        name = label.text
        x, y, w, h = (int(rect.get(k)) for k in ("x", "y", "width", "height"))
        fill, ink = colour(rect.get("fill")), colour(label.get("fill"))
        # Inside the border: mostly the box's fill, some of it the label's
        # letters (1 to 40 % of the pixels: there is text, and it is not a
        # solid block).
        box = [p for row in rows[y + 3 : y + h - 3] for p in row[x + 3 : x + w - 3]]
        filled = sum(1 for p in box if near(p, fill))
        letters = sum(1 for p in box if near(p, ink))
        if filled < len(box) // 2:
            problems.append(f"label {name!r}: box not drawn ({filled} of {len(box)} pixels in its fill)")
        if not len(box) // 100 <= letters <= len(box) * 2 // 5:
            problems.append(f"label {name!r}: {letters} of {len(box)} pixels in its text colour")
    for line in root.iter(SVG_NS + "line"):
        if line.get("class") != "lifeline":
            continue
        x, y1, y2 = int(line.get("x1")), int(line.get("y1")), min(int(line.get("y2")), height)
        stroke = colour(line.get("stroke"))
        hits = sum(
            1 for y in range(y1 + 1, y2 - 1) if any(near(p, stroke, 32) for p in rows[y][x - 2 : x + 3])
        )
        if hits < (y2 - y1) // 2:
            problems.append(f"lifeline at x={x}: {hits} of {y2 - y1} rows show it")
    return problems


def check(svg_path, json_path, work):
    with open(svg_path, encoding="utf-8") as f:
        text = f.read()
    root = ET.fromstring(text)  # raises on anything but well-formed XML
    with open(json_path, encoding="utf-8") as f:
        trace = json.load(f)
    msgs = messages(trace)
    problems = []
    drawn = arrows(root)
    if drawn != [(p, d) for _, p, d in msgs]:
        problems.append(f"arrows {drawn} are not the trace's messages {msgs}")
    problems += protocol_problems(msgs)
    png = os.path.join(work, os.path.basename(svg_path) + ".png")
    height = min(int(root.get("height")), 4000)
    screenshot(svg_path, png, int(root.get("width")), height)
    problems += pixel_problems(root, png)
    return len(drawn), problems


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: trace_svg.py DIR")
    folder = sys.argv[1]
    svgs = sorted(f for f in os.listdir(folder) if f.endswith(".svg"))
    if not svgs:
        sys.exit(f"trace_svg: no SVG in {folder}")
    failed = 0
    with tempfile.TemporaryDirectory() as work:
        for name in svgs:
            base = os.path.join(folder, name[: -len(".svg")])
            count, problems = check(base + ".svg", base + ".json", work)
            for p in problems:
                print(f"trace_svg: {name}: {p}")
            failed += bool(problems)
            verdict = "FAILED" if problems else "in order; the screenshot shows both lifelines and their labels"
            print(f"trace_svg: {name}: {count} message arrows, {verdict}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
