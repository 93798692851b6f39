"""Deleting rows deletes their stored files after the commit, and only then."""

from __future__ import annotations

import pytest
from django.db import transaction

from captures import services
from captures.models import Capture
from tests import factories
from tests.captures.test_branding import logo_png
from tests.conftest import stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored_event(tenant_a, media_root, django_capture_on_commit_callbacks):
    """Tenant A's event with a logo and a finished session: original, variants, strip."""
    event = tenant_a.event
    with django_capture_on_commit_callbacks(execute=True):
        services.update_branding(event, welcome_text="Hi", brand_color="#d63369", logo=logo_png())
        session = factories.make_session(tenant_a.booth)
        services.record_capture(session, factories.image_bytes("PNG"))
        services.finish_session(session)
    names = {path.name for path in stored_files(media_root)}
    assert len(names) >= 4  # logo, original, thumbnail, variants, strip
    return event


def test_deleting_an_event_deletes_its_logo_photos_and_strips(
    stored_event, media_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        stored_event.delete()
    assert stored_files(media_root) == []


def test_deleting_one_capture_deletes_only_its_files(
    stored_event, media_root, django_capture_on_commit_callbacks
):
    capture = Capture.objects.get()
    own = {capture.image.name, capture.thumbnail.name}
    own |= {n for v in capture.variants.all() for n in (v.image.name, v.thumbnail.name)}
    before = {p.relative_to(media_root).as_posix() for p in stored_files(media_root)}
    with django_capture_on_commit_callbacks(execute=True):
        capture.delete()
    after = {p.relative_to(media_root).as_posix() for p in stored_files(media_root)}
    assert after == before - own
    assert stored_event.logo.name in after


def test_a_rolled_back_delete_keeps_the_files(
    stored_event, media_root, django_capture_on_commit_callbacks
):
    def delete_then_fail() -> None:
        with transaction.atomic():
            stored_event.delete()
            raise RuntimeError("abort")

    before = stored_files(media_root)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        delete_then_fail()
    assert callbacks == []
    assert stored_files(media_root) == before
