"""An event's capture and gallery settings in the console, and the service behind them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from captures import imaging, services
from captures.models import CaptureVariant
from events.models import Event
from events.roles import Role
from tests import factories

pytestmark = pytest.mark.django_db

CAPTURE = {
    "auto_snap": "on",
    "smile_threshold": "0.65",
    "countdown_seconds": "3",
    "captures_per_session": "2",
    "filters": ["red_only", "grayscale"],
    "strip_layouts": ["classic_2x6"],
    "strip_filter": "sepia",
    "brightness": "1.2",
    "contrast": "0.9",
    "saturation": "0",
}


def client_for(tenant, role: Role) -> Client:
    client = Client()
    client.force_login(factories.make_member(tenant.organiser, role))
    return client


def url(tenant, page: str) -> str:
    return f"/console/{tenant.organiser.slug}/{tenant.event.slug}/{page}/"


def reload(tenant) -> Event:
    return Event.objects.get(pk=tenant.event.pk)


def test_the_page_offers_every_filter_and_layout_of_the_registry(tenant_a):
    response = client_for(tenant_a, Role.VIEWER).get(url(tenant_a, "capture"))
    assert response.status_code == 200
    html = response.content.decode()
    labels = {name: f.label for name, f in imaging.FILTERS.items()}
    labels |= {name: layout.label for name, layout in imaging.STRIP_LAYOUTS.items()}
    for name, label in labels.items():
        assert f'value="{name}"' in html
        assert label in html
    form = response.context["form"]
    assert form["filters"].value() == list(imaging.SEED_FILTERS)
    assert form["strip_layouts"].value() == ["horizontal_4"]
    assert 'type="range"' in html


def test_manager_changes_capture_settings_and_they_apply(
    tenant_a, django_capture_on_commit_callbacks
):
    response = client_for(tenant_a, Role.MANAGER).post(url(tenant_a, "capture"), CAPTURE)
    assert response.status_code == 302
    event = reload(tenant_a)
    assert services.enabled_filters(event) == ["grayscale", "red_only"]  # registry order
    assert services.enabled_layouts(event) == ["classic_2x6"]
    assert (event.strip_filter, event.auto_snap) == ("sepia", True)
    assert (event.smile_threshold, event.countdown_seconds, event.captures_per_session) == (
        0.65,
        3,
        2,
    )
    assert (event.brightness, event.contrast, event.saturation) == (1.2, 0.9, 0.0)
    with django_capture_on_commit_callbacks(execute=True):
        session = factories.make_session(tenant_a.booth)
        capture = services.record_capture(session, factories.image_bytes("PNG"))
    rendered = CaptureVariant.objects.filter(capture=capture).values_list("filter", flat=True)
    assert sorted(rendered) == ["grayscale", "red_only"]


def test_unchecking_every_filter_renders_originals_only(tenant_a):
    data = {key: value for key, value in CAPTURE.items() if key != "filters"}
    response = client_for(tenant_a, Role.OWNER).post(url(tenant_a, "capture"), data)
    assert response.status_code == 302
    assert services.enabled_filters(reload(tenant_a)) == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"filters": ["grayscale", "bogus"]}, "filters", "Unknown filter “bogus”"),
        ({"strip_layouts": ["bogus"]}, "strip_layouts", "Unknown strip layout “bogus”"),
        ({"strip_layouts": []}, "strip_layouts", "Choose at least one strip layout."),
        ({"strip_filter": "bogus"}, "strip_filter", "Unknown filter “bogus”"),
        ({"brightness": "2.5"}, "brightness", "less than or equal to 2"),
        ({"saturation": "-1"}, "saturation", "greater than or equal to 0"),
        ({"smile_threshold": "1.5"}, "smile_threshold", "less than or equal to 1"),
        ({"countdown_seconds": "31"}, "countdown_seconds", "less than or equal to 30"),
        ({"captures_per_session": "5"}, "captures_per_session", "less than or equal to 4"),
        ({"countdown_seconds": "soon"}, "countdown_seconds", "Enter a whole number."),
    ],
)
def test_bad_capture_settings_are_refused_in_words(tenant_a, changes, field, message):
    response = client_for(tenant_a, Role.MANAGER).post(url(tenant_a, "capture"), CAPTURE | changes)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in text for text in errors[field]), errors
    event = reload(tenant_a)
    assert event.filters == list(imaging.SEED_FILTERS)
    assert (event.countdown_seconds, event.brightness) == (5, 1.0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"filters": ["bogus"]}, "filters"),
        ({"strip_layouts": ["horizontal_4", "bogus"]}, "strip_layouts"),
        ({"strip_filter": "bogus"}, "strip_filter"),
        ({"brightness": 3.0}, "brightness"),
        ({"captures_per_session": 0}, "captures_per_session"),
    ],
)
def test_the_service_refuses_what_the_form_refuses(tenant_a, changes, field):
    settings = {
        "auto_snap": True,
        "smile_threshold": 0.5,
        "countdown_seconds": 5,
        "captures_per_session": 4,
        "filters": ["sepia"],
        "strip_layouts": ["horizontal_4"],
        "strip_filter": "",
        "brightness": 1.0,
        "contrast": 1.0,
        "saturation": 1.0,
    }
    event = tenant_a.event
    with pytest.raises(ValidationError) as caught:
        services.update_capture_settings(event, **(settings | changes))
    assert field in caught.value.message_dict
    assert event.filters == list(imaging.SEED_FILTERS)  # the instance is left as it was
    assert reload(tenant_a).filters == list(imaging.SEED_FILTERS)


def test_viewers_see_capture_settings_read_only_and_get_403_on_post(tenant_a):
    viewer = Client()
    viewer.force_login(tenant_a.viewer)
    page = viewer.get(url(tenant_a, "capture"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "disabled" in html
    assert ">Save</button>" not in html
    assert viewer.post(url(tenant_a, "capture"), CAPTURE).status_code == 403
    assert viewer.post(url(tenant_a, "gallery"), {"gallery_visibility": "off"}).status_code == 403
    assert viewer.get(url(tenant_a, "gallery")).status_code == 200
    event = reload(tenant_a)
    assert (event.countdown_seconds, event.gallery_visibility) == (5, "link")


@pytest.mark.parametrize("page", ["capture", "gallery"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_organisers_settings_answer_like_missing_ones(tenant_a, tenant_b, page, method):
    client = Client()
    client.force_login(tenant_b.owner)
    body = CAPTURE if page == "capture" else {"gallery_visibility": "off", "retention_days": "1"}
    foreign = getattr(client, method)(url(tenant_a, page), body)
    unknown = getattr(client, method)(f"/console/no-such-org/party/{page}/", body)
    missing = getattr(client, method)(f"/console/bravo/no-such-event/{page}/", body)
    assert foreign.status_code == unknown.status_code == missing.status_code == 404
    assert foreign.content == unknown.content
    event = reload(tenant_a)
    assert (event.countdown_seconds, event.gallery_visibility) == (5, "link")


GALLERY = {"gallery_visibility": "passcode", "gallery_passcode": "smile", "retention_days": "14"}


def test_manager_sets_a_passcode_stored_hashed_and_retention(tenant_a, anon_client):
    client = client_for(tenant_a, Role.MANAGER)
    data = GALLERY | {"retention_purges_photos": "on"}
    response = client.post(url(tenant_a, "gallery"), data)
    assert response.status_code == 302
    event = reload(tenant_a)
    assert event.gallery_visibility == "passcode"
    assert "smile" not in event.gallery_passcode_hash
    assert event.check_gallery_passcode("smile")
    assert (event.retention_days, event.retention_purges_photos) == (14, True)
    page = client.get(url(tenant_a, "gallery")).content.decode()
    assert "smile" not in page
    assert "Remove the passcode" in page
    gallery = anon_client.get(event.gallery_path())
    assert b'name="passcode"' in gallery.content


def test_a_passcode_gallery_needs_a_passcode(tenant_a):
    client = client_for(tenant_a, Role.MANAGER)
    response = client.post(url(tenant_a, "gallery"), GALLERY | {"gallery_passcode": ""})
    assert response.status_code == 400
    assert "Set a passcode for a gallery that needs one." in response.content.decode()
    client.post(url(tenant_a, "gallery"), GALLERY)
    remove = GALLERY | {"gallery_passcode": "", "clear_gallery_passcode": "on"}
    response = client.post(url(tenant_a, "gallery"), remove)
    assert response.status_code == 400
    assert reload(tenant_a).check_gallery_passcode("smile")
    link = remove | {"gallery_visibility": "link"}
    assert client.post(url(tenant_a, "gallery"), link).status_code == 302
    event = reload(tenant_a)
    assert (event.gallery_visibility, event.gallery_passcode_hash) == ("link", "")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"gallery_passcode": "abc"}, "at least 4 characters"),
        ({"gallery_visibility": "public"}, "Select a valid choice."),
        ({"retention_days": "0"}, "greater than or equal to 1"),
        ({"retention_days": ""}, "This field is required."),
    ],
)
def test_bad_gallery_settings_are_refused_in_words(tenant_a, changes, message):
    response = client_for(tenant_a, Role.OWNER).post(url(tenant_a, "gallery"), GALLERY | changes)
    assert response.status_code == 400
    assert message in response.content.decode()
    event = reload(tenant_a)
    assert (event.gallery_visibility, event.retention_days) == ("link", 30)


def test_turning_the_gallery_off_closes_it_and_a_new_link_retires_the_old(tenant_a, anon_client):
    client = client_for(tenant_a, Role.MANAGER)
    old = tenant_a.event.gallery_path()
    assert client.post(url(tenant_a, "gallery"), {"rotate_link": "1"}).status_code == 302
    new = reload(tenant_a).gallery_path()
    assert new != old
    assert anon_client.get(old).status_code == 410
    assert anon_client.get(new).status_code == 200
    off = {"gallery_visibility": "off", "retention_days": "30"}
    assert client.post(url(tenant_a, "gallery"), off).status_code == 302
    assert anon_client.get(new).status_code == 404
