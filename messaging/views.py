"""The delivery-receipt webhook (internet-facing, called by Vonage) and console SMS pages."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from events import access
from events.roles import Perm
from messaging import phones, services


def _params(request: HttpRequest) -> dict[str, str]:
    if request.method == "GET":
        return {key: str(value) for key, value in request.GET.items()}
    if request.content_type == "application/json":
        try:
            body: Any = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    return {key: str(value) for key, value in request.POST.items()}


@csrf_exempt
@require_http_methods(["GET", "POST"])
def delivery_receipt(request: HttpRequest, callback_token: str) -> HttpResponse:
    """Apply a Vonage delivery receipt (GET query, form or JSON) to one message.

    Answers 401 for a bad, missing or stale signature when signing is configured, and
    204 otherwise, also for an unknown message, so Vonage stops retrying.
    """
    params = _params(request)
    if not services.receipt_is_authentic(params):
        return HttpResponse(status=401)
    services.apply_delivery_receipt(callback_token, params)
    return HttpResponse(status=204)


SMS_PAGE_SIZE = 50


@login_required
@require_http_methods(["GET"])
def event_sms(request: HttpRequest, organiser_slug: str, event_slug: str) -> HttpResponse:
    """Show the event's SMS ledger to its organiser's members: masked numbers, statuses."""
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.VIEW)
    ledger = services.event_ledger(event)
    page = Paginator(ledger, SMS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(sms, phones.mask_phone(sms.to)) for sms in page]
    return render(request, "messaging/event_sms.html", {"event": event, "page": page, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def erase_number(request: HttpRequest, organiser_slug: str) -> HttpResponse:
    """Let an organiser's owner erase a guest's number from all of that organiser's messages."""
    organiser = access.access_organiser(request.user, organiser_slug, perm=Perm.ADMIN)
    context: dict[str, Any] = {"organiser": organiser}
    if request.method == "POST":
        try:
            count = services.erase_number(organiser, request.POST.get("phone", ""), request.user)  # type: ignore[arg-type]
        except phones.InvalidPhone as exc:
            context["error"] = exc.message
        else:
            context["done"] = count
    status = 400 if "error" in context else 200
    return render(request, "messaging/erase_number.html", context, status=status)
