"""Upload decoding: limits, user-facing errors, and clean RGB pixels from PNG or JPEG.

Limits follow RELIABILITY.md section 2 (cases 17 to 29): 10 MB per upload, 16 MP per
frame (an application cap far below Pillow's ``MAX_IMAGE_PIXELS``), PNG and JPEG only,
and pretix's user-facing messages.  ``MAX_UPLOAD_BYTES`` and ``ERRORS["too_large"]``
(``TOO_LARGE_MESSAGE``) are the one source of the upload cap.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

import numpy as np
from PIL import Image, ImageOps

from captures.imaging._pillow import plain_image

if TYPE_CHECKING:
    from PIL import ImageCms

MAX_UPLOAD_BYTES: Final = 10 * 1024 * 1024
#: Length of the base64 text that encodes MAX_UPLOAD_BYTES (13,981,016 characters).
MAX_BASE64_CHARS: Final = 4 * math.ceil(MAX_UPLOAD_BYTES / 3)
MAX_PIXELS: Final = 4096 * 4096
MIN_SIDE: Final = 16
MAX_ASPECT: Final = 8
ALLOWED_FORMATS: Final = ("PNG", "JPEG")

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

#: The user-facing message for an upload over ``MAX_UPLOAD_BYTES``.
TOO_LARGE_MESSAGE: Final = ERRORS["too_large"][0]

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
#: Modes with an alpha channel (the strips' logo footer uses it too).
ALPHA_MODES: Final = ("RGBA", "LA", "PA", "La", "RGBa")


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
    wants_alpha = has_transparency or image.mode in ALPHA_MODES
    if keep_alpha and wants_alpha and image.mode not in _SIXTEEN_BIT_MODES:
        image = _to_rgba(image)
    else:
        image = _to_rgb(image, has_transparency=has_transparency)
    # None of the decoder's attributes (JPEG markers, PNG chunks), no cached Exif
    # (exif_transpose leaves one), no info.
    return plain_image(image)


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
    if has_transparency or image.mode in ALPHA_MODES:
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
