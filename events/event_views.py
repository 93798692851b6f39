"""Console pages for events (login required): create, edit, archive and delete.

Every page fetches its organiser or event through ``events.access``: another
organiser's event answers exactly like a missing one (404). Viewers see the settings
read-only and get 403 on every change; managers and owners create, edit and archive
(``Perm.MANAGE``); only owners delete (``Perm.ADMIN``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_POST

from events import access, services
from events.event_forms import DeleteEventForm, EventForm
from events.models import Organiser
from events.roles import Perm
from events.settings_pages import event_for_settings, may, posted, settings_form_page


def organiser_home(organiser: Organiser) -> str:
    """Return the organiser's events page, or the console's home before it exists."""
    try:
        return reverse("events:organiser-home", args=[organiser.slug])
    except NoReverseMatch:
        return reverse("events:console")


def _event_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Return the ``EventForm``'s cleaned data as the event services take it."""
    return {
        "name": data["name"],
        "slug": data["slug"],
        "starts_at": data["starts_at"],
        "ends_at": data["ends_at"],
        "tz": data["timezone"],
    }


@login_required
@require_http_methods(["GET", "POST"])
def event_create(request: HttpRequest, organiser_slug: str) -> HttpResponse:
    """Let a manager create an event: name, slug (made from the name), dates, time zone."""
    organiser = access.access_organiser(request.user, organiser_slug, perm=Perm.MANAGE)
    return settings_form_page(
        request,
        form=EventForm(posted(request)),
        template="events/event_form.html",
        context={"organiser": organiser, "can_delete": False},
        save=lambda data: services.create_console_event(organiser, **_event_fields(data)),
        saved=lambda event: f"Created “{event.name}”. Next: its capture settings.",
        next_url=lambda event: reverse("events:event-detail", args=[organiser.slug, event.slug]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def event_edit(request: HttpRequest, organiser_slug: str, event_slug: str) -> HttpResponse:
    """Show an event's name, slug, dates and time zone; let a manager change them."""
    event, can_manage = event_for_settings(request, organiser_slug, event_slug)
    return settings_form_page(
        request,
        form=EventForm(posted(request), event=event),
        template="events/event_form.html",
        context={
            "organiser": event.organiser,
            "event": event,
            "can_delete": may(request, organiser_slug, Perm.ADMIN),
        },
        save=lambda data: services.update_event(event, **_event_fields(data)),
        saved="Saved.",
        next_url=lambda _: reverse("events:event-edit", args=[organiser_slug, event.slug]),
        can_manage=can_manage,
    )


@login_required
@require_POST
def event_archive(request: HttpRequest, organiser_slug: str, event_slug: str) -> HttpResponse:
    """Archive (``action=archive``) or bring back (``action=unarchive``) an event."""
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.MANAGE)
    action = request.POST.get("action", "")
    if action == "archive":
        services.archive_event(event)
        messages.success(
            request,
            f"Archived “{event.name}”: its booths take no new sessions, and its gallery "
            "and guest pages are closed.",
        )
    elif action == "unarchive":
        services.unarchive_event(event)
        messages.success(request, f"“{event.name}” is back: booths, gallery and guest pages work.")
    else:
        return HttpResponse(
            "Say archive or unarchive.", status=400, content_type="text/plain; charset=utf-8"
        )
    return redirect("events:event-edit", event.organiser.slug, event.slug)


@login_required
@require_http_methods(["GET", "POST"])
def event_delete(request: HttpRequest, organiser_slug: str, event_slug: str) -> HttpResponse:
    """Show what deleting an event removes; delete it once its name is typed (owners)."""
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.ADMIN)
    form = DeleteEventForm(request.POST or None, event=event)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                deleted = services.delete_event(event)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                captures = deleted.count("captures.Capture")
                messages.success(
                    request,
                    f"Deleted “{event.name}” with {captures} photo(s) and "
                    f"{deleted.files} stored file(s).",
                )
                return redirect(organiser_home(event.organiser))
        status = 400
    summary: services.DeletionSummary | None = None
    try:
        summary = services.event_deletion_summary(event)
    except ValidationError as exc:
        form.add_error(None, exc)
    context: dict[str, Any] = {"organiser": event.organiser, "event": event, "form": form}
    if summary is not None:
        context |= {
            "summary": summary,
            "sessions": summary.count("captures.BoothSession"),
            "captures": summary.count("captures.Capture"),
            "other_rows": [
                (words, count)
                for label, words, count in summary.rows
                if label not in {"captures.BoothSession", "captures.Capture"}
            ],
        }
    return render(request, "events/event_delete.html", context, status=status)
