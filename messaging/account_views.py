"""Console pages of the SMS area: the organiser's SMS account and an event's SMS settings.

Logged-in members only (``views.py``'s audience). Tenants come from ``events.access``:
another organiser's slug answers 404 like a missing one; a member whose role lacks the
permission gets 403.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from events import access
from events.event_forms import make_read_only
from events.models import Organiser
from events.roles import Perm
from events.settings_pages import event_for_settings, posted
from messaging import forms, segments, services
from messaging.models import SmsAccount


def _holds(user: AbstractBaseUser | AnonymousUser, organiser_slug: str, perm: Perm) -> bool:
    try:
        access.access_organiser(user, organiser_slug, perm=perm)
    except PermissionDenied:
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def sms_account(request: HttpRequest, organiser_slug: str) -> HttpResponse:
    """Show which Vonage account sends the organiser's SMS; let its owners change it.

    Every member sees the account in use, never its credentials; the form (and any
    POST) needs Perm.ADMIN, so managers and viewers get 403 on POST. New credentials
    are checked with Vonage before they are stored (``services.set_own_sms_account``):
    refused ones answer 400 with the form's error, as does any invalid field.
    """
    organiser = access.access_organiser(request.user, organiser_slug, perm=Perm.VIEW)
    is_owner = _holds(request.user, organiser_slug, Perm.ADMIN)
    if request.method == "POST" and not is_owner:
        raise PermissionDenied
    current = services.live_sms_account(organiser)
    form = None
    status = 200
    if is_owner:
        data = request.POST if request.method == "POST" else None
        form = forms.SmsAccountForm(data, current=current)
        if form.is_bound:
            if form.is_valid() and _save_account(request, organiser, form, current):
                return redirect("messaging:sms-account", organiser.slug)
            status = 400
    context: dict[str, Any] = {
        "organiser": organiser,
        "current": current,
        "form": form,
        "is_owner": is_owner,
        "pause": services.own_account_pause(organiser) if current is not None else None,
        "platform_sender": settings.VONAGE_FROM,
    }
    return render(request, "messaging/sms_account.html", context, status=status)


def _save_account(
    request: HttpRequest,
    organiser: Organiser,
    form: forms.SmsAccountForm,
    current: SmsAccount | None,
) -> bool:
    """Store what the valid ``form`` says; False (with the form's error) when Vonage refused."""
    data = form.cleaned_data
    resumed = 0
    if data["account"] == forms.PLATFORM:
        if current is not None:
            resumed = services.use_platform_sms_account(organiser)
        messages.success(request, "Saved. Your guests' SMS go through Boothsite's account.")
    elif form.replaces_credentials:
        saved = services.set_own_sms_account(
            organiser,
            request.user if request.user.is_authenticated else None,
            api_key=data["api_key"],
            api_secret=data["api_secret"],
            sender=data["sender"],
        )
        if saved.account is None:
            form.add_error("api_key", saved.check.message)
            return False
        level = messages.SUCCESS if saved.check.outcome == "accepted" else messages.WARNING
        messages.add_message(request, level, f"Saved. {saved.check.message}")
        resumed = saved.resumed
    else:
        services.set_sms_sender(organiser, data["sender"])
        messages.success(request, "Saved. The API key and secret are unchanged.")
    if resumed:
        messages.info(request, f"{resumed} message(s) held back by the pause are being sent.")
    return True


@login_required
@require_http_methods(["GET", "POST"])
def event_sms_settings(request: HttpRequest, organiser_slug: str, event_slug: str) -> HttpResponse:
    """Edit an event's SMS text (with a preview and its segment count) and SMS countries.

    Every member sees the settings (read-only for viewers); a POST needs Perm.MANAGE
    (viewers get 403). A POST with ``action=preview`` renders the preview of the text as
    typed and saves nothing; any other valid POST saves and redirects. An invalid form
    answers 400 with the errors and the preview of what was typed.
    """
    event, can_manage = event_for_settings(request, organiser_slug, event_slug)
    form = forms.EventSmsSettingsForm(posted(request), event=event)
    if not can_manage:
        make_read_only(form)
    status = 200
    preview = form.preview_text()
    if form.is_bound:
        typed = str(form.data.get("sms_template", "")).strip()
        preview = form.preview_text(typed)
        if not form.is_valid():
            status = 400
        elif request.POST.get("action") != "preview":
            services.update_event_sms_settings(
                event,
                sms_template=form.cleaned_data["sms_template"],
                countries=form.cleaned_data["countries"],
            )
            messages.success(request, "Saved.")
            return redirect("messaging:event-sms-settings", event.organiser.slug, event.slug)
    context: dict[str, Any] = {
        "organiser": event.organiser,
        "event": event,
        "form": form,
        "preview": preview,
        "count": segments.count_segments(preview),
        "max_segments": segments.MAX_SEGMENTS,
        "account": services.live_sms_account(event.organiser),
        "countries_unset": not event.sms_allowed_countries,
        "platform_countries": forms.platform_countries(),
        "can_manage": can_manage,
    }
    return render(request, "messaging/event_sms_settings.html", context, status=status)
