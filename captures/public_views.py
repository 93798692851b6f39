"""Pages anyone on the internet can reach: guest links, event galleries, media, the booth.

Every page here is ``noindex`` and sends no Referer to other sites (its URL is a secret),
and every bad, foreign or expired token gets one and the same 404. Guessing is limited
(``events.guessing``): an address that met too many unknown tokens, or typed too many
wrong gallery passcodes, gets a friendly 429 page with ``Retry-After``.
"""

from __future__ import annotations

import math
import mimetypes
import re
import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from boothsite.media_storage import SignedFileSystemStorage
from captures import archive, gallery
from captures.access import (
    MediaDenial,
    access_session_by_share_token,
    gallery_sessions,
    media_denied,
    media_numbers,
    member_may_see_media,
    share_page_media,
)
from captures.models import RenderStatus
from events import guessing
from events.access import SHARE_GONE_MESSAGE, access_event_by_gallery_token
from events.exceptions import LinkGone
from events.models import GALLERY_PASSCODE_LENGTH, Event

#: Sessions a gallery page shows (each its strips and up to 4 photos: about 60 cards).
GALLERY_PAGE_SIZE = 12

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


def link_gone(request: HttpRequest, error: LinkGone, *, what: str) -> HttpResponse:
    """Answer 410 with the friendly "this link has ended" page.

    ``what`` is "gallery" (a gallery link replaced, revoked or expired) or "photos" (a
    share page or a file past the event's retention). The page names no event.
    """
    context = {"what": what, "message": error.message}
    return render(request, "captures/link_gone.html", context, status=error.status_code)


def answer_gone(what: str) -> Callable[[View], View]:
    """Turn a view's ``LinkGone`` (a link that worked once) into the 410 page ``link_gone``.

    Apply it outside ``limit_link_misses``: a link that worked once is no guess, so a
    410 never counts as a miss.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                return view(request, *args, **kwargs)
            except LinkGone as error:
                return link_gone(request, error, what=what)

        return wrapped

    return decorate


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
@answer_gone("photos")
@limit_link_misses
def session_page(request: HttpRequest, share_token: str) -> HttpResponse:
    """Show a guest's own photos: strips, then captures and their filtered variants.

    Each opens in the lightbox (``static/gallery.js``) or, without JavaScript, as the
    image itself; each has a download named after the event (``download_name``). The
    page costs the same few queries whatever the number of photos.
    """
    session = access_session_by_share_token(share_token)
    captures, all_strips = share_page_media(session)
    rendering = any(c.render_status == RenderStatus.PENDING for c in captures) or any(
        strip.status == RenderStatus.PENDING for strip in all_strips
    )
    event = session.event
    zone = zoneinfo.ZoneInfo(event.timezone)
    capture_numbers, strip_numbers = media_numbers(event)
    return render(
        request,
        "captures/session.html",
        {
            "session": session,
            "event": event,
            "captures": [
                gallery.capture_card(c, capture_numbers[c.pk], event.slug, zone) for c in captures
            ],
            "strips": [
                gallery.strip_card(strip, strip_numbers[strip.pk], event.slug)
                for strip in all_strips
                if strip.status == RenderStatus.READY
            ],
            "strip_failed": any(strip.status == RenderStatus.FAILED for strip in all_strips),
            "rendering": rendering,
            "gallery_url": event.gallery_path() if event.gallery_enabled else None,
        },
    )


#: A download name the media view accepts from ``?name=`` (``media_links.download_name``).
DOWNLOAD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,90}\.[a-z0-9]{2,5}")


def download_filename(request: HttpRequest, name: str) -> str:
    """Return the file name a media download goes by: ``?name=`` if well formed.

    The guest pages link ``/media/<key>?download=1&name=summer-party-0042-sepia.jpg``.
    A name of another shape, or with another extension than the stored file's, falls
    back to ``boothsite-<key's last part>``, so a link cannot make a file download
    under a misleading type.
    """
    stored = name.rsplit("/", 1)[-1]
    given = request.GET.get("name", "")
    extension = stored.rsplit(".", 1)[-1].lower() if "." in stored else ""
    if DOWNLOAD_NAME.fullmatch(given) and given.rsplit(".", 1)[-1] == extension:
        return given
    return f"boothsite-{stored}"


@require_GET
@private_page
@answer_gone("photos")
@limit_link_misses
def session_zip(request: HttpRequest, share_token: str) -> StreamingHttpResponse:
    """Stream all of a guest's photos as one ZIP: originals, filtered variants, strips.

    The same token check as the session page, so a bad, foreign or expired token gets
    the same 404. The file name is made of the event's slug, nothing the guest typed.
    """
    session = access_session_by_share_token(share_token)
    return archive.zip_response(request, archive.session_archive(session))


PASSCODE_SESSION_KEY = "gallery_passcodes"


@require_http_methods(["GET", "POST"])
@private_page
@answer_gone("gallery")
@limit_link_misses
def gallery_page(request: HttpRequest, gallery_token: str) -> HttpResponse:
    """Show an event's gallery: its sessions newest first, ``GALLERY_PAGE_SIZE`` a page.

    Each session shows its strips, then its visible captures (filters as links); each
    opens in the lightbox (``static/gallery.js``) or, without JavaScript, as the image
    itself. ``?page=`` past the end shows the last page, a bad one the first. The page
    costs the same few queries whatever the number of photos.
    """
    event = access_event_by_gallery_token(gallery_token)
    if event.gallery_visibility == Event.GalleryVisibility.PASSCODE:
        unlocked = request.session.get(PASSCODE_SESSION_KEY, [])
        if event.gallery_token not in unlocked:
            return _passcode_gate(request, event, unlocked)
    page = Paginator(gallery_sessions(event), GALLERY_PAGE_SIZE).get_page(request.GET.get("page"))
    zone = zoneinfo.ZoneInfo(event.timezone)
    sessions = list(page)
    capture_numbers, strip_numbers = media_numbers(event) if sessions else ({}, {})
    cards = [
        (
            session,
            [
                gallery.strip_card(strip, strip_numbers[strip.pk], event.slug)
                for strip in session.strips.all()
            ],
            [
                gallery.capture_card(c, capture_numbers[c.pk], event.slug, zone)
                for c in session.captures.all()
            ],
        )
        for session in sessions
    ]
    return render(
        request, "captures/gallery.html", {"event": event, "page": page, "sessions": cards}
    )


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


def _member_sees(request: HttpRequest, denied: MediaDenial, name: str) -> bool:
    """Whether a signed-in member of the file's organiser may still see an archived file.

    Only ``ARCHIVED``: the console shows an archived event's photos. Hidden files have
    the console's own route; retention is over for everyone.
    """
    if denied is not MediaDenial.ARCHIVED or not request.user.is_authenticated:
        return False
    return member_may_see_media(request.user, name)


@require_GET
def media(request: HttpRequest, name: str) -> HttpResponseBase:
    """Serve a locally stored file (local storage only; S3 serves signed URLs itself).

    The URL is ``/media/<expiry>.<signature>/<key>`` (``SignedFileSystemStorage.url``):
    a missing, malformed, foreign or expired signature answers the same 404 as a missing
    file, so a URL lives ``BOOTHSITE_MEDIA_URL_TTL`` seconds at most, as S3's do, and a
    page that stops handing out URLs stops giving access to its files within that time.
    Then the files of a hidden capture (its original, thumbnail and variants) answer 404
    until it is shown again; so do an archived event's (except to a signed-in member of
    its organiser, for the console); past the event's retention every file answers 410
    (``captures.access.media_denied``: one query). The response is cached privately
    until the URL expires, and never lets a browser sniff a type or run the file.
    """
    if settings.BOOTHSITE_STORAGE != "local":
        raise Http404
    name, max_age = _signed_key(name)
    if ".." in name.split("/"):
        raise Http404
    denied = media_denied(name)
    if denied is not None and not _member_sees(request, denied, name):
        if denied.status == 410:
            return link_gone(request, LinkGone(SHARE_GONE_MESSAGE), what="photos")
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
        filename=download_filename(request, name),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = f"private, max-age={max_age}"
    response["X-Robots-Tag"] = "noindex"
    return response


#: How long a browser may keep a file served by a storage that does not sign its URLs.
UNSIGNED_MAX_AGE = 86400


def _signed_key(path: str) -> tuple[str, int]:
    """Split ``<expiry>.<signature>/<key>`` into the key and the seconds the URL has left.

    With a storage that does not sign (a plain FileSystemStorage configured by hand),
    ``path`` is the key itself and may be cached a day.

    :raises Http404: when the signature is missing, malformed, not this key's or expired.
    """
    storage: Any = default_storage
    if not isinstance(storage, SignedFileSystemStorage):
        return path, UNSIGNED_MAX_AGE
    token, _, name = path.partition("/")
    left = storage.verify(token, name) if name else None
    if left is None:
        raise Http404
    return name, left


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


@require_GET
@private_page
@answer_gone("gallery")
@limit_link_misses
def gallery_zip(request: HttpRequest, gallery_token: str) -> HttpResponseBase:
    """Stream the whole event as one ZIP for guests, when the organiser allows it.

    The same token check as the gallery page (a bad, foreign, switched-off or archived
    gallery gets its 404), and the same 404 when ``Event.guest_download`` is off. A
    passcode gallery not yet unlocked in this browser sends the guest to the gallery's
    passcode page. The ZIP is the console's (``archive.event_archive``), named
    ``<event slug>.zip``.
    """
    event = access_event_by_gallery_token(gallery_token)
    if not event.guest_download:
        raise Http404
    locked = event.gallery_visibility == Event.GalleryVisibility.PASSCODE
    if locked and event.gallery_token not in request.session.get(PASSCODE_SESSION_KEY, []):
        return redirect(event.gallery_path())
    return archive.zip_response(request, archive.event_archive(event))
