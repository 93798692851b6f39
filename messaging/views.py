"""The delivery-receipt webhook (internet-facing, called by Vonage), console SMS and email pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from rest_framework.exceptions import ParseError

from boothsite.parsers import BodyTooLarge, parse_json_object
from events import access
from events.roles import Perm
from messaging import emails, forms, gateway, phones, services
from messaging.admin import DLR_ERRORS
from messaging.models import EmailMessage, SmsMessage

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

Status = SmsMessage.Status

#: Error codes that are Boothsite's own, not the provider's, in words.
OWN_ERRORS = {"paused": "Not sent: SMS sending was paused for this event."}
#: What a status means when no code says more (a receipt without an err-code, say).
STATUS_REASONS: dict[str, str] = {
    Status.FAILED: "The SMS provider reported a failure without saying why.",
    Status.REJECTED: "The SMS provider or the guest's carrier refused the message.",
    Status.EXPIRED: "The carrier gave up before the phone could take it (off or out of coverage).",
    Status.UNKNOWN: "Not known: the SMS provider may or may not have sent it.",
    Status.CANCELLED: "Cancelled before it was sent.",
}


@dataclass(frozen=True)
class LedgerRow:
    """One line of the console's SMS page: nothing in it shows the full number.

    ``reason`` says in words why the message did not (or not yet) reach the guest, ""
    when there is nothing to say (delivered, submitted, on its way); ``code`` names the
    code it comes from ("carrier code 6", "provider status 6"), "" for our own reasons.
    """

    sms: SmsMessage
    masked_to: str
    reason: str
    code: str


def ledger_row(sms: SmsMessage) -> LedgerRow:
    """Return ``sms``'s row, its number masked and its failure explained.

    An error code that a delivery receipt of the message carries is the carrier's
    (Vonage's err-code table, ``messaging.admin.DLR_ERRORS``); otherwise it is the
    provider's answer to the send (``gateway.STATUS_TEXT``) or one of ours. Reads the
    receipts from ``sms.receipts.all()``, so prefetch them for a page of rows.
    """
    masked = phones.mask_phone(sms.to)
    code = sms.error_code if sms.error_code != "0" else ""
    if sms.status in {Status.DELIVERED, Status.SUBMITTED} or (
        sms.status in {Status.QUEUED, Status.SENDING} and not code
    ):
        return LedgerRow(sms, masked, "", "")
    from_carrier = any(receipt.err_code == code for receipt in sms.receipts.all())
    if code and from_carrier and code in DLR_ERRORS:
        reason, label = DLR_ERRORS[code], f"carrier code {code}"
    elif code in gateway.STATUS_TEXT:
        reason = gateway.STATUS_TEXT[code]
        label = f"provider status {code}" if code.isdigit() else ""
    elif code in OWN_ERRORS:
        reason, label = OWN_ERRORS[code], ""
    else:
        reason = sms.error_text or STATUS_REASONS.get(sms.status, "")
        label = f"code {code}" if code.isdigit() else ""
    if sms.status == Status.QUEUED:
        reason = f"Waiting to try again. {reason}"
    return LedgerRow(sms, masked, reason, label)


@login_required
@require_http_methods(["GET"])
def event_sms(request: HttpRequest, organiser_slug: str, event_slug: str) -> HttpResponse:
    """Show the event's SMS ledger to its organiser's members: masked numbers, statuses.

    A message that failed says why, in words (``ledger_row``); the receipts are
    prefetched, so the page costs no query per message.
    """
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.VIEW)
    ledger = services.event_ledger(event).prefetch_related("receipts")
    page = Paginator(ledger, SMS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [ledger_row(sms) for sms in page]
    return render(request, "messaging/event_sms.html", {"event": event, "page": page, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def erase_number(request: HttpRequest, organiser_slug: str) -> HttpResponse:
    """Let an organiser's owner erase a guest's number or email address from all of its messages.

    The one field (``phone``) takes a phone number in international format, or an email
    address (anything with an ``@``): that address is erased from the organiser's share
    emails instead (``services.erase_email``). Bad input answers 400 with the message.
    """
    organiser = access.access_organiser(request.user, organiser_slug, perm=Perm.ADMIN)
    context: dict[str, Any] = {"organiser": organiser}
    if request.method == "POST":
        value = str(request.POST.get("phone", "")).strip()
        try:
            if "@" in value:
                context["kind"] = "email"
                count = services.erase_email(organiser, value, request.user)  # type: ignore[arg-type]
            else:
                count = services.erase_number(organiser, value, request.user)  # type: ignore[arg-type]
        except (phones.InvalidPhone, emails.InvalidEmail) as exc:
            context["error"] = exc.message
        else:
            context["done"] = count
    status = 400 if "error" in context else 200
    return render(request, "messaging/erase_number.html", context, status=status)


EMAIL_PAGE_SIZE = 50


@dataclass(frozen=True)
class EmailRow:
    """One line of the console's email ledger: the address masked, never in full."""

    email: EmailMessage
    masked_to: str


@login_required
@require_http_methods(["GET", "POST"])
def event_email(request: HttpRequest, organiser_slug: str, event_slug: str) -> HttpResponse:
    """Show the event's share emails: its subject and text (managers) and ledger (members).

    GET needs Perm.VIEW: the ledger of emails sent, addresses masked (``j***@e***.com``),
    their status and why one failed; members who may manage the event also get the
    settings form. POST needs Perm.MANAGE (viewers get 403): a valid form saves and
    redirects, an invalid one answers 400 with its errors.
    """
    perm = Perm.MANAGE if request.method == "POST" else Perm.VIEW
    event = access.access_event(request.user, organiser_slug, event_slug, perm=perm)
    try:
        access.access_event(request.user, organiser_slug, event_slug, perm=Perm.MANAGE)
    except PermissionDenied:
        can_manage = False
    else:
        can_manage = True
    form = forms.EventEmailForm(request.POST if request.method == "POST" else None, event=event)
    status = 200
    if form.is_bound:
        if form.is_valid():
            services.update_event_email_settings(
                event,
                email_subject=form.cleaned_data["email_subject"],
                email_template=form.cleaned_data["email_template"],
            )
            messages.success(request, "Saved.")
            return redirect("messaging:event-email", event.organiser.slug, event.slug)
        status = 400
    page = Paginator(services.event_email_ledger(event), EMAIL_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [EmailRow(message, emails.mask_email(message.to)) for message in page]
    context = {
        "event": event,
        "organiser": event.organiser,
        "form": form if can_manage else None,
        "page": page,
        "rows": rows,
    }
    return render(request, "messaging/event_email.html", context, status=status)
