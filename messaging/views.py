"""Delivery-receipt webhook (internet-facing, called by Vonage)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from messaging import services


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
