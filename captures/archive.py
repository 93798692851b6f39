"""ZIPs of photos streamed from storage: a guest's session, and a whole event.

One code path for both. The rows are listed in three queries whatever their number
(the visible captures, their variants, the rendered strips), with the file sizes stored
on them when the files were written (``size_bytes``, ``gif_size_bytes``), so no storage
request is made before the first byte. Members are stored, not deflated (JPEG, WebP
and GIF do not shrink further), which makes the archive's length known from those sizes
alone: the response gets an exact Content-Length and the browser a progress bar.

Files are then read through Django's storage (local files or S3) in chunks while the
ZIP is sent, so no photo is held in memory whole. Rows stored before sizes were
recorded have 0: only those cost one storage ``size()`` call each (a file found missing
then is left out and logged); ``manage.py backfill_media_sizes`` fills them in. A file
that disappears after the listing cuts the download short (logged), rather than sending
a ZIP whose length or content would be wrong.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import zipstream.ng  # type: ignore[import-untyped]
from asgiref.sync import sync_to_async
from django.core.files.storage import default_storage
from django.core.handlers.asgi import ASGIRequest
from django.db.models import Model
from django.http import HttpRequest, StreamingHttpResponse
from zipstream import ZIP_STORED, ZipStream

from captures.models import Capture, CaptureQuerySet, CaptureVariant, RenderStatus, Strip

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from captures.models import BoothSession
    from events.models import Event

logger = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024


def _use_fast_crc32() -> bool:
    """Give zipstream-ng ISA-L's CRC-32 when the ``isal`` package is installed.

    A ZIP member's CRC-32 is computed over every byte sent, and zlib's runs at about
    0.6 GB/s here: on files in the page cache it, not reading, sets the ZIP's speed.
    ISA-L's gives the same values at about 8 GB/s. Without ``isal``, zlib's is kept.
    (zipstream-ng takes no CRC function, so its module's ``crc32`` is replaced.)
    """
    try:
        fast = importlib.import_module("isal.isal_zlib").crc32
    except ImportError:
        return False
    zipstream.ng.crc32 = fast
    return True


FAST_CRC32 = _use_fast_crc32()

#: Under ASGI, this much is read per hop to a worker thread (a hop costs ~0.1 ms).
ASGI_BATCH_BYTES = 4 * 1024 * 1024

#: Pieces of a ZIP this large go out as they are; smaller ones (headers) are joined.
PASS_BYTES = 16 * 1024


@dataclass(frozen=True)
class Member:
    """One stored file in the archive: its name in the ZIP, its storage name and size."""

    arcname: str
    name: str
    size: int


@dataclass(frozen=True)
class Archive:
    """What a ZIP holds, the file name it downloads as, and what to name in logs."""

    filename: str
    members: tuple[Member, ...]
    label: str = "a ZIP"

    def stream(self) -> ZipStream:
        """Return a sized ZipStream that reads each member from storage as it is sent.

        ``len()`` of it is the exact number of bytes it yields. A member whose file is
        gone or has another size by the time it is read raises (FileNotFoundError,
        RuntimeError) while streaming, after what was sent before it.
        """
        stream = ZipStream(compress_type=ZIP_STORED, sized=True)
        names = [member.name for member in self.members]
        ahead = _ReadAhead(names)
        for number, member in enumerate(self.members):
            stream.add(_read(member.name, ahead, number), member.arcname, size=member.size)
        return stream


@dataclass(frozen=True)
class _File:
    """A row's stored file before it is named: its stem in the ZIP, storage name, size."""

    stem: str
    name: str
    size: int


def safe_stem(slug: str) -> str:
    """Return ``slug`` reduced to ``[A-Za-z0-9_-]`` (``photos`` if nothing is left)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "", slug)[:60] or "photos"


def session_archive(session: BoothSession) -> Archive:
    """List what the guest's ZIP holds: the visible originals, their variants, the strips.

    The caller has authorised ``session`` (``access_session_by_share_token``). Names come
    from the event's slug, the photo's position and the filter or layout, never from
    stored keys or anything the guest typed: ``<slug>-photos/photo-1.jpg``,
    ``photo-1-sepia.jpg``, ``strip-horizontal_4.jpg`` (an animated strip also gives
    ``strip-animated.gif``). Only rendered strips are included. Three queries.
    """
    folder = f"{safe_stem(session.event.slug)}-photos"
    files = _files(
        Capture.objects.filter(session=session),
        CaptureVariant.objects.filter(capture__session=session),
        Strip.objects.filter(session=session),
        photo=lambda number: f"photo-{number}",
        strip=lambda _number, label: f"strip-{label}",
    )
    return _archive(folder, files, label=f"session {session.public_id}")


def event_archive(event: Event) -> Archive:
    """List what the event's ZIP holds: every visible original and variant, every strip.

    The caller has authorised ``event`` (the console's ``access_event`` or the gallery's
    token). Names are made of the event's slug, a number and the filter or layout:
    ``summer-party/0042.jpg``, ``summer-party/0042-sepia.jpg``,
    ``summer-party/strips/0007-horizontal_4.jpg`` (and ``…-animated.gif`` beside an
    animated strip's WebP). Numbers follow the time photos were taken (strips: the time
    they were made) and have at least four digits. Hidden captures are left out with
    their variants, and only rendered strips are included. Three queries, whatever the
    number of captures.
    """
    folder = safe_stem(event.slug)
    files = _files(
        Capture.objects.for_event(event),
        CaptureVariant.objects.for_event(event),
        Strip.objects.for_event(event),
        photo=lambda number: f"{number:04d}",
        strip=lambda number, label: f"strips/{number:04d}-{label}",
    )
    return _archive(folder, files, label=f"event {event.public_id}")


def _files(
    captures: CaptureQuerySet,
    variants: QuerySet[CaptureVariant],
    strips: QuerySet[Strip],
    *,
    photo: Callable[[int], str],
    strip: Callable[[int, str], str],
) -> list[_File]:
    """Return the files of the visible ``captures``, their ``variants`` and ready ``strips``.

    ``photo(number)`` names a capture (its variants add ``-<filter>``), ``strip(number,
    label)`` a strip. One query for each of the three querysets.
    """
    variant_rows = (
        variants.filter(capture__hidden=False)
        .order_by("capture_id", "pk")
        .values_list("capture_id", "filter", "image", "size_bytes")
    )
    by_capture: defaultdict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for capture_id, name, image, size in variant_rows:
        by_capture[capture_id].append((name, image, size))
    files: list[_File] = []
    capture_rows = (
        captures.visible().order_by("taken_at", "pk").values_list("pk", "image", "size_bytes")
    )
    for number, (pk, image, size) in enumerate(capture_rows, 1):
        stem = photo(number)
        files.append(_File(stem, image, size))
        files += [
            _File(f"{stem}-{safe_stem(name)}", variant_image, variant_size)
            for name, variant_image, variant_size in by_capture.get(pk, [])
        ]
    strip_rows = (
        strips.filter(status=RenderStatus.READY)
        .order_by("created_at", "pk")
        .values_list("layout", "filter", "image", "size_bytes", "gif", "gif_size_bytes")
    )
    for number, (layout, name, image, size, gif, gif_size) in enumerate(strip_rows, 1):
        stem = strip(number, "-".join(safe_stem(part) for part in (layout, name) if part))
        files.append(_File(stem, image, size))
        if gif:
            files.append(_File(stem, gif, gif_size))
    return files


def _archive(folder: str, files: Iterable[_File], *, label: str) -> Archive:
    """Name ``files`` inside ``folder`` and settle their sizes; leave out missing ones."""
    members = []
    for file in files:
        if not file.name:
            continue
        size = file.size or _stored_size(file.name, label)
        if size is None:
            continue
        extension = file.name.rsplit(".", 1)[-1].lower() if "." in file.name else "bin"
        members.append(Member(f"{folder}/{file.stem}.{extension}", file.name, size))
    return Archive(filename=f"{folder}.zip", members=tuple(members), label=label)


def _stored_size(name: str, label: str) -> int | None:
    """Ask storage for the size of a file whose row has none; None when it is missing."""
    try:
        return int(default_storage.size(name))
    except FileNotFoundError:
        logger.warning("Left a missing file out of %s's ZIP.", label)
        return None


@dataclass(frozen=True)
class Backfilled:
    """What ``backfill_sizes`` did: sizes filled in per kind of file, and files missing."""

    filled: dict[str, int]
    missing: int


#: The files whose rows carry a size: (name in reports, model, file field, size field).
SIZED_FILES: tuple[tuple[str, type[Model], str, str], ...] = (
    ("captures", Capture, "image", "size_bytes"),
    ("variants", CaptureVariant, "image", "size_bytes"),
    ("strips", Strip, "image", "size_bytes"),
    ("GIFs", Strip, "gif", "gif_size_bytes"),
)


def backfill_sizes(*, batch_size: int = 500) -> Backfilled:
    """Fill in the stored size of every file whose row has 0 (rows from before sizes).

    Walks each kind of file in ``SIZED_FILES`` by primary key, ``batch_size`` rows a
    query, asks storage for each file's size (one ``size()`` call each) and saves a
    batch with one UPDATE. A file missing from storage keeps 0 and is counted (and
    logged by kind and row id, never by key). Running it again does nothing more;
    rows written meanwhile already carry their size. Raises ValueError for a
    ``batch_size`` below 1.
    """
    if batch_size < 1:
        msg = "batch_size must be at least 1."
        raise ValueError(msg)
    filled: dict[str, int] = {}
    missing = 0
    for kind, model, file_field, size_field in SIZED_FILES:
        filled[kind] = 0
        last_pk = 0
        while True:
            rows = list(
                model._default_manager.filter(**{size_field: 0, "pk__gt": last_pk})
                .exclude(**{file_field: ""})
                .order_by("pk")
                .only("pk", file_field, size_field)[:batch_size]
            )
            if not rows:
                break
            last_pk = rows[-1].pk
            changed = []
            for row in rows:
                try:
                    setattr(
                        row, size_field, int(default_storage.size(getattr(row, file_field).name))
                    )
                except FileNotFoundError:
                    logger.warning("The file of %s row %s is missing from storage.", kind, row.pk)
                    missing += 1
                    continue
                changed.append(row)
            model._default_manager.bulk_update(changed, [size_field])
            filled[kind] += len(changed)
    return Backfilled(filled=filled, missing=missing)


def zip_response(request: HttpRequest, archive: Archive) -> StreamingHttpResponse:
    """Return a response that streams ``archive`` as an attachment, with its exact length.

    Under ASGI the chunks are read in a worker thread (``async_chunks``); under WSGI the
    iterator is handed to the server as it is. A file gone while streaming is logged and
    the stream is cut short: the client sees fewer bytes than the Content-Length.
    """
    stream = archive.stream()
    chunks = _coalesced(_logged(iter(stream), archive.label))
    content = async_chunks(chunks) if isinstance(request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type="application/zip")
    response["Content-Length"] = str(len(stream))
    # The name is [A-Za-z0-9_-] only (safe_stem): no quoting or encoding needed.
    response["Content-Disposition"] = f'attachment; filename="{archive.filename}"'
    return response


def _logged(chunks: Iterator[bytes], label: str) -> Iterator[bytes]:
    try:
        yield from chunks
    except (OSError, RuntimeError) as exc:
        # Only the class: the message names the storage key.
        logger.error(
            "A file of %s's ZIP could not be read (%s); the download was cut short.",
            label,
            type(exc).__name__,
        )
        raise


def _coalesced(chunks: Iterator[bytes], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Yield ``chunks``, the small ones joined into pieces of at least ``size`` bytes.

    A ZIP yields three pieces per file (header, data, descriptor); joining the small
    ones makes fewer server writes. Chunks of ``PASS_BYTES`` or more (a file's data) pass
    through uncopied.
    """
    pending: list[bytes] = []
    held = 0
    for chunk in chunks:
        if len(chunk) >= PASS_BYTES:  # a file's data: sent as it is, not copied again
            if pending:
                yield b"".join(pending)
                pending, held = [], 0
            yield chunk
            continue
        pending.append(chunk)
        held += len(chunk)
        if held >= size:
            yield b"".join(pending)
            pending, held = [], 0
    if pending:
        yield b"".join(pending)


#: Files a ZIP asks the kernel to read ahead of the one it sends (local storage).
READ_AHEAD_FILES = 8


class _ReadAhead:
    """Ask the kernel to read the next stored files while the ZIP sends this one.

    On local storage a ZIP reads its files one after the other, and a file not in the
    page cache keeps the stream waiting on the disk for each one in turn. Before a
    member is sent, ``posix_fadvise(WILLNEED)`` is given for the file
    ``READ_AHEAD_FILES`` further on (the first ones at the start), so the disk works
    while the ZIP sends: one ``open`` and ``close`` a file. Storages without local paths
    (S3) and systems without ``posix_fadvise`` do nothing.
    """

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.enabled = hasattr(os, "posix_fadvise")

    def before(self, number: int) -> None:
        """Prefetch what member ``number`` (0-based) needs ahead of it."""
        if not self.enabled:
            return
        first = READ_AHEAD_FILES if number else 0
        for name in self.names[number + first : number + READ_AHEAD_FILES + 1]:
            self._prefetch(name)

    def _prefetch(self, name: str) -> None:
        try:
            path = default_storage.path(name)
        except NotImplementedError:  # no local files (S3): nothing to hint
            self.enabled = False
            return
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except OSError:  # gone: reading it will tell
            return
        try:
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(descriptor)


def _read(name: str, ahead: _ReadAhead, number: int) -> Iterator[bytes]:
    ahead.before(number)
    with default_storage.open(name, "rb") as stored:
        while chunk := stored.read(CHUNK_BYTES):
            yield chunk


async def async_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Yield ``chunks`` to an ASGI server, read in a worker thread ``ASGI_BATCH_BYTES`` at a time.

    Django serves a synchronous iterator under ASGI by reading it whole into memory
    first; this keeps the ZIP streaming there too.
    """
    read = sync_to_async(_next_batch, thread_sensitive=False)
    while batch := await read(chunks):
        for chunk in batch:
            yield chunk


def _next_batch(chunks: Iterator[bytes], size: int = ASGI_BATCH_BYTES) -> list[bytes]:
    """Return the next chunks, up to about ``size`` bytes: one thread hop for several."""
    batch: list[bytes] = []
    held = 0
    for chunk in chunks:
        batch.append(chunk)
        held += len(chunk)
        if held >= size:
            break
    return batch
