"""The organiser API (/api/v1/): the README's curl session, pages, filters, writes, auth."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from rest_framework.test import APIClient

from captures import services as capture_services
from captures.models import Capture
from events import api_tokens
from events.models import Booth, Event, WebhookEndpoint
from events.roles import Role
from messaging.models import SmsMessage
from tests import factories

pytestmark = pytest.mark.django_db


def token_client(tenant: Any, role: Role = Role.OWNER) -> APIClient:
    """An API client with a fresh ``bsk_`` token of ``tenant``'s owner, at ``role``."""
    _row, token = api_tokens.create_api_token(
        tenant.organiser, tenant.owner, name="tests", role=role
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _capture(tenant: Any, **fields: Any) -> Capture:
    session = factories.make_session(tenant.booth)
    capture = capture_services.record_capture(session, factories.image_bytes("PNG"))
    if fields:
        Capture.objects.filter(pk=capture.pk).update(**fields)
        capture.refresh_from_db()
    return capture


def test_readme_session_create_event_pair_booth_list_captures(tenant_a):
    api = token_client(tenant_a)
    created = api.post(
        "/api/v1/events/",
        {"name": "Summer Party", "starts_at": "2026-07-04T18:00:00Z", "timezone": "Europe/London"},
        format="json",
    )
    assert created.status_code == 201, created.content
    event_id = created.json()["id"]
    assert created.json()["slug"] == "summer-party"
    event = Event.objects.get(public_id=event_id)
    assert event.organiser == tenant_a.organiser

    booth = api.post(
        "/api/v1/booths/", {"name": "Front door", "current_event": event_id}, format="json"
    )
    assert booth.status_code == 201, booth.content
    assert booth.json()["paired"] is False
    booth_id = booth.json()["id"]

    pairing = api.post(f"/api/v1/booths/{booth_id}/pair/")
    assert pairing.status_code == 201
    assert pairing["Cache-Control"] == "no-store"
    code = pairing.json()["code"]
    assert pairing.json()["link"].endswith(f"#pair={code}")
    # The kiosk redeems the code for its booth token, then takes a photo.
    paired = APIClient().post("/api/v1/booth/pair/", {"code": code}, format="json")
    assert paired.status_code in (200, 201), paired.content
    kiosk = Booth.objects.get(public_id=booth_id)
    session = capture_services.start_session(kiosk)
    capture = capture_services.record_capture(session, factories.image_bytes("PNG"))

    listed = api.get("/api/v1/captures/", {"event": event_id})
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [str(capture.public_id)]
    assert listed.json()["results"][0]["session"] == str(session.public_id)
    assert api.get(f"/api/v1/booths/{booth_id}/").json()["paired"] is True


def test_cursor_pages_follow_next_links_newest_first(tenant_a):
    api = token_client(tenant_a)
    for n in range(5):
        factories.make_event(tenant_a.organiser, slug=f"e{n}")
    seen: list[str] = []
    url: str | None = "/api/v1/events/?page_size=2"
    pages = 0
    while url:
        page = api.get(url)
        assert page.status_code == 200
        body = page.json()
        assert len(body["results"]) <= 2
        seen += [row["slug"] for row in body["results"]]
        url = body["next"]
        if url:
            assert "cursor" in parse_qs(urlsplit(url).query)
        pages += 1
    assert pages == 3
    assert seen == ["e4", "e3", "e2", "e1", "e0", "party"]


@pytest.mark.parametrize("url", ["/api/v1/events/", "/api/v1/captures/", "/api/v1/sms/"])
#: Not base64; an offset of -1 (``o=-1``); a position that is no datetime (``p=2026``);
#: a position holding a NUL (``p=%00``).
@pytest.mark.parametrize("cursor", ["x", "bz0tMQ==", "cD0yMDI2", "cD0lMDA="])
def test_an_invalid_cursor_is_a_400_not_a_404(tenant_a, url, cursor):
    response = token_client(tenant_a, Role.VIEWER).get(url, {"cursor": cursor})
    assert response.status_code == 400, response.content
    assert response.json() == {"detail": "Invalid cursor."}


def test_webhook_deliveries_refuse_an_invalid_cursor(tenant_a, settings):
    settings.BOOTHSITE_WEBHOOK_ALLOW_PRIVATE = True
    api = token_client(tenant_a)
    created = api.post(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:8000/hook", "event_types": ["capture.ready"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    url = f"/api/v1/webhooks/{created.json()['id']}/deliveries/"
    assert api.get(url).json() == {"next": None, "previous": None, "results": []}
    bad = api.get(url, {"cursor": "x"})
    assert bad.status_code == 400
    assert bad.json() == {"detail": "Invalid cursor."}


def test_page_size_is_capped_and_ordering_is_whitelisted(tenant_a):
    api = token_client(tenant_a)
    assert api.get("/api/v1/events/?page_size=5000").status_code == 200
    by_name = api.get("/api/v1/events/?ordering=name")
    assert by_name.status_code == 200
    bad = api.get("/api/v1/events/?ordering=gallery_token")
    assert bad.status_code == 400
    assert "ordering" in bad.json()


def test_filters_select_rows(tenant_a):
    api = token_client(tenant_a)
    shown = _capture(tenant_a)
    hidden = _capture(tenant_a, hidden=True)
    rows = api.get("/api/v1/captures/", {"hidden": "true"}).json()["results"]
    assert [row["id"] for row in rows] == [str(hidden.public_id)]
    rows = api.get("/api/v1/captures/", {"session": str(shown.session.public_id)}).json()
    assert [row["id"] for row in rows["results"]] == [str(shown.public_id)]
    archived = factories.make_event(tenant_a.organiser, slug="old")
    api.post(f"/api/v1/events/{archived.public_id}/archive/")
    rows = api.get("/api/v1/events/", {"archived": "true"}).json()["results"]
    assert [row["slug"] for row in rows] == ["old"]
    rows = api.get("/api/v1/sessions/", {"status": "open"}).json()["results"]
    assert len(rows) == 2


def test_date_time_filters_take_any_iso_offset(tenant_a):
    # ISO 8601 allows +18:31; PostgreSQL refuses offsets beyond ±15:59 unless in UTC.
    api = token_client(tenant_a)
    before = api.get("/api/v1/events/", {"starts_before": "0882-02-01T05:06:36.129004+18:31"})
    assert before.status_code == 200, before.content
    assert before.json()["results"] == []
    after = api.get("/api/v1/events/", {"starts_after": "0882-02-01T05:06:36+18:31"})
    assert after.status_code == 200, after.content
    _capture(tenant_a)
    taken = api.get("/api/v1/captures/", {"taken_after": "2000-01-01T00:00:00-17:59"})
    assert taken.status_code == 200, taken.content
    assert len(taken.json()["results"]) == 1


def test_a_cursor_position_with_a_far_offset_is_read_in_utc(tenant_a):
    import base64

    cursor = base64.b64encode(b"p=0882-02-01 05:06:36%2B18:31").decode()
    response = token_client(tenant_a).get("/api/v1/events/", {"cursor": cursor})
    assert response.status_code == 200, response.content
    assert [row["slug"] for row in response.json()["results"]] == []


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/captures/?event=not-a-uuid", "event"),
        ("/api/v1/captures/?hidden=perhaps", "hidden"),
        ("/api/v1/captures/?taken_after=yesterday", "taken_after"),
        ("/api/v1/sessions/?status=closed", "status"),
        ("/api/v1/sessions/?booth=12", "booth"),
        ("/api/v1/sms/?status=lost", "status"),
        ("/api/v1/events/?archived=maybe", "archived"),
        # No UTC equivalent: before year 1, after 9999.
        ("/api/v1/events/?starts_after=0001-01-01T00:00:00%2B05:00", "starts_after"),
        ("/api/v1/captures/?taken_before=9999-12-31T23:00:00-05:00", "taken_before"),
    ],
)
def test_bad_filter_values_are_400_with_field_errors(tenant_a, url, field):
    response = token_client(tenant_a).get(url)
    assert response.status_code == 400
    assert field in response.json()


def test_hide_show_and_delete_a_capture_through_the_services(tenant_a):
    api = token_client(tenant_a)
    capture = _capture(tenant_a)
    hid = api.patch(f"/api/v1/captures/{capture.public_id}/", {"hidden": True}, format="json")
    assert hid.status_code == 200
    assert hid.json()["hidden"] is True
    capture.refresh_from_db()
    assert capture.hidden
    shown = api.patch(f"/api/v1/captures/{capture.public_id}/", {"hidden": False}, format="json")
    assert shown.json()["hidden"] is False
    bad = api.patch(f"/api/v1/captures/{capture.public_id}/", {"hidden": "x"}, format="json")
    assert bad.status_code == 400
    assert "hidden" in bad.json()
    # A PATCH with no field changes nothing (the schema's PATCH body is all optional).
    same = api.patch(f"/api/v1/captures/{capture.public_id}/", {}, format="json")
    assert same.status_code == 200, same.content
    assert same.json()["hidden"] is False
    assert api.delete(f"/api/v1/captures/{capture.public_id}/").status_code == 204
    assert not Capture.objects.filter(pk=capture.pk).exists()
    assert api.get(f"/api/v1/captures/{capture.public_id}/").status_code == 404


def test_event_validation_errors_are_field_errors(tenant_a):
    api = token_client(tenant_a)
    missing = api.post("/api/v1/events/", {"name": "x"}, format="json")
    assert missing.status_code == 400
    assert "starts_at" in missing.json()
    zone = api.post(
        "/api/v1/events/",
        {"name": "x", "starts_at": "2026-07-04T18:00:00Z", "timezone": "Mars/Base"},
        format="json",
    )
    assert zone.status_code == 400
    taken = api.patch(
        f"/api/v1/events/{tenant_a.event.public_id}/", {"slug": "party"}, format="json"
    )
    assert taken.status_code == 200
    factories.make_event(tenant_a.organiser, slug="other")
    clash = api.patch(
        f"/api/v1/events/{tenant_a.event.public_id}/", {"slug": "other"}, format="json"
    )
    assert clash.status_code == 400
    assert "slug" in clash.json()
    tenant_a.event.refresh_from_db()
    assert tenant_a.event.slug == "party"


def test_booth_assign_to_foreign_event_is_refused(tenant_a, tenant_b):
    api = token_client(tenant_a)
    response = api.patch(
        f"/api/v1/booths/{tenant_a.booth.public_id}/",
        {"current_event": str(tenant_b.event.public_id)},
        format="json",
    )
    assert response.status_code == 400
    assert "current_event" in response.json()
    tenant_a.booth.refresh_from_db()
    assert tenant_a.booth.current_event == tenant_a.event


def test_rename_a_booth_and_bad_names_leave_it_unchanged(tenant_a):
    api = token_client(tenant_a)
    url = f"/api/v1/booths/{tenant_a.booth.public_id}/"
    renamed = api.patch(url, {"name": "  Back door "}, format="json")
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["name"] == "Back door"
    for bad in ("", "   ", "x" * 201):
        response = api.patch(url, {"name": bad}, format="json")
        assert response.status_code == 400, (bad, response.content)
        assert "name" in response.json()
    tenant_a.booth.refresh_from_db()
    assert tenant_a.booth.name == "Back door"


def test_rename_booth_service_checks_the_name(tenant_a):
    from django.core.exceptions import ValidationError

    from events import services

    booth = tenant_a.booth
    assert services.rename_booth(booth, " Porch ").name == "Porch"
    with pytest.raises(ValidationError) as raised:
        services.rename_booth(booth, "   ")
    assert "name" in raised.value.message_dict
    assert booth.name == "Porch"
    booth.refresh_from_db()
    assert booth.name == "Porch"


def test_rotate_and_revoke_a_booth(tenant_a):
    api = token_client(tenant_a)
    booth_id = tenant_a.booth.public_id
    rotated = api.post(f"/api/v1/booths/{booth_id}/rotate/")
    assert rotated.status_code == 201
    new_token = rotated.json()["token"]
    assert new_token.startswith("bth_")
    old = APIClient()
    old.credentials(HTTP_AUTHORIZATION=f"Booth {tenant_a.token}")
    assert old.get("/api/v1/booth/me/").status_code == 401
    assert api.post(f"/api/v1/booths/{booth_id}/revoke/").status_code == 200
    assert api.post(f"/api/v1/booths/{booth_id}/pair/").status_code == 409
    assert api.post(f"/api/v1/booths/{booth_id}/rotate/").status_code == 409


def test_sms_numbers_are_masked(tenant_a):
    session = factories.make_session(tenant_a.booth)
    SmsMessage.objects.create(
        organiser=tenant_a.organiser,
        event=tenant_a.event,
        session=session,
        to="+447400123456",
        body="Your photos",
    )
    response = token_client(tenant_a, Role.VIEWER).get("/api/v1/sms/")
    assert response.status_code == 200
    assert response.json()["results"][0]["to"] == "+44 74** ***456"
    assert "7400123456" not in response.content.decode()
    assert "Your photos" not in response.content.decode()


def test_webhooks_crud_and_private_url_refused(tenant_a, settings):
    settings.BOOTHSITE_WEBHOOK_ALLOW_PRIVATE = False
    api = token_client(tenant_a)
    private = api.post(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:8000/hook", "event_types": ["capture.ready"]},
        format="json",
    )
    assert private.status_code == 400
    assert "url" in private.json()
    unknown = api.post(
        "/api/v1/webhooks/",
        {"url": "https://93.184.215.14/hook", "event_types": ["capture.gone"]},
        format="json",
    )
    assert unknown.status_code == 400
    assert "event_types" in unknown.json()
    assert not WebhookEndpoint.objects.exists()

    settings.BOOTHSITE_WEBHOOK_ALLOW_PRIVATE = True
    created = api.post(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:8000/hook", "event_types": ["capture.ready"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["secret"].startswith("whsec_")
    hook_id = created.json()["id"]
    got = api.get(f"/api/v1/webhooks/{hook_id}/").json()
    assert "secret" not in got
    changed = api.patch(f"/api/v1/webhooks/{hook_id}/", {"enabled": False}, format="json")
    assert changed.status_code == 200
    assert changed.json()["enabled"] is False
    deliveries = api.get(f"/api/v1/webhooks/{hook_id}/deliveries/")
    assert deliveries.status_code == 200
    assert deliveries.json()["results"] == []
    assert api.delete(f"/api/v1/webhooks/{hook_id}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_session_auth_needs_csrf_on_writes(tenant_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant_a.owner)
    assert client.get("/api/v1/events/").status_code == 200
    body = {"name": "Party two", "starts_at": "2026-07-04T18:00:00Z"}
    refused = client.post("/api/v1/events/", body, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    token = "a" * 32  # a CSRF secret; the cookie and the header must match
    client.cookies["csrftoken"] = token
    created = client.post(
        "/api/v1/events/", body, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert created.status_code == 201, created.content


def test_session_user_with_no_organiser_gets_a_clear_403(db):
    client = Client()
    client.force_login(factories.make_user())
    response = client.get("/api/v1/events/")
    assert response.status_code == 403
    assert "organiser" in response.json()["detail"]


def test_bad_and_revoked_tokens_are_401(tenant_a):
    row, token = api_tokens.create_api_token(
        tenant_a.organiser, tenant_a.owner, name="old", role=Role.OWNER
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer bsk_" + "x" * 40)
    assert client.get("/api/v1/events/").status_code == 401
    api_tokens.revoke_api_token(row)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/events/").status_code == 401


def test_malformed_and_missing_ids_are_the_same_404(tenant_a):
    api = token_client(tenant_a)
    missing = api.get(f"/api/v1/events/{uuid.uuid4()}/")
    malformed = api.get("/api/v1/events/12/")
    assert missing.status_code == malformed.status_code == 404
    assert missing.json() == malformed.json() == {"detail": "Not found."}


def test_schema_and_docs_pages_are_served(tenant_a):
    client = Client()
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/events/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
    assert b"<script>" not in docs.content  # the CSP allows script files only
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert b"/api/schema/" in script.content


def test_requests_beyond_the_rate_get_429_with_retry_after(tenant_a, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "api": "2/min",
        },
    }
    api = token_client(tenant_a)
    assert [api.get("/api/v1/events/").status_code for _ in range(2)] == [200, 200]
    refused = api.get("/api/v1/events/")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    other = token_client(tenant_a)  # counted per token
    assert other.get("/api/v1/events/").status_code == 200


def test_options_is_allowed_to_viewers(tenant_a):
    response = token_client(tenant_a, Role.VIEWER).options("/api/v1/events/")
    assert response.status_code == 200
