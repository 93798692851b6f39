"""Short-lived signed URLs for local media (issue 14.4): media stop answering with their page.

Local storage is ``boothsite.media_storage.SignedFileSystemStorage``: ``/media/<expiry>.
<signature>/<key>``, valid ``BOOTHSITE_MEDIA_URL_TTL`` seconds at most, like S3's
presigned URLs. A missing, bad or expired signature answers the same 404 as a missing
file; then hidden, archived and past-retention files are refused as before.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from boothsite.media_storage import SignedFileSystemStorage
from captures import services
from events import services as event_services
from events.models import Event
from events.roles import Role
from tests import factories
from tests.captures.conftest import s3_storage

pytestmark = pytest.mark.django_db
TTL = 300
BUCKET = "boothsite-signed"
SIGNED = re.compile(r"/media/(\d+)\.([A-Za-z0-9_-]{22})/([^\"?&\s]+)")


@pytest.fixture(autouse=True)
def signed_storage(settings, media_root: Path) -> SignedFileSystemStorage:
    """Make default storage the production one: signed URLs living ``TTL`` seconds."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "boothsite.media_storage.SignedFileSystemStorage",
            "OPTIONS": {"location": media_root, "base_url": "/media/", "url_ttl": TTL},
        },
    }
    assert isinstance(default_storage, SignedFileSystemStorage)
    return default_storage


@pytest.fixture
def session(tenant_a, django_capture_on_commit_callbacks):
    booth_session = factories.make_session(tenant_a.booth)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_capture(booth_session, factories.image_bytes("JPEG"))
        services.finish_session(booth_session)
    return booth_session


def still(time_machine) -> None:
    """Stop the clock (at the start of a bucket, so URLs made now are the same)."""
    start = (int(time.time()) // 60 + 1) * 60
    time_machine.move_to(dt.datetime.fromtimestamp(start, tz=dt.UTC), tick=False)


def later(time_machine, seconds: float) -> None:
    time_machine.move_to(timezone.now() + dt.timedelta(seconds=seconds), tick=False)


def missing_404(client: Client, tenant) -> bytes:
    """The answer for a file that does not exist, signed as a page would sign it."""
    name = f"{tenant.organiser.public_id}/{tenant.event.public_id}/no-such-file.jpg"
    response = client.get(default_storage.url(name))
    assert response.status_code == 404
    return response.content


def test_a_signed_url_serves_the_file_and_is_cached_until_it_expires(
    session, anon_client, time_machine
):
    still(time_machine)
    capture = session.captures.get()
    url = capture.image.url
    match = SIGNED.fullmatch(url)
    assert match, url
    assert match.group(3) == capture.image.name
    response = anon_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == capture.image.read()
    left = int(match.group(1)) - int(time.time())
    assert TTL - TTL // 5 <= left <= TTL
    assert response["Cache-Control"] == f"private, max-age={left}"
    assert response["X-Content-Type-Options"] == "nosniff"
    # The same file gets the same URL within its bucket (stable HTML, browser caching).
    later(time_machine, 59)
    assert capture.image.url == url
    later(time_machine, 2)
    assert capture.image.url != url


def test_the_download_link_works_signed(session, anon_client):
    capture = session.captures.get()
    url = f"{capture.image.url}?download=1&name=party-0001.jpg"
    response = anon_client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="party-0001.jpg"'


def test_a_bad_missing_or_foreign_signature_answers_like_a_missing_file(
    tenant_a, session, anon_client
):
    missing = missing_404(anon_client, tenant_a)
    capture = session.captures.get()
    good = SIGNED.fullmatch(capture.image.url)
    assert good
    expiry, signature, name = good.groups()
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    other = capture.thumbnail.name
    refused = [
        f"/media/{name}",  # no signature: the key alone is no longer a capability
        f"/media/{expiry}.{flipped}/{name}",  # tampered
        f"/media/{expiry}.{signature}/{other}",  # another file's signature
        f"/media/{int(expiry) + 60}.{signature}/{name}",  # a longer life, same signature
        f"/media/{expiry}/{name}",
        f"/media/{expiry}.{signature}",
        f"/media/x{expiry}.{signature}/{name}",
        f"/media/{expiry}.{signature}/../{name}",
    ]
    for url in refused:
        response = anon_client.get(url)
        assert response.status_code == 404, url
        assert response.content == missing, url
    assert anon_client.get(capture.thumbnail.url).status_code == 200


def test_an_expired_url_answers_404(tenant_a, session, anon_client, time_machine):
    still(time_machine)
    url = session.captures.get().image.url
    expiry = int(SIGNED.fullmatch(url).group(1))  # type: ignore[union-attr]
    time_machine.move_to(dt.datetime.fromtimestamp(expiry - 1, tz=dt.UTC), tick=False)
    assert anon_client.get(url).status_code == 200
    time_machine.move_to(dt.datetime.fromtimestamp(expiry, tz=dt.UTC), tick=False)
    response = anon_client.get(url)
    assert response.status_code == 404
    assert response.content == missing_404(anon_client, tenant_a)


def test_a_rotated_secret_keeps_open_pages_working_through_the_fallbacks(
    session, anon_client, settings
):
    url = session.captures.get().image.url
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-" + "x" * 50
    settings.SECRET_KEY_FALLBACKS = [old]
    assert anon_client.get(url).status_code == 200
    assert session.captures.get().image.url != url  # new URLs use the new secret
    settings.SECRET_KEY_FALLBACKS = []
    assert anon_client.get(url).status_code == 404


def test_a_hidden_capture_answers_404_even_signed(tenant_a, session, anon_client):
    capture = session.captures.get()
    urls = [capture.image.url, capture.thumbnail.url]
    urls += [variant.image.url for variant in capture.variants.all()]
    assert all(anon_client.get(url).status_code == 200 for url in urls)
    assert services.hide_capture(capture)
    missing = missing_404(anon_client, tenant_a)
    for url in urls:
        response = anon_client.get(url)
        assert response.status_code == 404, url
        assert response.content == missing


def test_an_archived_event_answers_404_except_to_its_team(tenant_a, session, anon_client):
    url = session.strips.get().image.url
    event_services.archive_event(tenant_a.event)
    assert anon_client.get(url).status_code == 404
    member = Client()
    member.force_login(factories.make_member(tenant_a.organiser, Role.VIEWER))
    assert member.get(url).status_code == 200
    outsider = Client()
    outsider.force_login(factories.make_user(username="outsider"))
    assert outsider.get(url).status_code == 404


def test_past_retention_a_freshly_signed_url_answers_410(
    tenant_a, session, anon_client, time_machine
):
    event = tenant_a.event
    cutoff = (event.ends_at or event.starts_at) + dt.timedelta(days=event.retention_days)
    time_machine.move_to(cutoff + dt.timedelta(seconds=1), tick=False)
    assert anon_client.get(session.captures.get().image.url).status_code == 410


def test_gallery_off_hands_out_no_url_and_old_ones_die_within_the_ttl(
    tenant_a, session, anon_client, time_machine
):
    still(time_machine)
    gallery = anon_client.get(tenant_a.event.gallery_path())
    assert gallery.status_code == 200
    urls = {match.group(0) for match in SIGNED.finditer(gallery.content.decode())}
    assert urls
    Event.objects.filter(pk=tenant_a.event.pk).update(gallery_visibility="off")
    closed = anon_client.get(tenant_a.event.gallery_path())
    assert closed.status_code == 404
    assert b"/media/" not in closed.content
    later(time_machine, TTL - TTL // 5 - 1)  # the shortest life a URL gets
    assert all(anon_client.get(url).status_code == 200 for url in urls)
    later(time_machine, TTL // 5 + 1)  # TTL seconds after the page: all dead
    assert all(anon_client.get(url).status_code == 404 for url in urls)
    # The guest's own page stays, with fresh URLs.
    share = anon_client.get(session.share_path())
    assert share.status_code == 200
    fresh = {match.group(0) for match in SIGNED.finditer(share.content.decode())}
    assert fresh
    assert not fresh & urls
    assert all(anon_client.get(url).status_code == 200 for url in fresh)


def test_pages_link_only_signed_media(tenant_a, session, anon_client):
    for path in (tenant_a.event.gallery_path(), session.share_path()):
        html = anon_client.get(path).content.decode()
        links = re.findall(r"/media/[^\"\s,]+", html)
        assert links
        assert all(SIGNED.match(link) for link in links), links


def test_url_costs_microseconds_and_needs_no_clock_per_page(signed_storage):
    # Not a timing test: one file's URL is remembered within its bucket.
    name = "a/b/c.jpg"
    assert signed_storage.url(name) is signed_storage.url(name)


# ---- S3: presigned URLs of the same lifetime ----


@pytest.fixture
def s3(settings, s3_endpoint, monkeypatch, signed_storage):
    with s3_storage(settings, monkeypatch, s3_endpoint, bucket=BUCKET, expire=TTL) as client:
        yield client


def test_s3_gallery_urls_live_the_ttl(
    s3, s3_endpoint, tenant_a, anon_client, django_capture_on_commit_callbacks
):
    import requests

    booth_session = factories.make_session(tenant_a.booth)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_capture(booth_session, factories.image_bytes("JPEG"))
    html = anon_client.get(tenant_a.event.gallery_path()).content.decode()
    urls = [
        s3_endpoint + chunk.split('"', 1)[0].split(" ", 1)[0].replace("&amp;", "&")
        for chunk in html.split(s3_endpoint)[1:]
    ]
    assert urls
    for url in urls:
        assert_lives_ttl(parse_qs(urlparse(url).query))
    assert requests.get(urls[0], timeout=10).status_code == 200


def assert_lives_ttl(query: dict[str, list[str]]) -> None:
    """Assert a presigned URL's query (SigV4 or SigV2) was signed now to live ``TTL`` s."""
    if "X-Amz-Signature" in query:
        assert query["X-Amz-Expires"] == [str(TTL)]
        signed_at = dt.datetime.strptime(query["X-Amz-Date"][0] + "+0000", "%Y%m%dT%H%M%SZ%z")
        age = dt.datetime.now(dt.UTC) - signed_at
        assert abs(age) < dt.timedelta(seconds=60)
    else:
        assert query["Signature"]
        assert TTL - 60 < int(query["Expires"][0]) - time.time() <= TTL
