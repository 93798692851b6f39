"""RELIABILITY 17-29 through the booth API: each bad upload answered as listed, nothing stored."""

from __future__ import annotations

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from captures.models import Capture
from tests import factories
from tests.captures.test_imaging import BAD_UPLOADS, MESSAGES, encoded, noise
from tests.conftest import stored_files

pytestmark = pytest.mark.django_db


def captures_url(client) -> str:
    session_id = client.post("/api/v1/booth/sessions/").json()["id"]
    return f"/api/v1/booth/sessions/{session_id}/captures/"


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_upload_through_the_api(booth_client_a, media_root, case):
    make, code = BAD_UPLOADS[case]
    message, status = MESSAGES[code]
    payload = make()
    url = captures_url(booth_client_a)
    if isinstance(payload, bytes) and not payload.startswith(b"data:"):
        upload = SimpleUploadedFile("x.png", payload, "image/png")
        response = booth_client_a.post(url, {"image": upload}, format="multipart")
    else:
        text = payload.decode() if isinstance(payload, bytes) else payload
        response = booth_client_a.post(url, {"image": text}, format="json")
    assert response.status_code == status
    assert response.json() == {"image": [message]}
    assert Capture.objects.count() == 0
    assert stored_files(media_root) == []


def test_polyglot_is_stored_reencoded_without_its_payload(booth_client_a):
    polyglot = encoded(noise(32, 32), "PNG") + b"<html><script>alert(1)</script></html>"
    image = "data:image/png;base64," + base64.b64encode(polyglot).decode()
    response = booth_client_a.post(captures_url(booth_client_a), {"image": image}, format="json")
    assert response.status_code == 201
    capture = Capture.objects.get()
    with capture.image.open("rb") as stored:
        assert b"<script>" not in stored.read()


def test_too_many_files_in_multipart_is_400_json(booth_client_a, settings):
    url = captures_url(booth_client_a)
    files = {
        f"file{n}": SimpleUploadedFile(f"{n}.png", factories.image_bytes("PNG"), "image/png")
        for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
    }
    response = booth_client_a.post(url, files, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many files in one request."}
    assert Capture.objects.count() == 0
