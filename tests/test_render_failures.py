"""Renders that fail end failed, say so, and only transient failures come back (issue 11.3).

RELIABILITY 54 (poison tasks). The faults are real files on the real storage: an original
replaced by a directory (IsADirectoryError, an OSError like a storage outage) and an
original overwritten with bytes that do not decode. The tasks run in-process with their
retries (``Task.apply``), counted by Celery's own ``task_prerun`` signal.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.signals import task_prerun
from django.utils import timezone

from boothsite.celery import app as celery_app
from captures import services, tasks
from captures.models import Capture, RenderStatus, Strip
from tests import factories

pytestmark = pytest.mark.django_db

LATER = dt.timedelta(minutes=3)  # past BOOTHSITE_SWEEP_AFTER_SECONDS (120)


@pytest.fixture(autouse=True)
def retries_in_process(monkeypatch) -> None:
    """Let in-process runs retry and fail as a worker's do (Celery retries eagerly only so)."""
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", False)


@pytest.fixture
def runs() -> Iterator[list[str]]:
    """The names of the tasks run, one entry per run (retries included)."""
    started: list[str] = []

    def count(sender=None, **kwargs) -> None:
        started.append(sender.name)

    task_prerun.connect(count, weak=False)
    yield started
    task_prerun.disconnect(count)


def pending_capture(tenant) -> Capture:
    """A capture stored, its render queued but not run (the test's commit never happens)."""
    session = factories.make_session(tenant.booth)
    return services.record_capture(session, factories.image_bytes("PNG"))


def break_storage(capture: Capture, media_root: Path) -> bytes:
    """Replace the stored original with a directory; return the original's bytes."""
    path = media_root / capture.image.name
    data = bytes(path.read_bytes())
    path.unlink()
    path.mkdir()
    return data


def mend_storage(capture: Capture, media_root: Path, data: bytes) -> None:
    path = media_root / capture.image.name
    shutil.rmtree(path)
    path.write_bytes(data)


def test_a_storage_error_fails_the_capture_after_its_retries(tenant_a, media_root, runs):
    capture = pending_capture(tenant_a)
    break_storage(capture, media_root)
    result = tasks.render_variants.apply(args=(capture.pk,))
    assert result.failed()
    assert runs == ["captures.tasks.render_variants"] * 6  # the first run and 5 retries
    capture.refresh_from_db()
    assert capture.render_status == RenderStatus.FAILED
    assert (capture.render_error, capture.render_retryable) == ("IsADirectoryError", True)


def test_the_sweeper_queues_a_transient_failure_again(
    tenant_a, media_root, django_capture_on_commit_callbacks
):
    capture = pending_capture(tenant_a)
    data = break_storage(capture, media_root)
    tasks.render_variants.apply(args=(capture.pk,))
    mend_storage(capture, media_root, data)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep_renders(timezone.now() + LATER).captures_queued == 1
    capture.refresh_from_db()
    assert (capture.render_status, capture.render_attempts) == (RenderStatus.READY, 2)
    assert (capture.render_error, capture.variants.count()) == ("", 4)


def test_a_transient_failure_is_queued_again_a_bounded_number_of_times(
    tenant_a, media_root, settings, runs, django_capture_on_commit_callbacks
):
    settings.BOOTHSITE_RENDER_MAX_ATTEMPTS = 3
    capture = pending_capture(tenant_a)
    break_storage(capture, media_root)
    tasks.render_variants.apply(args=(capture.pk,))
    for minutes in range(3, 30, 3):
        with django_capture_on_commit_callbacks(execute=True):
            services.sweep_renders(timezone.now() + dt.timedelta(minutes=minutes))
    assert runs.count("captures.tasks.render_variants") == 3 * 6  # 3 attempts, 6 runs each
    capture.refresh_from_db()
    assert (capture.render_status, capture.render_attempts) == (RenderStatus.FAILED, 3)
    assert (capture.render_error, capture.render_retryable) == ("IsADirectoryError", False)


def test_a_corrupt_original_fails_once_and_is_never_queued_again(
    tenant_a, media_root, runs, django_capture_on_commit_callbacks
):
    capture = pending_capture(tenant_a)
    (media_root / capture.image.name).write_bytes(b"\x89PNG\r\n\x1a\n not a picture")
    assert tasks.render_variants.apply(args=(capture.pk,)).failed()
    assert runs == ["captures.tasks.render_variants"]
    capture.refresh_from_db()
    assert capture.render_status == RenderStatus.FAILED
    assert (capture.render_error, capture.render_retryable) == ("InvalidImage", False)
    with django_capture_on_commit_callbacks() as queued:
        services.sweep_renders(timezone.now() + LATER)
    assert queued == []


def test_an_error_outside_the_retried_ones_fails_the_strips_once(tenant_a, runs):
    capture = pending_capture(tenant_a)
    services.finish_session(capture.session, layouts=["no_such_layout"])
    assert tasks.render_strips.apply(args=(capture.session_id,)).failed()
    assert runs == ["captures.tasks.render_strips"]
    strip = Strip.objects.get()
    assert (strip.status, strip.render_retryable) == (RenderStatus.FAILED, False)
    assert strip.render_error in {"KeyError", "ValueError"}


def test_strips_fail_after_storage_errors_and_come_back(
    tenant_a, media_root, django_capture_on_commit_callbacks
):
    capture = pending_capture(tenant_a)
    services.finish_session(capture.session)
    data = break_storage(capture, media_root)
    assert tasks.render_strips.apply(args=(capture.session_id,)).failed()
    strip = Strip.objects.get()
    assert (strip.status, strip.render_error) == (RenderStatus.FAILED, "IsADirectoryError")
    mend_storage(capture, media_root, data)
    with django_capture_on_commit_callbacks(execute=True):
        report = services.sweep_renders(timezone.now() + LATER)
    assert report.strip_sessions_queued == 1
    strip.refresh_from_db()
    assert (strip.status, strip.render_attempts) == (RenderStatus.READY, 2)


def test_a_capture_deleted_before_its_render_ends_quietly(tenant_a, runs):
    capture = pending_capture(tenant_a)
    Capture.objects.filter(pk=capture.pk).delete()
    result = tasks.render_variants.apply(args=(capture.pk,))
    assert result.successful()
    assert runs == ["captures.tasks.render_variants"]


def test_the_booth_api_and_the_guest_page_say_a_render_failed(
    tenant_a, booth_client_a, anon_client, media_root
):
    capture = pending_capture(tenant_a)
    services.finish_session(capture.session)
    (media_root / capture.image.name).write_bytes(b"not a picture")
    tasks.render_variants.apply(args=(capture.pk,))
    tasks.render_strips.apply(args=(capture.session_id,))
    session = booth_client_a.get(f"/api/v1/booth/sessions/{capture.session.public_id}/").json()
    assert session["ready"] is True
    assert [c["status"] for c in session["captures"]] == ["failed"]
    assert [s["status"] for s in session["strips"]] == ["failed"]
    page = anon_client.get(capture.session.share_path()).content.decode()
    assert "could not be made" in page
    assert page.count("Your photo strip could not be made") == 1
    assert "still being made" not in page


def test_the_failure_record_is_visible_in_the_admin(tenant_a, media_root, client):
    from django.contrib.auth.models import User

    capture = pending_capture(tenant_a)
    (media_root / capture.image.name).write_bytes(b"not a picture")
    tasks.render_variants.apply(args=(capture.pk,))
    client.force_login(User.objects.create_superuser("staff", "staff@example.com", "pw"))
    listing = client.get("/admin/captures/capture/?render_status__exact=failed")
    assert listing.status_code == 200
    assert "InvalidImage" in listing.content.decode()
    page = client.get(f"/admin/captures/capture/{capture.pk}/change/").content.decode()
    assert "InvalidImage" in page
