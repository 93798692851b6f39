"""Organiser console pages for the kiosk (login required): branding and camera settings.

Each page fetches its event or booth through ``events.access`` with the permission the
action needs, so another organiser's objects answer 404 and viewers get 403.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from captures import imaging, services
from captures.forms import BrandingForm, CameraForm
from events import access
from events.models import Event
from events.roles import Perm
from events.settings_pages import posted, settings_form_page


def _save_branding(event: Event, form: BrandingForm) -> None:
    """Store the valid branding ``form``; ValidationError on ``logo`` for a bad image."""
    data, upload = form.cleaned_data, form.cleaned_data["logo"]
    try:
        services.update_branding(
            event,
            welcome_text=data["welcome_text"],
            brand_color=data["brand_color"],
            logo=upload.read() if upload is not None else None,
            remove_logo=data.get("remove_logo", False),
        )
    except imaging.InvalidImage as exc:
        raise ValidationError({"logo": exc.message}) from exc


@login_required
@require_http_methods(["GET", "POST"])
def event_branding(request: HttpRequest, organiser_slug: str, event_slug: str) -> HttpResponse:
    """Let a manager set the kiosk's welcome text, brand colour and logo for one event."""
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.MANAGE)
    form = BrandingForm(posted(request), request.FILES or None, instance=event)
    return settings_form_page(
        request,
        form=form,
        template="captures/branding.html",
        context={"event": event},
        save=lambda _: _save_branding(event, form),
        saved="Saved. Booths show it when their page next loads.",
        next_url=reverse("captures:event-branding", args=[organiser_slug, event_slug]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def booth_camera(request: HttpRequest, organiser_slug: str, booth_id: str) -> HttpResponse:
    """Let a manager set a booth's camera; a running kiosk applies it at once."""
    booth = access.access_booth(request.user, organiser_slug, booth_id, perm=Perm.MANAGE)
    return settings_form_page(
        request,
        form=CameraForm(posted(request), instance=booth),
        template="captures/booth_camera.html",
        context={"booth": booth},
        save=lambda data: services.update_booth_camera(
            booth,
            width=data["camera_width"],
            height=data["camera_height"],
            mirror=data["camera_mirror"],
            brightness=data["camera_brightness"],
            contrast=data["camera_contrast"],
            zoom=data["camera_zoom"],
        ),
        saved="Saved. A running booth applies it now.",
        next_url=reverse("captures:booth-camera", args=[organiser_slug, booth_id]),
    )
