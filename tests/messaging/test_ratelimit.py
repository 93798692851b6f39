"""The shared send-rate limiter: a fixed one-second window counted atomically."""

from __future__ import annotations

import pytest

from messaging import ratelimit, services
from messaging.exceptions import SendLater
from messaging.models import SmsMessage

pytestmark = pytest.mark.django_db


def test_slots_run_out_within_a_second_and_come_back_the_next():
    now = 1_800_000_000.25
    assert ratelimit.seconds_until_slot(2, now=now) == 0.0
    assert ratelimit.seconds_until_slot(2, now=now + 0.1) == 0.0
    assert ratelimit.seconds_until_slot(2, now=now + 0.2) == pytest.approx(0.55)
    assert ratelimit.seconds_until_slot(2, now=now + 1.0) == 0.0


def test_sending_waits_when_the_rate_is_used_up(tenant_a, shareable_session, settings):
    settings.BOOTHSITE_SMS_SEND_RATE = 0
    sms = services.queue_share_sms(tenant_a.booth, shareable_session, "+447400123456")
    with pytest.raises(SendLater):
        services.send_sms_message(sms)
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (SmsMessage.Status.QUEUED, 0)
