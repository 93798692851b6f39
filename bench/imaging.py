"""Benchmark captures.imaging against the seed's per-pixel loop, in the same process.

Usage (from the repository root):

    .venv/bin/python bench/imaging.py [--data ../shared/data/genki4k-dev] [--n 20]

Photos come from the genki4k-dev set (small face crops, about 180x192), centre-cropped
and upscaled to 640x480 and 1920x1080, then JPEG-encoded at quality 92 as booth
uploads.  Upscaled photos are smoother than camera frames, so JPEG coding is somewhat
cheaper than on real 640x480 webcam frames.

Each row times our code (median and 95th percentile of ``--n`` runs after two warm-up
runs) next to the same job done the seed's way: its JavaScript per-pixel loop in pure
Python (``seed_tint_pixels`` in ``tests/captures/imaging_reference.py``), with PNG
output as its ``canvas.toDataURL()`` gave (fewer runs: it is slow).  Times are CPU
milliseconds of this thread (``time.thread_time``), with the process pinned to one CPU
(``--cpu``) and BLAS threads set to 1.

The capture rows time exactly what the product runs for one photo with an event's
defaults (the seed's four filters, identity adjustments, JPEG variants, the settings'
default quality and thumbnail side): "upload" is the upload request
(``decode_upload`` + ``encode_original``), "task" the ``render_variants`` Celery task
on the stored original (decoded as ``services._load`` does, then
``render_variant_files``), and "whole capture" both in turn.

The animated strip rows (``animated``: four frames fitted to 480x360, 0.8 s each) time
the WebP and the GIF the strips task stores, and the whole task's work
(``render_strip_file``: both files and the JPEG still).  The seed made no animation, so
their reference, in the same run, is a GIF the way Pillow makes one by default: the
frames at 480x360 saved as is, each quantised to its own adaptive palette (median
cut).  A line then gives each file's size and
its mean absolute error against the frames.

Then the exactness check: pixels of our seed tints that differ from the float64 seed,
on every frame used (``imaging.seed_tint``) and on the frames the pure-Python loop
ran on, and over all 16,777,216 colours (``--no-exhaustive`` skips it).
"""

from __future__ import annotations

import argparse
import gc
import io
import math
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import PIL
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "genki4k-dev"
SIZES = {"640x480": (640, 480), "1920x1080": (1920, 1080)}

# ---- The seed's way ------------------------------------------------------------


def seed_png(rgb, size):
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, rgb).save(buffer, "PNG")  # zlib default, as toDataURL
    return buffer.getvalue()


def seed_capture(upload, names, tint_loop):
    """Decode, tint with the loop, store the original and each tint as PNG."""
    image = Image.open(io.BytesIO(upload)).convert("RGB")
    rgb = image.tobytes()
    return [seed_png(rgb, image.size)] + [
        seed_png(tint_loop(rgb, name), image.size) for name in names
    ]


def seed_draw(canvas, canvas_width, rgb, size, box):
    """Canvas drawImage, nearest neighbour, of the centre crop of rgb to box's aspect."""
    x0, y0, w, h = box
    sw, sh = size
    crop_w, crop_h = (sh * w // h, sh) if sw * h > sh * w else (sw, sw * h // w)
    left, top = (sw - crop_w) // 2, (sh - crop_h) // 2
    columns = [3 * (left + x * crop_w // w) for x in range(w)]
    for y in range(h):
        row = 3 * sw * (top + y * crop_h // h)
        at = 3 * ((y0 + y) * canvas_width + x0)
        for column in columns:
            canvas[at : at + 3] = rgb[row + column : row + column + 3]
            at += 3


def seed_strip(frames, canvas_size, boxes):
    width, height = canvas_size
    canvas = bytearray(b"\xff" * (3 * width * height))
    for (rgb, size), box in zip(frames, boxes, strict=True):
        seed_draw(canvas, width, rgb, size, box)
    return seed_png(bytes(canvas), canvas_size)


# ---- Harness -----------------------------------------------------------------------


def cpu_ms(job: Callable[[int], Any], runs: int, warmup: int) -> tuple[list[float], int]:
    """Return the CPU ms of each run and the minor page faults per run."""
    for i in range(warmup):
        job(i)
    gc.collect()
    times = []
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for i in range(runs):
        start = time.thread_time()
        job(i)
        times.append((time.thread_time() - start) * 1000)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return times, faults // max(1, runs)


def p95(times):
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def load_photos(data, count):
    files = sorted((data / "files").glob("*.jpg"))
    step = max(1, len(files) // count)
    return [Image.open(f).convert("RGB") for f in files[::step][:count]], len(files)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--n", type=int, default=20, help="runs of our code per row")
    parser.add_argument("--seed-n", type=int, default=2, help="seed runs per 640x480 row")
    parser.add_argument("--images", type=int, default=6, help="photos to use")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: last)")
    parser.add_argument("--no-exhaustive", action="store_true")
    args = parser.parse_args(argv)

    if not (args.data / "files").is_dir():
        print(f"skipped: no photo folder {args.data / 'files'} (pass --data)")
        return 0
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if hasattr(os, "sched_setaffinity"):
        cpu = args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
    else:
        cpu = None
    sys.path.insert(0, str(ROOT))
    import numpy as np
    from PIL import features

    from captures import imaging
    from tests.captures.imaging_reference import all_colours, seed_tint_pixels

    started = time.perf_counter()
    photos, available = load_photos(args.data, args.images)
    frames = {
        label: [ImageOps.fit(p, size, Image.Resampling.LANCZOS) for p in photos]
        for label, size in SIZES.items()
    }
    uploads = {label: [_jpeg(f) for f in fs] for label, fs in frames.items()}
    seeds = list(imaging.SEED_FILTERS)
    print(
        f"captures.imaging vs the seed: {len(photos)} of {available} genki4k-dev photos, "
        f"CPU ms of one thread pinned to CPU {cpu}; Pillow {PIL.__version__}, "
        f"numpy {np.__version__}, libjpeg-turbo {features.version('libjpeg_turbo')}\n"
        "seed = pure-Python per-pixel loop, PNG output; x = seed median / ours median; "
        "faults = minor page faults per run of ours"
    )
    header = (
        f"{'job':32} {'size':11} {'ours med':>8} {'p95':>7} {'faults':>6} "
        f"{'seed med':>9} {'x':>6}  runs"
    )
    print(header)
    print("-" * len(header))
    seed_outputs: dict[tuple[str, int], dict[str, bytes]] = {}

    def row(job, size, ours, seed=None, seed_runs=0):
        mine, faults = cpu_ms(ours, args.n, warmup=2)
        ours_med = statistics.median(mine)
        versus = f"{'-':>9} {'-':>6}  {args.n}/0"
        if seed is not None:
            theirs, _ = cpu_ms(seed, seed_runs, warmup=0)
            seed_med = statistics.median(theirs)
            versus = f"{seed_med:9.0f} {seed_med / ours_med:5.0f}x  {args.n}/{seed_runs}"
        print(f"{job:32} {size:11} {ours_med:8.2f} {p95(mine):7.2f} {faults:6} {versus}")

    for label in SIZES:
        fs = frames[label]
        seed_runs = args.seed_n if label == "640x480" else 1

        def seed_filters(i, fs=fs, label=label):
            frame = fs[i % len(fs)]
            rgb = frame.tobytes()
            seed_outputs[(label, i % len(fs))] = {n: seed_tint_pixels(rgb, n) for n in seeds}

        row(
            "4 seed filters -> RGB images",
            label,
            lambda i, fs=fs: imaging.render_variants(fs[i % len(fs)], seeds),
            seed_filters,
            seed_runs,
        )
    for layout in ("horizontal_4", "classic_2x6"):
        for label in SIZES:
            fs = frames[label]
            quad = [fs[i % len(fs)] for i in range(4)]
            spec = imaging.STRIP_LAYOUTS[layout]
            title = "Ada & Grace, 21 Nov 2026" if spec.band_height else None
            raw = [(f.tobytes(), f.size) for f in quad]
            row(
                f"strip {layout} -> JPEG",
                f"4x{label}",
                lambda i, quad=quad, layout=layout, title=title: imaging.encode_image(
                    imaging.compose_strip(quad, layout, title=title)
                ),
                lambda i, raw=raw, spec=spec: seed_strip(
                    raw, spec.canvas_size(4), spec.frame_boxes(4)
                ),
                1,
            )
    # The event logo in the print strip's footer (an 800x266 RGBA logo, as stored).
    logo = Image.new("RGBA", (800, 266), (0, 0, 0, 0))
    logo.paste((214, 51, 108, 255), (20, 20, 780, 246))
    spec = imaging.STRIP_LAYOUTS["classic_2x6"]
    for label in SIZES:
        quad = [frames[label][i % len(frames[label])] for i in range(4)]
        raw = [(f.tobytes(), f.size) for f in quad]
        row(
            "strip classic_2x6 + logo -> JPEG",
            f"4x{label}",
            lambda i, quad=quad: imaging.encode_image(
                imaging.compose_strip(quad, "classic_2x6", title="Ada & Grace", logo=logo)
            ),
            lambda i, raw=raw: seed_strip(raw, spec.canvas_size(4), spec.frame_boxes(4)),
            1,
        )

    # The animated strip: WebP and GIF against Pillow's default GIF (see the docstring).
    animated = imaging.STRIP_LAYOUTS["animated"]
    sizes_line = ""
    for label in SIZES:
        quad = [frames[label][i % len(frames[label])] for i in range(4)]
        fitted = imaging.compose_animation(quad)

        def default_gif(i, quad=quad):
            shown = [ImageOps.fit(f, (animated.width, animated.height)) for f in quad]
            return _pillow_default_gif(shown, animated.frame_ms)

        row(
            "strip animated -> WebP",
            f"4x{label}",
            lambda i, quad=quad: imaging.encode_animated_webp(
                imaging.compose_animation(quad), animated.frame_ms
            ),
            default_gif,
            args.seed_n,
        )
        row(
            "strip animated -> GIF",
            f"4x{label}",
            lambda i, quad=quad: imaging.encode_animated_gif(
                imaging.compose_animation(quad), animated.frame_ms
            ),
            default_gif,
            args.seed_n,
        )
        row(
            "strip task: animated WebP+GIF",
            f"4x{label}",
            lambda i, quad=quad: imaging.render_strip_file(quad, "animated"),
            default_gif,
            args.seed_n,
        )
        if not sizes_line:
            files = {
                "WebP": imaging.encode_animated_webp(fitted, animated.frame_ms),
                "GIF": imaging.encode_animated_gif(fitted, animated.frame_ms),
                "Pillow's default GIF": _pillow_default_gif(fitted, animated.frame_ms),
            }
            sizes_line = "animated strip (4 frames of 480x360): " + "; ".join(
                f"{name} {len(data) / 1024:.0f} KB, error {_animation_error(np, data, fitted):.1f}"
                for name, data in files.items()
            )
    print(sizes_line + " (error: mean absolute difference from the frames, 0-255)")

    # The product's capture pipeline (captures.services) with an event's defaults.
    def upload_request(upload):
        return imaging.encode_original(imaging.decode_upload(upload))

    def variants_task(stored):
        opened = Image.open(io.BytesIO(stored), formats=imaging.ALLOWED_FORMATS)
        opened.load()
        image = opened.convert("RGB") if opened.mode != "RGB" else opened
        return imaging.render_variant_files(image, seeds, imaging.Adjustments(), fmt="JPEG")

    for label in SIZES:
        ups = uploads[label]
        stored = [upload_request(up).data for up in ups]
        row(
            "capture upload: decode+original",
            label,
            lambda i, ups=ups: upload_request(ups[i % len(ups)]),
        )
        row(
            "capture task: 4 filters -> JPEG",
            label,
            lambda i, st=stored: variants_task(st[i % len(st)]),
        )
        row(
            "whole capture: upload + task",
            label,
            lambda i, ups=ups: variants_task(upload_request(ups[i % len(ups)]).data),
            lambda i, ups=ups: seed_capture(ups[i % len(ups)], seeds, seed_tint_pixels),
            args.seed_n if label == "640x480" else 1,
        )

    # ---- Exactness ----------------------------------------------------------------
    compared = differ = 0
    for fs in frames.values():
        for frame in fs:
            ours = imaging.render_variants(frame, seeds)
            rgb = np.asarray(frame)
            for name in seeds:
                expected = imaging.seed_tint(rgb, name)
                differ += int(np.any(np.asarray(ours[name]) != expected, axis=2).sum())
                compared += rgb.shape[0] * rgb.shape[1]
    loop_compared = loop_differ = 0
    for (label, index), outputs in seed_outputs.items():
        frame = frames[label][index]
        ours = imaging.render_variants(frame, seeds)
        for name, expected_bytes in outputs.items():
            got = np.asarray(ours[name]).reshape(-1, 3)
            want = np.frombuffer(expected_bytes, dtype=np.uint8).reshape(-1, 3)
            loop_differ += int(np.any(got != want, axis=1).sum())
            loop_compared += len(want)
    print(
        f"exactness: {differ} of {compared:,} filtered pixels differ from the float64 seed "
        f"(numpy, {sum(map(len, frames.values()))} frames); {loop_differ} of "
        f"{loop_compared:,} from the pure-Python loop ({len(seed_outputs)} frames)"
    )
    if not args.no_exhaustive:
        print(_exhaustive(np, imaging, seeds, all_colours))
    print(f"total wall time {time.perf_counter() - started:.0f} s")
    return 0


def _jpeg(image):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def _pillow_default_gif(frames, frame_ms):
    """A looping GIF as Pillow saves one by default: a median-cut palette per frame."""
    buffer = io.BytesIO()
    frames[0].save(
        buffer, "GIF", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0
    )
    return buffer.getvalue()


def _animation_error(np, data, frames):
    """Mean absolute difference, 0-255, of an animation's frames from ``frames``."""
    from PIL import ImageSequence

    decoded = [f.convert("RGB") for f in ImageSequence.Iterator(Image.open(io.BytesIO(data)))]
    return statistics.fmean(
        float(np.abs(np.asarray(got, np.int16) - np.asarray(want, np.int16)).mean())
        for got, want in zip(decoded, frames, strict=True)
    )


def _exhaustive(np, imaging, seeds, all_colours):
    """Every 24-bit colour through render_variants, against the float64 seed."""
    start = time.perf_counter()
    differ = 0
    for first_red in range(0, 256, 16):
        colours = all_colours(first_red, 16)
        image = Image.frombytes("RGB", (4096, 256), colours.tobytes())
        ours = imaging.render_variants(image, seeds)
        for name in seeds:
            got = np.asarray(ours[name]).reshape(-1, 3)
            differ += int((got != imaging.seed_tint(colours, name)).sum())
    return (
        f"exhaustive: {differ} of {256**3:,} colours x {len(seeds)} filters x 3 channels "
        f"differ from the float64 seed ({time.perf_counter() - start:.1f} s)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
