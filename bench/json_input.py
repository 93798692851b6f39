"""CPU time of the JSON checks every endpoint runs before parsing (boothsite.parsers).

For each body, prints the depth scan's time (``json_depth``), the whole check and parse
(``parse_json_object``), and the reference measured in the same run: the time of
``json.loads`` alone on the same body (the scan's cost as a ratio of it). Bodies: the
kiosk's own upload (a 640x480 PNG data URL, and the largest a 10 MB photo allows) and
hostile ones at the 14 MB body cap (RELIABILITY 71).

    .venv/bin/python bench/json_input.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import io
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def bodies() -> dict[str, bytes]:
    from PIL import Image

    frame = Image.effect_noise((640, 480), 64).convert("RGB")
    buffer = io.BytesIO()
    frame.save(buffer, "PNG")
    small = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    large = "data:image/png;base64," + base64.b64encode(os.urandom(10_000_000)).decode()
    cap = 13_900_000
    return {
        "kiosk frame (640x480 PNG data URL)": json.dumps({"image": small}).encode(),
        "10 MB photo as a data URL": json.dumps({"image": large}).encode(),
        "100,000 deep": b"[" * 100_000 + b"]" * 100_000,
        "14 MB of [] pairs": b'{"a":[' + b"[]," * (cap // 3) + b"[]]}",
        "14 MB of depth-32 stacks": b'{"a":['
        + (b"[" * 30 + b"]" * 30 + b",") * (cap // 61)
        + b"1]}",
        "14 MB of escaped quotes": b'{"a":"' + b'\\"' * (cap // 2) + b'"}',
    }


def best_ms(function: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        with contextlib.suppress(Exception):  # a refused body is a result here
            function()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from boothsite import parsers

    print(f"{'body':36} {'MB':>5} {'depth':>5} {'scan ms':>8} {'check+parse':>11} "
          f"{'json.loads':>10} {'scan/loads':>10}")  # fmt: skip
    for name, body in bodies().items():
        depth = parsers.json_depth(body, limit=32)
        scan = best_ms(functools.partial(parsers.json_depth, body, limit=32), args.repeat)
        whole = best_ms(functools.partial(parsers.parse_json_object, body), args.repeat)
        reference = best_ms(functools.partial(json.loads, body), args.repeat)
        print(f"{name:36} {len(body) / 1e6:5.1f} {depth:5d} {scan:8.1f} {whole:11.1f} "
              f"{reference:10.1f} {scan / reference:10.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
