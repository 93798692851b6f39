"""Pure imaging for captures: upload decoding, the seed's filters, strips and encoding.

Pillow and numpy only; nothing here imports Django, so the Celery tasks, the
management commands, the benchmarks (``bench/imaging.py``) and the unit tests all
call the same functions.  One module per concern, all names re-exported here:

- ``decoding``: upload limits and user-facing errors (RELIABILITY.md section 2),
  ``decode_upload``, ``decode_image`` and ``decode_logo``;
- ``filters``: the filter registry, the seed's tints bit-exact with its float64
  JavaScript (DESIGN.md section 7; ``seed_tint`` is the reference) and the lookup
  tables that reproduce it;
- ``adjustments``: brightness, contrast and saturation;
- ``strips``: strip layouts (``horizontal_4`` is the seed's, ``classic_2x6`` a print
  strip, ``animated`` a looping animation) and ``compose_strip``;
- ``animation``: the animated strip's frames, its WebP and its GIF;
- ``encoding``: ``encode_image``, thumbnails, and the capture pipeline the product
  runs (``encode_original``, ``render_variant_files``, ``render_strip_file``);
- ``frames``: live-preview frames for smile scoring;
- ``_pillow``: the one use of Pillow's private API, with a public fallback.
"""

from __future__ import annotations

from captures.imaging.adjustments import Adjustments, apply_adjustments
from captures.imaging.animation import (
    compose_animation,
    encode_animated_gif,
    encode_animated_webp,
)
from captures.imaging.decoding import (
    ALLOWED_FORMATS,
    ERRORS,
    LOGO_MAX_SIDE,
    MAX_ASPECT,
    MAX_BASE64_CHARS,
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    MIN_SIDE,
    TOO_LARGE_MESSAGE,
    DecodedImage,
    InvalidImage,
    decode_image,
    decode_logo,
    decode_upload,
)
from captures.imaging.encoding import (
    PNG_COMPRESS_LEVEL,
    EncodedImage,
    encode_image,
    encode_original,
    encode_variants,
    make_thumbnail,
    render_animated_strip_file,
    render_strip_file,
    render_variant_files,
)
from captures.imaging.filters import (
    FILTERS,
    SEED_FILTERS,
    Filter,
    FilterKind,
    apply_filter,
    render_variants,
    seed_tint,
)
from captures.imaging.frames import MAX_FRAME_PIXELS, decode_frame
from captures.imaging.strips import (
    STRIP_LAYOUTS,
    Box,
    StripLayout,
    compose_strip,
    logo_box,
    strip_frame_boxes,
)

__all__ = [
    "ALLOWED_FORMATS",
    "ERRORS",
    "FILTERS",
    "LOGO_MAX_SIDE",
    "MAX_ASPECT",
    "MAX_BASE64_CHARS",
    "MAX_FRAME_PIXELS",
    "MAX_PIXELS",
    "MAX_UPLOAD_BYTES",
    "MIN_SIDE",
    "PNG_COMPRESS_LEVEL",
    "SEED_FILTERS",
    "STRIP_LAYOUTS",
    "TOO_LARGE_MESSAGE",
    "Adjustments",
    "Box",
    "DecodedImage",
    "EncodedImage",
    "Filter",
    "FilterKind",
    "InvalidImage",
    "StripLayout",
    "apply_adjustments",
    "apply_filter",
    "compose_animation",
    "compose_strip",
    "decode_frame",
    "decode_image",
    "decode_logo",
    "decode_upload",
    "encode_animated_gif",
    "encode_animated_webp",
    "encode_image",
    "encode_original",
    "encode_variants",
    "logo_box",
    "make_thumbnail",
    "render_animated_strip_file",
    "render_strip_file",
    "render_variant_files",
    "render_variants",
    "seed_tint",
    "strip_frame_boxes",
]
