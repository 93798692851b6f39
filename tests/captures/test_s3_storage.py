"""Captures on S3-compatible storage: moto's S3 server on loopback, django-storages' backend."""

from __future__ import annotations

import io
import zipfile
from urllib.parse import parse_qs, urlparse

import pytest

from captures import services
from tests import factories
from tests.captures.conftest import s3_storage

pytestmark = pytest.mark.django_db
BUCKET = "boothsite-test"


@pytest.fixture
def s3(settings, s3_endpoint, monkeypatch):
    with s3_storage(settings, monkeypatch, s3_endpoint, bucket=BUCKET, expire=300) as client:
        yield client


def test_capture_and_variants_land_in_the_bucket(s3, tenant_a, django_capture_on_commit_callbacks):
    session = factories.make_session(tenant_a.booth)
    with django_capture_on_commit_callbacks(execute=True):
        capture = services.record_capture(session, factories.image_bytes("JPEG"))
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert capture.image.name in keys
    assert len(keys) == 2 + 2 * 4  # original, thumbnail; 4 variants with thumbnails
    prefix = f"{tenant_a.organiser.public_id}/{tenant_a.event.public_id}/"
    assert all(key.startswith(prefix) for key in keys)


def test_api_returns_short_lived_signed_urls(s3, tenant_a, booth_client_a):
    session = factories.make_session(tenant_a.booth)
    services.record_capture(session, factories.image_bytes("JPEG"))
    body = booth_client_a.get(f"/api/v1/booth/sessions/{session.public_id}/").json()
    url = body["captures"][0]["url"]
    query = parse_qs(urlparse(url).query)
    assert "X-Amz-Signature" in query or "Signature" in query
    expires = int(query.get("X-Amz-Expires", ["300"])[0])
    assert expires <= 300


def test_local_media_view_is_off_with_s3(s3, anon_client):
    assert anon_client.get("/media/anything.jpg").status_code == 404


def test_download_all_zip_streams_from_the_bucket(
    s3, tenant_a, anon_client, django_capture_on_commit_callbacks
):
    session = factories.make_session(tenant_a.booth)
    with django_capture_on_commit_callbacks(execute=True):
        capture = services.record_capture(session, factories.image_bytes("JPEG"))
        services.finish_session(session)
    response = anon_client.get(session.download_path())
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        original = archive.read("party-photos/photo-1.jpg")
    assert len(names) == 1 + 4 + 1  # the original, 4 variants, the strip
    stored = s3.get_object(Bucket=BUCKET, Key=capture.image.name)["Body"].read()
    assert original == stored
