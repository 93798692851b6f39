"""The guest's "download all": one session's photos as a ZIP streamed from storage.

Files are read through Django's storage (local files or S3) in chunks while the ZIP is
sent, so no photo is held in memory whole. Members are stored, not deflated (JPEG and
PNG do not shrink further), which also makes the archive's size known before the first
byte: the response gets a Content-Length and the browser a progress bar.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.core.files.storage import default_storage
from zipstream import ZIP_STORED, ZipStream  # type: ignore[import-untyped]

from captures.models import RenderStatus

if TYPE_CHECKING:
    from captures.models import BoothSession

logger = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Member:
    """One stored file in the archive: its name in the ZIP, its storage name and size."""

    arcname: str
    name: str
    size: int


@dataclass(frozen=True)
class Archive:
    """What a session's ZIP holds, and the file name it downloads as."""

    filename: str
    members: tuple[Member, ...]

    def stream(self) -> ZipStream:
        """Return a sized ZipStream that reads each member from storage as it is sent."""
        stream = ZipStream(compress_type=ZIP_STORED, sized=True)
        for member in self.members:
            stream.add(_read(member.name), member.arcname, size=member.size)
        return stream


def safe_stem(slug: str) -> str:
    """Return ``slug`` reduced to ``[A-Za-z0-9_-]`` (``photos`` if nothing is left)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "", slug)[:60] or "photos"


def session_archive(session: BoothSession) -> Archive:
    """List what the guest's ZIP holds: the visible originals, their variants, the strips.

    The caller has authorised ``session`` (``access_session_by_share_token``). Names come
    from the event's slug, the photo's position and the filter or layout, never from
    stored keys or anything the guest typed: ``<slug>-photos/photo-1.jpg``,
    ``photo-1-sepia.jpg``, ``strip-horizontal_4.jpg``. Only rendered strips are included,
    and a file missing from storage is left out (and logged) rather than failing the
    whole download. Sizes are read from storage now, before anything is sent.
    """
    stem = safe_stem(session.event.slug)
    folder = f"{stem}-photos"
    wanted: list[tuple[str, str]] = []
    captures = session.captures.visible().prefetch_related("variants").order_by("taken_at", "pk")
    for number, capture in enumerate(captures, 1):
        wanted.append((f"photo-{number}", capture.image.name))
        wanted += [
            (f"photo-{number}-{safe_stem(variant.filter)}", variant.image.name)
            for variant in capture.variants.all()
        ]
    for strip in session.strips.filter(status=RenderStatus.READY).order_by("created_at", "pk"):
        label = "-".join(safe_stem(part) for part in (strip.layout, strip.filter) if part)
        wanted.append((f"strip-{label}", strip.image.name))
    members = []
    for stem_name, name in wanted:
        try:
            size = default_storage.size(name)
        except FileNotFoundError:
            logger.warning("Left a missing file out of session %s's ZIP.", session.public_id)
            continue
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else "bin"
        members.append(Member(f"{folder}/{stem_name}.{extension}", name, size))
    return Archive(filename=f"{folder}.zip", members=tuple(members))


def _read(name: str) -> Iterator[bytes]:
    with default_storage.open(name, "rb") as stored:
        while chunk := stored.read(CHUNK_BYTES):
            yield chunk


async def async_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Yield ``chunks`` to an ASGI server, each read in a worker thread.

    Django serves a synchronous iterator under ASGI by reading it whole into memory
    first; this keeps the ZIP streaming there too.
    """
    read = sync_to_async(_next_or_none, thread_sensitive=False)
    while (chunk := await read(chunks)) is not None:
        yield chunk


def _next_or_none(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)
