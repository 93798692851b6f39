"""The organiser REST API's base, and its events, booths and webhooks resources.

Everything under ``/api/v1/`` except the booth API (``/api/v1/booth/``) is the
organiser API. A request is authenticated by an API token (``Authorization: Bearer
bsk_…``, ``events.api_tokens``) or by the console's login session (with CSRF on unsafe
methods). Its organiser is the token's, or the session's current organiser
(``events.auth.current_organiser``); its role is the token's effective role
(``token_role``) or the member's. Each action needs one ``Perm`` (``ACTION_PERMS``):
viewers read, managers write, owners delete events and manage webhooks.

Objects are named by their public id (UUID). Querysets are always the organiser's own,
so another organiser's object, a missing one and a malformed id all answer the same
404 ``{"detail": "Not found."}``; a member whose role is too low gets 403. Lists are
paginated by cursor (newest first, 50 a page, ``?page_size=`` up to 200), filtered by
query parameters (django-filter; a bad value is a 400 with field errors) and ordered by
``?ordering=`` among a few fields per resource. Every write goes through the services
(``events.services``, ``events.webhooks``, ``captures.services``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, cast

import django_filters  # type: ignore[import-untyped]
from django import forms
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Field, Model, QuerySet
from django.http import Http404
from django.urls import reverse
from django_filters.fields import IsoDateTimeField  # type: ignore[import-untyped]
from django_filters.rest_framework import DjangoFilterBackend  # type: ignore[import-untyped]
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.fields import get_error_detail
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.throttling import SimpleRateThrottle

from events import access, services, webhooks
from events.api_tokens import ApiTokenAuthentication, token_role
from events.auth import current_organiser
from events.drf import CACHE_ERRORS, THROTTLE_CACHE, ErrorSerializer
from events.models import (
    ApiToken,
    Booth,
    Event,
    Membership,
    Organiser,
    WebhookDelivery,
    WebhookEndpoint,
)
from events.roles import ROLE_PERMS, Perm, Role

NO_ORGANISER_MESSAGE = (
    "Your account belongs to no organiser, or to several and none is chosen: choose one "
    "in the console, or use an API token."
)
#: The organiser API's rate when ``DEFAULT_THROTTLE_RATES`` has no ``api`` entry.
DEFAULT_API_RATE = "600/min"
REVOKED_BOOTH_MESSAGE = "This booth is revoked: add a new booth instead."

# ---- Authentication, organiser, role, permission, throttle, pagination ----------------


def request_organiser(request: Request) -> tuple[Organiser, Role]:
    """Return the organiser and role a request acts as; cached on the request.

    Token: the token's organiser and effective role. Session: the current organiser
    (``events.auth.current_organiser``) and the member's role. Raises NotAuthenticated
    (401) without credentials and PermissionDenied (403, ``NO_ORGANISER_MESSAGE``) for
    a signed-in user with no current organiser (or a token whose role is gone).
    """
    cached = getattr(request, "_boothsite_organiser", None)
    if cached is not None:
        return cast("tuple[Organiser, Role]", cached)
    if isinstance(request.auth, ApiToken):
        organiser = request.auth.organiser
        role = token_role(request.auth)
    elif request.user.is_authenticated:
        found = current_organiser(request._request)
        if found is None:
            raise exceptions.PermissionDenied(NO_ORGANISER_MESSAGE)
        organiser = found
        membership = Membership.objects.filter(organiser=found, user_id=request.user.pk).first()
        role = Role(membership.role) if membership is not None else None
    else:
        raise exceptions.NotAuthenticated
    if role is None:
        raise exceptions.PermissionDenied(NO_ORGANISER_MESSAGE)
    result = (organiser, Role(role))
    request._boothsite_organiser = result  # type: ignore[attr-defined]
    return result


#: The permission each standard action needs; views add their own in ``action_perms``.
ACTION_PERMS: dict[str, Perm] = {
    "list": Perm.VIEW,
    "retrieve": Perm.VIEW,
    "create": Perm.MANAGE,
    "update": Perm.MANAGE,
    "partial_update": Perm.MANAGE,
    "destroy": Perm.MANAGE,
    "metadata": Perm.VIEW,  # OPTIONS
}


class HasOrganiserPerm(permissions.BasePermission):
    """Allow a request whose role holds the permission its view's action needs.

    The action's permission is ``view.action_perms[action]``, else ``ACTION_PERMS``;
    an action in neither is refused (403), so a new action cannot slip through.
    """

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        _organiser, role = request_organiser(request)
        name = getattr(view, "action", None) or ""
        perm = getattr(view, "action_perms", {}).get(name) or ACTION_PERMS.get(name)
        if perm is None:
            return False
        return perm in ROLE_PERMS[role]


class OrganiserRateThrottle(SimpleRateThrottle):
    """Rate-limit the organiser API per token (or per user for a session), scope ``api``.

    The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api"]``
    (``BOOTHSITE_API_RATE``, 600/min). Fails open while the cache is down, as the booth
    throttle does (``events.drf.THROTTLE_CACHE`` logs the outage once).
    """

    scope = "api"

    def get_rate(self) -> str | None:
        """Return the ``api`` rate from the settings now (600/min when the settings name none)."""
        rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
        return cast("str | None", rates.get(self.scope, DEFAULT_API_RATE))

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            allowed = super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            THROTTLE_CACHE.failed(self.scope, exc)
            return True
        THROTTLE_CACHE.answered()
        return allowed


class NewestFirstPagination(CursorPagination):
    """Cursor pages: 50 rows, ``?page_size=`` up to 200, newest first (``view.ordering``).

    A ``?cursor=`` that is not one this API issued answers 400 ``{"detail": "Invalid
    cursor."}``: one that does not decode (DRF's answer is a 404, as if the list were
    missing), and one whose position is not a value of the ordering field (DRF's is a
    500 when the query runs).
    """

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = "-created_at"
    invalid_cursor_message = "Invalid cursor."
    _model: type[Model] | None = None

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        """Return the page's rows (a list); ParseError (400) for an invalid cursor."""
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Cursor | None:
        """Return the request's cursor (None: the first page); ParseError (400) if invalid."""
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ParseError(self.invalid_cursor_message) from None
        if cursor is not None and cursor.position is not None:
            cursor = cursor._replace(position=self._check_position(cursor.position))
        return cursor

    def _check_position(self, position: Any) -> Any:
        """Return ``position`` (a date-time in UTC); ParseError unless a value of the field.

        The field is the first ordering field's.
        """
        # PostgreSQL refuses a NUL in text: it is no value of any field.
        if isinstance(position, str) and "\x00" in position:
            raise exceptions.ParseError(self.invalid_cursor_message)
        if self._model is None:
            return position
        try:
            field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
        except FieldDoesNotExist:
            return position
        if not isinstance(field, Field):  # a relation's reverse side: no value to check
            return position
        try:
            value = field.get_prep_value(field.to_python(position))
            if isinstance(value, dt.datetime) and value.tzinfo is not None:
                value.astimezone(dt.UTC)  # PostgreSQL refuses offsets beyond ±15:59
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise exceptions.ParseError(self.invalid_cursor_message) from None
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return str(value.astimezone(dt.UTC))
        return position


class StrictOrderingFilter(OrderingFilter):
    """``?ordering=`` among ``view.ordering_fields``; an unknown field is a 400, not ignored."""

    def remove_invalid_fields(
        self, queryset: QuerySet[Any], fields: Iterable[str], view: Any, request: Request
    ) -> list[str]:
        fields = [f for f in fields if f]
        valid = list(super().remove_invalid_fields(queryset, fields, view, request))
        if len(valid) != len(fields):
            allowed = ", ".join(f"{name}, -{name}" for name in getattr(view, "ordering_fields", ()))
            raise exceptions.ValidationError({"ordering": [f"Order by one of: {allowed}."]})
        if len(valid) > 1:
            raise exceptions.ValidationError({"ordering": ["Order by one field only."]})
        return valid


def django_errors(exc: DjangoValidationError) -> exceptions.ValidationError:
    """Turn a model or service ValidationError into DRF's (400, field errors)."""
    if hasattr(exc, "error_dict"):
        detail: Any = {
            ("non_field_errors" if k == "__all__" else k): v for k, v in exc.message_dict.items()
        }
    else:
        detail = {"non_field_errors": exc.messages}
    return exceptions.ValidationError(get_error_detail(DjangoValidationError(detail)))


class OrganiserViewSet(viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Base of every organiser API resource: auth, role check, throttle, pages, filters.

    Subclasses give ``scoped_queryset(organiser)`` (the organiser's rows only),
    ``ordering`` (the default, newest first) and ``ordering_fields`` (the whitelist).
    ``get_object`` finds the row by public id in that queryset: 404 otherwise.
    """

    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [HasOrganiserPerm]
    throttle_classes = [OrganiserRateThrottle]
    pagination_class = NewestFirstPagination
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[^/]+"
    lookup_value_converter = "str"
    ordering: ClassVar[str] = "-created_at"
    ordering_fields: ClassVar[Sequence[str]] = ("created_at",)
    action_perms: ClassVar[dict[str, Perm]] = {}

    @property
    def organiser(self) -> Organiser:
        """The organiser this request acts for (permission checks have run)."""
        return request_organiser(self.request)[0]

    def scoped_queryset(self, organiser: Organiser) -> QuerySet[Any]:
        """Return ``organiser``'s rows of this resource."""
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request
            return self.queryset_model()._default_manager.none()
        return self.scoped_queryset(self.organiser)

    def queryset_model(self) -> type[Model]:
        """Return the model of this resource (for schema generation)."""
        raise NotImplementedError

    def get_object(self) -> Any:
        public_id = access.public_id_or_404(self.kwargs.get(self.lookup_url_kwarg))
        obj = self.get_queryset().filter(public_id=public_id).first()
        if obj is None:
            raise Http404
        self.check_object_permissions(self.request, obj)
        return obj


# ---- Shared OpenAPI pieces -------------------------------------------------------------


_ERROR_TEXT = {
    400: (
        'Invalid input: field errors, e.g. {"name": ["This field is required."]}, or '
        '{"detail": "…"} (a malformed body or an invalid cursor).',
        None,
    ),
    401: ("No or an invalid API token, and no session.", "Invalid API token."),
    403: ("The role does not allow this (or no organiser is chosen).", HasOrganiserPerm.message),
    404: ("No such object for this organiser (malformed and foreign ids too).", "Not found."),
    409: ("The object's state does not allow this.", REVOKED_BOOTH_MESSAGE),
    429: ("Too many requests: retry after Retry-After seconds.", "Request was throttled."),
}


#: Integer bounds that come from the database backend (SQLite's 64-bit, PostgreSQL's
#: 16- and 32-bit columns), not from the API: dropped so the schema is the same on both.
_BACKEND_BOUNDS = frozenset(
    {32767, 2147483647, 9223372036854775807, -32768, -2147483648, -9223372036854775808}
)


def portable_integer_bounds(result: Any, generator: Any, request: Any, public: bool) -> Any:
    """drf-spectacular postprocessing hook: drop database-dependent integer bounds.

    Model integer fields get ``maximum``/``minimum`` from the connection's column range,
    so the generated schema would differ between SQLite and PostgreSQL. Bounds equal to
    a backend's column limit are removed (with the ``int64`` format they imply); bounds
    set by the API (validators) stay. Returns the schema (a dict), changed in place.
    """

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "integer":
                for key in ("maximum", "minimum"):
                    if node.get(key) in _BACKEND_BOUNDS:
                        del node[key]
                if node.get("format") == "int64":
                    del node["format"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """OpenAPI error responses for ``codes``, plus 401, 403 and 429 that every call has.

    Returns ``{status: OpenApiResponse}`` for ``extend_schema(responses=...)``.
    """
    wanted = sorted({401, 403, 429, *codes})
    result: dict[int, OpenApiResponse] = {}
    for code in wanted:
        description, example = _ERROR_TEXT[code]
        examples = (
            [OpenApiExample(f"error {code}", value={"detail": example}, status_codes=[code])]
            if example
            else [
                OpenApiExample(
                    "error 400",
                    value={"name": ["This field is required."]},
                    status_codes=[400],
                )
            ]
        )
        # 400 is field errors (``{"name": […]}``) or ``{"detail": "…"}``: a free-form object.
        body: Any = OpenApiTypes.OBJECT if code == 400 else ErrorSerializer
        result[code] = OpenApiResponse(body, description=description, examples=examples)
    return result


def responses(
    ok: int, body: Any, *codes: int, description: str = ""
) -> dict[int, OpenApiResponse | Any]:
    """``{ok: body, **errors(*codes)}`` for ``extend_schema``."""
    result: dict[int, Any] = {ok: OpenApiResponse(body, description=description) if body else None}
    result.update(errors(*codes))
    return result


def example(name: str, value: Any, *, request: bool = False, code: int = 200) -> OpenApiExample:
    """Return a request (``request=True``) or response example for ``extend_schema``.

    A list operation's example is one item: drf-spectacular wraps it in the cursor
    page (``{"next", "previous", "results": [item]}``) itself.
    """
    if request:
        return OpenApiExample(name, value=value, request_only=True)
    return OpenApiExample(name, value=value, response_only=True, status_codes=[str(code)])


LIST_ERRORS = (400,)
OBJECT_ERRORS = (404,)

_EVENT_ID = "3f1c2a9e-8d4b-4c1e-9a7f-2b6d5e4c3a21"
_BOOTH_ID = "7a2e4c6b-1d3f-4b5a-8c9e-0f1a2b3c4d5e"
_EVENT_EXAMPLE = {
    "id": _EVENT_ID,
    "name": "Summer Party",
    "slug": "summer-party",
    "starts_at": "2026-07-04T18:00:00Z",
    "ends_at": "2026-07-05T01:00:00Z",
    "timezone": "Europe/London",
    "archived_at": None,
    "gallery_url": "https://boothsite.example/g/Jt7…/",
    "created_at": "2026-06-01T09:30:00Z",
}
_BOOTH_EXAMPLE = {
    "id": _BOOTH_ID,
    "name": "Front door",
    "current_event": _EVENT_ID,
    "paired": True,
    "revoked_at": None,
    "last_seen_at": "2026-07-04T19:12:03Z",
    "created_at": "2026-06-01T09:35:00Z",
}


#: The cursor pager's query parameters, for a paginated ``detail=True`` action (a list
#: action gets them from drf-spectacular itself).
PAGE_PARAMETERS = [
    OpenApiParameter(
        "cursor", OpenApiTypes.STR, OpenApiParameter.QUERY,
        description="The pagination cursor value (from `next` or `previous`).",
    ),
    OpenApiParameter(
        "page_size", OpenApiTypes.INT, OpenApiParameter.QUERY,
        description="Number of results to return per page (up to 200).",
    ),
]  # fmt: skip


# ---- Events --------------------------------------------------------------------------


class EventSerializer(serializers.ModelSerializer[Event]):
    """An event. ``slug`` is made from the name when left out; times are ISO 8601."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    slug = serializers.SlugField(max_length=60, required=False, allow_blank=True)
    timezone = serializers.CharField(max_length=64, required=False, default="UTC")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    gallery_url = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = (
            "id",
            "name",
            "slug",
            "starts_at",
            "ends_at",
            "timezone",
            "archived_at",
            "gallery_url",
            "created_at",
        )
        read_only_fields = ("archived_at", "created_at")

    def get_gallery_url(self, event: Event) -> str:
        """Return the event gallery's private link (a secret: share it with guests only)."""
        return event.gallery_url()


class StrictBooleanFilter(django_filters.TypedChoiceFilter):  # type: ignore[misc]
    """A ``true``/``false`` (or ``1``/``0``) filter; any other value is a 400."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("choices", [(v, v) for v in ("true", "false", "1", "0")])
        kwargs.setdefault("coerce", lambda value: value in ("true", "1"))
        super().__init__(**kwargs)


class UtcIsoDateTimeField(IsoDateTimeField):  # type: ignore[misc]
    """An ISO 8601 date-time, moved to UTC (an aware ``datetime``; None when empty).

    ISO 8601 allows UTC offsets PostgreSQL refuses (beyond ±15:59, e.g. ``+18:31``): in
    UTC every offset is fine. A time with no UTC equivalent (before year 1 or after
    9999) raises ValidationError: a 400 field error.
    """

    default_error_messages = {"utc_range": "Enter a date-time between the years 1 and 9999 UTC."}

    def to_python(self, value: Any) -> dt.datetime | None:
        result: dt.datetime | None = super().to_python(value)
        if result is None:
            return None
        try:
            return result.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError(
                self.error_messages["utc_range"], code="utc_range"
            ) from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):  # type: ignore[misc]
    """``IsoDateTimeFilter`` whose value is in UTC (``UtcIsoDateTimeField``)."""

    field_class = UtcIsoDateTimeField


class EventFilter(django_filters.FilterSet):  # type: ignore[misc]
    """``?archived=true|false``; ``?starts_after=`` / ``?starts_before=`` (ISO 8601)."""

    archived = StrictBooleanFilter(field_name="archived_at", lookup_expr="isnull", exclude=True)
    starts_after = UtcDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = UtcDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = Event
        fields = ("archived", "starts_after", "starts_before")


_EVENT_CREATE = {
    "name": "Summer Party",
    "starts_at": "2026-07-04T18:00:00Z",
    "ends_at": "2026-07-05T01:00:00Z",
    "timezone": "Europe/London",
}


@extend_schema_view(
    list=extend_schema(
        summary="List events",
        description="The organiser's events, newest first. Filter by `archived`.",
        responses=responses(200, EventSerializer(many=True), *LIST_ERRORS),
        examples=[example("a page of events", _EVENT_EXAMPLE)],
    ),
    create=extend_schema(
        summary="Create an event",
        description="Managers and owners. The slug is made from the name when left out.",
        responses=responses(201, EventSerializer, 400),
        examples=[
            example("new event", _EVENT_CREATE, request=True),
            example("created", _EVENT_EXAMPLE, code=201),
        ],
    ),
    retrieve=extend_schema(
        summary="Get an event",
        responses=responses(200, EventSerializer, *OBJECT_ERRORS),
        examples=[example("an event", _EVENT_EXAMPLE)],
    ),
    partial_update=extend_schema(
        summary="Change an event",
        description="Name, slug, dates and time zone; fields left out keep their values.",
        responses=responses(200, EventSerializer, 400, 404),
        examples=[
            example("rename", {"name": "Summer Party 2026"}, request=True),
            example("changed", {**_EVENT_EXAMPLE, "name": "Summer Party 2026"}),
        ],
    ),
    destroy=extend_schema(
        summary="Delete an event",
        description="Owners only. Deletes its sessions, photos, strips and SMS records.",
        responses=responses(204, None, 400, 404),
        examples=[example("error", {"detail": "Not found."}, code=404)],
    ),
)
class EventViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrganiserViewSet,
):
    """Events: list, create, get, change (PATCH), delete (owners), archive, unarchive."""

    serializer_class = EventSerializer
    filterset_class = EventFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    ordering = "-created_at"
    ordering_fields = ("created_at", "starts_at", "name")
    action_perms: ClassVar[dict[str, Perm]] = {
        "destroy": Perm.ADMIN,
        "archive": Perm.MANAGE,
        "unarchive": Perm.MANAGE,
    }

    def queryset_model(self) -> type[Model]:
        return Event

    def scoped_queryset(self, organiser: Organiser) -> QuerySet[Event]:
        return Event.objects.for_organiser(organiser)

    def perform_create(self, serializer: BaseSerializer[Event]) -> None:
        data = serializer.validated_data
        try:
            serializer.instance = services.create_console_event(
                self.organiser,
                name=data["name"],
                slug=data.get("slug") or "",
                starts_at=data["starts_at"],
                ends_at=data.get("ends_at"),
                tz=data.get("timezone") or "UTC",
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from None

    def perform_update(self, serializer: BaseSerializer[Event]) -> None:
        event = cast("Event", serializer.instance)
        data = serializer.validated_data
        try:
            services.update_event(
                event,
                name=data.get("name", event.name),
                slug=data.get("slug", event.slug),
                starts_at=data.get("starts_at", event.starts_at),
                ends_at=data.get("ends_at", event.ends_at),
                tz=data.get("timezone", event.timezone),
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from None

    def perform_destroy(self, instance: Event) -> None:
        try:
            services.delete_event(instance)
        except DjangoValidationError as exc:
            raise django_errors(exc) from None

    @extend_schema(
        summary="Archive an event",
        description="Its booths open no new session, its gallery closes; photos are kept.",
        request=None,
        responses=responses(200, EventSerializer, 404),
        examples=[example("archived", {**_EVENT_EXAMPLE, "archived_at": "2026-07-06T10:00:00Z"})],
    )
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, id: str) -> Response:
        """POST: archive the event (again harmlessly)."""
        event = services.archive_event(self.get_object())
        return Response(self.get_serializer(event).data)

    @extend_schema(
        summary="Unarchive an event",
        request=None,
        responses=responses(200, EventSerializer, 404),
        examples=[example("back", _EVENT_EXAMPLE)],
    )
    @action(detail=True, methods=["post"])
    def unarchive(self, request: Request, id: str) -> Response:
        """POST: bring an archived event back."""
        event = services.unarchive_event(self.get_object())
        return Response(self.get_serializer(event).data)


# ---- Booths --------------------------------------------------------------------------


class EventField(serializers.SlugRelatedField[Event]):
    """An event named by its public id, among the request's organiser's events only."""

    default_error_messages = {
        "does_not_exist": "No such event.",
        "invalid": "Give an event id (a UUID).",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="public_id", **kwargs)

    def get_queryset(self) -> QuerySet[Event]:
        request = self.context.get("request")
        if request is None:
            return Event.objects.none()
        return Event.objects.for_organiser(request_organiser(request)[0])

    def to_internal_value(self, data: Any) -> Any:
        try:
            access.public_id_or_404(data)
        except Http404:
            self.fail("does_not_exist")
        return super().to_internal_value(data)


@extend_schema_serializer(component_name="OrganiserBooth")
class BoothSerializer(serializers.ModelSerializer[Booth]):
    """A booth: name, the event it serves (``current_event``, an event id or null)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    current_event = EventField(required=False, allow_null=True)
    paired = serializers.SerializerMethodField()

    class Meta:
        model = Booth
        fields = (
            "id",
            "name",
            "current_event",
            "paired",
            "revoked_at",
            "last_seen_at",
            "created_at",
        )
        read_only_fields = ("revoked_at", "last_seen_at", "created_at")

    def get_paired(self, booth: Booth) -> bool:
        """Whether a kiosk holds a booth token (after pairing or a rotation)."""
        return bool(booth.token_hash)


class BoothFilter(django_filters.FilterSet):  # type: ignore[misc]
    """``?event=<event id>``; ``?revoked=true|false``."""

    event = django_filters.UUIDFilter(field_name="current_event__public_id")
    revoked = StrictBooleanFilter(field_name="revoked_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Booth
        fields = ("event", "revoked")


class PairingSerializer(serializers.Serializer[Any]):
    """A one-time pairing code, the kiosk link holding it, and when it stops working."""

    code = serializers.CharField()
    link = serializers.URLField()
    expires_at = serializers.DateTimeField()


class BoothTokenSerializer(serializers.Serializer[Any]):
    """A new booth API token (``bth_…``), shown this once."""

    token = serializers.CharField()
    booth = BoothSerializer()


@extend_schema_view(
    list=extend_schema(
        summary="List booths",
        responses=responses(200, BoothSerializer(many=True), *LIST_ERRORS),
        examples=[example("a page of booths", _BOOTH_EXAMPLE)],
    ),
    create=extend_schema(
        summary="Add a booth",
        description="Managers and owners. The booth has no token until a kiosk pairs.",
        responses=responses(201, BoothSerializer, 400),
        examples=[
            example("new booth", {"name": "Front door", "current_event": _EVENT_ID}, request=True),
            example("added", {**_BOOTH_EXAMPLE, "paired": False, "last_seen_at": None}, code=201),
        ],
    ),
    retrieve=extend_schema(
        summary="Get a booth",
        responses=responses(200, BoothSerializer, *OBJECT_ERRORS),
        examples=[example("a booth", _BOOTH_EXAMPLE)],
    ),
    partial_update=extend_schema(
        summary="Rename a booth or assign its event",
        description="`current_event` null: the booth serves no event.",
        responses=responses(200, BoothSerializer, 400, 404, 409),
        examples=[
            example("assign", {"current_event": _EVENT_ID}, request=True),
            example("assigned", _BOOTH_EXAMPLE),
        ],
    ),
)
class BoothViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    OrganiserViewSet,
):
    """Booths: list, add, get, rename/assign (PATCH), pair, rotate, revoke."""

    serializer_class = BoothSerializer
    filterset_class = BoothFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering = "-created_at"
    ordering_fields = ("created_at", "name", "last_seen_at")
    action_perms: ClassVar[dict[str, Perm]] = {
        "pair": Perm.MANAGE,
        "rotate": Perm.MANAGE,
        "revoke": Perm.MANAGE,
    }

    def queryset_model(self) -> type[Model]:
        return Booth

    def scoped_queryset(self, organiser: Organiser) -> QuerySet[Booth]:
        return Booth.objects.for_organiser(organiser).select_related("current_event")

    def perform_create(self, serializer: BaseSerializer[Booth]) -> None:
        data = serializer.validated_data
        try:
            serializer.instance = services.add_booth(
                self.organiser, name=data["name"], event=data.get("current_event")
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from None

    def perform_update(self, serializer: BaseSerializer[Booth]) -> None:
        booth = cast("Booth", serializer.instance)
        data = serializer.validated_data
        if booth.is_revoked:
            raise Conflict(REVOKED_BOOTH_MESSAGE)
        if "name" in data and data["name"] != booth.name:
            try:
                services.rename_booth(booth, data["name"])
            except DjangoValidationError as exc:
                raise django_errors(exc) from None
        if "current_event" in data:
            services.assign_event(booth, data["current_event"])

    def _usable(self) -> Booth:
        booth = cast("Booth", self.get_object())
        if booth.is_revoked:
            raise Conflict(REVOKED_BOOTH_MESSAGE)
        return booth

    @extend_schema(
        summary="Pair a booth: a one-time pairing link",
        description=(
            "Returns a pairing code and the kiosk link holding it (shown once; the earlier "
            "code stops working). A kiosk that opens the link gets the booth's token."
        ),
        request=None,
        responses=responses(201, PairingSerializer, 404, 409),
        examples=[
            example(
                "pairing link",
                {
                    "code": "pair_Qm9vdGhz…",
                    "link": "https://boothsite.example/booth/#pair=pair_Qm9vdGhz…",
                    "expires_at": "2026-07-04T18:15:00Z",
                },
                code=201,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def pair(self, request: Request, id: str) -> Response:
        """POST: issue a one-time pairing code and its kiosk link."""
        booth = self._usable()
        issued = services.issue_pairing_code(booth)
        link = f"{settings.SITE_URL}{reverse('captures:booth')}#pair={issued.secret}"
        body = {"code": issued.secret, "link": link, "expires_at": booth.pairing_expires_at}
        return _no_store(Response(PairingSerializer(body).data, status=status.HTTP_201_CREATED))

    @extend_schema(
        summary="Rotate a booth's token",
        description="A new `bth_` token, shown once; the old one stops working at once.",
        request=None,
        responses=responses(201, BoothTokenSerializer, 404, 409),
        examples=[example("new token", {"token": "bth_8f3k…", "booth": _BOOTH_EXAMPLE}, code=201)],
    )
    @action(detail=True, methods=["post"])
    def rotate(self, request: Request, id: str) -> Response:
        """POST: replace the booth's API token and return the new one."""
        issued = services.rotate_booth_token(self._usable())
        data = {"token": issued.secret, "booth": self.get_serializer(issued.booth).data}
        return _no_store(Response(data, status=status.HTTP_201_CREATED))

    @extend_schema(
        summary="Revoke a booth",
        description="Its token, pairing code and socket stop working, for good.",
        request=None,
        responses=responses(200, BoothSerializer, 404),
        examples=[example("revoked", {**_BOOTH_EXAMPLE, "revoked_at": "2026-07-05T02:00:00Z"})],
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, id: str) -> Response:
        """POST: revoke the booth (again harmlessly)."""
        booth = cast("Booth", self.get_object())
        if not booth.is_revoked:
            services.revoke_booth(booth)
        return Response(self.get_serializer(booth).data)


class Conflict(exceptions.APIException):
    """409: the object's state does not allow the action."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"


def _no_store(response: Response) -> Response:
    response["Cache-Control"] = "no-store"
    return response


# ---- Webhooks ------------------------------------------------------------------------


class WebhookSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    """A webhook endpoint: its URL, the event types it receives, whether it is enabled."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    url = serializers.CharField(max_length=2000)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=list(webhooks.EVENT_TYPES)), allow_empty=False
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    enabled = serializers.BooleanField(required=False)

    class Meta:
        model = WebhookEndpoint
        fields: tuple[str, ...] = (
            "id",
            "url",
            "event_types",
            "description",
            "enabled",
            "disabled_at",
            "disabled_reason",
            "consecutive_failures",
            "created_at",
        )
        read_only_fields = ("disabled_at", "disabled_reason", "consecutive_failures", "created_at")

    def to_representation(self, instance: WebhookEndpoint) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["enabled"] = instance.disabled_at is None
        return data


class NewWebhookSerializer(WebhookSerializer):
    """A new webhook endpoint with its signing secret (``whsec_…``), shown this once."""

    secret = serializers.CharField(read_only=True)

    class Meta(WebhookSerializer.Meta):
        fields = (*WebhookSerializer.Meta.fields, "secret")


class DeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    """One webhook delivery: its message id, type, status, response code and time (ms)."""

    class Meta:
        model = WebhookDelivery
        fields = (
            "message_id",
            "event_type",
            "status",
            "attempts",
            "response_status",
            "response_ms",
            "error",
            "created_at",
            "last_attempt_at",
            "next_attempt_at",
            "delivered_at",
        )
        read_only_fields = fields


_WEBHOOK_ID = "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
_WEBHOOK_EXAMPLE = {
    "id": _WEBHOOK_ID,
    "url": "https://crm.example.com/hooks/boothsite",
    "event_types": ["capture.ready", "strip.ready"],
    "description": "CRM",
    "enabled": True,
    "disabled_at": None,
    "disabled_reason": "",
    "consecutive_failures": 0,
    "created_at": "2026-06-01T10:00:00Z",
}
_DELIVERY_EXAMPLE = {
    "message_id": "msg_2b3c4d5e6f",
    "event_type": "capture.ready",
    "status": "succeeded",
    "attempts": 1,
    "response_status": 200,
    "response_ms": 84,
    "error": "",
    "created_at": "2026-07-04T19:00:00Z",
    "last_attempt_at": "2026-07-04T19:00:01Z",
    "next_attempt_at": None,
    "delivered_at": "2026-07-04T19:00:01Z",
}


@extend_schema_view(
    list=extend_schema(
        summary="List webhook endpoints",
        description="Owners only.",
        responses=responses(200, WebhookSerializer(many=True), *LIST_ERRORS),
        examples=[example("a page of endpoints", _WEBHOOK_EXAMPLE)],
    ),
    create=extend_schema(
        summary="Register a webhook endpoint",
        description=(
            "Owners only. The answer holds the signing secret, shown this once. Private "
            "and loopback addresses are refused (400)."
        ),
        request=WebhookSerializer,
        responses=responses(201, NewWebhookSerializer, 400),
        examples=[
            example(
                "new endpoint",
                {
                    "url": "https://crm.example.com/hooks/boothsite",
                    "event_types": ["capture.ready", "strip.ready"],
                    "description": "CRM",
                },
                request=True,
            ),
            example("registered", {**_WEBHOOK_EXAMPLE, "secret": "whsec_MfKQ9r8G…"}, code=201),
        ],
    ),
    retrieve=extend_schema(
        summary="Get a webhook endpoint",
        responses=responses(200, WebhookSerializer, *OBJECT_ERRORS),
        examples=[example("an endpoint", _WEBHOOK_EXAMPLE)],
    ),
    partial_update=extend_schema(
        summary="Change a webhook endpoint",
        description="URL, event types, description; `enabled: true` enables it again.",
        responses=responses(200, WebhookSerializer, 400, 404),
        examples=[
            example("disable", {"enabled": False}, request=True),
            example("changed", {**_WEBHOOK_EXAMPLE, "enabled": False}),
        ],
    ),
    destroy=extend_schema(
        summary="Delete a webhook endpoint",
        responses=responses(204, None, 404),
        examples=[example("error", {"detail": "Not found."}, code=404)],
    ),
)
class WebhookViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrganiserViewSet,
):
    """Webhook endpoints (owners only): CRUD, and each endpoint's deliveries."""

    serializer_class = WebhookSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    ordering = "-created_at"
    ordering_fields = ("created_at",)
    action_perms: ClassVar[dict[str, Perm]] = dict.fromkeys(
        ("list", "retrieve", "create", "partial_update", "destroy", "deliveries"), Perm.ADMIN
    )

    def queryset_model(self) -> type[Model]:
        return WebhookEndpoint

    def scoped_queryset(self, organiser: Organiser) -> QuerySet[WebhookEndpoint]:
        return WebhookEndpoint.objects.for_organiser(organiser)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = request.user if request.user.is_authenticated else None
        try:
            endpoint = webhooks.create_endpoint(
                self.organiser,
                url=data["url"],
                event_types=list(data["event_types"]),
                description=data.get("description", ""),
                user=user,
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from None
        body = NewWebhookSerializer(endpoint, context=self.get_serializer_context()).data
        return _no_store(Response(body, status=status.HTTP_201_CREATED))

    def perform_update(self, serializer: BaseSerializer[WebhookEndpoint]) -> None:
        endpoint = cast("WebhookEndpoint", serializer.instance)
        data = serializer.validated_data
        try:
            serializer.instance = webhooks.update_endpoint(
                endpoint,
                url=data.get("url"),
                event_types=list(data["event_types"]) if "event_types" in data else None,
                description=data.get("description"),
                enabled=data.get("enabled"),
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from None

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        webhooks.delete_endpoint(instance)

    @extend_schema(
        summary="List an endpoint's deliveries",
        operation_id="api_v1_webhooks_deliveries_list",
        description="Newest first: status, response code and time of each delivery.",
        parameters=PAGE_PARAMETERS,
        responses=responses(200, DeliverySerializer(many=True), 400, 404),
        examples=[example("a page of deliveries", _DELIVERY_EXAMPLE)],
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request: Request, id: str) -> Response:
        """GET: the endpoint's deliveries, by cursor, newest first."""
        endpoint = cast("WebhookEndpoint", self.get_object())
        rows = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)
