"""SMS abuse limits (RELIABILITY 6-9): caps, atomic counting, the pumping breaker."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from messaging.models import SendingPause, SmsMessage
from tests.conftest import booth_client

pytestmark = pytest.mark.django_db


def share(client, session, phone="+447400123456"):
    return client.post(
        f"/api/v1/booth/sessions/{session.public_id}/share/sms/", {"phone": phone}, format="json"
    )


def test_fourth_message_to_a_number_is_429_with_retry_after(booth_client_a, shareable_session):
    for _ in range(3):
        assert share(booth_client_a, shareable_session).status_code == 202
    response = share(booth_client_a, shareable_session)
    assert response.status_code == 429
    assert response.json()["detail"] == "Too many messages to this number. Try again later."
    assert 86000 < int(response["Retry-After"]) <= 86401
    assert SmsMessage.objects.count() == 3


def test_booth_cap_per_minute(booth_client_a, shareable_session, settings):
    settings.BOOTHSITE_SMS_PER_BOOTH_PER_MINUTE = 2
    assert share(booth_client_a, shareable_session, "+447400123456").status_code == 202
    assert share(booth_client_a, shareable_session, "+447400123457").status_code == 202
    response = share(booth_client_a, shareable_session, "+447400123458")
    assert response.status_code == 429
    assert response["Retry-After"] == "60"


def test_event_cap_notifies_the_owner_once(
    booth_client_a, shareable_session, settings, tenant_a, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.BOOTHSITE_SMS_PER_EVENT_PER_DAY = 1
    tenant_a.owner.email = "owner@example.com"
    tenant_a.owner.save()
    assert share(booth_client_a, shareable_session, "+447400123456").status_code == 202
    for number in ("+447400123457", "+447400123458", "+447400123459"):
        with django_capture_on_commit_callbacks(execute=True):  # the notice goes after commit
            response = share(booth_client_a, shareable_session, number)
        assert response.status_code == 429
        assert response.json()["detail"] == "SMS quota for this event reached."
    assert [m.to for m in mailoutbox] == [["owner@example.com"]]


def test_organiser_monthly_cap(booth_client_a, shareable_session, settings):
    settings.BOOTHSITE_SMS_PER_ORGANISER_PER_MONTH = 1
    share(booth_client_a, shareable_session, "+447400123456")
    response = share(booth_client_a, shareable_session, "+447400123457")
    assert response.status_code == 429
    assert response.json()["detail"] == "SMS quota for this organiser reached."


def test_forwarded_for_header_does_not_reset_counters(booth_client_a, shareable_session):
    for n in range(4):
        response = booth_client_a.post(
            f"/api/v1/booth/sessions/{shareable_session.public_id}/share/sms/",
            {"phone": "+447400123456"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
    assert response.status_code == 429


def test_burst_to_adjacent_numbers_pauses_the_event(
    booth_client_a, shareable_session, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.BOOTHSITE_SMS_PREFIX_BURST = 5
    settings.BOOTHSITE_SMS_PER_BOOTH_PER_MINUTE = 100
    settings.ADMINS = [("Ops", "ops@example.com")]
    codes = [
        share(booth_client_a, shareable_session, f"+44740012{n:04d}").status_code for n in range(4)
    ]
    assert codes == [202] * 4
    with django_capture_on_commit_callbacks(execute=True):  # the alert is sent after commit
        response = share(booth_client_a, shareable_session, "+447400129999")
    assert response.status_code == 503
    assert response.json()["detail"] == "SMS sending is temporarily paused for this event."
    assert SendingPause.objects.active().get().event == shareable_session.event
    statuses = set(SmsMessage.objects.values_list("status", flat=True))
    assert statuses <= {"cancelled", "submitted"}
    assert share(booth_client_a, shareable_session, "+353851234567").status_code == 503
    assert [m.subject for m in mailoutbox] == [
        "[Boothsite] SMS paused for an event: Burst of messages to adjacent numbers (SMS pumping)."
    ]


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_requests_against_a_cap_of_three_send_three(tenant_a, shareable_session):
    if connection.vendor != "postgresql":
        pytest.skip("needs a server database for 50 parallel connections (.ci/run uses PostgreSQL)")
    results: list[int] = []
    barrier = threading.Barrier(50)

    def request() -> None:
        client = booth_client(tenant_a.token)
        barrier.wait()
        results.append(share(client, shareable_session).status_code)
        connections.close_all()

    threads = [threading.Thread(target=request) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count(202) == 3
    assert results.count(429) == 47
    assert SmsMessage.objects.count() == 3


def test_anonymous_share_is_401(shareable_session):
    response = APIClient().post(
        f"/api/v1/booth/sessions/{shareable_session.public_id}/share/sms/",
        {"phone": "+447400123456"},
        format="json",
    )
    assert response.status_code == 401
    assert SmsMessage.objects.count() == 0
