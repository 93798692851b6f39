"""Booth upload contract: formats accepted, bad input refused with nothing stored."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from captures.models import BoothSession, Capture, CaptureVariant
from tests import factories
from tests.conftest import stored_files

pytestmark = pytest.mark.django_db


def start(client) -> str:
    response = client.post("/api/v1/booth/sessions/")
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width`` x ``height`` (nothing else is valid)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF)
    )


def test_multipart_jpeg_upload_is_stored_and_rendered(
    booth_client_a, media_root, django_capture_on_commit_callbacks
):
    session_id = start(booth_client_a)
    upload = SimpleUploadedFile("guest.jpg", factories.image_bytes("JPEG"), "image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        response = booth_client_a.post(
            f"/api/v1/booth/sessions/{session_id}/captures/",
            {"image": upload},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["width"] == 64
    assert body["height"] == 48
    assert body["url"].startswith("http://testserver/media/")
    capture = Capture.objects.get(public_id=body["id"])
    assert "guest" not in capture.image.name
    assert CaptureVariant.objects.filter(capture=capture).count() == 4


def test_data_url_png_upload_keeps_png(booth_client_a):
    session_id = start(booth_client_a)
    response = booth_client_a.post(
        f"/api/v1/booth/sessions/{session_id}/captures/",
        {"image": data_url(factories.image_bytes("PNG"))},
        format="json",
    )
    assert response.status_code == 201, response.content
    capture = Capture.objects.get(public_id=response.json()["id"])
    assert capture.format == "PNG"
    assert capture.image.name.endswith(".png")


def test_stored_original_has_no_metadata(booth_client_a):
    image = Image.new("RGB", (80, 40), (10, 200, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    exif[0x010F] = "SecretCam"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    session_id = start(booth_client_a)
    response = booth_client_a.post(
        f"/api/v1/booth/sessions/{session_id}/captures/",
        {"image": data_url(buffer.getvalue(), "image/jpeg")},
        format="json",
    )
    assert response.status_code == 201, response.content
    capture = Capture.objects.get(public_id=response.json()["id"])
    with capture.image.open("rb") as stored:
        data = stored.read()
    assert b"SecretCam" not in data
    stored_image = Image.open(io.BytesIO(data))
    assert stored_image.size == (40, 80)
    assert not stored_image.getexif()


BAD_UPLOADS = [
    ("not an image", b"hello, this is text", 400, "image"),
    ("truncated", factories.image_bytes("PNG", (300, 300))[:200], 400, "image"),
    ("too many pixels", png_header_only(20000, 20000), 400, "image"),
    ("over the pixel cap", png_header_only(5000, 5000), 400, "image"),
    ("empty", b"", 400, "image"),
]


@pytest.mark.parametrize(("label", "payload", "status", "field"), BAD_UPLOADS)
@pytest.mark.parametrize("encoding", ["multipart", "json"])
def test_bad_upload_is_refused_and_nothing_is_stored(
    booth_client_a, media_root, label, payload, status, field, encoding
):
    session_id = start(booth_client_a)
    url = f"/api/v1/booth/sessions/{session_id}/captures/"
    if encoding == "multipart":
        upload = SimpleUploadedFile("x.png", payload, "image/png")
        response = booth_client_a.post(url, {"image": upload}, format="multipart")
    else:
        response = booth_client_a.post(url, {"image": data_url(payload)}, format="json")
    assert response.status_code == status, (label, response.content)
    assert response["Content-Type"] == "application/json"
    assert field in response.json()
    assert Capture.objects.count() == 0
    assert stored_files(media_root) == []


def test_multipart_over_10_mb_is_413(booth_client_a, media_root):
    session_id = start(booth_client_a)
    upload = SimpleUploadedFile("big.png", b"\0" * (10 * 1024 * 1024 + 1), "image/png")
    response = booth_client_a.post(
        f"/api/v1/booth/sessions/{session_id}/captures/", {"image": upload}, format="multipart"
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "Photo too large (max 10 MB)."}
    assert Capture.objects.count() == 0
    assert stored_files(media_root) == []


def test_json_body_over_the_limit_is_413_json(booth_client_a, media_root):
    session_id = start(booth_client_a)
    huge = "data:image/png;base64," + "A" * 14_100_000
    response = booth_client_a.post(
        f"/api/v1/booth/sessions/{session_id}/captures/", {"image": huge}, format="json"
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "Photo too large (max 10 MB)."}
    assert Capture.objects.count() == 0
    assert stored_files(media_root) == []


def test_base64_just_over_10_mb_is_413(booth_client_a):
    session_id = start(booth_client_a)
    payload = "data:image/png;base64," + "A" * 13_981_020
    response = booth_client_a.post(
        f"/api/v1/booth/sessions/{session_id}/captures/", {"image": payload}, format="json"
    )
    assert response.status_code == 413
    assert Capture.objects.count() == 0


def test_unsupported_data_url_type_is_400(booth_client_a):
    session_id = start(booth_client_a)
    response = booth_client_a.post(
        f"/api/v1/booth/sessions/{session_id}/captures/",
        {"image": "data:image/svg+xml;base64,PHN2Zy8+"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"image": ["Unsupported image type. Allowed: PNG, JPEG."]}


def test_missing_image_is_400(booth_client_a):
    session_id = start(booth_client_a)
    response = booth_client_a.post(
        f"/api/v1/booth/sessions/{session_id}/captures/", {}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"image": ["No image was sent."]}


def test_text_plain_body_is_415(booth_client_a):
    session_id = start(booth_client_a)
    response = booth_client_a.post(
        f"/api/v1/booth/sessions/{session_id}/captures/", "hello", content_type="text/plain"
    )
    assert response.status_code == 415


def test_capture_limit_is_409(booth_client_a, tenant_a):
    tenant_a.event.captures_per_session = 1
    tenant_a.event.save()
    session_id = start(booth_client_a)
    url = f"/api/v1/booth/sessions/{session_id}/captures/"
    image = {"image": data_url(factories.image_bytes("PNG"))}
    assert booth_client_a.post(url, image, format="json").status_code == 201
    response = booth_client_a.post(url, image, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "capture_limit"
    assert Capture.objects.count() == 1


def test_upload_to_finished_session_is_409(booth_client_a):
    session_id = start(booth_client_a)
    url = f"/api/v1/booth/sessions/{session_id}/captures/"
    image = {"image": data_url(factories.image_bytes("PNG"))}
    booth_client_a.post(url, image, format="json")
    assert booth_client_a.post(f"/api/v1/booth/sessions/{session_id}/finish/").status_code == 202
    response = booth_client_a.post(url, image, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "session_closed"


def test_booth_without_event_cannot_start(booth_client_a, tenant_a):
    tenant_a.booth.current_event = None
    tenant_a.booth.save()
    response = booth_client_a.post("/api/v1/booth/sessions/")
    assert response.status_code == 409
    assert BoothSession.objects.count() == 0


def test_missing_and_wrong_token_are_401(tenant_a):
    from rest_framework.test import APIClient

    response = APIClient().post("/api/v1/booth/sessions/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Booth bth_wrongwrongwrong")
    response = client.post("/api/v1/booth/sessions/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid booth token."}
