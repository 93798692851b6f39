"""The delivery-receipt webhook (internet-facing, called by Vonage) and console SMS pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from rest_framework.exceptions import ParseError

from boothsite.parsers import BodyTooLarge, parse_json_object
from events import access
from events.roles import Perm
from messaging import phones, services

#: A JSON receipt's largest body, in bytes: Vonage's are under 1 KB (a dozen short fields).
RECEIPT_MAX_BYTES = 16 * 1024


def _params(request: HttpRequest) -> dict[str, str]:
    """Return the receipt's fields from the query (GET), a JSON object or a form (POST).

    A JSON body gets the API's checks (``boothsite.parsers.parse_json_object``): size and
    depth before parsing, and an object at the top.

    :raises ParseError: for a JSON body that is malformed, too deep or not an object.
    :raises BodyTooLarge: for a JSON body over ``RECEIPT_MAX_BYTES``.
    :raises RequestDataTooBig: for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
    """
    if request.method == "GET":
        return {key: str(value) for key, value in request.GET.items()}
    if request.content_type == "application/json":
        charset = (request.content_params or {}).get("charset", "utf-8")
        body = parse_json_object(
            request.body or b"{}", encoding=charset, max_bytes=RECEIPT_MAX_BYTES
        )
        return {str(k): str(v) for k, v in body.items()}
    return {key: str(value) for key, value in request.POST.items()}


@csrf_exempt
@require_http_methods(["GET", "POST"])
def delivery_receipt(request: HttpRequest, callback_token: str) -> HttpResponse:
    """Apply a Vonage delivery receipt (GET query, form or JSON) to one message.

    Answers 401 for a bad, missing or stale signature when signing is configured, and
    204 otherwise, also for an unknown message, so Vonage stops retrying. A JSON body
    that is malformed, nested too deeply or not an object is a 400 ``{"detail": …}``;
    a body over the size cap a 413 (RELIABILITY 71).
    """
    try:
        params = _params(request)
    except (ParseError, BodyTooLarge) as exc:
        return JsonResponse({"detail": str(exc.detail)}, status=exc.status_code)
    except RequestDataTooBig:
        return JsonResponse({"detail": "Request body too large."}, status=413)
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
