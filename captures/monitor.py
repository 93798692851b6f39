"""The console's live monitor socket: each booth's state, pushed (``/ws/console/…``).

Routes (``captures.routing``), under the console's login session (Channels'
``AuthMiddlewareStack`` on these routes only; the booth route keeps its ticket):

- ``/ws/console/<organiser_slug>/``: every usable booth of the organiser;
- ``/ws/console/<organiser_slug>/<event_slug>/``: the booths serving that event.

The consumer joins ``live.organiser_group`` or ``live.event_group``, where booth sockets
publish (``captures.consumers``) and rendered captures are announced (``live``), and
sends the client JSON messages, each with a ``type``:

- ``snapshot`` first: ``{"booths": [BoothState…], "captures": [CaptureState…]}``, the
  booths from the database and the presence cache, the newest rendered captures;
- ``presence``: a booth's socket opened, is still open (every
  ``live.PRESENCE_REFRESH_SECONDS``; ``expires_in`` says how long the page may trust it
  without news) or closed (``online`` false);
- ``smile``: ``score`` (latest), ``peak`` and ``frames`` since the last update, ``at``;
  at most one per booth per ``live.SMILE_INTERVAL_SECONDS`` (the latest is never lost);
- ``trigger``: a smile triggered a snap (every one is sent);
- ``queue``: ``pending``, the uploads waiting in the kiosk's offline queue;
- ``capture``: a capture's variants are rendered (``CaptureState``, with its thumbnail);
- ``pong``: the answer to the client's ``{"type": "ping"}``.

Every message names its booth by ``booth`` (its public id, hex) and its ``event`` (hex).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from importlib import import_module
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypedDict

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404

from captures import live
from captures.consumers import (
    CLOSE_LAYER_DOWN,
    ListeningConsumer,
    Throttle,
    log_task_failure,
    merge_smiles,
)
from captures.models import Capture, RenderStatus
from events import access
from events.models import Booth
from events.roles import Perm

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from events.models import Event, Organiser

logger = logging.getLogger(__name__)

#: The user signed out, lost their membership or their session expired (found at the
#: re-check): the page says so and does not reconnect.
CLOSE_ACCESS_LOST = 4003
#: An open monitor re-checks its session and membership this often, in s.
RECHECK_SECONDS = 60.0
#: At most this many booths in a snapshot (by name), and this many recent captures.
MAX_BOOTHS = 200
RECENT_CAPTURES = 12

#: Group message type -> the type the client gets (``booth.smile`` is throttled apart).
FORWARDED = {
    "booth.presence": "presence",
    "booth.trigger": "trigger",
    "booth.queue": "queue",
    "capture.ready": "capture",
}


class BoothState(TypedDict):
    """One booth in a snapshot. Times are ISO 8601 (None: never or unknown).

    ``online``: its socket is up (a presence record exists); ``pending``: the kiosk's
    last reported queue length; ``last_capture``: its newest visible capture.
    """

    booth: str
    name: str
    event: str | None
    event_name: str | None
    online: bool
    since: str | None
    last_seen_at: str | None
    last_frame_at: str | None
    pending: int | None
    expires_in: int | None
    last_capture: live.CaptureState | None


@dataclass(frozen=True)
class Snapshot:
    """What a monitor shows when it opens: the booths and the newest rendered captures."""

    booths: list[BoothState]
    captures: list[live.CaptureState]

    def message(self) -> dict[str, Any]:
        """Return the ``snapshot`` message sent first on the socket."""
        return {"type": "snapshot", "booths": self.booths, "captures": self.captures}


def build_snapshot(organiser: Organiser, event: Event | None = None) -> Snapshot:
    """Return the state of the organiser's usable booths (those serving ``event``, if given).

    Three queries and one cache read, whatever the number of booths (at most
    ``MAX_BOOTHS``, by name). Hidden captures are left out.
    """
    captures = Capture.objects.for_organiser(organiser).visible()
    if event is not None:
        captures = captures.for_event(event)
    latest = captures.filter(session__booth=OuterRef("pk")).order_by("-taken_at", "-pk")
    booths_query = Booth.objects.for_organiser(organiser).usable().select_related("current_event")
    if event is not None:
        booths_query = booths_query.filter(current_event=event)
    booths = list(
        booths_query.annotate(last_capture_pk=Subquery(latest.values("pk")[:1])).order_by(
            "name", "pk"
        )[:MAX_BOOTHS]
    )
    shown = captures.select_related("event", "session__booth")
    last_pks = {booth.pk: getattr(booth, "last_capture_pk", None) for booth in booths}
    wanted = [pk for pk in last_pks.values() if pk is not None]
    last = {capture.pk: capture for capture in shown.filter(pk__in=wanted)} if wanted else {}
    recent = shown.filter(render_status=RenderStatus.READY).order_by("-taken_at", "-pk")
    records = live.presences([booth.public_id.hex for booth in booths])
    states = []
    for booth in booths:
        record = records.get(booth.public_id.hex)
        capture = last.get(last_pks[booth.pk] or 0)
        served = booth.current_event
        states.append(
            BoothState(
                booth=booth.public_id.hex,
                name=booth.name,
                event=served.public_id.hex if served else None,
                event_name=served.name if served else None,
                online=record is not None,
                since=record["since"] if record else None,
                last_seen_at=record["seen"] if record else live.iso(booth.last_seen_at),
                last_frame_at=record["last_frame_at"] if record else None,
                pending=record["pending"] if record else None,
                expires_in=live.PRESENCE_TTL_SECONDS if record else None,
                last_capture=live.capture_state(capture) if capture else None,
            )
        )
    return Snapshot(
        booths=states, captures=[live.capture_state(c) for c in recent[:RECENT_CAPTURES]]
    )


@dataclass(frozen=True)
class MonitorScope:
    """What one monitor watches: an organiser, or one of its events."""

    organiser: Organiser
    event: Event | None

    @property
    def group(self) -> str:
        """The Channels group the monitor joins."""
        if self.event is not None:
            return live.event_group(self.event)
        return live.organiser_group(self.organiser)


def monitor_scope(
    user: AbstractBaseUser | AnonymousUser, organiser_slug: str, event_slug: str | None
) -> MonitorScope | None:
    """Return what ``user`` may watch there (``Perm.VIEW``), or None.

    None alike for a user who is not signed in, not a member, without the permission,
    or asking for an organiser or event that does not exist.
    """
    try:
        if event_slug is None:
            organiser = access.access_organiser(user, organiser_slug, perm=Perm.VIEW)
            return MonitorScope(organiser, None)
        event = access.access_event(user, organiser_slug, event_slug, perm=Perm.VIEW)
    except (Http404, PermissionDenied):
        return None
    return MonitorScope(event.organiser, event)


def session_user(session_key: str | None) -> AbstractBaseUser | AnonymousUser:
    """Return the user of the session ``session_key`` as it is stored now.

    Anonymous when the session is gone (signed out, expired) or no longer valid (the
    password changed since: Django's session hash check).
    """
    engine = import_module(settings.SESSION_ENGINE)
    request = SimpleNamespace(session=engine.SessionStore(session_key))
    return auth.get_user(request)  # type: ignore[arg-type]


class MonitorConsumer(ListeningConsumer):
    """The console's live view of an organiser's booths (or one event's), pushed.

    Refuses the handshake (HTTP 403) to a user who is not signed in, or who is not a
    member with ``Perm.VIEW`` of the organiser, or who names an organiser or event that
    does not exist: the same refusal in every case. (The Origin header is checked
    before, in ``boothsite.asgi``.) Sends a ``snapshot``, then what the booths do (the
    module docstring). After the handshake it closes with:

    ======  ==============================================================================
    code    meaning (the page's reaction)
    ======  ==============================================================================
    4000    a text message other than ``{"type": "ping"}``, or a binary one
    4003    the user no longer has access: signed out, session expired, removed from
            the organiser; found every ``RECHECK_SECONDS`` (says so, no reconnect)
    4013    the live channel (Redis) is unavailable (reconnects after a pause)
    ======  ==============================================================================
    """

    watch: MonitorScope

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.joined = False
        self.checking: asyncio.Task[None] | None = None
        self.smiles = Throttle(live.SMILE_INTERVAL_SECONDS, self._forward, merge_smiles)

    async def connect(self) -> None:
        kwargs = self.scope["url_route"]["kwargs"]
        user = self.scope.get("user") or AnonymousUser()
        watch = await database_sync_to_async(monitor_scope)(
            user, kwargs["organiser_slug"], kwargs.get("event_slug")
        )
        if watch is None:
            await self.close()
            return
        self.watch = watch
        self.joined = not self.layer_lost and await self._join(watch.group)
        await self.accept()
        self.accepted = True
        if not self.joined:
            await self._close(CLOSE_LAYER_DOWN)
            return
        snapshot = await database_sync_to_async(build_snapshot)(watch.organiser, watch.event)
        await self._send(snapshot.message())
        self.checking = asyncio.ensure_future(self._recheck())
        self.checking.add_done_callback(log_task_failure)

    async def disconnect(self, code: int) -> None:
        self.closing = True
        self.smiles.cancel()
        if self.checking is not None:
            self.checking.cancel()
        if self.joined:
            await self._leave(self.watch.group)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Forward the groups' booth messages; pass the socket's own to Channels.

        A group message of a type this monitor does not know is dropped (logged), so a
        new publisher never crashes open monitors.
        """
        kind = message.get("type", "")
        if kind == "booth.smile":
            await self.smiles.offer(str(message.get("booth", "")), message)
        elif kind in FORWARDED:
            await self._forward(message)
        elif kind.startswith(("websocket.", "socket.")):
            await super().dispatch(message)
        else:
            logger.debug("Monitor dropped a %r message.", kind)

    async def _forward(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        await self._send({**message, "type": FORWARDED.get(kind, kind.removeprefix("booth."))})

    async def _recheck(self) -> None:
        """Close with 4003 once the session or the membership no longer allows watching.

        A database error keeps the monitor open (logged); the next check tries again.
        """
        session = self.scope.get("session")
        session_key = getattr(session, "session_key", None)
        kwargs = self.scope["url_route"]["kwargs"]
        while not self.closing:
            await asyncio.sleep(RECHECK_SECONDS)
            try:
                allowed = await database_sync_to_async(_still_allowed)(
                    session_key, kwargs["organiser_slug"], kwargs.get("event_slug")
                )
            except Exception as error:
                logger.warning("Re-checking a monitor failed (%r); kept open.", error)
                continue
            if not allowed:
                await self._close(CLOSE_ACCESS_LOST)
                return


def _still_allowed(session_key: str | None, organiser_slug: str, event_slug: str | None) -> bool:
    return monitor_scope(session_user(session_key), organiser_slug, event_slug) is not None
