"""The event download (issue 14.2): the whole event as one streamed ZIP, console and guests.

Sizes come from the rows (no storage request before the first byte), the length is
exact, hidden photos stay out, and the query count does not grow with the event.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import zipfile
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import AsyncClient, Client
from django.utils import timezone

from captures import archive, services
from captures.models import BoothSession, Capture, CaptureVariant, RenderStatus, Strip
from events.models import Event
from events.roles import Role
from tests import factories

pytestmark = pytest.mark.django_db

COLOURS = [(250, 10, 10), (10, 250, 10), (10, 10, 250)]


def zip_url(tenant) -> str:
    return f"/console/{tenant.organiser.slug}/{tenant.event.slug}/download.zip"


def member(tenant, role: Role = Role.VIEWER) -> Client:
    client = Client()
    client.force_login(factories.make_member(tenant.organiser, role))
    return client


def run_session(booth, committing, colours) -> BoothSession:
    session = factories.make_session(booth)
    with committing(execute=True):
        for colour in colours:
            services.record_capture(session, factories.image_bytes("JPEG", (96, 72), colour))
        services.finish_session(session)
    return session


@pytest.fixture
def sessions(tenant_a, django_capture_on_commit_callbacks) -> list[BoothSession]:
    """Two finished sessions of tenant A's event: 2 photos, then 1, each with a strip."""
    return [
        run_session(tenant_a.booth, django_capture_on_commit_callbacks, COLOURS[:2]),
        run_session(tenant_a.booth, django_capture_on_commit_callbacks, COLOURS[2:]),
    ]


def read(name: str) -> bytes:
    with default_storage.open(name, "rb") as stored:
        return bytes(stored.read())


def expected_files(event: Event) -> dict[str, bytes]:
    """What the event's ZIP must hold, named as the README says, read from storage."""
    files = {}
    captures = Capture.objects.for_event(event).visible().order_by("taken_at", "pk")
    for number, capture in enumerate(captures, 1):
        files[f"party/{number:04d}.jpg"] = read(capture.image.name)
        for variant in capture.variants.all():
            files[f"party/{number:04d}-{variant.filter}.jpg"] = read(variant.image.name)
    strips = Strip.objects.for_event(event).filter(status=RenderStatus.READY)
    for number, strip in enumerate(strips.order_by("created_at", "pk"), 1):
        stem = f"party/strips/{number:04d}-{strip.layout}"
        files[f"{stem}.{strip.image.name.rsplit('.', 1)[-1]}"] = read(strip.image.name)
        if strip.gif:
            files[f"{stem}.gif"] = read(strip.gif.name)
    return files


def body_of(response: Any) -> bytes:
    assert response.status_code == 200, response.status_code
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    return body


def open_zip(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as opened:
        assert opened.testzip() is None
        assert {info.compress_type for info in opened.infolist()} <= {zipfile.ZIP_STORED}
        return {name: opened.read(name) for name in opened.namelist()}


# --- Sizes on the rows -------------------------------------------------------------------


def test_sizes_are_stored_on_the_rows_when_files_are_written(sessions):
    capture = sessions[0].captures.first()
    assert capture is not None
    rows: list[tuple[int, str]] = [(capture.size_bytes, capture.image.name)]
    rows += [(v.size_bytes, v.image.name) for v in capture.variants.all()]
    rows += [(s.size_bytes, s.image.name) for s in sessions[0].strips.all()]
    assert len(rows) == 1 + 4 + 1
    for size, name in rows:
        assert size == default_storage.size(name) > 0


# --- The console's download --------------------------------------------------------------


def test_console_zip_holds_every_visible_file_with_its_stored_bytes(tenant_a, sessions):
    hidden = sessions[0].captures.order_by("taken_at", "pk").last()
    assert hidden is not None
    Capture.objects.filter(pk=hidden.pk).update(hidden=True)
    response = member(tenant_a).get(zip_url(tenant_a))
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="party.zip"'
    assert response["Cache-Control"] == "private, no-store"
    files = open_zip(body_of(response))
    expected = expected_files(tenant_a.event)
    assert sorted(files) == sorted(expected)
    assert files == expected
    assert len(files) == 2 * (1 + 4) + 2  # two visible photos with 4 variants, 2 strips
    assert "party/0001.jpg" in files
    assert "party/strips/0002-horizontal_4.jpg" in files
    assert read(hidden.image.name) not in files.values()
    secrets = [tenant_a.event.gallery_token, str(tenant_a.event.public_id)]
    secrets += [s.share_token for s in sessions]
    secrets += [name.rsplit("/", 1)[-1].split(".")[0] for name in stored_names(tenant_a.event)]
    for text in [*files, str(response.headers)]:
        assert not any(secret in text for secret in secrets)


def stored_names(event: Event) -> list[str]:
    names = list(Capture.objects.for_event(event).values_list("image", flat=True))
    names += CaptureVariant.objects.for_event(event).values_list("image", flat=True)
    return names


def test_an_animated_strips_gif_is_in_the_zip_beside_its_webp(tenant_a, sessions):
    webp = default_storage.save("anim/strip.webp", ContentFile(b"RIFF-webp-bytes"))
    gif = default_storage.save("anim/strip.gif", ContentFile(b"GIF89a-gif-bytes"))
    Strip.objects.create(
        session=sessions[1], event=tenant_a.event, layout="animated", status=RenderStatus.READY,
        image=webp, size_bytes=15, gif=gif, gif_size_bytes=16,
    )  # fmt: skip
    Strip.objects.create(
        session=sessions[1], event=tenant_a.event, layout="classic_2x6", image="pending.jpg"
    )
    files = open_zip(body_of(member(tenant_a).get(zip_url(tenant_a))))
    assert files["party/strips/0003-animated.webp"] == b"RIFF-webp-bytes"
    assert files["party/strips/0003-animated.gif"] == b"GIF89a-gif-bytes"
    assert not any("classic_2x6" in name for name in files)  # pending: not in the ZIP


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MANAGER, Role.OWNER])
def test_every_member_may_download(tenant_a, sessions, role):
    assert open_zip(body_of(member(tenant_a, role).get(zip_url(tenant_a))))


def test_an_archived_event_still_downloads_in_the_console(tenant_a, sessions):
    Event.objects.filter(pk=tenant_a.event.pk).update(archived_at=timezone.now())
    assert len(open_zip(body_of(member(tenant_a).get(zip_url(tenant_a))))) == 3 * 5 + 2


def test_another_organisers_event_answers_like_a_missing_one(tenant_a, tenant_b, sessions):
    client = Client()
    client.force_login(tenant_b.owner)
    foreign = client.get(zip_url(tenant_a))
    missing_org = client.get("/console/no-such-org/party/download.zip")
    missing_event = client.get(f"/console/{tenant_b.organiser.slug}/no-such/download.zip")
    assert foreign.status_code == missing_org.status_code == missing_event.status_code == 404
    assert foreign.content == missing_org.content == missing_event.content
    assert not foreign.streaming


def test_the_console_download_needs_a_login_and_a_get(tenant_a, sessions, anon_client):
    response = anon_client.get(zip_url(tenant_a))
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")
    assert member(tenant_a).post(zip_url(tenant_a)).status_code == 405


def test_the_event_page_links_the_download(tenant_a):
    page = member(tenant_a).get(f"/console/{tenant_a.organiser.slug}/{tenant_a.event.slug}/")
    html = page.content.decode()
    assert f'href="{zip_url(tenant_a)}"' in html
    assert "Download all photos (ZIP)" in html


# --- Query discipline --------------------------------------------------------------------

#: Console: the login session and user, the console's verified-address check, the
#: membership and the event, then the three listing queries (visible captures, their
#: variants, ready strips). Streaming the files costs none.
EVENT_ZIP_QUERIES = 3 + 2 + 3


def bulk_event(tenant, committing, captures: int) -> int:
    """Give ``tenant``'s event ``captures`` visible photos (4 variants each), 1 hidden.

    One real session is taken; the other rows point at its files, which is all a ZIP
    needs. Returns the number of files the ZIP must hold.
    """
    session = run_session(tenant.booth, committing, COLOURS[:1])
    model = session.captures.get()
    variants = list(model.variants.all())
    start = model.taken_at
    rows = [
        Capture(
            session=session, event=tenant.event, image=model.image.name, format="JPEG",
            width=model.width, height=model.height, size_bytes=model.size_bytes,
            sha256=model.sha256, render_status=RenderStatus.READY,
            taken_at=start + dt.timedelta(seconds=number), hidden=number == captures,
        )
        for number in range(1, captures + 1)
    ]  # fmt: skip
    Capture.objects.bulk_create(rows)
    CaptureVariant.objects.bulk_create(
        CaptureVariant(
            capture=row, event=tenant.event, filter=variant.filter, image=variant.image.name,
            width=variant.width, height=variant.height, size_bytes=variant.size_bytes,
        )
        for row in rows
        for variant in variants
    )  # fmt: skip
    return captures * (1 + len(variants)) + 1  # the model's 5 files + its strip, 1 hidden


@pytest.mark.parametrize("captures", [10, 1000])
def test_the_zip_costs_the_same_queries_at_10_and_1000_captures(
    tenant_a, django_capture_on_commit_callbacks, django_assert_num_queries, captures
):
    files = bulk_event(tenant_a, django_capture_on_commit_callbacks, captures)
    client = member(tenant_a)
    with django_assert_num_queries(EVENT_ZIP_QUERIES):
        body = body_of(client.get(zip_url(tenant_a)))
    names = open_zip(body)
    assert len(names) == files
    assert f"party/{captures:04d}-sepia.jpg" in names


def test_no_storage_request_is_made_before_streaming_unless_a_size_is_missing(
    tenant_a, sessions, monkeypatch
):
    asked: list[str] = []
    size = default_storage.size

    def counted(name: str) -> int:
        asked.append(name)
        return size(name)

    monkeypatch.setattr(default_storage, "size", counted)
    monkeypatch.setattr(default_storage, "exists", lambda name: pytest.fail("exists()"))
    archive.event_archive(tenant_a.event)
    assert asked == []
    legacy = CaptureVariant.objects.for_event(tenant_a.event).first()
    assert legacy is not None
    CaptureVariant.objects.filter(pk=legacy.pk).update(size_bytes=0)
    members = archive.event_archive(tenant_a.event).members
    assert asked == [legacy.image.name]
    assert size(legacy.image.name) in {m.size for m in members if m.name == legacy.image.name}


# --- Old rows, missing files and the backfill -------------------------------------------


def zero_sizes(event: Event) -> None:
    Capture.objects.for_event(event).update(size_bytes=0)
    CaptureVariant.objects.for_event(event).update(size_bytes=0)
    Strip.objects.for_event(event).update(size_bytes=0)


def test_rows_from_before_sizes_still_give_an_exact_zip(tenant_a, sessions, caplog):
    zero_sizes(tenant_a.event)
    gone = CaptureVariant.objects.for_event(tenant_a.event).get(
        capture=sessions[1].captures.get(), filter="sepia"
    )
    expected = expected_files(tenant_a.event)
    del expected["party/0003-sepia.jpg"]
    default_storage.delete(gone.image.name)
    files = open_zip(body_of(member(tenant_a).get(zip_url(tenant_a))))
    assert files == expected
    assert "missing file" in caplog.text
    assert gone.image.name not in caplog.text


def test_a_file_gone_after_the_listing_cuts_the_download_short(tenant_a, sessions, caplog):
    response: Any = member(tenant_a).get(zip_url(tenant_a))
    length = int(response["Content-Length"])
    strip = Strip.objects.for_event(tenant_a.event).order_by("created_at", "pk").last()
    assert strip is not None
    default_storage.delete(strip.image.name)  # the last file of the ZIP
    received: list[bytes] = []
    with caplog.at_level(logging.ERROR), pytest.raises(FileNotFoundError):
        received.extend(response.streaming_content)
    assert len(b"".join(received)) < length
    assert "cut short" in caplog.text
    assert strip.image.name not in caplog.text


def test_backfill_fills_in_every_missing_size_in_batches(tenant_a, sessions, capsys):
    zero_sizes(tenant_a.event)
    gone = Capture.objects.for_event(tenant_a.event).order_by("pk").last()
    assert gone is not None
    default_storage.delete(gone.image.name)
    call_command("backfill_media_sizes", "--batch-size", "2")
    out = capsys.readouterr().out
    assert "Sizes filled in: 2 captures, 12 variants, 2 strips, 0 GIFs." in out
    assert "1 file(s) are missing" in out
    for capture in Capture.objects.for_event(tenant_a.event).exclude(pk=gone.pk):
        assert capture.size_bytes == default_storage.size(capture.image.name)
    for variant in CaptureVariant.objects.for_event(tenant_a.event):
        assert variant.size_bytes == default_storage.size(variant.image.name)
    for strip in Strip.objects.for_event(tenant_a.event):
        assert strip.size_bytes == default_storage.size(strip.image.name)
    assert Capture.objects.get(pk=gone.pk).size_bytes == 0
    call_command("backfill_media_sizes")
    assert "0 captures, 0 variants, 0 strips, 0 GIFs" in capsys.readouterr().out


def test_backfill_refuses_a_batch_size_below_one():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="at least 1"):
        call_command("backfill_media_sizes", "--batch-size", "0")


# --- Guests ------------------------------------------------------------------------------


def guest_zip_url(event: Event) -> str:
    return f"/g/{event.gallery_token}/photos.zip"


def allow_guests(event: Event, **fields: object) -> Event:
    Event.objects.filter(pk=event.pk).update(guest_download=True, **fields)
    event.refresh_from_db()
    return event


def test_guests_download_the_same_zip_when_the_event_allows_it(tenant_a, sessions, anon_client):
    event = allow_guests(tenant_a.event)
    response = anon_client.get(guest_zip_url(event))
    files = open_zip(body_of(response))
    assert files == expected_files(event)
    assert response["Content-Disposition"] == 'attachment; filename="party.zip"'
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Cache-Control"] == "private, no-store"


def test_guests_get_the_gallerys_404_when_downloads_are_off(tenant_a, sessions, anon_client):
    event = tenant_a.event
    assert not event.guest_download
    refused = anon_client.get(guest_zip_url(event))
    missing = anon_client.get("/g/" + "x" * 43 + "/photos.zip")
    assert refused.status_code == missing.status_code == 404
    assert refused.content == missing.content


@pytest.mark.parametrize(
    "change",
    [{"gallery_visibility": "off"}, {"archived_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}],
)
def test_a_closed_gallery_gives_no_zip(tenant_a, sessions, anon_client, change):
    event = allow_guests(tenant_a.event, **change)
    response = anon_client.get(guest_zip_url(event))
    assert response.status_code == 404
    assert response.content == anon_client.get("/g/" + "x" * 43 + "/photos.zip").content


def test_another_events_token_reaches_only_its_own_photos(
    tenant_a, tenant_b, sessions, anon_client
):
    event_b = allow_guests(tenant_b.event)
    assert open_zip(body_of(anon_client.get(guest_zip_url(event_b)))) == {}


def test_a_passcode_gallery_asks_for_its_passcode_first(tenant_a, sessions, anon_client):
    event = tenant_a.event
    event.set_gallery_passcode("smile")
    Event.objects.filter(pk=event.pk).update(gallery_passcode_hash=event.gallery_passcode_hash)
    event = allow_guests(event, gallery_visibility="passcode")
    locked = anon_client.get(guest_zip_url(event))
    assert locked.status_code == 302
    assert locked["Location"] == event.gallery_path()
    anon_client.post(event.gallery_path(), {"passcode": "smile"})
    assert open_zip(body_of(anon_client.get(guest_zip_url(event)))) == expected_files(event)


@pytest.mark.django_db(transaction=True)
async def test_the_guest_zip_streams_asynchronously_under_asgi(tenant_a):
    from asgiref.sync import sync_to_async

    def build() -> tuple[Event, dict[str, bytes]]:
        session = factories.make_session(tenant_a.booth)
        for colour in COLOURS[:2]:
            services.record_capture(session, factories.image_bytes("JPEG", (64, 48), colour))
        services.finish_session(session)
        return allow_guests(tenant_a.event), expected_files(tenant_a.event)

    event, expected = await sync_to_async(build)()
    response: Any = await AsyncClient().get(guest_zip_url(event))
    assert response.status_code == 200
    assert response.is_async
    body = b"".join([chunk async for chunk in response.streaming_content])
    assert int(response["Content-Length"]) == len(body)
    assert open_zip(body) == expected


def test_managers_let_guests_download_from_the_gallery_settings(tenant_a):
    client = member(tenant_a, Role.MANAGER)
    url = f"/console/{tenant_a.organiser.slug}/{tenant_a.event.slug}/gallery/"
    page = client.get(url).content.decode()
    assert "Guests may download everything" in page
    data = {"gallery_visibility": "link", "retention_days": "30", "guest_download": "on"}
    assert client.post(url, data).status_code == 302
    assert Event.objects.get(pk=tenant_a.event.pk).guest_download
    assert client.post(url, data | {"guest_download": ""}).status_code == 302
    assert not Event.objects.get(pk=tenant_a.event.pk).guest_download


def test_the_gallery_links_the_zip_only_when_guests_may_download(tenant_a, anon_client):
    link = f'href="{guest_zip_url(tenant_a.event)}"'
    assert link not in anon_client.get(tenant_a.event.gallery_path()).content.decode()
    event = allow_guests(tenant_a.event)
    html = anon_client.get(event.gallery_path()).content.decode()
    assert link in html
    assert "Download all photos (ZIP)" in html


def test_the_zips_use_isa_l_crc32_which_zlib_agrees_with():
    import zlib

    from isal import isal_zlib

    from captures import archive

    data = bytes(range(256)) * 1000
    assert archive.FAST_CRC32  # isal is in requirements.txt
    assert isal_zlib.crc32(data) == zlib.crc32(data)


@pytest.mark.skipif(not hasattr(__import__("os"), "posix_fadvise"), reason="needs posix_fadvise")
def test_the_zip_asks_the_kernel_to_read_the_next_files_ahead(tenant_a, sessions, monkeypatch):
    # The seam: the page cache cannot be observed from here, so the hints given to the
    # kernel are recorded (by the file each descriptor names) and then passed on.
    import os

    hinted: list[str] = []
    real = os.posix_fadvise

    def recording(descriptor: int, offset: int, length: int, advice: int) -> None:
        if advice == os.POSIX_FADV_WILLNEED:
            hinted.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real(descriptor, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", recording)
    monkeypatch.setattr(archive, "READ_AHEAD_FILES", 2)
    listing = archive.event_archive(tenant_a.event)
    paths = [default_storage.path(member.name) for member in listing.members]
    stream = iter(listing.stream())
    next(stream)  # the first member's header: nothing read yet
    assert hinted == []
    next(stream)  # its data: the first member and the two after it were hinted
    assert hinted == paths[:3]
    for _ in stream:
        pass
    assert hinted == paths  # then one further file per member, each once


def test_a_file_gone_before_its_read_ahead_still_cuts_the_download_short(tenant_a, sessions):
    listing = archive.event_archive(tenant_a.event)
    default_storage.delete(listing.members[1].name)
    stream = iter(listing.stream())
    with pytest.raises(FileNotFoundError):
        b"".join(stream)
