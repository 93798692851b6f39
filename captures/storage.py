"""Storage keys and helpers. Keys are random: never a phone number or a client file name.

A write the storage backend refuses (the disk is full or read-only, S3 is unreachable,
the bucket is gone) raises ``StorageUnavailable``: the API answers ``503 {"detail":
"Storage temporarily unavailable, please retry."}`` with ``Retry-After``, and whatever
the same upload had already written is removed (RELIABILITY 57).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from boto3.exceptions import Boto3Error  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from captures.exceptions import StorageUnavailable

logger = logging.getLogger(__name__)

EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
STORAGE_UNAVAILABLE_MESSAGE = "Storage temporarily unavailable, please retry."
#: Seconds a client is asked to wait after a storage failure (a proposal: S3 and disk
#: faults clear in seconds to minutes; the kiosk's offline queue retries anyway).
STORAGE_RETRY_AFTER = 30
#: What backends raise when storage fails: OSError (local disk: full, read-only, gone;
#: also socket errors), botocore's errors (EndpointConnectionError, timeouts; a
#: ClientError such as NoSuchBucket or 500 InternalError) and boto3's upload wrapper
#: (S3UploadFailedError, which django-storages' upload_fileobj raises).
STORAGE_ERRORS: tuple[type[Exception], ...] = (OSError, BotoCoreError, ClientError, Boto3Error)


def media_key(organiser_id: uuid.UUID, event_id: uuid.UUID, fmt: str) -> str:
    """Return ``<organiser uuid>/<event uuid>/<uuid4>.<ext>`` for a new file of format ``fmt``."""
    return f"{organiser_id}/{event_id}/{uuid.uuid4()}.{EXTENSIONS[fmt]}"


class StagedFiles:
    """Files written to storage that are deleted again unless the caller commits them."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def save(self, key: str, data: bytes) -> str:
        """Write ``data`` under ``key`` (storage may adjust the name) and return the name.

        :raises StorageUnavailable: (503, ``Retry-After``) when the backend fails.
        """
        try:
            name = default_storage.save(key, ContentFile(data))
        except STORAGE_ERRORS as exc:
            logger.warning("Storage write failed (%s): %s", type(exc).__name__, exc)
            raise StorageUnavailable(
                STORAGE_UNAVAILABLE_MESSAGE, retry_after=STORAGE_RETRY_AFTER
            ) from exc
        self.names.append(name)
        return name

    def discard(self) -> None:
        """Delete every file written so far. A delete that fails too is logged, not raised.

        The caller is already failing; its error (not a second storage error) is the
        one to report. The key logged is random, never personal data.
        """
        for name in self.names:
            try:
                delete_quietly(name)
            except STORAGE_ERRORS as exc:
                logger.warning("Could not remove %s after a failed write: %s", name, exc)
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
