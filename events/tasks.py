"""Celery tasks for webhook deliveries (issue 15.3): ids in, nothing out.

``deliver_webhook`` makes one attempt of one delivery; ``sweep_webhooks`` (beat) queues
the attempts that are due: retries after their backoff, and first attempts whose task
the broker never took. See ``events.webhooks`` for the claim that keeps two workers
from sending the same attempt.
"""

from __future__ import annotations

import logging

from celery import shared_task

from events import webhooks

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def deliver_webhook(delivery_id: int, attempt: int) -> None:
    """Make attempt ``attempt`` (1-based) of the delivery ``delivery_id``, if still due.

    Never raises: an HTTP failure is recorded on the row and retried by the sweeper;
    an unexpected error is logged (the row's claim expires and the sweeper tries
    again), so an eager run after a capture's commit never fails the request.
    """
    try:
        webhooks.attempt_delivery(delivery_id, attempt)
    except Exception:
        logger.exception(
            "Webhook delivery %s attempt %s failed unexpectedly.", delivery_id, attempt
        )


@shared_task
def sweep_webhooks() -> None:
    """Queue the webhook attempts that are due (beat, every ``BOOTHSITE_SWEEP_EVERY_SECONDS``).

    Rows are claimed with SELECT … FOR UPDATE SKIP LOCKED (``webhooks.claim_due``); an
    attempt the broker does not take is queued again by a later sweep once its claim
    (``webhooks.CLAIM_SECONDS``) has passed.
    """
    from boothsite.celery import publish

    for delivery_id, attempt in webhooks.claim_due():
        publish(deliver_webhook, delivery_id, attempt)
