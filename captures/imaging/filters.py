"""Filters: the seed's tints (bit-exact with its float64 JavaScript) and channel masks.

The tints reproduce the seed's browser JavaScript bit for bit (DESIGN.md section 7):
``luma = 0.299*R + 0.587*G + 0.114*B`` in float64, evaluated left to right,
``factor_c = (filter_c*density + 255*(100 - density)) / 25500`` and
``out_c = Math.round(factor_c * luma)``.  ``seed_tint`` is the one float64
transcription of that formula; ``_tint_tables`` explains how a lookup table indexed by
an integer luma key reproduces its results exactly, and falls back to it on ties.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from PIL import Image

from captures.imaging._pillow import as_rgb, plain_image

FilterKind = Literal["tint", "channel"]


@dataclass(frozen=True)
class Filter:
    """One named filter: a seed tint or a channel mask.

    A ``"tint"`` multiplies the seed luma by one factor per channel derived from
    ``color`` (8-bit RGB) and ``density`` (percent, 0 to 100).  A ``"channel"``
    filter keeps the channels whose ``keep`` flag is set and zeroes the others (the
    LucidMach seed's red-only, no-red and so on).
    """

    name: str
    label: str
    kind: FilterKind
    color: tuple[int, int, int] = (255, 255, 255)
    density: int = 0
    keep: tuple[bool, bool, bool] = (True, True, True)

    def __post_init__(self) -> None:
        if self.kind not in ("tint", "channel"):
            raise ValueError(f"unknown filter kind {self.kind!r}")
        if not 0 <= self.density <= 100 or any(not 0 <= c <= 255 for c in self.color):
            raise ValueError("tint colour must be 8-bit and density 0..100")

    @property
    def numerators(self) -> tuple[int, int, int]:
        """Return the exact integers ``filter_c*density + 255*(100 - density)``."""
        rest = 255 * (100 - self.density)
        r, g, b = (c * self.density + rest for c in self.color)
        return (r, g, b)

    @property
    def factors(self) -> tuple[float, float, float]:
        """Return the seed's float64 factors, ``numerator / 25500`` per channel."""
        r, g, b = (n / 25500 for n in self.numerators)
        return (r, g, b)

    @property
    def is_gray(self) -> bool:
        """Whether the output always has R == G == B (a tint with equal factors)."""
        return self.kind == "tint" and len(set(self.color)) == 1


def _tint(name: str, label: str, color: int, density: int) -> Filter:
    rgb = ((color >> 16) & 0xFF, (color >> 8) & 0xFF, color & 0xFF)
    return Filter(name, label, "tint", color=rgb, density=density)


def _mask(name: str, label: str, keep: tuple[bool, bool, bool]) -> Filter:
    return Filter(name, label, "channel", keep=keep)


FILTERS: Final[Mapping[str, Filter]] = MappingProxyType(
    {
        f.name: f
        for f in (
            _tint("grayscale", "Grayscale", 0xFFFFFF, 50),
            _tint("sepia", "Sepia", 0xAC7A33, 30),
            _tint("green", "Green", 0x19C919, 30),
            _tint("blue", "Blue", 0x1D35EA, 30),
            _mask("red_only", "Red only", (True, False, False)),
            _mask("green_only", "Green only", (False, True, False)),
            _mask("blue_only", "Blue only", (False, False, True)),
            _mask("no_red", "No red", (False, True, True)),
            _mask("no_green", "No green", (True, False, True)),
            _mask("no_blue", "No blue", (True, True, False)),
        )
    }
)
#: The seed's filters: exactly the tints, in registry order.
SEED_FILTERS: Final[tuple[str, ...]] = tuple(
    name for name, f in FILTERS.items() if f.kind == "tint"
)

# Luma key: k = 299 R + 587 G + 114 B is 1000 times the exact (real-number) seed luma.
_KEY_WEIGHTS: Final = (299, 587, 114)
_KEY_COUNT: Final = 255 * 1000 + 1
# factor_c * luma = F_c * k / 25_500_000 exactly, so twice that is an odd multiple of
# 25_500_000 over 51_000_000 exactly when the seed's value is a rounding tie.
_TIE_MODULUS: Final = 51_000_000
_TIE_RESIDUE: Final = 25_500_000
# Pixels are uint32 R | G << 8 | B << 16 | X << 24, that is RGBX bytes in memory on
# the little-endian machines we run on (x86-64, arm64).  X is 0xFF, as Pillow keeps
# it; 0x00 in a table entry marks a key to recompute in float64.
_OPAQUE: Final = 0xFF000000


@cache
def _tint_tables() -> Mapping[str, npt.NDArray[np.uint32]]:
    """Build one RGBX lookup table per tint, indexed by the luma key.

    Why a table indexed by ``k = 299R + 587G + 114B`` is exact: the seed's value
    ``x = factor_c * luma`` is the real number ``F_c * k / 25.5e6`` plus float64
    error.  That error is below 3e-13 (three representation errors of the weights, five
    roundings of values under 256 and the factor's own rounding, each at most 2^-45),
    while ``n + 0.5`` and the exact value are both multiples of 1/25.5e6, so a value
    that is not a rounding tie lies at least 1/25.5e6 (about 4e-8) from it.  So every
    RGB triple with a non-tie key rounds like the exact value; that value is computed
    in integers here.  Keys that are a tie for any channel of any tint (263 of 255,001;
    grayscale's ``k % 1000 == 500`` are most of them) may round either way depending
    on the triple: their entries carry X = 0 and ``tint_arrays`` recomputes those
    pixels with ``seed_tint``.  ``tests/captures/test_imaging.py`` and
    ``bench/imaging.py`` check all 16,777,216 colours against ``seed_tint``.
    """
    k = np.arange(_KEY_COUNT, dtype=np.int64)
    tints = [FILTERS[name] for name in SEED_FILTERS]
    recompute = np.zeros(_KEY_COUNT, dtype=bool)
    packed: dict[str, npt.NDArray[np.uint32]] = {}
    for tint in tints:
        table = np.zeros(_KEY_COUNT, dtype=np.uint32)
        for channel, numerator in enumerate(tint.numerators):
            twice = 2 * numerator * k
            recompute |= twice % _TIE_MODULUS == _TIE_RESIDUE
            value = np.minimum((twice + _TIE_RESIDUE) // _TIE_MODULUS, 255)
            table |= value.astype(np.uint32) << (8 * channel)
        packed[tint.name] = table
    alpha = np.where(recompute, np.uint32(0), np.uint32(_OPAQUE)).astype(np.uint32)
    return MappingProxyType({name: table | alpha for name, table in packed.items()})


def seed_tint(rgb: npt.NDArray[np.uint8], name: str) -> npt.NDArray[np.uint8]:
    """Tint (..., 3) uint8 RGB pixels the seed's way, in float64: the reference.

    The one transcription of the seed's JavaScript (DESIGN.md section 7), the same
    operations in the same order, as IEEE float64 like JavaScript numbers:
    ``luma = 0.299*R + 0.587*G + 0.114*B`` left to right, ``factor_c * luma`` with
    ``Filter.factors``, then ECMAScript ``Math.round`` on the exact double (nearest,
    ties up: ``x - floor(x) >= 0.5``, exact below 2**52; not ``floor(x + 0.5)``, which
    rounds 0.49999999999999994 up), clipped to 0..255.  Returns an array of the
    input's shape.  ``render_variants`` falls back to it on rounding ties; the tests
    and ``bench/imaging.py`` check the tables against it and it against a per-pixel
    pure-Python loop.

    :raises ValueError: for a name that is not a tint of ``FILTERS``.
    """
    tint = get_filter(name)
    if tint.kind != "tint":
        raise ValueError(f"{name!r} is not a tint")
    px = rgb.astype(np.float64)
    luma = 0.299 * px[..., 0] + 0.587 * px[..., 1] + 0.114 * px[..., 2]
    out = np.empty(rgb.shape, dtype=np.uint8)
    for channel, factor in enumerate(tint.factors):
        x = factor * luma
        whole = np.floor(x)
        out[..., channel] = np.clip(whole + (x - whole >= 0.5), 0, 255)
    return out


# The key and index are built in chunks that stay in cache; outputs are full size.
_CHUNK: Final = 1 << 16
# Output buffers are kept per thread for frames up to 1920x1088 (4 tints: 34 MB), since
# fresh multi-megabyte arrays cost a page fault per 4 KiB page on every frame.
_SCRATCH_MAX_PIXELS: Final = 1920 * 1088
_W_R, _W_G, _W_B = (np.uint32(w) for w in _KEY_WEIGHTS)
_TINT_COUNT: Final = len(SEED_FILTERS)


class _Scratch(threading.local):
    def __init__(self) -> None:
        self.key = np.empty(_CHUNK, dtype=np.uint32)
        self.tmp = np.empty(_CHUNK, dtype=np.uint32)
        self.index = np.empty(_CHUNK, dtype=np.intp)
        self.wide = np.empty(_CHUNK * _TINT_COUNT, dtype=np.uint32)
        self.outputs: dict[int, list[npt.NDArray[np.uint32]]] = {}

    def output_buffers(self, pixels: int, count: int) -> list[npt.NDArray[np.uint32]]:
        if pixels > _SCRATCH_MAX_PIXELS:
            return [np.empty(pixels, dtype=np.uint32) for _ in range(count)]
        buffers = self.outputs.pop(pixels, [])
        buffers += [np.empty(pixels, dtype=np.uint32) for _ in range(count - len(buffers))]
        self.outputs[pixels] = buffers
        while len(self.outputs) > 2:  # a frame size and its thumbnail's
            del self.outputs[next(iter(self.outputs))]
        return buffers[:count]


_scratch = _Scratch()


@lru_cache(maxsize=8)
def _joint_table(names: tuple[str, ...]) -> npt.NDArray[np.uint32]:
    """Return the tints' tables side by side, (keys, tints): one gather serves all."""
    tables = _tint_tables()
    return np.ascontiguousarray(np.stack([tables[name] for name in names], axis=1))


def tint_arrays(
    image: Image.Image, tints: Sequence[Filter], *, fresh: bool = False
) -> list[npt.NDArray[np.uint32]]:
    """Apply tints to an RGB image; one flat RGBX uint32 array per tint, row-major.

    RGBX is ``R | G << 8 | B << 16 | 0xFF << 24``.  Unless ``fresh``, the arrays are
    this thread's scratch buffers, valid until the next call on this thread.
    """
    flat = np.asarray(image).reshape(-1, 3)
    pixels, count = len(flat), len(tints)
    # One gather of `count` values per pixel, then a split per tint, costs less than
    # `count` separate gathers (one pass over the index instead of `count`).
    joint = _joint_table(tuple(t.name for t in tints))
    if fresh:
        outs = [np.empty(pixels, dtype=np.uint32) for _ in tints]
    else:
        outs = _scratch.output_buffers(pixels, count)
    key, tmp, index, wide = _scratch.key, _scratch.tmp, _scratch.index, _scratch.wide
    for start in range(0, pixels, _CHUNK):
        stop = min(start + _CHUNK, pixels)
        part, size = flat[start:stop], stop - start
        k, t, i = key[:size], tmp[:size], index[:size]
        np.multiply(part[:, 0], _W_R, out=k)
        np.multiply(part[:, 1], _W_G, out=t)
        k += t
        np.multiply(part[:, 2], _W_B, out=t)
        k += t
        np.copyto(i, k)
        if count == 1:
            np.take(joint[:, 0], i, out=outs[0][start:stop], mode="clip")
            continue
        gathered = wide[: size * count].reshape(size, count)
        np.take(joint, i, axis=0, out=gathered, mode="clip")
        for column, out in enumerate(outs):
            np.copyto(out[start:stop], gathered[:, column])
    # Every table marks the same keys, so the first output finds all of them.
    redo = np.flatnonzero(outs[0] < _OPAQUE)
    if redo.size:
        tied = flat[redo]
        for out, tint in zip(outs, tints, strict=True):
            exact = seed_tint(tied, tint.name).astype(np.uint32)
            out[redo] = exact[:, 0] | exact[:, 1] << 8 | exact[:, 2] << 16 | np.uint32(_OPAQUE)
    return outs


def channel_lut(keep: tuple[bool, bool, bool]) -> list[int]:
    """Return the ``Image.point`` table that keeps the flagged channels, zeroes the rest."""
    identity = list(range(256))
    zeros = [0] * 256
    return [v for kept in keep for v in (identity if kept else zeros)]


def get_filter(name: str) -> Filter:
    """Return ``FILTERS[name]``; :raises ValueError: for an unknown name."""
    try:
        return FILTERS[name]
    except KeyError:
        raise ValueError(f"unknown filter {name!r}; known: {', '.join(FILTERS)}") from None


def render_variants(image: Image.Image, names: Sequence[str]) -> dict[str, Image.Image]:
    """Apply several filters to one image, sharing the luma work between the tints.

    Returns ``{name: image}`` in the order of ``names`` (repeats collapse), each RGB
    and the size of the input.  A non-RGB input is converted with ``convert("RGB")``
    first.  The tints match the seed's float64 JavaScript on every pixel (see
    ``_tint_tables``); the luma key is computed once however many tints are asked.
    Tinted images wrap numpy memory without a copy where Pillow allows
    (``plain_image``) and are then read-only, so Pillow copies them before any
    in-place change.

    :raises ValueError: for an unknown filter name, before any work.
    """
    filters = [get_filter(name) for name in names]
    if not filters:
        return {}
    rgb = as_rgb(image)
    rendered: dict[str, Image.Image] = {}
    tints = list({f.name: f for f in filters if f.kind == "tint"}.values())
    if tints:
        for tint, packed in zip(tints, tint_arrays(rgb, tints, fresh=True), strict=True):
            rendered[tint.name] = plain_image(packed, rgb.size)
    for f in filters:
        if f.kind == "channel" and f.name not in rendered:
            rendered[f.name] = rgb.point(channel_lut(f.keep))
    return {name: rendered[name] for name in names}


def apply_filter(image: Image.Image, name: str) -> Image.Image:
    """Apply one filter of ``FILTERS``; RGB in, RGB out, same size.

    :raises ValueError: for an unknown filter name.
    """
    return render_variants(image, [name])[name]
