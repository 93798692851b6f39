"""``Idempotency-Key`` on the booth API's captures/, finish/ and share/sms/ (RELIABILITY 10).

The same key from the same booth gets the first answer again (same status, same body),
with no second row and no second SMS; another booth's key is its own; a key reused for
another request is a 422; a key whose first request still runs is a 409.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import threading
import time
import uuid
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.client import encode_multipart
from rest_framework.test import APIClient

from captures import services as capture_services
from captures.models import BoothSession, Capture
from events import idempotency
from events.models import IdempotencyKey
from messaging.models import SmsMessage
from tests import factories
from tests.conftest import booth_client

pytestmark = pytest.mark.django_db

PHONE = "+447400123456"


def upload_url(session: BoothSession) -> str:
    return f"/api/v1/booth/sessions/{session.public_id}/captures/"


def jpeg() -> SimpleUploadedFile:
    return SimpleUploadedFile("snap.jpg", factories.image_bytes("JPEG"), "image/jpeg")


def multipart_upload(client: APIClient, session: BoothSession, key: str, *, boundary: str):
    """POST one JPEG as multipart with ``boundary`` (a browser picks a new one each time)."""
    return client.post(
        upload_url(session),
        encode_multipart(boundary, {"image": jpeg(), "trigger": "manual"}),
        content_type=f"multipart/form-data; boundary={boundary}",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def json_upload(client: APIClient, session: BoothSession, key: str, image: bytes | None = None):
    data = image or factories.image_bytes("PNG")
    body = {"image": "data:image/png;base64," + base64.b64encode(data).decode()}
    return client.post(upload_url(session), body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def share(client: APIClient, session: BoothSession, key: str, phone: str = PHONE):
    return client.post(
        f"/api/v1/booth/sessions/{session.public_id}/share/sms/",
        {"phone": phone},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_resent_multipart_upload_gets_the_first_answer_and_one_capture(booth_client_a, tenant_a):
    session = factories.make_session(tenant_a.booth)
    key = str(uuid.uuid4())
    first = multipart_upload(booth_client_a, session, key, boundary="first-boundary")
    again = multipart_upload(booth_client_a, session, key, boundary="another-boundary")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    assert again["Idempotent-Replayed"] == "true"
    assert Capture.objects.count() == 1


def test_resent_json_upload_gets_the_first_answer(booth_client_a, tenant_a):
    session = factories.make_session(tenant_a.booth)
    first = json_upload(booth_client_a, session, "key-1")
    again = json_upload(booth_client_a, session, "key-1")
    assert (first.status_code, first.content) == (again.status_code, again.content)
    assert Capture.objects.count() == 1


def test_share_posted_twice_sends_one_sms(
    booth_client_a, tenant_a, django_capture_on_commit_callbacks
):
    session = factories.make_session(tenant_a.booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    with django_capture_on_commit_callbacks(execute=True):
        first = share(booth_client_a, session, "share-1")
        again = share(booth_client_a, session, "share-1")
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert SmsMessage.objects.count() == 1


def test_finish_resent_gets_the_first_answer(booth_client_a, tenant_a):
    session = factories.make_session(tenant_a.booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    url = f"/api/v1/booth/sessions/{session.public_id}/finish/"
    first = booth_client_a.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="fin")
    again = booth_client_a.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="fin")
    assert first.status_code == again.status_code == 202
    assert again.content == first.content


def test_another_booth_with_the_same_key_gets_its_own_result(
    booth_client_a, booth_client_b, tenant_a, tenant_b
):
    session_a = factories.make_session(tenant_a.booth)
    session_b = factories.make_session(tenant_b.booth)
    answer_a = json_upload(booth_client_a, session_a, "shared-key")
    answer_b = json_upload(booth_client_b, session_b, "shared-key")
    assert answer_a.status_code == answer_b.status_code == 201
    assert answer_a.json()["id"] != answer_b.json()["id"]
    assert Capture.objects.filter(event=tenant_b.event).count() == 1
    assert IdempotencyKey.objects.count() == 2


def test_key_reused_with_another_body_is_422(booth_client_a, tenant_a):
    session = factories.make_session(tenant_a.booth)
    assert json_upload(booth_client_a, session, "k").status_code == 201
    other = factories.image_bytes("PNG", (80, 60))
    response = json_upload(booth_client_a, session, "k", image=other)
    assert response.status_code == 422
    assert response.json()["detail"] == idempotency.REUSED_MESSAGE
    assert Capture.objects.count() == 1


def test_key_reused_on_another_route_is_422(booth_client_a, tenant_a):
    session = factories.make_session(tenant_a.booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    assert share(booth_client_a, session, "k").status_code == 202
    response = booth_client_a.post(
        f"/api/v1/booth/sessions/{session.public_id}/finish/", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 422
    assert BoothSession.objects.get().status == BoothSession.Status.OPEN


def test_key_whose_first_request_still_runs_is_409(booth_client_a, tenant_a):
    session = factories.make_session(tenant_a.booth)
    body = {"phone": PHONE}
    path = f"/api/v1/booth/sessions/{session.public_id}/share/sms/"
    idempotency.begin(
        tenant_a.booth,
        "busy",
        route="api:booth-share-sms",
        fingerprint=idempotency.request_hash("POST", path, body),
    )
    response = share(booth_client_a, session, "busy")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_use"
    assert response["Retry-After"] == str(idempotency.IN_USE_RETRY_AFTER)


def test_a_key_left_running_by_a_dead_request_is_taken_over(booth_client_a, tenant_a):
    session = factories.make_session(tenant_a.booth)
    json_upload(booth_client_a, session, "warm-up")  # the fingerprint of the body below
    record = IdempotencyKey.objects.get()
    IdempotencyKey.objects.filter(pk=record.pk).update(
        key="dead",
        response_status=None,
        created_at=record.created_at - dt.timedelta(seconds=idempotency.STALE_AFTER_SECONDS + 1),
    )
    assert json_upload(booth_client_a, session, "dead").status_code == 201
    assert Capture.objects.count() == 2


def test_answers_meant_to_be_retried_are_not_stored(booth_client_a, tenant_a):
    tenant_a.event.captures_per_session = 1
    tenant_a.event.save()
    session = factories.make_session(tenant_a.booth)
    assert json_upload(booth_client_a, session, "one").status_code == 201
    assert json_upload(booth_client_a, session, "two").status_code == 409  # limit
    tenant_a.event.captures_per_session = 2
    tenant_a.event.save()
    assert json_upload(booth_client_a, session, "two").status_code == 201
    assert Capture.objects.count() == 2


def test_keys_expire(booth_client_a, tenant_a, settings):
    session = factories.make_session(tenant_a.booth)
    with time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC), tick=False):
        assert json_upload(booth_client_a, session, "old").status_code == 201
    later = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC) + dt.timedelta(
        seconds=settings.BOOTHSITE_IDEMPOTENCY_TTL_SECONDS + 1
    )
    with time_machine.travel(later, tick=False):
        response = json_upload(booth_client_a, session, "old")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Capture.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "key with spaces", "clé"])
def test_malformed_key_is_400(booth_client_a, tenant_a, key):
    session = factories.make_session(tenant_a.booth)
    response = json_upload(booth_client_a, session, key)
    assert response.status_code == 400
    assert response.json()["detail"] == idempotency.INVALID_MESSAGE
    assert Capture.objects.count() == 0


def test_a_crashed_request_releases_its_key(booth_client_a, tenant_a, monkeypatch):
    """The seam: ``record_capture`` raising a bug (500) after the key was recorded."""
    session = factories.make_session(tenant_a.booth)

    def crash(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(capture_services, "record_capture", crash)
    booth_client_a.raise_request_exception = False
    assert json_upload(booth_client_a, session, "crash").status_code == 500
    assert IdempotencyKey.objects.count() == 0
    monkeypatch.undo()
    assert json_upload(booth_client_a, session, "crash").status_code == 201


def test_no_phone_number_is_stored_with_the_key(booth_client_a, tenant_a):
    session = factories.make_session(tenant_a.booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    share(booth_client_a, session, "privacy")
    row = IdempotencyKey.objects.values().get()
    assert not any(PHONE[1:] in str(value) for value in row.values())


def test_requests_without_a_key_are_not_recorded(booth_client_a, tenant_a):
    session = factories.make_session(tenant_a.booth)
    booth_client_a.post(upload_url(session), {"image": jpeg()}, format="multipart")
    booth_client_a.get(f"/api/v1/booth/sessions/{session.public_id}/", HTTP_IDEMPOTENCY_KEY="g")
    assert IdempotencyKey.objects.count() == 0


# ---- concurrency, on PostgreSQL -------------------------------------------------------

needs_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs DATABASE_URL (PostgreSQL): concurrent requests need real row locks",
)


def _post_in_thread(
    token: str, session: BoothSession, key: str, results: list[Any]
) -> threading.Thread:
    def run() -> None:
        try:
            results.append(json_upload(booth_client(token), session, key))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_for_key(key: str) -> None:
    deadline = time.monotonic() + 20
    while not IdempotencyKey.objects.filter(key=key).exists():
        assert time.monotonic() < deadline, "the first request never recorded its key"
        time.sleep(0.02)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_same_key_while_the_first_upload_waits_is_409_then_one_capture(tenant_a):
    session = factories.make_session(tenant_a.booth)
    first: list[Any] = []
    with transaction.atomic():
        # Hold the session's row lock: the first upload records its key, then waits here.
        BoothSession.objects.select_for_update().get(pk=session.pk)
        thread = _post_in_thread(tenant_a.token, session, "race", first)
        _wait_for_key("race")
        second = json_upload(booth_client(tenant_a.token), session, "race")
    thread.join(timeout=30)
    assert second.status_code == 409
    assert first[0].status_code == 201
    assert Capture.objects.count() == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_uploads_with_one_key_at_once_make_one_capture(tenant_a):
    session = factories.make_session(tenant_a.booth)
    results: list[Any] = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait(timeout=10)
            results.append(json_upload(booth_client(tenant_a.token), session, "same-time"))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    statuses = sorted(response.status_code for response in results)
    assert statuses in ([201, 201], [201, 409])
    assert Capture.objects.count() == 1
    if statuses == [201, 201]:
        assert results[0].content == results[1].content


def test_admin_lists_keys_read_only(admin_client, booth_client_a, tenant_a):
    session = factories.make_session(tenant_a.booth)
    json_upload(booth_client_a, session, "seen-in-admin")
    response = admin_client.get("/admin/events/idempotencykey/")
    assert response.status_code == 200
    assert b"seen-in-admin" in response.content
    assert admin_client.get("/admin/events/idempotencykey/add/").status_code == 403
