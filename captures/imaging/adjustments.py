"""Camera-style adjustments: brightness, contrast and saturation for an event's photos."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageEnhance

from captures.imaging._pillow import as_rgb


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
    out = as_rgb(image)
    if adjustments.brightness != 1.0:
        out = ImageEnhance.Brightness(out).enhance(adjustments.brightness)
    if adjustments.contrast != 1.0:
        out = ImageEnhance.Contrast(out).enhance(adjustments.contrast)
    if adjustments.saturation != 1.0:
        out = ImageEnhance.Color(out).enhance(adjustments.saturation)
    return out
