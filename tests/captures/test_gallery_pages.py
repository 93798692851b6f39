"""The event gallery and the session page (issue 14.1 and 14.8).

Both cost the same number of queries at 10 and at 1,000 captures; the markup carries
what the lightbox (``static/gallery.js``) needs and works without it (links to the
images); every download is named after the event and a number, never after a token.
"""

from __future__ import annotations

import re

import pytest

from bench.gallery import fill_event
from captures.gallery import download_name
from captures.models import BoothSession, Capture, Strip
from captures.public_views import GALLERY_PAGE_SIZE
from tests import factories

pytestmark = pytest.mark.django_db

#: Event by token, paginator count, sessions, captures, variants, strips, numbers (2).
GALLERY_QUERIES = 8
#: Session (with event and organiser) by token, captures, variants, strips, numbers (2).
SESSION_QUERIES = 6


def newest_session(event) -> BoothSession:
    session = BoothSession.objects.for_event(event).order_by("-started_at").first()
    assert session is not None
    return session


@pytest.mark.parametrize("captures", [10, 1000])
def test_gallery_queries_do_not_grow_with_captures(
    anon_client, tenant_a, captures, django_assert_num_queries
):
    fill_event(tenant_a.event, tenant_a.booth, captures)
    with django_assert_num_queries(GALLERY_QUERIES):
        response = anon_client.get(tenant_a.event.gallery_path())
    assert response.status_code == 200
    html = response.content.decode()
    sessions = min(-(-captures // 4), GALLERY_PAGE_SIZE)
    assert html.count('class="card strip"') == sessions
    assert html.count('class="card"') == min(captures, GALLERY_PAGE_SIZE * 4)


@pytest.mark.parametrize("captures", [10, 1000])
def test_session_page_queries_do_not_grow_with_captures(
    anon_client, tenant_a, captures, django_assert_num_queries
):
    fill_event(tenant_a.event, tenant_a.booth, captures)
    session = newest_session(tenant_a.event)
    with django_assert_num_queries(SESSION_QUERIES):
        response = anon_client.get(session.share_path())
    assert response.status_code == 200
    assert response.content.decode().count('class="card"') == session.captures.count()


def test_gallery_pages_newest_sessions_first_strips_before_photos(anon_client, tenant_a):
    fill_event(tenant_a.event, tenant_a.booth, 4 * (2 * GALLERY_PAGE_SIZE + 2))  # 3 pages
    sessions = list(BoothSession.objects.for_event(tenant_a.event).order_by("-started_at"))
    first = anon_client.get(tenant_a.event.gallery_path()).content.decode()
    last = anon_client.get(tenant_a.event.gallery_path() + "?page=3").content.decode()
    # Newest session first; inside a session its strip, then its photos oldest first.
    newest = sessions[0]
    strip = newest.strips.get()
    photos = list(newest.captures.order_by("taken_at"))
    places = [first.index(strip.image.url), *(first.index(c.image.url) for c in photos)]
    assert places == sorted(places)
    assert first.index(photos[-1].image.url) < first.index(sessions[1].strips.get().image.url)
    assert "Page 1 of 3" in first
    assert 'href="?page=2"' in first
    assert sessions[-1].strips.get().image.url in last
    assert newest.strips.get().image.url not in last
    assert last.count('class="card strip"') == 2


def test_markup_works_without_javascript_and_loads_thumbnails_first(anon_client, tenant_a):
    fill_event(tenant_a.event, tenant_a.booth, 4)
    capture = Capture.objects.for_event(tenant_a.event).order_by("pk")[0]
    html = anon_client.get(tenant_a.event.gallery_path()).content.decode()
    assert '<script src="/static/gallery.js" defer></script>' in html
    assert "data-lightbox" in html
    # The thumbnail is the src; srcset offers it and the full image by width; sizes too.
    img = re.search(rf'<img src="{re.escape(capture.thumbnail.url)}"[^>]*>', html)
    assert img is not None
    tag = img.group(0)
    assert f'srcset="{capture.thumbnail.url} 320w, {capture.image.url} 640w"' in tag
    assert 'sizes="' in tag
    assert 'width="640" height="480"' in tag
    assert 'loading="lazy"' in tag
    # Without JavaScript the thumbnail is a link to the full image.
    assert f'<a class="open" href="{capture.image.url}"' in html


def test_downloads_are_named_after_the_event_and_a_number(anon_client, tenant_a):
    fill_event(tenant_a.event, tenant_a.booth, 8)
    event = tenant_a.event
    capture = Capture.objects.for_event(event).order_by("taken_at", "pk")[5]
    variant = capture.variants.get(filter="sepia")
    strip = Strip.objects.for_event(event).order_by("created_at", "pk")[1]
    html = anon_client.get(capture.session.share_path()).content.decode()
    assert 'download="party-0006.jpg"' in html
    assert 'download="party-0006-sepia.jpg"' in html
    assert 'download="party-0002-strip.jpg"' in html
    assert f'href="{variant.image.url}?download=1&amp;name=party-0006-sepia.jpg"' in html
    assert f'data-download="{strip.image.url}?download=1&amp;name=party-0002-strip.jpg"' in html
    assert capture.session.share_token not in re.findall(r'download="([^"]*)"', html)


def test_numbers_stay_when_a_photo_is_hidden(anon_client, tenant_a):
    fill_event(tenant_a.event, tenant_a.booth, 4)
    first, second = Capture.objects.for_event(tenant_a.event).order_by("taken_at")[:2]
    Capture.objects.filter(pk=first.pk).update(hidden=True)
    html = anon_client.get(second.session.share_path()).content.decode()
    assert 'download="party-0002.jpg"' in html
    assert 'download="party-0001.jpg"' not in html
    assert first.image.url not in html


def test_download_name_is_safe():
    assert download_name("summer-party", 42, "sepia", stored_name="a/b/c.JPG") == (
        "summer-party-0042-sepia.jpg"
    )
    assert download_name("café night!", 7, "strip", stored_name="x.webp") == (
        "cafnight-0007-strip.webp"
    )
    assert download_name("", 1, stored_name="x") == "photos-0001.jpg"


def test_media_download_uses_a_well_formed_name(
    anon_client, tenant_a, django_capture_on_commit_callbacks
):
    from captures import services

    session = factories.make_session(tenant_a.booth)
    with django_capture_on_commit_callbacks(execute=True):
        capture = services.record_capture(session, factories.image_bytes("JPEG"))
    url = capture.image.url
    named = anon_client.get(f"{url}?download=1&name=party-0001.jpg")
    assert named["Content-Disposition"] == 'attachment; filename="party-0001.jpg"'
    stored = capture.image.name.rsplit("/", 1)[-1]
    for bad in ["../x.jpg", "party-0001.exe", "a b.jpg", "party-0001.png", "x" * 120 + ".jpg"]:
        response = anon_client.get(url, {"download": "1", "name": bad})
        assert response.status_code == 200
        assert response["Content-Disposition"] == f'attachment; filename="boothsite-{stored}"'
    shown = anon_client.get(f"{url}?name=party-0001.jpg")
    assert shown["Content-Disposition"].startswith("inline")


def test_s3_download_url_asks_for_an_attachment(settings):
    from urllib.parse import parse_qs, urlsplit

    from storages.backends.s3 import S3Storage  # type: ignore[import-untyped]

    from captures.gallery import file_download_url

    settings.BOOTHSITE_STORAGE = "s3"
    storage = S3Storage(
        bucket_name="photos", access_key="k", secret_key="s", region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:9",
        querystring_auth=True, querystring_expire=300,
    )  # fmt: skip
    capture = Capture(image="org/event/abc.jpg")
    capture.image.storage = storage
    url = file_download_url(capture.image, "party-0001.jpg")
    query = parse_qs(urlsplit(url).query)
    assert query["response-content-disposition"] == ['attachment; filename="party-0001.jpg"']
    assert "Signature" in query or "X-Amz-Signature" in query
