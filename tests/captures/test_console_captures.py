"""The console's captures page: list, hide, show again and delete an event's photos (13.6)."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from captures import access, services
from captures.models import BoothSession, Capture, CaptureVariant, RenderStatus, Strip
from events.roles import Role
from tests import factories
from tests.conftest import stored_files

pytestmark = pytest.mark.django_db

RED, GREEN, BLUE = (230, 20, 20), (20, 200, 40), (20, 40, 230)


def run_session(booth, committing, colours) -> BoothSession:
    session = factories.make_session(booth)
    with committing(execute=True):
        for colour in colours:
            services.record_capture(session, factories.image_bytes("JPEG", (96, 72), colour))
        services.finish_session(session)
    return session


@pytest.fixture
def finished(tenant_a, django_capture_on_commit_callbacks) -> BoothSession:
    """Tenant A's session of three photos (red, green, blue) with its seed strip."""
    return run_session(tenant_a.booth, django_capture_on_commit_callbacks, [RED, GREEN, BLUE])


def photos(session: BoothSession) -> list[Capture]:
    return list(session.captures.order_by("taken_at", "pk"))


def url(tenant, tail: str = "") -> str:
    return f"/console/{tenant.organiser.slug}/party/captures/{tail}"


def member(tenant, role: Role = Role.MANAGER) -> Client:
    client = Client()
    client.force_login(tenant.owner if role == Role.OWNER else factories.make_member(
        tenant.organiser, role
    ))  # fmt: skip
    return client


def strip_frames(strip: Strip) -> list[object]:
    """The colour at the centre of each 640x480 frame of a seed strip, left to right."""
    with strip.image.open("rb") as stored:
        image = Image.open(io.BytesIO(stored.read())).convert("RGB")
    assert image.height == 480
    return [image.getpixel((x + 320, 240)) for x in range(0, image.width, 640)]


def near(colour, wanted, slack: int = 24) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(colour, wanted, strict=True))


def assert_frames(strip: Strip, colours) -> None:
    frames = strip_frames(strip)
    assert len(frames) == len(colours), frames
    assert all(near(got, want) for got, want in zip(frames, colours, strict=True)), frames


def post(client: Client, path: str, committing, **data):
    with committing(execute=True):
        return client.post(path, data)


# --- The list --------------------------------------------------------------------------


def test_the_list_shows_each_photo_newest_first_with_its_facts(tenant_a, finished):
    finished.captures.filter(pk=photos(finished)[0].pk).update(smile_score=0.87, trigger="smile")
    response = member(tenant_a, Role.VIEWER).get(url(tenant_a))
    assert response.status_code == 200
    html = response.content.decode()
    ids = [str(c.public_id) for c in reversed(photos(finished))]
    positions = [html.index(f'id="capture-{public_id}"') for public_id in ids]
    assert positions == sorted(positions)
    assert "0.87" in html
    assert "Smile" in html
    assert "Manual" in html
    assert "Booth alpha" in html
    assert html.count("Ready") >= 3
    assert finished.share_path() in html
    for capture in photos(finished):
        assert capture.thumbnail.url in html


def test_the_list_is_paged_48_a_page(tenant_a):
    add_photos(tenant_a.booth, 52)
    client = member(tenant_a, Role.VIEWER)
    first = client.get(url(tenant_a)).content.decode()
    second = client.get(url(tenant_a) + "?page=2").content.decode()
    assert first.count('class="capture-item') == 48
    assert second.count('class="capture-item') == 4
    assert "Page 1 of 2" in first
    assert 'href="?page=2"' in first
    newest = Capture.objects.order_by("-taken_at", "-pk")[0]
    oldest = Capture.objects.order_by("taken_at", "pk")[0]
    assert str(newest.public_id) in first
    assert str(oldest.public_id) in second
    assert str(oldest.public_id) not in first


def test_an_unknown_filter_answers_400_with_a_message(tenant_a, finished):
    response = member(tenant_a, Role.VIEWER).get(url(tenant_a) + "?show=bogus")
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_the_hidden_filter_lists_only_hidden_photos(tenant_a, finished):
    hidden = photos(finished)[1]
    services.hide_capture(hidden)
    html = member(tenant_a, Role.VIEWER).get(url(tenant_a) + "?show=hidden").content.decode()
    assert html.count('class="capture-item') == 1
    assert str(hidden.public_id) in html


def add_photos(booth, count: int) -> None:
    """``count`` photos in sessions of four (their renders are not run: only the rows)."""
    for start in range(0, count, 4):
        session = factories.make_session(booth)
        for _ in range(min(4, count - start)):
            services.record_capture(session, factories.image_bytes("JPEG", (64, 48)))


def test_the_list_costs_the_same_queries_for_10_and_100_photos(tenant_a):
    client = member(tenant_a)
    counts = []
    for total in (10, 100):
        add_photos(tenant_a.booth, total - Capture.objects.count())
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url(tenant_a))
        assert response.status_code == 200
        assert response.content.decode().count('class="capture-item') == min(total, 48)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[1] <= MAX_LIST_QUERIES, [q["sql"][:80] for q in queries]


#: Session, user, membership and event (access), the totals, the page's count and rows,
#: the member's role (for the buttons), and what the console's middleware and navigation
#: read (the verified address, the member's organisers).
MAX_LIST_QUERIES = 11


# --- Hide --------------------------------------------------------------------------------


def test_hiding_takes_a_photo_out_of_the_gallery_share_page_and_zip(
    tenant_a, finished, anon_client, django_capture_on_commit_callbacks
):
    hidden = photos(finished)[1]
    response = post(
        member(tenant_a), url(tenant_a, f"{hidden.public_id}/hide/"),
        django_capture_on_commit_callbacks, page="1",
    )  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == url(tenant_a)
    hidden.refresh_from_db()
    assert hidden.hidden
    gallery = anon_client.get(tenant_a.event.gallery_path()).content.decode()
    share = anon_client.get(finished.share_path()).content.decode()
    for html in (gallery, share):
        assert html.count('class="card"') == 2
        assert hidden.image.url not in html
        assert hidden.thumbnail.url not in html
        assert 'class="card strip"' in html
    body = b"".join(anon_client.get(finished.download_path()).streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        originals = [archive.read(name) for name in names if name.endswith(("-1.jpg", "-2.jpg"))]
    assert len([name for name in names if "photo-" in name]) == 2 * 5
    assert "party-photos/photo-3.jpg" not in names
    with hidden.image.open("rb") as stored:
        assert stored.read() not in originals


def test_a_hidden_photos_media_urls_answer_404(
    tenant_a, finished, anon_client, django_capture_on_commit_callbacks
):
    hidden, shown = photos(finished)[1], photos(finished)[0]
    files = [hidden.image, hidden.thumbnail]
    files += [f for v in hidden.variants.all() for f in (v.image, v.thumbnail)]
    assert len(files) == 2 + 2 * 4
    assert all(anon_client.get(f.url).status_code == 200 for f in files)
    post(member(tenant_a), url(tenant_a, f"{hidden.public_id}/hide/"),
         django_capture_on_commit_callbacks)  # fmt: skip
    for field in files:
        assert anon_client.get(field.url).status_code == 404, field.name
        assert anon_client.get(field.url + "?download=1").status_code == 404
    assert anon_client.get(shown.image.url).status_code == 200
    assert all(field.storage.exists(field.name) for field in files)  # kept for unhiding


def test_hiding_renders_the_strip_again_without_the_photo(
    tenant_a, finished, anon_client, django_capture_on_commit_callbacks
):
    strip = finished.strips.get()
    old_name = strip.image.name
    assert (strip.width, strip.status) == (3 * 640, RenderStatus.READY)
    assert_frames(strip, [RED, GREEN, BLUE])
    post(member(tenant_a), url(tenant_a, f"{photos(finished)[1].public_id}/hide/"),
         django_capture_on_commit_callbacks)  # fmt: skip
    strip.refresh_from_db()
    assert strip.status == RenderStatus.READY
    assert strip.image.name != old_name
    assert strip.width == 2 * 640
    assert_frames(strip, [RED, BLUE])
    assert not strip.image.storage.exists(old_name)  # the strip with the hidden photo is gone
    assert anon_client.get(strip.image.url).status_code == 200


def test_showing_again_restores_the_photo_its_links_and_strip(
    tenant_a, finished, anon_client, django_capture_on_commit_callbacks
):
    capture = photos(finished)[1]
    client = member(tenant_a)
    post(client, url(tenant_a, f"{capture.public_id}/hide/"), django_capture_on_commit_callbacks)
    response = post(
        client, url(tenant_a, f"{capture.public_id}/unhide/"),
        django_capture_on_commit_callbacks, show="hidden", page="1",
    )  # fmt: skip
    assert response["Location"] == url(tenant_a) + "?show=hidden"
    capture.refresh_from_db()
    assert not capture.hidden
    assert anon_client.get(capture.image.url).status_code == 200
    assert anon_client.get(capture.variants.all()[0].thumbnail.url).status_code == 200
    gallery = anon_client.get(tenant_a.event.gallery_path()).content.decode()
    assert gallery.count('class="card"') == 3
    strip = finished.strips.get()
    assert strip.width == 3 * 640
    assert_frames(strip, [RED, GREEN, BLUE])


def test_hiding_every_photo_takes_the_strip_away_and_showing_one_brings_it_back(
    tenant_a, finished, media_root, django_capture_on_commit_callbacks
):
    strip_file = finished.strips.get().image.name
    with django_capture_on_commit_callbacks(execute=True):
        for capture in photos(finished):
            services.hide_capture(capture)
    assert finished.strips.count() == 0
    assert strip_file not in {
        p.relative_to(media_root).as_posix() for p in stored_files(media_root)
    }
    assert list(access.gallery_sessions(tenant_a.event)) == []
    with django_capture_on_commit_callbacks(execute=True):
        services.unhide_capture(photos(finished)[2])
    assert_frames(finished.strips.get(), [BLUE])


def test_hiding_twice_and_showing_a_shown_photo_change_nothing(
    tenant_a, finished, django_capture_on_commit_callbacks
):
    capture = photos(finished)[0]
    client = member(tenant_a)
    post(client, url(tenant_a, f"{capture.public_id}/hide/"), django_capture_on_commit_callbacks)
    strip_file = finished.strips.get().image.name
    response = post(
        client, url(tenant_a, f"{capture.public_id}/hide/"), django_capture_on_commit_callbacks
    )
    assert finished.strips.get().image.name == strip_file
    html = client.get(response["Location"]).content.decode()
    assert "That photo was already hidden." in html
    assert services.unhide_capture(photos(finished)[1]) is False


def test_a_render_started_before_the_hide_is_not_stored(tenant_a, finished, media_root):
    """A strip render that read the photos before a hide loses to the render after it."""
    strip = finished.strips.get()
    Strip.objects.filter(pk=strip.pk).update(status=RenderStatus.PENDING)
    stale = list(finished.strips.all())  # what a running task loaded
    services.hide_capture(photos(finished)[1])  # its render is queued on commit, not run
    originals = [services._load(c.image.name) for c in photos(finished)]
    services._store_strip(stale[0], originals, None)
    strip.refresh_from_db()
    assert strip.status == RenderStatus.PENDING
    assert strip.image.name == ""
    services.build_strips(finished)
    strip.refresh_from_db()
    assert_frames(strip, [RED, BLUE])


def test_the_slideshow_query_leaves_hidden_photos_out(tenant_a, finished):
    hidden = photos(finished)[0]
    services.hide_capture(hidden)
    shown = list(access.slideshow_captures(tenant_a.event))
    assert [c.pk for c in shown] == [c.pk for c in reversed(photos(finished)[1:])]


def test_a_hidden_photo_shows_to_members_in_the_console(tenant_a, finished):
    hidden = photos(finished)[0]
    services.hide_capture(hidden)
    client = member(tenant_a, Role.VIEWER)
    html = client.get(url(tenant_a)).content.decode()
    thumbnail = url(tenant_a, f"{hidden.public_id}/thumbnail/")
    assert thumbnail in html
    response = client.get(thumbnail)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    with hidden.thumbnail.open("rb") as stored:
        assert response.getvalue() == stored.read()


# --- Delete -------------------------------------------------------------------------------


def test_delete_asks_first_then_removes_the_rows_and_files(
    tenant_a, finished, media_root, django_capture_on_commit_callbacks
):
    capture = photos(finished)[0]
    own = {capture.image.name, capture.thumbnail.name}
    own |= {n for v in capture.variants.all() for n in (v.image.name, v.thumbnail.name)}
    old_strip = finished.strips.get().image.name
    client = member(tenant_a)
    page = client.get(url(tenant_a, f"{capture.public_id}/delete/"))
    assert page.status_code == 200
    assert "Delete this photo" in page.content.decode()
    assert Capture.objects.filter(pk=capture.pk).exists()
    response = post(client, url(tenant_a, f"{capture.public_id}/delete/"),
                    django_capture_on_commit_callbacks)  # fmt: skip
    assert response.status_code == 302
    assert not Capture.objects.filter(pk=capture.pk).exists()
    assert not CaptureVariant.objects.filter(capture_id=capture.pk).exists()
    left = {p.relative_to(media_root).as_posix() for p in stored_files(media_root)}
    assert own & left == set()
    assert old_strip not in left
    assert_frames(finished.strips.get(), [GREEN, BLUE])
    assert client.get(url(tenant_a, f"{capture.public_id}/delete/")).status_code == 404


def test_deleting_the_last_photo_removes_the_strip_too(
    tenant_a, media_root, django_capture_on_commit_callbacks
):
    session = run_session(tenant_a.booth, django_capture_on_commit_callbacks, [RED])
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_capture(session.captures.get())
    assert session.strips.count() == 0
    assert stored_files(media_root) == []


# --- Tenants and roles -------------------------------------------------------------------

ACTIONS = [("post", "hide/"), ("post", "unhide/"), ("post", "delete/"), ("get", "delete/")]


@pytest.mark.parametrize(("method", "tail"), [("get", ""), ("get", "thumbnail/"), *ACTIONS])
def test_another_organisers_photos_answer_like_missing_ones(
    tenant_a, tenant_b, finished, method, tail
):
    capture = photos(finished)[0]
    outsider = member(tenant_b, Role.OWNER)
    foreign = getattr(outsider, method)(
        f"/console/{tenant_a.organiser.slug}/party/captures/"
        + (f"{capture.public_id}/{tail}" if tail else "")
    )
    own_event_foreign_capture = getattr(outsider, method)(
        url(tenant_b, f"{capture.public_id}/{tail}" if tail else "")
    )
    assert foreign.status_code == 404
    if tail:
        assert own_event_foreign_capture.status_code == 404
    capture.refresh_from_db()
    assert not capture.hidden


@pytest.mark.parametrize(("method", "tail"), ACTIONS)
def test_viewers_may_look_but_not_change(tenant_a, finished, method, tail):
    capture = photos(finished)[0]
    viewer = member(tenant_a, Role.VIEWER)
    response = getattr(viewer, method)(url(tenant_a, f"{capture.public_id}/{tail}"))
    assert response.status_code == 403
    capture.refresh_from_db()
    assert Capture.objects.filter(pk=capture.pk, hidden=False).exists()
    html = viewer.get(url(tenant_a)).content.decode()
    assert "Hide</button>" not in html
    assert "Delete…" not in html


def test_managers_see_the_buttons(tenant_a, finished):
    html = member(tenant_a).get(url(tenant_a)).content.decode()
    assert html.count(">Hide</button>") == 3
    assert html.count("Delete…</a>") == 3


def test_hide_is_post_only_and_needs_a_login(tenant_a, finished, anon_client):
    capture = photos(finished)[0]
    assert member(tenant_a).get(url(tenant_a, f"{capture.public_id}/hide/")).status_code == 405
    response = anon_client.post(url(tenant_a, f"{capture.public_id}/hide/"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert member(tenant_a).post(url(tenant_a, "not-a-uuid/hide/")).status_code == 404
