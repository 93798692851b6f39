"""The console's SMS page says, in words, why a message did not reach the guest (issue 12.8)."""

from __future__ import annotations

import pytest
from django.test import Client

from captures import services as capture_services
from messaging import services
from messaging.models import SmsMessage
from tests import factories

pytestmark = pytest.mark.django_db


def ledger_html(tenant) -> str:
    client = Client()
    client.force_login(tenant.viewer)
    response = client.get(f"/console/{tenant.organiser.slug}/party/sms/")
    assert response.status_code == 200
    return response.content.decode()


def sent(tenant, phone: str) -> SmsMessage:
    session = factories.make_session(tenant.booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    return services.send_sms_message(services.queue_share_sms(tenant.booth, session, phone))


def test_a_carrier_refusal_shows_its_meaning_and_a_masked_number(tenant_a, client):
    sms = sent(tenant_a, "+447400123401")
    receipt = {"status": "failed", "err-code": "6", "messageId": "abc"}
    assert client.get(f"/hooks/sms/dlr/{sms.callback_token}/", receipt).status_code == 204
    html = ledger_html(tenant_a)
    assert "Anti-spam rejection by the carrier." in html
    assert "carrier code 6" in html
    assert "+44 74** ***401" in html
    assert "7400123401" not in html


def test_a_refusal_by_the_provider_shows_the_provider_meaning(vonage, tenant_a):
    """The real SDK against the stub: Vonage's status 6 means another thing than err-code 6."""
    vonage.script.append(("status", "6"))
    sms = sent(tenant_a, "+447400123402")
    assert sms.status == SmsMessage.Status.FAILED
    html = ledger_html(tenant_a)
    assert "Invalid message: the number&#x27;s prefix is not routable." in html
    assert "provider status 6" in html
    assert "Anti-spam" not in html


def test_messages_cancelled_by_a_pause_say_so(tenant_a):
    session = factories.make_session(tenant_a.booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    services.queue_share_sms(tenant_a.booth, session, "+447400123403")  # stays queued
    services.pause_event(tenant_a.event, reason="Burst of messages")
    html = ledger_html(tenant_a)
    assert "Cancelled" in html
    assert "Not sent: SMS sending was paused for this event." in html


@pytest.mark.parametrize(
    ("status", "code", "error_text", "words"),
    [
        ("unknown", "timeout", "", "No answer from Vonage in time; the message may or may not"),
        ("failed", services.NOT_SENT, "Never reached the SMS provider.", "Never reached the SMS"),
        ("expired", "", "", "The carrier gave up before the phone could take it"),
        ("queued", "1", "", "Waiting to try again. Throttled: the account sent faster"),
    ],
)
def test_every_way_of_not_arriving_is_said_in_words(tenant_a, status, code, error_text, words):
    """Outcomes set by the task, the sweeper or a receipt, written here at the seam."""
    sms = sent(tenant_a, "+447400123404")
    SmsMessage.objects.filter(pk=sms.pk).update(
        status=status, error_code=code, error_text=error_text
    )
    html = ledger_html(tenant_a)
    assert words in html
    assert "code not_sent" not in html


def test_a_delivered_message_has_no_reason(tenant_a, client):
    sms = sent(tenant_a, "+447400123405")
    client.get(f"/hooks/sms/dlr/{sms.callback_token}/", {"status": "delivered", "err-code": "0"})
    html = ledger_html(tenant_a)
    assert "Delivered" in html
    assert 'class="sms-reason"' not in html


def test_the_reasons_cost_no_query_per_message(tenant_a, client, django_assert_max_num_queries):
    for n in range(3):
        sms = sent(tenant_a, f"+44740012341{n}")
        client.get(f"/hooks/sms/dlr/{sms.callback_token}/", {"status": "failed", "err-code": "2"})
    viewer = Client()
    viewer.force_login(tenant_a.viewer)
    # Session, user, verified address, membership, event, count, page, receipts, and the
    # navigation's memberships: none of them per message.
    with django_assert_max_num_queries(9):
        html = viewer.get(f"/console/{tenant_a.organiser.slug}/party/sms/").content.decode()
    assert html.count("Absent subscriber (temporary)") == 3
