"""Encoding for storage, and the capture pipeline the product runs.

``encode_image`` and ``make_thumbnail`` are the building blocks.  The pipeline is three
pure functions that ``captures.services`` calls and ``bench/imaging.py`` times:

- ``encode_original``: the upload request, after ``decode_upload``: the original
  re-encoded in its own format without metadata, with a JPEG thumbnail;
- ``render_variant_files``: the ``render_variants`` task, on the stored original: the
  event's adjustments, then each filter encoded with a JPEG thumbnail;
- ``render_strip_file``: the ``render_strips`` task: a strip composed and encoded (an
  animated layout as a looping WebP with its GIF, ``captures.imaging.animation``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from PIL import Image

from captures.imaging._pillow import as_rgb
from captures.imaging.adjustments import Adjustments, apply_adjustments
from captures.imaging.animation import (
    compose_animation,
    encode_animated_gif,
    encode_animated_webp,
)
from captures.imaging.decoding import ALLOWED_FORMATS, DecodedImage
from captures.imaging.filters import (
    Filter,
    apply_filter,
    channel_lut,
    get_filter,
    render_variants,
    tint_arrays,
)
from captures.imaging.strips import _get_layout, compose_strip

#: zlib level for PNG output: level 1 rather than the default 6, several times faster
#: on photos for slightly larger files.
PNG_COMPRESS_LEVEL: Final = 1


def encode_image(image: Image.Image, fmt: str = "JPEG", *, quality: int = 90) -> bytes:
    """Encode as JPEG or PNG, with no metadata but the resolution.

    JPEG is baseline without Huffman optimisation, which costs more encoding time than
    the few bytes it saves are worth.

    Nothing from ``image.info`` is written except ``dpi``: no EXIF, XMP, ICC,
    comment, text chunks or transparency.  "L" images stay one-channel, JPEG takes
    "RGBX" as RGB, PNG keeps an "RGBA" image's alpha (logos), other modes are
    converted to RGB.  ``quality`` is the JPEG quality; PNG uses zlib level
    ``PNG_COMPRESS_LEVEL``.

    :raises ValueError: for a format other than JPEG (or "JPG") and PNG, or a
        quality outside 1..100.
    """
    name = _format_name(fmt)
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be 1..100, got {quality}")
    # JPEG writes RGBX as RGB directly (the zero-copy buffers of encode_variants).
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
    """An encoded image ready to store: ``data`` in ``format``, with a JPEG thumbnail.

    ``format`` is "JPEG" or "PNG", or "WEBP" for an animated strip, whose ``gif``
    holds the same animation as GIF (empty otherwise); ``width`` and ``height`` are
    ``data``'s, in pixels; ``thumbnail`` is JPEG bytes.
    """

    data: bytes
    width: int
    height: int
    format: str
    thumbnail: bytes
    gif: bytes = b""

    @property
    def content_type(self) -> str:
        """Return the media type of ``data``."""
        return _CONTENT_TYPES.get(self.format, "image/jpeg")

    @property
    def extension(self) -> str:
        """Return the file extension for ``data``, without a dot."""
        return _EXTENSIONS.get(self.format, "jpg")


_CONTENT_TYPES: Final = {"PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
_EXTENSIONS: Final = {"PNG": "png", "WEBP": "webp", "GIF": "gif"}


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

    :raises ValueError: for an unknown filter name, before any work; for a quality
        outside 1..100 or a ``thumb_side`` below 1.
    """
    chosen = _unique_filters(names)
    rgb = as_rgb(image)
    thumb = make_thumbnail(rgb, thumb_side)
    # Full-size variants are encoded before the thumbnails reuse the scratch buffers.
    full = _encode_filtered(rgb, chosen, quality)
    small = _encode_filtered(thumb, chosen, quality)
    return {
        f.name: EncodedImage(
            data=full[f.name],
            width=rgb.width,
            height=rgb.height,
            format="JPEG",
            thumbnail=small[f.name],
        )
        for f in chosen
    }


def _unique_filters(names: Sequence[str]) -> list[Filter]:
    return list({f.name: f for f in map(get_filter, names)}.values())


def _encode_filtered(
    image: Image.Image, chosen: Sequence[Filter], quality: int
) -> dict[str, bytes]:
    """JPEG-encode each filter of ``image`` straight from the tint buffers (no RGB copy)."""
    encoded: dict[str, bytes] = {}
    tints = [f for f in chosen if f.kind == "tint"]
    if tints:
        for tint, packed in zip(tints, tint_arrays(image, tints), strict=True):
            if tint.is_gray:  # R == G == B: a one-channel JPEG holds the same pixels
                plane = np.ascontiguousarray(packed.view(np.uint8)[::4])
                view = Image.frombuffer("L", image.size, plane, "raw", "L", 0, 1)
            else:
                view = Image.frombuffer("RGBX", image.size, packed, "raw", "RGBX", 0, 1)
            encoded[tint.name] = encode_image(view, quality=quality)
    for f in chosen:
        if f.kind == "channel":
            encoded[f.name] = encode_image(image.point(channel_lut(f.keep)), quality=quality)
    return encoded


def _format_name(fmt: str) -> str:
    """Return "JPEG" or "PNG" for ``fmt`` (any case, "JPG" too), else raise ValueError."""
    name = "JPEG" if fmt.upper() in ("JPEG", "JPG") else fmt.upper()
    if name not in ALLOWED_FORMATS:
        raise ValueError(f"cannot encode {fmt!r}; allowed: {', '.join(ALLOWED_FORMATS)}")
    return name


def encode_original(
    decoded: DecodedImage, *, quality: int = 90, thumb_side: int = 320
) -> EncodedImage:
    """Encode a decoded upload for storage: what the upload request stores.

    ``data`` is ``decoded.image`` re-encoded in ``decoded.format`` ("PNG" or "JPEG",
    what the decoder recognised) with no metadata (``encode_image``), ``thumbnail`` a
    JPEG of ``make_thumbnail(decoded.image, thumb_side)``; ``width`` and ``height``
    are the decoded image's, in pixels.  ``quality`` (1..100) is the JPEG quality of
    both (PNG is lossless) and ``thumb_side`` the thumbnail's longer side in pixels.

    :raises ValueError: for a quality outside 1..100 or a ``thumb_side`` below 1.
    """
    image = decoded.image
    return EncodedImage(
        data=encode_image(image, decoded.format, quality=quality),
        width=decoded.width,
        height=decoded.height,
        format=decoded.format,
        thumbnail=encode_image(make_thumbnail(image, thumb_side), "JPEG", quality=quality),
    )


def render_variant_files(
    image: Image.Image,
    names: Sequence[str],
    adjustments: Adjustments,
    *,
    fmt: str = "JPEG",
    quality: int = 90,
    thumb_side: int = 320,
) -> dict[str, EncodedImage]:
    """Render and encode the filters ``names`` of an original: what the variants task stores.

    ``image`` is the original (any mode; converted to RGB), ``adjustments`` the
    event's, applied first (``apply_adjustments``).  With ``fmt`` "JPEG" each variant
    goes through ``encode_variants`` (the fast path: straight from the filter buffers,
    thumbnails filtered from the downscaled original); with "PNG" through
    ``render_variants``, then a PNG of the variant and a JPEG thumbnail of it whose
    longer side is ``thumb_side`` pixels.  ``quality`` (1..100) is the JPEG quality.
    Returns ``{name: EncodedImage}`` in the order of ``names`` (repeats collapse), each
    the size of ``image``.

    :raises ValueError: for an unknown filter name or a format other than JPEG and
        PNG, before any work; for a quality outside 1..100 or a ``thumb_side`` below 1.
    """
    chosen = _unique_filters(names)
    name = _format_name(fmt)
    adjusted = as_rgb(apply_adjustments(image, adjustments))
    if name == "JPEG":
        return encode_variants(adjusted, names, quality=quality, thumb_side=thumb_side)
    return {
        variant_name: EncodedImage(
            data=encode_image(variant, "PNG", quality=quality),
            width=variant.width,
            height=variant.height,
            format="PNG",
            thumbnail=encode_image(make_thumbnail(variant, thumb_side), "JPEG", quality=quality),
        )
        for variant_name, variant in render_variants(adjusted, [f.name for f in chosen]).items()
    }


def render_strip_file(
    frames: Sequence[Image.Image],
    layout: str,
    *,
    filter_name: str | None = None,
    title: str | None = None,
    logo: Image.Image | None = None,
    fmt: str = "JPEG",
    quality: int = 90,
    thumb_side: int = 640,
) -> EncodedImage:
    """Compose and encode one strip: what the strips task stores.

    An animated layout (``animated``) goes to ``render_animated_strip_file``:
    ``title``, ``logo`` and ``fmt`` do not apply and ``quality`` is the thumbnail's.
    Each frame goes through ``apply_filter(frame, filter_name)`` when ``filter_name``
    is set (None or "" keeps the frames as they are), then ``compose_strip(frames,
    layout, title=title, logo=logo)``.  ``data`` is the strip in ``fmt`` ("JPEG" or
    "PNG", any case) with its layout's dpi and no other metadata, ``thumbnail`` a JPEG
    whose longer side is ``thumb_side`` pixels; ``width`` and ``height`` are the
    strip's, in pixels.  ``quality`` (1..100) is the JPEG quality.

    :raises ValueError: for an unknown filter or layout, no frames or too many, a
        format other than JPEG and PNG, a quality outside 1..100 or a ``thumb_side``
        below 1.
    """
    if _get_layout(layout).animated:
        return render_animated_strip_file(
            frames, layout, filter_name=filter_name, thumb_side=thumb_side, thumb_quality=quality
        )
    name = _format_name(fmt)
    shown = list(frames)
    if filter_name:
        shown = [apply_filter(frame, filter_name) for frame in shown]
    strip = compose_strip(shown, layout, title=title, logo=logo)
    return EncodedImage(
        data=encode_image(strip, name, quality=quality),
        width=strip.width,
        height=strip.height,
        format=name,
        thumbnail=encode_image(make_thumbnail(strip, thumb_side), "JPEG", quality=quality),
    )


def render_animated_strip_file(
    frames: Sequence[Image.Image],
    layout: str = "animated",
    *,
    filter_name: str | None = None,
    thumb_side: int = 640,
    thumb_quality: int = 90,
) -> EncodedImage:
    """Compose and encode an animated strip: a looping WebP, its GIF and a JPEG still.

    Each frame goes through ``apply_filter`` when ``filter_name`` is set, then
    ``compose_animation`` (480x360 frames for ``animated``), shown ``frame_ms`` of the
    layout each (800 ms), looping forever.  ``data`` is the animated WebP
    (``format`` "WEBP", ``encode_animated_webp``), ``gif`` the same frames as a GIF
    (``encode_animated_gif``), ``thumbnail`` a JPEG of the
    first frame whose longer side is at most ``thumb_side`` pixels; ``width`` and
    ``height`` are a frame's, in pixels.  One frame gives a still WebP and GIF.

    :raises ValueError: for an unknown filter or layout, a still layout, no frames or
        too many, or a ``thumb_side`` below 1.
    """
    spec = _get_layout(layout)
    shown = list(frames)
    if filter_name:
        shown = [apply_filter(frame, filter_name) for frame in shown]
    composed = compose_animation(shown, layout)
    return EncodedImage(
        data=encode_animated_webp(composed, spec.frame_ms),
        width=spec.width,
        height=spec.height,
        format="WEBP",
        thumbnail=encode_image(make_thumbnail(composed[0], thumb_side), quality=thumb_quality),
        gif=encode_animated_gif(composed, spec.frame_ms),
    )
