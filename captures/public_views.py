"""Pages anyone on the internet can reach: guest links, event galleries, media, the booth.

Every page here is ``noindex`` and sends no Referer to other sites (its URL is a secret),
and every bad, foreign or expired token gets one and the same 404. Guessing is limited
(``events.guessing``): an address that met too many unknown tokens, or typed too many
wrong gallery passcodes, gets a friendly 429 page with ``Retry-After``.
"""

from __future__ import annotations

import math
import mimetypes
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from captures import archive
from captures.access import access_session_by_share_token, gallery_sessions, is_hidden_media
from captures.models import RenderStatus
from events import guessing
from events.access import access_event_by_gallery_token
from events.models import GALLERY_PASSCODE_LENGTH, Event

GALLERY_PAGE_SIZE = 24

View = Callable[..., HttpResponseBase]


def private_page(view: View) -> View:
    """Mark a capability-URL page: no indexing, no Referer to other sites, no caching.

    ``same-origin``, not ``no-referrer``: under ``no-referrer`` browsers send
    ``Origin: null`` with a form POST, which Django's CSRF check rightly refuses
    (the passcode form); our own server may see its own URLs.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Referrer-Policy"] = "same-origin"
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapped


def too_many_tries(request: HttpRequest, seconds: int, *, reason: str) -> HttpResponse:
    """Answer 429 with a page saying when to try again, and ``Retry-After: seconds``.

    ``reason`` is "passcode" (wrong gallery passcodes) or "links" (unknown links).
    """
    context = {"minutes": max(1, math.ceil(seconds / 60)), "reason": reason}
    response = render(request, "captures/too_many_tries.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def limit_link_misses(view: View) -> View:
    """Count a capability page's 404s per client address; over the limit, answer 429.

    Only misses count (``guessing.LINK_MISSES_PER_IP``, ``BOOTHSITE_LINK_MISS_RATE``), so
    guests opening their real links again and again are never limited. Once an address
    is over the limit every token it sends waits, the real ones too: answering those
    would still tell a guesser which tokens exist.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        wait = guessing.retry_after(request, guessing.LINK_MISSES_PER_IP)
        if wait is not None:
            return too_many_tries(request, wait, reason="links")
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            guessing.record_failure(request, guessing.LINK_MISSES_PER_IP)
            raise
        if response.status_code == 404:
            guessing.record_failure(request, guessing.LINK_MISSES_PER_IP)
        return response

    return wrapped


@require_GET
@private_page
@limit_link_misses
def session_page(request: HttpRequest, share_token: str) -> HttpResponse:
    """Show a guest's own photos: captures, filtered variants and strips, with downloads."""
    session = access_session_by_share_token(share_token)
    captures = list(
        session.captures.visible().prefetch_related("variants").order_by("taken_at", "pk")
    )
    strips = list(session.strips.filter(status=RenderStatus.READY))
    rendering = any(c.render_status == RenderStatus.PENDING for c in captures) or (
        session.strips.filter(status=RenderStatus.PENDING).exists()
    )
    event = session.event
    return render(
        request,
        "captures/session.html",
        {
            "session": session,
            "event": event,
            "captures": captures,
            "strips": strips,
            "rendering": rendering,
            "gallery_url": event.gallery_path() if event.gallery_enabled else None,
        },
    )


@require_GET
@private_page
@limit_link_misses
def session_zip(request: HttpRequest, share_token: str) -> StreamingHttpResponse:
    """Stream all of a guest's photos as one ZIP: originals, filtered variants, strips.

    The same token check as the session page, so a bad, foreign or expired token gets
    the same 404. The file name is made of the event's slug, nothing the guest typed.
    """
    session = access_session_by_share_token(share_token)
    photos = archive.session_archive(session)
    stream = photos.stream()
    chunks = iter(stream)
    content = archive.async_chunks(chunks) if isinstance(request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type="application/zip")
    response["Content-Length"] = str(len(stream))
    # The name is [A-Za-z0-9_-] only (archive.safe_stem): no quoting or encoding needed.
    response["Content-Disposition"] = f'attachment; filename="{photos.filename}"'
    return response


PASSCODE_SESSION_KEY = "gallery_passcodes"


@require_http_methods(["GET", "POST"])
@private_page
@limit_link_misses
def gallery_page(request: HttpRequest, gallery_token: str) -> HttpResponse:
    """Show an event's gallery: every visible capture and strip, newest sessions first, paged."""
    event = access_event_by_gallery_token(gallery_token)
    if event.gallery_visibility == Event.GalleryVisibility.PASSCODE:
        unlocked = request.session.get(PASSCODE_SESSION_KEY, [])
        if event.gallery_token not in unlocked:
            return _passcode_gate(request, event, unlocked)
    sessions = gallery_sessions(event)
    page = Paginator(sessions, GALLERY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "captures/gallery.html", {"event": event, "page": page})


def _passcode_gate(request: HttpRequest, event: Event, unlocked: list[str]) -> HttpResponse:
    """Ask for the gallery's passcode; on a right one, remember it in the guest's session.

    Wrong passcodes count per client address and per gallery (``guessing.PASSCODE_*``);
    over either limit the answer is 429 before the passcode is even checked.
    """
    error = ""
    if request.method == "POST":
        limits = [(guessing.PASSCODE_PER_IP, None), (guessing.PASSCODE_PER_GALLERY, str(event.pk))]
        wait = guessing.retry_after_any(request, limits)
        if wait is not None:
            return too_many_tries(request, wait, reason="passcode")
        given = request.POST.get("passcode", "")
        if len(given) <= GALLERY_PASSCODE_LENGTH[1] and event.check_gallery_passcode(given):
            request.session[PASSCODE_SESSION_KEY] = [*unlocked, event.gallery_token][-20:]
            return render(request, "captures/passcode_ok.html", {"event": event})
        for limit, key in limits:
            guessing.record_failure(request, limit, key)
        error = "That passcode is not right."
    status = 403 if error else 200
    return render(
        request, "captures/passcode.html", {"event": event, "error": error}, status=status
    )


@require_GET
def media(request: HttpRequest, name: str) -> FileResponse:
    """Serve a locally stored file (local storage only; S3 serves signed URLs itself).

    Keys are random, so a key is itself the capability. The files of a hidden capture
    (its original, thumbnail and variants) answer the same 404 as a missing file until
    it is shown again. The response never lets a browser sniff a type or run the file.
    """
    if settings.BOOTHSITE_STORAGE != "local" or ".." in name.split("/"):
        raise Http404
    if is_hidden_media(name):
        raise Http404
    try:
        handle = default_storage.open(name, "rb")
    except (FileNotFoundError, IsADirectoryError, ValueError, OSError):
        raise Http404 from None
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    download = request.GET.get("download") == "1"
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=download,
        filename=f"boothsite-{name.rsplit('/', 1)[-1]}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def booth_page(request: HttpRequest) -> HttpResponse:
    """Serve the kiosk page; it pairs from ``#pair=…`` and then talks to the booth API."""
    return render(request, "captures/booth.html", {})


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        "User-agent: *\nDisallow: /s/\nDisallow: /g/\nDisallow: /media/\nDisallow: /booth/\n"
        "Disallow: /console/\nDisallow: /api/\n",
        content_type="text/plain",
    )
