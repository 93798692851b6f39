"""Pure imaging for captures: upload decoding, the seed's filters, strips and encoding.

Pillow and numpy only; nothing here imports Django, so the Celery task, the
management commands, the benchmarks (``bench/imaging.py``) and the unit tests all
call the same functions.

Numbers and their sources:

- Upload limits follow RELIABILITY.md section 2 (cases 17 to 29): 10 MB per upload,
  16 MP per frame (an application cap far below Pillow's ``MAX_IMAGE_PIXELS``),
  PNG and JPEG only, and pretix's user-facing messages.
- The tint filters reproduce the seed's browser JavaScript bit for bit (DESIGN.md
  section 7): ``luma = 0.299*R + 0.587*G + 0.114*B`` in float64, evaluated left to
  right, ``factor_c = (filter_c*density + 255*(100 - density)) / 25500`` and
  ``out_c = Math.round(factor_c * luma)``.  See ``_tint_tables`` for how a lookup
  table reproduces the float64 results exactly.
- ``horizontal_4`` is the seed's strip (four 640x480 frames, 2560x480);
  ``classic_2x6`` is a 2x6 inch print strip at 300 dpi (600x1800 px).
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
import numpy.typing as npt
from PIL import (
    Image,
    ImageDraw,
    ImageEnhance,
    ImageFont,
    ImageOps,
    _imaging,  # Image.core; only for _rgb_view, which falls back without it
)

if TYPE_CHECKING:
    from PIL import ImageCms

# --------------------------------------------------------------------------------------
# Upload limits and errors
# --------------------------------------------------------------------------------------

MAX_UPLOAD_BYTES: Final = 10 * 1024 * 1024
#: Length of the base64 text that encodes MAX_UPLOAD_BYTES (13,981,016 characters).
MAX_BASE64_CHARS: Final = 4 * math.ceil(MAX_UPLOAD_BYTES / 3)
MAX_PIXELS: Final = 4096 * 4096
MIN_SIDE: Final = 16
MAX_ASPECT: Final = 8
ALLOWED_FORMATS: Final = ("PNG", "JPEG")
#: zlib level for PNG output: level 1 is about 5x faster than the default 6 on photos
#: (21 ms against 107 ms for 640x480 on the benchmark machine) for files about 10% larger.
PNG_COMPRESS_LEVEL: Final = 1

#: code -> (user-facing message, HTTP status).
ERRORS: Final[Mapping[str, tuple[str, int]]] = MappingProxyType(
    {
        "too_large": ("Photo too large (max 10 MB).", 413),
        "invalid_base64": ("Invalid base64 data.", 400),
        "unsupported_type": ("Unsupported image type. Allowed: PNG, JPEG.", 400),
        "invalid_image": (
            "Upload a valid image. The file you uploaded was either not an image "
            "or a corrupted image.",
            400,
        ),
        "too_many_pixels": ("The image has too many pixels.", 400),
        "too_small": ("The image is too small.", 400),
        "invalid_dimensions": ("The image has invalid dimensions.", 400),
    }
)

_DATA_URL_HEADERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "data:image/png;base64": "PNG",
        "data:image/jpeg;base64": "JPEG",
        "data:image/jpg;base64": "JPEG",
    }
)
_LONGEST_HEADER: Final = max(len(h) for h in _DATA_URL_HEADERS)


class InvalidImage(ValueError):
    """An upload that is not an acceptable photo.

    ``message`` is safe to show to users, ``code`` is a short machine code (a key of
    ``ERRORS``) and ``status`` the HTTP status to answer with (413 for ``too_large``,
    400 otherwise).
    """

    def __init__(self, code: str, message: str | None = None, status: int | None = None):
        default_message, default_status = ERRORS.get(code, (code, 400))
        self.code = code
        self.message = default_message if message is None else message
        self.status = default_status if status is None else status
        super().__init__(self.message)

    def __reduce__(self) -> tuple[type[InvalidImage], tuple[str, str, int]]:
        # Celery pickles exceptions; keep code and status across the round trip.
        return (type(self), (self.code, self.message, self.status))


@dataclass(frozen=True)
class DecodedImage:
    """A decoded upload: RGB pixels, orientation applied, no metadata at all.

    ``format`` is what the decoder recognised ("PNG" or "JPEG"), never what the
    client declared; ``width`` and ``height`` are after the EXIF rotation.
    """

    image: Image.Image
    format: str
    width: int
    height: int


def decode_upload(data: bytes | str) -> DecodedImage:
    """Decode an uploaded photo from raw bytes or a ``data:image/...;base64,`` URL.

    Accepted data URLs are ``data:image/png;base64,``, ``data:image/jpeg;base64,``
    and ``data:image/jpg;base64,`` (case-insensitive header, strict base64 with no
    whitespace).  A ``str`` must be such a URL; ``bytes`` starting with ``data:`` are
    parsed the same way, other bytes are the file itself.  The declared type only
    gates the allow-list: the format comes from the decoder.

    The checks run cheapest first, and nothing is decoded before the size checks:
    base64 length (before decoding), byte length, the header's pixel count (before
    ``load()``, under a local ``DecompressionBombWarning`` -> error filter, which the
    16 MP cap makes belt and braces since ``warnings.catch_warnings`` is process-wide),
    aspect ratio, then the minimum side.  EXIF orientation is applied, the pixels
    are converted to RGB (alpha composited on white, 16-bit samples scaled, an
    embedded non-sRGB ICC profile converted to sRGB when littlecms can) and the
    result is a fresh image with empty ``info``: no EXIF, GPS, XMP, ICC or text.

    :raises InvalidImage: see ``ERRORS`` and RELIABILITY.md cases 17 to 29.
    :raises TypeError: if ``data`` is neither bytes nor str.
    """
    return _decode(_upload_bytes(data), keep_alpha=False)


def _decode(raw: bytes, *, keep_alpha: bool) -> DecodedImage:
    if not raw:
        raise InvalidImage("invalid_image")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise InvalidImage("too_large")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            opened = Image.open(io.BytesIO(raw), formats=ALLOWED_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise InvalidImage("too_many_pixels") from exc
        except Exception as exc:
            # UnidentifiedImageError, and ValueError for PNG text-chunk bombs (Pillow
            # issue 8363), SyntaxError or struct.error for broken headers.
            raise InvalidImage("invalid_image") from exc
        with opened:
            fmt = "JPEG" if opened.format in ("JPEG", "MPO") else opened.format
            if fmt not in ALLOWED_FORMATS:
                raise InvalidImage("invalid_image")
            _check_dimensions(*opened.size)
            try:
                opened.load()
                image = _normalise(opened, keep_alpha=keep_alpha)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise InvalidImage("too_many_pixels") from exc
            except Exception as exc:
                # OSError "image file is truncated" (ImageFile.LOAD_TRUNCATED_IMAGES
                # stays False: truncated uploads are refused, not padded with grey),
                # or a decodable file whose mode or profile we cannot convert.
                raise InvalidImage("invalid_image") from exc
    return DecodedImage(image=image, format=fmt, width=image.width, height=image.height)


def decode_image(data: bytes | str) -> Image.Image:
    """Return ``decode_upload(data).image``; same inputs, same errors."""
    return decode_upload(data).image


#: Longest side of a stored event logo: enough for a 1080p attract screen and far more
#: than a strip footer needs.
LOGO_MAX_SIDE: Final = 800


def decode_logo(data: bytes | str) -> DecodedImage:
    """Decode an event logo: ``decode_upload``'s checks and clean-up, transparency kept.

    The same inputs, limits and errors as ``decode_upload``, and the result likewise
    carries no metadata.  A logo with real transparency comes back RGBA (an alpha
    channel that is opaque everywhere is dropped), anything else RGB.  A logo whose
    longer side exceeds ``LOGO_MAX_SIDE`` is scaled down to it.  ``format`` is "PNG"
    for an RGBA logo (JPEG has no alpha), else the decoded format.

    :raises InvalidImage: as ``decode_upload``.
    """
    decoded = _decode(_upload_bytes(data), keep_alpha=True)
    image = decoded.image
    if max(image.size) > LOGO_MAX_SIDE:
        image = ImageOps.contain(image, (LOGO_MAX_SIDE, LOGO_MAX_SIDE), Image.Resampling.LANCZOS)
    fmt = "PNG" if image.mode == "RGBA" else decoded.format
    return DecodedImage(image=image, format=fmt, width=image.width, height=image.height)


def _upload_bytes(data: bytes | str) -> bytes:
    if isinstance(data, str):
        return _data_url_bytes(data)
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if raw[:5].lower() == b"data:":
            return _data_url_bytes(raw)
        return raw
    raise TypeError(f"expected bytes or str, got {type(data).__name__}")


def _data_url_bytes(url: str | bytes) -> bytes:
    if isinstance(url, str):
        comma = url.find(",", 0, _LONGEST_HEADER + 1)
        header = url[: max(comma, 0)]
    else:
        comma = url.find(b",", 0, _LONGEST_HEADER + 1)
        header = url[: max(comma, 0)].decode("latin-1")
    if comma < 0 or header.lower() not in _DATA_URL_HEADERS:
        raise InvalidImage("unsupported_type")
    payload = url[comma + 1 :]
    if len(payload) > MAX_BASE64_CHARS:
        raise InvalidImage("too_large")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:  # ValueError: non-ASCII str
        raise InvalidImage("invalid_base64") from exc
    if len(raw) > MAX_UPLOAD_BYTES:
        raise InvalidImage("too_large")
    return raw


def _check_dimensions(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise InvalidImage("invalid_image")
    if width * height > MAX_PIXELS:
        raise InvalidImage("too_many_pixels")
    # Aspect before the minimum side: a 100000x1 banner is "invalid dimensions"
    # (RELIABILITY case 29) although its short side is also too small.
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise InvalidImage("invalid_dimensions")
    if min(width, height) < MIN_SIDE:
        raise InvalidImage("too_small")


_ORIENTATION_TAG: Final = 0x0112
_SIXTEEN_BIT_MODES: Final = ("I", "I;16", "I;16B", "I;16L", "I;16N")
_ALPHA_MODES: Final = ("RGBA", "LA", "PA", "La", "RGBa")


def _normalise(opened: Image.Image, *, keep_alpha: bool = False) -> Image.Image:
    """Return a fresh RGB image, upright, from a loaded upload; drop every metadata.

    With ``keep_alpha``, an image with real transparency comes back RGBA instead.
    """
    image = opened
    try:
        orientation = int(opened.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:  # a corrupt EXIF block costs the rotation, not the photo
        orientation = 1
    if 2 <= orientation <= 8:
        image = ImageOps.exif_transpose(image)
    icc = opened.info.get("icc_profile")
    if isinstance(icc, bytes) and icc and image.mode in ("RGB", "CMYK"):
        image = _to_srgb(image, icc) or image
    has_transparency = "transparency" in opened.info
    wants_alpha = has_transparency or image.mode in _ALPHA_MODES
    if keep_alpha and wants_alpha and image.mode not in _SIXTEEN_BIT_MODES:
        image = _to_rgba(image)
    else:
        image = _to_rgb(image, has_transparency=has_transparency)
    # A plain Image around the pixels (no copy): none of the decoder's attributes
    # (JPEG markers, PNG chunks), no cached Exif (exif_transpose leaves one), no info.
    return Image.Image()._new(image.im)


def _to_rgba(image: Image.Image) -> Image.Image:
    """Return RGBA pixels, or RGB when every pixel turns out to be opaque."""
    rgba = image.convert("RGBA")
    if rgba.getchannel("A").getextrema() == (255, 255):
        return rgba.convert("RGB")
    return rgba


def _to_rgb(image: Image.Image, *, has_transparency: bool) -> Image.Image:
    if image.mode == "RGB" and not has_transparency:
        return image
    if image.mode in _SIXTEEN_BIT_MODES:
        samples = np.asarray(image).astype(np.int64)
        gray = (np.clip(samples, 0, 0xFFFF) >> 8).astype(np.uint8)
        return Image.fromarray(gray).convert("RGB")
    if has_transparency or image.mode in _ALPHA_MODES:
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image | None:
    try:
        from PIL import ImageCms
    except ImportError:  # Pillow built without littlecms: keep the pixels as they are
        return None
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = source.profile.profile_description or ""
        if "srgb" in description.lower():
            return None
        converted = ImageCms.profileToProfile(image, source, _srgb_profile(), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
    return converted


@cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


# --------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------

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
SEED_FILTERS: Final = ("grayscale", "sepia", "green", "blue")

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
    on the triple: their entries carry X = 0 and ``_tint_arrays`` recomputes those
    pixels in float64 in the seed's order.  ``tests/captures/test_imaging.py`` and
    ``bench/imaging.py`` check all 16,777,216 colours against the float64 reference.
    """
    k = np.arange(_KEY_COUNT, dtype=np.int64)
    tints = [f for f in FILTERS.values() if f.kind == "tint"]
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


def _seed_tint_exact(rgb: npt.NDArray[np.uint8], tints: Sequence[Filter]) -> npt.NDArray[np.uint32]:
    """Return the seed's float64 results for (n, 3) pixels as (tints, n) RGBX values."""
    px = rgb.astype(np.float64)
    luma = 0.299 * px[:, 0] + 0.587 * px[:, 1] + 0.114 * px[:, 2]  # left to right, as JS
    factors = np.array([t.factors for t in tints], dtype=np.float64)  # (tints, 3)
    # Math.round(x) == floor(x + 0.5) for every value here: checked over all colours.
    rounded = np.floor(factors[:, None, :] * luma[None, :, None] + 0.5)
    values = np.clip(rounded, 0, 255).astype(np.uint32)  # (tints, n, 3)
    packed: npt.NDArray[np.uint32] = (
        values[..., 0]
        | values[..., 1] << np.uint32(8)
        | values[..., 2] << np.uint32(16)
        | np.uint32(_OPAQUE)
    )
    return packed


# The key and index are built in chunks that stay in cache; outputs are full size.
_CHUNK: Final = 1 << 16
# Output buffers are kept per thread for frames up to 1920x1088 (4 tints: 34 MB), since
# fresh multi-megabyte arrays cost page faults (about 5 ms per 1080p frame here).
_SCRATCH_MAX_PIXELS: Final = 1920 * 1088
_W_R, _W_G, _W_B = (np.uint32(w) for w in _KEY_WEIGHTS)
_TINT_COUNT: Final = sum(f.kind == "tint" for f in FILTERS.values())


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


def _tint_arrays(
    image: Image.Image, tints: Sequence[Filter], *, fresh: bool = False
) -> list[npt.NDArray[np.uint32]]:
    """Apply tints to an RGB image; one flat RGBX uint32 array per tint, row-major.

    Unless ``fresh``, the arrays are this thread's scratch buffers, valid until the
    next call.
    """
    flat = np.asarray(image).reshape(-1, 3)
    pixels, count = len(flat), len(tints)
    # One gather of `count` values per pixel, then a split per tint, costs about
    # 0.8x the `count` separate gathers at 640x480 and 0.7x at 1920x1080.
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
        for out, exact in zip(outs, _seed_tint_exact(flat[redo], tints), strict=True):
            out[redo] = exact
    return outs


def _channel_lut(keep: tuple[bool, bool, bool]) -> list[int]:
    identity = list(range(256))
    zeros = [0] * 256
    return [v for kept in keep for v in (identity if kept else zeros)]


def _get_filter(name: str) -> Filter:
    try:
        return FILTERS[name]
    except KeyError:
        raise ValueError(f"unknown filter {name!r}; known: {', '.join(FILTERS)}") from None


def _as_rgb(image: Image.Image) -> Image.Image:
    return image if image.mode == "RGB" else image.convert("RGB")


def render_variants(image: Image.Image, names: Sequence[str]) -> dict[str, Image.Image]:
    """Apply several filters to one image, sharing the luma work between the tints.

    Returns ``{name: image}`` in the order of ``names`` (repeats collapse), each RGB
    and the size of the input.  A non-RGB input is converted with ``convert("RGB")``
    first.  The tints match the seed's float64 JavaScript on every pixel (see
    ``_tint_tables``); the luma key is computed once however many tints are asked.
    Tinted images wrap numpy memory without a copy and are marked read-only, so
    Pillow copies them before any in-place change.

    :raises ValueError: for an unknown filter name, before any work.
    """
    filters = [_get_filter(name) for name in names]
    if not filters:
        return {}
    rgb = _as_rgb(image)
    rendered: dict[str, Image.Image] = {}
    tints = list({f.name: f for f in filters if f.kind == "tint"}.values())
    if tints:
        for tint, packed in zip(tints, _tint_arrays(rgb, tints, fresh=True), strict=True):
            rendered[tint.name] = _rgb_view(packed, rgb.size)
    for f in filters:
        if f.kind == "channel" and f.name not in rendered:
            rendered[f.name] = rgb.point(_channel_lut(f.keep))
    return {name: rendered[name] for name in names}


def _rgb_view(packed: npt.NDArray[np.uint32], size: tuple[int, int]) -> Image.Image:
    """Wrap RGBX pixels as a read-only "RGB" image without copying them.

    Pillow stores RGB as 4 bytes a pixel, so its buffer mapping (what
    ``Image.frombuffer`` does for "RGBX") is valid for "RGB" too; ``frombuffer``
    itself only maps a few modes.  Saves a 4-byte-a-pixel copy (0.1 ms per
    640x480 image); any failure falls back to the copy.
    """
    try:
        core = _imaging.map_buffer(packed, size, "raw", 0, ("RGB", 0, 1))
        if core.mode != "RGB" or core.size != size:
            raise ValueError("unexpected mapping")
    except Exception:
        return Image.frombytes("RGB", size, packed, "raw", "RGBX")
    image = Image.Image()._new(core)
    image.readonly = 1  # Pillow copies before any in-place change
    return image


def apply_filter(image: Image.Image, name: str) -> Image.Image:
    """Apply one filter of ``FILTERS``; RGB in, RGB out, same size.

    :raises ValueError: for an unknown filter name.
    """
    return render_variants(image, [name])[name]


# --------------------------------------------------------------------------------------
# Camera-style adjustments
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Adjustments:
    """Brightness, contrast and saturation multipliers; 1.0 leaves the image unchanged.

    Each value must lie in 0.0..2.0 (0 gives black, flat grey and grayscale).

    :raises ValueError: on construction, for a value outside 0.0..2.0 or NaN.
    """

    brightness: float = 1.0
    contrast: float = 1.0
    saturation: float = 1.0

    def __post_init__(self) -> None:
        for name in ("brightness", "contrast", "saturation"):
            value = getattr(self, name)
            if not 0.0 <= value <= 2.0:
                raise ValueError(f"{name} must be between 0.0 and 2.0, got {value!r}")

    @property
    def is_identity(self) -> bool:
        """Whether applying these adjustments changes nothing."""
        return self.brightness == self.contrast == self.saturation == 1.0


def apply_adjustments(image: Image.Image, adjustments: Adjustments) -> Image.Image:
    """Apply brightness, then contrast, then saturation with ``PIL.ImageEnhance``.

    Returns ``image`` itself when ``adjustments`` is the identity, a new RGB image
    of the same size otherwise.
    """
    if adjustments.is_identity:
        return image
    out = _as_rgb(image)
    if adjustments.brightness != 1.0:
        out = ImageEnhance.Brightness(out).enhance(adjustments.brightness)
    if adjustments.contrast != 1.0:
        out = ImageEnhance.Contrast(out).enhance(adjustments.contrast)
    if adjustments.saturation != 1.0:
        out = ImageEnhance.Color(out).enhance(adjustments.saturation)
    return out


# --------------------------------------------------------------------------------------
# Strips
# --------------------------------------------------------------------------------------

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class StripLayout:
    """Where up to ``max_frames`` frames go on a strip of ``width`` x ``height`` px.

    ``direction="row"`` puts frames side by side from x=0 and, with ``grow`` set,
    the canvas is ``count * frame_width`` wide (the seed's strip).
    ``direction="column"`` centres frames horizontally and spreads them evenly
    (equal gaps above, between and below) over the height above the bottom band of
    ``band_height`` px, which holds the optional title.  Frames are centre-cropped to
    the frame's aspect ratio, then resized.  ``dpi`` is recorded in the strip's
    ``info`` for encoders.
    """

    name: str
    label: str
    width: int
    height: int
    frame_width: int
    frame_height: int
    direction: Literal["row", "column"]
    max_frames: int = 4
    grow: bool = False
    band_height: int = 0
    dpi: int | None = None

    def canvas_size(self, count: int) -> tuple[int, int]:
        """Return the strip's (width, height) in pixels for ``count`` frames."""
        self._check_count(count)
        if self.grow and self.direction == "row":
            return (count * self.frame_width, self.height)
        return (self.width, self.height)

    def frame_boxes(self, count: int) -> list[Box]:
        """Return each frame's (x, y, width, height) on the strip, in order."""
        self._check_count(count)
        fw, fh = self.frame_width, self.frame_height
        if self.direction == "row":
            return [(i * fw, (self.height - fh) // 2, fw, fh) for i in range(count)]
        free = self.height - self.band_height - count * fh
        x = (self.width - fw) // 2
        return [(x, free * (i + 1) // (count + 1) + i * fh, fw, fh) for i in range(count)]

    def _check_count(self, count: int) -> None:
        if not 1 <= count <= self.max_frames:
            raise ValueError(f"{self.name} takes 1 to {self.max_frames} frames, got {count}")


STRIP_LAYOUTS: Final[Mapping[str, StripLayout]] = MappingProxyType(
    {
        "horizontal_4": StripLayout(
            name="horizontal_4",
            label="Seed strip (4 side by side)",
            width=2560,
            height=480,
            frame_width=640,
            frame_height=480,
            direction="row",
            grow=True,
        ),
        # 2x6 in at 300 dpi; 4:3 frames of 528x396 with 36 px side margins, 24 px gaps
        # and a 96 px (0.32 in) title band at the bottom.
        "classic_2x6": StripLayout(
            name="classic_2x6",
            label="Classic 2x6 print strip",
            width=600,
            height=1800,
            frame_width=528,
            frame_height=396,
            direction="column",
            band_height=96,
            dpi=300,
        ),
    }
)

_TITLE_COLOR: Final = (34, 34, 34)
_TITLE_MAX_CHARS: Final = 80
_TITLE_MIN_SIZE: Final = 14


def _get_layout(layout: str) -> StripLayout:
    try:
        return STRIP_LAYOUTS[layout]
    except KeyError:
        known = ", ".join(STRIP_LAYOUTS)
        raise ValueError(f"unknown strip layout {layout!r}; known: {known}") from None


def strip_frame_boxes(layout: str, count: int) -> list[Box]:
    """Return where each of ``count`` frames lands on ``layout`` as (x, y, w, h).

    :raises ValueError: for an unknown layout or a count outside 1..max_frames.
    """
    return _get_layout(layout).frame_boxes(count)


def compose_strip(
    images: Sequence[Image.Image],
    layout: str,
    *,
    title: str | None = None,
    logo: Image.Image | None = None,
) -> Image.Image:
    """Compose 1 to 4 frames into a strip on a white background.

    Frames go where ``strip_frame_boxes(layout, len(images))`` says: a frame of the
    right size is pasted as is, others are centre-cropped to the frame's aspect
    ratio and resized (bicubic).  ``title`` is drawn centred in the layout's bottom
    band with Pillow's default font (shrunk, then cut with an ellipsis, to fit).
    ``logo`` (RGB, or RGBA blended on the white band) is scaled to fit the band
    (``logo_box``) and drawn left of the title, the pair centred; alone it is
    centred.  Layouts without a band (``horizontal_4``, the seed's strip) ignore
    both.  A layout with a ``dpi`` records it in ``info["dpi"]`` so
    ``encode_image`` writes it.

    :raises ValueError: for an unknown layout, or no frames or too many.
    """
    spec = _get_layout(layout)
    boxes = spec.frame_boxes(len(images))
    canvas = Image.new("RGB", spec.canvas_size(len(images)), (255, 255, 255))
    for frame, (x, y, w, h) in zip(images, boxes, strict=True):
        canvas.paste(_fit_frame(frame, w, h), (x, y))
    if logo is not None and spec.band_height:
        _draw_logo_footer(canvas, spec, logo, title)
    elif title and spec.band_height:
        _draw_title(canvas, spec, title)
    if spec.dpi:
        canvas.info["dpi"] = (spec.dpi, spec.dpi)
    return canvas


def _fit_frame(image: Image.Image, width: int, height: int) -> Image.Image:
    image = _as_rgb(image)
    w, h = image.size
    if (w, h) == (width, height):
        return image
    if w * height > h * width:  # wider than the frame: crop the sides
        crop_w = h * width / height
        box = ((w - crop_w) / 2, 0.0, (w + crop_w) / 2, float(h))
    else:
        crop_h = w * height / width
        box = (0.0, (h - crop_h) / 2, float(w), (h + crop_h) / 2)
    return image.resize((width, height), Image.Resampling.BICUBIC, box=box, reducing_gap=2.0)


def _clean_title(title: str) -> str:
    return " ".join("".join(c for c in title if c.isprintable()).split())[:_TITLE_MAX_CHARS]


def _fit_title(
    draw: ImageDraw.ImageDraw, text: str, size: int, max_width: int
) -> tuple[str, ImageFont.FreeTypeFont | ImageFont.ImageFont]:
    """Shrink the font, then cut the text with an ellipsis, until it fits ``max_width``."""
    font = ImageFont.load_default(size=size)
    while draw.textlength(text, font=font) > max_width and size > _TITLE_MIN_SIZE:
        size -= 2
        font = ImageFont.load_default(size=size)
    while len(text) > 1 and draw.textlength(text, font=font) > max_width:
        text = text[:-2].rstrip() + "…"
    return text, font


def _draw_title(canvas: Image.Image, spec: StripLayout, title: str) -> None:
    text = _clean_title(title)
    if not text:
        return
    draw = ImageDraw.Draw(canvas)
    text, font = _fit_title(draw, text, spec.band_height * 2 // 5, spec.frame_width)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    band_top = spec.height - spec.band_height
    x = (canvas.width - (right - left)) // 2 - left
    y = band_top + (spec.band_height - (bottom - top)) // 2 - top
    draw.text((x, y), text, fill=_TITLE_COLOR, font=font)


#: Gap between the logo and the title in a strip's band, in pixels.
_LOGO_GAP: Final = 16


def logo_box(layout: str) -> tuple[int, int]:
    """Return the (width, height) a logo is scaled to fit in ``layout``'s band.

    Two thirds of the band's height, and at most a third of the frame width, so the
    title keeps the rest.  (0, 0) for a layout without a band.

    :raises ValueError: for an unknown layout.
    """
    spec = _get_layout(layout)
    if not spec.band_height:
        return (0, 0)
    return (spec.frame_width // 3, spec.band_height * 2 // 3)


def _draw_logo_footer(
    canvas: Image.Image, spec: StripLayout, logo: Image.Image, title: str | None
) -> None:
    box = logo_box(spec.name)
    scale = min(box[0] / logo.width, box[1] / logo.height)
    size = (max(1, round(logo.width * scale)), max(1, round(logo.height * scale)))
    mode = "RGBA" if logo.mode in _ALPHA_MODES else "RGB"
    # reducing_gap makes a large logo cheap to shrink (a box reduce, then Lanczos).
    mark = logo.convert(mode).resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    band_top = spec.height - spec.band_height
    text = _clean_title(title or "")
    draw = ImageDraw.Draw(canvas)
    text_width, font = 0, None
    bbox: tuple[float, float, float, float] = (0, 0, 0, 0)
    if text:
        room = spec.frame_width - mark.width - _LOGO_GAP
        text, font = _fit_title(draw, text, spec.band_height * 2 // 5, room)
        bbox = draw.textbbox((0, 0), text, font=font)
        text_width = math.ceil(bbox[2] - bbox[0])
    total = mark.width + (_LOGO_GAP + text_width if font is not None else 0)
    x = (canvas.width - total) // 2
    y = band_top + (spec.band_height - mark.height) // 2
    canvas.paste(mark, (x, y), mark if mark.mode == "RGBA" else None)
    if font is not None:
        left, top, _, bottom = bbox
        text_x = x + mark.width + _LOGO_GAP - left
        text_y = band_top + (spec.band_height - (bottom - top)) // 2 - top
        draw.text((text_x, text_y), text, fill=_TITLE_COLOR, font=font)


# --------------------------------------------------------------------------------------
# Encoding and the capture pipeline
# --------------------------------------------------------------------------------------


def encode_image(image: Image.Image, fmt: str = "JPEG", *, quality: int = 90) -> bytes:
    """Encode as JPEG (baseline, no Huffman optimisation: twice as fast) or PNG.

    Nothing from ``image.info`` is written except ``dpi``: no EXIF, XMP, ICC,
    comment, text chunks or transparency.  "L" images stay one-channel, JPEG takes
    "RGBX" as RGB, PNG keeps an "RGBA" image's alpha (logos), other modes are
    converted to RGB.  ``quality`` is the JPEG quality; PNG uses zlib level
    ``PNG_COMPRESS_LEVEL``.

    :raises ValueError: for a format other than JPEG (or "JPG") and PNG, or a
        quality outside 1..100.
    """
    name = "JPEG" if fmt.upper() in ("JPEG", "JPG") else fmt.upper()
    if name not in ALLOWED_FORMATS:
        raise ValueError(f"cannot encode {fmt!r}; allowed: {', '.join(ALLOWED_FORMATS)}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be 1..100, got {quality}")
    # JPEG writes RGBX as RGB directly (the zero-copy buffers of render_capture).
    native = ("RGB", "L", "RGBX") if name == "JPEG" else ("RGB", "L", "RGBA")
    source = image if image.mode in native else image.convert("RGB")
    dpi = _dpi(image)
    buffer = io.BytesIO()
    if name == "JPEG":
        extra_jpeg = {"dpi": dpi} if dpi else {}
        source.save(
            buffer, "JPEG", quality=quality, optimize=False, comment=b"", exif=b"", **extra_jpeg
        )
    else:
        extra_png = {"dpi": dpi} if dpi else {}
        source.save(
            buffer,
            "PNG",
            compress_level=PNG_COMPRESS_LEVEL,
            icc_profile=None,
            transparency=None,
            **extra_png,
        )
    return buffer.getvalue()


def _dpi(image: Image.Image) -> tuple[int, int] | None:
    dpi = image.info.get("dpi")
    if isinstance(dpi, tuple) and len(dpi) == 2:
        try:
            x, y = round(float(dpi[0])), round(float(dpi[1]))
        except (TypeError, ValueError):
            return None
        if 0 < x < 65536 and 0 < y < 65536:
            return (x, y)
    return None


def make_thumbnail(image: Image.Image, max_side: int = 320) -> Image.Image:
    """Return a copy whose longer side is at most ``max_side``, aspect ratio kept.

    An exact integer downscale uses ``reduce()`` (a box filter, the cheapest);
    others resize bicubic with ``reducing_gap=2.0``, as ``Image.thumbnail`` does.

    :raises ValueError: if ``max_side`` is below 1.
    """
    if max_side < 1:
        raise ValueError("max_side must be at least 1")
    w, h = image.size
    if max(w, h) <= max_side:
        return image.copy()
    scale = max(w, h) / max_side
    target = (max(1, round(w / scale)), max(1, round(h / scale)))
    factor = int(scale)
    if scale == factor and w % factor == 0 and h % factor == 0:
        return image.reduce(factor)
    return image.resize(target, Image.Resampling.BICUBIC, reducing_gap=2.0)


@dataclass(frozen=True)
class EncodedImage:
    """An encoded image ready to store: ``data`` in ``format``, with a JPEG thumbnail."""

    data: bytes
    width: int
    height: int
    format: str
    thumbnail: bytes

    @property
    def content_type(self) -> str:
        """Return the media type of ``data``."""
        return "image/png" if self.format == "PNG" else "image/jpeg"

    @property
    def extension(self) -> str:
        """Return the file extension for ``data``, without a dot."""
        return "png" if self.format == "PNG" else "jpg"


@dataclass(frozen=True)
class RenderedCapture:
    """Everything stored for one capture: the clean original and its variants."""

    original: EncodedImage
    variants: dict[str, EncodedImage]


def render_capture(
    data: bytes | str, filters: Sequence[str], *, quality: int = 90, thumb_side: int = 320
) -> RenderedCapture:
    """Run the whole capture pipeline on one upload.

    Decodes the upload (``decode_upload``), re-encodes the original in its decoded
    format without metadata with a JPEG thumbnail whose longer side is
    ``thumb_side``, and renders ``filters`` with ``encode_variants``.

    :raises InvalidImage: as ``decode_upload``.
    :raises ValueError: for an unknown filter name, before decoding.
    """
    chosen = _unique_filters(filters)
    decoded = decode_upload(data)
    image = decoded.image
    thumb = make_thumbnail(image, thumb_side)
    original = EncodedImage(
        data=encode_image(image, decoded.format, quality=quality),
        width=decoded.width,
        height=decoded.height,
        format=decoded.format,
        thumbnail=encode_image(thumb, quality=quality),
    )
    variants = _encode_variants(image, thumb, chosen, quality)
    return RenderedCapture(original=original, variants=variants)


def encode_variants(
    image: Image.Image, names: Sequence[str], *, quality: int = 90, thumb_side: int = 320
) -> dict[str, EncodedImage]:
    """Render filters of ``image`` straight to JPEG, each with a JPEG thumbnail.

    The same pixels as ``render_variants`` followed by ``encode_image``, faster: the
    JPEG encoder reads the filter's buffers without an RGB image being built, and
    gray filters (grayscale) are encoded as one-channel JPEG, which holds exactly
    the same pixels (R == G == B).  A variant's thumbnail is the filter applied to
    ``make_thumbnail(image, thumb_side)``, not a downscale of the variant: a
    fraction of the work, the same picture up to rounding.  Returns
    ``{name: EncodedImage}`` in the order of ``names`` (repeats collapse).

    :raises ValueError: for an unknown filter name, before any work.
    """
    chosen = _unique_filters(names)
    rgb = _as_rgb(image)
    return _encode_variants(rgb, make_thumbnail(rgb, thumb_side), chosen, quality)


def _unique_filters(names: Sequence[str]) -> list[Filter]:
    return list({f.name: f for f in map(_get_filter, names)}.values())


def _encode_variants(
    image: Image.Image, thumb: Image.Image, chosen: Sequence[Filter], quality: int
) -> dict[str, EncodedImage]:
    # Full-size variants are encoded before the thumbnails reuse the scratch buffers.
    full = _encode_filtered(image, chosen, quality)
    small = _encode_filtered(thumb, chosen, quality)
    return {
        f.name: EncodedImage(
            data=full[f.name],
            width=image.width,
            height=image.height,
            format="JPEG",
            thumbnail=small[f.name],
        )
        for f in chosen
    }


def _encode_filtered(
    image: Image.Image, chosen: Sequence[Filter], quality: int
) -> dict[str, bytes]:
    """JPEG-encode each filter of ``image`` straight from the tint buffers (no RGB copy)."""
    encoded: dict[str, bytes] = {}
    tints = [f for f in chosen if f.kind == "tint"]
    if tints:
        for tint, packed in zip(tints, _tint_arrays(image, tints), strict=True):
            if tint.is_gray:  # R == G == B: a one-channel JPEG holds the same pixels
                plane = np.ascontiguousarray(packed.view(np.uint8)[::4])
                view = Image.frombuffer("L", image.size, plane, "raw", "L", 0, 1)
            else:
                view = Image.frombuffer("RGBX", image.size, packed, "raw", "RGBX", 0, 1)
            encoded[tint.name] = encode_image(view, quality=quality)
    for f in chosen:
        if f.kind == "channel":
            encoded[f.name] = encode_image(image.point(_channel_lut(f.keep)), quality=quality)
    return encoded


MAX_FRAME_PIXELS: Final = 1920 * 1080


def decode_frame(data: bytes, *, target: tuple[int, int] = (640, 480)) -> npt.NDArray[np.uint8]:
    """Decode one live-preview frame (JPEG or PNG bytes) to an HxWx3 uint8 RGB array.

    JPEG frames larger than ``target`` are decoded at a reduced scale (libjpeg's DCT
    scaling), which is what makes scoring 5 frames a second per booth affordable. Frames
    are not stored, so metadata and orientation are ignored.

    :raises InvalidImage: for anything that is not a PNG or JPEG of at most 1920x1080.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
            if opened.width * opened.height > MAX_FRAME_PIXELS:
                raise InvalidImage("too_many_pixels")
            if opened.format == "JPEG":
                opened.draft("RGB", target)
            rgb = opened.convert("RGB")
    except InvalidImage:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning):
        raise InvalidImage("invalid_image") from None
    return np.asarray(rgb, dtype=np.uint8)
