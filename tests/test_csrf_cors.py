"""CSRF and CORS (RELIABILITY 63): sessions need a token, booth tokens do not.

CORS is granted only on the seed's compat endpoint, to the origins the booth's organiser
lists (``Organiser.compat_origins``): never ``*``, never with credentials.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from captures import services as capture_services
from messaging import services as sms_services
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_console_post_without_a_csrf_token_is_refused(tenant_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant_a.owner)
    page = f"/console/{tenant_a.organiser.slug}/{tenant_a.event.slug}/branding/"
    form = {"welcome_text": "Hello", "brand_color": "#112233"}
    assert client.post(page, form).status_code == 403
    client.get(page)  # sets the csrftoken cookie, as a browser's first visit does
    token = client.cookies["csrftoken"].value
    assert client.post(page, form, HTTP_X_CSRFTOKEN=token).status_code != 403


def test_the_admin_sign_in_without_a_csrf_token_is_refused(tenant_a):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403


def test_a_booth_token_needs_no_csrf_token(tenant_a):
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Booth {tenant_a.token}")
    assert client.post("/api/v1/booth/sessions/").status_code == 201


def test_the_receipt_hook_is_csrf_exempt(tenant_a):
    session = factories.make_session(tenant_a.booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    sms = sms_services.queue_share_sms(tenant_a.booth, session, "+447400123456")
    sms_services.send_sms_message(sms)
    sms.refresh_from_db()
    client = Client(enforce_csrf_checks=True)
    params = {"messageId": sms.provider_message_id, "status": "delivered", "err-code": "0"}
    assert client.post(f"/hooks/sms/dlr/{sms.callback_token}/", params).status_code == 204


@pytest.mark.parametrize("path", ["/api/v1/booth/me/", "/api/v1/booth/pair/"])
def test_no_cross_origin_access_is_granted(tenant_a, path):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Booth {tenant_a.token}")
    for method in (client.get, client.options):
        response = method(path, HTTP_ORIGIN="https://evil.example")
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Credentials" not in response


def test_only_the_compat_endpoint_grants_cors_and_only_to_configured_origins(tenant_a):
    tenant_a.organiser.compat_origins = ["https://booth.example.com"]
    tenant_a.organiser.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Booth {tenant_a.token}")
    me = client.options("/api/v1/booth/me/", HTTP_ORIGIN="https://booth.example.com")
    assert "Access-Control-Allow-Origin" not in me
    compat = f"/compat/{tenant_a.token}/send-mms"
    for origin, granted in (("https://booth.example.com", True), ("https://evil.example", False)):
        response = APIClient().options(
            compat, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
        )
        assert response.get("Access-Control-Allow-Origin") == (origin if granted else None)
        assert "Access-Control-Allow-Credentials" not in response
