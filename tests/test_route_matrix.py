"""The route matrix: every URL pattern outside the console and the organiser API, by who may use it.

``CONSOLE_MATRIX`` (tests/test_tenant_isolation.py) covers ``/console/<organiser>/``, and
tests/test_api_isolation.py the organiser API (``/api/v1/`` but ``/api/v1/booth/``).
Every other pattern the resolver serves has a row here (``ROUTE_MATRIX``; the admin's
generated pages one prefix row, ``ROUTE_PREFIXES``), and a new pattern without one fails
``test_every_route_has_a_row``. Each kind of row is then run against a second organiser
(tenant B), a missing object, a revoked booth and an anonymous visitor. The WebSocket
routes are ``SOCKET_MATRIX`` (tests/test_tenant_isolation.py); the booth's and the
gallery's sockets are refused here for a foreign booth or event exactly like a missing one.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

import pytest
from django.test import Client

from captures.models import BoothSession
from tests.conftest import booth_client
from tests.test_tenant_isolation import PNG, SOCKET_MATRIX, _session_with_capture, snapshot

pytestmark = pytest.mark.django_db


class Who(StrEnum):
    """Who may use a route."""

    BOOTH = "the booth token of the owning organiser (Authorization: Booth)"
    BOOTH_IN_PATH = "the booth token of the owning organiser, in the path"
    PAIRING_CODE = "anyone with a booth's one-time pairing code"
    LINK = "anyone with the link (its token is the secret)"
    PROVIDER = "the SMS provider (signed when signing is configured)"
    SIGNED_IN = "any signed-in user"
    ANYONE = "anyone"
    STAFF = "staff (the Django admin)"


B, P, L, S, A = Who.BOOTH, Who.PAIRING_CODE, Who.LINK, Who.SIGNED_IN, Who.ANYONE
SESSION = "api/v1/booth/sessions/<str:session_id>/"

#: Every URL pattern outside ``console/<organiser>/`` and the organiser API, by route.
ROUTE_MATRIX: dict[str, Who] = {
    # the booth API
    "api/v1/booth/pair/": P,
    "api/v1/booth/me/": B,
    "api/v1/booth/socket-ticket/": B,
    "api/v1/booth/sessions/": B,
    SESSION: B,
    SESSION + "captures/": B,
    SESSION + "qr.svg": B,
    SESSION + "finish/": B,
    SESSION + "share/sms/": B,
    SESSION + "share/email/": B,
    "compat/<str:booth_token>/send-mms": Who.BOOTH_IN_PATH,
    # hooks
    "hooks/sms/dlr/<str:callback_token>/": Who.PROVIDER,
    # guest pages and files
    "s/<str:share_token>/": L,
    "s/<str:share_token>/photos.zip": L,
    "g/<str:gallery_token>/": L,
    "g/<str:gallery_token>/live/": L,
    "g/<str:gallery_token>/live/feed.json": L,
    "g/<str:gallery_token>/photos.zip": L,
    "media/<path:name>": L,
    "invite/<str:token>/": L,
    "invite/<str:token>/signup/": L,
    # the site
    "": A,
    "booth/": A,
    "robots.txt": A,
    "favicon.ico": A,
    "api/schema/": A,
    "api/docs/": A,
    # the console outside an organiser
    "console/login/": A,
    "console/logout/": A,
    "console/": S,
    "console/new/": S,
    "console/switch/": S,
    # allauth
    "accounts/login/": A,
    "accounts/logout/": A,
    "accounts/inactive/": A,
    "accounts/signup/": A,
    "accounts/reauthenticate/": S,
    "accounts/reauthenticate/code/": S,
    "accounts/reauthenticate/code/confirm/": S,
    "accounts/email/": S,
    "accounts/confirm-email/": A,
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$": L,
    "accounts/password/change/": S,
    "accounts/password/set/": S,
    "accounts/password/reset/": A,
    "accounts/password/reset/done/": A,
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": L,
    "accounts/password/reset/key/done/": A,
    "accounts/login/code/confirm/": A,
}

#: Route prefixes one row covers: the admin's pages are generated per registered model.
ROUTE_PREFIXES: dict[str, Who] = {"admin/": Who.STAFF}


def all_routes() -> set[str]:
    """Return every URL pattern's full route (``str`` of each pattern, joined)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: set[str] = set()

    def walk(patterns: Any, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                found.add(prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns, "")
    return found


def matrix_routes() -> set[str]:
    """The routes this matrix must cover: all but the console's and the organiser API's."""
    return {
        route
        for route in all_routes()
        if not route.startswith("console/<slug:organiser_slug>/")
        and not (route.startswith("api/v1/") and not route.startswith("api/v1/booth/"))
        and not any(route.startswith(prefix) for prefix in ROUTE_PREFIXES)
    }


def test_every_route_has_a_row():
    routes = matrix_routes()
    assert sorted(routes - set(ROUTE_MATRIX)) == [], "routes without a row"
    assert sorted(set(ROUTE_MATRIX) - routes) == [], "rows without a route"
    assert any(route.startswith("admin/") for route in all_routes())


def test_every_socket_route_is_in_the_socket_matrix():
    from captures.routing import websocket_urlpatterns

    assert {str(route.pattern) for route in websocket_urlpatterns} == set(SOCKET_MATRIX)


# -- the booth API: a booth token of the owning organiser --------------------------------

#: (method, body) of each booth route; ``{id}`` is a session id.
BOOTH_REQUESTS: dict[str, tuple[str, dict[str, Any] | None]] = {
    "api/v1/booth/me/": ("get", None),
    "api/v1/booth/socket-ticket/": ("post", None),
    "api/v1/booth/sessions/": ("post", None),
    SESSION: ("get", None),
    SESSION + "captures/": ("post", {"image": PNG}),
    SESSION + "qr.svg": ("get", None),
    SESSION + "finish/": ("post", None),
    SESSION + "share/sms/": ("post", {"phone": "+447400123456"}),
    SESSION + "share/email/": ("post", {"email": "guest@example.com"}),
}


def booth_url(route: str, session_id: object) -> str:
    return "/" + route.replace("<str:session_id>", str(session_id))


def test_every_booth_route_has_a_request():
    assert set(BOOTH_REQUESTS) == {route for route, who in ROUTE_MATRIX.items() if who == B}


@pytest.mark.parametrize("route", sorted(BOOTH_REQUESTS))
def test_booth_route_refuses_a_revoked_bad_or_missing_token_alike(tenant_a, route):
    from events import services

    method, body = BOOTH_REQUESTS[route]
    session = _session_with_capture(tenant_a)
    url = booth_url(route, session.public_id)
    before = snapshot(tenant_a)
    services.revoke_booth(tenant_a.booth)
    revoked = getattr(booth_client(tenant_a.token), method)(url, body, format="json")
    wrong = getattr(booth_client("bth_" + "x" * 40), method)(url, body, format="json")
    anonymous = getattr(Client(), method)(url, body, content_type="application/json")
    assert revoked.status_code == wrong.status_code == anonymous.status_code == 401
    assert revoked.json() == wrong.json() == {"detail": "Invalid booth token."}
    assert revoked["WWW-Authenticate"] == "Booth"
    tenant_a.booth.refresh_from_db()
    after = snapshot(tenant_a)
    assert after[2:] == before[2:]  # captures, members, invitations, SMS account
    assert session.captures.count() == 1
    assert session.sms.count() == 0


@pytest.mark.parametrize("route", sorted(r for r in BOOTH_REQUESTS if "<str:session_id>" in r))
def test_booth_route_answers_another_organisers_session_like_a_missing_one(
    tenant_a, tenant_b, route
):
    method, body = BOOTH_REQUESTS[route]
    session = _session_with_capture(tenant_a)
    client_b = booth_client(tenant_b.token)
    foreign = getattr(client_b, method)(booth_url(route, session.public_id), body, format="json")
    missing = getattr(client_b, method)(booth_url(route, uuid.uuid4()), body, format="json")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    session.refresh_from_db()
    assert session.status == BoothSession.Status.OPEN
    assert session.captures.count() == 1


def test_me_names_only_the_calling_booth(tenant_a, tenant_b):
    answer = booth_client(tenant_b.token).get("/api/v1/booth/me/").json()
    assert answer["id"] == str(tenant_b.booth.public_id)
    assert answer["organiser"] == tenant_b.organiser.name
    assert tenant_a.organiser.name not in str(answer)


def test_a_socket_ticket_opens_only_the_calling_booth(tenant_a, tenant_b):
    from events import access

    ticket = booth_client(tenant_b.token).post("/api/v1/booth/socket-ticket/").json()["ticket"]
    assert access.access_booth_by_ticket(ticket) == tenant_b.booth


def test_a_new_session_belongs_to_the_calling_booths_event(tenant_a, tenant_b):
    response = booth_client(tenant_b.token).post("/api/v1/booth/sessions/")
    assert response.status_code == 201
    session = BoothSession.objects.get(public_id=response.json()["id"])
    assert session.event == tenant_b.event
    assert not BoothSession.objects.filter(event=tenant_a.event).exists()


def test_pairing_refuses_unknown_used_and_revoked_codes_alike(tenant_a, tenant_b, anon_client):
    from events import services

    def pair(code: str) -> Any:
        return anon_client.post(
            "/api/v1/booth/pair/", {"code": code}, content_type="application/json"
        )

    used = services.issue_pairing_code(tenant_a.booth).secret
    assert pair(used).status_code == 200
    revoked = services.issue_pairing_code(tenant_b.booth).secret
    services.revoke_booth(tenant_b.booth)
    unknown = pair(used[:-4] + "ZZZZ")
    assert unknown.status_code == 400
    assert pair(used).content == pair(revoked).content == unknown.content


def test_compat_refuses_a_revoked_or_unknown_token_alike(tenant_a):
    from events import services

    services.revoke_booth(tenant_a.booth)
    body = {"phone": "447400123456", "image": PNG}
    client = Client()
    revoked = client.post(
        f"/compat/{tenant_a.token}/send-mms", body, content_type="application/json"
    )
    unknown = client.post("/compat/bth_nope/send-mms", body, content_type="application/json")
    assert revoked.status_code == unknown.status_code == 401
    assert revoked.content == unknown.content
    assert revoked.json()["status"] == "error"
    assert not BoothSession.objects.filter(booth=tenant_a.booth).exists()


# -- hooks -------------------------------------------------------------------------------


def test_a_receipt_under_another_token_leaves_the_message_alone(tenant_a, tenant_b, anon_client):
    from messaging import services

    session = _session_with_capture(tenant_a)
    message = services.queue_share_sms(tenant_a.booth, session, "+447400123456")
    services.send_sms_message(message)
    message.refresh_from_db()
    status_before = message.status
    params = {"messageId": message.provider_message_id, "status": "failed", "err-code": "6"}
    wrong = anon_client.get(f"/hooks/sms/dlr/{'w' * 32}/", params)
    assert wrong.status_code == 204  # acknowledged, so the provider stops retrying
    message.refresh_from_db()
    assert message.status == status_before


# -- links: the token in the URL is the secret ------------------------------------------


def link_pairs(tenant: Any) -> dict[str, tuple[str, str]]:
    """``{route: (good URL, URL with a wrong secret)}`` for tenant A's links."""
    session = _session_with_capture(tenant)
    capture = session.captures.get()
    tenant.event.guest_download = True
    tenant.event.save()
    share, gallery = session.share_token, tenant.event.gallery_token
    image_url = capture.image.url
    signed, key = image_url.removeprefix("/media/").split("/", 1)
    forged = signed[:-1] + ("A" if signed[-1] != "A" else "B")
    return {
        "s/<str:share_token>/": (f"/s/{share}/", "/s/" + "x" * len(share) + "/"),
        "s/<str:share_token>/photos.zip": (
            f"/s/{share}/photos.zip",
            "/s/" + "x" * len(share) + "/photos.zip",
        ),
        "g/<str:gallery_token>/": (f"/g/{gallery}/", "/g/" + "y" * len(gallery) + "/"),
        "g/<str:gallery_token>/live/": (
            f"/g/{gallery}/live/",
            "/g/" + "y" * len(gallery) + "/live/",
        ),
        "g/<str:gallery_token>/live/feed.json": (
            f"/g/{gallery}/live/feed.json",
            "/g/" + "y" * len(gallery) + "/live/feed.json",
        ),
        "g/<str:gallery_token>/photos.zip": (
            f"/g/{gallery}/photos.zip",
            "/g/" + "y" * len(gallery) + "/photos.zip",
        ),
        # A signature that is not this file's: a forged or foreign link.
        "media/<path:name>": (image_url, f"/media/{forged}/{key}"),
    }


def test_every_guest_link_answers_a_wrong_secret_like_a_missing_page(tenant_a, anon_client):
    pairs = link_pairs(tenant_a)
    missing = anon_client.get("/s/" + "z" * 22 + "/")
    assert missing.status_code == 404
    for route, (good, wrong) in pairs.items():
        assert ROUTE_MATRIX[route] == L
        ok = anon_client.get(good)
        assert ok.status_code == 200, (route, ok.status_code)
        refused = anon_client.get(wrong)
        assert refused.status_code == 404, (route, refused.status_code)


def test_an_archived_events_links_answer_like_missing_ones(tenant_a, anon_client):
    from django.utils import timezone

    pairs = link_pairs(tenant_a)
    tenant_a.event.archived_at = timezone.now()
    tenant_a.event.save()
    for route in ("s/<str:share_token>/", "g/<str:gallery_token>/", "media/<path:name>"):
        good, wrong = pairs[route]
        archived, missing = anon_client.get(good), anon_client.get(wrong)
        assert archived.status_code == missing.status_code == 404, route
        assert archived.content == missing.content, route


@pytest.mark.parametrize("page", ["", "signup/"])
def test_a_wrong_invitation_link_is_refused(anon_client, page):
    response = anon_client.get(f"/invite/{'q' * 43}/{page}")
    assert response.status_code in (404, 410)


# -- signed-in, anyone, staff ------------------------------------------------------------

#: A concrete URL for routes with parameters or regexes.
CONCRETE = {
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$": "/accounts/confirm-email/nokey/",
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": (
        "/accounts/password/reset/key/1-nokey/"
    ),
}


def concrete(route: str) -> str:
    return CONCRETE.get(route, "/" + route)


@pytest.mark.parametrize("route", sorted(r for r, who in ROUTE_MATRIX.items() if who == S))
def test_signed_in_route_sends_a_visitor_to_sign_in(anon_client, route):
    response = anon_client.get(concrete(route))
    assert response.status_code == 302, response.status_code
    assert "login" in response["Location"]


@pytest.mark.parametrize(
    "route",
    sorted(r for r, who in ROUTE_MATRIX.items() if who == A) + list(CONCRETE),
)
def test_public_route_serves_a_visitor(anon_client, route):
    response = anon_client.get(concrete(route))
    assert response.status_code < 500
    assert response.status_code not in (401, 403)
    if response.status_code == 302:
        assert "/console/login/" not in response["Location"] or route.startswith("accounts/")


def admin_changelists() -> list[str]:
    from django.contrib import admin
    from django.urls import reverse

    return sorted(
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    )


def test_every_admin_page_is_staff_only(tenant_a):
    from django.contrib.auth import get_user_model

    owner, staff = Client(), Client()
    owner.force_login(tenant_a.owner)  # an organiser's owner is not staff
    staff.force_login(get_user_model().objects.create_superuser("root", "r@example.com", "pw"))
    pages = ["/admin/", *admin_changelists()]
    assert len(pages) > 5
    for page in pages:
        refused = owner.get(page)
        assert refused.status_code == 302, page
        assert refused["Location"].startswith("/admin/login/"), page
        assert Client().get(page).status_code == 302, page
        assert staff.get(page).status_code == 200, page


# -- WebSockets ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_booth_socket_refuses_a_foreign_or_revoked_ticket_like_a_missing_one(
    settings, tenant_a, tenant_b
):
    from channels.db import database_sync_to_async

    from events import services, tokens
    from tests.captures.test_consumers import connect

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    assert SOCKET_MATRIX["ws/booth/"] == "a booth ticket"
    missing = await connect(tokens.socket_ticket(uuid.uuid4(), tenant_a.booth.token_hash)).connect()
    assert missing[0] is False
    # Tenant A's booth id with tenant B's token: a ticket nobody issued.
    forged = tokens.socket_ticket(tenant_a.booth.public_id, tenant_b.booth.token_hash)
    assert await connect(forged).connect() == missing
    ticket = tokens.socket_ticket(tenant_a.booth.public_id, tenant_a.booth.token_hash)
    await database_sync_to_async(services.revoke_booth)(tenant_a.booth)
    assert await connect(ticket).connect() == missing


@pytest.mark.django_db(transaction=True)
async def test_gallery_socket_refuses_another_events_closed_gallery_like_a_missing_one(
    settings, tenant_a, tenant_b
):
    from channels.db import database_sync_to_async

    from tests.captures.test_slideshow import viewer

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    event = tenant_a.event
    missing = await viewer(event, token="z" * len(event.gallery_token)).connect()
    assert missing[0] is False
    await database_sync_to_async(type(event).objects.filter(pk=event.pk).update)(
        gallery_visibility="off"
    )
    assert await viewer(event).connect() == missing
    opened = viewer(tenant_b.event)
    assert (await opened.connect())[0] is True
    await opened.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_an_unknown_socket_path_is_refused(settings):
    from channels.testing import WebsocketCommunicator

    from boothsite.asgi import application

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    communicator = WebsocketCommunicator(
        application, "/ws/nowhere/", headers=[(b"origin", b"http://testserver")]
    )
    assert (await communicator.connect())[0] is False


def test_matrix_size():
    """The number of rows the README quotes (routes, prefixes, sockets)."""
    assert len(ROUTE_MATRIX) + len(ROUTE_PREFIXES) + len(SOCKET_MATRIX) >= 55
