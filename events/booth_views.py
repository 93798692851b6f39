"""Console pages for booths (login required): list, add, pair, re-pair, rotate, revoke, assign.

Every page fetches its organiser or booth through ``events.access``: another organiser's
booth answers exactly like a missing one (404), viewers see the list and the booth's page
and get 403 on every action, managers and owners act (``Perm.MANAGE``).

Secrets are shown once, only on the page answering the POST that made them (never in a
console URL, never logged, ``Cache-Control: no-store``): the pairing code, its kiosk link
(``<SITE_URL>/booth/#pair=<code>``, as text and as a QR code) and a rotated API token.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any, cast

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.timesince import timesince
from django.views.decorators.http import require_http_methods

from events import access, services
from events.booth_forms import AddBoothForm, AssignEventForm
from events.models import Booth, Organiser
from events.roles import Perm

BOOTHS_PER_PAGE = 25
#: The session key remembering which add-a-booth forms were already sent (id -> booth).
SUBMISSIONS_KEY = "boothsite.booth_submissions"
MAX_SUBMISSIONS = 20
REVOKED_MESSAGE = "This booth is revoked: it cannot be paired, rotated or moved. Add a new booth."

STATE_LABELS = {"paired": "Paired", "unpaired": "Not paired", "revoked": "Revoked"}


@dataclass(frozen=True)
class BoothSummary:
    """What the console shows of a booth: its state and a pairing code still waiting.

    ``state`` is "revoked" (cut off for good), "paired" (it has an API token: a kiosk
    paired, or a token was rotated) or "unpaired" (no token: nothing can act as it).
    ``pairing_until`` is when the code issued last stops working, if it still works;
    ``zone`` is the time zone of the booth's event (UTC without one), to show times in.
    """

    booth: Booth
    state: str
    pairing_until: dt.datetime | None
    zone: zoneinfo.ZoneInfo

    @classmethod
    def of(cls, booth: Booth, now: dt.datetime) -> BoothSummary:
        if booth.is_revoked:
            state = "revoked"
        elif booth.token_hash:
            state = "paired"
        else:
            state = "unpaired"
        waiting = (
            booth.pairing_code_hash
            and booth.pairing_expires_at is not None
            and booth.pairing_expires_at > now
            and not booth.is_revoked
        )
        until = booth.pairing_expires_at if waiting else None
        return cls(booth, state, until, _event_zone(booth))

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def last_seen(self) -> str:
        """Return "never", "just now" (under a minute ago) or "3 hours ago"."""
        seen = self.booth.last_seen_at
        if seen is None:
            return "never"
        if timezone.now() - seen < dt.timedelta(minutes=1):
            return "just now"
        return f"{timesince(seen)} ago"


def _can_manage(request: HttpRequest, organiser_slug: str) -> bool:
    try:
        access.access_organiser(request.user, organiser_slug, perm=Perm.MANAGE)
    except PermissionDenied:
        return False
    return True


def _event_zone(booth: Booth) -> zoneinfo.ZoneInfo:
    """Return the time zone to show the booth's times in: its event's, else UTC."""
    name = booth.current_event.timezone if booth.current_event else "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def qr_svg(url: str) -> str:
    """Return an inline ``<svg>`` QR code of ``url`` (error correction M; no fixed size).

    ``captures.qr`` does the same for guests; ``events`` may not import ``captures``.
    """
    code = segno.make(url, error="m")
    return str(code.svg_inline(dark="#111", light="#fff", omitsize=True))


def _secret_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    add_never_cache_headers(response)
    return response


def _pairing_page(
    request: HttpRequest, organiser: Organiser, booth: Booth, *, status: int, note: str = ""
) -> HttpResponse:
    """Issue a pairing code for ``booth`` and answer with it: text, link and QR code."""
    issued = services.issue_pairing_code(booth)
    link = f"{settings.SITE_URL}{reverse('captures:booth')}#pair={issued.secret}"
    expires = cast("dt.datetime", booth.pairing_expires_at)  # set by issue_pairing_code
    zone = _event_zone(booth)
    context = {
        "organiser": organiser,
        "booth": booth,
        "code": issued.secret,
        "link": link,
        "kiosk_url": f"{settings.SITE_URL}{reverse('captures:booth')}",
        "qr": qr_svg(link),
        "expires": expires,
        "zone": zone,
        "note": note,
    }
    return _secret_page(request, "events/booth_pairing.html", context, status=status)


def _detail_page(
    request: HttpRequest,
    organiser_slug: str,
    booth: Booth,
    *,
    form: AssignEventForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    can_manage = _can_manage(request, organiser_slug)
    summary = BoothSummary.of(booth, timezone.now())
    context = {
        "organiser": booth.organiser,
        "booth": booth,
        "summary": summary,
        "can_manage": can_manage,
        "form": form or (AssignEventForm(booth=booth) if can_manage else None),
        "error": error,
    }
    return render(request, "events/booth_detail.html", context, status=status)


def _refuse_revoked(request: HttpRequest, organiser_slug: str, booth: Booth) -> HttpResponse:
    return _detail_page(request, organiser_slug, booth, error=REVOKED_MESSAGE, status=409)


@login_required
@require_http_methods(["GET"])
def booth_list(request: HttpRequest, organiser_slug: str) -> HttpResponse:
    """List the organiser's booths, 25 a page: name, event, last seen and state."""
    organiser = access.access_organiser(request.user, organiser_slug, perm=Perm.VIEW)
    booths = (
        Booth.objects.for_organiser(organiser)
        .select_related("current_event")
        .order_by(F("revoked_at").asc(nulls_first=True), "name", "pk")
    )
    page = Paginator(booths, BOOTHS_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    context = {
        "organiser": organiser,
        "page": page,
        "summaries": [BoothSummary.of(booth, now) for booth in page],
        "can_manage": _can_manage(request, organiser_slug),
    }
    return render(request, "events/booths.html", context)


def _remembered_booth(request: HttpRequest, organiser_slug: str) -> Booth | None:
    """Return the booth this add-a-booth form made already, if it is sent again."""
    submission = request.POST.get("submission", "")
    booth_id = request.session.get(SUBMISSIONS_KEY, {}).get(submission)
    if booth_id is None:
        return None
    try:
        return access.access_booth(request.user, organiser_slug, booth_id, perm=Perm.MANAGE)
    except Http404:  # deleted since: this form may make a booth again
        return None


def _remember(request: HttpRequest, submission: str, booth: Booth) -> None:
    done: dict[str, str] = dict(request.session.get(SUBMISSIONS_KEY, {}))
    done[submission] = str(booth.public_id)
    request.session[SUBMISSIONS_KEY] = dict(list(done.items())[-MAX_SUBMISSIONS:])


@login_required
@require_http_methods(["GET", "POST"])
def booth_create(request: HttpRequest, organiser_slug: str) -> HttpResponse:
    """Add a booth (name, event to serve), then show its pairing code, link and QR code.

    201 with the pairing page; 400 with the form's errors; 404 for an event slug that is
    not one of the organiser's events. The same form sent again (a reload, a double
    click) makes no second booth: it answers 200 with a new code for the first one.
    """
    organiser = access.access_organiser(request.user, organiser_slug, perm=Perm.MANAGE)
    if request.method != "POST":
        form = AddBoothForm(organiser=organiser)
        return render(request, "events/booth_create.html", {"organiser": organiser, "form": form})
    if slug := request.POST.get("event", ""):
        access.access_event(request.user, organiser_slug, slug, perm=Perm.MANAGE)
    booth = _remembered_booth(request, organiser_slug)
    if booth is not None and not booth.is_revoked:
        note = (
            "This form was sent before, so the booth was already added. Here is a new "
            "pairing code: the earlier one no longer works."
        )
        return _pairing_page(request, organiser, booth, status=200, note=note)
    form = AddBoothForm(request.POST, organiser=organiser)
    if not form.is_valid():
        context = {"organiser": organiser, "form": form}
        return render(request, "events/booth_create.html", context, status=400)
    booth = services.add_booth(
        organiser, name=form.cleaned_data["name"], event=form.cleaned_data["event"]
    )
    _remember(request, str(form.cleaned_data["submission"]), booth)
    return _pairing_page(request, organiser, booth, status=201)


@login_required
@require_http_methods(["GET"])
def booth_detail(request: HttpRequest, organiser_slug: str, booth_id: str) -> HttpResponse:
    """One booth: its state, event, last seen, and (for managers) its actions."""
    booth = access.access_booth(request.user, organiser_slug, booth_id, perm=Perm.VIEW)
    return _detail_page(request, organiser_slug, booth)


def _booth_to_change(
    request: HttpRequest, organiser_slug: str, booth_id: str
) -> Booth | HttpResponse:
    """Return the booth a POST changes (``Perm.MANAGE``), or the response to give instead.

    A GET goes back to the booth's page (``Perm.VIEW``); a revoked booth answers 409.
    """
    if request.method != "POST":
        access.access_booth(request.user, organiser_slug, booth_id, perm=Perm.VIEW)
        return redirect("events:booth-detail", organiser_slug, booth_id)
    booth = access.access_booth(request.user, organiser_slug, booth_id, perm=Perm.MANAGE)
    if booth.is_revoked:
        return _refuse_revoked(request, organiser_slug, booth)
    return booth


@login_required
@require_http_methods(["GET", "POST"])
def booth_pair(request: HttpRequest, organiser_slug: str, booth_id: str) -> HttpResponse:
    """POST: give the booth a new one-time pairing code (the previous code stops working).

    A kiosk paired now keeps working until a kiosk redeems the new code. GET goes back
    to the booth's page; a revoked booth answers 409.
    """
    booth = _booth_to_change(request, organiser_slug, booth_id)
    if isinstance(booth, HttpResponse):
        return booth
    return _pairing_page(request, booth.organiser, booth, status=200)


@login_required
@require_http_methods(["GET", "POST"])
def booth_assign(request: HttpRequest, organiser_slug: str, booth_id: str) -> HttpResponse:
    """POST: point the booth at one of the organiser's current events, or at none.

    404 for an event slug that is not the organiser's (like a missing one), 400 for an
    archived event, 409 for a revoked booth. GET goes back to the booth's page.
    """
    booth = _booth_to_change(request, organiser_slug, booth_id)
    if isinstance(booth, HttpResponse):
        return booth
    if slug := request.POST.get("event", ""):
        access.access_event(request.user, organiser_slug, slug, perm=Perm.MANAGE)
    form = AssignEventForm(request.POST, booth=booth)
    if not form.is_valid():
        return _detail_page(request, organiser_slug, booth, form=form, status=400)
    event = form.cleaned_data["event"]
    services.assign_event(booth, event)
    if event is None:
        messages.success(request, f"{booth.name} serves no event now: it cannot start sessions.")
    else:
        messages.success(
            request,
            f"{booth.name} now serves {event.name}. A running kiosk shows it when its page "
            "next loads.",
        )
    return redirect("events:booth-detail", organiser_slug, booth_id)


def _confirm_page(request: HttpRequest, booth: Booth, action: str) -> HttpResponse:
    context = {"organiser": booth.organiser, "booth": booth, "action": action}
    return render(request, "events/booth_confirm.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def booth_rotate(request: HttpRequest, organiser_slug: str, booth_id: str) -> HttpResponse:
    """GET: ask to confirm. POST: give the booth a new API token and show it once.

    The old token stops working at once, over HTTP and on the booth's open socket (the
    kiosk paired with it is cut off and must be paired again). 409 for a revoked booth.
    """
    booth = access.access_booth(request.user, organiser_slug, booth_id, perm=Perm.MANAGE)
    if booth.is_revoked:
        return _refuse_revoked(request, organiser_slug, booth)
    if request.method != "POST":
        return _confirm_page(request, booth, "rotate")
    issued = services.rotate_booth_token(booth)
    compat = reverse("compat-send-mms", args=[issued.secret])
    context = {
        "organiser": booth.organiser,
        "booth": booth,
        "token": issued.secret,
        "compat_url": f"{settings.SITE_URL}{compat}",
    }
    return _secret_page(request, "events/booth_token.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def booth_revoke(request: HttpRequest, organiser_slug: str, booth_id: str) -> HttpResponse:
    """GET: ask to confirm. POST: revoke the booth for good, then back to its page.

    Its token, pairing code and open socket stop working at once (the kiosk shows that
    it was unpaired or revoked). Revoking a revoked booth changes nothing.
    """
    booth = access.access_booth(request.user, organiser_slug, booth_id, perm=Perm.MANAGE)
    if request.method != "POST":
        if booth.is_revoked:
            return redirect("events:booth-detail", organiser_slug, booth_id)
        return _confirm_page(request, booth, "revoke")
    if booth.is_revoked:
        messages.info(request, f"{booth.name} was already revoked.")
    else:
        services.revoke_booth(booth)
        messages.success(
            request,
            f"{booth.name} is revoked: its kiosk is cut off and shows that it was unpaired.",
        )
    return redirect("events:booth-detail", organiser_slug, booth_id)
