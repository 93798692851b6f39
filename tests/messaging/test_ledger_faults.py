"""Two smaller SMS faults (issue 11.13): archived events, and what receipts tell the ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from messaging import services
from messaging.models import SmsMessage

pytestmark = pytest.mark.django_db

PHONE = "+447400123456"


def share(client, session):
    return client.post(
        f"/api/v1/booth/sessions/{session.public_id}/share/sms/", {"phone": PHONE}, format="json"
    )


def test_a_session_of_an_archived_event_is_not_texted(booth_client_a, shareable_session, tenant_a):
    tenant_a.event.archived_at = timezone.now()
    tenant_a.event.save(update_fields=["archived_at"])
    response = share(booth_client_a, shareable_session)
    assert response.status_code == 409
    assert response.json()["detail"] == services.ARCHIVED_MESSAGE
    assert SmsMessage.objects.count() == 0


@pytest.fixture
def submitted(tenant_a, shareable_session) -> SmsMessage:
    sms = services.queue_share_sms(tenant_a.booth, shareable_session, PHONE)
    return services.send_sms_message(sms)


def receipt(client, sms, **params):
    fields = {"messageId": sms.provider_message_id or "0A0000001", "status": "delivered"}
    response = client.post(f"/hooks/sms/dlr/{sms.callback_token}/", fields | params)
    assert response.status_code == 204
    sms.refresh_from_db()
    return sms


def test_a_receipt_writes_its_price_and_network_to_the_ledger(client, submitted):
    sms = receipt(client, submitted, **{"price": "0.03330000", "network-code": "23410"})
    assert (sms.price, sms.network) == (Decimal("0.03330"), "23410")
    assert sms.status == SmsMessage.Status.DELIVERED


@pytest.mark.parametrize("price", ["", "abc", "NaN", "-1", "1e9", "Infinity"])
def test_a_receipt_with_a_bad_price_keeps_the_ledger_as_it_was(client, submitted, price):
    before = submitted.price
    sms = receipt(client, submitted, **{"price": price, "network-code": "234 10; drop"})
    assert (sms.price, sms.network) == (before, "console")
    assert sms.status == SmsMessage.Status.DELIVERED
