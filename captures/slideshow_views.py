"""The live slideshow's pages, for anyone with the gallery link (internet-facing).

Like ``captures.public_views`` (whose guards they reuse): ``noindex``, no Referer to
other sites, no caching, link misses counted per address, one 404 for every bad token
and a 410 for a link that worked once. Here rather than in ``public_views`` because
``captures.slideshow`` (the socket, which reads ``public_views.PASSCODE_SESSION_KEY``)
builds the feed both use.

- ``/g/<gallery token>/live/``: the full-screen page (``slideshow.html`` and
  ``static/slideshow.js``); ``?seconds=`` sets the pace (``MIN_SECONDS`` to
  ``MAX_SECONDS``, default ``DEFAULT_SECONDS``);
- ``/g/<gallery token>/live/feed.json``: ``{"slides": [Slide...], "limit": N}``, the
  newest slides first (``captures.slideshow.feed``); errors are ``{"detail": ...}``
  with 403 (a passcode gallery not unlocked), 404 or 410.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from captures import live, slideshow
from captures.public_views import (
    PASSCODE_SESSION_KEY,
    _passcode_gate,
    answer_gone,
    limit_link_misses,
    private_page,
)
from events.access import access_event_by_gallery_token
from events.exceptions import LinkGone

#: Seconds each slide stays on screen: the default, and the range ``?seconds=`` allows.
DEFAULT_SECONDS = 6
MIN_SECONDS = 3
MAX_SECONDS = 60


def pace(value: str | None) -> int | None:
    """Return the seconds per slide that ``?seconds=`` asks for, or None if it is bad.

    Missing or empty means ``DEFAULT_SECONDS``; otherwise a whole number from
    ``MIN_SECONDS`` to ``MAX_SECONDS``.
    """
    if value is None or value == "":
        return DEFAULT_SECONDS
    if not value.isascii() or not value.isdigit() or len(value) > 3:
        return None
    seconds = int(value)
    return seconds if MIN_SECONDS <= seconds <= MAX_SECONDS else None


@require_http_methods(["GET", "POST"])
@private_page
@answer_gone("gallery")
@limit_link_misses
def slideshow_page(request: HttpRequest, gallery_token: str) -> HttpResponse:
    """Show the event's live slideshow, full screen, for a projector.

    A passcode gallery asks for its passcode first (the gallery's own form, which also
    unlocks the socket and the feed). A bad ``?seconds=`` answers 400 with a page that
    says what is allowed.
    """
    event = access_event_by_gallery_token(gallery_token)
    if not slideshow.unlocks(event, request.session):
        return _passcode_gate(request, event, request.session.get(PASSCODE_SESSION_KEY, []))
    seconds = pace(request.GET.get("seconds"))
    if seconds is None:
        context = {"event": event, "low": MIN_SECONDS, "high": MAX_SECONDS}
        return render(request, "captures/slideshow_pace.html", context, status=400)
    context = {
        "event": event,
        "seconds": seconds,
        "socket_path": f"/ws/gallery/{event.gallery_token}/",
        "feed_url": reverse("captures:slideshow-feed", args=[event.gallery_token]),
        "logo_url": live.media_path(event.logo.name),
        "refresh_seconds": FEED_REFRESH_SECONDS,
    }
    return render(request, "captures/slideshow.html", context)


#: The page fetches the feed again this often (new URLs before S3's signed ones expire,
#: photos shown again, strips rendered while the socket was down), in s.
FEED_REFRESH_SECONDS = 60


@require_GET
@private_page
@limit_link_misses
def feed(request: HttpRequest, gallery_token: str) -> JsonResponse:
    """Return the slideshow's slides as JSON, newest first (at most ``slideshow.FEED_LIMIT``).

    Three queries whatever the number of captures (the event, its captures, its strips),
    one more for a passcode gallery (the session). 404 ``{"detail"}`` for a bad token
    (counted as a link miss), 410 for a link that worked once, 403 for a passcode
    gallery the guest's session has not unlocked.
    """
    try:
        event = access_event_by_gallery_token(gallery_token)
    except Http404:
        return JsonResponse({"detail": "Not found."}, status=404)
    except LinkGone as error:
        return JsonResponse({"detail": error.message}, status=error.status_code)
    if not slideshow.unlocks(event, request.session):
        detail = "This gallery needs its passcode: open the gallery and type it first."
        return JsonResponse({"detail": detail}, status=403)
    return JsonResponse({"slides": slideshow.feed(event), "limit": slideshow.FEED_LIMIT})
