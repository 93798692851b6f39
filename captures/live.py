"""Pushes to the live Channels groups (booth kiosk, organiser monitor, slideshow).

Group sends are best effort: the channel layer spec says they never guarantee delivery,
and a Redis outage must not fail an upload or a render (RELIABILITY 47-48). Each send is
bounded by ``BOOTHSITE_WS_LAYER_TIMEOUT_SECONDS``. The booth's group name, and closing a
booth's sockets, live in ``events.booth_sockets`` (events may not import captures).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from events import booth_sockets

if TYPE_CHECKING:
    from captures.models import Capture
    from events.models import Booth, Event


def event_group(event: Event) -> str:
    """Return the Channels group of an event's live listeners: ``event.<uuid hex>``."""
    return f"event.{event.public_id.hex}"


def publish(group: str, message: dict[str, Any]) -> bool:
    """Send ``message`` to ``group``; return False (and log a warning) if the layer fails.

    Never raises; waits at most ``BOOTHSITE_WS_LAYER_TIMEOUT_SECONDS``.
    """
    return booth_sockets.send_to_group(group, message)


def booth_group(booth: Booth) -> str:
    """Return the Channels group of one booth's kiosk sockets: ``booth.<uuid hex>``."""
    return booth_sockets.booth_group(booth)


def announce_capture_ready(capture: Capture) -> bool:
    """Tell the booth that took ``capture``, and the event's monitors, that it is rendered."""
    message = {
        "type": "capture.ready",
        "capture": str(capture.public_id),
        "session": str(capture.session.public_id),
    }
    to_booth = publish(booth_group(capture.session.booth), message)
    return publish(event_group(capture.event), message) and to_booth


def push_camera_settings(booth: Booth) -> bool:
    """Send ``booth``'s camera settings to its running kiosks (``booth.settings``).

    The kiosk's socket forwards them as ``{"type": "camera", "camera": {...}}``, the
    same ``camera`` object the ``me/`` API returns, and the kiosk applies them at once.
    """
    return publish(
        booth_group(booth), {"type": "booth.settings", "camera": booth.camera_settings()}
    )
