"""The management commands a newcomer runs: seed_demo and snap."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from captures.models import BoothSession, CaptureVariant, Strip
from events import services
from events.models import Booth, Event
from messaging import phones
from messaging.models import SendingPause, SmsMessage
from tests import factories
from tests.conftest import booth_client

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_demo_refuses_production(settings):
    settings.DEBUG = False
    settings.EMBEDDED = False
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


def token_of(out: str) -> str:
    return find(r"Booth token:\s+(bth_\S+)", out)


def pair(out: str) -> str:
    """Redeem the one-time pairing link printed in ``out``, as a kiosk does; its token."""
    code = find(r"#pair=(pair_\S+)", out)
    response = APIClient().post("/api/v1/booth/pair/", {"code": code}, format="json")
    assert response.status_code == 200, response.content
    return str(response.json()["token"])


def me(token: str) -> int:
    return booth_client(token).get("/api/v1/booth/me/").status_code


def test_seed_demo_is_idempotent_and_keeps_the_booth_token():
    first = run("seed_demo")
    second = run("seed_demo")
    token = token_of(first)
    assert "bth_" not in second
    assert "Booth token:    unchanged" in second
    assert "seed_demo --rotate" in second
    assert Booth.objects.count() == 1
    assert me(token) == 200
    assert re.search(r"/booth/#pair=pair_\S+", second)
    gallery = find(r"Event gallery:\s+\S+(/g/\S+)", second)
    assert Client().get(gallery).status_code == 200
    client = Client()
    assert client.login(username="demo", password="boothsite-demo")
    assert client.get("/console/").status_code == 200


def test_seed_demo_keeps_a_changed_demo_password():
    """Changing the published password before a party on a shared Wi-Fi sticks."""
    run("seed_demo")
    user = get_user_model().objects.get(username="demo")
    user.set_password("a-private-party-password")
    user.save()
    out = run("seed_demo")
    assert "boothsite-demo" not in out
    assert "password (the one you set)" in out
    assert Client().login(username="demo", password="a-private-party-password")
    assert not Client().login(username="demo", password="boothsite-demo")


def test_seed_demo_rotate_replaces_the_token_on_purpose():
    old = token_of(run("seed_demo"))
    out = run("seed_demo", "--rotate")
    new = token_of(out)
    assert new != old
    assert me(old) == 401
    assert me(new) == 200
    assert "rotated" in out


def test_a_kiosk_paired_before_a_restart_stays_paired():
    kiosk = pair(run("seed_demo"))
    assert me(kiosk) == 200
    again = run("seed_demo")  # what bin/run does on every start
    assert me(kiosk) == 200
    # The new link pairs a kiosk (that replaces the token: that is pairing).
    other = pair(again)
    assert me(other) == 200
    assert me(kiosk) == 401


def test_seed_demo_gives_a_revoked_demo_booth_a_new_token():
    old = token_of(run("seed_demo"))
    services.revoke_booth(Booth.objects.get())
    out = run("seed_demo")
    assert me(old) == 401
    assert me(token_of(out)) == 200


def test_seed_demo_pairing_link_works():
    assert me(pair(run("seed_demo"))) == 200


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


def demo_photos(tmp_path) -> list[str]:
    """The four photos bin/run's demo session uses (generated ones without the data)."""
    photos = factories.genki_photos(4)
    if len(photos) < 4:
        photos = []
        for index in range(4):
            photo = tmp_path / f"{index}.png"
            photo.write_bytes(factories.image_bytes("PNG", (640, 480), (60 * index, 90, 140)))
            photos.append(photo)
    return [str(photo) for photo in photos]


def test_the_demo_session_runs_any_number_of_times(tmp_path, capsys):
    """bin/run's two steps, six times in a row on one day (the per-number cap is 3)."""
    photos = demo_photos(tmp_path)
    for _ in range(6):
        run("seed_demo")
        out = run("snap", "--event", "demo-party", "--phone", "fictional", *photos)
        assert "SMS " in out
        assert ": Submitted" in out
        find(r"Share URL:\s+\S+(/s/\S+/)", out)
    numbers = list(SmsMessage.objects.values_list("to", flat=True))
    assert len(numbers) == len(set(numbers)) == 6
    assert all(phones.is_fictional(number) for number in numbers)
    assert set(SmsMessage.objects.values_list("status", flat=True)) == {"submitted"}
    assert BoothSession.objects.count() == 6


def test_a_fictional_number_is_one_with_no_message_today(tmp_path):
    run("seed_demo")
    photo = demo_photos(tmp_path)[0]
    run("snap", "--event", "demo-party", "--phone", "+447700900000", photo)
    run("snap", "--event", "demo-party", "--phone", "+447700900002", photo)
    out = run("snap", "--event", "demo-party", "--phone", "fictional", photo)
    assert "+447700900001" in out
    out = run("snap", "--event", "demo-party", "--phone", "fictional", photo)
    assert "+447700900003" in out


def test_fictional_numbers_share_by_qr_only_before_the_pumping_breaker(tmp_path, settings):
    """All drama numbers share one prefix: the demo never trips the breaker (a pause)."""
    settings.BOOTHSITE_SMS_PREFIX_BURST = 3
    run("seed_demo")
    photo = demo_photos(tmp_path)[0]
    outs = [run("snap", "--event", "demo-party", "--phone", "fictional", photo) for _ in range(3)]
    assert SmsMessage.objects.count() == 2
    assert "QR code only" in outs[2]
    assert "BOOTHSITE_SMS_PREFIX_BURST" in outs[2]
    find(r"Share URL:\s+\S+(/s/\S+/)", outs[2])
    assert not SendingPause.objects.exists()


@pytest.mark.parametrize(
    ("setting", "second_phone"),
    [
        ("BOOTHSITE_SMS_PER_NUMBER_PER_DAY", "+447400123456"),
        ("BOOTHSITE_SMS_PER_BOOTH_PER_MINUTE", "+447400123457"),
        ("BOOTHSITE_SMS_PER_EVENT_PER_DAY", "+447400123457"),
        ("BOOTHSITE_SMS_PER_ORGANISER_PER_MONTH", "+447400123457"),
    ],
)
def test_a_cap_says_what_to_do(tmp_path, settings, setting, second_phone):
    setattr(settings, setting, 1)
    run("seed_demo")
    photo = demo_photos(tmp_path)[0]
    run("snap", "--event", "demo-party", "--phone", "+447400123456", photo)
    with pytest.raises(CommandError) as refused:
        run("snap", "--event", "demo-party", "--phone", second_phone, photo)
    message = str(refused.value)
    assert setting in message
    assert "leave out --phone" in message
    assert "QR code" in message
    if setting == "BOOTHSITE_SMS_PER_NUMBER_PER_DAY":
        assert "--phone fictional" in message
    assert BoothSession.objects.count() == 1  # refused before anything was stored


def test_a_paused_event_says_what_to_do(tmp_path):
    run("seed_demo")
    SendingPause.objects.create(event=Event.objects.get(), reason="test")
    with pytest.raises(CommandError) as refused:
        run("snap", "--event", "demo-party", "--phone", "fictional", demo_photos(tmp_path)[0])
    message = str(refused.value)
    assert "paused" in message
    assert "/admin/messaging/sendingpause/" in message
    assert "leave out --phone" in message


def test_fictional_numbers_need_the_console_gateway(tmp_path, settings):
    settings.BOOTHSITE_SMS_GATEWAY = "vonage"
    run("seed_demo")
    with pytest.raises(CommandError, match="BOOTHSITE_SMS_GATEWAY=console"):
        run("snap", "--event", "demo-party", "--phone", "fictional", demo_photos(tmp_path)[0])
    assert BoothSession.objects.count() == 0
