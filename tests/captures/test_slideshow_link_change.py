"""An open slideshow closes at once when its gallery link is rotated or revoked (14.3/14.4).

The timed re-check is pushed far out (an hour), so a close within the test's few
seconds can only come from the ``gallery.changed`` news the link's services send on
the in-memory channel layer, through the full ASGI application.
"""

from __future__ import annotations

import datetime as dt

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from captures import slideshow
from events import gallery_sockets
from events import services as event_services
from tests.captures.test_slideshow import open_show, receive, snap

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED = {"type": "websocket.close", "code": slideshow.CLOSE_GALLERY_CLOSED}


@pytest.fixture(autouse=True)
def in_memory_layer(settings, monkeypatch) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    monkeypatch.setattr(slideshow, "RECHECK_SECONDS", 3600.0)


async def test_rotating_the_link_closes_an_open_slideshow_at_once(tenant_a, tenant_b):
    show = await open_show(tenant_a.event)
    other = await open_show(tenant_b.event)
    await database_sync_to_async(event_services.rotate_gallery_token)(tenant_a.event)
    assert await show.receive_output(timeout=5) == CLOSED
    assert await other.receive_nothing(timeout=0.3)  # another event's show stays open
    await other.disconnect()


async def test_revoking_the_link_closes_an_open_slideshow_at_once(tenant_a):
    show = await open_show(tenant_a.event)
    await database_sync_to_async(event_services.revoke_gallery_link)(tenant_a.event)
    assert await show.receive_output(timeout=5) == CLOSED


async def test_a_new_link_opens_a_new_slideshow_that_still_gets_slides(tenant_a):
    token = await database_sync_to_async(event_services.rotate_gallery_token)(tenant_a.event)
    tenant_a.event.gallery_token = token
    show = await open_show(tenant_a.event)
    await database_sync_to_async(event_services.revoke_gallery_link)(tenant_a.event)
    assert await show.receive_output(timeout=5) == CLOSED
    fresh = await database_sync_to_async(event_services.rotate_gallery_token)(tenant_a.event)
    tenant_a.event.gallery_token = fresh
    show = await open_show(tenant_a.event)
    capture = (await database_sync_to_async(snap)(tenant_a.booth))[0]
    assert (await receive(show))["slide"]["id"] == str(capture.public_id)
    await show.disconnect()


async def test_an_expiry_moved_forward_is_waited_for_and_then_closes(tenant_a):
    show = await open_show(tenant_a.event)
    soon = timezone.now() + dt.timedelta(seconds=1)
    await database_sync_to_async(event_services.set_gallery_expiry)(tenant_a.event, soon)
    # The news makes the show re-read the expiry; it closes when the link expires.
    assert await show.receive_output(timeout=5) == CLOSED


async def test_news_for_a_link_that_still_opens_keeps_the_show_open(tenant_a):
    show = await open_show(tenant_a.event)
    later = timezone.now() + dt.timedelta(days=2)
    await database_sync_to_async(event_services.set_gallery_expiry)(tenant_a.event, later)
    assert await show.receive_nothing(timeout=0.5)
    await show.send_to(text_data='{"type": "ping"}')
    assert await receive(show) == {"type": "pong"}
    await show.disconnect()


def test_the_timed_check_waits_no_longer_than_the_expiry():
    now = timezone.now()
    assert slideshow.seconds_to_next_check(None, now) == slideshow.RECHECK_SECONDS
    assert slideshow.seconds_to_next_check(now + dt.timedelta(seconds=2), now) == pytest.approx(
        2.05
    )
    assert slideshow.seconds_to_next_check(now - dt.timedelta(hours=1), now) == 0.0


@pytest.mark.django_db  # inside the test's transaction: on-commit hooks are captured
def test_the_news_goes_after_the_commit_only(tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as pushed:
        event_services.revoke_gallery_link(tenant_a.event)
        event_services.revoke_gallery_link(tenant_a.event)  # already revoked: no news
    assert len(pushed) == 1
    assert gallery_sockets.gallery_group(tenant_a.event) == (
        f"gallery.{tenant_a.event.public_id.hex}"
    )
