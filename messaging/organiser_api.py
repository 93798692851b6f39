"""The organiser API's SMS messages (``/api/v1/sms/``): read-only, numbers masked.

A number is shown as the console's ledger shows it (``messaging.phones.mask_phone``:
``+44 74** ***456``), never in full; the message text (it holds the guest's share link)
is not shown either. Viewers may read.
"""

from __future__ import annotations

import django_filters  # type: ignore[import-untyped]
from django.db.models import Model, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from events.models import Organiser
from events.organiser_api import (
    LIST_ERRORS,
    OBJECT_ERRORS,
    OrganiserViewSet,
    example,
    responses,
)
from messaging import phones
from messaging.models import SmsMessage


class SmsSerializer(serializers.ModelSerializer[SmsMessage]):
    """An SMS: masked number, status, provider error, price (EUR), times."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    event = serializers.UUIDField(source="event.public_id", read_only=True)
    session = serializers.UUIDField(source="session.public_id", read_only=True, allow_null=True)
    to = serializers.SerializerMethodField()

    class Meta:
        model = SmsMessage
        fields = (
            "id",
            "event",
            "session",
            "to",
            "status",
            "error_code",
            "error_text",
            "price",
            "network",
            "attempts",
            "created_at",
            "submitted_at",
            "final_at",
        )
        read_only_fields = fields

    def get_to(self, sms: SmsMessage) -> str:
        """Return the number, masked: ``+44 74** ***456`` ("(erased)" once retention ran)."""
        return phones.mask_phone(sms.to)


class SmsFilter(django_filters.FilterSet):  # type: ignore[misc]
    """``?event=``, ``?session=`` (public ids), ``?status=``."""

    event = django_filters.UUIDFilter(field_name="event__public_id")
    session = django_filters.UUIDFilter(field_name="session__public_id")
    status = django_filters.ChoiceFilter(choices=SmsMessage.Status.choices)

    class Meta:
        model = SmsMessage
        fields = ("event", "session", "status")


_SMS = {
    "id": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
    "event": "3f1c2a9e-8d4b-4c1e-9a7f-2b6d5e4c3a21",
    "session": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
    "to": "+44 74** ***456",
    "status": "delivered",
    "error_code": "",
    "error_text": "",
    "price": "0.03330",
    "network": "23410",
    "attempts": 1,
    "created_at": "2026-07-04T19:06:10Z",
    "submitted_at": "2026-07-04T19:06:11Z",
    "final_at": "2026-07-04T19:06:15Z",
}


@extend_schema_view(
    list=extend_schema(
        summary="List SMS messages",
        description="Newest first, numbers masked. Filter by `event`, `session`, `status`.",
        responses=responses(200, SmsSerializer(many=True), *LIST_ERRORS),
        examples=[example("a page of messages", _SMS)],
    ),
    retrieve=extend_schema(
        summary="Get an SMS message",
        responses=responses(200, SmsSerializer, *OBJECT_ERRORS),
        examples=[example("a message", _SMS)],
    ),
)
class SmsViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganiserViewSet):
    """SMS messages of the organiser's events (read-only, masked)."""

    serializer_class = SmsSerializer
    filterset_class = SmsFilter
    ordering = "-created_at"
    ordering_fields = ("created_at",)

    def queryset_model(self) -> type[Model]:
        return SmsMessage

    def scoped_queryset(self, organiser: Organiser) -> QuerySet[SmsMessage]:
        return SmsMessage.objects.for_organiser(organiser).select_related("event", "session")
