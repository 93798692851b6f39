"""Celery tasks for rendering: ids in, nothing out; each calls one service."""

from __future__ import annotations

from celery import shared_task

from captures import services
from captures.models import BoothSession, Capture


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def render_variants(capture_id: int) -> None:
    """Render and store the filtered variants of one capture.

    Returns quietly when the capture was deleted meanwhile. Storage errors (OSError)
    are retried with backoff; the service skips variants already stored, so a retry or
    a redelivery never renders twice.
    """
    capture = (
        Capture.objects.select_related("event", "event__organiser", "session")
        .filter(pk=capture_id)
        .first()
    )
    if capture is None:
        return
    services.render_variants(capture)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def render_strips(session_id: int) -> None:
    """Render the pending strips of one finished session; a no-op if none are pending."""
    session = (
        BoothSession.objects.select_related("event", "event__organiser")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        return
    services.build_strips(session)
