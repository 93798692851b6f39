"""The animated strip: a session's photos one after the other, as animated WebP and GIF.

``compose_animation`` fits each frame to an animated layout (``STRIP_LAYOUTS
["animated"]``: 480x360, 0.8 s a frame); ``encode_animated_webp`` and
``encode_animated_gif`` encode the frames as files that loop forever.

The GIF is made small by how it is quantised: each frame gets its own 256-colour
palette from Pillow's fast octree, mapped without dithering.  Pillow's default (median
cut, what ``Image.save(..., "GIF")`` does to RGB frames) is tens of times slower and
its files about 60 % larger, for a smaller error; dithering would scatter noise that
LZW compresses badly and that shimmers from frame to frame.  One palette shared by all
frames was tried too: a single colour table, but four different photos share its 256
colours, so it is both larger and further from the photos (``bench/imaging.py``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Final

from PIL import Image

from captures.imaging.strips import _get_layout, fit_frame

#: Quality of the animated WebP (lossy; 0..100).  80 keeps photos clean at a
#: fraction of the GIF's size.
WEBP_QUALITY: Final = 80
#: libwebp's effort (0 fast .. 6 slowest); 4 is its default and near 6 in size.
WEBP_METHOD: Final = 4
#: Colours of each GIF frame's palette.
GIF_COLOURS: Final = 256


def compose_animation(images: Sequence[Image.Image], layout: str = "animated") -> list[Image.Image]:
    """Return the frames of an animated strip: each of ``images`` fitted to the layout.

    Each frame is RGB, ``width`` x ``height`` of ``layout`` (480x360 for
    ``animated``), centre-cropped to that aspect ratio and resized (bicubic), in the
    order given.

    :raises ValueError: for an unknown layout, a still one, or no frames or more than
        the layout's ``max_frames``.
    """
    spec = _get_layout(layout)
    if not spec.animated:
        raise ValueError(f"{layout} is not an animated layout")
    return [
        fit_frame(image, w, h)
        for image, (_, _, w, h) in zip(images, spec.frame_boxes(len(images)), strict=True)
    ]


def encode_animated_webp(
    frames: Sequence[Image.Image],
    frame_ms: int,
    *,
    quality: int = WEBP_QUALITY,
    method: int = WEBP_METHOD,
) -> bytes:
    """Encode ``frames`` (same size, RGB) as a lossy WebP that loops forever.

    Each frame shows for ``frame_ms`` milliseconds.  One frame gives a still WebP
    (Pillow writes no animation chunk for it).  No metadata is written.

    :raises ValueError: for no frames, frames of different sizes, a ``frame_ms``
        below 1 or a quality outside 0..100.
    """
    first, rest = _check_frames(frames, frame_ms)
    if not 0 <= quality <= 100:
        raise ValueError(f"quality must be 0..100, got {quality}")
    buffer = io.BytesIO()
    first.save(
        buffer,
        "WEBP",
        save_all=True,
        append_images=rest,
        duration=frame_ms,
        loop=0,
        quality=quality,
        method=method,
        exif=b"",
        icc_profile=None,
    )
    return buffer.getvalue()


def encode_animated_gif(
    frames: Sequence[Image.Image], frame_ms: int, *, colours: int = GIF_COLOURS
) -> bytes:
    """Encode ``frames`` (same size, RGB) as a GIF that loops forever.

    Each frame is quantised to its own palette of ``colours`` entries (fast octree,
    no dithering; see the module docstring).  Each frame shows for ``frame_ms``
    milliseconds (GIF counts in hundredths of a second, so it is rounded to 10 ms).
    One frame gives a still GIF.

    :raises ValueError: for no frames, frames of different sizes, a ``frame_ms``
        below 1 or ``colours`` outside 2..256.
    """
    first, rest = _check_frames(frames, frame_ms)
    if not 2 <= colours <= 256:
        raise ValueError(f"colours must be 2..256, got {colours}")
    mapped = [
        frame.convert("RGB").quantize(
            colors=colours, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
        for frame in [first, *rest]
    ]
    buffer = io.BytesIO()
    mapped[0].save(
        buffer,
        "GIF",
        save_all=True,
        append_images=mapped[1:],
        duration=frame_ms,
        loop=0,
        optimize=False,
    )
    return buffer.getvalue()


def _check_frames(
    frames: Sequence[Image.Image], frame_ms: int
) -> tuple[Image.Image, list[Image.Image]]:
    if not frames:
        raise ValueError("an animation needs at least one frame")
    if frame_ms < 1:
        raise ValueError(f"frame_ms must be at least 1, got {frame_ms}")
    sizes = {frame.size for frame in frames}
    if len(sizes) != 1:
        raise ValueError(f"frames must all be the same size, got {sorted(sizes)}")
    return frames[0], list(frames[1:])
