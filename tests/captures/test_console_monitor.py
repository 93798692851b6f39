"""The console's live monitor: its socket through the full ASGI application, and its pages.

The sockets run on the in-memory channel layer, as tests/captures/test_consumers.py
explains; booth sockets are real ``BoothConsumer``s driven by ticket, and monitors
sign in with a real session cookie (``Client.force_login``). The Redis layer and
daphne's own handshake are exercised in test_console_monitor_daphne.py and the browser
test.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from boothsite.asgi import application
from captures import live, monitor
from captures import services as capture_services
from events import tokens
from tests import factories

ORIGIN = (b"origin", b"http://testserver")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def in_memory_layer(settings) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def watcher(user, path: str = "/ws/console/alpha/", origin=ORIGIN) -> WebsocketCommunicator:
    """A monitor socket for ``user`` (None: no cookie), not yet connected."""
    headers = [origin] if origin else []
    if user is not None:
        cookie = await database_sync_to_async(session_cookie)(user)
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def open_monitor(
    user, path: str = "/ws/console/alpha/"
) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    """Connect a monitor and return it with its snapshot (the first message)."""
    communicator = await watcher(user, path)
    connected, _ = await communicator.connect()
    assert connected
    snapshot = await receive(communicator)
    assert snapshot["type"] == "snapshot"
    return communicator, snapshot


def booth_socket(tenant) -> WebsocketCommunicator:
    ticket = tokens.socket_ticket(tenant.booth.public_id, tenant.booth.token_hash)
    return WebsocketCommunicator(
        application,
        "/ws/booth/",
        headers=[ORIGIN],
        subprotocols=["boothsite.v1", f"ticket.{ticket}"],
    )


async def receive(communicator) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await communicator.receive_from(timeout=10))
    return message


async def receive_type(communicator, kind: str) -> dict[str, Any]:
    """The next message of type ``kind`` (skipping others, e.g. presence refreshes)."""
    while True:
        message = await receive(communicator)
        if message["type"] == kind:
            return message


# ---- who may watch ---------------------------------------------------------------------


async def test_a_socket_without_a_session_is_refused(tenant_a):
    connected, _ = await (await watcher(None)).connect()
    assert not connected


async def test_a_cross_origin_page_cannot_open_the_monitor(tenant_a):
    evil = (b"origin", b"https://evil.example")
    connected, _ = await (await watcher(tenant_a.owner, origin=evil)).connect()
    assert not connected
    connected, _ = await (await watcher(tenant_a.owner, origin=None)).connect()
    assert not connected


@pytest.mark.parametrize(
    "path",
    [
        "/ws/console/alpha/",
        "/ws/console/alpha/party/",
        "/ws/console/nope/",
        "/ws/console/bravo/nope/",
    ],
)
async def test_another_organisers_monitor_is_refused_like_a_missing_one(tenant_a, tenant_b, path):
    connected, _ = await (await watcher(tenant_b.owner, path)).connect()
    assert not connected


async def test_a_viewer_watches_their_organisers_booths(tenant_a, tenant_b):
    communicator, snapshot = await open_monitor(tenant_a.viewer)
    assert [booth["booth"] for booth in snapshot["booths"]] == [tenant_a.booth.public_id.hex]
    state = snapshot["booths"][0]
    assert state["name"] == "Booth alpha"
    assert state["event_name"] == tenant_a.event.name
    assert (state["online"], state["pending"], state["last_capture"]) == (False, None, None)
    await communicator.disconnect()


async def test_an_unknown_socket_path_is_refused(tenant_a):
    communicator = WebsocketCommunicator(application, "/ws/elsewhere/", headers=[ORIGIN])
    connected, _ = await communicator.connect()
    assert not connected


async def test_signing_out_closes_an_open_monitor_with_4003(tenant_a, monkeypatch):
    from django.contrib.sessions.models import Session

    monkeypatch.setattr(monitor, "RECHECK_SECONDS", 0.05)
    communicator, _ = await open_monitor(tenant_a.owner)
    await database_sync_to_async(Session.objects.all().delete)()  # as signing out does
    output = await communicator.receive_output(timeout=10)
    assert output == {"type": "websocket.close", "code": 4003}


async def test_a_message_other_than_ping_closes_with_4000(tenant_a):
    communicator, _ = await open_monitor(tenant_a.owner)
    await communicator.send_to(text_data=json.dumps({"type": "ping"}))
    assert await receive(communicator) == {"type": "pong"}
    await communicator.send_to(text_data=json.dumps({"type": "subscribe", "event": "x"}))
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4000}


# ---- what a monitor sees ------------------------------------------------------------------


async def test_presence_goes_up_and_down_with_the_booths_socket(tenant_a):
    communicator, _ = await open_monitor(tenant_a.owner)
    booth = booth_socket(tenant_a)
    assert (await booth.connect())[0]
    online = await receive_type(communicator, "presence")
    assert (online["booth"], online["online"]) == (tenant_a.booth.public_id.hex, True)
    assert online["expires_in"] == live.PRESENCE_TTL_SECONDS
    later, snapshot = await open_monitor(tenant_a.owner, "/ws/console/alpha/party/")
    assert snapshot["booths"][0]["online"] is True
    await booth.disconnect()
    offline = await receive_type(communicator, "presence")
    assert (offline["booth"], offline["online"]) == (tenant_a.booth.public_id.hex, False)
    assert (await receive_type(later, "presence"))["online"] is False
    _, snapshot = await open_monitor(tenant_a.owner)
    assert snapshot["booths"][0]["online"] is False
    assert snapshot["booths"][0]["last_seen_at"] is not None  # touched by the socket
    await communicator.disconnect()
    await later.disconnect()


async def test_a_reconnected_kiosk_stays_online_when_its_old_socket_closes(tenant_a):
    communicator, _ = await open_monitor(tenant_a.owner)
    old, new = booth_socket(tenant_a), booth_socket(tenant_a)
    assert (await old.connect())[0]
    assert (await receive(communicator))["online"] is True  # the old socket's record
    assert (await new.connect())[0]
    assert (await receive(communicator))["online"] is True  # the new one owns it now
    await old.disconnect()
    await new.send_to(text_data=json.dumps({"type": "queue", "pending": 1}))
    messages = [await receive(communicator) for _ in range(2)]  # a refresh and the count
    assert [(m["type"], m.get("online")) for m in messages] == [
        ("presence", True), ("queue", None)
    ]  # fmt: skip
    await new.disconnect()


async def test_the_kiosks_queue_count_reaches_the_monitor(tenant_a):
    communicator, _ = await open_monitor(tenant_a.owner)
    booth = booth_socket(tenant_a)
    await booth.connect()
    await booth.send_to(text_data=json.dumps({"type": "queue", "pending": 3}))
    queued = await receive_type(communicator, "queue")
    assert (queued["booth"], queued["pending"]) == (tenant_a.booth.public_id.hex, 3)
    _, snapshot = await open_monitor(tenant_a.owner)
    assert snapshot["booths"][0]["pending"] == 3
    await booth.disconnect()
    await communicator.disconnect()


@pytest.mark.parametrize("pending", [-1, "3", True, 2.5, None, live.MAX_QUEUE_REPORT + 1])
async def test_a_bad_queue_report_closes_the_booth_socket_with_4000(tenant_a, pending):
    booth = booth_socket(tenant_a)
    await booth.connect()
    await booth.send_to(text_data=json.dumps({"type": "queue", "pending": pending}))
    assert await booth.receive_output(timeout=5) == {"type": "websocket.close", "code": 4000}


async def test_another_organisers_monitor_receives_nothing_from_this_organisers_booths(
    tenant_a, tenant_b
):
    own, _ = await open_monitor(tenant_a.owner)
    others = [
        await open_monitor(tenant_b.owner, path)
        for path in ("/ws/console/bravo/", "/ws/console/bravo/party/")
    ]
    booth = booth_socket(tenant_a)
    await booth.connect()
    await booth.send_to(text_data=json.dumps({"type": "queue", "pending": 2}))
    await booth.send_to(bytes_data=factories.image_bytes("JPEG", (64, 48), (0, 0, 0)))
    assert (await receive_type(own, "smile"))["score"] == 0.0
    await booth.disconnect()
    assert (await receive_type(own, "presence"))["online"] is False
    for other, _ in others:
        assert await other.receive_nothing(timeout=0.5)
        await other.disconnect()
    await own.disconnect()


async def test_smile_updates_are_throttled_per_booth_and_every_trigger_arrives(
    tenant_a, monkeypatch
):
    """Two booths' updates (as if from several sockets) burst into the organiser's group."""
    monkeypatch.setattr(live, "SMILE_INTERVAL_SECONDS", 0.3)
    communicator, _ = await open_monitor(tenant_a.owner)
    layer = get_channel_layer()
    assert layer is not None
    group = live.organiser_group(tenant_a.organiser)
    started = time.monotonic()
    for n in range(20):
        for booth in ("b1", "b2"):
            score = n / 20 if booth == "b1" else 0.9 - n / 40
            await layer.group_send(
                group,
                {"type": "booth.smile", "booth": booth, "score": score, "peak": score, "frames": 1},
            )
        if n % 5 == 0:
            await layer.group_send(group, {"type": "booth.trigger", "booth": "b1"})
    received: list[tuple[float, dict[str, Any]]] = []
    while not await communicator.receive_nothing(timeout=1.0):
        received.append((time.monotonic(), await receive(communicator)))
    assert sum(m["type"] == "trigger" for _, m in received) == 4
    for booth, last_score, peak in (("b1", 19 / 20, 19 / 20), ("b2", 0.9 - 19 / 40, 0.9)):
        smiles = [(at, m) for at, m in received if m["type"] == "smile" and m["booth"] == booth]
        # Sent at least 0.3 s apart, so no more than one per 0.3 s since the burst began.
        assert len(smiles) <= 1 + (smiles[-1][0] - started) / 0.3
        assert smiles[-1][1]["score"] == pytest.approx(last_score)  # the latest is never lost
        assert max(m["peak"] for _, m in smiles) == pytest.approx(peak)
        assert sum(m["frames"] for _, m in smiles) == 20
    await communicator.disconnect()


async def test_a_booth_socket_publishes_its_smiles_throttled_and_its_triggers(
    tenant_a, settings, monkeypatch
):
    monkeypatch.setattr(live, "SMILE_INTERVAL_SECONDS", 0.3)
    settings.BOOTHSITE_WS_MAX_FPS = 100
    settings.BOOTHSITE_SMILE_TRIGGER_FRAMES = 1
    settings.BOOTHSITE_SMILE_COOLDOWN_SECONDS = 0
    await database_sync_to_async(type(tenant_a.event).objects.filter(pk=tenant_a.event.pk).update)(
        smile_threshold=0.0  # a blank frame scores 0: every frame triggers
    )
    communicator, _ = await open_monitor(tenant_a.owner)
    booth = booth_socket(tenant_a)
    await booth.connect()
    blank = factories.image_bytes("JPEG", (64, 48), (0, 0, 0))
    kiosk = []
    for _ in range(6):
        await booth.send_to(bytes_data=blank)
        kiosk.append(await receive(booth))  # the kiosk's own score, every frame
        kiosk.append(await receive(booth))  # and its trigger
    assert [m["type"] for m in kiosk] == ["smile", "trigger"] * 6
    received = []
    while not await communicator.receive_nothing(timeout=1.0):
        received.append(await receive(communicator))
    smiles = [m for m in received if m["type"] == "smile"]
    assert sum(m["type"] == "trigger" for m in received) == 6
    assert 1 <= len(smiles) < 6
    assert sum(m["frames"] for m in smiles) == 6
    await booth.disconnect()
    await communicator.disconnect()


async def test_a_rendered_capture_appears_on_its_organisers_monitors_only(tenant_a, tenant_b):
    own, _ = await open_monitor(tenant_a.owner, "/ws/console/alpha/party/")
    other, _ = await open_monitor(tenant_b.owner, "/ws/console/bravo/")

    def snap():
        session = factories.make_session(tenant_a.booth)
        return capture_services.record_capture(session, factories.image_bytes("JPEG", (640, 480)))

    capture = await database_sync_to_async(snap)()  # the render runs eagerly after the commit
    ready = await receive_type(own, "capture")
    assert ready["capture"] == str(capture.public_id)
    assert ready["booth"] == tenant_a.booth.public_id.hex
    assert ready["booth_name"] == "Booth alpha"
    assert ready["status"] == "ready"
    assert ready["thumbnail_url"].startswith("/media/")
    assert await other.receive_nothing(timeout=0.5)
    _, snapshot = await open_monitor(tenant_a.owner)
    assert snapshot["booths"][0]["last_capture"]["capture"] == str(capture.public_id)
    assert [c["capture"] for c in snapshot["captures"]] == [str(capture.public_id)]
    await own.disconnect()
    await other.disconnect()


# ---- the pages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "socket"),
    [
        ("/console/alpha/monitor/", "/ws/console/alpha/"),
        ("/console/alpha/party/monitor/", "/ws/console/alpha/party/"),
    ],
)
def test_the_monitor_pages_show_the_booths_and_name_their_socket(tenant_a, path, socket):
    client = Client()
    client.force_login(tenant_a.viewer)
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-socket="{socket}"' in body
    assert f'data-booth="{tenant_a.booth.public_id.hex}"' in body
    assert "Booth alpha" in body
    assert "console-monitor.js" in body


@pytest.mark.parametrize(
    "path",
    ["/console/alpha/monitor/", "/console/alpha/party/monitor/", "/console/nope/monitor/"],
)
def test_another_organisers_monitor_page_answers_like_a_missing_one(tenant_a, tenant_b, path):
    client = Client()
    client.force_login(tenant_b.owner)
    missing = client.get("/console/nope/monitor/")
    response = client.get(path)
    assert response.status_code == 404
    assert response.content == missing.content


def test_the_monitor_page_asks_a_visitor_to_sign_in(tenant_a):
    response = Client().get("/console/alpha/monitor/")
    assert response.status_code == 302
    assert "/console/alpha/monitor/" in response["Location"]


def test_the_snapshot_costs_three_queries_whatever_the_booths(tenant_a, django_assert_num_queries):
    for n in range(3):
        booth, _ = factories.make_booth(tenant_a.event, name=f"Extra {n}")
        capture_services.record_capture(factories.make_session(booth), factories.image_bytes())
    with django_assert_num_queries(3):
        snapshot = monitor.build_snapshot(tenant_a.organiser)
    assert len(snapshot.booths) == 4
    assert sum(state["last_capture"] is not None for state in snapshot.booths) == 3
    assert len(snapshot.captures) == 3
