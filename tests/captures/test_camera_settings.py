"""Booth camera settings saved in the console reach a running kiosk over its socket."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from events import tokens
from events.models import Booth
from tests.captures.test_consumers import connect
from tests.conftest import booth_client

SETTINGS = {
    "camera_width": "1920",
    "camera_height": "1080",
    "camera_brightness": "140",
    "camera_contrast": "",
    "camera_zoom": "1.5",
    # camera_mirror left out: an unchecked box
}
CAMERA = {
    "width": 1920,
    "height": 1080,
    "mirror": False,
    "brightness": 140.0,
    "contrast": None,
    "zoom": 1.5,
}


def camera_url(tenant) -> str:
    return f"/console/{tenant.organiser.slug}/booths/{tenant.booth.public_id}/camera/"


def owner_client(tenant) -> Client:
    client = Client()
    client.force_login(tenant.owner)
    return client


@pytest.mark.django_db
def test_owner_saves_camera_settings_and_me_returns_them(tenant_a):
    client = owner_client(tenant_a)
    page = client.get(camera_url(tenant_a))
    assert page.status_code == 200
    assert 'id="id_camera_mirror" checked' in page.content.decode()
    response = client.post(camera_url(tenant_a), SETTINGS)
    assert response.status_code == 302
    assert booth_client(tenant_a.token).get("/api/v1/booth/me/").json()["camera"] == CAMERA


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("camera_width", "20000", "less than or equal to 3840"),
        ("camera_height", "", "This field is required."),
        ("camera_zoom", "-1", "greater than or equal to 0"),
        ("camera_brightness", "nan", "Enter a number."),
    ],
)
def test_bad_camera_settings_are_refused_in_words(tenant_a, field, value, message):
    response = owner_client(tenant_a).post(camera_url(tenant_a), {**SETTINGS, field: value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Booth.objects.get(pk=tenant_a.booth.pk).camera_width == 1280


@pytest.mark.django_db
def test_console_lists_each_booths_camera_page(tenant_a):
    html = owner_client(tenant_a).get("/console/").content.decode()
    assert f'href="{camera_url(tenant_a)}"' in html


@pytest.mark.django_db(transaction=True)
async def test_saved_settings_reach_the_running_kiosk(tenant_a, tenant_b):
    kiosk = connect(tokens.socket_ticket(tenant_a.booth.public_id, tenant_a.booth.token_hash))
    other_kiosk = connect(tokens.socket_ticket(tenant_b.booth.public_id, tenant_b.booth.token_hash))
    assert (await kiosk.connect())[0]
    assert (await other_kiosk.connect())[0]
    console = await database_sync_to_async(owner_client)(tenant_a)
    response = await database_sync_to_async(console.post)(camera_url(tenant_a), SETTINGS)
    assert response.status_code == 302
    pushed = json.loads(await kiosk.receive_from(timeout=5))
    assert pushed == {"type": "camera", "camera": CAMERA}
    me = await database_sync_to_async(booth_client(tenant_a.token).get)("/api/v1/booth/me/")
    assert pushed["camera"] == me.json()["camera"]
    assert await other_kiosk.receive_nothing(timeout=0.3)
    await kiosk.disconnect()
    await other_kiosk.disconnect()


@pytest.mark.django_db
def test_a_dead_channel_layer_does_not_break_the_save(
    tenant_a, settings, caplog, django_capture_on_commit_callbacks
):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:9/0"]},  # port 9 (discard): refused
        }
    }
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = owner_client(tenant_a).post(camera_url(tenant_a), SETTINGS)
    assert response.status_code == 302
    assert len(callbacks) == 1
    assert Booth.objects.get(pk=tenant_a.booth.pk).camera_settings() == CAMERA
    assert "Live update to booth." in caplog.text
