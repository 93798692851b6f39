"""An event's open slideshows as events sees them: their Channels group, and news for it.

The slideshow socket (``captures.slideshow.SlideshowConsumer``) joins
``gallery_group(event)`` beside the event's live group. Rotating or revoking the
gallery link, or changing its expiry (``events.services``), calls
``announce_gallery_changed``: after the commit, ``{"type": "gallery.changed"}`` goes to
that group, and every open slideshow checks its link at once and closes with 4003 when
the link no longer opens the gallery (the page then shows its 410 "link gone" state).
Best effort, as for the booth sockets: a slideshow also re-checks on its own timer.

This module lives in ``events`` because ``events`` may not import ``captures``
(import-linter: events <- captures <- messaging).
"""

from __future__ import annotations

from django.db import transaction

from events.booth_sockets import send_to_group
from events.models import Event

#: The group message that makes open slideshows check their link now.
GALLERY_CHANGED = "gallery.changed"


def gallery_group(event: Event) -> str:
    """Return the Channels group of an event's open slideshows: ``gallery.<uuid hex>``."""
    return f"gallery.{event.public_id.hex}"


def announce_gallery_changed(event: Event) -> None:
    """Tell the event's open slideshows that its gallery link changed, after the commit.

    Outside a transaction the message goes at once. Never raises: a channel layer that
    is down is logged by ``send_to_group``, and the slideshows find out at their next
    timed check.
    """
    group = gallery_group(event)

    def push() -> None:
        send_to_group(group, {"type": GALLERY_CHANGED})

    transaction.on_commit(push)
