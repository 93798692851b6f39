"""Events in the console: create, edit, archive and delete, and the rules behind them."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client

from captures import services as capture_services
from captures.exceptions import BoothNotAssigned
from captures.models import BoothSession, Capture, CaptureVariant, Strip
from events import services
from events.converters import RESERVED_CONSOLE_WORDS
from events.models import Booth, Event, Organiser
from events.roles import Role
from tests import factories
from tests.captures.test_branding import logo_png
from tests.conftest import stored_files

pytestmark = pytest.mark.django_db

LONDON = dt.timezone(dt.timedelta(hours=1))  # British Summer Time, for June dates


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def member(tenant, role: Role) -> Client:
    return client_for(factories.make_member(tenant.organiser, role))


def create_url(tenant) -> str:
    return f"/console/{tenant.organiser.slug}/events/new/"


def event_url(tenant, page: str, slug: str = "party") -> str:
    return f"/console/{tenant.organiser.slug}/{slug}/{page}/"


def event_data(**fields: str) -> dict[str, str]:
    return {
        "name": "Summer garden party",
        "slug": "",
        "starts_at": "2026-06-20T18:00",
        "ends_at": "2026-06-21T01:30",
        "timezone": "Europe/London",
        **fields,
    }


def test_manager_creates_an_event_through_the_form(tenant_a):
    response = member(tenant_a, Role.MANAGER).post(create_url(tenant_a), event_data())
    event = Event.objects.for_organiser(tenant_a.organiser).get(slug="summer-garden-party")
    assert response.status_code == 302
    assert response["Location"] == f"/console/alpha/{event.slug}/"
    assert event.name == "Summer garden party"
    assert event.timezone == "Europe/London"
    # Entered on a clock in London (BST, UTC+1): stored as the same instant.
    assert event.starts_at == dt.datetime(2026, 6, 20, 18, 0, tzinfo=LONDON)
    assert event.ends_at == dt.datetime(2026, 6, 21, 1, 30, tzinfo=LONDON)
    assert event.filters == ["grayscale", "sepia", "green", "blue"]
    assert event.sms_allowed_countries == [getattr(tenant_a.organiser, "country", "GB") or "GB"]


def test_the_slug_is_made_from_the_name_and_kept_unique(tenant_a):
    client = member(tenant_a, Role.OWNER)
    for _ in range(2):
        client.post(create_url(tenant_a), event_data(name="Café Night!"))
    client.post(create_url(tenant_a), event_data(name="Team"))
    slugs = set(Event.objects.for_organiser(tenant_a.organiser).values_list("slug", flat=True))
    assert {"cafe-night", "cafe-night-2", "team-2"} <= slugs
    assert not slugs & RESERVED_CONSOLE_WORDS


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"slug": "booths"}, "slug", "“booths” names a console page"),
        ({"slug": "party"}, "slug", "Another event of this organiser already uses this slug."),
        ({"slug": "Not a slug!"}, "slug", "Use only lower-case letters, digits and hyphens."),
        ({"ends_at": "2026-06-20T17:00"}, "ends_at", "The event must end after it starts."),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Unknown time zone “Mars/Olympus_Mons”"),
        ({"starts_at": "next friday"}, "starts_at", "Enter a date and time"),
        ({"starts_at": "2026-03-29T01:30"}, "starts_at", "does not exist in Europe/London"),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_a_bad_event_is_refused_in_words_and_nothing_is_created(tenant_a, fields, field, message):
    before = Event.objects.count()
    response = member(tenant_a, Role.MANAGER).post(create_url(tenant_a), event_data(**fields))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in text for text in errors[field]), errors
    assert Event.objects.count() == before


def test_the_models_refuse_what_the_form_refuses(tenant_a):
    organiser = tenant_a.organiser
    bad: list[tuple[str, dict[str, object], str]] = [
        ("monitor", {}, "slug"),
        ("ok", {"timezone": "Nowhere/City"}, "timezone"),
        ("ok", {"ends_at": dt.datetime(2000, 1, 1, tzinfo=dt.UTC)}, "ends_at"),
        ("ok", {"filters": ["grayscale", "bogus"]}, "filters"),
        ("ok", {"filters": "grayscale"}, "filters"),
        ("ok", {"strip_layouts": ["bogus"]}, "strip_layouts"),
        ("ok", {"strip_filter": "bogus"}, "strip_filter"),
    ]
    for slug, fields, field in bad:
        with pytest.raises(ValidationError) as caught:
            services.create_event(organiser, name="Bad", slug=slug, **fields)
        assert field in caught.value.message_dict, (fields, caught.value)
    assert not Event.objects.filter(name="Bad").exists()


def test_edit_changes_the_event_and_shows_its_dates_in_its_time_zone(tenant_a):
    client = member(tenant_a, Role.MANAGER)
    data = event_data(name="Renamed party", slug="renamed", timezone="America/New_York")
    response = client.post(event_url(tenant_a, "edit"), data)
    assert response.status_code == 302
    assert response["Location"] == "/console/alpha/renamed/edit/"
    event = Event.objects.get(pk=tenant_a.event.pk)
    assert (event.name, event.slug, event.timezone) == (
        "Renamed party",
        "renamed",
        data["timezone"],
    )
    assert event.starts_at == dt.datetime(2026, 6, 20, 22, 0, tzinfo=dt.UTC)  # EDT is UTC-4
    page = client.get("/console/alpha/renamed/edit/").content.decode()
    assert 'value="2026-06-20T18:00"' in page
    assert '<option value="America/New_York" selected>' in page
    assert client.get(event_url(tenant_a, "edit")).status_code == 404  # the old slug


def test_a_refused_edit_leaves_the_event_as_it_was(tenant_a):
    services.create_event(tenant_a.organiser, name="Other", slug="other")
    response = member(tenant_a, Role.OWNER).post(
        event_url(tenant_a, "edit"), event_data(name="Changed", slug="other")
    )
    assert response.status_code == 400
    assert "Another event of this organiser already uses this slug." in response.content.decode()
    event = Event.objects.get(pk=tenant_a.event.pk)
    assert (event.name, event.slug) == (tenant_a.event.name, "party")


def test_viewers_see_the_settings_read_only_and_cannot_change_anything(tenant_a):
    viewer = client_for(tenant_a.viewer)
    page = viewer.get(event_url(tenant_a, "edit"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="name"' in html
    assert "disabled" in html
    assert "Archive the event" not in html
    assert viewer.post(event_url(tenant_a, "edit"), event_data()).status_code == 403
    assert viewer.get(create_url(tenant_a)).status_code == 403
    assert viewer.post(create_url(tenant_a), event_data()).status_code == 403
    assert viewer.post(event_url(tenant_a, "archive"), {"action": "archive"}).status_code == 403
    assert viewer.get(event_url(tenant_a, "delete")).status_code == 403
    delete = {"confirm_name": tenant_a.event.name}
    assert viewer.post(event_url(tenant_a, "delete"), delete).status_code == 403
    event = Event.objects.get(pk=tenant_a.event.pk)
    assert (event.name, event.archived_at) == (tenant_a.event.name, None)
    assert Event.objects.count() == 1


def test_only_owners_delete(tenant_a):
    manager = member(tenant_a, Role.MANAGER)
    assert manager.get(event_url(tenant_a, "delete")).status_code == 403
    delete = {"confirm_name": tenant_a.event.name}
    assert manager.post(event_url(tenant_a, "delete"), delete).status_code == 403
    assert "Delete the event" not in manager.get(event_url(tenant_a, "edit")).content.decode()
    owner_page = member(tenant_a, Role.OWNER).get(event_url(tenant_a, "edit")).content.decode()
    assert "Delete the event" in owner_page
    assert Event.objects.filter(pk=tenant_a.event.pk).exists()


PAGES = [
    ("get", "edit", None),
    ("post", "edit", event_data()),
    ("post", "archive", {"action": "archive"}),
    ("get", "delete", None),
    ("post", "delete", {"confirm_name": "Event party"}),
]


@pytest.mark.parametrize(("method", "page", "body"), PAGES)
def test_another_organisers_event_answers_like_a_missing_one(
    tenant_a, tenant_b, method, page, body
):
    client = client_for(tenant_b.owner)
    foreign = getattr(client, method)(event_url(tenant_a, page), body or {})
    missing = getattr(client, method)(event_url(tenant_b, page, slug="no-such-event"), body or {})
    unknown = getattr(client, method)(f"/console/no-such-org/party/{page}/", body or {})
    assert foreign.status_code == missing.status_code == unknown.status_code == 404
    assert foreign.content == unknown.content
    event = Event.objects.get(pk=tenant_a.event.pk)
    assert (event.name, event.archived_at) == (tenant_a.event.name, None)


def test_another_organisers_create_page_answers_like_a_missing_one(tenant_a, tenant_b):
    client = client_for(tenant_b.owner)
    foreign = client.post(create_url(tenant_a), event_data())
    unknown = client.post("/console/no-such-org/events/new/", event_data())
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.content == unknown.content
    assert not Event.objects.for_organiser(tenant_a.organiser).filter(name="Summer garden party")


def test_the_pages_need_a_sign_in(anon_client, tenant_a):
    for url in (create_url(tenant_a), event_url(tenant_a, "edit"), event_url(tenant_a, "delete")):
        response = anon_client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_archiving_stops_new_sessions_and_unarchiving_brings_them_back(tenant_a, booth_client_a):
    client = member(tenant_a, Role.MANAGER)
    assert client.get(event_url(tenant_a, "archive")).status_code == 405
    response = client.post(event_url(tenant_a, "archive"), {"action": "archive"})
    assert response.status_code == 302
    event = Event.objects.get(pk=tenant_a.event.pk)
    assert event.archived_at is not None
    assert booth_client_a.post("/api/v1/booth/sessions/").status_code == 409
    with pytest.raises(BoothNotAssigned):
        capture_services.start_session(Booth.objects.get(pk=tenant_a.booth.pk))
    page = client.get(event_url(tenant_a, "edit")).content.decode()
    assert "Archived" in page
    assert "Unarchive the event" in page
    client.post(event_url(tenant_a, "archive"), {"action": "unarchive"})
    assert Event.objects.get(pk=tenant_a.event.pk).archived_at is None
    assert booth_client_a.post("/api/v1/booth/sessions/").status_code == 201


def test_archive_without_an_action_is_a_bad_request(tenant_a):
    response = member(tenant_a, Role.MANAGER).post(event_url(tenant_a, "archive"), {})
    assert response.status_code == 400
    assert Event.objects.get(pk=tenant_a.event.pk).archived_at is None


@pytest.fixture
def stored_event(tenant_a, django_capture_on_commit_callbacks):
    """Tenant A's event with a logo and a finished session: original, variants, strip."""
    with django_capture_on_commit_callbacks(execute=True):
        capture_services.update_branding(
            tenant_a.event, welcome_text="Hi", brand_color="#d63369", logo=logo_png()
        )
        session = factories.make_session(tenant_a.booth)
        capture_services.record_capture(session, factories.image_bytes("PNG"))
        capture_services.finish_session(session)
    return Event.objects.get(pk=tenant_a.event.pk)


def test_the_delete_page_says_what_goes(stored_event, tenant_a, media_root):
    files = len(stored_files(media_root))
    response = member(tenant_a, Role.OWNER).get(event_url(tenant_a, "delete"))
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary.count("captures.BoothSession") == 1
    assert summary.count("captures.Capture") == 1
    assert summary.count("captures.CaptureVariant") == 4
    assert summary.files == files
    assert summary.booths == 1
    html = response.content.decode()
    assert "<strong>1 session</strong>" in html
    assert "<strong>1 photo</strong>" in html
    assert "4 capture variants;" in html
    assert "1 strip;" in html
    assert f"{files} stored files" in html
    assert "Type the event&#x27;s name to confirm" in html


def test_a_wrong_name_deletes_nothing(stored_event, tenant_a, media_root):
    before = stored_files(media_root)
    response = member(tenant_a, Role.OWNER).post(
        event_url(tenant_a, "delete"), {"confirm_name": "party"}
    )
    assert response.status_code == 400
    assert "That is not the event&#x27;s name" in response.content.decode()
    assert Event.objects.filter(pk=stored_event.pk).exists()
    assert stored_files(media_root) == before


def test_owner_deletes_the_event_with_its_rows_and_files(
    stored_event, tenant_a, tenant_b, media_root, django_capture_on_commit_callbacks
):
    other = factories.make_session(tenant_b.booth)
    with django_capture_on_commit_callbacks(execute=True):
        capture_services.record_capture(other, factories.image_bytes("PNG"))
    kept = {p for p in stored_files(media_root) if str(tenant_b.event.public_id) in str(p)}
    assert kept
    with django_capture_on_commit_callbacks(execute=True):
        response = member(tenant_a, Role.OWNER).post(
            event_url(tenant_a, "delete"), {"confirm_name": f"  {stored_event.name} "}
        )
    assert response.status_code == 302
    assert not Event.objects.filter(pk=stored_event.pk).exists()
    assert not BoothSession.objects.filter(event_id=stored_event.pk).exists()
    assert not Capture.objects.filter(event_id=stored_event.pk).exists()
    assert not CaptureVariant.objects.filter(event_id=stored_event.pk).exists()
    assert not Strip.objects.filter(event_id=stored_event.pk).exists()
    assert set(stored_files(media_root)) == kept  # only the other tenant's files are left
    booth = Booth.objects.get(pk=tenant_a.booth.pk)
    assert booth.current_event is None
    assert Capture.objects.filter(event=tenant_b.event).count() == 1


ADMIN_EVENT = {
    "name": "Admin party",
    "slug": "admin-party",
    "starts_at_0": "2026-06-20",
    "starts_at_1": "18:00:00",
    "timezone": "UTC",
    "gallery_visibility": "link",
    "smile_threshold": "0.5",
    "brand_color": "#d6336c",
    "welcome_text": "Smile!",
    "countdown_seconds": "5",
    "captures_per_session": "4",
    "strip_layouts": '["horizontal_4"]',
    "strip_filter": "",
    "brightness": "1.0",
    "contrast": "1.0",
    "saturation": "1.0",
    "sms_template": "",
    "sms_allowed_countries": "[]",
    "retention_days": "30",
    "auto_snap": "on",
}


@pytest.mark.parametrize(("filters", "status"), [('["sepia"]', 302), ('["sepia", "bogus"]', 200)])
def test_the_admin_refuses_unknown_filters(tenant_a, filters, status):
    admin_user = User.objects.create_superuser("staff", "staff@example.com", "pw")
    client = client_for(admin_user)
    url = f"/admin/events/event/{tenant_a.event.pk}/change/"
    data = {**ADMIN_EVENT, "organiser": str(tenant_a.organiser.pk), "filters": filters}
    response = client.post(url, data)
    assert response.status_code == status, response.content.decode()[:3000]
    event = Event.objects.get(pk=tenant_a.event.pk)
    if status == 302:
        assert event.filters == json.loads(filters)
    else:
        assert "Unknown filter “bogus”" in response.content.decode()
        assert event.filters == ["grayscale", "sepia", "green", "blue"]


def test_a_new_event_texts_the_organisers_country(tenant_a):
    Organiser.objects.filter(pk=tenant_a.organiser.pk).update(country="IE")
    member(tenant_a, Role.MANAGER).post(create_url(tenant_a), event_data(slug="dublin"))
    event = Event.objects.for_organiser(tenant_a.organiser).get(slug="dublin")
    assert event.sms_allowed_countries == ["IE"]
