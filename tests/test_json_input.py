"""Malformed JSON on every JSON endpoint answers 400 with a message, never 500 (RELIABILITY 71).

Each route gets each bad shape: a top-level array, string, number and null, and JSON
nested 100,000 deep (arrays and objects), which made ``json.loads`` raise RecursionError.
The same checks run in-process (the Django test client) and against a real daphne
subprocess for the routes anyone on the internet can reach: pairing and the receipt hook.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from boothsite import parsers
from captures.models import Capture
from messaging.models import SmsMessage
from tests import factories
from tests.conftest import stored_files
from tests.daphne import Daphne, sqlite_site

pytestmark = pytest.mark.django_db

DEEP = 100_000
BAD_BODIES = {
    "array": b"[1, 2, 3]",
    "string": b'"data:image/png;base64,AAAA"',
    "number": b"42",
    "null": b"null",
    "deep array": b"[" * DEEP + b"]" * DEEP,
    "deep object": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "deep and unclosed": b'{"image": ' + b"[" * DEEP,
}
NOT_AN_OBJECT = {"array", "string", "number", "null"}


def booth_routes(session_id: str) -> list[str]:
    base = f"/api/v1/booth/sessions/{session_id}/"
    return [
        "/api/v1/booth/sessions/",
        base + "captures/",
        base + "finish/",
        base + "share/sms/",
    ]


def post_raw(client: APIClient, url: str, body: bytes):
    client.raise_request_exception = False
    return client.post(url, body, content_type="application/json")


@pytest.mark.parametrize("shape", BAD_BODIES)
def test_booth_routes_answer_400_with_a_message(booth_client_a, tenant_a, media_root, shape):
    session = factories.make_session(tenant_a.booth)
    for url in booth_routes(str(session.public_id)):
        response = post_raw(booth_client_a, url, BAD_BODIES[shape])
        assert response.status_code == 400, (url, response.content[:200])
        assert response["Content-Type"] == "application/json"
        detail = response.json()["detail"]
        if shape in NOT_AN_OBJECT:
            assert detail == "Send a JSON object."
        elif shape.startswith("deep and"):
            assert detail
        else:
            assert detail == "JSON nested too deeply (at most 32 levels)."
    assert Capture.objects.count() == SmsMessage.objects.count() == 0
    assert stored_files(media_root) == []


@pytest.mark.parametrize("shape", BAD_BODIES)
def test_pairing_answers_400_with_a_message(db, shape):
    response = post_raw(APIClient(), "/api/v1/booth/pair/", BAD_BODIES[shape])
    assert response.status_code == 400, response.content[:200]
    assert response.json()["detail"]


@pytest.mark.parametrize("shape", BAD_BODIES)
def test_compat_answers_400_in_the_seed_shape(tenant_a, media_root, shape):
    response = post_raw(APIClient(), f"/compat/{tenant_a.token}/send-mms", BAD_BODIES[shape])
    assert response.status_code == 400, response.content[:200]
    body = response.json()
    assert body["status"] == "error"
    assert body["message"]
    assert Capture.objects.count() == SmsMessage.objects.count() == 0
    assert stored_files(media_root) == []


@pytest.mark.parametrize("shape", BAD_BODIES)
def test_receipt_hook_answers_400_with_a_message(db, shape):
    response = post_raw(APIClient(), "/hooks/sms/dlr/unknown-token/", BAD_BODIES[shape])
    assert response.status_code == 400, response.content[:200]
    assert response.json()["detail"]


def test_receipt_hook_still_takes_a_json_object(db):
    response = APIClient().post(
        "/hooks/sms/dlr/unknown-token/",
        {"messageId": "abc", "status": "delivered"},
        format="json",
    )
    assert response.status_code == 204


def test_json_under_the_depth_limit_still_parses(booth_client_a, tenant_a):
    session = factories.make_session(tenant_a.booth)
    nested: object = "deep"
    for _ in range(31):
        nested = [nested]
    response = booth_client_a.post(
        f"/api/v1/booth/sessions/{session.public_id}/share/sms/",
        {"phone": "+447400123456", "extra": nested},
        format="json",
    )
    assert response.status_code == 409  # nothing to share yet: the body was read fine


def test_brackets_inside_strings_do_not_count(settings):
    settings.BOOTHSITE_JSON_MAX_DEPTH = 2
    text = json.dumps({"a": "[[[[{{{{" * 1000, "b": ['\\"[[[', "\\\\"]})
    assert parsers.parse_json_object(text.encode()) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "depth"),
    [("{}", 1), ("[[]]", 2), ('{"a": [{"b": []}]}', 4), ("[[],[],[[]]]", 3), ('"[[["', 0)],
)
def test_depth_scan_counts_nesting(text, depth):
    assert parsers.json_depth(text.encode(), limit=10) == depth


def test_depth_scan_stops_at_the_limit():
    assert parsers.json_depth(b"[" * DEEP + b"]" * DEEP, limit=32) == 33


# ---- the same through a real daphne --------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Daphne]:
    folder = Path(tmp_path_factory.mktemp("json-daphne"))
    site = sqlite_site(folder)
    site.manage("migrate", "--noinput")
    site.start()
    yield site
    site.stop()


def post_to(server: Daphne, path: str, body: bytes) -> tuple[int, str, bytes]:
    """POST ``body`` as JSON; return the status, the Content-Type and the raw answer."""
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        server.url + path,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


@pytest.fixture(scope="module")
def daphne_booth_token(server: Daphne) -> str:
    out = server.manage(
        "shell",
        "-c",
        "from events import services; from events.models import Organiser\n"
        "o = Organiser.objects.create(name='Json', slug='json')\n"
        "e = services.create_event(o, name='Party', slug='party')\n"
        "print('TOKEN', services.create_booth(o, name='B', event=e).secret)\n",
    )
    return next(line.split()[1] for line in out.splitlines() if line.startswith("TOKEN "))


@pytest.mark.parametrize("shape", BAD_BODIES)
@pytest.mark.parametrize("path", ["/api/v1/booth/pair/", "/hooks/sms/dlr/unknown-token/"])
def test_unauthenticated_routes_answer_400_under_daphne(server, path, shape):
    status, content_type, content = post_to(server, path, BAD_BODIES[shape])
    assert status == 400, content[:300]
    assert content_type == "application/json"
    assert json.loads(content)["detail"]
    assert "Traceback" not in server.log_text()


def test_small_bodied_routes_cap_their_size(db):
    padding = "x" * 20_000
    response = post_raw(APIClient(), "/api/v1/booth/pair/", json.dumps({"code": padding}).encode())
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large (at most 4096 bytes)."}
    response = post_raw(
        APIClient(), "/hooks/sms/dlr/unknown-token/", json.dumps({"a": padding}).encode()
    )
    assert response.status_code == 413
    assert response.json()["detail"].startswith("Request body too large")


@pytest.mark.parametrize("shape", BAD_BODIES)
def test_compat_answers_400_under_daphne(server, daphne_booth_token, shape):
    path = f"/compat/{daphne_booth_token}/send-mms"
    status, content_type, content = post_to(server, path, BAD_BODIES[shape])
    assert status == 400, content[:300]
    assert content_type == "application/json"
    assert json.loads(content)["status"] == "error"
    assert "Traceback" not in server.log_text()
