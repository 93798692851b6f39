"""Organiser console pages for the kiosk (login required): branding and camera settings.

Each page fetches its event or booth through ``events.access`` with the permission the
action needs, so another organiser's objects answer 404 and viewers get 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from captures import imaging, services
from captures.forms import BrandingForm, CameraForm
from events import access
from events.roles import Perm


@login_required
@require_http_methods(["GET", "POST"])
def event_branding(request: HttpRequest, organiser_slug: str, event_slug: str) -> HttpResponse:
    """Let a manager set the kiosk's welcome text, brand colour and logo for one event."""
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.MANAGE)
    if request.method != "POST":
        return render(
            request,
            "captures/branding.html",
            {"event": event, "form": BrandingForm(instance=event)},
        )
    form = BrandingForm(request.POST, request.FILES, instance=event)
    if form.is_valid():
        upload = form.cleaned_data["logo"]
        try:
            services.update_branding(
                event,
                welcome_text=form.cleaned_data["welcome_text"],
                brand_color=form.cleaned_data["brand_color"],
                logo=upload.read() if upload is not None else None,
                remove_logo=form.cleaned_data.get("remove_logo", False),
            )
        except imaging.InvalidImage as exc:
            form.add_error("logo", exc.message)
        else:
            messages.success(request, "Saved. Booths show it when their page next loads.")
            return redirect("captures:event-branding", organiser_slug, event_slug)
    return render(request, "captures/branding.html", {"event": event, "form": form}, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def booth_camera(request: HttpRequest, organiser_slug: str, booth_id: str) -> HttpResponse:
    """Let a manager set a booth's camera; a running kiosk applies it at once."""
    booth = access.access_booth(request.user, organiser_slug, booth_id, perm=Perm.MANAGE)
    if request.method != "POST":
        form = CameraForm(instance=booth)
        return render(request, "captures/booth_camera.html", {"booth": booth, "form": form})
    form = CameraForm(request.POST, instance=booth)
    if not form.is_valid():
        context = {"booth": booth, "form": form}
        return render(request, "captures/booth_camera.html", context, status=400)
    data = form.cleaned_data
    services.update_booth_camera(
        booth,
        width=data["camera_width"],
        height=data["camera_height"],
        mirror=data["camera_mirror"],
        brightness=data["camera_brightness"],
        contrast=data["camera_contrast"],
        zoom=data["camera_zoom"],
    )
    messages.success(request, "Saved. A running booth applies it now.")
    return redirect("captures:booth-camera", organiser_slug, booth_id)
