"""The ``animated`` strip layout: a looping WebP and GIF of the session's photos (issue 14.6)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageSequence

from captures import imaging, services
from captures.models import BoothSession, RenderStatus, Strip
from tests import factories
from tests.conftest import stored_files

RED, GREEN, BLUE, YELLOW = (230, 20, 20), (20, 200, 40), (20, 40, 230), (220, 210, 30)


def solid(colour, size=(800, 600)) -> Image.Image:
    return Image.new("RGB", size, colour)


Frame = tuple[Any, Any, tuple[int, int]]


def frames_of(data: bytes) -> list[Frame]:
    """Each frame of an animation as (duration ms, centre colour, size)."""
    opened = Image.open(io.BytesIO(data))
    out: list[Frame] = []
    for frame in ImageSequence.Iterator(opened):
        frame.load()
        rgb = frame.convert("RGB")
        out.append((frame.info.get("duration"), rgb.getpixel((240, 180)), rgb.size))
    return out


def near(got, want, tolerance=24) -> bool:
    return all(abs(int(a) - int(b)) <= tolerance for a, b in zip(got, want, strict=True))


# --- Pure imaging -------------------------------------------------------------------


def test_the_layout_is_in_the_registry_and_animated():
    spec = imaging.STRIP_LAYOUTS["animated"]
    assert spec.animated
    assert (spec.width, spec.height, spec.frame_ms) == (480, 360, 800)
    assert not imaging.STRIP_LAYOUTS["horizontal_4"].animated
    assert imaging.strip_frame_boxes("animated", 3) == [(0, 0, 480, 360)] * 3


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_frames_loop_and_durations(count):
    colours = [RED, GREEN, BLUE, YELLOW][:count]
    encoded = imaging.render_strip_file([solid(c) for c in colours], "animated")
    assert encoded.format == "WEBP"
    assert encoded.content_type == "image/webp"
    assert encoded.extension == "webp"
    assert (encoded.width, encoded.height) == (480, 360)
    for data, fmt in ((encoded.data, "WEBP"), (encoded.gif, "GIF")):
        opened = Image.open(io.BytesIO(data))
        assert opened.format == fmt
        assert getattr(opened, "n_frames", 1) == count
        frames = frames_of(data)
        assert [size for _, _, size in frames] == [(480, 360)] * count
        assert all(near(got, want) for (_, got, _), want in zip(frames, colours, strict=True))
        if count > 1:
            assert opened.info["loop"] == 0  # forever
            assert [ms for ms, _, _ in frames] == [800] * count
    thumb = Image.open(io.BytesIO(encoded.thumbnail))
    assert thumb.format == "JPEG"
    assert near(thumb.convert("RGB").getpixel((240, 180)), RED)


def test_frames_are_centre_cropped_to_4_by_3():
    wide = Image.new("RGB", (1920, 1080), RED)
    wide.paste(BLUE, (0, 0, 200, 1080))  # the left edge is cropped away
    frames = imaging.compose_animation([wide])
    assert frames[0].size == (480, 360)
    assert near(frames[0].getpixel((0, 180)), RED)


def test_the_gif_is_smaller_than_pillows_default_and_close_to_the_photos():
    paths = factories.genki_photos(4)
    if len(paths) < 4:
        pytest.skip("../shared/data/genki4k-dev is not beside this checkout")
    photos = imaging.compose_animation([Image.open(p) for p in paths])
    ours = imaging.encode_animated_gif(photos, 800)
    default = io.BytesIO()
    photos[0].save(default, "GIF", save_all=True, append_images=photos[1:], duration=800, loop=0)
    assert len(ours) < 0.8 * len(default.getvalue())
    decoded = [f.convert("RGB") for f in ImageSequence.Iterator(Image.open(io.BytesIO(ours)))]
    for got, want in zip(decoded, photos, strict=True):
        difference = np.abs(np.asarray(got, np.int16) - np.asarray(want, np.int16))
        assert float(difference.mean()) < 5.0  # of 255


def test_the_strip_filter_applies_to_every_frame():
    encoded = imaging.render_strip_file(
        [solid(RED), solid(BLUE)], "animated", filter_name="grayscale"
    )
    for _, (r, g, b), _ in frames_of(encoded.data) + frames_of(encoded.gif):
        assert abs(r - g) <= 8
        assert abs(g - b) <= 8


def test_bad_input_is_refused_by_name():
    with pytest.raises(ValueError, match="animated"):
        imaging.compose_strip([solid(RED)], "animated")
    with pytest.raises(ValueError, match="not an animated"):
        imaging.compose_animation([solid(RED)], "horizontal_4")
    with pytest.raises(ValueError, match="1 to 4"):
        imaging.render_strip_file([solid(RED)] * 5, "animated")
    with pytest.raises(ValueError, match="at least one frame"):
        imaging.encode_animated_gif([], 800)
    with pytest.raises(ValueError, match="same size"):
        imaging.encode_animated_webp([solid(RED), solid(RED, (10, 10))], 800)
    with pytest.raises(ValueError, match="frame_ms"):
        imaging.encode_animated_webp([solid(RED)], 0)


# --- The strip task -------------------------------------------------------------------


def run_session(booth, committing, colours) -> BoothSession:
    session = factories.make_session(booth)
    with committing(execute=True):
        for colour in colours:
            services.record_capture(session, factories.image_bytes("JPEG", (96, 72), colour))
        services.finish_session(session)
    return session


@pytest.fixture
def animated_event(tenant_a):
    tenant_a.event.strip_layouts = ["horizontal_4", "animated"]
    tenant_a.event.save(update_fields=["strip_layouts"])
    return tenant_a


def stored(field) -> bytes:
    with field.open("rb") as handle:
        return bytes(handle.read())


@pytest.mark.django_db
def test_the_task_stores_the_webp_the_gif_and_their_sizes(
    animated_event, anon_client, django_capture_on_commit_callbacks
):
    session = run_session(
        animated_event.booth, django_capture_on_commit_callbacks, [RED, GREEN, BLUE]
    )
    strip = session.strips.get(layout="animated")
    assert strip.status == RenderStatus.READY
    assert strip.image.name.endswith(".webp")
    assert strip.gif.name.endswith(".gif")
    assert strip.thumbnail.name.endswith(".jpg")
    webp, gif = stored(strip.image), stored(strip.gif)
    assert strip.size_bytes == len(webp) > 0
    assert strip.gif_size_bytes == len(gif) > 0
    assert (strip.width, strip.height) == (480, 360)
    for data in (webp, gif):
        frames = frames_of(data)
        assert len(frames) == 3
        assert all(
            near(got, want) for (_, got, _), want in zip(frames, [RED, GREEN, BLUE], strict=True)
        )
    # The seed strip is unaffected and has no GIF.
    seed = session.strips.get(layout="horizontal_4")
    assert (seed.gif.name, seed.gif_size_bytes) == ("", 0)
    # Both files are served with their types.
    for field, content_type in ((strip.image, "image/webp"), (strip.gif, "image/gif")):
        response = anon_client.get(field.url)
        assert response.status_code == 200
        assert response["Content-Type"] == content_type


@pytest.mark.django_db
def test_a_session_of_one_capture_gives_a_still_webp_and_gif(
    animated_event, django_capture_on_commit_callbacks
):
    session = run_session(animated_event.booth, django_capture_on_commit_callbacks, [GREEN])
    strip = session.strips.get(layout="animated")
    assert strip.status == RenderStatus.READY
    for data in (stored(strip.image), stored(strip.gif)):
        frames = frames_of(data)
        assert len(frames) == 1
        assert near(frames[0][1], GREEN)
    assert strip.gif_size_bytes == len(stored(strip.gif))


@pytest.mark.django_db
def test_hidden_captures_are_left_out_when_it_renders_again(
    animated_event, media_root, django_capture_on_commit_callbacks
):
    session = run_session(
        animated_event.booth, django_capture_on_commit_callbacks, [RED, GREEN, BLUE]
    )
    strip = session.strips.get(layout="animated")
    old_files = {strip.image.name, strip.gif.name, strip.thumbnail.name}
    middle = list(session.captures.order_by("taken_at", "pk"))[1]
    with django_capture_on_commit_callbacks(execute=True):
        services.hide_capture(middle)
    strip.refresh_from_db()
    assert strip.status == RenderStatus.READY
    for data in (stored(strip.image), stored(strip.gif)):
        frames = frames_of(data)
        assert len(frames) == 2
        assert all(near(got, want) for (_, got, _), want in zip(frames, [RED, BLUE], strict=True))
    assert strip.size_bytes == len(stored(strip.image))
    assert strip.gif_size_bytes == len(stored(strip.gif))
    # The files showing the hidden photo are deleted, GIF included.
    on_disk = {p.relative_to(media_root).as_posix() for p in stored_files(media_root)}
    assert not old_files & on_disk


@pytest.mark.django_db
def test_deleting_the_strip_deletes_its_gif(
    animated_event, media_root, django_capture_on_commit_callbacks
):
    session = run_session(animated_event.booth, django_capture_on_commit_callbacks, [RED])
    strip = session.strips.get(layout="animated")
    gif_name = strip.gif.name
    with django_capture_on_commit_callbacks(execute=True):
        Strip.objects.filter(pk=strip.pk).delete()
    on_disk = {p.relative_to(media_root).as_posix() for p in stored_files(media_root)}
    assert gif_name not in on_disk
