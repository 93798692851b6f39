"""Storage fails, the database is fine (RELIABILITY 57).

An upload whose file cannot be written answers ``503 {"detail": "Storage temporarily
unavailable, please retry."}`` with ``Retry-After``; no capture row and no file are left
behind; a retry with the same ``Idempotency-Key`` once storage is back makes one capture.
Tested on local storage (a MEDIA_ROOT that cannot be created, and a second write that
fails) and on moto's S3 server (the bucket removed, the endpoint on a closed port).
"""

from __future__ import annotations

import base64
from pathlib import Path

import boto3  # type: ignore[import-untyped]
import pytest
from django.core.files.storage import FileSystemStorage

from captures import storage
from captures.models import BoothSession, Capture
from tests import factories
from tests.conftest import stored_files
from tests.daphne import free_port

pytestmark = pytest.mark.django_db
BUCKET = "boothsite-storage-errors"
MESSAGE = "Storage temporarily unavailable, please retry."


def upload(client, session: BoothSession, key: str = "snap-1"):
    image = "data:image/png;base64," + base64.b64encode(factories.image_bytes("PNG")).decode()
    return client.post(
        f"/api/v1/booth/sessions/{session.public_id}/captures/",
        {"image": image},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def assert_storage_503(response) -> None:
    assert response.status_code == 503, response.content
    assert response.json()["detail"] == MESSAGE
    assert int(response["Retry-After"]) == storage.STORAGE_RETRY_AFTER
    assert Capture.objects.count() == 0


def local_storage(settings, root: Path) -> None:
    settings.MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "boothsite.media_storage.SignedFileSystemStorage",
            "OPTIONS": {"location": root, "base_url": "/media/"},
        },
    }


def test_unwritable_media_root_is_503_and_a_retry_makes_one_capture(
    booth_client_a, tenant_a, settings, tmp_path
):
    # A MEDIA_ROOT inside a regular file cannot be created: the disk refuses with
    # NotADirectoryError (an OSError), as a read-only or vanished mount does. (Tests run
    # as root, which a read-only permission bit would not stop.)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    local_storage(settings, blocker / "media")
    session = factories.make_session(tenant_a.booth)
    assert_storage_503(upload(booth_client_a, session))
    local_storage(settings, tmp_path / "media")
    again = upload(booth_client_a, session)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert Capture.objects.count() == 1
    assert len(stored_files(tmp_path / "media")) == 2  # the original and its thumbnail


def test_a_failing_second_write_leaves_no_file(booth_client_a, tenant_a, media_root, monkeypatch):
    """The seam: FileSystemStorage.save raising OSError on the second file (disk full)."""
    real_save = FileSystemStorage.save
    calls: list[str] = []

    def fail_second(self, name, content, max_length=None):
        calls.append(name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_save(self, name, content, max_length=max_length)

    monkeypatch.setattr(FileSystemStorage, "save", fail_second)
    session = factories.make_session(tenant_a.booth)
    assert_storage_503(upload(booth_client_a, session))
    assert len(calls) == 2
    assert stored_files(media_root) == []


def test_compat_answers_503_in_the_seed_shape(tenant_a, settings, tmp_path):
    from rest_framework.test import APIClient

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    local_storage(settings, blocker / "media")
    image = "data:image/png;base64," + base64.b64encode(factories.image_bytes("PNG")).decode()
    response = APIClient().post(
        f"/compat/{tenant_a.token}/send-mms", {"phone": "+447400123456", "image": image}, "json"
    )
    assert response.status_code == 503
    assert response.json() == {"status": "error", "message": MESSAGE}
    assert "Retry-After" in response
    assert Capture.objects.count() == 0


# ---- moto's S3 server --------------------------------------------------------------


def s3_settings(settings, endpoint: str) -> None:
    """S3 storage as production configures it (boothsite/settings.py), at ``endpoint``."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": endpoint,
                "access_key": "testing",
                "secret_key": "testing",
                "region_name": "us-east-1",
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": 300,
                "file_overwrite": False,
            },
        },
    }


@pytest.fixture
def s3(settings, s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    s3_settings(settings, s3_endpoint)
    return client


def keys(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_removed_bucket_is_503_and_a_retry_makes_one_capture(s3, booth_client_a, tenant_a):
    session = factories.make_session(tenant_a.booth)
    assert_storage_503(upload(booth_client_a, session))
    s3.create_bucket(Bucket=BUCKET)
    try:
        again = upload(booth_client_a, session)
        assert again.status_code == 201, again.content
        assert Capture.objects.count() == 1
        assert len(keys(s3)) == 2
        assert upload(booth_client_a, session).content == again.content
        assert Capture.objects.count() == 1
    finally:
        for key in keys(s3):
            s3.delete_object(Bucket=BUCKET, Key=key)
        s3.delete_bucket(Bucket=BUCKET)


def test_unreachable_endpoint_is_503(settings, booth_client_a, tenant_a):
    s3_settings(settings, f"http://127.0.0.1:{free_port()}")
    session = factories.make_session(tenant_a.booth)
    assert_storage_503(upload(booth_client_a, session))
