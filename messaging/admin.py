"""The SMS ledger for platform staff: read-only, numbers masked."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from messaging import phones
from messaging.models import DeliveryReceipt, SmsMessage

RECEIPT_FIELDS: tuple[str, ...] = ("received_at", "status", "err_code")
LEDGER_FIELDS: tuple[str, ...] = (
    "public_id",
    "masked_to",
    "status",
    "gateway",
    "organiser",
    "event",
    "session",
    "requested_by",
    "body",
    "provider_message_id",
    "client_ref",
    "error_code",
    "error_text",
    "price",
    "network",
    "attempts",
    "created_at",
    "submitted_at",
    "final_at",
)


class DeliveryReceiptInline(admin.TabularInline[DeliveryReceipt, SmsMessage]):
    model = DeliveryReceipt
    extra = 0
    fields = RECEIPT_FIELDS
    readonly_fields = RECEIPT_FIELDS
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin[SmsMessage]):
    list_display = [
        "created_at",
        "masked_to",
        "status",
        "gateway",
        "organiser",
        "event",
        "provider_message_id",
        "price",
        "error_code",
    ]
    list_filter = ["status", "gateway", "organiser", "event", "created_at"]
    list_select_related = ["organiser", "event"]
    search_fields = ["provider_message_id", "=client_ref"]
    date_hierarchy = "created_at"
    fields = LEDGER_FIELDS
    readonly_fields = LEDGER_FIELDS
    inlines = [DeliveryReceiptInline]

    @admin.display(description="To")
    def masked_to(self, sms: SmsMessage) -> str:
        return phones.mask_phone(sms.to)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[SmsMessage], search_term: str
    ) -> tuple[QuerySet[SmsMessage], bool]:
        """Also find a full number, matched exactly after normalising (never a LIKE)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term.startswith("+"):
            try:
                e164 = phones.normalise_phone(term, allowed_countries=phones.ALL_COUNTRIES)
            except phones.InvalidPhone:
                return results, may_have_duplicates
            results = results | queryset.filter(to=e164)
        return results, may_have_duplicates

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
