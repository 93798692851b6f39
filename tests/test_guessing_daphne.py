"""Guessing limits through a real daphne (issue 11.10), where the audit found them missing.

The in-process client runs Django's middleware synchronously; daphne runs it the ASGI
way (django-axes' middleware then takes its async path) and gives REMOTE_ADDR from the
socket. One server, on its own SQLite file and local-memory cache, serves every test
here; each test uses its own username, gallery or address family, so none depends on
another's counts.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.daphne import Daphne, sqlite_site

DEMO_PASSWORD = "boothsite-demo"
STAFF_PASSWORD = "staff-password-1"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daphne]:
    folder: Path = tmp_path_factory.mktemp("guessing-daphne")
    server = sqlite_site(
        folder,
        BOOTHSITE_PAIRING_RATE="3/min",
        # Small limits: each failure before a lockout runs the real password hasher
        # (about a second here). tests/test_guessing.py checks the default limits.
        BOOTHSITE_LOGIN_FAILURE_LIMIT="4",
        # Windows of a day: django-ratelimit's windows are fixed, and one that ended
        # while a test runs would reset its count (a flaky test).
        BOOTHSITE_PASSCODE_RATE_PER_IP="4/d",
        BOOTHSITE_LINK_MISS_RATE="60/d",
    )
    server.manage("migrate", "--noinput")
    out = server.manage("seed_demo")
    server.gallery_path = re.search(r"Event gallery:\s+\S+?(/g/\S+)", out).group(1)  # type: ignore[attr-defined, union-attr]
    server.manage(
        "shell", "-c",
        "from django.contrib.auth.models import User; from events import services; "
        "from events.models import Event; "
        f"User.objects.create_superuser('staff', 'staff@example.com', {STAFF_PASSWORD!r}); "
        "event = services.set_gallery_passcode(Event.objects.get(), 'smile'); "
        "event.gallery_visibility = 'passcode'; event.save()",
    )  # fmt: skip
    server.start()
    yield server
    server.stop()


def csrf_form(session: requests.Session, url: str) -> dict[str, str]:
    page = session.get(url, timeout=30)
    assert page.status_code == 200, page.text[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    return {"csrfmiddlewaretoken": token.group(1)}


def sign_in(session: requests.Session, url: str, form: dict[str, str], password: str, user: str):
    body = form | {"username": user, "password": password}
    return session.post(url, data=body, allow_redirects=False, timeout=60)


@pytest.mark.parametrize(
    ("url", "user", "password"),
    [("/console/login/", "demo", DEMO_PASSWORD), ("/admin/login/", "staff", STAFF_PASSWORD)],
    ids=["console", "admin"],
)
def test_right_password_after_40_wrong_ones_answers_429(site, url, user, password):
    session = requests.Session()
    form = csrf_form(session, site.url + url)
    answers = [sign_in(session, site.url + url, form, f"wrong-{n}", user) for n in range(40)]
    assert answers[0].status_code == 200
    assert answers[-1].status_code == 429
    right = sign_in(session, site.url + url, form, password, user)
    assert right.status_code == 429
    assert right.headers["Retry-After"] == str(15 * 60)
    assert "Too many sign-in attempts" in right.text
    assert "sessionid" not in session.cookies


def test_rotating_x_forwarded_for_does_not_escape_the_pairing_throttle(site):
    answers = [
        requests.post(
            site.url + "/api/v1/booth/pair/",
            json={"code": "pair_" + "x" * 24},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
            timeout=30,
        ).status_code
        for n in range(8)
    ]
    assert answers[:3] == [400, 400, 400]
    assert set(answers[3:]) == {429}


def test_right_passcode_after_30_wrong_ones_answers_429(site):
    session = requests.Session()
    url = site.url + site.gallery_path
    form = csrf_form(session, url)
    answers = [
        session.post(url, data=form | {"passcode": f"guess{n}"}, timeout=30).status_code
        for n in range(30)
    ]
    assert answers[0] == 403
    assert answers[-1] == 429
    right = session.post(url, data=form | {"passcode": "smile"}, timeout=30)
    assert right.status_code == 429
    assert int(right.headers["Retry-After"]) > 0
    assert 'name="passcode"' in session.get(url, timeout=30).text  # still locked


def test_600_guessed_link_tokens_get_429(site):
    session = requests.Session()
    templates = itertools.cycle(["/s/{}/", "/g/{}/", "/s/{}/photos.zip"])
    answers = [
        session.get(site.url + next(templates).format(secrets.token_urlsafe(16)), timeout=30)
        for _ in range(600)
    ]
    codes = [answer.status_code for answer in answers]
    assert codes[:60] == [404] * 60
    assert set(codes[60:]) == {429}
    assert answers[-1].headers["Retry-After"].isdigit()
    assert " 500 " not in site.log_text()
