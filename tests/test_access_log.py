"""No phone number, token or passcode in any log line (RELIABILITY 64, 66, 76; issue 11.9).

Daphne writes its access log itself, not through Python logging, with each request's
raw target: the audit found receipt query strings (``msisdn=447400123456``), admin
searches (``?q=%2B447400123456``) and booth tokens (``/compat/bth_…/send-mms``) in it.
So the server here is a real daphne subprocess started as ``bin/run`` starts it, and the
test reads what it really wrote: the access log (on stdout, as ``bin/run`` has it, or in
an ``--access-log`` file) and Python logging (stderr).
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import re
import shutil
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from boothsite import logs
from boothsite.media_storage import SignedFileSystemStorage
from tests import factories
from tests.daphne import Daphne, free_port, server_env

PHONE = "+447400123456"
#: A phone number in any spelling a log could hold: E.164, MSISDN, URL-encoded.
PHONE_PATTERN = re.compile(r"(?:\+|%2B)?\d{10,15}|7400123456")


@dataclass
class Seeded:
    """A migrated, seeded site folder and the secrets its requests will carry."""

    folder: Path
    booth_token: str
    pairing_code: str
    share_token: str
    gallery_token: str
    callback_token: str
    media_key: str

    def secrets(self) -> dict[str, str]:
        return {name: value for name, value in vars(self).items() if name != "folder"}


def site_env(folder: Path, port: int) -> dict[str, str]:
    return server_env(
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        MEDIA_ROOT=str(folder / "media"),
        SITE_URL=f"http://127.0.0.1:{port}",
        ALLOWED_HOSTS="127.0.0.1",
        BOOTHSITE_SMILE_PROCESSES="0",
        PYTHONUNBUFFERED="1",
    )


def token_in(url: str) -> str:
    """The capability segment of a ``/s/<token>/`` or ``/g/<token>/`` URL."""
    return urlsplit(url).path.strip("/").split("/")[1]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Seeded:
    """Seed once per module: demo organiser, booth, a session with an SMS, a gallery."""
    folder = tmp_path_factory.mktemp("seeded")
    site = Daphne(port=0, env=site_env(folder, 8000), log=folder / "manage.log")
    site.manage("migrate", "--noinput")
    seed = site.manage("seed_demo")
    photo = folder / "photo.jpg"
    photo.write_bytes(factories.image_bytes("JPEG", (640, 480)))
    snap = site.manage("snap", "--event", "demo-party", "--phone", PHONE, str(photo))
    with sqlite3.connect(folder / "db.sqlite3") as db:
        (callback_token,) = db.execute("SELECT callback_token FROM messaging_smsmessage").fetchone()
        (media_key,) = db.execute("SELECT image FROM captures_capture").fetchone()
    # Local media URLs are signed (boothsite.media_storage): an hour covers the module.
    signed = SignedFileSystemStorage(base_url="/media/", url_ttl=3600).url(media_key)
    media_key = signed.removeprefix("/media/")

    def printed(label: str, text: str) -> str:
        match = re.search(rf"{label}:\s+(\S+)", text)
        assert match, text
        return match.group(1)

    return Seeded(
        folder=folder,
        booth_token=printed("Booth token", seed),
        pairing_code=printed("Booth page", seed).split("#pair=")[1],
        share_token=token_in(printed("Share URL", snap)),
        gallery_token=token_in(printed("Event gallery", seed)),
        callback_token=callback_token,
        media_key=media_key,
    )


def request(server: Daphne, method: str, target: str, body: object = None) -> int:
    """Send one request (no redirects followed); its status."""
    client = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        client.request(method, target, body=payload, headers=headers)
        response = client.getresponse()
        response.read()
        return response.status
    finally:
        client.close()


@pytest.mark.parametrize("access_log", ["stdout", "file"])
def test_the_real_access_log_holds_no_phone_number_token_or_code(seeded, tmp_path, access_log):
    shutil.copytree(seeded.folder, tmp_path / "site")
    folder = tmp_path / "site"
    port = free_port()
    access = folder / "access.log"
    args = ("--access-log", str(access)) if access_log == "file" else ()
    server = Daphne(port=port, env=site_env(folder, port), log=folder / "daphne.log", args=args)
    image = "data:image/png;base64," + base64.b64encode(factories.image_bytes("PNG")).decode()
    receipt = "msisdn=447400123456&to=Boothsite&messageId=abc123&status=delivered&err-code=0"
    # (method, target sent, body, the target as the log must show it)
    calls = [
        ("GET", f"/hooks/sms/dlr/{seeded.callback_token}/?{receipt}", None,
         "/hooks/sms/dlr/<redacted>/?msisdn=<redacted>&to=<redacted>&messageId=<redacted>"
         "&status=<redacted>&err-code=<redacted>"),
        ("GET", "/admin/messaging/smsmessage/?q=%2B447400123456", None,
         "/admin/messaging/smsmessage/?q=<redacted>"),
        ("POST", f"/compat/{seeded.booth_token}/send-mms", {"phone": PHONE, "image": image},
         "/compat/<redacted>/send-mms"),
        ("GET", f"/s/{seeded.share_token}/", None, "/s/<redacted>/"),
        ("GET", f"/g/{seeded.gallery_token}/", None, "/g/<redacted>/"),
        ("GET", f"/media/{seeded.media_key}", None, "/media/<redacted>"),
        ("GET", f"/booth/?pair={seeded.pairing_code}", None, "/booth/?pair=<redacted>"),
        ("POST", "/api/v1/booth/pair/", {"code": seeded.pairing_code}, "/api/v1/booth/pair/"),
    ]  # fmt: skip
    server.start()
    try:
        statuses = [request(server, method, target, body) for method, target, body, _ in calls]
    finally:
        server.stop()
    assert statuses[2:] == [202, 200, 200, 200, 200, 200], statuses
    written = server.log_text()
    access_text = access.read_text() if access_log == "file" else written
    for (method, _, _, logged), status in zip(calls, statuses, strict=True):
        assert f'"{method} {logged}" {status} ' in access_text, (logged, access_text[-3000:])
    # The console gateway (DEBUG only) prints the SMS it stands in for, link included,
    # with the number masked: it is the guest's message, not a log line.
    lines = [
        line
        for line in (written + (access_text if access_log == "file" else "")).splitlines()
        if not line.startswith("[console SMS to +44 74** ***456 ref ")
    ]
    text = "\n".join(lines)
    assert not PHONE_PATTERN.findall(text), text[-3000:]
    for name, secret in seeded.secrets().items():
        assert secret not in text, f"{name} in the log:\n{text[-3000:]}"
    assert not re.search(r"bth_(?!<redacted>)", text), text[-3000:]


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/s/AbC-123_x/photos.zip", "/s/<redacted>/photos.zip"),
        ("/g/AbC-123_x/live/?page=2", "/g/<redacted>/live/?page=<redacted>"),
        ("/compat/bth_0123456789abcdefghij/send-mms", "/compat/<redacted>/send-mms"),
        ("/hooks/sms/dlr/tok/?msisdn=447400123456", "/hooks/sms/dlr/<redacted>/?msisdn=<redacted>"),
        ("/admin/x/?q=%2B447400123456&447400123456", "/admin/x/?q=<redacted>&<redacted>"),
        ("/media/a/b/c.jpg?download=1", "/media/<redacted>?download=<redacted>"),
        ("/console/447400123456/", "/console/<redacted>/"),
        ("/static/booth.js", "/static/booth.js"),
        ("/api/v1/booth/sessions/6f1c2a4e-1234-4bcd-9def-123456789012/",
         "/api/v1/booth/sessions/6f1c2a4e-1234-4bcd-9def-123456789012/"),
    ],
)  # fmt: skip
def test_redact_path(target, logged):
    assert logs.redact_path(target) == logged


def test_django_request_errors_are_redacted_in_message_and_traceback():
    token = "bth_" + "x" * 40
    try:
        raise ValueError(f"could not text {PHONE} for {token}")
    except ValueError:
        record = logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s",
            (f"/compat/{token}/send-mms",), sys.exc_info(),
        )  # fmt: skip
    assert logs.RedactingFilter().filter(record) is True
    text = logging.Formatter().format(record)
    assert "Internal Server Error: /compat/<redacted>/send-mms" in text
    assert "ValueError: could not text <redacted> for bth_<redacted>" in text
    assert PHONE not in text
    assert token not in text


def test_every_configured_handler_redacts():
    handlers = [handler for handler in logging.getLogger().handlers if handler.filters]
    assert any(isinstance(f, logs.RedactingFilter) for h in handlers for f in h.filters)
    assert logging.getLogger("django").handlers == []
    assert logging.getLogger("django").propagate is True
