"""The organiser API's sessions, captures and strips (``/api/v1/sessions/`` and so on).

Built on ``events.organiser_api.OrganiserViewSet``: token or session, the organiser's
rows only (foreign, missing and malformed ids: the same 404), viewers read, managers
hide, show and delete captures (``captures.services.hide_capture``, ``unhide_capture``,
``delete_capture``).
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

import django_filters  # type: ignore[import-untyped]
from django.core.files.storage import default_storage
from django.db.models import Model, Prefetch, QuerySet
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from captures import services
from captures.models import BoothSession, Capture, CaptureVariant, Strip
from events.models import Organiser
from events.organiser_api import (
    LIST_ERRORS,
    OBJECT_ERRORS,
    OrganiserViewSet,
    StrictBooleanFilter,
    UtcDateTimeFilter,
    example,
    responses,
)
from events.roles import Perm


def _media_url(name: str, context: dict[str, Any]) -> str | None:
    """Return an absolute URL for a stored file (members may open hidden ones), or None."""
    if not name:
        return None
    url = default_storage.url(name)
    request = context.get("request")
    if request is not None and url.startswith("/"):
        return str(request.build_absolute_uri(url))
    return str(url)


@extend_schema_serializer(component_name="OrganiserVariant")
class VariantSerializer(serializers.ModelSerializer[CaptureVariant]):
    """A filtered copy of a capture: its filter name, size in pixels and file URL."""

    url = serializers.SerializerMethodField()

    class Meta:
        model = CaptureVariant
        fields = ("filter", "width", "height", "url")
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_url(self, variant: CaptureVariant) -> str | None:
        return _media_url(variant.image.name, self.context)


@extend_schema_serializer(component_name="OrganiserCapture")
class CaptureSerializer(serializers.ModelSerializer[Capture]):
    """A capture: ids, size in pixels, trigger, smile score (0 to 1), hidden, file URLs."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    session = serializers.UUIDField(source="session.public_id", read_only=True)
    event = serializers.UUIDField(source="event.public_id", read_only=True)
    url = serializers.SerializerMethodField()
    variants = VariantSerializer(many=True, read_only=True)

    class Meta:
        model = Capture
        fields = (
            "id",
            "session",
            "event",
            "taken_at",
            "trigger",
            "smile_score",
            "width",
            "height",
            "hidden",
            "render_status",
            "url",
            "variants",
        )
        read_only_fields = (
            "taken_at",
            "trigger",
            "smile_score",
            "width",
            "height",
            "render_status",
        )

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_url(self, capture: Capture) -> str | None:
        return _media_url(capture.image.name, self.context)


class CaptureChangeSerializer(serializers.Serializer[Any]):
    """PATCH body of a capture: ``{"hidden": true}`` hides it, ``false`` shows it again.

    Left out, nothing changes (``{}`` answers the capture as it is).
    """

    hidden = serializers.BooleanField()


@extend_schema_serializer(component_name="OrganiserStrip")
class StripSerializer(serializers.ModelSerializer[Strip]):
    """A strip: its layout, filter, render status, size in pixels and file URLs."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    session = serializers.UUIDField(source="session.public_id", read_only=True)
    event = serializers.UUIDField(source="event.public_id", read_only=True)
    url = serializers.SerializerMethodField()
    gif_url = serializers.SerializerMethodField()

    class Meta:
        model = Strip
        fields = (
            "id",
            "session",
            "event",
            "layout",
            "filter",
            "status",
            "width",
            "height",
            "url",
            "gif_url",
            "created_at",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_url(self, strip: Strip) -> str | None:
        return _media_url(strip.image.name, self.context)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_gif_url(self, strip: Strip) -> str | None:
        return _media_url(strip.gif.name, self.context)


@extend_schema_serializer(component_name="OrganiserSession")
class SessionSerializer(serializers.ModelSerializer[BoothSession]):
    """A booth session: its event, booth, status, times and guest share link."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    event = serializers.UUIDField(source="event.public_id", read_only=True)
    booth = serializers.UUIDField(source="booth.public_id", read_only=True)
    share_url = serializers.SerializerMethodField()

    class Meta:
        model = BoothSession
        fields: tuple[str, ...] = (
            "id",
            "event",
            "booth",
            "status",
            "started_at",
            "finished_at",
            "share_url",
        )
        read_only_fields: tuple[str, ...] = fields

    def get_share_url(self, session: BoothSession) -> str:
        """Return the guests' share page (a secret link)."""
        return session.share_url()


@extend_schema_serializer(component_name="OrganiserSessionDetail")
class SessionDetailSerializer(SessionSerializer):
    """A session with its captures and strips."""

    captures = CaptureSerializer(many=True, read_only=True)
    strips = StripSerializer(many=True, read_only=True)

    class Meta(SessionSerializer.Meta):
        fields = (*SessionSerializer.Meta.fields, "captures", "strips")
        read_only_fields = fields


class SessionFilter(django_filters.FilterSet):  # type: ignore[misc]
    """``?event=`` and ``?booth=`` (public ids), ``?status=open|finished``."""

    event = django_filters.UUIDFilter(field_name="event__public_id")
    booth = django_filters.UUIDFilter(field_name="booth__public_id")
    status = django_filters.ChoiceFilter(choices=BoothSession.Status.choices)
    started_after = UtcDateTimeFilter(field_name="started_at", lookup_expr="gte")

    class Meta:
        model = BoothSession
        fields = ("event", "booth", "status", "started_after")


class CaptureFilter(django_filters.FilterSet):  # type: ignore[misc]
    """``?event=``, ``?session=`` (public ids), ``?hidden=``, ``?taken_after=``/``before``."""

    event = django_filters.UUIDFilter(field_name="event__public_id")
    session = django_filters.UUIDFilter(field_name="session__public_id")
    hidden = StrictBooleanFilter()
    taken_after = UtcDateTimeFilter(field_name="taken_at", lookup_expr="gte")
    taken_before = UtcDateTimeFilter(field_name="taken_at", lookup_expr="lt")

    class Meta:
        model = Capture
        fields = ("event", "session", "hidden", "taken_after", "taken_before")


class StripFilter(django_filters.FilterSet):  # type: ignore[misc]
    """``?event=``, ``?session=`` (public ids), ``?status=``, ``?layout=``."""

    event = django_filters.UUIDFilter(field_name="event__public_id")
    session = django_filters.UUIDFilter(field_name="session__public_id")
    status = django_filters.ChoiceFilter(choices=Strip._meta.get_field("status").choices)
    layout = django_filters.CharFilter(max_length=32)

    class Meta:
        model = Strip
        fields = ("event", "session", "status", "layout")


_EVENT_ID = "3f1c2a9e-8d4b-4c1e-9a7f-2b6d5e4c3a21"
_SESSION_ID = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"
_CAPTURE = {
    "id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "session": _SESSION_ID,
    "event": _EVENT_ID,
    "taken_at": "2026-07-04T19:05:00Z",
    "trigger": "smile",
    "smile_score": 0.91,
    "width": 1280,
    "height": 720,
    "hidden": False,
    "render_status": "ready",
    "url": "https://boothsite.example/media/…/0a1b.jpg",
    "variants": [
        {"filter": "sepia", "width": 1280, "height": 720, "url": "https://boothsite.example/…"}
    ],
}
_STRIP = {
    "id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
    "session": _SESSION_ID,
    "event": _EVENT_ID,
    "layout": "horizontal_4",
    "filter": "",
    "status": "ready",
    "width": 2560,
    "height": 480,
    "url": "https://boothsite.example/media/…/1b2c.jpg",
    "gif_url": None,
    "created_at": "2026-07-04T19:06:00Z",
}
_SESSION = {
    "id": _SESSION_ID,
    "event": _EVENT_ID,
    "booth": "7a2e4c6b-1d3f-4b5a-8c9e-0f1a2b3c4d5e",
    "status": "finished",
    "started_at": "2026-07-04T19:04:30Z",
    "finished_at": "2026-07-04T19:06:00Z",
    "share_url": "https://boothsite.example/s/Xk2…/",
}


@extend_schema_view(
    list=extend_schema(
        summary="List sessions",
        description="Newest first. Filter by `event`, `booth`, `status`.",
        responses=responses(200, SessionSerializer(many=True), *LIST_ERRORS),
        examples=[example("a page of sessions", _SESSION)],
    ),
    retrieve=extend_schema(
        summary="Get a session with its captures and strips",
        responses=responses(200, SessionDetailSerializer, *OBJECT_ERRORS),
        examples=[example("a session", {**_SESSION, "captures": [_CAPTURE], "strips": [_STRIP]})],
    ),
)
class SessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganiserViewSet):
    """Booth sessions (read-only)."""

    filterset_class = SessionFilter
    ordering = "-started_at"
    ordering_fields = ("started_at",)

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        return SessionDetailSerializer if self.action == "retrieve" else SessionSerializer

    def queryset_model(self) -> type[Model]:
        return BoothSession

    def scoped_queryset(self, organiser: Organiser) -> QuerySet[BoothSession]:
        rows = BoothSession.objects.for_organiser(organiser).select_related("event", "booth")
        if self.action == "retrieve":
            captures = Capture.objects.select_related("event", "session").prefetch_related(
                "variants"
            )
            rows = rows.prefetch_related(  # type: ignore[type-var]
                Prefetch("captures", queryset=captures.order_by("taken_at")),
                Prefetch("strips", queryset=Strip.objects.select_related("event", "session")),
            )
        return rows


@extend_schema_view(
    list=extend_schema(
        summary="List captures",
        description="Newest first. Filter by `event`, `session`, `hidden`, `taken_after`.",
        responses=responses(200, CaptureSerializer(many=True), *LIST_ERRORS),
        examples=[example("a page of captures", _CAPTURE)],
    ),
    retrieve=extend_schema(
        summary="Get a capture",
        responses=responses(200, CaptureSerializer, *OBJECT_ERRORS),
        examples=[example("a capture", _CAPTURE)],
    ),
    partial_update=extend_schema(
        summary="Hide or show a capture",
        description=(
            "`hidden: true` hides it from guests (gallery, share page, slideshow, ZIPs) and "
            "renders its session's strips again without it; `false` shows it again."
        ),
        request=CaptureChangeSerializer,
        responses=responses(200, CaptureSerializer, 400, 404),
        examples=[
            example("hide", {"hidden": True}, request=True),
            example("hidden", {**_CAPTURE, "hidden": True}),
        ],
    ),
    destroy=extend_schema(
        summary="Delete a capture",
        description="Deletes it, its variants and files; its session's strips render again.",
        responses=responses(204, None, 404),
        examples=[example("error", {"detail": "Not found."}, code=404)],
    ),
)
class CaptureViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrganiserViewSet,
):
    """Captures: list, get, hide/show (PATCH ``hidden``), delete (managers)."""

    serializer_class = CaptureSerializer
    filterset_class = CaptureFilter
    http_method_names = ["get", "patch", "delete", "head", "options"]
    ordering = "-taken_at"
    ordering_fields = ("taken_at", "smile_score")
    action_perms: ClassVar[dict[str, Perm]] = {}

    def queryset_model(self) -> type[Model]:
        return Capture

    def scoped_queryset(self, organiser: Organiser) -> QuerySet[Capture]:
        return (
            Capture.objects.for_organiser(organiser)
            .select_related("event", "session")
            .prefetch_related("variants")
        )

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        if self.action == "partial_update" and self.request.method == "PATCH":
            return CaptureChangeSerializer
        return CaptureSerializer

    def update(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        capture = cast("Capture", self.get_object())
        # A PATCH: every field optional, as the schema says; ``{}`` changes nothing.
        change = CaptureChangeSerializer(data=request.data, partial=True)
        change.is_valid(raise_exception=True)
        hidden = change.validated_data.get("hidden")
        if hidden is True:
            services.hide_capture(capture)
        elif hidden is False:
            services.unhide_capture(capture)
        fresh = self.get_queryset().get(pk=capture.pk)
        return Response(CaptureSerializer(fresh, context=self.get_serializer_context()).data)

    def perform_destroy(self, instance: Capture) -> None:
        services.delete_capture(instance)


@extend_schema_view(
    list=extend_schema(
        summary="List strips",
        description="Newest first. Filter by `event`, `session`, `status`, `layout`.",
        responses=responses(200, StripSerializer(many=True), *LIST_ERRORS),
        examples=[example("a page of strips", _STRIP)],
    ),
    retrieve=extend_schema(
        summary="Get a strip",
        responses=responses(200, StripSerializer, *OBJECT_ERRORS),
        examples=[example("a strip", _STRIP)],
    ),
)
class StripViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganiserViewSet):
    """Strips (read-only)."""

    serializer_class = StripSerializer
    filterset_class = StripFilter
    ordering = "-created_at"
    ordering_fields = ("created_at",)

    def queryset_model(self) -> type[Model]:
        return Strip

    def scoped_queryset(self, organiser: Organiser) -> QuerySet[Strip]:
        return Strip.objects.for_organiser(organiser).select_related("event", "session")
