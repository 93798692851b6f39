"""The SMS and email ledgers for platform staff: read-only, masked, reveals audited."""

from __future__ import annotations

import csv
import functools
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from messaging import emails, gateway, phones, services
from messaging.models import (
    PLATFORM_ACCOUNT,
    AuditEntry,
    DeliveryReceipt,
    EmailMessage,
    SendingPause,
    SmsAccount,
    SmsMessage,
)

RECEIPT_FIELDS: tuple[str, ...] = ("received_at", "status", "err_code")
LEDGER_FIELDS: tuple[str, ...] = (
    "public_id", "masked_to", "status", "timeline", "gateway", "sent_through", "organiser",
    "event",
    "session", "requested_by", "body", "provider_message_id", "client_ref", "error_code",
    "error_explained", "price", "network", "attempts", "created_at", "submitted_at",
    "final_at",
)  # fmt: skip
CSV_COLUMNS = (
    "created_at", "public_id", "organiser", "event", "booth", "to (masked)", "status",
    "gateway", "account", "provider_message_id", "price", "network", "error_code", "attempts",
    "submitted_at", "final_at",
)  # fmt: skip

# Delivery-receipt error codes (https://api.support.vonage.com/hc/en-us/articles/204014733).
DLR_ERRORS = {
    "0": "Delivered.",
    "1": "Unknown error.",
    "2": "Absent subscriber (temporary): the phone was off or out of coverage.",
    "3": "Absent subscriber (permanent): the number is no longer in service.",
    "4": "Barred by the user.",
    "5": "Portability error.",
    "6": "Anti-spam rejection by the carrier.",
    "7": "Handset busy.",
    "8": "Network error.",
    "9": "Illegal number (opted out).",
    "10": "Illegal message.",
    "11": "Unroutable.",
    "12": "Destination unreachable.",
    "13": "Subscriber age restriction.",
    "14": "Number blocked by the carrier.",
    "15": "Prepaid subscriber out of credit.",
    "99": "General error.",
}


@functools.lru_cache(maxsize=1024)
def account_label(value: str) -> str:
    """Say which account ``SmsMessage.account`` names ("Own account ending 1234").

    Memoised: a label never changes (an own account's key ending is fixed for its row),
    so a ledger page costs one query per own account, not per message.
    """
    return services.sms_account_labels([value]).get(value, value)


def explain_error(sms: SmsMessage) -> str:
    """Say in words what the message's error code means, or "" when it has none."""
    code = sms.error_code
    if not code:
        return ""
    if sms.receipts.filter(err_code=code).exists() and code in DLR_ERRORS:
        return DLR_ERRORS[code]
    return gateway.STATUS_TEXT.get(code, sms.error_text or f"Error {code}.")


class AccountFilter(admin.SimpleListFilter):
    """The ledger's "sent through" filter: the platform's account or organisers' own."""

    title = "sent through"
    parameter_name = "through"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("platform", "Platform account"), ("own", "Organisers' own accounts")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "platform":
            return queryset.filter(account=PLATFORM_ACCOUNT)
        if self.value() == "own":
            return queryset.exclude(account__in=["", PLATFORM_ACCOUNT])
        return queryset


class DeliveryReceiptInline(admin.TabularInline[DeliveryReceipt, SmsMessage]):
    model = DeliveryReceipt
    extra = 0
    fields = RECEIPT_FIELDS
    readonly_fields = RECEIPT_FIELDS
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """A ledger view: staff may look, nobody may add, change or delete from the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at", "masked_to", "status", "gateway", "sent_through", "organiser", "event",
        "requested_by", "provider_message_id", "price", "network", "error_code",
    ]  # fmt: skip
    list_filter = ["status", "gateway", AccountFilter, "organiser", "event", "created_at"]
    list_select_related = ["organiser", "event", "requested_by"]
    search_fields = ["provider_message_id", "=client_ref"]
    date_hierarchy = "created_at"
    fields = LEDGER_FIELDS
    readonly_fields = LEDGER_FIELDS
    inlines = [DeliveryReceiptInline]
    change_form_template = "admin/messaging/smsmessage/change_form.html"
    change_list_template = "admin/messaging/smsmessage/change_list.html"

    @admin.display(description="To")
    def masked_to(self, sms: SmsMessage) -> str:
        return phones.mask_phone(sms.to)

    @admin.display(description="Sent through", ordering="account")
    def sent_through(self, sms: SmsMessage) -> str:
        return account_label(sms.account)

    @admin.display(description="What the error means")
    def error_explained(self, sms: SmsMessage) -> str:
        return explain_error(sms)

    @admin.display(description="Timeline")
    def timeline(self, sms: SmsMessage) -> str:
        steps: list[tuple[str, str]] = [("Queued", f"{sms.created_at:%Y-%m-%d %H:%M:%S}")]
        if sms.submitted_at:
            steps.append(("Submitted to the provider", f"{sms.submitted_at:%Y-%m-%d %H:%M:%S}"))
        for receipt in sms.receipts.all():
            words = (
                DLR_ERRORS.get(receipt.err_code, "") if receipt.err_code not in {"", "0"} else ""
            )
            steps.append(
                (
                    f"Receipt: {receipt.status} {words}".strip(),
                    f"{receipt.received_at:%Y-%m-%d %H:%M:%S}",
                )
            )
        if sms.final_at:
            steps.append(
                (f"Final: {sms.get_status_display()}", f"{sms.final_at:%Y-%m-%d %H:%M:%S}")
            )
        return format_html(
            "<ol class='sms-timeline'>{}</ol>",
            format_html_join("", "<li>{} <small>{}</small></li>", steps),
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[SmsMessage], search_term: str
    ) -> tuple[QuerySet[SmsMessage], bool]:
        """Also find a full number, through its keyed hash (never a LIKE on numbers)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term.startswith("+"):
            try:
                e164 = phones.normalise_phone(term, allowed_countries=phones.ALL_COUNTRIES)
            except phones.InvalidPhone:
                return results, may_have_duplicates
            results = results | queryset.filter(to_hash=phones.phone_hash(e164))
        return results, may_have_duplicates

    def get_urls(self) -> list[URLPattern]:
        own = [
            path("export.csv", self.admin_site.admin_view(self.export_csv), name="sms_export"),
            path(
                "<int:object_id>/reveal/",
                self.admin_site.admin_view(self.reveal),
                name="sms_reveal",
            ),
        ]
        return own + super().get_urls()

    def export_csv(self, request: HttpRequest) -> StreamingHttpResponse:
        """Stream the changelist's current filtered list as CSV (numbers masked)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        rows = changelist.get_queryset(request).select_related("organiser", "event", "requested_by")

        class Echo:
            def write(self, value: str) -> str:
                return value

        writer = csv.writer(Echo())

        def lines() -> Any:
            yield writer.writerow(CSV_COLUMNS)
            for sms in rows.iterator(chunk_size=500):
                yield writer.writerow([
                    sms.created_at.isoformat(), sms.public_id, sms.organiser.name, sms.event.name,
                    sms.requested_by.name if sms.requested_by else "", phones.mask_phone(sms.to),
                    sms.status, sms.gateway, account_label(sms.account),
                    sms.provider_message_id, sms.price or "",
                    sms.network, sms.error_code, sms.attempts,
                    sms.submitted_at.isoformat() if sms.submitted_at else "",
                    sms.final_at.isoformat() if sms.final_at else "",
                ])  # fmt: skip

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="sms-ledger.csv"'
        return response

    def reveal(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Show one full number to staff holding ``view_full_phone``; each reveal is audited."""
        if not request.user.has_perm("messaging.view_full_phone"):
            raise PermissionDenied
        sms = get_object_or_404(SmsMessage, pk=object_id)
        context = {**self.admin_site.each_context(request), "sms": sms, "opts": self.opts}
        if request.method == "POST":
            reason = request.POST.get("reason", "").strip()
            if not reason:
                messages.error(request, "Say why you need the full number.")
            else:
                context["number"] = services.reveal_phone(sms, request.user, reason=reason)  # type: ignore[arg-type]
        context["back"] = reverse("admin:messaging_smsmessage_change", args=[sms.pk])
        return TemplateResponse(request, "admin/messaging/smsmessage/reveal.html", context)


@admin.register(SendingPause)
class SendingPauseAdmin(admin.ModelAdmin[SendingPause]):
    list_display = ["created_at", "scope", "reason", "error_code", "lifted_at"]
    list_filter = ["lifted_at"]
    readonly_fields = ["event", "organiser", "reason", "error_code", "created_at", "lifted_at"]

    @admin.display(description="Paused")
    def scope(self, pause: SendingPause) -> str:
        if pause.event_id:
            return f"Event {pause.event}"
        if pause.organiser_id:
            return f"Own account of {pause.organiser}"
        return "Platform account"

    actions = ["lift"]

    @admin.action(description="Lift the selected pauses and send what they held back")
    def lift(self, request: HttpRequest, queryset: QuerySet[SendingPause]) -> None:
        queued = sum(
            services.lift_pause(pause) for pause in queryset.filter(lifted_at__isnull=True)
        )
        self.message_user(request, f"Sending resumed; {queued} queued message(s) sent again.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


SMS_ACCOUNT_FIELDS: tuple[str, ...] = (
    "public_id", "organiser", "key_ending", "sender", "verified_at", "created_by", "created_at",
    "retired_at",
)  # fmt: skip


@admin.register(SmsAccount)
class SmsAccountAdmin(ReadOnlyAdmin):
    """Organisers' own Vonage accounts: which is live and when checked, never a credential."""

    list_display = ["organiser", "key_ending", "sender", "verified_at", "created_at", "retired_at"]
    list_filter = ["retired_at"]
    list_select_related = ["organiser"]
    fields = SMS_ACCOUNT_FIELDS
    readonly_fields = SMS_ACCOUNT_FIELDS


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "actor", "organiser", "event", "reason"]
    list_filter = ["action", "organiser"]
    list_select_related = ["actor", "organiser", "event"]
    readonly_fields = [
        "created_at", "action", "actor", "organiser", "event", "sms", "email", "phone_hash",
        "reason", "detail",
    ]  # fmt: skip


EMAIL_LEDGER_FIELDS: tuple[str, ...] = (
    "public_id", "masked_to", "status", "subject", "organiser", "event", "session",
    "requested_by", "error_text", "attempts", "created_at", "sent_at", "erased_at",
)  # fmt: skip


@admin.register(EmailMessage)
class EmailMessageAdmin(ReadOnlyAdmin):
    """The share-email ledger: addresses masked (``j***@e***.com``), reveals audited."""

    list_display = [
        "created_at", "masked_to", "status", "organiser", "event", "requested_by", "attempts",
        "sent_at",
    ]  # fmt: skip
    list_filter = ["status", "organiser", "event", "created_at"]
    list_select_related = ["organiser", "event", "requested_by"]
    date_hierarchy = "created_at"
    fields = EMAIL_LEDGER_FIELDS
    readonly_fields = EMAIL_LEDGER_FIELDS
    change_form_template = "admin/messaging/emailmessage/change_form.html"

    @admin.display(description="To")
    def masked_to(self, message: EmailMessage) -> str:
        return emails.mask_email(message.to)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[EmailMessage], search_term: str
    ) -> tuple[QuerySet[EmailMessage], bool]:
        """Find a full address through its keyed hash only (never a LIKE on addresses)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            address = emails.normalise_email(term)
        except emails.InvalidEmail:
            return queryset.none(), False
        return queryset.filter(to_hash=emails.email_hash(address)), False

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<int:object_id>/reveal/",
                self.admin_site.admin_view(self.reveal),
                name="email_reveal",
            ),
        ]
        return own + super().get_urls()

    def reveal(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Show one full address to staff holding ``view_full_email``; each reveal is audited."""
        if not request.user.has_perm("messaging.view_full_email"):
            raise PermissionDenied
        message = get_object_or_404(EmailMessage, pk=object_id)
        context = {**self.admin_site.each_context(request), "message": message, "opts": self.opts}
        if request.method == "POST" and message.to:
            reason = request.POST.get("reason", "").strip()
            if not reason:
                messages.error(request, "Say why you need the full address.")
            else:
                context["address"] = services.reveal_email(message, request.user, reason=reason)  # type: ignore[arg-type]
        context["back"] = reverse("admin:messaging_emailmessage_change", args=[message.pk])
        return TemplateResponse(request, "admin/messaging/emailmessage/reveal.html", context)
