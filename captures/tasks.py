"""Celery tasks for rendering: ids in, nothing out; each calls one service.

A render meets two kinds of error. Storage errors (``services.TRANSIENT_ERRORS``: OSError
and S3's connection errors, but not a file that is gone) are retried with backoff, 5
times (1, 2, 4, 8, 16 s at most with jitter: about 30 s in all), and then recorded as a
transient failure, which the beat sweeper queues again a bounded number of times.
Anything else (a corrupt original, a bug) fails at once and is recorded as permanent.
Either way the capture or strip ends ``failed`` with the error's class in
``render_error``, never pending for good (issue 11.3, RELIABILITY 54).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from billiard.einfo import ExceptionInfo
from celery import Task, shared_task

from captures import services
from captures.models import BoothSession, Capture

RETRY_OPTIONS: dict[str, Any] = {
    "autoretry_for": services.TRANSIENT_ERRORS,
    "dont_autoretry_for": services.PERMANENT_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


class RenderTask(Task[Any, None]):
    """A render task that records its final failure: ``record_failure(first arg, exc)``."""

    #: ``(row id, exception) -> anything``: the service that records the failure.
    record_failure: Callable[[int, BaseException], object]

    def on_failure(
        self,
        exc: Exception,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: ExceptionInfo,
    ) -> None:
        self.record_failure(int(args[0]), exc)


class CaptureRenderTask(RenderTask):
    """Records a final failure on the capture (first argument: its id)."""

    record_failure = staticmethod(services.mark_capture_failed)


class StripRenderTask(RenderTask):
    """Records a final failure on the session's pending strips (first argument: its id)."""

    record_failure = staticmethod(services.mark_strips_failed)


@shared_task(base=CaptureRenderTask, **RETRY_OPTIONS)
def render_variants(capture_id: int) -> None:
    """Render and store the filtered variants of one capture.

    Returns quietly when the capture was deleted meanwhile (nothing to record, no
    retry). Storage errors are retried with backoff; the service skips variants already
    stored, so a retry or a redelivery never renders twice. A final failure marks the
    capture failed (``CaptureRenderTask.on_failure``).
    """
    capture = (
        Capture.objects.select_related("event", "event__organiser", "session")
        .filter(pk=capture_id)
        .first()
    )
    if capture is None:
        return
    services.render_variants(capture)


@shared_task(base=StripRenderTask, **RETRY_OPTIONS)
def render_strips(session_id: int) -> None:
    """Render the pending strips of one finished session; a no-op if none are pending.

    A final failure marks the session's pending strips failed (``StripRenderTask``).
    """
    session = (
        BoothSession.objects.select_related("event", "event__organiser")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        return
    services.build_strips(session)


@shared_task
def sweep_renders() -> None:
    """Queue again renders that waited too long or failed transiently (beat, every minute).

    See ``services.sweep_renders``; safe when two sweeps run at once.
    """
    services.sweep_renders()
