"""The seed's tint loop in pure Python: the independent reference for captures.imaging.

The seed ran this in the browser on canvas ``ImageData``:

    luma = 0.299 * r + 0.587 * g + 0.114 * b;
    data[i] = Math.round(factor_r * luma);   // and g, b

with ``factor_c = (filter_c * density + 255 * (100 - density)) / 25500``.  JavaScript
numbers are IEEE float64 and Python floats and numpy float64 give the same results
for the same operations in the same order (no fused multiply-add).  The vectorised
float64 reference is ``captures.imaging.seed_tint``; the tests check it against
``seed_tint_pixels`` here, and ``bench/imaging.py`` times this loop as the seed.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

SEED_TINTS: dict[str, tuple[tuple[int, int, int], int]] = {
    "grayscale": ((0xFF, 0xFF, 0xFF), 50),
    "sepia": ((0xAC, 0x7A, 0x33), 30),
    "green": ((0x19, 0xC9, 0x19), 30),
    "blue": ((0x1D, 0x35, 0xEA), 30),
}


def seed_factors(name: str) -> tuple[float, float, float]:
    color, density = SEED_TINTS[name]
    r, g, b = ((c * density + 255 * (100 - density)) / 25500 for c in color)
    return (r, g, b)


def js_math_round(x: float) -> int:
    """ECMAScript Math.round on the exact double: nearest integer, ties toward +inf.

    Not ``floor(x + 0.5)``, which rounds 0.49999999999999994 up; ``x - floor(x)`` is
    exact for |x| < 2**52.
    """
    whole = math.floor(x)
    return whole + 1 if x - whole >= 0.5 else whole


def seed_tint_pixels(rgb: bytes, name: str) -> bytes:
    """Tint packed RGB bytes with the seed's per-pixel loop, pure Python."""
    fr, fg, fb = seed_factors(name)
    out = bytearray(len(rgb))
    for i in range(0, len(rgb), 3):
        luma = 0.299 * rgb[i] + 0.587 * rgb[i + 1] + 0.114 * rgb[i + 2]
        out[i] = min(255, max(0, js_math_round(fr * luma)))
        out[i + 1] = min(255, max(0, js_math_round(fg * luma)))
        out[i + 2] = min(255, max(0, js_math_round(fb * luma)))
    return bytes(out)


def all_colours(first_red: int, reds: int) -> npt.NDArray[np.uint8]:
    """Return every (R, G, B) with R in [first_red, first_red + reds) as (n, 3) uint8."""
    r, g, b = np.meshgrid(
        np.arange(first_red, first_red + reds), np.arange(256), np.arange(256), indexing="ij"
    )
    return np.stack([r.ravel(), g.ravel(), b.ravel()], axis=1).astype(np.uint8)
