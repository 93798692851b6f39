"""Foreign keys never cross tenants (issue 11.11, RELIABILITY 33).

Organiser A's booth must not point at organiser B's event, nor A's sessions, captures,
variants and strips at B's event: the models' ``clean()`` refuses them (and so every
admin form, which runs ``full_clean``), and the session service refuses a foreign
current event that got into the database some other way.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client

from captures import services as capture_services
from captures.models import BoothSession, Capture, CaptureVariant, Strip
from events.models import Booth, Event
from tests import factories
from tests.conftest import booth_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("staff", "staff@example.com", "pw"))
    return client


def booth_form(booth: Booth, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": booth.name,
        "organiser": booth.organiser_id,
        "current_event": booth.current_event_id or "",
        "revoked_at_0": "",
        "revoked_at_1": "",
        "camera_width": booth.camera_width,
        "camera_height": booth.camera_height,
        "camera_mirror": "on",
        "camera_brightness": "",
        "camera_contrast": "",
        "camera_zoom": "",
    }
    return data | changes


def test_admin_change_form_refuses_another_organisers_event(staff, tenant_a, tenant_b):
    booth = tenant_a.booth
    url = f"/admin/events/booth/{booth.pk}/change/"
    form = staff.get(url)
    assert form.status_code == 200
    offered = form.context["adminform"].form.fields["current_event"].queryset
    assert list(offered) == [tenant_a.event]  # B's event is not even offered
    response = staff.post(url, booth_form(booth, current_event=tenant_b.event.pk))
    assert response.status_code == 200  # the form again, with its error
    assert response.context["adminform"].form.errors["current_event"]
    booth.refresh_from_db()
    assert booth.current_event_id == tenant_a.event.pk
    # The form itself works: the booth's own event saves.
    ok = staff.post(url, booth_form(booth, name="Renamed"))
    assert ok.status_code == 302
    booth.refresh_from_db()
    assert booth.name == "Renamed"


def test_admin_add_form_refuses_another_organisers_event(staff, tenant_a, tenant_b):
    data = booth_form(tenant_a.booth, name="New booth", current_event=tenant_b.event.pk)
    response = staff.post("/admin/events/booth/add/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["current_event"] == [
        "Choose an event of the booth's own organiser."
    ]
    assert not Booth.objects.filter(name="New booth").exists()


def test_admin_cannot_move_a_booth_with_sessions_or_its_event(staff, tenant_a, tenant_b):
    factories.make_session(tenant_a.booth)
    booth = tenant_a.booth
    response = staff.post(
        f"/admin/events/booth/{booth.pk}/change/",
        booth_form(booth, organiser=tenant_b.organiser.pk, current_event=""),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["organiser"]
    booth.refresh_from_db()
    assert booth.organiser_id == tenant_a.organiser.pk
    event = Event.objects.get(pk=tenant_a.event.pk)
    event.organiser = tenant_b.organiser
    event.slug = "moved"
    with pytest.raises(ValidationError) as raised:
        event.full_clean()
    assert "organiser" in raised.value.message_dict


def test_admin_adds_no_sessions_captures_variants_or_strips(staff, db):
    for model in ("boothsession", "capture", "capturevariant", "strip"):
        assert staff.get(f"/admin/captures/{model}/add/").status_code == 403


def test_booth_pointed_at_a_foreign_event_by_raw_update_cannot_start_a_session(tenant_a, tenant_b):
    Booth.objects.filter(pk=tenant_a.booth.pk).update(current_event=tenant_b.event)
    response = booth_client(tenant_a.token).post("/api/v1/booth/sessions/", format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "booth_not_assigned"
    assert BoothSession.objects.count() == 0
    assert tenant_b.event.name not in response.content.decode()


def test_start_session_refuses_a_foreign_current_event(tenant_a, tenant_b):
    from captures.exceptions import BoothNotAssigned

    booth = tenant_a.booth
    booth.current_event = tenant_b.event  # as a raw UPDATE would leave it
    with pytest.raises(BoothNotAssigned):
        capture_services.start_session(booth)
    with pytest.raises(ValueError, match="another organiser"):
        capture_services.start_session(booth, tenant_b.event)
    assert not BoothSession.objects.exists()


@pytest.fixture
def rendered(tenant_a, django_capture_on_commit_callbacks):
    """A's session with one capture, its variants and its strip, made by the services."""
    session = factories.make_session(tenant_a.booth)
    with django_capture_on_commit_callbacks(execute=True):
        capture_services.record_capture(session, factories.image_bytes("PNG"))
        capture_services.finish_session(session)
    return session


def test_rows_made_by_the_services_pass_full_clean(tenant_a, rendered):
    tenant_a.booth.full_clean()
    tenant_a.event.full_clean()
    rendered.full_clean()
    for capture in Capture.objects.filter(session=rendered):
        capture.full_clean()
    for variant in CaptureVariant.objects.filter(capture__session=rendered):
        variant.full_clean()
    for strip in Strip.objects.filter(session=rendered):
        strip.full_clean()


def _rows(session: BoothSession) -> list[BoothSession | Capture | CaptureVariant | Strip | None]:
    return [
        BoothSession.objects.get(pk=session.pk),
        Capture.objects.filter(session=session).first(),
        CaptureVariant.objects.filter(capture__session=session).first(),
        Strip.objects.filter(session=session).first(),
    ]


@pytest.mark.parametrize("index", [0, 1, 2, 3], ids=["session", "capture", "variant", "strip"])
def test_full_clean_refuses_another_organisers_event(tenant_a, tenant_b, rendered, index):
    row = _rows(rendered)[index]
    assert row is not None
    row.event = tenant_b.event
    with pytest.raises(ValidationError) as raised:
        row.full_clean()
    assert "event" in raised.value.message_dict


@pytest.mark.parametrize("index", [1, 2, 3], ids=["capture", "variant", "strip"])
def test_full_clean_refuses_another_event_of_the_same_organiser(tenant_a, rendered, index):
    row = _rows(rendered)[index]
    assert row is not None
    row.event = factories.make_event(tenant_a.organiser, slug="other-party")
    with pytest.raises(ValidationError) as raised:
        row.full_clean()
    assert "event" in raised.value.message_dict


def test_full_clean_refuses_a_booth_with_another_organisers_event(tenant_a, tenant_b):
    booth = Booth.objects.get(pk=tenant_a.booth.pk)
    booth.current_event = tenant_b.event
    with pytest.raises(ValidationError) as raised:
        booth.full_clean()
    assert raised.value.message_dict["current_event"] == [
        "Choose an event of the booth's own organiser."
    ]


def test_full_clean_refuses_a_session_of_another_organisers_booth(tenant_a, tenant_b):
    session = BoothSession(booth=tenant_b.booth, event=tenant_a.event)
    with pytest.raises(ValidationError) as raised:
        session.full_clean()
    assert "event" in raised.value.message_dict
