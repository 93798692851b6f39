"""The booth kiosk's WebSocket (``/ws/booth/``): live smile scoring and pushes to it.

Contract: a booth connects with the subprotocols ``["boothsite.v1", "ticket.<ticket>"]``
(a ticket from ``POST /api/v1/booth/socket-ticket/``) and streams binary JPEG frames.
For every frame it scores, the server sends ``{"type": "smile", "score", "faces",
"frame", "ms"}``; when the score holds at or above the event's threshold for a few
frames it sends ``{"type": "trigger"}``, then waits out a cool-down. Only the latest
frame waits to be scored, so a slow server drops frames instead of queueing them.
The kiosk also sends ``{"type": "queue", "pending": N}`` whenever the number of uploads
waiting in its offline queue changes (and once when the socket opens), and may send
``{"type": "ping"}`` (answered ``{"type": "pong"}``).
The same socket brings the kiosk ``{"type": "camera"}`` when the organiser saves the
booth's camera settings, and ``{"type": "capture.ready"}`` when one of its captures is
rendered.

For the console's live monitor (``captures.monitor``), each booth socket publishes to
its event's and its organiser's groups (``captures.live``): ``booth.presence`` when it
opens, every ``live.PRESENCE_REFRESH_SECONDS`` while it lives and when it closes (also
kept in the cache with a TTL, for monitors that connect later); ``booth.smile`` at most
once per ``live.SMILE_INTERVAL_SECONDS`` (the latest score and the peak since the last
update); every ``booth.trigger``; and ``booth.queue`` when the kiosk reports its count.

Close codes are those daphne can send: autobahn refuses 1003, 1008 and 1009 from the
application and sends 1011 with a traceback instead (RELIABILITY 72), so ours are in
4000-4999. They are listed in ``BoothConsumer``'s docstring.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from captures import imaging, live
from captures.scoring import FrameScorer, ScoringUnavailable
from captures.ws_auth import PROTOCOL
from events import booth_sockets, services, tokens
from events.models import Booth, Event

if TYPE_CHECKING:
    from asgiref.typing import WebSocketReceiveEvent

    from captures.smile import SmileResult

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

#: Closed by the server after a normal end.
CLOSE_NORMAL = 1000
#: The server failed (an unexpected error while scoring); the kiosk reconnects.
CLOSE_SERVER_ERROR = 1011
#: ``MAX_BAD_FRAMES`` undecodable frames in a row, or a text message of unknown type.
CLOSE_BAD_FRAMES = 4000
#: The booth was revoked, its token rotated or it was paired again: the kiosk's token
#: may be dead (it asks ``me/``, and shows "unpaired or revoked" on a 401).
CLOSE_REVOKED = 4003
#: More than ``BOOTHSITE_WS_OVER_LIMIT_SECONDS`` above ``BOOTHSITE_WS_MAX_FPS``.
CLOSE_TOO_FAST = 4008
#: A frame over ``BOOTHSITE_WS_MAX_FRAME_BYTES``.
CLOSE_TOO_BIG = 4009
#: The live channel (Redis) is unavailable: try again later (like 1013).
CLOSE_LAYER_DOWN = 4013

MAX_BAD_FRAMES = 10
#: A second without a dropped frame ends a spell above the frame-rate limit, in s.
OVER_LIMIT_GRACE_SECONDS = 1.0

#: The internal message with which a failed channel-layer receive closes the socket.
_LAYER_LOST = "socket.layer_lost"


class _LayerOutage:
    """Logs a channel-layer outage once per process (ERROR) and its end once (INFO).

    Every kiosk retries every few seconds while Redis is down; one line per retry
    would bury the log (RELIABILITY 47).
    """

    def __init__(self) -> None:
        self.down_since: float | None = None

    def failed(self, what: str, error: BaseException) -> None:
        if self.down_since is not None:
            logger.debug("Channel layer still unavailable (%s: %r).", what, error)
            return
        self.down_since = time.monotonic()
        logger.error(
            "Channel layer unavailable (%s: %s); booth sockets close with %d until it returns.",
            what,
            type(error).__name__,
            CLOSE_LAYER_DOWN,
        )

    def ok(self) -> None:
        if self.down_since is None:
            return
        logger.info(
            "Channel layer is back after %.0f s; booth sockets connect again.",
            time.monotonic() - self.down_since,
        )
        self.down_since = None


layer_outage = _LayerOutage()


async def _twice(call: Callable[[], Awaitable[_T]]) -> _T:
    """Await ``call()``, and once more if it raises.

    After a Redis restart, each pooled connection that sat idle through the outage
    fails its first command (redis-py then reconnects it): without the second try, the
    first socket after every restart would be refused with 4013. With Redis down, the
    second try fails as fast as the first.
    """
    try:
        return await call()
    except Exception:
        return await call()


def log_task_failure(task: asyncio.Future[None]) -> None:
    """Done-callback: log a background task's exception instead of losing it."""
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.warning("Booth socket task failed: %r", error)


@dataclass
class Frame:
    """A frame waiting to be scored: its number on this socket, bytes, arrival (monotonic s)."""

    number: int
    data: bytes
    received: float


_scorers: dict[tuple[int, str | None], FrameScorer] = {}


def frame_scorer() -> FrameScorer:
    """Return this process's shared ``FrameScorer`` for the current settings.

    ``BOOTHSITE_SMILE_PROCESSES`` worker processes (0: threads) with the detector named
    by ``BOOTHSITE_SMILE_DETECTOR``.
    """
    key = (settings.BOOTHSITE_SMILE_PROCESSES, settings.BOOTHSITE_SMILE_DETECTOR or None)
    scorer = _scorers.get(key)
    if scorer is None:
        scorer = _scorers.setdefault(key, FrameScorer(processes=key[0], detector=key[1]))
    return scorer


Message = dict[str, Any]


def merge_smiles(held: Message, newer: Message) -> Message:
    """Fold two ``booth.smile`` updates into one: the newer score, the higher peak.

    Both carry ``score``, ``peak`` (the highest score they cover) and ``frames`` (how
    many scored frames they cover).
    """
    peak: float = max(held["peak"], newer["peak"])
    frames: int = held["frames"] + newer["frames"]
    return {**newer, "peak": peak, "frames": frames}


class Throttle:
    """Pass at most one message per key every ``interval`` seconds, never losing the last.

    The first message of a key goes at once; those that follow within ``interval`` are
    folded (``merge(held, newer)``) into one held message, which goes when the interval
    is over. So a burst yields a message at its start and one with its latest state at
    most ``interval`` later, and two messages of one key are never closer than
    ``interval`` (by ``clock``, monotonic seconds). ``send`` must not raise.
    """

    def __init__(
        self,
        interval: float,
        send: Callable[[Message], Awaitable[None]],
        merge: Callable[[Message, Message], Message],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.send = send
        self.merge = merge
        self.clock = clock
        self.sent_at: dict[str, float] = {}
        self.held: dict[str, Message] = {}
        self.timers: dict[str, asyncio.Task[None]] = {}

    async def offer(self, key: str, message: Message) -> None:
        """Send ``message`` now, or hold it (folded) until ``key``'s interval is over."""
        if key in self.held:
            self.held[key] = self.merge(self.held[key], message)
            return
        wait = self.sent_at.get(key, -float("inf")) + self.interval - self.clock()
        if wait <= 0:
            self.sent_at[key] = self.clock()
            await self.send(message)
            return
        self.held[key] = message
        timer = asyncio.ensure_future(self._send_later(key, wait))
        timer.add_done_callback(log_task_failure)
        self.timers[key] = timer

    async def _send_later(self, key: str, wait: float) -> None:
        await asyncio.sleep(wait)
        message = self.held.pop(key)
        self.timers.pop(key, None)
        self.sent_at[key] = self.clock()
        await self.send(message)

    def cancel(self) -> None:
        """Drop every held message (the socket is closing)."""
        for timer in self.timers.values():
            timer.cancel()
        self.timers.clear()
        self.held.clear()


class LiveConsumer(AsyncWebsocketConsumer):
    """Base of our sockets: a guarded channel-layer receive, bounded joins, one close.

    A channel-layer receive that fails (Redis down or restarted) closes the socket with
    4013 instead of raising out of the consumer; joins and leaves are bounded by
    ``BOOTHSITE_WS_LAYER_TIMEOUT_SECONDS``; ``_close`` closes once and never raises.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.accepted = False  # the handshake was answered with accept
        self.closing = False  # a close was sent: ignore what still arrives
        self.layer_lost = False  # a channel-layer receive failed under this socket

    async def _join(self, group: str) -> bool:
        """Join ``group``; False (the outage logged once) if the layer fails or stalls."""
        try:
            await asyncio.wait_for(
                _twice(lambda: self.channel_layer.group_add(group, self.channel_name)),
                settings.BOOTHSITE_WS_LAYER_TIMEOUT_SECONDS,
            )
        except Exception as error:
            layer_outage.failed("group_add", error)
            return False
        layer_outage.ok()
        return True

    async def _leave(self, group: str) -> None:
        """Leave ``group``, bounded; a failure is only logged (the group entry expires)."""
        try:
            await asyncio.wait_for(
                self.channel_layer.group_discard(group, self.channel_name),
                settings.BOOTHSITE_WS_LAYER_TIMEOUT_SECONDS,
            )
        except Exception as error:
            logger.debug("group_discard of %s failed (%r); ignored.", group, error)

    # Channels' AsyncConsumer reads ``channel_receive`` once, to wait on the layer beside
    # the socket. The guard below makes a failing receive close the socket with 4013
    # instead of raising out of the consumer (1011 and a traceback, one per socket).
    @property  # type: ignore[override]
    def channel_receive(self) -> Callable[[], Awaitable[dict[str, Any]]]:
        return self._guarded_channel_receive

    @channel_receive.setter
    def channel_receive(self, receive: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        self._layer_receive = receive

    async def _guarded_channel_receive(self) -> dict[str, Any]:
        try:
            return await _twice(self._layer_receive)
        except Exception as error:
            if self.layer_lost:
                await asyncio.Event().wait()  # reported once; cancelled when we stop
            layer_outage.failed("receive", error)
            self.layer_lost = True
            return {"type": _LAYER_LOST}

    async def socket_layer_lost(self, message: dict[str, Any]) -> None:
        """Close with 4013: the layer failed under this socket (noted if not yet accepted)."""
        if self.accepted:
            await self._close(CLOSE_LAYER_DOWN)

    async def _close(self, code: int) -> None:
        """Close the socket with ``code``, once; never raises (safe in background tasks)."""
        if self.closing:
            return
        self.closing = True
        try:
            await self.close(code=code)
        except Exception:
            logger.warning("Closing a %s with %d failed.", type(self).__name__, code)

    async def _send(self, message: dict[str, Any]) -> None:
        if not self.closing:
            await self.send(text_data=json.dumps(message))


class ListeningConsumer(LiveConsumer):
    """A socket that only listens (the console's monitor, the slideshow).

    Its page may send ``{"type": "ping"}``, answered ``{"type": "pong"}``; anything else
    closes it with 4000 (``CLOSE_BAD_FRAMES``).
    """

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        try:
            message = json.loads(text_data) if text_data is not None else None
        except ValueError:
            message = None
        if isinstance(message, dict) and message.get("type") == "ping":
            await self._send({"type": "pong"})
            return
        await self._close(CLOSE_BAD_FRAMES)


def queue_count(value: object) -> int | None:
    """Return a kiosk's reported queue length, or None unless an int in 0..MAX_QUEUE_REPORT."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= live.MAX_QUEUE_REPORT else None


class BoothConsumer(LiveConsumer):
    """A booth kiosk's socket: frames in; scores, triggers, camera and capture.ready out.

    Scores the booth's live frames (``smile`` messages) and tells it when to snap
    (``trigger``); forwards what reaches the booth's group: its camera settings
    (``camera``, when the organiser saves them) and ``capture.ready`` (one of its
    captures is rendered); answers ``ping`` with ``pong``; records the kiosk's
    ``{"type": "queue", "pending": N}`` reports (N an integer, 0 to
    ``live.MAX_QUEUE_REPORT``). Tells the booth's monitors what it does (module
    docstring) and keeps its presence record and ``last_seen_at`` fresh while it lives.

    Refuses the handshake (HTTP 403) without a valid ticket: none, forged, expired,
    issued before the booth's token was rotated or re-paired, or for a revoked booth or
    one without an event. After the handshake it closes with:

    ======  ==============================================================================
    code    meaning (the kiosk's reaction)
    ======  ==============================================================================
    1000    normal close (reconnects)
    1011    server error while scoring (reconnects)
    4000    ``MAX_BAD_FRAMES`` undecodable frames in a row, or a text message that is
            neither ``{"type": "ping"}`` nor a valid ``queue`` report (reconnects)
    4003    the booth was revoked, its token rotated or it was paired again; pushed on
            the booth's group at once, else found at the next re-check (asks ``me/``:
            "unpaired or revoked" on a 401, reconnects otherwise)
    4008    more than ``BOOTHSITE_WS_OVER_LIMIT_SECONDS`` above ``BOOTHSITE_WS_MAX_FPS``
            (reconnects)
    4009    a frame over ``BOOTHSITE_WS_MAX_FRAME_BYTES`` (reconnects)
    4013    the live channel (Redis) is unavailable, at the handshake (within
            ``BOOTHSITE_WS_LAYER_TIMEOUT_SECONDS``) or later (reconnects after a pause)
    ======  ==============================================================================

    Every close, including one from the background scoring task, goes through
    ``_close``: awaited, once, and never raising.
    """

    booth: Booth
    event: Event

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.live_ok = False  # joined the booth's group
        self.worker: asyncio.Task[None] | None = None
        self.checking: asyncio.Task[None] | None = None
        self.beating: asyncio.Task[None] | None = None
        self.smiles: Throttle | None = None

    async def connect(self) -> None:
        booth = self.scope.get("booth")
        if not isinstance(booth, Booth) or booth.current_event is None:
            await self.close()
            return
        self.booth, self.event = booth, booth.current_event
        self.booth_hex = booth.public_id.hex
        self.generation = tokens.ticket_generation(booth.token_hash)
        self.frames_seen = 0
        self.latest: Frame | None = None
        self.bad_frames = 0
        self.tokens = float(settings.BOOTHSITE_WS_MAX_FPS)
        self.refilled = time.monotonic()
        self.over_limit_since: float | None = None
        self.dropped_at = 0.0
        self.rate_notice_at = 0.0
        self.above = 0
        self.cooldown_until = 0.0
        self.checked_at = time.monotonic()
        self.since = timezone.now()
        self.last_frame_at: str | None = None
        self.pending: int | None = None
        self.booth_group = live.booth_group(self.booth)
        self.monitor_groups = (
            live.event_group(self.event),
            live.organiser_group(self.booth.organiser),
        )
        self.live_ok = not self.layer_lost and await self._join(self.booth_group)
        protocols = self.scope.get("subprotocols") or []
        await self.accept(subprotocol=PROTOCOL if PROTOCOL in protocols else None)
        self.accepted = True
        if not self.live_ok:
            # Refused after the handshake, so the kiosk sees a code, not a bare 403.
            await self._close(CLOSE_LAYER_DOWN)
            return
        # Start the scoring workers now (kept referenced: the loop holds tasks weakly).
        self.warming = asyncio.ensure_future(frame_scorer().warm_up())
        self.warming.add_done_callback(log_task_failure)
        self.smiles = Throttle(live.SMILE_INTERVAL_SECONDS, self._publish, merge_smiles)
        await self._present()
        self.beating = asyncio.ensure_future(self._heartbeat())
        self.beating.add_done_callback(log_task_failure)

    async def disconnect(self, code: int) -> None:
        self.closing = True
        for task in (self.worker, self.checking, self.beating):
            if task is not None:
                task.cancel()
        if self.smiles is not None:
            self.smiles.cancel()
        if self.live_ok:
            await self._absent()
            await self._leave(self.booth_group)

    # ---- presence, for the console's monitors ----------------------------------------

    def _presence(self, *, online: bool) -> dict[str, Any]:
        return {
            "type": "booth.presence",
            "booth": self.booth_hex,
            "name": self.booth.name,
            "event": self.event.public_id.hex,
            "event_name": self.event.name,
            "online": online,
            "since": self.since.isoformat() if online else None,
            "last_seen_at": timezone.now().isoformat(),
            "last_frame_at": self.last_frame_at,
            "pending": self.pending,
            "expires_in": live.PRESENCE_TTL_SECONDS if online else None,
        }

    async def _present(self) -> None:
        """Record this socket as the booth's presence, note it seen, tell its monitors."""
        now = timezone.now().isoformat()
        record: live.Presence = {
            "channel": self.channel_name,
            "event": self.event.public_id.hex,
            "since": self.since.isoformat(),
            "seen": now,
            "last_frame_at": self.last_frame_at,
            "pending": self.pending,
        }
        await sync_to_async(live.save_presence, thread_sensitive=False)(self.booth_hex, record)
        try:
            await database_sync_to_async(services.touch_booth)(self.booth)
        except Exception as error:
            logger.warning("Recording booth %s as seen failed (%r).", self.booth.pk, error)
        await self._publish(self._presence(online=True))

    async def _heartbeat(self) -> None:
        """Refresh the presence record every ``PRESENCE_REFRESH_SECONDS`` until closed."""
        while not self.closing:
            await asyncio.sleep(live.PRESENCE_REFRESH_SECONDS)
            if not self.closing:
                await self._present()

    async def _absent(self) -> None:
        """Drop this socket's presence record; tell monitors the booth is offline.

        Not when a newer socket of the booth owns the record (a kiosk that reconnected
        before this one closed): the booth is still online.
        """
        clear = sync_to_async(live.clear_presence, thread_sensitive=False)
        if await clear(self.booth_hex, self.channel_name):
            await self._publish(self._presence(online=False))

    async def _queue_reported(self, pending: int) -> None:
        if pending == self.pending:
            return
        self.pending = pending
        if self.live_ok:
            await self._present()
            message = {"type": "booth.queue", "booth": self.booth_hex, "pending": pending}
            await self._publish(message | {"event": self.event.public_id.hex})

    # ---- the socket ----------------------------------------------------------------------

    async def _close(self, code: int) -> None:
        """Close the socket with ``code``, once; never raises (safe in background tasks).

        Frames that arrive until the client's close answer are ignored.
        """
        if not self.closing:
            self.latest = None
        await super()._close(code)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Handle a frame directly; everything else as Channels does.

        Channels closes stale database connections before every message, a hop to its
        one shared sync thread; frames touch no database, and with 16 booths sending at
        once those hops queue behind one another (``bench/smile_load.py``).
        """
        if message["type"] == "websocket.receive":
            await self.websocket_receive(cast("WebSocketReceiveEvent", message))
            return
        await super().dispatch(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        if bytes_data is None:
            await self._receive_text(text_data or "")
            return
        if len(bytes_data) > settings.BOOTHSITE_WS_MAX_FRAME_BYTES:
            await self._close(CLOSE_TOO_BIG)
            return
        self.frames_seen += 1
        now = time.monotonic()
        self._recheck_booth(now)
        if not self._take_token(now):
            await self._over_limit(now)
            return
        if now - self.dropped_at >= OVER_LIMIT_GRACE_SECONDS:
            self.over_limit_since = None
        self.latest = Frame(self.frames_seen, bytes_data, now)  # an unscored frame is dropped
        if self.worker is None or self.worker.done():
            self.worker = asyncio.ensure_future(self._score_latest())

    async def _receive_text(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "ping":
            await self._send({"type": "pong"})
            return
        if kind == "queue" and isinstance(message, dict):
            pending = queue_count(message.get("pending"))
            if pending is not None:
                await self._queue_reported(pending)
                return
        await self._close(CLOSE_BAD_FRAMES)

    def _take_token(self, now: float) -> bool:
        rate = float(settings.BOOTHSITE_WS_MAX_FPS)
        self.tokens = min(rate, self.tokens + (now - self.refilled) * rate)
        self.refilled = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    async def _over_limit(self, now: float) -> None:
        """Drop a frame above the rate; close after a long enough spell of drops.

        The bucket lets one frame through whenever a token refills, so a fast client is
        never "back under the limit" frame by frame: a spell ends only after
        ``OVER_LIMIT_GRACE_SECONDS`` without a dropped frame.
        """
        if self.over_limit_since is None or now - self.dropped_at >= OVER_LIMIT_GRACE_SECONDS:
            self.over_limit_since = now
        self.dropped_at = now
        if now - self.over_limit_since > settings.BOOTHSITE_WS_OVER_LIMIT_SECONDS:
            await self._close(CLOSE_TOO_FAST)
            return
        if now - self.rate_notice_at >= 1.0:
            self.rate_notice_at = now
            wait_ms = int((1.0 - self.tokens) / settings.BOOTHSITE_WS_MAX_FPS * 1000)
            await self._send({"type": "rate_limited", "retry_after_ms": max(wait_ms, 1)})

    def _recheck_booth(self, now: float) -> None:
        """Re-read the booth in the background every ``BOOTHSITE_WS_RECHECK_SECONDS``."""
        if now - self.checked_at < settings.BOOTHSITE_WS_RECHECK_SECONDS:
            return
        if self.checking is not None and not self.checking.done():
            return
        self.checked_at = now
        self.checking = asyncio.ensure_future(self._check_booth())
        self.checking.add_done_callback(log_task_failure)

    async def _check_booth(self) -> None:
        """Close with 4003 if the booth was revoked or got a new token since the ticket.

        A database error keeps the socket open (logged): scores need no privilege, and
        the next handshake checks the booth again.
        """
        try:
            still_paired = await database_sync_to_async(booth_sockets.still_paired)(
                self.booth, self.generation
            )
        except Exception as error:
            logger.warning("Re-checking booth %s failed (%r); kept open.", self.booth.pk, error)
            return
        if not still_paired:
            await self._close(CLOSE_REVOKED)

    async def booth_revoked(self, message: dict[str, Any]) -> None:
        """``booth.revoked`` (revoked, rotated or re-paired): close with 4003 at once."""
        await self._close(CLOSE_REVOKED)

    async def _score_latest(self) -> None:
        """Score frames until none waits; any unexpected error closes with 1011."""
        try:
            await self._score_frames()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Scoring failed for booth %s; closing its socket.", self.booth.pk)
            await self._close(CLOSE_SERVER_ERROR)

    async def _score_frames(self) -> None:
        while self.latest is not None and not self.closing:
            frame, self.latest = self.latest, None
            try:
                result = await frame_scorer().score(frame.data)
            except ScoringUnavailable:
                await self._send(
                    {"type": "error", "code": "scoring_unavailable", "frame": frame.number}
                )
                continue
            except imaging.InvalidImage:
                self.bad_frames += 1
                if self.bad_frames >= MAX_BAD_FRAMES:
                    await self._close(CLOSE_BAD_FRAMES)
                    return
                await self._send({"type": "error", "code": "invalid_frame", "frame": frame.number})
                continue
            self.bad_frames = 0
            await self._scored(frame, result)

    async def _scored(self, frame: Frame, result: SmileResult) -> None:
        message = {
            "type": "smile",
            "score": round(result.score, 4),
            "faces": [
                {"box": list(face.box), "score": round(face.score, 4)} for face in result.faces
            ],
            "frame": frame.number,
            "ms": round((time.monotonic() - frame.received) * 1000, 1),
        }
        await self._send(message)
        now = timezone.now().isoformat()
        self.last_frame_at = now
        update = {
            "type": "booth.smile",
            "booth": self.booth_hex,
            "event": self.event.public_id.hex,
            "score": message["score"],
            "peak": message["score"],
            "faces": len(result.faces),
            "frames": 1,
            "at": now,
        }
        if self.smiles is not None:
            await self.smiles.offer(self.booth_hex, update)
        if self._should_trigger(result.score):
            await self._send({"type": "trigger", "frame": frame.number})
            trigger = {"type": "booth.trigger", "booth": self.booth_hex, "at": now}
            await self._publish(trigger | {"event": self.event.public_id.hex})

    def _should_trigger(self, score: float) -> bool:
        """Hysteresis: N frames in a row at or above the threshold, then a cool-down."""
        now = time.monotonic()
        self.above = self.above + 1 if score >= self.event.smile_threshold else 0
        if self.above < settings.BOOTHSITE_SMILE_TRIGGER_FRAMES or now < self.cooldown_until:
            return False
        self.above = 0
        self.cooldown_until = now + settings.BOOTHSITE_SMILE_COOLDOWN_SECONDS
        return True

    async def _publish(self, message: dict[str, Any]) -> None:
        """Best effort to the booth's monitors (event and organiser groups), bounded.

        A lost update is only logged: the channel layer promises no delivery anyway.
        """
        if not self.live_ok:
            return
        for group in self.monitor_groups:
            try:
                await asyncio.wait_for(
                    self.channel_layer.group_send(group, message),
                    settings.BOOTHSITE_WS_LAYER_TIMEOUT_SECONDS,
                )
            except Exception:
                logger.debug("Live update to %s dropped.", group)

    async def capture_ready(self, message: dict[str, Any]) -> None:
        """Forward ``capture.ready`` (sent to this booth's group) to the kiosk."""
        await self._send(
            {"type": "capture.ready", "capture": message["capture"], "session": message["session"]}
        )

    async def booth_settings(self, message: dict[str, Any]) -> None:
        """Forward ``booth.settings`` (the organiser saved this booth's camera) to the kiosk."""
        await self._send({"type": "camera", "camera": message["camera"]})
