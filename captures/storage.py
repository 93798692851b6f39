"""Storage keys and helpers. Keys are random: never a phone number or a client file name."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

EXTENSIONS = {"JPEG": "jpg", "PNG": "png"}


def media_key(organiser_id: uuid.UUID, event_id: uuid.UUID, fmt: str) -> str:
    """Return ``<organiser uuid>/<event uuid>/<uuid4>.<ext>`` for a new file of format ``fmt``."""
    return f"{organiser_id}/{event_id}/{uuid.uuid4()}.{EXTENSIONS[fmt]}"


class StagedFiles:
    """Files written to storage that are deleted again unless the caller commits them."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def save(self, key: str, data: bytes) -> str:
        """Write ``data`` under ``key`` (storage may adjust the name) and return the name."""
        name = default_storage.save(key, ContentFile(data))
        self.names.append(name)
        return name

    def discard(self) -> None:
        for name in self.names:
            delete_quietly(name)
        self.names.clear()


@contextmanager
def staged_files() -> Iterator[StagedFiles]:
    """Yield a StagedFiles that removes everything it wrote if the block raises.

    Used around "write files, then insert rows in a transaction", so a failed insert
    leaves no orphaned file (RELIABILITY 56).
    """
    staged = StagedFiles()
    try:
        yield staged
    except BaseException:
        staged.discard()
        raise


def delete_quietly(name: str) -> None:
    """Delete a stored file, ignoring a file that is already gone."""
    if name:
        default_storage.delete(name)
