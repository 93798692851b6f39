"""The organiser API's isolation matrix: every operation under /api/v1/ and its least role.

``MATRIX`` has one row per operation (HTTP method, URL name) of the organiser API. The
URL resolver is walked for every route under ``/api/v1/`` except the booth API
(``/api/v1/booth/``): an operation without a row, or a row without an operation, fails
``test_every_operation_has_a_row``. Each row then runs:

- as another organiser's owner: an object route answers the same 404 as a missing
  object, and changes nothing; a list shows none of the first organiser's rows;
- as each lower role of the same organiser (API tokens of that role): 403;
- as the row's role: 2xx;
- with no credentials: 401.

It runs on PostgreSQL when ``DATABASE_URL`` is set (the suite's settings read it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from captures import services as capture_services
from captures.models import Strip
from events import api_tokens, webhooks
from events.roles import Role
from messaging.models import SmsMessage
from tests import factories
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

ORDER = (Role.VIEWER, Role.MANAGER, Role.OWNER)
PUBLIC_HOOK = "https://93.184.215.14/hook"  # a public address literal: no DNS lookup


def _event(t: Tenant) -> Any:
    return t.event


def _booth(t: Tenant) -> Any:
    return t.booth


def _session(t: Tenant) -> Any:
    return factories.make_session(t.booth)


def _capture(t: Tenant) -> Any:
    session = factories.make_session(t.booth)
    return capture_services.record_capture(session, factories.image_bytes("PNG"))


def _strip(t: Tenant) -> Any:
    session = factories.make_session(t.booth)
    return Strip.objects.create(session=session, event=t.event, layout="horizontal_4")


def _sms(t: Tenant) -> Any:
    return SmsMessage.objects.create(
        organiser=t.organiser, event=t.event, to="+447400123456", body="Your photos"
    )


def _webhook(t: Tenant) -> Any:
    return webhooks.create_endpoint(t.organiser, url=PUBLIC_HOOK, event_types=["capture.ready"])


@dataclass(frozen=True)
class Row:
    """One operation: method, URL name, least role, the object it names, a body."""

    method: str
    name: str
    role: Role
    obj: Callable[[Tenant], Any] | None = None
    body: dict[str, Any] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.name)

    def __str__(self) -> str:
        return f"{self.method} {self.name}"


NEW_EVENT = {"name": "New event", "starts_at": "2026-07-04T18:00:00Z"}
NEW_HOOK = {"url": PUBLIC_HOOK, "event_types": ["strip.ready"]}

MATRIX: tuple[Row, ...] = (
    Row("GET", "orgapi:event-list", Role.VIEWER),
    Row("POST", "orgapi:event-list", Role.MANAGER, body=NEW_EVENT),
    Row("GET", "orgapi:event-detail", Role.VIEWER, _event),
    Row("PATCH", "orgapi:event-detail", Role.MANAGER, _event, {"name": "Renamed"}),
    Row("DELETE", "orgapi:event-detail", Role.OWNER, _event),
    Row("POST", "orgapi:event-archive", Role.MANAGER, _event),
    Row("POST", "orgapi:event-unarchive", Role.MANAGER, _event),
    Row("GET", "orgapi:booth-list", Role.VIEWER),
    Row("POST", "orgapi:booth-list", Role.MANAGER, body={"name": "Second booth"}),
    Row("GET", "orgapi:booth-detail", Role.VIEWER, _booth),
    Row("PATCH", "orgapi:booth-detail", Role.MANAGER, _booth, {"name": "Renamed"}),
    Row("POST", "orgapi:booth-pair", Role.MANAGER, _booth),
    Row("POST", "orgapi:booth-rotate", Role.MANAGER, _booth),
    Row("POST", "orgapi:booth-revoke", Role.MANAGER, _booth),
    Row("GET", "orgapi:session-list", Role.VIEWER),
    Row("GET", "orgapi:session-detail", Role.VIEWER, _session),
    Row("GET", "orgapi:capture-list", Role.VIEWER),
    Row("GET", "orgapi:capture-detail", Role.VIEWER, _capture),
    Row("PATCH", "orgapi:capture-detail", Role.MANAGER, _capture, {"hidden": True}),
    Row("DELETE", "orgapi:capture-detail", Role.MANAGER, _capture),
    Row("GET", "orgapi:strip-list", Role.VIEWER),
    Row("GET", "orgapi:strip-detail", Role.VIEWER, _strip),
    Row("GET", "orgapi:sms-list", Role.VIEWER),
    Row("GET", "orgapi:sms-detail", Role.VIEWER, _sms),
    Row("GET", "orgapi:webhook-list", Role.OWNER),
    Row("POST", "orgapi:webhook-list", Role.OWNER, body=NEW_HOOK),
    Row("GET", "orgapi:webhook-detail", Role.OWNER, _webhook),
    Row("PATCH", "orgapi:webhook-detail", Role.OWNER, _webhook, {"description": "CRM"}),
    Row("DELETE", "orgapi:webhook-detail", Role.OWNER, _webhook),
    Row("GET", "orgapi:webhook-deliveries", Role.OWNER, _webhook),
)

#: What each list row shows of a tenant's data (to check another organiser sees none).
LIST_SEEDS: dict[str, Callable[[Tenant], Any]] = {
    "orgapi:event-list": _event,
    "orgapi:booth-list": _booth,
    "orgapi:session-list": _session,
    "orgapi:capture-list": _capture,
    "orgapi:strip-list": _strip,
    "orgapi:sms-list": _sms,
    "orgapi:webhook-list": _webhook,
}


def _walk(
    patterns: list[URLPattern | URLResolver], prefix: str, namespace: str
) -> Iterator[tuple[str, str, URLPattern]]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            space = namespace
            if entry.namespace:
                space = f"{namespace}{entry.namespace}:"
            yield from _walk(entry.url_patterns, route, space)
        else:
            yield route, f"{namespace}{entry.name}", entry


def api_operations() -> set[tuple[str, str]]:
    """Every (METHOD, URL name) served under /api/v1/ except the booth API."""
    found: set[tuple[str, str]] = set()
    for route, name, pattern in _walk(get_resolver().url_patterns, "", ""):
        if not route.startswith("api/v1/") or route.startswith("api/v1/booth/"):
            continue
        callback = pattern.callback
        view_class = getattr(callback, "cls", None)
        allowed = set(getattr(view_class, "http_method_names", ()))
        actions = getattr(callback, "actions", None)
        if actions is not None:
            methods = {m for m in actions if m in allowed}
        else:
            methods = {m for m in allowed if hasattr(view_class, m)}
        found |= {(m.upper(), name) for m in methods - {"head", "options"}}
    return found


def test_every_operation_has_a_row() -> None:
    operations = api_operations()
    rows = {row.key for row in MATRIX}
    assert len(rows) == len(MATRIX), "a row is listed twice"
    missing = sorted(operations - rows)
    stale = sorted(rows - operations)
    assert not missing, f"API operations without a row in MATRIX: {missing}"
    assert not stale, f"MATRIX rows with no operation: {stale}"


def _client(tenant: Tenant, role: Role | None) -> APIClient:
    client = APIClient()
    if role is not None:
        _row, token = api_tokens.create_api_token(
            tenant.organiser, tenant.owner, name=f"matrix {role}", role=role
        )
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _call(client: APIClient, row: Row, obj_id: Any = None) -> Any:
    kwargs = {"id": str(obj_id)} if obj_id is not None else {}
    url = reverse(row.name, kwargs=kwargs)
    return getattr(client, row.method.lower())(url, row.body, format="json")


OBJECT_ROWS = [row for row in MATRIX if row.obj is not None]
LIST_ROWS = [row for row in MATRIX if row.obj is None and row.method == "GET"]
LOWER = [(row, role) for row in MATRIX for role in ORDER[: ORDER.index(row.role)]]


@pytest.mark.parametrize("row", OBJECT_ROWS, ids=str)
def test_other_organisers_object_answers_like_a_missing_one(row, tenant_a, tenant_b, settings):
    settings.BOOTHSITE_WEBHOOK_ALLOW_PRIVATE = False
    assert row.obj is not None
    obj = row.obj(tenant_a)
    before = type(obj).objects.filter(pk=obj.pk).values().first()
    other = _client(tenant_b, Role.OWNER)
    foreign = _call(other, row, obj.public_id)
    missing = _call(other, row, uuid.uuid4())
    malformed = _call(other, row, "12")
    assert foreign.status_code == 404, foreign.content
    assert foreign.json() == missing.json() == malformed.json() == {"detail": "Not found."}
    assert missing.status_code == malformed.status_code == 404
    after = type(obj).objects.filter(pk=obj.pk).values().first()
    assert after == before, "another organiser's request changed the object"


@pytest.mark.parametrize("row", LIST_ROWS, ids=str)
def test_lists_show_only_own_rows(row, tenant_a, tenant_b):
    own = LIST_SEEDS[row.name](tenant_a)
    theirs = LIST_SEEDS[row.name](tenant_b)
    response = _call(_client(tenant_b, Role.OWNER), row)
    assert response.status_code == 200
    ids = {item["id"] for item in response.json()["results"]}
    assert str(theirs.public_id) in ids
    assert str(own.public_id) not in ids


@pytest.mark.parametrize(("row", "role"), LOWER, ids=lambda v: str(v))
def test_lower_role_of_the_same_organiser_gets_403(row, role, tenant_a):
    obj_id = row.obj(tenant_a).public_id if row.obj else None
    response = _call(_client(tenant_a, role), row, obj_id)
    assert response.status_code == 403, response.content
    assert "detail" in response.json()


@pytest.mark.parametrize("row", MATRIX, ids=str)
def test_least_role_succeeds(row, tenant_a):
    obj_id = row.obj(tenant_a).public_id if row.obj else None
    response = _call(_client(tenant_a, row.role), row, obj_id)
    assert 200 <= response.status_code < 300, response.content


@pytest.mark.parametrize("row", MATRIX, ids=str)
def test_no_credentials_is_401(row, tenant_a):
    obj_id = row.obj(tenant_a).public_id if row.obj else None
    response = _call(_client(tenant_a, None), row, obj_id)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
