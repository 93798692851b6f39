"""The main job through a real Celery worker, PostgreSQL and Redis (skipped without them).

The worker is a separate process started here with ``boothsite.settings``, pointed at the
test database and this test's media folder, consuming a queue of its own.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from boothsite.celery import app as celery_app
from captures.models import CaptureVariant, RenderStatus, Strip
from messaging.models import SmsMessage
from tests import factories

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (settings.REDIS_URL and os.environ.get("DATABASE_URL", "").startswith("postgres")),
        reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL; .ci/run sets both",
    ),
]


def start_worker(
    media_root: Path, log: Path, queue: str, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``celery worker`` (its own process group) on ``queue`` against the test database."""
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "boothsite.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"postgres://{db['USER'] or ''}@{host}:{port}/{db['NAME']}",
        "MEDIA_ROOT": str(media_root),
        "BOOTHSITE_SMS_GATEWAY": "console",
        "BOOTHSITE_STORAGE": "local",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        **(extra_env or {}),
    }
    with log.open("w") as out:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "boothsite", "worker", "--pool", "prefork",
             "--concurrency", "1", "-Q", queue, "--loglevel", "INFO", "--without-gossip",
             "--without-mingle"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


@pytest.fixture
def worker(media_root: Path, tmp_path: Path) -> Iterator[Path]:
    """Start a Celery worker on a fresh queue; yield its log file; stop it afterwards."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    process = start_worker(media_root, log, queue)
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


def wait_for(condition, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    pytest.fail(f"timed out; worker log:\n{log.read_text()[-4000:]}")


def test_worker_renders_variants_and_strip_and_sends_the_sms(worker, tenant_a, booth_client_a):
    photos = factories.genki_photos(2) or []
    images = [p.read_bytes() for p in photos] or [factories.image_bytes("JPEG", (640, 480))] * 2
    session_id = booth_client_a.post("/api/v1/booth/sessions/").json()["id"]
    base = f"/api/v1/booth/sessions/{session_id}"
    for data in images:
        image = "data:image/jpeg;base64," + base64.b64encode(data).decode()
        response = booth_client_a.post(f"{base}/captures/", {"image": image}, format="json")
        assert response.status_code == 201, response.content
    assert booth_client_a.post(f"{base}/finish/").status_code == 202
    share = booth_client_a.post(f"{base}/share/sms/", {"phone": "+447400123456"}, format="json")
    assert share.status_code == 202

    def done() -> bool:
        variants = CaptureVariant.objects.filter(capture__session__public_id=session_id).count()
        strip = Strip.objects.filter(session__public_id=session_id).first()
        sms = SmsMessage.objects.get()
        return (
            variants == 4 * len(images)
            and strip is not None
            and strip.status == RenderStatus.READY
            and sms.status == SmsMessage.Status.SUBMITTED
        )

    wait_for(done, worker)
    detail = booth_client_a.get(f"{base}/").json()
    assert detail["ready"] is True
    assert all(c["status"] == "ready" for c in detail["captures"])
    assert "7400123456" not in worker.read_text()


def test_worker_killed_after_vonage_accepted_sends_no_second_sms(media_root, tmp_path, tenant_a):
    """SIGKILL the pool process while Vonage (the TLS stub) holds its answer: one SMS only.

    The stub receives the message, then waits before answering; the worker's child is
    killed in that window. With late acknowledgement and reject-on-worker-lost the task
    is delivered again, finds the message already claimed ("sending") and sends nothing
    (RELIABILITY 11 and 52).
    """
    from captures import services as capture_services
    from messaging import services as sms_services
    from tests.vonage_stub import VonageStub

    stub = VonageStub(tmp_path)
    stub.script.append(("hang", 5))
    vonage_env = {
        "BOOTHSITE_SMS_GATEWAY": "vonage",
        "VONAGE_API_KEY": "stub-key",
        "VONAGE_API_SECRET": "stub-secret",
        "VONAGE_SIGNATURE_SECRET": "stub-signature",
        "VONAGE_REST_HOST": stub.host,
        "REQUESTS_CA_BUNDLE": str(stub.ca_file),
    }
    queue = f"test-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    session = factories.make_session(tenant_a.booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    conf = celery_app.conf
    saved = (conf.task_always_eager, conf.task_default_queue)
    conf.task_always_eager, conf.task_default_queue = False, queue
    process = start_worker(media_root, log, queue, vonage_env)
    try:
        sms = sms_services.queue_share_sms(tenant_a.booth, session, "+447400123456")
        wait_for(lambda: len(stub.requests) == 1, log, seconds=60)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert children, log.read_text()
        os.kill(int(children[0]), signal.SIGKILL)
        wait_for(lambda: log.read_text().count("send_sms_message") >= 3, log, seconds=60)
        time.sleep(2)
    finally:
        conf.task_always_eager, conf.task_default_queue = saved
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        stub.close()
    assert len(stub.requests) == 1
    sms.refresh_from_db()
    assert sms.status == "sending"


def test_worker_records_a_poison_render_and_runs_the_sweeper(worker, tenant_a, media_root):
    """A lost render found by the sweeper task, then a corrupt original: failed once, kept.

    Both tasks run in the worker process on PostgreSQL (RELIABILITY 54): the sweeper's
    ``SELECT … FOR UPDATE SKIP LOCKED`` queues the render again, the render fails on
    the corrupt original (not retried: it is not a storage error), ``on_failure``
    records it, and the next sweep leaves it alone.
    """
    import datetime as dt

    from django.utils import timezone

    from captures import services as capture_services
    from captures.models import Capture

    session = factories.make_session(tenant_a.booth)
    capture = capture_services.record_capture(session, factories.image_bytes("PNG"))
    wait_for(lambda: Capture.objects.get(pk=capture.pk).render_status == "ready", worker)
    (media_root / capture.image.name).write_bytes(b"\x89PNG\r\n\x1a\n not a picture")
    capture.variants.all().delete()  # so the render must read the original again
    lost = timezone.now() - dt.timedelta(minutes=10)  # a render whose task never ran
    Capture.objects.filter(pk=capture.pk).update(render_status="pending", render_enqueued_at=lost)
    celery_app.tasks["captures.tasks.sweep_renders"].delay()

    def failed() -> bool:
        return Capture.objects.get(pk=capture.pk).render_status == "failed"

    wait_for(failed, worker)
    capture.refresh_from_db()
    assert (capture.render_error, capture.render_retryable) == ("InvalidImage", False)
    assert capture.render_attempts == 2
    celery_app.tasks["captures.tasks.sweep_renders"].delay()
    wait_for(lambda: worker.read_text().count("sweep_renders") >= 4, worker)
    log = worker.read_text()
    assert len(re.findall(r"render_variants\[\S+\] received", log)) == 2, log[-3000:]
