"""Webhook deliveries through a real Celery worker, PostgreSQL and Redis (issue 15.3).

Skipped without them (``.ci/run`` sets both). The worker process signs and sends; the
receiver on 127.0.0.1 checks each message with the ``standardwebhooks`` verifier.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from boothsite.celery import app as celery_app
from events import tasks, webhooks
from events.models import WebhookDelivery
from tests.events.test_webhooks import Receiver
from tests.events.test_webhooks import receiver as receiver  # the fixture
from tests.test_worker import start_worker, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (settings.REDIS_URL and os.environ.get("DATABASE_URL", "").startswith("postgres")),
        reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL; .ci/run sets both",
    ),
]


@pytest.fixture
def hook_worker(media_root: Path, tmp_path: Path, settings) -> Iterator[Path]:
    """A worker that may send to 127.0.0.1; this process may register such URLs too."""
    settings.BOOTHSITE_WEBHOOK_ALLOW_PRIVATE = True
    queue = f"test-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    process = start_worker(
        media_root, log, queue, extra_env={"BOOTHSITE_WEBHOOK_ALLOW_PRIVATE": "true"}
    )
    conf = celery_app.conf
    saved = (conf.task_always_eager, conf.task_default_queue)
    conf.task_always_eager, conf.task_default_queue = False, queue
    try:
        yield log
    finally:
        conf.task_always_eager, conf.task_default_queue = saved
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_the_worker_delivers_and_retries_a_signed_message(
    hook_worker, receiver: Receiver, tenant_a
):
    endpoint = webhooks.create_endpoint(
        tenant_a.organiser, url=receiver.url, event_types=["session.finished"]
    )
    receiver.statuses = [500]
    webhooks.emit(tenant_a.organiser.pk, "session.finished", {"session": "s-1"})
    delivery = WebhookDelivery.objects.get()

    def attempted() -> bool:
        delivery.refresh_from_db()
        return delivery.status == WebhookDelivery.Status.FAILED

    wait_for(attempted, hook_worker)
    # The retry is due: the sweeper (beat's task, run here) queues it to the worker.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    tasks.sweep_webhooks()

    def delivered() -> bool:
        delivery.refresh_from_db()
        return delivery.status == WebhookDelivery.Status.SUCCEEDED

    wait_for(delivered, hook_worker)
    payloads = receiver.verified(endpoint.secret)
    assert [p["data"] for p in payloads] == [{"session": "s-1"}] * 2
    assert {h["webhook-id"] for h, _ in receiver.received} == {delivery.message_id}
    assert delivery.attempts == 2
