"""The console's captures page (login required): list an event's photos, hide, show, delete.

Every view fetches its event through ``events.access.access_event`` and the capture
through ``captures.access.access_capture_for_event``, so another organiser's event or
capture answers exactly like a missing one (404). Members see the list (``Perm.VIEW``);
hiding, showing again and deleting need ``Perm.MANAGE`` (viewers get 403).
"""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from captures import access as capture_access
from captures import services
from captures.models import Capture
from events import access
from events.models import Event, Membership
from events.roles import Perm

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

#: Photos on one page of the console's list.
CAPTURES_PAGE_SIZE = 48


class CaptureFilterForm(forms.Form):
    """Which of the event's photos the list shows, and which page (a GET form)."""

    SHOW_CHOICES = [
        ("all", "All photos"),
        ("visible", "Shown to guests"),
        ("hidden", "Hidden"),
    ]

    show = forms.ChoiceField(
        choices=SHOW_CHOICES,
        required=False,
        label="Photos to list",
        help_text="Hidden photos are kept, but no guest page, download or link shows them.",
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean_show(self) -> str:
        return str(self.cleaned_data.get("show") or "all")


def _can_manage(user: AbstractBaseUser | AnonymousUser, event: Event) -> bool:
    """Whether ``user`` (a member of the event's organiser) may hide and delete photos."""
    if not user.is_authenticated:
        return False
    membership = Membership.objects.for_organiser(event.organiser).filter(user_id=user.pk).first()
    return membership is not None and membership.allows(Perm.MANAGE)


def _list_url(event: Event, show: str = "all", page: int | None = None) -> str:
    url = reverse("captures:event-captures", args=[event.organiser.slug, event.slug])
    query = [f"show={show}"] if show != "all" else []
    query += [f"page={page}"] if page and page > 1 else []
    return url + ("?" + "&".join(query) if query else "")


@login_required
@require_GET
def event_captures(request: HttpRequest, organiser_slug: str, event_slug: str) -> HttpResponse:
    """List the event's photos, newest first, ``CAPTURES_PAGE_SIZE`` a page, hidden ones too.

    Each shows its thumbnail, session, trigger, smile score, render status and time; a
    manager gets Hide/Show and Delete buttons. The page costs the same queries whatever
    its size (one for the page's photos with their sessions and booths). An unknown
    ``show`` answers 400 with the form's message.
    """
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.VIEW)
    form = CaptureFilterForm(request.GET)
    if not form.is_valid():
        invalid = {"organiser": event.organiser, "event": event, "form": form, "page": None}
        return render(request, "captures/event_captures.html", invalid, status=400)
    show = form.cleaned_data["show"]
    captures = capture_access.event_captures(event)
    if show == "visible":
        captures = captures.visible()
    elif show == "hidden":
        captures = captures.hidden()
    totals = Capture.objects.for_event(event).aggregate(
        total=Count("pk"), hidden=Count("pk", filter=Q(hidden=True))
    )
    page = Paginator(captures, CAPTURES_PAGE_SIZE).get_page(form.cleaned_data.get("page"))
    context: dict[str, Any] = {
        "organiser": event.organiser,
        "event": event,
        "form": form,
        "show": show,
        "page": page,
        "totals": totals,
        "can_manage": _can_manage(request.user, event),
    }
    return render(request, "captures/event_captures.html", context)


@login_required
@require_GET
def capture_thumbnail(
    request: HttpRequest, organiser_slug: str, event_slug: str, capture_id: str
) -> FileResponse:
    """Serve a capture's thumbnail to the event's members, hidden captures included.

    ``/media/`` answers 404 for a hidden capture's files; the console still needs to
    show them to whoever decides to show them again. Read through Django's storage, so
    it works on local files and S3 alike; a file gone from storage answers 404.
    """
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.VIEW)
    capture = capture_access.access_capture_for_event(event, capture_id)
    name = capture.thumbnail.name or capture.image.name
    try:
        handle = default_storage.open(name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(
        handle,
        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        filename=f"photo-{capture.public_id}-thumbnail.{name.rsplit('.', 1)[-1]}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _return_to(request: HttpRequest, event: Event) -> HttpResponseRedirect:
    """Go back to the list page the action was pressed on (its ``show`` and ``page``)."""
    form = CaptureFilterForm(request.POST)
    if form.is_valid():
        return HttpResponseRedirect(
            _list_url(event, form.cleaned_data["show"], form.cleaned_data.get("page"))
        )
    return HttpResponseRedirect(_list_url(event))


#: (service, message when it changed something, message when it did not), by action.
_VISIBILITY = {
    "hide": (
        services.hide_capture,
        "Photo hidden. Guests no longer see it, its links answer “not found”, and its "
        "session's strips are being made again without it.",
        "That photo was already hidden.",
    ),
    "unhide": (
        services.unhide_capture,
        "Photo shown again. Guests see it, and its session's strips are being made again with it.",
        "That photo was not hidden.",
    ),
}


def _set_visibility(
    request: HttpRequest, organiser_slug: str, event_slug: str, capture_id: str, action: str
) -> HttpResponseRedirect:
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.MANAGE)
    capture = capture_access.access_capture_for_event(event, capture_id)
    change, changed, unchanged = _VISIBILITY[action]
    if change(capture):
        messages.success(request, changed)
    else:
        messages.info(request, unchanged)
    return _return_to(request, event)


@login_required
@require_POST
def capture_hide(
    request: HttpRequest, organiser_slug: str, event_slug: str, capture_id: str
) -> HttpResponseRedirect:
    """Hide one photo from guests (``services.hide_capture``), then go back to the list."""
    return _set_visibility(request, organiser_slug, event_slug, capture_id, "hide")


@login_required
@require_POST
def capture_unhide(
    request: HttpRequest, organiser_slug: str, event_slug: str, capture_id: str
) -> HttpResponseRedirect:
    """Show a hidden photo again (``services.unhide_capture``), then go back to the list."""
    return _set_visibility(request, organiser_slug, event_slug, capture_id, "unhide")


@login_required
@require_http_methods(["GET", "POST"])
def capture_delete(
    request: HttpRequest, organiser_slug: str, event_slug: str, capture_id: str
) -> HttpResponse:
    """Ask for a confirmation (GET), then delete one photo and its files (POST).

    See ``services.delete_capture``: the original, its thumbnail and its filtered
    versions go, and the session's strips are made again without it.
    """
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.MANAGE)
    capture = capture_access.access_capture_for_event(event, capture_id)
    if request.method == "POST":
        services.delete_capture(capture)
        messages.success(
            request,
            "Photo deleted, with its filtered versions. Its session's strips are being made "
            "again without it.",
        )
        return _return_to(request, event)
    where = CaptureFilterForm(request.GET)
    show, page = ("all", None)
    if where.is_valid():
        show, page = where.cleaned_data["show"], where.cleaned_data.get("page")
    context = {
        "organiser": event.organiser,
        "event": event,
        "capture": capture,
        "variants": capture.variants.count(),
        "strips": capture.session.strips.count(),
        "show": show,
        "page_number": page,
        "back": _list_url(event, show, page),
    }
    return render(request, "captures/capture_delete.html", context)
