"""The live slideshow: its page, its JSON feed and its socket (issue 14.3).

Sockets go through the full ASGI application (Origin check, routing, session
middleware) on the in-memory channel layer, as tests/captures/test_console_monitor.py
does; the captures are rendered for real (Celery runs eagerly after the commit), so the
``capture.ready``, ``strip.ready`` and ``capture.hidden`` messages come from the services
that send them. The browser test (tests/browser/test_slideshow.py) drives a real daphne.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.utils import timezone

from boothsite.asgi import application
from boothsite.logs import redact_path
from captures import live, public_views, slideshow
from captures import services as capture_services
from captures.models import Capture, RenderStatus, Strip
from events import services as event_services
from tests import factories
from tests.signed_media_urls import unsigned

ORIGIN = (b"origin", b"http://testserver")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def in_memory_layer(settings) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def live_path(event) -> str:
    return f"/g/{event.gallery_token}/live/"


def feed_path(event) -> str:
    return f"/g/{event.gallery_token}/live/feed.json"


def snap(booth, count: int = 1, *, finish: bool = False) -> list[Capture]:
    """Run one booth session of ``count`` rendered captures (and its strip when finished)."""
    session = factories.make_session(booth)
    taken = [
        capture_services.record_capture(session, factories.image_bytes("JPEG", (64, 48)))
        for _ in range(count)
    ]
    if finish:
        capture_services.finish_session(session)
    for capture in taken:
        capture.refresh_from_db()
    return taken


# ---- the page ------------------------------------------------------------------------------


def test_the_page_names_its_socket_and_feed_and_is_private(tenant_a, anon_client):
    event = tenant_a.event
    response = anon_client.get(live_path(event))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-socket="/ws/gallery/{event.gallery_token}/"' in html
    assert f'data-feed="{feed_path(event)}"' in html
    assert 'data-seconds="6"' in html
    assert "slideshow.js" in html
    assert event.name in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Cache-Control"] == "private, no-store"


def test_the_page_has_a_url_name_for_the_gallery_link(tenant_a):
    from django.urls import reverse

    event = tenant_a.event
    assert reverse("captures:slideshow", args=[event.gallery_token]) == live_path(event)


@pytest.mark.parametrize(("given", "status"), [("3", 200), ("60", 200), ("15", 200), ("", 200)])
def test_the_pace_is_3_to_60_seconds(tenant_a, anon_client, given, status):
    response = anon_client.get(live_path(tenant_a.event), {"seconds": given})
    assert response.status_code == status
    assert f'data-seconds="{given or 6}"' in response.content.decode()


@pytest.mark.parametrize("given", ["2", "61", "abc", "-5", "6.5", "٣", "9" * 40])
def test_a_bad_pace_answers_400_saying_what_is_allowed(tenant_a, anon_client, given):
    response = anon_client.get(live_path(tenant_a.event), {"seconds": given})
    assert response.status_code == 400
    assert "from 3 to 60" in response.content.decode()


def test_a_bad_off_or_archived_gallery_answers_one_404(tenant_a, anon_client):
    event = tenant_a.event
    missing = anon_client.get("/g/" + "y" * 22 + "/live/")
    event.gallery_visibility = "off"
    event.save()
    off = anon_client.get(live_path(event))
    event.gallery_visibility = "link"
    event.archived_at = timezone.now()
    event.save()
    archived = anon_client.get(live_path(event))
    assert missing.status_code == off.status_code == archived.status_code == 404
    assert missing.content == off.content == archived.content
    feed_missing = anon_client.get("/g/" + "y" * 22 + "/live/feed.json")
    feed_archived = anon_client.get(feed_path(event))
    assert feed_missing.status_code == feed_archived.status_code == 404
    assert feed_missing.content == feed_archived.content


def test_an_expired_or_revoked_link_answers_410(tenant_a, anon_client):
    event = tenant_a.event
    old = event.gallery_token
    event_services.rotate_gallery_token(event)
    assert anon_client.get(f"/g/{old}/live/").status_code == 410
    rotated = anon_client.get(f"/g/{old}/live/feed.json")
    assert rotated.status_code == 410
    assert "detail" in rotated.json()
    event.refresh_from_db()
    assert anon_client.get(feed_path(event)).status_code == 200
    event.gallery_expires_at = timezone.now() - dt.timedelta(minutes=1)
    event.save()
    assert anon_client.get(live_path(event)).status_code == 410
    assert anon_client.get(feed_path(event)).status_code == 410


def test_a_passcode_gallery_asks_first_then_opens_page_and_feed(tenant_a, anon_client):
    event = tenant_a.event
    event_services.set_gallery_passcode(event, "smile")
    event.gallery_visibility = "passcode"
    event.save()
    gate = anon_client.get(live_path(event))
    assert gate.status_code == 200
    assert 'name="passcode"' in gate.content.decode()
    assert "data-socket" not in gate.content.decode()
    locked = anon_client.get(feed_path(event))
    assert locked.status_code == 403
    assert "passcode" in locked.json()["detail"]
    wrong = anon_client.post(live_path(event), {"passcode": "frown"})
    assert wrong.status_code == 403
    assert anon_client.post(live_path(event), {"passcode": "smile"}).status_code == 200
    assert "data-socket" in anon_client.get(live_path(event)).content.decode()
    assert anon_client.get(feed_path(event)).status_code == 200


# ---- the feed ------------------------------------------------------------------------------


def test_the_feed_shows_visible_rendered_captures_and_strips_newest_first(tenant_a, anon_client):
    first = snap(tenant_a.booth, 2, finish=True)
    second = snap(tenant_a.booth, 1)
    capture_services.hide_capture(first[0])
    pending = snap(tenant_a.booth, 1)[0]
    Capture.objects.filter(pk=pending.pk).update(render_status=RenderStatus.PENDING)
    strip = Strip.objects.get()
    assert strip.status == RenderStatus.READY  # rendered again without the hidden photo
    body = anon_client.get(feed_path(tenant_a.event)).json()
    assert body["limit"] == slideshow.FEED_LIMIT
    ids = [slide["id"] for slide in body["slides"]]
    assert ids == [str(second[0].public_id), str(strip.public_id), str(first[1].public_id)]
    kinds = [slide["kind"] for slide in body["slides"]]
    assert kinds == ["capture", "strip", "capture"]
    for slide in body["slides"]:
        assert set(slide) == {"id", "kind", "url", "width", "height"}
        assert slide["url"].startswith("/media/")
    assert body["slides"][0]["width"] == 64
    assert unsigned(body["slides"][1]["url"]) == f"/media/{strip.image.name}"


def test_the_feed_never_carries_share_tokens_booths_or_numbers(tenant_a, anon_client):
    capture = snap(tenant_a.booth, 1, finish=True)[0]
    text = anon_client.get(feed_path(tenant_a.event)).content.decode()
    assert capture.session.share_token not in text
    assert str(capture.session.public_id) not in text
    assert tenant_a.booth.public_id.hex not in text
    assert tenant_a.booth.name not in text


def test_the_feed_is_bounded_to_the_newest(tenant_a, anon_client, monkeypatch):
    monkeypatch.setattr(slideshow, "FEED_LIMIT", 2)
    monkeypatch.setattr(slideshow.feed, "__defaults__", (2,))
    taken = snap(tenant_a.booth, 3)
    ids = [slide["id"] for slide in anon_client.get(feed_path(tenant_a.event)).json()["slides"]]
    assert ids == [str(taken[2].public_id), str(taken[1].public_id)]


def bulk_captures(tenant, count: int) -> None:
    """Store ``count`` rendered captures and one strip per 4 as rows (no files): fast."""
    session = factories.make_session(tenant.booth)
    now = timezone.now()
    Capture.objects.bulk_create(
        Capture(
            session=session,
            event=tenant.event,
            image=f"x/y/{uuid.uuid4()}.jpg",
            width=640,
            height=480,
            sha256="0" * 64,
            render_status=RenderStatus.READY,
            taken_at=now - dt.timedelta(seconds=n),
        )
        for n in range(count)
    )
    sessions = [factories.make_session(tenant.booth) for _ in range(max(1, count // 40))]
    Strip.objects.bulk_create(
        Strip(
            session=s,
            event=tenant.event,
            layout="horizontal_4",
            status=RenderStatus.READY,
            image=f"x/y/{uuid.uuid4()}.jpg",
            width=2560,
            height=480,
        )
        for s in sessions
    )


@pytest.mark.parametrize("count", [10, 1000])
def test_the_feed_costs_three_queries_at_10_and_1000_captures(
    tenant_a, anon_client, django_assert_num_queries, count
):
    bulk_captures(tenant_a, count)
    with django_assert_num_queries(3):  # the event, its captures, its strips
        response = anon_client.get(feed_path(tenant_a.event))
    assert len(response.json()["slides"]) == min(count + max(1, count // 40), slideshow.FEED_LIMIT)


@pytest.mark.parametrize("count", [10, 1000])
def test_the_page_costs_one_query_at_10_and_1000_captures(
    tenant_a, anon_client, django_assert_num_queries, count
):
    bulk_captures(tenant_a, count)
    with django_assert_num_queries(1):  # the event
        assert anon_client.get(live_path(tenant_a.event)).status_code == 200


@pytest.mark.parametrize("count", [10, 1000])
def test_a_passcode_feed_costs_one_query_more(
    tenant_a, anon_client, django_assert_num_queries, count
):
    event = tenant_a.event
    event_services.set_gallery_passcode(event, "smile")
    event.gallery_visibility = "passcode"
    event.save()
    anon_client.post(live_path(event), {"passcode": "smile"})
    bulk_captures(tenant_a, count)
    with django_assert_num_queries(4):  # the session too
        assert anon_client.get(feed_path(event)).status_code == 200


# ---- the socket ----------------------------------------------------------------------------


def session_cookie(client: Client) -> str:
    return str(client.cookies[settings.SESSION_COOKIE_NAME].value)


def viewer(
    event, *, origin=ORIGIN, cookie: str | None = None, token: str | None = None
) -> WebsocketCommunicator:
    headers = [origin] if origin else []
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    path = f"/ws/gallery/{token or event.gallery_token}/"
    return WebsocketCommunicator(application, path, headers=headers)


async def open_show(event, **kwargs: Any) -> WebsocketCommunicator:
    communicator = viewer(event, **kwargs)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def receive(communicator) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await communicator.receive_from(timeout=10))
    return message


async def test_a_rendered_capture_is_pushed_as_a_slide_and_nothing_else(tenant_a, tenant_b):
    show = await open_show(tenant_a.event)
    other = await open_show(tenant_b.event)
    capture = (await database_sync_to_async(snap)(tenant_a.booth))[0]
    message = await receive(show)
    message["slide"]["url"] = unsigned(message["slide"]["url"])
    assert message == {
        "type": "slide",
        "slide": {
            "id": str(capture.public_id),
            "kind": "capture",
            "url": f"/media/{capture.image.name}",
            "width": 64,
            "height": 48,
        },
    }
    assert await other.receive_nothing(timeout=0.3)
    await show.disconnect()
    await other.disconnect()


async def test_a_finished_session_pushes_its_strip(tenant_a):
    show = await open_show(tenant_a.event)
    await database_sync_to_async(snap)(tenant_a.booth, 2, finish=True)
    kinds = [(await receive(show))["slide"]["kind"] for _ in range(3)]
    assert kinds == ["capture", "capture", "strip"]
    strip = await database_sync_to_async(Strip.objects.get)()
    assert strip.status == RenderStatus.READY
    await show.disconnect()


async def test_hiding_a_capture_removes_it_and_its_sessions_strips(tenant_a):
    taken = await database_sync_to_async(snap)(tenant_a.booth, 2, finish=True)
    strip = await database_sync_to_async(Strip.objects.get)()
    show = await open_show(tenant_a.event)
    await database_sync_to_async(capture_services.hide_capture)(taken[0])
    removed = await receive(show)
    assert removed == {"type": "remove", "ids": [str(taken[0].public_id), str(strip.public_id)]}
    again = await receive(show)  # the strip, rendered again from the other photo
    assert again["type"] == "slide"
    assert again["slide"]["id"] == str(strip.public_id)
    assert again["slide"]["kind"] == "strip"
    await show.disconnect()


async def test_a_capture_shown_again_comes_back(tenant_a):
    capture = (await database_sync_to_async(snap)(tenant_a.booth))[0]
    await database_sync_to_async(capture_services.hide_capture)(capture)
    show = await open_show(tenant_a.event)
    await database_sync_to_async(capture_services.unhide_capture)(capture)
    message = await receive(show)
    assert message["type"] == "slide"
    assert message["slide"]["id"] == str(capture.public_id)
    await show.disconnect()


async def test_deleting_a_capture_removes_it_and_hiding_twice_says_nothing(tenant_a):
    taken = await database_sync_to_async(snap)(tenant_a.booth, 2)
    show = await open_show(tenant_a.event)
    await database_sync_to_async(capture_services.delete_capture)(taken[1])
    assert await receive(show) == {"type": "remove", "ids": [str(taken[1].public_id)]}
    await database_sync_to_async(capture_services.hide_capture)(taken[0])
    assert (await receive(show))["ids"] == [str(taken[0].public_id)]
    await database_sync_to_async(capture_services.hide_capture)(taken[0])  # already hidden
    await database_sync_to_async(capture_services.delete_capture)(taken[0])  # hidden: unseen
    assert await show.receive_nothing(timeout=0.3)
    await show.disconnect()


async def test_the_monitors_and_booths_news_is_not_forwarded(tenant_a):
    show = await open_show(tenant_a.event)
    group = live.event_group(tenant_a.event)
    for message in (
        {"type": "booth.presence", "booth": "b", "online": True},
        {"type": "booth.smile", "booth": "b", "score": 0.9, "peak": 0.9, "frames": 1},
        {"type": "something.new"},
    ):
        await show.send_input(message)  # as the group would deliver it
    await database_sync_to_async(live.publish)(group, {"type": "booth.trigger", "booth": "b"})
    assert await show.receive_nothing(timeout=0.3)
    await show.disconnect()


async def test_a_ready_message_for_a_hidden_capture_sends_nothing(tenant_a):
    capture = (await database_sync_to_async(snap)(tenant_a.booth))[0]
    await database_sync_to_async(capture_services.hide_capture)(capture)
    show = await open_show(tenant_a.event)
    await show.send_input({"type": "capture.ready", "capture": str(capture.public_id)})
    await show.send_input({"type": "capture.ready", "capture": "not-a-uuid"})
    await show.send_input({"type": "strip.ready", "strips": "nope"})
    assert await show.receive_nothing(timeout=0.3)
    await show.disconnect()


async def test_another_events_capture_id_is_never_sent(tenant_a, tenant_b):
    foreign = (await database_sync_to_async(snap)(tenant_b.booth))[0]
    show = await open_show(tenant_a.event)
    await show.send_input({"type": "capture.ready", "capture": str(foreign.public_id)})
    assert await show.receive_nothing(timeout=0.3)
    await show.disconnect()


async def test_ping_is_answered_and_anything_else_closes_with_4000(tenant_a):
    show = await open_show(tenant_a.event)
    await show.send_to(text_data=json.dumps({"type": "ping"}))
    assert await receive(show) == {"type": "pong"}
    await show.send_to(text_data="hello")
    assert await show.receive_output(timeout=5) == {"type": "websocket.close", "code": 4000}


async def test_a_cross_origin_page_or_no_origin_is_refused(tenant_a):
    evil = (b"origin", b"https://evil.example")
    assert (await viewer(tenant_a.event, origin=evil).connect())[0] is False
    assert (await viewer(tenant_a.event, origin=None).connect())[0] is False


async def test_a_bad_off_archived_or_gone_gallery_refuses_the_socket(tenant_a):
    event = tenant_a.event
    refused = await viewer(event, token="z" * 43).connect()
    assert refused[0] is False

    async def update(**fields: object) -> None:
        await database_sync_to_async(type(event).objects.filter(pk=event.pk).update)(**fields)

    await update(gallery_visibility="off")
    assert await viewer(event).connect() == refused
    await update(gallery_visibility="link", archived_at=timezone.now())
    assert await viewer(event).connect() == refused
    await update(archived_at=None, gallery_expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert await viewer(event).connect() == refused
    await update(gallery_expires_at=None)
    old = event.gallery_token
    await database_sync_to_async(event_services.rotate_gallery_token)(event)
    assert await viewer(event, token=old).connect() == refused
    await (await open_show(event)).disconnect()  # the new link opens


async def test_a_passcode_gallery_needs_a_session_that_unlocked_it(tenant_a):
    event = tenant_a.event

    def lock_and_unlock() -> tuple[str, str]:
        event_services.set_gallery_passcode(event, "smile")
        type(event).objects.filter(pk=event.pk).update(gallery_visibility="passcode")
        stranger = slideshow.stored_session(None)  # a session that unlocked another gallery
        stranger[public_views.PASSCODE_SESSION_KEY] = ["another-gallery-token"]
        stranger.save()
        guest = Client()
        assert guest.post(live_path(event), {"passcode": "wrong"}).status_code == 403
        guest.post(live_path(event), {"passcode": "smile"})
        return str(stranger.session_key), session_cookie(guest)

    stranger, guest = await database_sync_to_async(lock_and_unlock)()
    assert (await viewer(event).connect())[0] is False
    assert (await viewer(event, cookie=stranger).connect())[0] is False
    await (await open_show(event, cookie=guest)).disconnect()


async def test_an_open_slideshow_closes_with_4003_when_its_gallery_closes(tenant_a, monkeypatch):
    monkeypatch.setattr(slideshow, "RECHECK_SECONDS", 0.05)
    show = await open_show(tenant_a.event)
    await database_sync_to_async(event_services.revoke_gallery_link)(tenant_a.event)
    assert await show.receive_output(timeout=10) == {"type": "websocket.close", "code": 4003}


async def test_unknown_tokens_count_as_link_misses_on_the_socket_too(tenant_a, settings):
    settings.BOOTHSITE_LINK_MISS_RATE = "3/m"
    for _ in range(3):
        assert (await viewer(tenant_a.event, token=uuid.uuid4().hex).connect())[0] is False
    # Over the limit, the address is refused whatever it sends, the real link too.
    assert (await viewer(tenant_a.event).connect())[0] is False


async def test_a_monitor_ignores_the_hidden_news(tenant_a):
    from tests.captures.test_console_monitor import open_monitor

    taken = await database_sync_to_async(snap)(tenant_a.booth, 1)
    monitor, _ = await open_monitor(tenant_a.owner, "/ws/console/alpha/party/")
    await database_sync_to_async(capture_services.hide_capture)(taken[0])
    await monitor.send_to(text_data=json.dumps({"type": "ping"}))
    assert json.loads(await monitor.receive_from(timeout=5)) == {"type": "pong"}
    await monitor.disconnect()


def test_the_socket_path_is_redacted_in_logs():
    assert redact_path("/ws/gallery/abcdefghijklmnopqrstuv/") == "/ws/gallery/<redacted>/"
    assert redact_path("/g/abcdefghijklmnopqrstuv/live/feed.json") == "/g/<redacted>/live/feed.json"
