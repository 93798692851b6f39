"""QR codes for guest links (segno), as inline SVG the kiosk drops into its page."""

from __future__ import annotations

import segno


def qr_svg(url: str, *, scale: int = 8) -> str:
    """Return an ``<svg>`` element encoding ``url`` (error correction M, 4-module border).

    The element has a viewBox and no size, so the page sizes it.
    """
    code = segno.make(url, error="m")
    return str(code.svg_inline(scale=scale, dark="#111", light="#fff", omitsize=True))
