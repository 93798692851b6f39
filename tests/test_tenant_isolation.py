"""Every endpoint and tenant: another organiser's object answers exactly like a missing one."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from captures.models import BoothSession
from events.roles import Role
from tests import factories
from tests.conftest import booth_client

pytestmark = pytest.mark.django_db

PNG = "data:image/png;base64," + base64.b64encode(factories.image_bytes("PNG")).decode()

# (method, URL template, body): every booth endpoint that takes a session id.
BOOTH_SESSION_ENDPOINTS = [
    ("get", "/api/v1/booth/sessions/{id}/", None),
    ("get", "/api/v1/booth/sessions/{id}/qr.svg", None),
    ("post", "/api/v1/booth/sessions/{id}/captures/", {"image": PNG}),
    ("post", "/api/v1/booth/sessions/{id}/finish/", None),
    ("post", "/api/v1/booth/sessions/{id}/share/sms/", {"phone": "+447400123456"}),
    ("post", "/api/v1/booth/sessions/{id}/share/email/", {"email": "guest@example.com"}),
]


def _session_with_capture(tenant) -> BoothSession:
    from captures import services

    session = factories.make_session(tenant.booth)
    services.record_capture(session, factories.image_bytes("PNG"))
    return session


@pytest.mark.parametrize(("method", "template", "body"), BOOTH_SESSION_ENDPOINTS)
def test_other_organisers_session_answers_like_a_missing_one(
    tenant_a, tenant_b, method, template, body
):
    session_a = _session_with_capture(tenant_a)
    client_b = booth_client(tenant_b.token)
    foreign = getattr(client_b, method)(
        template.format(id=session_a.public_id), body, format="json"
    )
    missing = getattr(client_b, method)(template.format(id=uuid.uuid4()), body, format="json")
    malformed = getattr(client_b, method)(template.format(id="not-a-uuid"), body, format="json")
    assert foreign.status_code == 404
    assert foreign.content == missing.content == malformed.content
    session_a.refresh_from_db()
    assert session_a.status == BoothSession.Status.OPEN
    assert session_a.captures.count() == 1
    assert session_a.sms.count() == 0


@pytest.mark.parametrize(("method", "template", "body"), BOOTH_SESSION_ENDPOINTS)
def test_other_booth_of_same_organiser_gets_404(tenant_a, method, template, body):
    session_a = _session_with_capture(tenant_a)
    _, other_token = factories.make_booth(tenant_a.event, name="Second booth")
    response = getattr(booth_client(other_token), method)(
        template.format(id=session_a.public_id), body, format="json"
    )
    assert response.status_code == 404


@pytest.mark.parametrize(("method", "template", "body"), BOOTH_SESSION_ENDPOINTS)
def test_revoked_booth_gets_401(tenant_a, method, template, body):
    from events import services

    session_a = _session_with_capture(tenant_a)
    services.revoke_booth(tenant_a.booth)
    response = getattr(booth_client(tenant_a.token), method)(
        template.format(id=session_a.public_id), body, format="json"
    )
    assert response.status_code == 401


@pytest.mark.parametrize("page", ["", "photos.zip"])
def test_share_page_bad_and_foreign_tokens_give_one_404(tenant_a, anon_client, page):
    session = _session_with_capture(tenant_a)
    ok = anon_client.get(f"/s/{session.share_token}/{page}")
    assert ok.status_code == 200
    missing = anon_client.get("/s/" + "x" * 22 + "/" + page)
    assert missing.status_code == 404
    tenant_a.event.archived_at = session.started_at
    tenant_a.event.save()
    archived = anon_client.get(f"/s/{session.share_token}/{page}")
    assert archived.status_code == 404
    assert archived.content == missing.content


def test_gallery_bad_off_and_archived_give_one_404(tenant_a, anon_client):
    event = tenant_a.event
    assert anon_client.get(f"/g/{event.gallery_token}/").status_code == 200
    missing = anon_client.get("/g/" + "y" * 22 + "/")
    event.gallery_visibility = "off"
    event.save()
    off = anon_client.get(f"/g/{event.gallery_token}/")
    assert missing.status_code == off.status_code == 404
    assert missing.content == off.content


def test_console_event_of_other_organiser_is_404(tenant_a, tenant_b):
    client = Client()
    client.force_login(tenant_b.owner)
    foreign = client.get(f"/console/{tenant_a.organiser.slug}/party/")
    missing = client.get(f"/console/{tenant_a.organiser.slug}/no-such-event/")
    unknown_org = client.get("/console/no-such-org/party/")
    assert foreign.status_code == missing.status_code == unknown_org.status_code == 404
    assert foreign.content == missing.content == unknown_org.content


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER, Role.VIEWER])
def test_console_event_for_every_member_role(tenant_a, role):
    user = factories.make_member(tenant_a.organiser, role)
    client = Client()
    client.force_login(user)
    response = client.get(f"/console/{tenant_a.organiser.slug}/party/")
    assert response.status_code == 200
    assert tenant_a.event.name.encode() in response.content


def test_console_lists_only_own_events(tenant_a, tenant_b):
    client = Client()
    client.force_login(tenant_a.owner)
    response = client.get("/console/")
    assert response.status_code == 200
    assert tenant_a.booth.name.encode() in response.content
    assert tenant_b.booth.name.encode() not in response.content
    assert tenant_b.organiser.name.encode() not in response.content


def test_console_requires_login(anon_client):
    response = anon_client.get("/console/")
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


# Console pages that change a tenant's kiosk: (URL template, valid POST body).
CONSOLE_MANAGE_PAGES = [
    ("/console/{org}/party/branding/", {"welcome_text": "Hi", "brand_color": "#123456"}),
    ("/console/{org}/booths/{booth}/camera/", {"camera_width": "640", "camera_height": "480"}),
]


def unchanged(tenant):
    tenant.event.refresh_from_db()
    tenant.booth.refresh_from_db()
    return tenant.event.welcome_text == "Smile!" and tenant.booth.camera_width == 1280


@pytest.mark.parametrize(("template", "body"), CONSOLE_MANAGE_PAGES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_console_manage_page_of_other_organiser_answers_like_a_missing_one(
    tenant_a, tenant_b, template, body, method
):
    client = Client()
    client.force_login(tenant_b.owner)
    booth = tenant_a.booth.public_id
    foreign = getattr(client, method)(template.format(org="alpha", booth=booth), body)
    missing_org = getattr(client, method)(template.format(org="no-such-org", booth=booth), body)
    assert foreign.status_code == missing_org.status_code == 404
    assert foreign.content == missing_org.content
    assert unchanged(tenant_a)


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("booth_id", ["foreign", str(uuid.uuid4()), "not-a-uuid"])
def test_camera_page_for_a_booth_outside_the_organiser_is_404(tenant_a, tenant_b, method, booth_id):
    client = Client()
    client.force_login(tenant_b.owner)
    booth = tenant_a.booth.public_id if booth_id == "foreign" else booth_id
    body = CONSOLE_MANAGE_PAGES[1][1]
    response = getattr(client, method)(f"/console/bravo/booths/{booth}/camera/", body)
    assert response.status_code == 404
    assert unchanged(tenant_a)


@pytest.mark.parametrize(("template", "body"), CONSOLE_MANAGE_PAGES)
@pytest.mark.parametrize(
    ("role", "get_status", "post_status"),
    [(Role.OWNER, 200, 302), (Role.MANAGER, 200, 302), (Role.VIEWER, 403, 403)],
)
def test_console_manage_page_for_every_member_role(
    tenant_a, template, body, role, get_status, post_status
):
    client = Client()
    client.force_login(factories.make_member(tenant_a.organiser, role))
    url = template.format(org=tenant_a.organiser.slug, booth=tenant_a.booth.public_id)
    assert client.get(url).status_code == get_status
    assert client.post(url, body).status_code == post_status


@pytest.mark.parametrize(("template", "body"), CONSOLE_MANAGE_PAGES)
def test_console_manage_page_requires_login(anon_client, tenant_a, template, body):
    url = template.format(org=tenant_a.organiser.slug, booth=tenant_a.booth.public_id)
    response = anon_client.post(url, body)
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


# -- the console matrix: every console page, for another organiser and for each role -----

VIEWER, MANAGER, OWNER = Role.VIEWER, Role.MANAGER, Role.OWNER
RANK = {VIEWER: 0, MANAGER: 1, OWNER: 2}


@dataclass(frozen=True)
class Row:
    """Who may use a console page: the lowest role for GET and for POST (None: 405)."""

    get: Role | None
    post: Role | None


#: Every URL pattern under ``/console/<organiser>/``, by name. A new page without a row
#: fails ``test_every_console_page_has_a_row``.
CONSOLE_MATRIX: dict[str, Row] = {
    "events:organiser-home": Row(VIEWER, None),
    "events:team": Row(VIEWER, OWNER),
    "events:team-member": Row(None, OWNER),
    "events:team-invitation": Row(None, OWNER),
    "events:api-tokens": Row(OWNER, OWNER),
    "events:api-token": Row(None, OWNER),
    "events:webhooks": Row(OWNER, OWNER),
    "events:webhook": Row(OWNER, OWNER),
    "events:event-create": Row(MANAGER, MANAGER),
    "events:event-detail": Row(VIEWER, None),
    "events:event-edit": Row(VIEWER, MANAGER),
    "events:event-archive": Row(None, MANAGER),
    "events:event-delete": Row(OWNER, OWNER),
    "events:booths": Row(VIEWER, None),
    "events:booth-create": Row(MANAGER, MANAGER),
    "events:booth-detail": Row(VIEWER, None),
    "events:booth-pair": Row(VIEWER, MANAGER),
    "events:booth-assign": Row(VIEWER, MANAGER),
    "events:booth-rotate": Row(MANAGER, MANAGER),
    "events:booth-revoke": Row(MANAGER, MANAGER),
    "captures:event-capture-settings": Row(VIEWER, MANAGER),
    "captures:event-gallery-settings": Row(VIEWER, MANAGER),
    "captures:event-branding": Row(MANAGER, MANAGER),
    "captures:booth-camera": Row(MANAGER, MANAGER),
    "captures:event-captures": Row(VIEWER, None),
    "captures:event-download": Row(VIEWER, None),
    "captures:capture-thumbnail": Row(VIEWER, None),
    "captures:capture-hide": Row(None, MANAGER),
    "captures:capture-unhide": Row(None, MANAGER),
    "captures:capture-delete": Row(MANAGER, MANAGER),
    "captures:monitor": Row(VIEWER, None),
    "captures:event-monitor": Row(VIEWER, None),
    "captures:event-table-card": Row(VIEWER, None),
    "messaging:sms-account": Row(VIEWER, OWNER),
    "messaging:event-sms-settings": Row(VIEWER, MANAGER),
    "messaging:event-sms": Row(VIEWER, None),
    "messaging:event-email": Row(VIEWER, MANAGER),
    "messaging:event-stats": Row(VIEWER, None),
    "messaging:erase-number": Row(OWNER, OWNER),
}


def console_routes() -> dict[str, str]:
    """Return ``{name: route}`` for every URL pattern under ``console/<organiser>/``."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: dict[str, str] = {}

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(
                    pattern.url_patterns,
                    prefix + str(pattern.pattern),
                    pattern.namespace or namespace,
                )
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                if route.startswith("console/<slug:organiser_slug>/"):
                    found[f"{namespace}:{pattern.name}"] = route

    walk(get_resolver().url_patterns, "", None)
    return found


def test_every_console_page_has_a_row():
    assert set(console_routes()) == set(CONSOLE_MATRIX)


@dataclass
class World:
    """Tenant A's objects that console URLs name, beside tenant B."""

    a: Any
    b: Any
    kwargs: dict[str, str]


@pytest.fixture
def world(tenant_a, tenant_b) -> World:
    from events import services as event_services
    from events.models import Membership

    session = _session_with_capture(tenant_a)
    capture = session.captures.get()
    target = factories.make_member(tenant_a.organiser, VIEWER, username="target-alpha")
    issued = event_services.invite_member(
        tenant_a.organiser, email="guest@example.com", role=VIEWER, invited_by=tenant_a.owner
    )
    from events.api_tokens import create_api_token

    api_token, _ = create_api_token(tenant_a.organiser, tenant_a.owner, name="Alpha sync")
    from events import webhooks

    webhook = webhooks.create_endpoint(
        tenant_a.organiser, url="https://93.184.215.14/hook", event_types=["capture.ready"]
    )
    kwargs = {
        "token_id": str(api_token.public_id),
        "webhook_id": str(webhook.public_id),
        "organiser_slug": tenant_a.organiser.slug,
        "event_slug": tenant_a.event.slug,
        "booth_id": str(tenant_a.booth.public_id),
        "capture_id": str(capture.public_id),
        "member_id": str(Membership.objects.get(user=target).public_id),
        "invitation_id": str(issued.invitation.public_id),
    }
    return World(tenant_a, tenant_b, kwargs)


def snapshot(tenant) -> tuple[object, ...]:
    """What a refused request must leave as it was: tenant's rows, as plain values."""
    from captures.models import Capture
    from events.models import ApiToken, Booth, Event, Invitation, Membership, WebhookEndpoint
    from messaging.models import SmsAccount

    organiser = tenant.organiser
    return (
        list(Event.objects.filter(organiser=organiser).order_by("pk").values()),
        list(Booth.objects.filter(organiser=organiser).order_by("pk").values()),
        list(Capture.objects.filter(session__event__organiser=organiser).order_by("pk").values()),
        list(Membership.objects.filter(organiser=organiser).order_by("pk").values()),
        list(Invitation.objects.filter(organiser=organiser).order_by("pk").values()),
        list(SmsAccount.objects.filter(organiser=organiser).values()),
        list(ApiToken.objects.filter(organiser=organiser).order_by("pk").values()),
        list(WebhookEndpoint.objects.filter(organiser=organiser).order_by("pk").values()),
    )


def console_url(name: str, **kwargs: str) -> str:
    from django.urls import reverse

    route = console_routes()[name]
    return reverse(name, kwargs={key: kwargs[key] for key in kwargs if f":{key}>" in route})


@pytest.mark.parametrize("name", sorted(CONSOLE_MATRIX))
@pytest.mark.parametrize("method", ["get", "post"])
def test_console_page_of_another_organiser_answers_like_a_missing_one(world, name, method):
    client = Client()
    client.force_login(world.b.owner)
    before = snapshot(world.a)
    foreign = getattr(client, method)(console_url(name, **world.kwargs))
    missing = getattr(client, method)(
        console_url(name, **world.kwargs | {"organiser_slug": "no-such-org"})
    )
    served = getattr(CONSOLE_MATRIX[name], method) is not None
    assert foreign.status_code == missing.status_code == (404 if served else 405)
    assert foreign.content == missing.content
    if not served:
        return
    # Tenant A's objects named under tenant B's own slug are missing objects too.
    own_slug = world.kwargs | {"organiser_slug": world.b.organiser.slug}
    route = console_routes()[name]
    for key in (
        "booth_id",
        "capture_id",
        "member_id",
        "invitation_id",
        "token_id",
        "webhook_id",
    ):
        if f":{key}>" in route:
            across = getattr(client, method)(console_url(name, **own_slug))
            unknown = getattr(client, method)(
                console_url(name, **own_slug | {key: str(uuid.uuid4())})
            )
            assert across.status_code == unknown.status_code == 404
            assert across.content == unknown.content
    assert snapshot(world.a) == before


def expected_status(allowed: Role | None, role: Role) -> int | None:
    """405 for a method the page does not serve, 403 below its role, else None (served)."""
    if allowed is None:
        return 405
    return 403 if RANK[role] < RANK[allowed] else None


@pytest.mark.parametrize("name", sorted(CONSOLE_MATRIX))
@pytest.mark.parametrize("role", [VIEWER, MANAGER, OWNER])
def test_console_page_for_each_role(world, name, role):
    client = Client()
    client.force_login(factories.make_member(world.a.organiser, role, username=f"as-{role}"))
    row = CONSOLE_MATRIX[name]
    url = console_url(name, **world.kwargs)
    got = client.get(url)
    expected = expected_status(row.get, role)
    if expected is None:  # a page, or a redirect to the page that holds the form
        assert got.status_code in (200, 302), got.content.decode()[:500]
    else:
        assert got.status_code == expected
    before = snapshot(world.a)
    posted = client.post(url)  # an empty form: served, refused as invalid (400), never 5xx
    expected = expected_status(row.post, role)
    if expected is None:
        assert posted.status_code in (200, 302, 400), posted.content.decode()[:500]
    else:
        assert posted.status_code == expected
        assert snapshot(world.a) == before


@pytest.mark.parametrize("name", sorted(CONSOLE_MATRIX))
def test_console_page_asks_a_visitor_to_sign_in(world, anon_client, name):
    before = snapshot(world.a)
    for method in ("get", "post"):
        response = getattr(anon_client, method)(console_url(name, **world.kwargs))
        assert response.status_code in (302, 405)
        if response.status_code == 302:
            assert response["Location"].startswith("/console/login/")
    assert snapshot(world.a) == before


# -- the socket matrix: every WebSocket route ----------------------------------------------

#: Every WebSocket route and who may open it. The booth's socket takes a booth ticket,
#: not a login (tests/events/test_booth_sockets.py, tests/test_socket_daphne.py); the
#: last route refuses every other path.
SOCKET_MATRIX: dict[str, Role | str] = {
    "ws/booth/": "a booth ticket",
    "ws/console/<slug:organiser_slug>/": VIEWER,
    "ws/console/<slug:organiser_slug>/<slug:event_slug>/": VIEWER,
    "ws/gallery/<str:gallery_token>/": "anyone with the gallery link",
    "": "nobody",
}

MONITOR_SOCKETS = {
    "ws/console/<slug:organiser_slug>/": "/ws/console/{org}/",
    "ws/console/<slug:organiser_slug>/<slug:event_slug>/": "/ws/console/{org}/{event}/",
}


def test_every_socket_route_has_a_row():
    from captures.routing import websocket_urlpatterns

    assert [str(route.pattern) for route in websocket_urlpatterns] == list(SOCKET_MATRIX)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", sorted(MONITOR_SOCKETS))
async def test_another_organisers_socket_is_refused_like_a_missing_one(
    settings, tenant_a, tenant_b, route
):
    from tests.captures.test_console_monitor import watcher

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    template = MONITOR_SOCKETS[route]
    foreign = await watcher(tenant_b.owner, template.format(org="alpha", event="party"))
    missing = await watcher(tenant_b.owner, template.format(org="nope", event="party"))
    refused = await missing.connect()
    assert refused[0] is False
    assert await foreign.connect() == refused


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", sorted(MONITOR_SOCKETS))
@pytest.mark.parametrize("role", [VIEWER, MANAGER, OWNER])
async def test_each_role_opens_its_organisers_socket(settings, tenant_a, route, role):
    from channels.db import database_sync_to_async

    from tests.captures.test_console_monitor import open_monitor

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    assert SOCKET_MATRIX[route] == VIEWER
    user = await database_sync_to_async(factories.make_member)(
        tenant_a.organiser, role, username=f"as-{role}"
    )
    path = MONITOR_SOCKETS[route].format(org="alpha", event="party")
    communicator, snapshot = await open_monitor(user, path)
    assert [booth["booth"] for booth in snapshot["booths"]] == [tenant_a.booth.public_id.hex]
    await communicator.disconnect()
