"""Event branding in the console: the logo's safe storage, the kiosk payload and the strips."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, PngImagePlugin

from captures import services
from captures.models import Strip
from events.models import Event
from tests import factories
from tests.conftest import stored_files

pytestmark = pytest.mark.django_db

UUID = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
CLIENT_NAME = "+447400123456 logo.png"  # a client file name must never reach storage


def logo_png(colour=(30, 90, 200), *, secret: str = "") -> bytes:
    """A 120x60 logo: a coloured box on a transparent ground, optionally with a text chunk."""
    image = Image.new("RGBA", (120, 60), (0, 0, 0, 0))
    image.paste((*colour, 255), (10, 10, 110, 50))
    info = PngImagePlugin.PngInfo()
    if secret:
        info.add_text("Comment", secret)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def branding_url(tenant) -> str:
    return f"/console/{tenant.organiser.slug}/{tenant.event.slug}/branding/"


def post_branding(client, tenant, **fields):
    data = {"welcome_text": "Say cheese", "brand_color": "#114488", **fields}
    return client.post(branding_url(tenant), data)


def test_owner_uploads_a_logo_stored_clean_under_a_random_key(client_owner_a, tenant_a):
    upload = SimpleUploadedFile(CLIENT_NAME, logo_png(secret="exif-ish secret"), "image/png")
    response = post_branding(client_owner_a, tenant_a, logo=upload)
    assert response.status_code == 302
    event = Event.objects.get(pk=tenant_a.event.pk)
    prefix = f"{tenant_a.organiser.public_id}/{tenant_a.event.public_id}/"
    assert re.fullmatch(re.escape(prefix) + UUID + r"\.png", event.logo.name)
    assert (event.welcome_text, event.brand_color) == ("Say cheese", "#114488")
    with event.logo.open("rb") as logo:
        stored = logo.read()
    assert b"secret" not in stored
    image = Image.open(io.BytesIO(stored))
    assert (image.mode, image.size) == ("RGBA", (120, 60))
    assert image.getchannel("A").getpixel((0, 0)) == 0
    page = client_owner_a.get(branding_url(tenant_a)).content.decode()
    assert event.logo.url in page
    assert "Remove the logo" in page


@pytest.mark.parametrize(
    "data", [b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"GIF89a" + bytes(40), b""]
)
def test_bad_logo_is_refused_in_words_and_changes_nothing(
    client_owner_a, tenant_a, media_root, data
):
    services.update_branding(
        tenant_a.event, welcome_text="Smile!", brand_color="#d6336c", logo=logo_png()
    )
    before = sorted(stored_files(media_root))
    upload = SimpleUploadedFile("logo.svg", data, "image/svg+xml")
    response = post_branding(client_owner_a, tenant_a, logo=upload)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Upload a valid image" in html or "The submitted file is empty" in html
    event = Event.objects.get(pk=tenant_a.event.pk)
    assert event.logo.name == tenant_a.event.logo.name
    assert event.welcome_text == "Smile!"
    assert sorted(stored_files(media_root)) == before


def test_invalid_colour_is_refused(client_owner_a, tenant_a):
    response = post_branding(client_owner_a, tenant_a, brand_color="red")
    assert response.status_code == 400
    assert "Use a colour like #d6336c." in response.content.decode()


def test_replacing_and_removing_the_logo_deletes_the_old_file(
    client_owner_a, tenant_a, media_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_branding(client_owner_a, tenant_a, logo=SimpleUploadedFile("a.png", logo_png()))
    first = Event.objects.get(pk=tenant_a.event.pk).logo.name
    with django_capture_on_commit_callbacks(execute=True):
        post_branding(client_owner_a, tenant_a, logo=SimpleUploadedFile("b.png", logo_png()))
    second = Event.objects.get(pk=tenant_a.event.pk).logo.name
    assert second != first
    assert [p.relative_to(media_root).as_posix() for p in stored_files(media_root)] == [second]
    with django_capture_on_commit_callbacks(execute=True):
        response = post_branding(client_owner_a, tenant_a, remove_logo="on")
    assert response.status_code == 302
    assert Event.objects.get(pk=tenant_a.event.pk).logo.name == ""
    assert stored_files(media_root) == []


def test_booth_gets_the_logo_url_and_it_serves_the_logo(booth_client_a, tenant_a, anon_client):
    assert booth_client_a.get("/api/v1/booth/me/").json()["event"]["logo_url"] is None
    services.update_branding(
        tenant_a.event, welcome_text="Hi", brand_color="#000000", logo=logo_png()
    )
    event = booth_client_a.get("/api/v1/booth/me/").json()["event"]
    assert event["logo_url"].startswith("http://testserver/media/")
    logo = anon_client.get(event["logo_url"].removeprefix("http://testserver"))
    assert logo.status_code == 200
    assert logo["Content-Type"] == "image/png"
    logo.close()


def test_print_strip_footer_carries_the_logo(tenant_a, django_capture_on_commit_callbacks):
    event = tenant_a.event
    event.strip_layouts = ["horizontal_4", "classic_2x6"]
    event.save()
    services.update_branding(
        event, welcome_text="Hi", brand_color="#000000", logo=logo_png((20, 200, 20))
    )
    session = factories.make_session(tenant_a.booth)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_capture(session, factories.image_bytes("JPEG", (640, 480), (90, 90, 90)))
        services.finish_session(session)
    strips = {strip.layout: strip for strip in Strip.objects.filter(session=session)}
    with strips["classic_2x6"].image.open("rb") as stored:
        band = np.asarray(Image.open(io.BytesIO(stored.read())).convert("RGB"))[1704:].astype(int)
    green = (band[..., 1] > 170) & (band[..., 0] < 80) & (band[..., 2] < 80)
    assert green.sum() > 500
    assert (strips["horizontal_4"].width, strips["horizontal_4"].height) == (640, 480)


def test_strips_render_without_a_logo_whose_file_is_gone(
    tenant_a, django_capture_on_commit_callbacks, caplog
):
    event = tenant_a.event
    event.strip_layouts = ["classic_2x6"]
    event.save()
    services.update_branding(event, welcome_text="Hi", brand_color="#000000", logo=logo_png())
    event.logo.storage.delete(event.logo.name)
    session = factories.make_session(tenant_a.booth)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_capture(session, factories.image_bytes("JPEG", (640, 480)))
        services.finish_session(session)
    assert Strip.objects.get(session=session).status == "ready"
    assert "logo" in caplog.text
