"""The guest's "download all": a session's originals, variants and strip as a streamed ZIP."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.test import AsyncClient

from captures import services
from captures.models import BoothSession
from messaging import services as messaging_services
from tests import factories

pytestmark = pytest.mark.django_db

PHONE = "+447400123456"
FILTERS = ["grayscale", "sepia", "green", "blue"]


def finish(session: BoothSession, committing, colours) -> BoothSession:
    with committing(execute=True):
        for colour in colours:
            services.record_capture(session, factories.image_bytes("JPEG", (96, 72), colour))
        services.finish_session(session)
    return session


@pytest.fixture
def finished_session(tenant_a, django_capture_on_commit_callbacks):
    session = factories.make_session(tenant_a.booth)
    return finish(session, django_capture_on_commit_callbacks, [(250, 10, 10), (10, 250, 10)])


def read(field) -> bytes:
    with field.open("rb") as stored:
        return bytes(stored.read())


def expected_files(session: BoothSession) -> dict[str, bytes]:
    files = {}
    for number, capture in enumerate(session.captures.order_by("taken_at", "pk"), 1):
        files[f"party-photos/photo-{number}.jpg"] = read(capture.image)
        for variant in capture.variants.all():
            files[f"party-photos/photo-{number}-{variant.filter}.jpg"] = read(variant.image)
    for strip in session.strips.all():
        files[f"party-photos/strip-{strip.layout}.jpg"] = read(strip.image)
    return files


def open_zip(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
        return {name: archive.read(name) for name in archive.namelist()}


def test_zip_holds_the_originals_variants_and_strip(anon_client, finished_session):
    messaging_services.queue_share_sms(finished_session.booth, finished_session, PHONE)
    response = anon_client.get(f"/s/{finished_session.share_token}/photos.zip")
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert response["Content-Type"] == "application/zip"
    assert int(response["Content-Length"]) == len(body)
    assert response["Content-Disposition"] == 'attachment; filename="party-photos.zip"'
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Cache-Control"] == "private, no-store"
    files = open_zip(body)
    expected = expected_files(finished_session)
    assert sorted(files) == sorted(expected)
    assert len(files) == 2 + 2 * len(FILTERS) + 1
    assert files == expected
    for text in (str(response.headers), *files):
        assert "7400123456" not in text


def test_zip_leaves_out_hidden_photos_and_missing_files(anon_client, finished_session, caplog):
    first, second = finished_session.captures.order_by("taken_at", "pk")
    second.hidden = True
    second.save(update_fields=["hidden"])
    sepia = first.variants.get(filter="sepia")
    # A row from before sizes were stored (0): the ZIP asks storage, finds it missing.
    # (A file gone with its size stored cuts the download short: test_event_zip.py.)
    first.variants.filter(pk=sepia.pk).update(size_bytes=0)
    sepia.image.storage.delete(sepia.image.name)
    body = b"".join(anon_client.get(finished_session.download_path()).streaming_content)
    names = sorted(open_zip(body))
    assert names == [
        "party-photos/photo-1-blue.jpg",
        "party-photos/photo-1-grayscale.jpg",
        "party-photos/photo-1-green.jpg",
        "party-photos/photo-1.jpg",
        "party-photos/strip-horizontal_4.jpg",
    ]
    assert "missing file" in caplog.text


@pytest.mark.django_db(transaction=True)
async def test_zip_streams_asynchronously_under_asgi(tenant_a):
    from asgiref.sync import sync_to_async

    def build():
        session = factories.make_session(tenant_a.booth)
        for colour in [(1, 2, 3), (200, 100, 50)]:
            services.record_capture(session, factories.image_bytes("JPEG", (64, 48), colour))
        services.finish_session(session)
        return session, expected_files(session)

    session, expected = await sync_to_async(build)()
    response: Any = await AsyncClient().get(session.download_path())  # a streaming response
    assert response.status_code == 200
    assert response.is_async
    body = b"".join([chunk async for chunk in response.streaming_content])
    assert int(response["Content-Length"]) == len(body)
    assert open_zip(body) == expected


@pytest.mark.parametrize("token", ["x" * 22, "", "../photos"])
def test_bad_tokens_get_the_session_pages_404(anon_client, finished_session, token):
    response = anon_client.get(f"/s/{token}/photos.zip")
    missing_page = anon_client.get("/s/" + "x" * 22 + "/")
    assert response.status_code == 404
    assert response.content == missing_page.content


def test_session_page_and_kiosk_link_to_the_zip(anon_client, booth_client_a, finished_session):
    html = anon_client.get(finished_session.share_path()).content.decode()
    assert f'href="{finished_session.download_path()}"' in html
    body = booth_client_a.get(f"/api/v1/booth/sessions/{finished_session.public_id}/").json()
    assert body["download_url"].endswith(f"/s/{finished_session.share_token}/photos.zip")
