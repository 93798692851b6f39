"""Guest links that end: rotated, revoked, expired, past retention (issue 14.4, RELIABILITY 40, 67).

A link that worked once answers 410 with a friendly page that names no event; a token
that never worked answers the same 404 as ever. Media stop answering for hidden
captures, archived events and photos past retention, locally and on S3 (where pages hand
out no signed URL for them, and the URLs they do hand out are short-lived).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from captures import services
from captures.access import MediaDenial, media_denied
from events import services as event_services
from events import tokens
from events.models import Event, RetiredLink
from events.roles import Role
from messaging.services import purge_expired_personal_data
from tests import factories
from tests.captures.conftest import s3_storage

pytestmark = pytest.mark.django_db
BUCKET = "boothsite-links"
GONE = "This gallery is no longer available."


@pytest.fixture
def session(tenant_a, django_capture_on_commit_callbacks):
    booth_session = factories.make_session(tenant_a.booth)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_capture(booth_session, factories.image_bytes("JPEG"))
        services.finish_session(booth_session)
    return booth_session


def manager(tenant) -> Client:
    client = Client()
    client.force_login(factories.make_member(tenant.organiser, Role.MANAGER))
    return client


def settings_url(tenant) -> str:
    return f"/console/{tenant.organiser.slug}/{tenant.event.slug}/gallery/"


def reload(event: Event) -> Event:
    return Event.objects.get(pk=event.pk)


def assert_friendly_gone(response, event: Event) -> None:
    assert response.status_code == 410
    html = response.content.decode()
    assert "ask the organiser" in html
    assert 'class="error-box"' in html  # the styled error frame (templates/_error.html)
    for leak in (event.name, event.slug, str(event.public_id), event.organiser.name):
        assert leak not in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_rotating_makes_the_old_link_410_and_the_new_one_200(tenant_a, anon_client):
    old = tenant_a.event.gallery_path()
    old_token = tenant_a.event.gallery_token
    response = manager(tenant_a).post(settings_url(tenant_a), {"rotate_link": "1"})
    assert response.status_code == 302
    event = reload(tenant_a.event)
    assert_friendly_gone(anon_client.get(old), event)
    assert GONE in anon_client.get(old).content.decode()
    assert anon_client.get(event.gallery_path()).status_code == 200
    retired = RetiredLink.objects.get()
    assert (retired.kind, retired.reason, retired.event_id) == ("gallery", "rotated", event.pk)
    assert retired.token_hash == tokens.hash_secret(old_token)
    assert old_token not in str(retired.__dict__)  # only the hash is kept


def test_revoking_gives_410_until_a_new_link_is_made(tenant_a, anon_client):
    client = manager(tenant_a)
    path = tenant_a.event.gallery_path()
    assert client.post(settings_url(tenant_a), {"revoke_link": "1"}).status_code == 302
    assert reload(tenant_a.event).gallery_revoked_at is not None
    assert_friendly_gone(anon_client.get(path), tenant_a.event)
    page = client.get(settings_url(tenant_a)).content.decode()
    assert "The gallery link is closed" in page
    assert 'name="revoke_link"' not in page  # already closed: only "Make a new link"
    client.post(settings_url(tenant_a), {"rotate_link": "1"})
    event = reload(tenant_a.event)
    assert event.gallery_revoked_at is None
    assert anon_client.get(event.gallery_path()).status_code == 200
    assert anon_client.get(path).status_code == 410
    assert RetiredLink.objects.get().reason == "revoked"


def test_viewers_cannot_revoke_or_rotate(tenant_a, anon_client):
    viewer = Client()
    viewer.force_login(tenant_a.viewer)
    for action in ("revoke_link", "rotate_link"):
        assert viewer.post(settings_url(tenant_a), {action: "1"}).status_code == 403
    assert anon_client.get(tenant_a.event.gallery_path()).status_code == 200


def test_an_expiry_set_in_the_events_time_zone_ends_the_link(tenant_a, anon_client, time_machine):
    time_machine.move_to(dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC), tick=False)
    Event.objects.filter(pk=tenant_a.event.pk).update(
        timezone="Europe/London", starts_at=timezone.now()
    )
    data = {"gallery_visibility": "link", "retention_days": "30"}
    client = manager(tenant_a)
    response = client.post(
        settings_url(tenant_a), data | {"gallery_expires_at": "2026-06-02T20:00"}
    )
    assert response.status_code == 302
    event = reload(tenant_a.event)
    assert event.gallery_expires_at == dt.datetime(2026, 6, 2, 19, 0, tzinfo=dt.UTC)  # BST
    page = client.get(settings_url(tenant_a)).content.decode()
    assert 'value="2026-06-02T20:00"' in page
    assert anon_client.get(event.gallery_path()).status_code == 200
    time_machine.move_to(dt.datetime(2026, 6, 2, 19, 0, 1, tzinfo=dt.UTC), tick=False)
    assert_friendly_gone(anon_client.get(event.gallery_path()), event)
    assert (
        "The gallery link ended on 2 Jun 2026, 20:00"
        in client.get(settings_url(tenant_a)).content.decode()
    )
    # Other settings still save with the past expiry; a new link drops it.
    assert (
        client.post(
            settings_url(tenant_a), data | {"gallery_expires_at": "2026-06-02T20:00"}
        ).status_code
        == 302
    )
    client.post(settings_url(tenant_a), {"rotate_link": "1"})
    event = reload(tenant_a.event)
    assert event.gallery_expires_at is None
    assert anon_client.get(event.gallery_path()).status_code == 200
    assert RetiredLink.objects.get().reason == "expired"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2020-01-01T10:00", "Choose a time in the future"),
        ("tomorrow", "Enter a date and time"),
        ("2026-03-29T01:30", "does not exist in Europe/London"),
    ],
)
def test_a_bad_expiry_is_refused_in_words(tenant_a, value, message, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False)
    Event.objects.filter(pk=tenant_a.event.pk).update(timezone="Europe/London")
    data = {"gallery_visibility": "link", "retention_days": "30", "gallery_expires_at": value}
    response = manager(tenant_a).post(settings_url(tenant_a), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert reload(tenant_a.event).gallery_expires_at is None


def test_the_service_refuses_a_past_expiry(tenant_a):
    with pytest.raises(ValidationError) as error:
        event_services.set_gallery_expiry(tenant_a.event, timezone.now() - dt.timedelta(minutes=1))
    assert "gallery_expires_at" in error.value.message_dict
    event_services.set_gallery_expiry(tenant_a.event, None)
    assert reload(tenant_a.event).gallery_expires_at is None


def test_a_wrong_token_answers_the_same_404_as_a_missing_one(tenant_a, session, anon_client):
    event_services.rotate_gallery_token(tenant_a.event)
    for prefix in ("/g/", "/s/"):
        wrong = anon_client.get(f"{prefix}{secrets.token_urlsafe(16)}/")
        other = anon_client.get(f"{prefix}{secrets.token_urlsafe(16)}/")
        assert wrong.status_code == other.status_code == 404
        assert wrong.content == other.content
    zip_miss = anon_client.get(f"/s/{secrets.token_urlsafe(16)}/photos.zip")
    assert zip_miss.status_code == 404


def test_410s_do_not_count_as_guesses(tenant_a, anon_client, settings):
    settings.BOOTHSITE_LINK_MISS_RATE = "3/m"
    old = tenant_a.event.gallery_path()
    event_services.rotate_gallery_token(tenant_a.event)
    for _ in range(5):
        assert anon_client.get(old).status_code == 410
    assert anon_client.get(reload(tenant_a.event).gallery_path()).status_code == 200


def past_retention(event: Event, time_machine) -> None:
    cutoff = (event.ends_at or event.starts_at) + dt.timedelta(days=event.retention_days)
    time_machine.move_to(cutoff + dt.timedelta(seconds=1), tick=False)


def test_past_retention_share_page_gallery_zip_and_media_answer_410(
    tenant_a, session, anon_client, time_machine
):
    capture = session.captures.get()
    strip = session.strips.get()
    files = [capture.image.name, capture.thumbnail.name, strip.image.name]
    files += [variant.image.name for variant in capture.variants.all()]
    assert all(anon_client.get(default_storage.url(name)).status_code == 200 for name in files)
    past_retention(tenant_a.event, time_machine)
    assert_friendly_gone(anon_client.get(session.share_path()), tenant_a.event)
    assert anon_client.get(session.download_path()).status_code == 410
    assert_friendly_gone(anon_client.get(tenant_a.event.gallery_path()), tenant_a.event)
    for name in files:
        assert anon_client.get(default_storage.url(name)).status_code == 410
    assert media_denied(capture.image.name) is MediaDenial.RETENTION


def test_the_retention_job_keeps_the_links_gone_after_purging(
    tenant_a, session, anon_client, time_machine, django_capture_on_commit_callbacks
):
    Event.objects.filter(pk=tenant_a.event.pk).update(retention_purges_photos=True)
    name = session.captures.get().image.name
    past_retention(tenant_a.event, time_machine)
    with django_capture_on_commit_callbacks(execute=True):
        assert len(purge_expired_personal_data()) == 1
    assert anon_client.get(session.share_path()).status_code == 410
    assert anon_client.get(tenant_a.event.gallery_path()).status_code == 410
    # Rows and file gone: still 410.
    assert anon_client.get(default_storage.url(name)).status_code == 410


def test_before_retention_nothing_is_gone(tenant_a, session, anon_client, time_machine):
    cutoff = tenant_a.event.starts_at + dt.timedelta(days=tenant_a.event.retention_days)
    time_machine.move_to(cutoff - dt.timedelta(minutes=1), tick=False)
    assert anon_client.get(session.share_path()).status_code == 200
    assert anon_client.get(tenant_a.event.gallery_path()).status_code == 200
    assert anon_client.get(session.captures.get().image.url).status_code == 200


def test_a_retired_share_link_answers_410(tenant_a, session, anon_client):
    token = session.share_token
    RetiredLink.objects.create(
        event=tenant_a.event,
        kind=RetiredLink.Kind.SHARE,
        token_hash=tokens.hash_secret(token),
        reason=RetiredLink.Reason.RETENTION,
    )
    session.delete()
    response = anon_client.get(f"/s/{token}/")
    assert response.status_code == 410
    assert "These photos are no longer available." in response.content.decode()
    # The same hash as a gallery token is another kind of link: 404.
    assert anon_client.get(f"/g/{token}/").status_code == 404


def test_media_of_hidden_captures_and_archived_events_answer_404(
    tenant_a, session, anon_client, django_assert_num_queries
):
    capture = session.captures.get()
    variant = capture.variants.first()
    assert variant is not None
    with django_assert_num_queries(1):
        assert media_denied(variant.thumbnail.name) is None
    strip = session.strips.get()
    assert services.hide_capture(capture)
    with django_assert_num_queries(1):
        assert media_denied(variant.thumbnail.name) is MediaDenial.HIDDEN
    assert anon_client.get(variant.thumbnail.url).status_code == 404
    assert anon_client.get(strip.image.url).status_code == 200
    event_services.archive_event(tenant_a.event)
    missing = anon_client.get(
        default_storage.url(f"{tenant_a.organiser.public_id}/{tenant_a.event.public_id}/x.jpg")
    )
    archived = anon_client.get(strip.image.url)
    assert archived.status_code == missing.status_code == 404
    assert archived.content == missing.content
    # The organiser's team still sees an archived event's photos in the console.
    assert manager(tenant_a).get(strip.image.url).status_code == 200
    outsider = Client()
    outsider.force_login(tenant_a.owner.__class__.objects.create(username="outsider"))
    assert outsider.get(strip.image.url).status_code == 404


def test_gallery_off_closes_the_gallery_but_not_the_guests_own_photos(
    tenant_a, session, anon_client
):
    Event.objects.filter(pk=tenant_a.event.pk).update(gallery_visibility="off")
    gallery = anon_client.get(tenant_a.event.gallery_path())
    assert gallery.status_code == 404
    assert b"/media/" not in gallery.content
    share = anon_client.get(session.share_path())
    assert share.status_code == 200
    capture = session.captures.get()
    assert capture.image.url in share.content.decode()
    assert anon_client.get(capture.image.url).status_code == 200


def test_the_logo_is_never_refused(tenant_a, time_machine):
    logo = f"{tenant_a.organiser.public_id}/{tenant_a.event.public_id}/logo.png"
    Event.objects.filter(pk=tenant_a.event.pk).update(logo=logo, archived_at=timezone.now())
    assert media_denied(logo) is None
    assert media_denied("not/a-capture/key.jpg") is None
    assert media_denied("loose-file.jpg") is None


# ---- S3: signed, short-lived URLs, never issued for what is denied ----


@pytest.fixture
def s3(settings, s3_endpoint, monkeypatch):
    with s3_storage(settings, monkeypatch, s3_endpoint, bucket=BUCKET, expire=120) as client:
        yield client


def signed_keys(html: str, endpoint: str) -> dict[str, dict[str, list[str]]]:
    """Map each bucket key that ``html`` links to onto its signed URL's query."""
    found = {}
    for chunk in html.split(endpoint)[1:]:
        url = endpoint + chunk.split('"', 1)[0].replace("&amp;", "&")
        parsed = urlparse(url)
        found[parsed.path.split(f"/{BUCKET}/", 1)[-1]] = parse_qs(parsed.query)
    return found


def assert_signed_for(query: dict[str, list[str]], ttl: int) -> None:
    """Assert a signed URL's query (SigV4 or SigV2 style) is valid for at most ``ttl`` s."""
    if "X-Amz-Signature" in query:
        assert int(query["X-Amz-Expires"][0]) == ttl
    else:
        assert query["Signature"]
        assert 0 < int(query["Expires"][0]) - time.time() <= ttl


def test_s3_pages_sign_short_lived_urls_and_none_for_denied_media(
    s3, s3_endpoint, tenant_a, anon_client, django_capture_on_commit_callbacks, time_machine
):
    booth_session = factories.make_session(tenant_a.booth)
    with django_capture_on_commit_callbacks(execute=True):
        shown = services.record_capture(booth_session, factories.image_bytes("JPEG"))
        hidden = services.record_capture(booth_session, factories.image_bytes("JPEG"))
    assert services.hide_capture(hidden)
    hidden_names = {hidden.image.name, hidden.thumbnail.name}
    hidden_names |= {n for v in hidden.variants.all() for n in (v.image.name, v.thumbnail.name)}
    for path in (tenant_a.event.gallery_path(), booth_session.share_path()):
        response = anon_client.get(path)
        assert response.status_code == 200
        keys = signed_keys(response.content.decode(), s3_endpoint)
        assert shown.thumbnail.name in keys or shown.image.name in keys
        assert not hidden_names & set(keys)
        for query in keys.values():
            assert_signed_for(query, 120)  # BOOTHSITE_MEDIA_URL_TTL
    # The local /media/ view is off with S3; rotated and past-retention pages sign nothing.
    assert anon_client.get(f"/media/{shown.image.name}").status_code == 404
    old = tenant_a.event.gallery_path()
    event_services.rotate_gallery_token(tenant_a.event)
    gone = anon_client.get(old)
    assert gone.status_code == 410
    assert s3_endpoint not in gone.content.decode()
    past_retention(tenant_a.event, time_machine)
    for path in (reload(tenant_a.event).gallery_path(), booth_session.share_path()):
        response = anon_client.get(path)
        assert response.status_code == 410
        assert s3_endpoint not in response.content.decode()
