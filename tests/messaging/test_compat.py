"""The seed front end's POST /compat/<booth token>/send-mms, with real status codes.

Every answer is the seed's ``{"status": "success" | "error", "message": …}``; CORS
headers go only to the origins the booth's organiser lists in ``compat_origins``.
"""

from __future__ import annotations

import base64
import io
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from PIL import Image, ImageOps
from rest_framework.test import APIClient

from captures import imaging
from captures.models import BoothSession, Capture
from events.drf import BoothRateThrottle
from events.models import canonical_origin, validate_compat_origins
from messaging.models import SmsMessage
from tests import factories
from tests.conftest import stored_files
from tests.daphne import Daphne, sqlite_site

pytestmark = pytest.mark.django_db

IMAGE = "data:image/png;base64," + base64.b64encode(factories.image_bytes("PNG")).decode()
ORIGIN = "https://booth.example.com"
SEED_PHONE = "447400123456"


def canvas_png() -> bytes:
    """A 640x480 RGBA PNG like a canvas's ``toDataURL()`` of a webcam frame.

    A GENKI-4K face centred on a plain ground; a gradient where the data is absent.
    """
    frame = Image.new("RGBA", (640, 480), (120, 110, 100, 255))
    photos = factories.genki_photos(1)
    if photos:
        face = ImageOps.contain(Image.open(photos[0]).convert("RGBA"), (360, 360))
    else:
        face = Image.linear_gradient("L").convert("RGBA").resize((360, 360))
    frame.paste(face, ((640 - face.width) // 2, (480 - face.height) // 2))
    out = io.BytesIO()
    frame.save(out, "PNG")
    return out.getvalue()


CANVAS_URL = "data:image/png;base64," + base64.b64encode(canvas_png()).decode()


def send(token: str, body: dict[str, object], **extra: Any):
    return APIClient().post(f"/compat/{token}/send-mms", body, format="json", **extra)


def test_the_seeds_exact_request_succeeds(tenant_a, django_capture_on_commit_callbacks):
    assert CANVAS_URL.startswith("data:image/png;base64,iVBORw0KGgo")
    with django_capture_on_commit_callbacks(execute=True):
        response = send(tenant_a.token, {"phone": SEED_PHONE, "image": CANVAS_URL})
    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Your photo is on its way by SMS."}
    session = BoothSession.objects.get()
    capture = session.captures.get()
    assert (capture.width, capture.height) == (640, 480)
    sms = SmsMessage.objects.get()
    assert sms.to == "+447400123456"
    assert sms.session == session
    assert session.share_url() in sms.body
    assert sms.status == SmsMessage.Status.SUBMITTED


def test_seed_request_creates_a_session_and_an_sms(tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(tenant_a.token, {"phone": "+447400123456", "image": IMAGE})
    assert response.status_code == 202
    assert response.json()["status"] == "success"
    assert BoothSession.objects.get().captures.count() == 1
    assert SmsMessage.objects.get().status == SmsMessage.Status.SUBMITTED


@pytest.mark.parametrize(
    ("content_type", "encode"),
    [
        ("application/x-www-form-urlencoded", urllib.parse.urlencode),
        ("multipart/form-data", None),
    ],
)
def test_form_bodies_are_read_like_json(tenant_a, content_type, encode):
    body = {"phone": SEED_PHONE, "image": CANVAS_URL}
    client = APIClient()
    url = f"/compat/{tenant_a.token}/send-mms"
    if encode is None:
        response = client.post(url, body, format="multipart")
    else:
        response = client.post(url, encode(body), content_type=content_type)
    assert response.status_code == 202, response.content[:300]
    assert response.json()["status"] == "success"
    assert SmsMessage.objects.get().to == "+447400123456"


def test_a_multipart_file_part_is_read_as_the_image(tenant_a):
    upload = io.BytesIO(canvas_png())
    upload.name = "snap.png"
    response = APIClient().post(
        f"/compat/{tenant_a.token}/send-mms",
        {"phone": SEED_PHONE, "image": upload},
        format="multipart",
    )
    assert response.status_code == 202, response.content[:300]
    assert Capture.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"image": IMAGE}, 400, "Enter a mobile number with its country code"),
        ({"phone": " ", "image": IMAGE}, 400, "Enter a mobile number with its country code"),
        ({"phone": "+447400123456"}, 400, "No image was sent."),
        ({"phone": "07400123456", "image": IMAGE}, 400, "country code in place of the leading 0"),
        ({"phone": "+449098790000", "image": IMAGE}, 400, "cannot receive SMS"),
        ({"phone": "12023334455", "image": IMAGE}, 400, "BOOTHSITE_SMS_COUNTRIES"),
        ({"phone": "+447400123456", "image": "data:text/html;base64,PGI+"}, 400, "Unsupported"),
        ({"phone": "+447400123456", "image": "data:image/png;base64,iVBOR@@@"}, 400, "base64"),
    ],
)
def test_seed_errors_have_real_status_codes_and_store_nothing(
    tenant_a, media_root, body, status, message
):
    response = send(tenant_a.token, body)
    assert response.status_code == status
    assert response.json()["status"] == "error"
    assert message in response.json()["message"]
    assert Capture.objects.count() == SmsMessage.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_country_the_platform_allows_names_the_events_setting(tenant_a, settings):
    settings.BOOTHSITE_SMS_COUNTRIES = ["GB", "US"]
    tenant_a.event.sms_allowed_countries = ["GB"]
    tenant_a.event.save()
    response = send(tenant_a.token, {"phone": "12023334455", "image": IMAGE})
    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "message": "SMS to US numbers is not enabled for this event. The organiser can allow "
        "US in the event's SMS countries (sms_allowed_countries).",
    }
    tenant_a.event.sms_allowed_countries = ["GB", "US"]
    tenant_a.event.save()
    response = send(tenant_a.token, {"phone": "12023334455", "image": IMAGE})
    assert response.status_code == 202
    assert SmsMessage.objects.get().to == "+12023334455"


def test_wrong_token_is_401(db):
    response = send("bth_nottherightone", {"phone": "+447400123456", "image": IMAGE})
    assert response.status_code == 401
    assert response.json() == {"status": "error", "message": "Invalid booth token."}


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_other_methods_are_405_in_the_seed_shape(tenant_a, method):
    response = getattr(APIClient(), method)(f"/compat/{tenant_a.token}/send-mms")
    assert response.status_code == 405
    assert response.json() == {
        "status": "error",
        "message": f"Send the photo with POST, not {method.upper()}.",
    }
    assert response["Allow"] == "POST, OPTIONS"


def test_another_content_type_is_415_in_the_seed_shape(tenant_a):
    response = APIClient().post(
        f"/compat/{tenant_a.token}/send-mms", b"phone=1", content_type="text/plain"
    )
    assert response.status_code == 415
    body = response.json()
    assert body["status"] == "error"
    assert "application/x-www-form-urlencoded" in body["message"]
    assert set(body) == {"status", "message"}


def test_a_body_over_the_cap_is_413_in_the_seed_shape(tenant_a, settings, media_root):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000  # the cap itself: the view reads the setting
    image = "data:image/png;base64," + "A" * 100_000
    urlencoded = urllib.parse.urlencode({"phone": SEED_PHONE, "image": image})
    client = APIClient()
    url = f"/compat/{tenant_a.token}/send-mms"
    for response in (
        client.post(url, {"phone": SEED_PHONE, "image": image}, format="json"),
        client.post(url, urlencoded, content_type="application/x-www-form-urlencoded"),
        client.post(url, {"phone": SEED_PHONE, "image": image}, format="multipart"),
    ):
        assert response.status_code == 413, response.content[:200]
        assert response.json() == {"status": "error", "message": imaging.TOO_LARGE_MESSAGE}
    assert Capture.objects.count() == 0
    assert stored_files(media_root) == []


def test_an_image_over_10_mb_in_a_form_is_413(tenant_a, media_root):
    upload = io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(imaging.MAX_UPLOAD_BYTES))
    upload.name = "big.png"
    response = APIClient().post(
        f"/compat/{tenant_a.token}/send-mms",
        {"phone": SEED_PHONE, "image": upload},
        format="multipart",
    )
    assert response.status_code == 413
    assert response.json() == {"status": "error", "message": imaging.TOO_LARGE_MESSAGE}
    assert stored_files(media_root) == []


def test_seed_endpoint_shares_the_number_cap(tenant_a, media_root):
    for _ in range(3):
        assert send(tenant_a.token, {"phone": "+447400123456", "image": IMAGE}).status_code == 202
    response = send(tenant_a.token, {"phone": SEED_PHONE, "image": IMAGE})
    assert response.status_code == 429
    assert response.json()["status"] == "error"
    assert "Retry-After" in response
    assert SmsMessage.objects.count() == 3
    assert Capture.objects.count() == 3


def test_the_booth_throttle_answers_429_in_the_seed_shape(tenant_a, monkeypatch):
    # The rate is read when DRF loads; the test sets it on the throttle class (a seam).
    monkeypatch.setattr(BoothRateThrottle, "THROTTLE_RATES", {"booth": "2/min"})
    url = f"/compat/{tenant_a.token}/send-mms"
    client = APIClient()
    assert client.options(url, HTTP_ORIGIN=ORIGIN).status_code == 204  # preflights: free
    answers = [client.post(url, {"image": IMAGE}, format="json") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [400, 400, 429]
    assert int(answers[2]["Retry-After"]) > 0
    assert answers[2].json()["status"] == "error"
    assert set(answers[2].json()) == {"status", "message"}


# ---- CORS: only the organiser's own origins -------------------------------------------


@pytest.fixture
def configured(tenant_a):
    tenant_a.organiser.compat_origins = [ORIGIN]
    tenant_a.organiser.save()
    return tenant_a


def preflight(token: str, origin: str, **extra: Any):
    return APIClient().options(
        f"/compat/{token}/send-mms",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
        **extra,
    )


def test_a_configured_origins_preflight_is_allowed(configured):
    response = preflight(configured.token, ORIGIN)
    assert response.status_code == 204
    assert response.content == b""
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Access-Control-Allow-Methods"] == "POST"
    assert response["Access-Control-Allow-Headers"] == "Content-Type"
    assert int(response["Access-Control-Max-Age"]) > 0
    assert "Origin" in response["Vary"]
    assert "Access-Control-Allow-Credentials" not in response
    assert "Access-Control-Allow-Private-Network" not in response


def test_a_preflight_from_a_public_page_may_reach_a_private_laptop(configured):
    response = preflight(
        configured.token, ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK="true"
    )
    assert response["Access-Control-Allow-Private-Network"] == "true"


def test_a_configured_origins_post_and_its_errors_are_readable(configured):
    ok = send(configured.token, {"phone": SEED_PHONE, "image": IMAGE}, HTTP_ORIGIN=ORIGIN)
    refused = send(configured.token, {"phone": "12023334455", "image": IMAGE}, HTTP_ORIGIN=ORIGIN)
    for response in (ok, refused):
        assert response["Access-Control-Allow-Origin"] == ORIGIN
        assert "Origin" in response["Vary"]
        assert "Access-Control-Allow-Credentials" not in response
    assert ok.status_code == 202
    assert refused.status_code == 400


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://booth.example.com",
        "https://booth.example.com:8443",
        "https://booth.example.com.evil.example",
        "null",
    ],
)
def test_other_origins_get_no_cors_headers(configured, origin):
    for response in (
        preflight(configured.token, origin),
        send(configured.token, {"phone": SEED_PHONE, "image": IMAGE}, HTTP_ORIGIN=origin),
    ):
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Methods" not in response
        assert "Origin" in response["Vary"]


def test_another_organisers_origin_gets_no_cors_headers(configured, tenant_b):
    response = preflight(tenant_b.token, ORIGIN)
    assert response.status_code == 204
    assert "Access-Control-Allow-Origin" not in response


def test_a_preflight_with_a_wrong_token_is_401_without_cors(configured):
    response = preflight("bth_nottherightone", ORIGIN)
    assert response.status_code == 401
    assert response.json() == {"status": "error", "message": "Invalid booth token."}
    assert "Access-Control-Allow-Origin" not in response


def test_a_compat_post_needs_no_csrf_token_and_reads_no_cookie(configured):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(configured.owner)  # a session cookie: ignored, and no CSRF check
    response = client.post(
        f"/compat/{configured.token}/send-mms",
        {"phone": SEED_PHONE, "image": IMAGE},
        format="json",
        HTTP_ORIGIN=ORIGIN,
    )
    assert response.status_code == 202


# ---- the organiser's compat_origins ---------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "origin"),
    [
        ("https://booth.example.com", "https://booth.example.com"),
        ("https://Booth.Example.com/", "https://booth.example.com"),
        ("HTTPS://booth.example.com:443", "https://booth.example.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        (" http://localhost:80 ", "http://localhost"),
    ],
)
def test_origins_are_written_as_browsers_send_them(typed, origin):
    assert canonical_origin(typed) == origin


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "*",
        "https://*.example.com",
        "booth.example.com",
        "ftp://booth.example.com",
        "https://booth.example.com/kiosk",
        "https://booth.example.com?x=1",
        "https://booth.example.com#top",
        "https://user@booth.example.com",
        "https://booth.example.com:99999",
        "https://booth example.com",
        "https://" + "a" * 300 + ".com",
    ],
)
def test_what_is_not_an_origin_is_refused(typed):
    with pytest.raises(ValidationError, match="is not an origin"):
        canonical_origin(typed)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://booth.example.com", "Enter a list of origins"),
        ([42], "Enter a list of origins"),
        (["https://Booth.example.com/"], "as browsers send it"),
        (["https://a.example"] * 21, "At most 20 origins"),
        (["https://booth.example.com/x"], "is not an origin"),
    ],
)
def test_the_field_refuses_bad_lists(tenant_a, value, message):
    tenant_a.organiser.compat_origins = value
    with pytest.raises(ValidationError, match=message):
        tenant_a.organiser.full_clean()
    validate_compat_origins([])  # empty: nobody else may call


def test_the_admin_edits_origins_one_per_line(tenant_a, admin_client):
    organiser = tenant_a.organiser
    page = f"/admin/events/organiser/{organiser.pk}/change/"
    form = {
        "name": organiser.name,
        "slug": organiser.slug,
        "country": organiser.country,
        "compat_origins": "https://Booth.example.com/\r\n\r\nhttp://127.0.0.1:8080\r\n",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = admin_client.post(page, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    organiser.refresh_from_db()
    assert organiser.compat_origins == ["https://booth.example.com", "http://127.0.0.1:8080"]
    assert "http://127.0.0.1:8080" in admin_client.get(page).content.decode()
    response = admin_client.post(page, {**form, "compat_origins": "https://*.example.com"})
    assert response.status_code == 200
    assert "is not an origin" in response.content.decode()
    organiser.refresh_from_db()
    assert organiser.compat_origins == ["https://booth.example.com", "http://127.0.0.1:8080"]


# ---- through the real HTTP stack: daphne, the demo event ------------------------------


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory) -> Iterator[tuple[Daphne, str]]:
    """A daphne serving a fresh database with ``seed_demo``'s event; yields its booth token."""
    folder = Path(tmp_path_factory.mktemp("compat-daphne"))
    site = sqlite_site(folder)
    site.manage("migrate", "--noinput")
    out = site.manage("seed_demo")
    match = re.search(r"Booth token:\s+(bth_\S+)", out)
    assert match, out
    site.manage(
        "shell",
        "-c",
        "from events.models import Organiser; o = Organiser.objects.get(slug='demo'); "
        f"o.compat_origins = [{ORIGIN!r}]; o.save()",
    )
    site.start()
    yield site, match.group(1)
    site.stop()


def http(
    site: Daphne,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """Send one request to ``site``; return the status, the headers and the raw answer."""
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        site.url + path, data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_the_seeds_exact_request_succeeds_under_daphne(demo_site):
    site, token = demo_site
    path = f"/compat/{token}/send-mms"
    status, headers, _ = http(
        site,
        "OPTIONS",
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    body = json.dumps({"phone": SEED_PHONE, "image": CANVAS_URL}).encode()
    status, headers, content = http(
        site, "POST", path, body, {"Origin": ORIGIN, "Content-Type": "application/json"}
    )
    assert status == 202, content[:300]
    assert json.loads(content) == {
        "status": "success",
        "message": "Your photo is on its way by SMS.",
    }
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    form = urllib.parse.urlencode({"phone": "447400123457", "image": CANVAS_URL}).encode()
    status, _, content = http(
        site, "POST", path, form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 202, content[:300]
    assert json.loads(content)["status"] == "success"
    status, _, content = http(site, "GET", path)
    assert (status, json.loads(content)["status"]) == (405, "error")
    log = site.log_text()
    assert "Traceback" not in log
    assert token not in log
    assert "7400123456" not in log
