"""Every endpoint and tenant: another organiser's object answers exactly like a missing one."""

from __future__ import annotations

import base64
import uuid

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
