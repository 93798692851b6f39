"""The seed front end's POST /compat/<booth token>/send-mms, with real status codes."""

from __future__ import annotations

import base64

import pytest
from rest_framework.test import APIClient

from captures.models import BoothSession, Capture
from messaging.models import SmsMessage
from tests import factories
from tests.conftest import stored_files

pytestmark = pytest.mark.django_db

IMAGE = "data:image/png;base64," + base64.b64encode(factories.image_bytes("PNG")).decode()


def send(token: str, body: dict[str, object]):
    return APIClient().post(f"/compat/{token}/send-mms", body, format="json")


def test_seed_request_creates_a_session_and_an_sms(tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(tenant_a.token, {"phone": "+447400123456", "image": IMAGE})
    assert response.status_code == 202
    assert response.json()["status"] == "success"
    session = BoothSession.objects.get()
    assert session.captures.count() == 1
    sms = SmsMessage.objects.get()
    assert sms.session == session
    assert session.share_url() in sms.body
    assert sms.status == SmsMessage.Status.SUBMITTED


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"image": IMAGE}, 400, "Enter a valid mobile number"),
        ({"phone": "+447400123456"}, 400, "No image was sent."),
        ({"phone": "+449098790000", "image": IMAGE}, 400, "cannot receive SMS"),
        ({"phone": "+447400123456", "image": "data:text/html;base64,PGI+"}, 400, "Unsupported"),
        ({"phone": "+447400123456", "image": "data:image/png;base64,iVBOR@@@"}, 400, "base64"),
    ],
)
def test_seed_errors_have_real_status_codes_and_store_nothing(
    tenant_a, media_root, body, status, message
):
    response = send(tenant_a.token, body)
    assert response.status_code == status
    assert response.json()["status"] == "error"
    assert message in response.json()["message"]
    assert Capture.objects.count() == SmsMessage.objects.count() == 0
    assert stored_files(media_root) == []


def test_wrong_token_is_401(db):
    response = send("bth_nottherightone", {"phone": "+447400123456", "image": IMAGE})
    assert response.status_code == 401
    assert response.json() == {"status": "error", "message": "Invalid booth token."}


def test_seed_endpoint_shares_the_number_cap(tenant_a, media_root):
    for _ in range(3):
        assert send(tenant_a.token, {"phone": "+447400123456", "image": IMAGE}).status_code == 202
    response = send(tenant_a.token, {"phone": "+447400123456", "image": IMAGE})
    assert response.status_code == 429
    assert "Retry-After" in response
    assert SmsMessage.objects.count() == 3
    assert Capture.objects.count() == 3
