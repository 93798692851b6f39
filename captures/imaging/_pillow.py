"""Small Pillow helpers shared by the imaging modules.

``plain_image`` is the only code in ``captures.imaging`` that touches Pillow's private
core (``Image.Image()._new`` and ``Image.core.map_buffer``), through ``_share``; it falls
back to the public ``Image.frombytes`` when that is missing or misbehaves.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image
from PIL import _imaging as _core  # Image.core; only in _share


def plain_image(
    pixels: Image.Image | npt.NDArray[np.uint32], size: tuple[int, int] | None = None
) -> Image.Image:
    """Return a plain ``PIL.Image.Image`` holding ``pixels`` and no metadata at all.

    ``pixels`` is either a loaded image of any mode but "P"/"PA" (the result has its
    mode, size and pixels and nothing else: empty ``info``, none of a decoder's
    attributes such as JPEG markers or PNG chunks, no cached Exif), or a C-contiguous
    1-D uint32 array of ``width * height`` RGBX pixels (R in the low byte, as numpy
    views little-endian RGBX bytes) with ``size = (width, height)``, which comes back
    as a read-only "RGB" image of that size.

    The pixels are shared, not copied, through Pillow's private core: Pillow stores
    "RGB" as 4 bytes a pixel, so an RGBX buffer maps as "RGB" (``Image.frombuffer``
    itself maps only a few modes).  If that API fails or gives something unexpected,
    the result is a copy made with the public ``Image.frombytes``: the same mode,
    size, pixels and empty metadata, but writable.

    :raises ValueError: for an array without ``size`` or whose length is not
        ``width * height``.
    """
    if isinstance(pixels, Image.Image):
        mode, size = pixels.mode, pixels.size
    else:
        if size is None or pixels.shape != (size[0] * size[1],):
            raise ValueError("an RGBX array needs a size that matches its length")
        mode = "RGB"
    try:
        image = _share(pixels, size)
        if image.mode != mode or image.size != size:
            raise ValueError("unexpected shared image")
    except Exception:
        if isinstance(pixels, Image.Image):
            return Image.frombytes(mode, size, pixels.tobytes())
        return Image.frombytes("RGB", size, pixels, "raw", "RGBX")
    if not isinstance(pixels, Image.Image):
        image.readonly = 1  # the array is not ours to change: Pillow copies first
    return image


def _share(pixels: Image.Image | npt.NDArray[np.uint32], size: tuple[int, int]) -> Image.Image:
    """Wrap ``pixels`` in a fresh ``Image`` without copying (Pillow's private API)."""
    if isinstance(pixels, Image.Image):
        core = pixels.im
    else:
        core = _core.map_buffer(pixels, size, "raw", 0, ("RGB", 0, 1))
    return Image.Image()._new(core)


def as_rgb(image: Image.Image) -> Image.Image:
    """Return ``image`` if it is "RGB", else ``image.convert("RGB")``."""
    return image if image.mode == "RGB" else image.convert("RGB")
