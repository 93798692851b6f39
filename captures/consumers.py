"""The booth kiosk's WebSocket (``/ws/booth/``): live smile scoring and pushes to it.

Contract: a booth connects with the subprotocols ``["boothsite.v1", "ticket.<ticket>"]``
(a ticket from ``POST /api/v1/booth/socket-ticket/``) and streams binary JPEG frames.
For every frame it scores, the server sends ``{"type": "smile", "score", "faces",
"frame", "ms"}``; when the score holds at or above the event's threshold for a few
frames it sends ``{"type": "trigger"}``, then waits out a cool-down. Only the latest
frame waits to be scored, so a slow server drops frames instead of queueing them.
Scores, triggers and ``capture.ready`` also go to the event's group for live monitors.
The same socket brings the kiosk ``{"type": "camera"}`` when the organiser saves the
booth's camera settings, and ``{"type": "capture.ready"}`` when one of its captures is
rendered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from captures import imaging, live
from captures.scoring import FrameScorer, ScoringUnavailable
from captures.ws_auth import PROTOCOL
from events.models import Booth, Event

if TYPE_CHECKING:
    from asgiref.typing import WebSocketReceiveEvent

    from captures.smile import SmileResult

logger = logging.getLogger(__name__)

# RFC 6455 close codes and ours (4000-4999 are the application's).
CLOSE_UNSUPPORTED = 1003
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
MAX_BAD_FRAMES = 10


@dataclass
class Frame:
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


class BoothConsumer(AsyncWebsocketConsumer):
    """A booth kiosk's socket: frames in; scores, triggers, camera and capture.ready out.

    Scores the booth's live frames (``smile`` messages) and tells it when to snap
    (``trigger``); forwards what reaches the booth's group: its camera settings
    (``camera``, when the organiser saves them) and ``capture.ready`` (one of its
    captures is rendered); answers ``ping`` with ``pong``.

    Refuses the handshake without a valid ticket (or for a booth without an event).
    Closes with 1009 for a frame over ``BOOTHSITE_WS_MAX_FRAME_BYTES``, 1008 after
    ``BOOTHSITE_WS_OVER_LIMIT_SECONDS`` above the frame-rate limit, and 1003 after
    repeated undecodable frames or a message of an unknown type.
    """

    booth: Booth
    event: Event

    async def connect(self) -> None:
        booth = self.scope.get("booth")
        if not isinstance(booth, Booth) or booth.current_event is None:
            await self.close()
            return
        self.booth, self.event = booth, booth.current_event
        self.frames_seen = 0
        self.latest: Frame | None = None
        self.worker: asyncio.Task[None] | None = None
        self.bad_frames = 0
        self.tokens = float(settings.BOOTHSITE_WS_MAX_FPS)
        self.refilled = time.monotonic()
        self.over_limit_since: float | None = None
        self.rate_notice_at = 0.0
        self.above = 0
        self.cooldown_until = 0.0
        self.booth_group = live.booth_group(self.booth)
        self.event_group = live.event_group(self.event)
        self.live_ok = await self._join(self.booth_group)
        # Start the scoring workers now (kept referenced: the loop holds tasks weakly).
        self.warming = asyncio.ensure_future(frame_scorer().warm_up())
        protocols = self.scope.get("subprotocols") or []
        await self.accept(subprotocol=PROTOCOL if PROTOCOL in protocols else None)

    async def _join(self, group: str) -> bool:
        try:
            await self.channel_layer.group_add(group, self.channel_name)
        except Exception:
            # Scoring does not need the layer; only live pushes stop (RELIABILITY 47).
            logger.warning("Channel layer unavailable; booth %s gets scores only.", self.booth.pk)
            return False
        return True

    async def disconnect(self, code: int) -> None:
        worker = getattr(self, "worker", None)
        if worker is not None:
            worker.cancel()
        if getattr(self, "live_ok", False):
            try:
                await self.channel_layer.group_discard(self.booth_group, self.channel_name)
            except Exception:
                logger.info("group_discard failed for booth %s; ignored.", self.booth.pk)

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
        if bytes_data is None:
            await self._receive_text(text_data or "")
            return
        if len(bytes_data) > settings.BOOTHSITE_WS_MAX_FRAME_BYTES:
            await self.close(code=CLOSE_TOO_BIG)
            return
        self.frames_seen += 1
        now = time.monotonic()
        if not self._take_token(now):
            await self._over_limit(now)
            return
        self.over_limit_since = None
        self.latest = Frame(self.frames_seen, bytes_data, now)  # an unscored frame is dropped
        if self.worker is None or self.worker.done():
            self.worker = asyncio.ensure_future(self._score_latest())

    async def _receive_text(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if isinstance(message, dict) and message.get("type") == "ping":
            await self._send({"type": "pong"})
            return
        await self.close(code=CLOSE_UNSUPPORTED)

    def _take_token(self, now: float) -> bool:
        rate = float(settings.BOOTHSITE_WS_MAX_FPS)
        self.tokens = min(rate, self.tokens + (now - self.refilled) * rate)
        self.refilled = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    async def _over_limit(self, now: float) -> None:
        if self.over_limit_since is None:
            self.over_limit_since = now
        if now - self.over_limit_since > settings.BOOTHSITE_WS_OVER_LIMIT_SECONDS:
            await self.close(code=CLOSE_POLICY)
            return
        if now - self.rate_notice_at >= 1.0:
            self.rate_notice_at = now
            wait_ms = int((1.0 - self.tokens) / settings.BOOTHSITE_WS_MAX_FPS * 1000)
            await self._send({"type": "rate_limited", "retry_after_ms": max(wait_ms, 1)})

    async def _score_latest(self) -> None:
        while self.latest is not None:
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
                await self._send({"type": "error", "code": "invalid_frame", "frame": frame.number})
                if self.bad_frames >= MAX_BAD_FRAMES:
                    await self.close(code=CLOSE_UNSUPPORTED)
                    return
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
        booth = self.booth.public_id.hex
        await self._publish({"type": "booth.smile", "booth": booth, "score": message["score"]})
        if self._should_trigger(result.score):
            await self._send({"type": "trigger", "frame": frame.number})
            await self._publish({"type": "booth.trigger", "booth": booth})

    def _should_trigger(self, score: float) -> bool:
        """Hysteresis: N frames in a row at or above the threshold, then a cool-down."""
        now = time.monotonic()
        self.above = self.above + 1 if score >= self.event.smile_threshold else 0
        if self.above < settings.BOOTHSITE_SMILE_TRIGGER_FRAMES or now < self.cooldown_until:
            return False
        self.above = 0
        self.cooldown_until = now + settings.BOOTHSITE_SMILE_COOLDOWN_SECONDS
        return True

    async def _send(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message))

    async def _publish(self, message: dict[str, Any]) -> None:
        if not self.live_ok:
            return
        try:
            await self.channel_layer.group_send(self.event_group, message)
        except Exception:
            logger.info("Live update to %s dropped.", self.event_group)

    async def capture_ready(self, message: dict[str, Any]) -> None:
        """Forward ``capture.ready`` (sent to this booth's group) to the kiosk."""
        await self._send(
            {"type": "capture.ready", "capture": message["capture"], "session": message["session"]}
        )

    async def booth_settings(self, message: dict[str, Any]) -> None:
        """Forward ``booth.settings`` (the organiser saved this booth's camera) to the kiosk."""
        await self._send({"type": "camera", "camera": message["camera"]})
