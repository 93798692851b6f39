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
from events.access import gallery_link_state
from events.event_forms import local_time
from events.models import Event
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
    answers 410 "this link has ended" at once); one with ``revoke_link`` closes the
    current link (410) until a new one is made. The form also sets the link's expiry.
    """
    event, can_manage = event_for_settings(request, organiser_slug, event_slug)
    here = reverse("captures:event-gallery-settings", args=[organiser_slug, event_slug])
    if request.method == "POST" and "rotate_link" in request.POST:
        event_services.rotate_gallery_token(event)
        messages.success(request, "The gallery has a new link; the old one no longer works.")
        return redirect(here)
    if request.method == "POST" and "revoke_link" in request.POST:
        event_services.revoke_gallery_link(event)
        messages.success(request, "The gallery link is closed. Make a new link to open it again.")
        return redirect(here)
    form = GallerySettingsForm(posted(request), event=event)
    return settings_form_page(
        request,
        form=form,
        template="captures/event_gallery_settings.html",
        context={"organiser": event.organiser, "event": event, **_link_context(event)},
        save=lambda data: event_services.set_gallery_expiry(
            event_services.update_gallery_settings(
                event,
                visibility=data["gallery_visibility"],
                passcode=form.passcode(),
                guest_download=data["guest_download"],
                retention_days=data["retention_days"],
                retention_purges_photos=data["retention_purges_photos"],
            ),
            data["gallery_expires_at"],
        ),
        saved="Saved.",
        next_url=here,
        can_manage=can_manage,
    )


def _link_context(event: Event) -> dict[str, object]:
    """Return the gallery link's state for the page: why it is gone (or None), local expiry."""
    return {
        "link_state": gallery_link_state(event),
        "expires_local": local_time(event.gallery_expires_at, event.timezone),
    }
