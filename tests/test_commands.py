"""The management commands a newcomer runs: seed_demo and snap."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from captures.models import BoothSession, CaptureVariant, Strip
from events.models import Booth
from messaging.models import SmsMessage
from tests import factories
from tests.conftest import booth_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def development_mode(settings):
    """seed_demo refuses to run with DEBUG off (Django's test runner turns it off)."""
    settings.DEBUG = True


def test_seed_demo_refuses_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        run("seed_demo")


def find(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in output:\n{text}"
    return match.group(1)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_seed_demo_is_idempotent_and_prints_a_fresh_token_each_run():
    first = run("seed_demo")
    second = run("seed_demo")
    tokens = [find(r"Booth token:\s+(bth_\S+)", out) for out in (first, second)]
    assert tokens[0] != tokens[1]
    assert Booth.objects.count() == 1
    assert booth_client(tokens[0]).get("/api/v1/booth/me/").status_code == 401
    assert booth_client(tokens[1]).get("/api/v1/booth/me/").status_code == 200
    assert re.search(r"/booth/#pair=pair_\S+", second)
    gallery = find(r"Event gallery:\s+\S+(/g/\S+)", second)
    assert Client().get(gallery).status_code == 200
    client = Client()
    assert client.login(username="demo", password="boothsite-demo")
    assert client.get("/console/").status_code == 200


def test_seed_demo_pairing_link_works():
    out = run("seed_demo")
    code = find(r"#pair=(pair_\S+)", out)
    from rest_framework.test import APIClient

    response = APIClient().post("/api/v1/booth/pair/", {"code": code}, format="json")
    assert response.status_code == 200


def test_snap_runs_a_whole_session_on_real_photos(capsys):
    photos = factories.genki_photos(4)
    if len(photos) < 4:
        pytest.skip("../shared/data/genki4k-dev is not beside this checkout")
    run("seed_demo")
    out = run("snap", "--event", "demo-party", "--phone", "+447400123456", *map(str, photos))
    share = find(r"Share URL:\s+\S+(/s/\S+/)", out)
    gallery = find(r"Event gallery:\s+\S+(/g/\S+/)", out)
    client = Client()
    for page in (share, gallery):
        response = client.get(page)
        assert response.status_code == 200
        html = response.content.decode()
        assert html.count('class="card"') == 4
        assert html.count('class="card strip"') == 1
    session = BoothSession.objects.get()
    assert CaptureVariant.objects.filter(capture__session=session).count() == 16
    assert Strip.objects.get(session=session).width == 2560
    sms = SmsMessage.objects.get()
    assert sms.status == SmsMessage.Status.SUBMITTED
    assert "+44 74** ***456" in capsys.readouterr().out


def test_snap_refuses_unknown_event_and_bad_files(tmp_path):
    run("seed_demo")
    with pytest.raises(CommandError, match="No event"):
        run("snap", "--event", "nope", str(tmp_path / "x.jpg"))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(CommandError, match="not an image"):
        run("snap", "--event", "demo-party", str(bad))


def test_snap_with_classic_layout(tmp_path):
    run("seed_demo")
    photo = tmp_path / "a.png"
    photo.write_bytes(factories.image_bytes("PNG", (640, 480)))
    run("snap", "--event", "demo-party", "--layout", "classic_2x6", str(photo))
    strip = Strip.objects.get()
    assert (strip.layout, strip.width, strip.height) == ("classic_2x6", 600, 1800)
