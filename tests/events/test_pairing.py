"""Booth tokens and one-time pairing codes."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from events import services
from events.models import Booth
from tests.conftest import booth_client

pytestmark = pytest.mark.django_db


def pair(code: str):
    return APIClient().post("/api/v1/booth/pair/", {"code": code}, format="json")


def test_pairing_code_gives_a_working_token_once(tenant_a):
    code = services.issue_pairing_code(tenant_a.booth).secret
    first = pair(code)
    assert first.status_code == 200
    token = first.json()["token"]
    assert token.startswith("bth_")
    assert first.json()["booth"]["event"]["name"] == tenant_a.event.name
    me = booth_client(token).get("/api/v1/booth/me/")
    assert me.status_code == 200
    assert me.json()["name"] == tenant_a.booth.name
    second = pair(code)
    assert second.status_code == 400
    assert second.json()["detail"] == services.PAIRING_FAILED_MESSAGE


def test_pairing_replaces_the_old_token(tenant_a):
    code = services.issue_pairing_code(tenant_a.booth).secret
    pair(code)
    assert booth_client(tenant_a.token).get("/api/v1/booth/me/").status_code == 401


def test_expired_and_unknown_codes_fail_alike(tenant_a, time_machine):
    code = services.issue_pairing_code(tenant_a.booth, ttl=dt.timedelta(minutes=5)).secret
    unknown = pair("pair_" + "x" * 24)
    time_machine.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6))
    expired = pair(code)
    assert expired.status_code == unknown.status_code == 400
    assert expired.content == unknown.content


def test_revoked_booth_cannot_pair(tenant_a):
    code = services.issue_pairing_code(tenant_a.booth).secret
    services.revoke_booth(tenant_a.booth)
    assert pair(code).status_code == 400


def test_tokens_are_stored_hashed(tenant_a):
    booth = Booth.objects.get(pk=tenant_a.booth.pk)
    assert tenant_a.token not in (booth.token_hash, booth.token_prefix)
    assert len(booth.token_hash) == 64
    assert tenant_a.token[4:12] == booth.token_prefix


def test_rotated_token_replaces_the_old_one(tenant_a):
    new = services.rotate_booth_token(tenant_a.booth).secret
    assert booth_client(tenant_a.token).get("/api/v1/booth/me/").status_code == 401
    assert booth_client(new).get("/api/v1/booth/me/").status_code == 200


def test_booth_cannot_be_given_another_organisers_event(tenant_a, tenant_b):
    with pytest.raises(ValueError, match="another organiser"):
        services.assign_event(tenant_a.booth, tenant_b.event)


def test_me_describes_camera_and_branding(tenant_a):
    tenant_a.booth.camera_zoom = 1.5
    tenant_a.booth.save()
    body = booth_client(tenant_a.token).get("/api/v1/booth/me/").json()
    assert body["camera"]["zoom"] == 1.5
    assert body["camera"]["mirror"] is True
    assert body["event"]["brand_color"] == "#d6336c"
    assert body["event"]["auto_snap"] is True


def test_socket_tickets_name_the_booth_and_expire(tenant_a, time_machine):
    from events import access, tokens

    response = booth_client(tenant_a.token).post("/api/v1/booth/socket-ticket/")
    assert response.status_code == 200
    ticket = response.json()["ticket"]
    assert ":" not in ticket
    assert access.access_booth_by_ticket(ticket) == tenant_a.booth
    assert access.access_booth_by_ticket(ticket[:-2] + "xx") is None
    time_machine.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=tokens.TICKET_MAX_AGE + 5))
    assert access.access_booth_by_ticket(ticket) is None
