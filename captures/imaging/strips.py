"""Strips: where frames go on each layout, and the composed strip with its footer.

``horizontal_4`` is the seed's strip (four 640x480 frames side by side, 2560x480);
``classic_2x6`` is a 2x6 inch print strip at 300 dpi (600x1800 px) with a title band
that can hold the event's logo; ``animated`` shows the frames one after the other
(480x360, ``direction="frames"``), composed by ``captures.imaging.animation``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from PIL import Image, ImageDraw, ImageFont

from captures.imaging._pillow import as_rgb
from captures.imaging.decoding import ALPHA_MODES

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class StripLayout:
    """Where up to ``max_frames`` frames go on a strip of ``width`` x ``height`` px.

    ``direction="row"`` puts frames side by side from x=0 and, with ``grow`` set,
    the canvas is ``count * frame_width`` wide (the seed's strip).
    ``direction="column"`` centres frames horizontally and spreads them evenly
    (equal gaps above, between and below) over the height above the bottom band of
    ``band_height`` px, which holds the optional title.  ``direction="frames"`` is an
    animation: every frame fills the whole ``width`` x ``height`` canvas in turn, for
    ``frame_ms`` milliseconds each (``animated`` is then true; ``compose_animation``
    makes it, ``compose_strip`` refuses it).  Frames are centre-cropped to the frame's
    aspect ratio, then resized.  ``dpi`` is recorded in the strip's ``info`` for
    encoders.
    """

    name: str
    label: str
    width: int
    height: int
    frame_width: int
    frame_height: int
    direction: Literal["row", "column", "frames"]
    max_frames: int = 4
    grow: bool = False
    band_height: int = 0
    dpi: int | None = None
    frame_ms: int = 0

    @property
    def animated(self) -> bool:
        """Return True for an animation (``direction="frames"``), False for a still strip."""
        return self.direction == "frames"

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
        if self.direction == "frames":
            return [(0, 0, fw, fh)] * count
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
        # A looping animated WebP (and its GIF) of the session's photos, 0.8 s each.
        "animated": StripLayout(
            name="animated",
            label="Animated strip (looping WebP and GIF)",
            width=480,
            height=360,
            frame_width=480,
            frame_height=360,
            direction="frames",
            frame_ms=800,
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

    :raises ValueError: for an unknown layout, an animated one (``animated``: use
        ``compose_animation``), or no frames or too many.
    """
    spec = _get_layout(layout)
    if spec.animated:
        raise ValueError(f"{layout} is animated: compose it with compose_animation")
    boxes = spec.frame_boxes(len(images))
    canvas = Image.new("RGB", spec.canvas_size(len(images)), (255, 255, 255))
    for frame, (x, y, w, h) in zip(images, boxes, strict=True):
        canvas.paste(fit_frame(frame, w, h), (x, y))
    if logo is not None and spec.band_height:
        _draw_logo_footer(canvas, spec, logo, title)
    elif title and spec.band_height:
        _draw_title(canvas, spec, title)
    if spec.dpi:
        canvas.info["dpi"] = (spec.dpi, spec.dpi)
    return canvas


def fit_frame(image: Image.Image, width: int, height: int) -> Image.Image:
    """Return ``image`` as RGB, centre-cropped to ``width``:``height`` and resized (bicubic).

    An image already ``width`` x ``height`` comes back as is (converted to RGB if need be).
    """
    image = as_rgb(image)
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
    mode = "RGBA" if logo.mode in ALPHA_MODES else "RGB"
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
