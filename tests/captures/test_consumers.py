"""BoothConsumer through the full ASGI application (origin check, ticket auth, routing).

These tests use the in-memory channel layer even when ``REDIS_URL`` is set: they test
the consumer, and a channels-redis ``receive()`` left waiting by a refused handshake
made pytest-asyncio's loop teardown hang in about one PostgreSQL/Redis run in three.
The Redis layer is exercised with real sockets by the browser tests' daphne, by
tests/captures/test_camera_settings.py and by ``bench/smile_load.py``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from PIL import Image, ImageOps

from boothsite.asgi import application
from captures import live
from events import services, tokens
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = (b"origin", b"http://testserver")
LABELS = Path(__file__).resolve().parents[3] / "shared" / "data" / "genki4k-dev" / "labels.csv"


def frame_from(path: Path) -> bytes:
    """A 640x480 JPEG with the photo's face at a plausible booth size in the middle."""
    face = ImageOps.contain(Image.open(path).convert("RGB"), (300, 300))
    canvas = Image.new("RGB", (640, 480), (90, 90, 100))
    canvas.paste(face, ((640 - face.width) // 2, (480 - face.height) // 2))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def labelled(smile: str) -> Path:
    if not LABELS.exists():
        pytest.skip("../shared/data/genki4k-dev is not beside this checkout")
    for line in LABELS.read_text().splitlines()[1:]:
        name, label, yaw, pitch, roll = line.split(",")
        if label == smile and max(abs(float(v)) for v in (yaw, pitch, roll)) < 0.05:
            return LABELS.parent / "files" / name
    pytest.skip("no suitable photo")


def connect(ticket: str | None, *, origin: tuple[bytes, bytes] | None = ORIGIN):
    protocols = ["boothsite.v1"] + ([f"ticket.{ticket}"] if ticket else [])
    headers = [origin] if origin else []
    return WebsocketCommunicator(application, "/ws/booth/", headers=headers, subprotocols=protocols)


async def receive(communicator) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await communicator.receive_from(timeout=10))
    return message


@pytest.fixture(autouse=True)
def in_memory_layer(settings) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture
def ticket(tenant_a) -> str:
    return tokens.socket_ticket(tenant_a.booth.public_id, tenant_a.booth.token_hash)


async def test_valid_ticket_and_origin_connect_with_the_protocol(ticket):
    communicator = connect(ticket)
    connected, protocol = await communicator.connect()
    assert connected
    assert protocol == "boothsite.v1"
    await communicator.disconnect()


@pytest.mark.parametrize("bad", [None, "garbage", "bad.ticket.value"])
async def test_missing_or_bad_ticket_is_refused(tenant_a, bad):
    connected, _ = await connect(bad).connect()
    assert not connected


async def test_foreign_origin_is_refused(ticket):
    connected, _ = await connect(ticket, origin=(b"origin", b"https://evil.example")).connect()
    assert not connected
    connected, _ = await connect(ticket, origin=None).connect()
    assert not connected


async def test_revoked_booth_is_refused(tenant_a, ticket):
    from channels.db import database_sync_to_async

    await database_sync_to_async(services.revoke_booth)(tenant_a.booth)
    connected, _ = await connect(ticket).connect()
    assert not connected


async def test_token_in_the_query_string_is_not_accepted(tenant_a):
    communicator = WebsocketCommunicator(
        application, f"/ws/booth/?token={tenant_a.token}", headers=[ORIGIN]
    )
    connected, _ = await communicator.connect()
    assert not connected


async def test_socket_ticket_endpoint(booth_client_a):
    from channels.db import database_sync_to_async

    response = await database_sync_to_async(booth_client_a.post)("/api/v1/booth/socket-ticket/")
    assert response.status_code == 200
    communicator = connect(response.json()["ticket"])
    connected, _ = await communicator.connect()
    assert connected
    await communicator.disconnect()


async def test_blank_frame_scores_zero_and_bad_frames_get_errors(ticket):
    communicator = connect(ticket)
    await communicator.connect()
    await communicator.send_to(bytes_data=factories.image_bytes("JPEG", (640, 480), (0, 0, 0)))
    scored = await receive(communicator)
    assert scored["type"] == "smile"
    assert scored["score"] == 0.0
    assert scored["faces"] == []
    assert scored["frame"] == 1
    await communicator.send_to(bytes_data=b"not a jpeg at all")
    assert await receive(communicator) == {"type": "error", "code": "invalid_frame", "frame": 2}
    await communicator.send_to(text_data=json.dumps({"type": "ping"}))
    assert await receive(communicator) == {"type": "pong"}
    await communicator.disconnect()


async def test_oversized_frame_closes_with_4009(ticket, settings):
    settings.BOOTHSITE_WS_MAX_FRAME_BYTES = 1000
    communicator = connect(ticket)
    await communicator.connect()
    await communicator.send_to(bytes_data=b"\xff" * 1001)
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4009}


async def test_unknown_text_message_closes_with_4000(ticket):
    communicator = connect(ticket)
    await communicator.connect()
    await communicator.send_to(text_data="{not json")
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4000}


async def test_frames_above_the_rate_are_dropped_with_a_notice(ticket, settings):
    settings.BOOTHSITE_WS_MAX_FPS = 2
    communicator = connect(ticket)
    await communicator.connect()
    blank = factories.image_bytes("JPEG", (64, 48), (0, 0, 0))
    for _ in range(10):
        await communicator.send_to(bytes_data=blank)
    messages = []
    while not await communicator.receive_nothing(timeout=1):
        messages.append(await receive(communicator))
    scores = [m for m in messages if m["type"] == "smile"]
    assert 1 <= len(scores) <= 2
    assert any(m["type"] == "rate_limited" for m in messages)
    await communicator.disconnect()


async def test_staying_above_the_rate_closes_with_4008(ticket, settings):
    settings.BOOTHSITE_WS_MAX_FPS = 1
    settings.BOOTHSITE_WS_OVER_LIMIT_SECONDS = 0
    communicator = connect(ticket)
    await communicator.connect()
    blank = factories.image_bytes("JPEG", (64, 48), (0, 0, 0))
    for _ in range(5):
        await communicator.send_to(bytes_data=blank)
    outputs = []
    for _ in range(5):
        output = await communicator.receive_output(timeout=5)
        outputs.append(output)
        if output["type"] == "websocket.close":
            break
    assert outputs[-1] == {"type": "websocket.close", "code": 4008}


async def test_real_smile_scores_high_and_triggers_after_three_frames(ticket, settings):
    settings.BOOTHSITE_SMILE_TRIGGER_FRAMES = 3
    smiling = frame_from(labelled("1"))
    communicator = connect(ticket)
    await communicator.connect()
    received = []
    for _ in range(4):
        await communicator.send_to(bytes_data=smiling)
        message = await receive(communicator)
        received.append(message)
        if message["type"] == "smile" and len([m for m in received if m["type"] == "smile"]) == 3:
            received.append(await receive(communicator))
    smiles = [m for m in received if m["type"] == "smile"]
    assert all(m["score"] >= 0.5 for m in smiles)
    assert all(len(m["faces"]) == 1 for m in smiles)
    assert [m["type"] for m in received] == ["smile", "smile", "smile", "trigger", "smile"]
    await communicator.disconnect()


async def test_real_neutral_face_never_triggers(ticket):
    neutral = frame_from(labelled("0"))
    communicator = connect(ticket)
    await communicator.connect()
    for _ in range(4):
        await communicator.send_to(bytes_data=neutral)
        message = await receive(communicator)
        assert message["type"] == "smile"
        assert message["score"] < 0.5
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_capture_ready_reaches_the_booth_that_took_it(tenant_a, ticket):
    from channels.layers import get_channel_layer

    communicator = connect(ticket)
    await communicator.connect()
    layer = get_channel_layer()
    assert layer is not None
    await layer.group_send(
        live.booth_group(tenant_a.booth),
        {"type": "capture.ready", "capture": "c", "session": "s"},
    )
    assert await receive(communicator) == {"type": "capture.ready", "capture": "c", "session": "s"}
    await communicator.disconnect()


async def test_revoking_the_booth_closes_its_open_socket_with_4003(tenant_a, ticket):
    from channels.db import database_sync_to_async

    communicator = connect(ticket)
    assert (await communicator.connect())[0]
    await database_sync_to_async(services.revoke_booth)(tenant_a.booth)
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4003}


async def test_a_ticket_from_before_a_rotation_is_refused(tenant_a, ticket):
    from channels.db import database_sync_to_async

    issued = await database_sync_to_async(services.rotate_booth_token)(tenant_a.booth)
    connected, _ = await connect(ticket).connect()
    assert not connected
    fresh = tokens.socket_ticket(issued.booth.public_id, issued.booth.token_hash)
    communicator = connect(fresh)
    assert (await communicator.connect())[0]
    await communicator.disconnect()


async def test_a_lost_revocation_push_is_caught_by_the_recheck(tenant_a, ticket, settings):
    from channels.db import database_sync_to_async
    from django.utils import timezone

    from events.models import Booth

    settings.BOOTHSITE_WS_RECHECK_SECONDS = 0
    communicator = connect(ticket)
    assert (await communicator.connect())[0]
    revoke = Booth.objects.filter(pk=tenant_a.booth.pk).update  # no push, as if Redis lost it
    await database_sync_to_async(revoke)(revoked_at=timezone.now())
    await communicator.send_to(bytes_data=factories.image_bytes("JPEG", (64, 48), (0, 0, 0)))
    output = await communicator.receive_output(timeout=5)
    while output["type"] == "websocket.send":  # the frame's score may come first
        output = await communicator.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4003}


async def test_ten_bad_frames_close_with_4000(ticket, settings):
    settings.BOOTHSITE_WS_MAX_FPS = 100
    communicator = connect(ticket)
    await communicator.connect()
    outputs = []
    for _ in range(10):
        await communicator.send_to(bytes_data=b"not a jpeg at all")
        outputs.append(await communicator.receive_output(timeout=10))
    assert outputs[-1] == {"type": "websocket.close", "code": 4000}
    assert all(o["type"] == "websocket.send" for o in outputs[:-1])
