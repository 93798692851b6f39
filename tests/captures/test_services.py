"""Capture services: whole sessions on real photos, idempotent rendering, on-commit queueing."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from captures import services, tasks
from captures.models import BoothSession, Capture, CaptureVariant, RenderStatus, Strip
from tests import factories
from tests.conftest import stored_files

pytestmark = pytest.mark.django_db

# The seed's tints (DESIGN.md section 7): colour and density.
SEED_TINTS = {
    "grayscale": ((0xFF, 0xFF, 0xFF), 50),
    "sepia": ((0xAC, 0x7A, 0x33), 30),
    "green": ((0x19, 0xC9, 0x19), 30),
    "blue": ((0x1D, 0x35, 0xEA), 30),
}


def seed_formula(pixels: np.ndarray, name: str) -> np.ndarray:
    """The seed's float64 arithmetic: out_c = round_half_up(factor_c * luma)."""
    colour, density = SEED_TINTS[name]
    rgb = pixels.astype(np.float64)
    luma = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    out = np.empty_like(rgb)
    for c in range(3):
        factor = (colour[c] * density + 255 * (100 - density)) / 25500
        out[..., c] = np.floor(factor * luma + 0.5)
    return out.astype(np.int16)


def read_pixels(field) -> np.ndarray:
    with field.open("rb") as stored:
        return np.asarray(Image.open(io.BytesIO(stored.read())).convert("RGB"), dtype=np.int16)


@pytest.fixture
def real_photos():
    photos = factories.genki_photos(4)
    if len(photos) < 4:
        pytest.skip("../shared/data/genki4k-dev is not beside this checkout")
    return [path.read_bytes() for path in photos]


def run_session(tenant, photos, committing) -> BoothSession:
    session = factories.make_session(tenant.booth)
    with committing(execute=True):
        for data in photos:
            services.record_capture(session, data)
        services.finish_session(session)
    return session


def test_whole_session_on_real_photos(
    tenant_a, real_photos, settings, django_capture_on_commit_callbacks
):
    settings.BOOTHSITE_VARIANT_FORMAT = "PNG"
    session = run_session(tenant_a, real_photos, django_capture_on_commit_callbacks)
    captures = list(session.captures.all())
    assert len(captures) == 4
    assert all(c.render_status == RenderStatus.READY for c in captures)
    assert CaptureVariant.objects.filter(capture__session=session).count() == 16
    strip = Strip.objects.get(session=session)
    assert strip.status == RenderStatus.READY
    assert (strip.width, strip.height) == (2560, 480)


def test_stored_variants_follow_the_seed_formula(
    tenant_a, real_photos, settings, django_capture_on_commit_callbacks
):
    settings.BOOTHSITE_VARIANT_FORMAT = "PNG"
    session = run_session(tenant_a, real_photos, django_capture_on_commit_callbacks)
    for capture in session.captures.all():
        original = read_pixels(capture.image)
        for variant in capture.variants.all():
            rendered = read_pixels(variant.image)
            expected = seed_formula(original, variant.filter)
            assert rendered.shape == expected.shape
            assert int(np.abs(rendered - expected).max()) <= 1, variant.filter


def test_render_variants_twice_stores_each_filter_once(tenant_a, media_root):
    session = factories.make_session(tenant_a.booth)
    capture = services.record_capture(session, factories.image_bytes("PNG"))
    tasks.render_variants(capture.pk)
    files_after_first = len(stored_files(media_root))
    tasks.render_variants(capture.pk)
    assert capture.variants.count() == 4
    assert len(stored_files(media_root)) == files_after_first


def test_finish_twice_renders_one_strip(tenant_a):
    session = factories.make_session(tenant_a.booth)
    services.record_capture(session, factories.image_bytes("PNG"))
    services.finish_session(session)
    services.finish_session(session)
    tasks.render_strips(session.pk)
    assert session.strips.count() == 1


def test_finish_without_captures_is_refused(tenant_a):
    from captures.exceptions import NothingToFinish

    session = factories.make_session(tenant_a.booth)
    with pytest.raises(NothingToFinish):
        services.finish_session(session)
    session.refresh_from_db()
    assert session.status == "open"


def test_variants_are_queued_on_commit_only(tenant_a, django_capture_on_commit_callbacks):
    session = factories.make_session(tenant_a.booth)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        capture = services.record_capture(session, factories.image_bytes("PNG"))
    assert len(callbacks) == 1
    assert capture.variants.count() == 0


def test_no_task_and_no_file_when_the_insert_fails(
    tenant_a, media_root, monkeypatch, django_capture_on_commit_callbacks
):
    session = factories.make_session(tenant_a.booth)

    def explode(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Capture.objects, "create", explode)
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(RuntimeError),
    ):
        services.record_capture(session, factories.image_bytes("PNG"))
    assert callbacks == []
    assert stored_files(media_root) == []


def test_task_for_a_deleted_capture_is_a_no_op(tenant_a):
    session = factories.make_session(tenant_a.booth)
    capture = services.record_capture(session, factories.image_bytes("PNG"))
    capture_id = capture.pk
    capture.delete()
    tasks.render_variants(capture_id)
    assert not CaptureVariant.objects.filter(capture_id=capture_id).exists()


def test_storage_keys_are_random_and_tenant_prefixed(tenant_a):
    session = factories.make_session(tenant_a.booth)
    capture = services.record_capture(session, factories.image_bytes("JPEG"))
    prefix = f"{tenant_a.organiser.public_id}/{tenant_a.event.public_id}/"
    assert capture.image.name.startswith(prefix)
    assert capture.image.name.endswith(".jpg")
    names = [capture.image.name, capture.thumbnail.name]
    names += [v.image.name for v in capture.variants.all()]
    assert len(set(names)) == len(names)


def test_event_adjustments_and_strip_filter_are_applied(
    tenant_a, settings, django_capture_on_commit_callbacks
):
    settings.BOOTHSITE_VARIANT_FORMAT = "PNG"
    event = tenant_a.event
    event.brightness, event.strip_filter, event.filters = 0.5, "grayscale", ["red_only"]
    event.save()
    session = factories.make_session(tenant_a.booth)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_capture(session, factories.image_bytes("PNG", color=(200, 120, 40)))
        services.finish_session(session)
    variant = CaptureVariant.objects.get()
    assert variant.filter == "red_only"
    assert tuple(read_pixels(variant.image)[0, 0]) == (100, 0, 0)
    strip = Strip.objects.get()
    assert strip.filter == "grayscale"
    red, green, blue = read_pixels(strip.image)[240, 320]
    assert abs(int(red) - int(green)) <= 2
    assert abs(int(green) - int(blue)) <= 2
