"""Delivery receipts: applied once, never backwards, signed when signing is configured."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from captures import services as capture_services
from messaging import services
from messaging.models import SmsMessage
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms(tenant_a):
    session = factories.make_session(tenant_a.booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    message = services.queue_share_sms(tenant_a.booth, session, "+447400123456")
    services.send_sms_message(message)
    message.refresh_from_db()
    return message


def url(sms: SmsMessage) -> str:
    return f"/hooks/sms/dlr/{sms.callback_token}/"


def sign(params: dict[str, str], secret: str) -> dict[str, str]:
    """Vonage's HMAC signature: sorted '&key=value' pairs, & and = in values replaced by _."""
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    for key in sorted(params):
        value = params[key].replace("&", "_").replace("=", "_")
        mac.update(f"&{key}={value}".encode())
    return {**params, "sig": mac.hexdigest()}


def test_delivered_receipt_is_applied_once(client, sms):
    params = {"messageId": sms.provider_message_id, "status": "delivered", "err-code": "0"}
    assert client.post(url(sms), params).status_code == 204
    assert client.post(url(sms), params).status_code == 204
    sms.refresh_from_db()
    assert sms.status == SmsMessage.Status.DELIVERED
    assert sms.final_at is not None
    assert sms.receipts.count() == 1


def test_final_status_never_moves_backwards(client, sms):
    client.get(url(sms), {"status": "delivered"})
    client.get(url(sms), {"status": "failed"})
    client.get(url(sms), {"status": "accepted"})
    sms.refresh_from_db()
    assert sms.status == SmsMessage.Status.DELIVERED


def test_json_receipts_are_accepted(client, sms):
    response = client.post(url(sms), {"status": "expired"}, content_type="application/json")
    assert response.status_code == 204
    sms.refresh_from_db()
    assert sms.status == SmsMessage.Status.EXPIRED


def test_unknown_message_is_acknowledged(client, db):
    assert (
        client.get("/hooks/sms/dlr/0123456789abcdef/", {"status": "delivered"}).status_code == 204
    )


def test_receipt_does_not_store_the_number(client, sms):
    client.get(url(sms), {"status": "delivered", "msisdn": "447400123456"})
    assert "447400123456" not in str(sms.receipts.get().raw)


def test_signed_receipts_when_signing_is_on(client, sms, settings):
    settings.VONAGE_SIGNATURE_SECRET = "signing-secret"
    settings.VONAGE_SIGNATURE_METHOD = "sha256"
    now = str(int(time.time()))
    unsigned = {"status": "delivered", "timestamp": now}
    assert client.get(url(sms), unsigned).status_code == 401
    stale = sign(
        {"status": "delivered", "timestamp": str(int(time.time()) - 3600)}, "signing-secret"
    )
    assert client.get(url(sms), stale).status_code == 401
    forged = sign(unsigned, "another-secret")
    assert client.get(url(sms), forged).status_code == 401
    sms.refresh_from_db()
    assert sms.status == SmsMessage.Status.SUBMITTED
    assert client.get(url(sms), sign(unsigned, "signing-secret")).status_code == 204
    sms.refresh_from_db()
    assert sms.status == SmsMessage.Status.DELIVERED


def test_receipt_settles_a_message_whose_send_outcome_was_unknown(client, sms):
    SmsMessage.objects.filter(pk=sms.pk).update(status="unknown", provider_message_id="")
    client.get(url(sms), {"status": "delivered", "messageId": "0B00000123ABCDEF"})
    sms.refresh_from_db()
    assert sms.status == SmsMessage.Status.DELIVERED
    assert sms.provider_message_id == "0B00000123ABCDEF"


def test_replayed_signed_receipt_is_applied_once(client, sms, settings):
    settings.VONAGE_SIGNATURE_SECRET = "signing-secret"
    params = sign({"status": "delivered", "timestamp": str(int(time.time()))}, "signing-secret")
    assert client.get(url(sms), params).status_code == 204
    assert client.get(url(sms), params).status_code == 204
    assert sms.receipts.count() == 1
