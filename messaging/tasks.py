"""Celery tasks for SMS: ids in, nothing out."""

from __future__ import annotations

from celery import shared_task

from messaging import gateway, services
from messaging.models import SmsMessage


@shared_task(
    autoretry_for=(gateway.TransientGatewayError,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def send_sms_message(sms_id: int) -> None:
    """Send one queued SMS; a no-op for a message already sent or gone.

    Transient provider errors put the message back in the queue and retry with backoff
    and jitter; the service's claim makes a redelivered task harmless.
    """
    sms = SmsMessage.objects.filter(pk=sms_id).first()
    if sms is None:
        return
    services.send_sms_message(sms)
