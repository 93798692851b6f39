"""The console's booth pages: add, pair, re-pair, rotate, revoke, assign (issue 13.4).

Every page goes through the test client with a signed-in member; the kiosk side is the
real booth API (``/api/v1/booth/pair/`` and ``me/``) and, for the open socket, the real
ASGI application through Channels' in-process communicator.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
import zoneinfo

import pytest
import segno
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from events import services
from events.models import Booth
from events.roles import Role
from tests import factories
from tests.conftest import booth_client

pytestmark = pytest.mark.django_db

CODE = re.compile(r"pair_[A-Za-z0-9_-]{24}")
TOKEN = re.compile(r"bth_[A-Za-z0-9_-]{43}")


def member(tenant, role: Role) -> Client:
    client = Client()
    client.force_login(factories.make_member(tenant.organiser, role))
    return client


@pytest.fixture
def manager_a(tenant_a) -> Client:
    return member(tenant_a, Role.MANAGER)


@pytest.fixture
def viewer_a(tenant_a) -> Client:
    client = Client()
    client.force_login(tenant_a.viewer)
    return client


def url(tenant, action: str = "", booth: Booth | None = None) -> str:
    base = f"/console/{tenant.organiser.slug}/booths/"
    if booth is None:
        return base + (f"{action}/" if action else "")
    return f"{base}{booth.public_id}/" + (f"{action}/" if action else "")


def pair(code: str):
    return APIClient().post("/api/v1/booth/pair/", {"code": code}, format="json")


def code_in(response):
    codes = set(CODE.findall(response.content.decode()))
    assert len(codes) == 1, codes
    return codes.pop()


def row(page: str, name: str) -> str:
    """The list's table row of the booth called ``name``."""
    (found,) = [chunk for chunk in page.split("<tr")[1:] if f">{name}</a>" in chunk]
    return found.split("</tr>")[0]


def fact(page: str, label: str) -> str:
    """What the detail page says under ``label`` (its ``<dt>``)."""
    match = re.search(rf"<dt>{label}</dt>\s*<dd[^>]*>(.*?)</dd>", page, re.S)
    assert match, label
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip()


def create_form(client: Client, tenant) -> str:
    """Open the add-a-booth form and return its one-time submission id."""
    page = client.get(url(tenant, "new")).content.decode()
    match = re.search(r'name="submission" value="([0-9a-f-]{36})"', page)
    assert match, page
    return match.group(1)


# ---- the list ------------------------------------------------------------------------


def test_the_list_shows_each_booths_event_state_and_links(tenant_a, tenant_b, viewer_a):
    unpaired = services.add_booth(tenant_a.organiser, name="Garden booth")
    revoked = services.add_booth(tenant_a.organiser, name="Old booth", event=tenant_a.event)
    services.revoke_booth(revoked)
    response = viewer_a.get(url(tenant_a))
    assert response.status_code == 200
    page = response.content.decode()
    for booth in (tenant_a.booth, unpaired, revoked):
        assert f'href="{url(tenant_a, booth=booth)}"' in page
        assert f'href="{url(tenant_a, "camera", booth)}"' in page
    assert "Paired" in row(page, "Booth alpha")
    assert tenant_a.event.name in row(page, "Booth alpha")
    assert "Not paired" in row(page, "Garden booth")
    assert "No event" in row(page, "Garden booth")
    assert "never" in row(page, "Garden booth")
    assert "Revoked" in row(page, "Old booth")
    assert tenant_b.booth.name not in page


def test_the_list_is_paginated_with_a_bounded_number_of_queries(
    tenant_a, viewer_a, django_assert_max_num_queries
):
    for n in range(30):
        services.add_booth(tenant_a.organiser, name=f"Booth {n:02}", event=tenant_a.event)
    with django_assert_max_num_queries(8):
        first = viewer_a.get(url(tenant_a))
    second = viewer_a.get(url(tenant_a) + "?page=2")
    assert first.content.decode().count('aria-label="Camera settings of') == 25
    assert second.content.decode().count('aria-label="Camera settings of') == 6
    assert "Page 1 of 2" in first.content.decode()
    assert viewer_a.get(url(tenant_a) + "?page=bogus").status_code == 200


def test_viewers_see_no_controls_that_would_refuse_them(tenant_a, viewer_a, manager_a):
    assert url(tenant_a, "new") not in viewer_a.get(url(tenant_a)).content.decode()
    assert url(tenant_a, "new") in manager_a.get(url(tenant_a)).content.decode()
    detail = viewer_a.get(url(tenant_a, booth=tenant_a.booth)).content.decode()
    assert fact(detail, "State") == "Paired"
    for action in ("pair", "assign", "rotate", "revoke"):
        assert url(tenant_a, action, tenant_a.booth) not in detail


# ---- adding a booth ------------------------------------------------------------------


def test_adding_a_booth_shows_its_one_time_pairing_code_link_and_qr(tenant_a, manager_a):
    submission = create_form(manager_a, tenant_a)
    response = manager_a.post(
        url(tenant_a, "new"), {"name": "Garden booth", "event": "party", "submission": submission}
    )
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    booth = Booth.objects.get(name="Garden booth")
    assert booth.organiser == tenant_a.organiser
    assert booth.current_event == tenant_a.event
    assert booth.token_hash == ""  # no kiosk holds a token until one pairs
    code = code_in(response)
    link = f"{settings.SITE_URL}/booth/#pair={code}"
    page = response.content.decode()
    assert f'href="{link}"' in page
    qr = segno.make(link, error="m").svg_inline(dark="#111", light="#fff", omitsize=True)
    assert qr in page  # the QR code encodes exactly that link
    assert booth.pairing_expires_at is not None
    expires = re.search(r'id="pairing-expires" datetime="([^"]+)"', page)
    assert expires
    assert dt.datetime.fromisoformat(expires.group(1)) == booth.pairing_expires_at
    redeemed = pair(code)
    assert redeemed.status_code == 200
    assert redeemed.json()["booth"]["event"]["name"] == tenant_a.event.name
    assert pair(code).status_code == 400  # single use


def test_a_resubmitted_add_form_makes_one_booth_and_a_fresh_code(tenant_a, manager_a):
    submission = create_form(manager_a, tenant_a)
    body = {"name": "Garden booth", "event": "", "submission": submission}
    first = code_in(manager_a.post(url(tenant_a, "new"), body))
    again = manager_a.post(url(tenant_a, "new"), body)
    assert again.status_code == 200
    assert Booth.objects.filter(name="Garden booth").count() == 1
    second = code_in(again)
    assert second != first
    assert pair(first).status_code == 400  # the page showing it was replaced
    assert pair(second).status_code == 200


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the booth a name."),
        ("   ", "Give the booth a name."),
        ("x" * 101, "at most 100 characters"),
        ("booth ALPHA", "You already have a booth called"),
    ],
)
def test_a_bad_name_is_refused_with_a_clear_message(tenant_a, manager_a, name, message):
    body = {"name": name, "event": "party", "submission": create_form(manager_a, tenant_a)}
    response = manager_a.post(url(tenant_a, "new"), body)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Booth.objects.count() == 1


def test_a_lost_submission_id_is_a_clear_400(tenant_a, manager_a):
    response = manager_a.post(url(tenant_a, "new"), {"name": "Garden", "submission": "x"})
    assert response.status_code == 400
    assert "open the form again" in response.content.decode()
    assert not Booth.objects.filter(name="Garden").exists()


def test_an_event_of_another_organiser_answers_like_a_missing_one(tenant_a, tenant_b, manager_a):
    factories.make_event(tenant_b.organiser, slug="bravo-only")
    answers = []
    for slug in ("bravo-only", "no-such-event"):
        body = {"name": "Garden", "event": slug, "submission": create_form(manager_a, tenant_a)}
        answers.append(manager_a.post(url(tenant_a, "new"), body))
        answers.append(manager_a.post(url(tenant_a, "assign", tenant_a.booth), {"event": slug}))
    assert {answer.status_code for answer in answers} == {404}
    assert answers[0].content == answers[2].content
    assert answers[1].content == answers[3].content
    assert not Booth.objects.filter(name="Garden").exists()
    tenant_a.booth.refresh_from_db()
    assert tenant_a.booth.current_event == tenant_a.event


# ---- pairing and re-pairing ----------------------------------------------------------


def test_the_code_is_shown_only_on_the_page_answering_the_post(tenant_a, manager_a, caplog):
    caplog.set_level(logging.DEBUG)
    response = manager_a.post(url(tenant_a, "pair", tenant_a.booth))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    code = code_in(response)
    page = response.content.decode()
    hrefs = [href for href in re.findall(r'(?:href|action)="([^"]*)"', page) if code in href]
    assert hrefs == [f"{settings.SITE_URL}/booth/#pair={code}"]  # never a console URL
    assert code not in caplog.text
    for page_url in (url(tenant_a), url(tenant_a, booth=tenant_a.booth)):
        later = manager_a.get(page_url).content.decode()
        assert code not in later
        assert "Pairing code waiting" in later


def test_re_pairing_replaces_the_code_and_cuts_the_old_kiosk_once_used(tenant_a, manager_a):
    first = code_in(manager_a.post(url(tenant_a, "pair", tenant_a.booth)))
    second = code_in(manager_a.post(url(tenant_a, "pair", tenant_a.booth)))
    assert booth_client(tenant_a.token).get("/api/v1/booth/me/").status_code == 200
    assert pair(first).status_code == 400
    new_token = pair(second).json()["token"]
    assert booth_client(tenant_a.token).get("/api/v1/booth/me/").status_code == 401
    assert booth_client(new_token).get("/api/v1/booth/me/").status_code == 200


def test_the_expiry_is_shown_in_the_booths_event_time_zone(tenant_a, manager_a):
    tenant_a.event.timezone = "Asia/Tokyo"
    tenant_a.event.save(update_fields=["timezone"])
    page = manager_a.post(url(tenant_a, "pair", tenant_a.booth)).content.decode()
    tenant_a.booth.refresh_from_db()
    expires = tenant_a.booth.pairing_expires_at.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert f"{expires:%H:%M} (Asia/Tokyo)" in page


def test_the_pair_page_only_answers_posts(tenant_a, manager_a):
    response = manager_a.get(url(tenant_a, "pair", tenant_a.booth))
    assert response.status_code == 302
    assert response["Location"] == url(tenant_a, booth=tenant_a.booth)
    tenant_a.booth.refresh_from_db()
    assert tenant_a.booth.pairing_code_hash == ""


def test_the_state_reads_paired_once_the_kiosk_redeems_the_code(tenant_a, manager_a):
    booth = services.add_booth(tenant_a.organiser, name="Garden booth")
    page = manager_a.get(url(tenant_a, booth=booth)).content.decode()
    assert fact(page, "State") == "Not paired"
    assert fact(page, "Last seen") == "never"
    token = pair(code_in(manager_a.post(url(tenant_a, "pair", booth)))).json()["token"]
    booth_client(token).get("/api/v1/booth/me/")
    page = manager_a.get(url(tenant_a, booth=booth)).content.decode()
    assert fact(page, "State") == "Paired"
    assert fact(page, "Last seen") == "just now"


def test_an_expired_code_no_longer_shows_as_waiting(tenant_a, manager_a, time_machine):
    manager_a.post(url(tenant_a, "pair", tenant_a.booth))
    time_machine.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))
    assert "Pairing code waiting" not in manager_a.get(url(tenant_a)).content.decode()


# ---- rotating and revoking -----------------------------------------------------------


def test_rotating_asks_first_then_shows_the_new_token_once(tenant_a, manager_a):
    confirm = manager_a.get(url(tenant_a, "rotate", tenant_a.booth))
    assert confirm.status_code == 200
    assert f'action="{url(tenant_a, "rotate", tenant_a.booth)}"' in confirm.content.decode()
    assert booth_client(tenant_a.token).get("/api/v1/booth/me/").status_code == 200
    response = manager_a.post(url(tenant_a, "rotate", tenant_a.booth))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    (token,) = set(TOKEN.findall(response.content.decode()))
    assert booth_client(tenant_a.token).get("/api/v1/booth/me/").status_code == 401
    assert booth_client(token).get("/api/v1/booth/me/").status_code == 200
    assert token not in manager_a.get(url(tenant_a, booth=tenant_a.booth)).content.decode()


def test_revoking_asks_first_then_cuts_the_booth_off_over_http(tenant_a, manager_a):
    code = services.issue_pairing_code(tenant_a.booth).secret
    confirm = manager_a.get(url(tenant_a, "revoke", tenant_a.booth))
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.content.decode()
    tenant_a.booth.refresh_from_db()
    assert tenant_a.booth.revoked_at is None  # asking changes nothing
    response = manager_a.post(url(tenant_a, "revoke", tenant_a.booth))
    assert response.status_code == 302
    assert response["Location"] == url(tenant_a, booth=tenant_a.booth)
    assert booth_client(tenant_a.token).get("/api/v1/booth/me/").status_code == 401
    assert pair(code).status_code == 400
    page = manager_a.get(url(tenant_a, booth=tenant_a.booth)).content.decode()
    assert fact(page, "State").startswith("Revoked")
    assert url(tenant_a, "pair", tenant_a.booth) not in page


@pytest.mark.parametrize(("action", "body"), [("pair", {}), ("rotate", {}), ("assign", {})])
def test_a_revoked_booth_cannot_be_paired_rotated_or_moved(tenant_a, manager_a, action, body):
    services.revoke_booth(tenant_a.booth)
    response = manager_a.post(url(tenant_a, action, tenant_a.booth), body)
    assert response.status_code == 409
    assert "This booth is revoked" in response.content.decode()
    tenant_a.booth.refresh_from_db()
    assert tenant_a.booth.pairing_code_hash == ""
    assert tenant_a.booth.current_event == tenant_a.event
    assert booth_client(tenant_a.token).get("/api/v1/booth/me/").status_code == 401


def test_revoking_twice_is_harmless(tenant_a, manager_a):
    manager_a.post(url(tenant_a, "revoke", tenant_a.booth))
    tenant_a.booth.refresh_from_db()
    revoked_at = tenant_a.booth.revoked_at
    assert manager_a.post(url(tenant_a, "revoke", tenant_a.booth)).status_code == 302
    tenant_a.booth.refresh_from_db()
    assert tenant_a.booth.revoked_at == revoked_at


# ---- assigning -----------------------------------------------------------------------


def test_a_booth_moves_to_another_event_and_to_none(tenant_a, manager_a):
    other = factories.make_event(tenant_a.organiser, slug="wedding")
    moved = manager_a.post(url(tenant_a, "assign", tenant_a.booth), {"event": "wedding"})
    assert moved.status_code == 302
    tenant_a.booth.refresh_from_db()
    assert tenant_a.booth.current_event == other
    me = booth_client(tenant_a.token).get("/api/v1/booth/me/").json()
    assert me["event"]["name"] == other.name
    manager_a.post(url(tenant_a, "assign", tenant_a.booth), {"event": ""})
    tenant_a.booth.refresh_from_db()
    assert tenant_a.booth.current_event is None
    detail = manager_a.get(url(tenant_a, booth=tenant_a.booth)).content.decode()
    assert fact(detail, "Event") == "No event"


def test_an_archived_event_is_not_offered_and_is_refused(tenant_a, manager_a):
    factories.make_event(tenant_a.organiser, slug="old", archived_at=dt.datetime.now(dt.UTC))
    detail = manager_a.get(url(tenant_a, booth=tenant_a.booth)).content.decode()
    assert 'value="old"' not in detail
    response = manager_a.post(url(tenant_a, "assign", tenant_a.booth), {"event": "old"})
    assert response.status_code == 400
    assert "archived" in response.content.decode()
    tenant_a.booth.refresh_from_db()
    assert tenant_a.booth.current_event == tenant_a.event


# ---- who may do what -----------------------------------------------------------------

ACTIONS = [
    ("new", {"name": "Garden", "event": "party"}),
    ("pair", {}),
    ("assign", {"event": ""}),
    ("rotate", {}),
    ("revoke", {}),
]


def action_url(tenant, action: str, booth_id: object) -> str:
    if action == "new":
        return f"/console/{tenant.organiser.slug}/booths/new/"
    return f"/console/{tenant.organiser.slug}/booths/{booth_id}/{action}/"


def untouched(tenant) -> bool:
    booth = Booth.objects.get(pk=tenant.booth.pk)
    return (
        booth.revoked_at is None
        and booth.pairing_code_hash == ""
        and booth.current_event_id == tenant.event.pk
        and booth.token_hash == tenant.booth.token_hash
        and Booth.objects.for_organiser(tenant.organiser).count() == 1
    )


@pytest.mark.parametrize(("action", "body"), ACTIONS)
def test_viewers_get_403_on_every_action(tenant_a, viewer_a, action, body):
    response = viewer_a.post(action_url(tenant_a, action, tenant_a.booth.public_id), body)
    assert response.status_code == 403
    assert untouched(tenant_a)


@pytest.mark.parametrize("action", ["new", "rotate", "revoke"])
def test_viewers_get_403_on_the_forms_and_confirmations(tenant_a, viewer_a, action):
    response = viewer_a.get(action_url(tenant_a, action, tenant_a.booth.public_id))
    assert response.status_code == 403


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER])
def test_owners_and_managers_act(tenant_a, role):
    client = member(tenant_a, role)
    assert client.post(action_url(tenant_a, "pair", tenant_a.booth.public_id)).status_code == 200
    response = client.post(action_url(tenant_a, "assign", tenant_a.booth.public_id), {"event": ""})
    assert response.status_code == 302


PAGES = ["", "pair", "assign", "rotate", "revoke", "camera"]


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("action", PAGES)
def test_another_organisers_booth_answers_like_a_missing_one(tenant_a, tenant_b, method, action):
    client = Client()
    client.force_login(tenant_b.owner)
    suffix = f"{action}/" if action else ""
    send = getattr(client, method)
    answers = [
        send(f"/console/bravo/booths/{booth_id}/{suffix}", {"event": ""})
        for booth_id in (tenant_a.booth.public_id, uuid.uuid4(), "not-a-uuid")
    ]
    answers.append(send(f"/console/alpha/booths/{tenant_a.booth.public_id}/{suffix}"))
    expected = 405 if (method, action) == ("post", "") else 404  # the booth's page only shows
    assert [answer.status_code for answer in answers] == [expected] * 4
    assert len({answer.content for answer in answers}) == 1
    assert untouched(tenant_a)


@pytest.mark.parametrize("page", ["", "new"])
def test_another_organisers_lists_and_forms_answer_like_missing_ones(tenant_a, tenant_b, page):
    client = Client()
    client.force_login(tenant_b.owner)
    suffix = f"{page}/" if page else ""
    foreign = client.get(f"/console/alpha/booths/{suffix}")
    missing = client.get(f"/console/no-such-org/booths/{suffix}")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content


@pytest.mark.parametrize(("action", "body"), ACTIONS)
def test_signed_out_visitors_are_sent_to_sign_in(tenant_a, anon_client, action, body):
    response = anon_client.post(action_url(tenant_a, action, tenant_a.booth.public_id), body)
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")
    assert untouched(tenant_a)


# ---- the open socket -----------------------------------------------------------------


@pytest.fixture
def in_memory_layer(settings) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


async def open_kiosk_socket(booth: Booth):
    from channels.testing import WebsocketCommunicator

    from boothsite.asgi import application
    from events import tokens

    ticket = tokens.socket_ticket(booth.public_id, booth.token_hash)
    communicator = WebsocketCommunicator(
        application,
        "/ws/booth/",
        headers=[(b"origin", b"http://testserver")],
        subprotocols=["boothsite.v1", f"ticket.{ticket}"],
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


def console_changes(tenant, action: str) -> None:
    """Sign in as the owner and press the console's button for ``action``."""
    client = Client()
    client.force_login(tenant.owner)
    response = client.post(url(tenant, "pair" if action == "re-pair" else action, tenant.booth))
    assert response.status_code in {200, 302}
    if action == "re-pair":
        assert pair(code_in(response)).status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["revoke", "rotate", "re-pair"])
async def test_the_console_closes_the_kiosks_open_socket_at_once(tenant_a, in_memory_layer, action):
    from channels.db import database_sync_to_async

    communicator = await open_kiosk_socket(tenant_a.booth)
    await database_sync_to_async(console_changes)(tenant_a, action)
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4003}
    await communicator.wait()
