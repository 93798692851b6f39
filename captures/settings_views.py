"""Console pages for an event's capture and gallery settings (login required).

Each page fetches its event through ``events.access``: another organiser's event
answers exactly like a missing one (404). Viewers see the settings read-only and get
403 on a change; managers and owners change them (``Perm.MANAGE``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from captures import services
from captures.forms import CaptureSettingsForm, GallerySettingsForm
from events import services as event_services
from events.settings_pages import event_for_settings, posted, settings_form_page


@login_required
@require_http_methods(["GET", "POST"])
def event_capture_settings(
    request: HttpRequest, organiser_slug: str, event_slug: str
) -> HttpResponse:
    """Show how an event's booths snap and render; let a manager change it."""
    event, can_manage = event_for_settings(request, organiser_slug, event_slug)
    return settings_form_page(
        request,
        form=CaptureSettingsForm(posted(request), event=event),
        template="captures/event_capture_settings.html",
        context={"organiser": event.organiser, "event": event},
        save=lambda data: services.update_capture_settings(event, **data),
        saved="Saved. Booths use it from their next session.",
        next_url=reverse("captures:event-capture-settings", args=[organiser_slug, event_slug]),
        can_manage=can_manage,
    )


@login_required
@require_http_methods(["GET", "POST"])
def event_gallery_settings(
    request: HttpRequest, organiser_slug: str, event_slug: str
) -> HttpResponse:
    """Show who may open an event's gallery and its retention; let a manager change them.

    A POST with ``rotate_link`` gives the gallery a new secret link instead (the old one
    answers 404 at once).
    """
    event, can_manage = event_for_settings(request, organiser_slug, event_slug)
    here = reverse("captures:event-gallery-settings", args=[organiser_slug, event_slug])
    if request.method == "POST" and "rotate_link" in request.POST:
        event_services.rotate_gallery_token(event)
        messages.success(request, "The gallery has a new link; the old one no longer works.")
        return redirect(here)
    form = GallerySettingsForm(posted(request), event=event)
    return settings_form_page(
        request,
        form=form,
        template="captures/event_gallery_settings.html",
        context={"organiser": event.organiser, "event": event},
        save=lambda data: event_services.update_gallery_settings(
            event,
            visibility=data["gallery_visibility"],
            passcode=form.passcode(),
            retention_days=data["retention_days"],
            retention_purges_photos=data["retention_purges_photos"],
        ),
        saved="Saved.",
        next_url=here,
        can_manage=can_manage,
    )
