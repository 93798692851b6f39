"""The live slideshow: what it shows, and its socket (``/ws/gallery/<gallery token>/``).

The page (``/g/<gallery token>/live/``, ``captures.slideshow_views``) shows the slides of
``feed``: an event's visible, rendered captures and rendered strips, newest first, at most
``FEED_LIMIT``. Each slide is a ``Slide``: an id, a kind, a media URL and its size in
pixels. Nothing else reaches a guest: no phone number, share token, booth or session.

The socket joins the event's live group (``live.event_group``), where rendered captures
(``capture.ready``), rendered strips (``strip.ready``), hidden or deleted captures
(``capture.hidden``) and captures shown again (``capture.shown``) are announced, and
sends the page JSON messages with a ``type``:

- ``slide``: ``{"slide": Slide}``, a capture or strip just rendered (or a capture shown
  again), looked up again in the database (so a capture hidden meanwhile is never sent);
- ``remove``: ``{"ids": [...]}``, slides to drop at once (a capture hidden or deleted,
  and its session's strips, which are rendered again without it);
- ``pong``: the answer to the page's ``{"type": "ping"}``.

The page takes its snapshot from ``/g/<token>/live/feed.json`` once the socket is open
(and again after every reconnection, and every minute), so nothing announced between the
snapshot and the join is lost. Everything else on the event's group (the booths'
presence, smiles, the monitor's capture details) is dropped here.

The socket also joins the gallery's group (``events.gallery_sockets.gallery_group``):
when the link is rotated, revoked or its expiry changed, ``gallery.changed`` arrives
there and the socket checks its link at once, closing with 4003 if it no longer opens
the gallery. A link that expires is found when it expires (the timed check waits no
longer than that).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from importlib import import_module
from typing import Any, Literal, TypedDict

from channels.db import database_sync_to_async
from django.conf import settings
from django.http import Http404, HttpRequest
from django.utils import timezone

from captures import live
from captures.access import slideshow_captures, slideshow_strips
from captures.consumers import CLOSE_LAYER_DOWN, ListeningConsumer, log_task_failure
from captures.models import Capture, Strip
from captures.public_views import PASSCODE_SESSION_KEY
from events import gallery_sockets, guessing
from events.access import access_event_by_gallery_token
from events.exceptions import DomainError
from events.models import Event

logger = logging.getLogger(__name__)

#: The most slides a feed holds (the newest ones): a 20-minute loop at 6 s a slide.
FEED_LIMIT = 200
#: The gallery is no longer open to this link (turned off, archived, expired, revoked,
#: rotated, or a passcode gallery the session no longer unlocks): the page says so and
#: stops reconnecting.
CLOSE_GALLERY_CLOSED = 4003
#: An open slideshow checks that its gallery is still open this often, in s.
RECHECK_SECONDS = 30.0


def seconds_to_next_check(expires_at: dt.datetime | None, now: dt.datetime) -> float:
    """Return the seconds to wait before the next timed check of a slideshow's link.

    ``RECHECK_SECONDS``, or less when the link expires sooner (a hair after its expiry;
    never negative). ``expires_at`` and ``now`` are aware datetimes.
    """
    if expires_at is None:
        return RECHECK_SECONDS
    return max(0.0, min(RECHECK_SECONDS, (expires_at - now).total_seconds() + 0.05))


class Slide(TypedDict):
    """One slide of the show, all that a guest's screen gets of a capture or strip.

    ``id`` is the capture's or strip's public id, ``kind`` "capture" or "strip", ``url``
    its image (a path on local storage, a short-lived signed URL on S3; an animated WebP
    for the ``animated`` layout), ``width`` and ``height`` its size in pixels.
    """

    id: str
    kind: Literal["capture", "strip"]
    url: str
    width: int
    height: int


def capture_slide(capture: Capture) -> Slide:
    """Return the slide of a visible, rendered capture: its original image."""
    return {
        "id": str(capture.public_id),
        "kind": "capture",
        "url": live.media_path(capture.image.name) or "",
        "width": capture.width,
        "height": capture.height,
    }


def strip_slide(strip: Strip) -> Slide:
    """Return the slide of a rendered strip: its image (the WebP of an animated one)."""
    return {
        "id": str(strip.public_id),
        "kind": "strip",
        "url": live.media_path(strip.image.name) or "",
        "width": strip.width,
        "height": strip.height,
    }


_CAPTURE_FIELDS = ("public_id", "image", "width", "height", "taken_at")
_STRIP_FIELDS = ("public_id", "image", "width", "height", "created_at")


def feed(event: Event, limit: int = FEED_LIMIT) -> list[Slide]:
    """Return the event's newest ``limit`` slides, captures and strips by time, newest first.

    A capture counts from when it was taken, a strip from when its session finished.
    Two queries, whatever the number of captures.
    """
    captures = list(slideshow_captures(event).only(*_CAPTURE_FIELDS)[:limit])
    strips = list(slideshow_strips(event).only(*_STRIP_FIELDS)[:limit])
    timed = [(c.taken_at, 0, capture_slide(c)) for c in captures]
    timed += [(s.created_at, 1, strip_slide(s)) for s in strips]
    timed.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [slide for _, _, slide in timed[:limit]]


def _uuids(values: list[Any]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return found


def capture_slides(event: Event, capture_ids: list[Any]) -> list[Slide]:
    """Return the slides of those of ``capture_ids`` that guests may see now (one query)."""
    wanted = _uuids(capture_ids)
    if not wanted:
        return []
    found = slideshow_captures(event).only(*_CAPTURE_FIELDS).filter(public_id__in=wanted)
    return [capture_slide(capture) for capture in found]


def strip_slides(event: Event, strip_ids: list[Any]) -> list[Slide]:
    """Return the slides of those of ``strip_ids`` that are rendered now (one query)."""
    wanted = _uuids(strip_ids)
    if not wanted:
        return []
    found = slideshow_strips(event).only(*_STRIP_FIELDS).filter(public_id__in=wanted)
    return [strip_slide(strip) for strip in found]


def unlocks(event: Event, session: Any) -> bool:
    """Tell whether a guest's ``session`` may see ``event``'s gallery.

    True for a private-link gallery; for a passcode gallery, when the session holds it
    as unlocked (the gallery page's passcode form puts it there).
    """
    if event.gallery_visibility != Event.GalleryVisibility.PASSCODE:
        return True
    unlocked = session.get(PASSCODE_SESSION_KEY, []) if session is not None else []
    return isinstance(unlocked, list) and event.gallery_token in unlocked


def open_gallery(token: str, session_key: str | None) -> Event | None:
    """Return the event whose gallery ``token`` opens for the session ``session_key``.

    None alike for an unknown token, a gallery turned off, an archived event, a link
    that expired, was revoked or rotated (``access_event_by_gallery_token``), and a
    passcode gallery the session has not unlocked. The session is read as stored now.
    """
    try:
        event = access_event_by_gallery_token(token)
    except (Http404, DomainError):
        return None
    return event if unlocks(event, stored_session(session_key)) else None


def stored_session(session_key: str | None) -> Any:
    """Return the session ``session_key`` as it is stored now (empty when it is gone)."""
    engine = import_module(settings.SESSION_ENGINE)
    return engine.SessionStore(session_key)


def client_request(scope: Mapping[str, Any]) -> HttpRequest:
    """Return a bare request carrying a socket's client address, for ``events.guessing``."""
    request = HttpRequest()
    client = scope.get("client") or ("", 0)
    request.META["REMOTE_ADDR"] = str(client[0] or "")
    for name, value in scope.get("headers") or []:
        if name == b"x-forwarded-for":
            request.META["HTTP_X_FORWARDED_FOR"] = value.decode("latin-1")
    return request


def handshake_gallery(scope: Mapping[str, Any]) -> Event | None:
    """Return the event a slideshow socket may watch, or None to refuse it.

    Unknown tokens count against the client address's link misses
    (``guessing.LINK_MISSES_PER_IP``, as the gallery's 404s do); an address over that
    limit is refused whatever token it sends.
    """
    request = client_request(scope)
    if guessing.retry_after(request, guessing.LINK_MISSES_PER_IP) is not None:
        return None
    token = str(scope["url_route"]["kwargs"]["gallery_token"])
    try:
        event = access_event_by_gallery_token(token)
    except Http404:
        guessing.record_failure(request, guessing.LINK_MISSES_PER_IP)
        return None
    except DomainError:
        return None
    session_key = getattr(scope.get("session"), "session_key", None)
    return event if unlocks(event, stored_session(session_key)) else None


class SlideshowConsumer(ListeningConsumer):
    """A slideshow's socket: the event's new slides and removed ones, pushed.

    Refuses the handshake (HTTP 403) for an unknown token, a gallery turned off, an
    archived event, an expired, revoked or rotated link, and a passcode gallery the
    guest's session has not unlocked (the Origin header is checked before, in
    ``boothsite.asgi``). Sends what the module docstring lists. After the handshake it
    closes with:

    ======  ==============================================================================
    code    meaning (the page's reaction)
    ======  ==============================================================================
    4000    a text message other than ``{"type": "ping"}``, or a binary one (reconnects)
    4003    the gallery is no longer open to this link: at once when the link is
            rotated or revoked (``gallery.changed``), at its expiry, else found every
            ``RECHECK_SECONDS`` (the page asks the feed why, says so and stops)
    4013    the live channel (Redis) is unavailable (reconnects after a pause)
    ======  ==============================================================================
    """

    event: Event

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.joined = False
        self.group = ""
        self.gallery_group = ""
        self.checking: asyncio.Task[None] | None = None
        self.check_now = asyncio.Event()

    async def connect(self) -> None:
        event = await database_sync_to_async(handshake_gallery)(self.scope)
        if event is None:
            await self.close()
            return
        self.event = event
        self.group = live.event_group(event)
        self.gallery_group = gallery_sockets.gallery_group(event)
        self.joined = not self.layer_lost and await self._join(self.group)
        if self.joined and not await self._join(self.gallery_group):
            await self._leave(self.group)
            self.joined = False
        await self.accept()
        self.accepted = True
        if not self.joined:
            await self._close(CLOSE_LAYER_DOWN)
            return
        self.checking = asyncio.ensure_future(self._recheck())
        self.checking.add_done_callback(log_task_failure)

    async def disconnect(self, code: int) -> None:
        self.closing = True
        if self.checking is not None:
            self.checking.cancel()
        if self.joined:
            await self._leave(self.group)
            await self._leave(self.gallery_group)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Turn the group's capture and strip news into slides; drop everything else.

        Only ids are read from a group message; what is sent is looked up again, with
        the guests' rules (visible, rendered, this event's).
        """
        kind = message.get("type", "")
        if kind.startswith(("websocket.", "socket.")):
            await super().dispatch(message)
        elif self.closing or not self.accepted:
            return
        elif kind in ("capture.ready", "capture.shown"):
            found = await database_sync_to_async(capture_slides)(
                self.event, [message.get("capture")]
            )
            for slide in found:
                await self._send({"type": "slide", "slide": slide})
        elif kind == "strip.ready":
            strips = message.get("strips")
            wanted = strips if isinstance(strips, list) else []
            for slide in await database_sync_to_async(strip_slides)(self.event, wanted):
                await self._send({"type": "slide", "slide": slide})
        elif kind == gallery_sockets.GALLERY_CHANGED:
            self.check_now.set()
        elif kind == "capture.hidden":
            strips = message.get("strips")
            ids = [message.get("capture"), *(strips if isinstance(strips, list) else [])]
            await self._send({"type": "remove", "ids": [str(u) for u in _uuids(ids)]})
        else:
            logger.debug("Slideshow dropped a %r message.", kind)

    async def _recheck(self) -> None:
        """Close with 4003 once the gallery no longer opens to this link and session.

        Checks every ``RECHECK_SECONDS``, at the link's expiry, and at once on
        ``gallery.changed``. A database error keeps the slideshow open (logged); the
        next check tries again.
        """
        session = self.scope.get("session")
        session_key = getattr(session, "session_key", None)
        token = str(self.scope["url_route"]["kwargs"]["gallery_token"])
        while not self.closing:
            wait = seconds_to_next_check(self.event.gallery_expires_at, timezone.now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.check_now.wait(), wait)
            self.check_now.clear()
            try:
                event = await database_sync_to_async(open_gallery)(token, session_key)
            except Exception as error:
                logger.warning("Re-checking a slideshow failed (%r); kept open.", error)
                continue
            if event is None or event.pk != self.event.pk:
                await self._close(CLOSE_GALLERY_CLOSED)
                return
            self.event = event  # a new expiry is waited for from now on
