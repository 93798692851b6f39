"""Smile detection on GENKI-4K dev photos placed in 640x480 frames: accuracy and latency.

Placement (``place_in_frame``, seeded): each photo is scaled to a random height of 180
to 440 px (aspect kept, at most 620 px wide), which makes the face roughly 80 to 250 px
wide, as for a guest 0.5 to 1.5 m from a 640x480 webcam, and pasted at a random position
over one of three backgrounds picked at random: a plain colour, Gaussian noise, or a
smooth random colour gradient. Each photo is placed once, with the seed ``BENCH_SEED``.

Prints, for the held-out validation part of GENKI-4K dev (``is_validation``: 1 photo in
5 by a hash of its file name; never trained on) and for all 2,000 dev photos: faces
found, accuracy at the 0.5 threshold on frames with a face, ROC-AUC on those frames,
and the latency of the whole ``detect`` call per frame (median and p95, wall ms, one
core, one thread). The reference pipeline, OpenCV's Haar face + Haar smile cascades
(``bench.haar.HaarSmileDetector``, needs opencv-python-headless 4.x), runs in the
same process on the same frames, and the ratios are printed.

    .venv/bin/python bench/smile.py [--limit N] [--no-reference]

Pins itself to one core (``--cpu``, default 0). Exits 0 with a SKIP message when
../shared/data is absent.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.haar import HaarSmileDetector  # noqa: E402
from captures import smile  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
GENKI = DATA / "genki4k-dev"
BENCH_SEED = 4
FRAME_W, FRAME_H = 640, 480
REFERENCE = HaarSmileDetector.name


def get_detector(name: str) -> smile.SmileDetector:
    """The product's detector ``name``, or the Haar reference; ValueError if unavailable."""
    if name == REFERENCE:
        return HaarSmileDetector()
    return smile.get_detector(name)


def is_validation(file_name: str) -> bool:
    """Whether a GENKI-4K dev photo is in the held-out validation part (1 in 5, by hash)."""
    return int(hashlib.sha256(file_name.encode()).hexdigest(), 16) % 5 == 0


def genki_rows() -> list[tuple[str, int]]:
    """``(file name, smile 0/1)`` of every GENKI-4K dev photo, in labels.csv order."""
    with (GENKI / "labels.csv").open(newline="") as handle:
        return [(row["file"], int(row["smile"])) for row in csv.DictReader(handle)]


def place_in_frame(
    photo: Image.Image, rng: np.random.Generator
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Place a photo in a 640x480 RGB frame; return the frame and the photo's (x, y, w, h)."""
    height = int(rng.integers(180, 441))
    width = max(1, round(photo.width * height / photo.height))
    if width > FRAME_W - 20:
        width = FRAME_W - 20
        height = max(1, round(photo.height * width / photo.width))
    height = min(height, FRAME_H)
    scaled = np.asarray(photo.convert("RGB").resize((width, height), Image.Resampling.BILINEAR))
    kind = int(rng.integers(3))
    if kind == 0:
        frame = np.empty((FRAME_H, FRAME_W, 3), np.uint8)
        frame[:] = rng.integers(0, 256, 3, dtype=np.uint8)
    elif kind == 1:
        noise = rng.normal(rng.uniform(40, 215), rng.uniform(5, 50), (FRAME_H, FRAME_W, 3))
        frame = np.clip(noise, 0, 255).astype(np.uint8)
    else:
        coarse = Image.fromarray(rng.integers(0, 256, (3, 4, 3), dtype=np.uint8))
        frame = np.array(coarse.resize((FRAME_W, FRAME_H), Image.Resampling.BILINEAR))
    x = int(rng.integers(0, FRAME_W - width + 1))
    y = int(rng.integers(0, FRAME_H - height + 1))
    frame[y : y + height, x : x + width] = scaled
    return frame, (x, y, width, height)


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Mann-Whitney ROC-AUC (ties count a half); NaN without both classes."""
    pos = scores[labels == 1]
    neg = scores[labels == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def make_frames(limit: int | None) -> list[tuple[str, int, np.ndarray]]:
    rng = np.random.default_rng(BENCH_SEED)
    rows = genki_rows()
    frames = []
    for name, label in rows[:limit] if limit else rows:
        with Image.open(GENKI / "files" / name) as photo:
            frame, _ = place_in_frame(photo, rng)
        frames.append((name, label, frame))
    return frames


def measure(detector, frames) -> dict[str, dict[str, float]]:
    for _, _, frame in frames[:5]:  # warm-up: first-run allocations
        detector.detect(frame)
    records = []
    for name, label, frame in frames:
        started = time.perf_counter()
        result = detector.detect(frame)
        elapsed = (time.perf_counter() - started) * 1000.0
        records.append((is_validation(name), label, bool(result.faces), result.score, elapsed))
    out = {}
    for part in ("validation", "all dev"):
        rows = [r for r in records if r[0] or part == "all dev"]
        found = [r for r in rows if r[2]]
        labels = np.array([r[1] for r in found])
        scores = np.array([r[3] for r in found])
        times = np.array([r[4] for r in rows])
        accuracy = float(((scores >= 0.5) == (labels == 1)).mean()) if found else float("nan")
        out[part] = {
            "n": len(rows),
            "found": len(found) / len(rows),
            "accuracy": accuracy,
            "auc": roc_auc(labels, scores),
            "median_ms": float(np.median(times)),
            "p95_ms": float(np.percentile(times, 95)),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="first N photos only")
    parser.add_argument("--cpu", type=int, default=0, help="the one core to run on")
    parser.add_argument("--no-reference", action="store_true", help="skip the Haar reference")
    parser.add_argument(
        "--detector", default=smile.DEFAULT_DETECTOR, choices=sorted([*smile.DETECTORS, REFERENCE])
    )
    args = parser.parse_args()
    if not (GENKI / "labels.csv").is_file():
        print(f"SKIP: GENKI-4K dev data not found at {GENKI} (see ../shared/data/README.md)")
        return 0
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    started = time.perf_counter()
    frames = make_frames(args.limit)
    names = [args.detector]
    if not args.no_reference and args.detector != REFERENCE:
        names.append(REFERENCE)
    results = {}
    for name in names:
        try:
            results[name] = measure(get_detector(name), frames)
        except ValueError as exc:
            print(f"{name}: skipped ({exc})")
    n_val = sum(is_validation(name) for name, _, _ in frames)
    print(
        f"GENKI-4K dev photos in 640x480 frames (seed {BENCH_SEED}): {len(frames)} frames, "
        f"{n_val} in the validation split; one core, one thread"
    )
    print(
        f"{'detector':<14} {'part':<10} {'n':>5} {'found':>7} {'acc@0.5':>8} "
        f"{'ROC-AUC':>8} {'median ms':>10} {'p95 ms':>7}"
    )
    for name, parts in results.items():
        for part, m in parts.items():
            print(
                f"{name:<14} {part:<10} {m['n']:>5} {m['found']:>7.1%} {m['accuracy']:>8.3f} "
                f"{m['auc']:>8.3f} {m['median_ms']:>10.1f} {m['p95_ms']:>7.1f}"
            )
    if len(results) == 2:
        main_name, ref_name = names
        for part in ("validation", "all dev"):
            a, r = results[main_name][part], results[ref_name][part]
            print(
                f"{main_name} vs {ref_name} ({part}): "
                f"accuracy x{a['accuracy'] / r['accuracy']:.2f}, "
                f"faces found x{a['found'] / r['found']:.2f}, "
                f"p95 latency x{a['p95_ms'] / r['p95_ms']:.2f}"
            )
    print(f"bench took {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
