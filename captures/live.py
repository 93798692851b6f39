"""Pushes to the live Channels groups (booth kiosk, organiser monitor, slideshow), and presence.

Group sends are best effort: the channel layer spec says they never guarantee delivery,
and a Redis outage must not fail an upload or a render (RELIABILITY 47-48). Each send is
bounded by ``BOOTHSITE_WS_LAYER_TIMEOUT_SECONDS``. The booth's group name, and closing a
booth's sockets, live in ``events.booth_sockets`` (events may not import captures).

Groups (``<kind>.<uuid hex>``, STYLE 2.10):

- ``booth.<booth>``: one booth's kiosk sockets (camera settings, ``capture.ready``,
  revocation);
- ``event.<event>``: what the booths serving one event do, for that event's monitors;
- ``organiser.<organiser>``: the same for all of an organiser's booths, for the
  organiser-wide monitor (a booth moved to another event stays in it).

A booth socket publishes to its event's and its organiser's groups (``MonitorMessage``
types below). Presence, whether a booth's socket is up, is also kept in the cache
(``presence_key``) with a TTL of ``PRESENCE_TTL_SECONDS``, refreshed every
``PRESENCE_REFRESH_SECONDS`` while the socket lives, so a monitor that connects later
can read it, and a server that dies without closing its sockets lets its booths go
offline within the TTL.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import transaction

from events import booth_sockets

if TYPE_CHECKING:
    import datetime as dt
    import uuid
    from collections.abc import Sequence

    from captures.models import Capture
    from events.models import Booth, Event, Organiser

logger = logging.getLogger(__name__)

#: A booth's presence record expires this long after its socket last refreshed it, in s.
PRESENCE_TTL_SECONDS = 60
#: An open booth socket refreshes its presence record (and tells monitors) this often, in s.
PRESENCE_REFRESH_SECONDS = 20
#: A monitor gets at most one smile update per booth in this many seconds (issue 17.3);
#: triggers, presence, queue counts and captures always go at once.
SMILE_INTERVAL_SECONDS = 1.0
#: The largest queue count a kiosk may report (a kiosk holds a few dozen at most).
MAX_QUEUE_REPORT = 100_000


class Presence(TypedDict):
    """A booth's socket as the cache records it while it is open.

    ``channel`` is the socket's channel name (the last socket to connect owns the
    record); times are ISO 8601 in UTC; ``pending`` is the kiosk's last reported count
    of uploads waiting in its offline queue (None before its first report).
    """

    channel: str
    event: str
    since: str
    seen: str
    last_frame_at: str | None
    pending: int | None


class CaptureState(TypedDict):
    """A capture as monitors see it (``capture.ready`` and the snapshot).

    ``capture`` and ``session`` are public ids, ``booth`` and ``event`` uuid hex,
    ``taken_at`` ISO 8601, ``thumbnail_url`` a path or URL of its thumbnail (signed and
    short-lived on S3), ``status`` its render status.
    """

    capture: str
    session: str
    booth: str
    booth_name: str
    event: str
    taken_at: str
    trigger: str
    smile_score: float | None
    thumbnail_url: str | None
    status: str


def event_group(event: Event) -> str:
    """Return the Channels group of an event's live listeners: ``event.<uuid hex>``."""
    return f"event.{event.public_id.hex}"


def organiser_group(organiser: Organiser) -> str:
    """Return the Channels group of an organiser's monitors: ``organiser.<uuid hex>``."""
    return f"organiser.{organiser.public_id.hex}"


def publish(group: str, message: dict[str, Any]) -> bool:
    """Send ``message`` to ``group``; return False (and log a warning) if the layer fails.

    Never raises; waits at most ``BOOTHSITE_WS_LAYER_TIMEOUT_SECONDS``.
    """
    return booth_sockets.send_to_group(group, message)


def booth_group(booth: Booth) -> str:
    """Return the Channels group of one booth's kiosk sockets: ``booth.<uuid hex>``."""
    return booth_sockets.booth_group(booth)


def iso(moment: dt.datetime | None) -> str | None:
    """Return ``moment`` as ISO 8601 (None stays None)."""
    return moment.isoformat() if moment is not None else None


def media_path(name: str) -> str | None:
    """Return the URL of a stored file (a path with local storage), or None for no file."""
    return default_storage.url(name) if name else None


def capture_state(capture: Capture) -> CaptureState:
    """Return what monitors show of ``capture`` (reads its session and the session's booth)."""
    return {
        "capture": str(capture.public_id),
        "session": str(capture.session.public_id),
        "booth": capture.session.booth.public_id.hex,
        "booth_name": capture.session.booth.name,
        "event": capture.event.public_id.hex,
        "taken_at": capture.taken_at.isoformat(),
        "trigger": capture.trigger,
        "smile_score": capture.smile_score,
        "thumbnail_url": media_path(capture.thumbnail.name or capture.image.name),
        "status": capture.render_status,
    }


def announce_capture_ready(capture: Capture) -> None:
    """Tell the booth that took ``capture``, and its monitors, that it is rendered.

    After the current transaction commits (at once outside one): ``capture.ready`` to
    the booth's group (``capture``, ``session``: the kiosk refreshes its drawer) and,
    with the rest of ``CaptureState`` (its thumbnail among it), to the event's and the
    organiser's groups. Best effort: a failed send is logged, never raised.
    """
    state = capture_state(capture)
    booth = booth_group(capture.session.booth)
    groups = (event_group(capture.event), organiser_group(capture.event.organiser))

    def send() -> None:
        to_booth = {
            "type": "capture.ready",
            "capture": state["capture"],
            "session": state["session"],
        }
        publish(booth, to_booth)
        for group in groups:
            publish(group, {"type": "capture.ready", **state})

    transaction.on_commit(send, robust=True)


def announce_capture_hidden(
    event: Event, capture_id: uuid.UUID, strip_ids: Sequence[uuid.UUID]
) -> None:
    """Tell the event's live listeners, after the commit, that a capture left guests' view.

    ``capture.hidden`` to the event's group with ``capture`` (its public id), ``event``
    (hex) and ``strips`` (the public ids of its session's strips, which are rendered again
    without it, or deleted). Slideshows drop those slides; monitors ignore the message.
    Sent for a capture hidden or deleted. Best effort, like every send here.
    """
    message = {
        "type": "capture.hidden",
        "capture": str(capture_id),
        "event": event.public_id.hex,
        "strips": [str(strip_id) for strip_id in strip_ids],
    }
    group = event_group(event)
    transaction.on_commit(lambda: publish(group, message), robust=True)


def announce_capture_shown(event: Event, capture_id: uuid.UUID) -> None:
    """Tell the event's live listeners, after the commit, that a hidden capture is shown again.

    ``capture.shown`` to the event's group with ``capture`` (public id) and ``event``
    (hex). Slideshows show it again; monitors ignore it.
    """
    message = {"type": "capture.shown", "capture": str(capture_id), "event": event.public_id.hex}
    group = event_group(event)
    transaction.on_commit(lambda: publish(group, message), robust=True)


def announce_strips_ready(event: Event, strip_ids: Sequence[uuid.UUID]) -> None:
    """Tell the event's live listeners, after the commit, that strips are rendered.

    ``strip.ready`` to the event's group with ``strips`` (public ids) and ``event``
    (hex); nothing when ``strip_ids`` is empty. Slideshows show them; monitors ignore it.
    """
    if not strip_ids:
        return
    message = {
        "type": "strip.ready",
        "strips": [str(strip_id) for strip_id in strip_ids],
        "event": event.public_id.hex,
    }
    group = event_group(event)
    transaction.on_commit(lambda: publish(group, message), robust=True)


def push_camera_settings(booth: Booth) -> bool:
    """Send ``booth``'s camera settings to its running kiosks (``booth.settings``).

    The kiosk's socket forwards them as ``{"type": "camera", "camera": {...}}``, the
    same ``camera`` object the ``me/`` API returns, and the kiosk applies them at once.
    """
    return publish(
        booth_group(booth), {"type": "booth.settings", "camera": booth.camera_settings()}
    )


def presence_key(booth_hex: str) -> str:
    """Return the cache key of a booth's presence record."""
    return f"boothsite:presence:{booth_hex}"


def save_presence(booth_hex: str, record: Presence) -> bool:
    """Store ``record`` for ``PRESENCE_TTL_SECONDS``; False (logged) if the cache fails.

    Sync (a cache call): consumers run it through ``sync_to_async``.
    """
    try:
        cache.set(presence_key(booth_hex), record, PRESENCE_TTL_SECONDS)
    except Exception as error:
        logger.warning("Could not record booth presence (%s).", type(error).__name__)
        return False
    return True


def clear_presence(booth_hex: str, channel: str) -> bool:
    """Delete the booth's record if ``channel`` still owns it; return whether it did.

    A newer socket of the same booth (a kiosk that reconnected before its old socket
    closed) owns the record: it is left alone, so the booth stays online. False too when
    the cache fails (logged).
    """
    key = presence_key(booth_hex)
    try:
        record = cache.get(key)
        if not isinstance(record, dict) or record.get("channel") != channel:
            return False
        cache.delete(key)
    except Exception as error:
        logger.warning("Could not clear booth presence (%s).", type(error).__name__)
        return False
    return True


def presences(booth_hexes: list[str]) -> dict[str, Presence]:
    """Return the presence records of the booths that have one (empty if the cache fails)."""
    keys = {presence_key(booth_hex): booth_hex for booth_hex in booth_hexes}
    try:
        found = cache.get_many(list(keys))
    except Exception as error:
        logger.warning("Could not read booth presence (%s).", type(error).__name__)
        return {}
    return {
        keys[key]: cast("Presence", record)
        for key, record in found.items()
        if isinstance(record, dict)
    }
