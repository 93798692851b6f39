"""Live-preview frames: cheap decoding for smile scoring, never stored."""

from __future__ import annotations

import io
import warnings
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from captures.imaging.decoding import ALLOWED_FORMATS, InvalidImage

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
