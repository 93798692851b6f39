"""Guessing is limited (issue 11.10): sign-ins, gallery passcodes, link tokens, pairing.

In-process, so these run on the embedded defaults and against PostgreSQL and Redis (the
counters live in the cache: Redis when REDIS_URL is set). tests/test_guessing_daphne.py
repeats the main cases through a real daphne, whose ASGI path these do not take.
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.contrib.auth.models import User
from django.core.cache import caches
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from captures import services as capture_services
from events import services
from events.clientip import client_ip
from events.models import Event
from tests import factories
from tests.daphne import free_port


@pytest.fixture(autouse=True)
def still_clock(time_machine):
    """Hold the clock still: django-ratelimit counts in fixed windows (a minute for link
    misses), and a window that ended mid-test would reset its count and flake the test."""
    time_machine.move_to(dt.datetime.now(dt.UTC), tick=False)


pytestmark = pytest.mark.django_db

PASSWORD = "right-password-1"


def sign_in(client: Client, url: str, username: str, password: str, **extra: Any):
    return client.post(url, {"username": username, "password": password}, **extra)


@pytest.fixture
def organiser_user(tenant_a):
    tenant_a.owner.set_password(PASSWORD)
    tenant_a.owner.save()
    return tenant_a.owner


# -- sign-ins (django-axes) ---------------------------------------------------------------


def test_console_sign_in_is_refused_after_40_wrong_passwords(organiser_user, settings):
    client = Client()
    answers = [
        sign_in(client, "/console/login/", organiser_user.username, f"wrong-{n}").status_code
        for n in range(40)
    ]
    limit = settings.AXES_FAILURE_LIMIT
    assert answers[: limit - 1] == [200] * (limit - 1)  # the form again, with its error
    assert set(answers[limit:]) == {429}
    right = sign_in(client, "/console/login/", organiser_user.username, PASSWORD)
    assert right.status_code == 429
    assert right["Retry-After"] == str(15 * 60)
    assert b"Please try again in 15 minutes" in right.content
    assert organiser_user.username.encode() not in right.content
    assert client.get("/console/").status_code == 302  # not signed in


def test_admin_sign_in_is_refused_after_40_wrong_passwords(db):
    User.objects.create_superuser("staff", "staff@example.com", PASSWORD)
    client = Client()
    for n in range(40):
        sign_in(client, "/admin/login/", "staff", f"wrong-{n}")
    right = sign_in(client, "/admin/login/", "staff", PASSWORD)
    assert right.status_code == 429
    assert int(right["Retry-After"]) > 0
    assert client.get("/admin/").status_code == 302


def test_lockout_holds_the_username_and_address_pair_only(organiser_user, tenant_b, settings):
    other = tenant_b.owner
    other.set_password(PASSWORD)
    other.save()
    for n in range(settings.AXES_FAILURE_LIMIT):
        # A rotating X-Forwarded-For is not trusted (no proxies configured).
        sign_in(
            Client(),
            "/console/login/",
            organiser_user.username,
            f"wrong-{n}",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
    spoofed = sign_in(
        Client(), "/console/login/", organiser_user.username, PASSWORD,
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )  # fmt: skip
    assert spoofed.status_code == 429
    # A colleague at the same venue address, and the same user from elsewhere, sign in.
    assert sign_in(Client(), "/console/login/", other.username, PASSWORD).status_code == 302
    elsewhere = sign_in(
        Client(), "/console/login/", organiser_user.username, PASSWORD, REMOTE_ADDR="192.0.2.8"
    )
    assert elsewhere.status_code == 302


def test_lockout_ends_after_the_cool_off(organiser_user, settings, time_machine):
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), "/console/login/", organiser_user.username, f"wrong-{n}")
    assert sign_in(Client(), "/console/login/", organiser_user.username, PASSWORD).status_code == (
        429
    )
    time_machine.move_to(dt.datetime.now(dt.UTC) + settings.AXES_COOLOFF_TIME + dt.timedelta(1))
    assert sign_in(Client(), "/console/login/", organiser_user.username, PASSWORD).status_code == (
        302
    )


def test_a_right_password_resets_the_count(organiser_user, settings):
    for _ in range(3):
        for n in range(settings.AXES_FAILURE_LIMIT - 1):
            sign_in(Client(), "/console/login/", organiser_user.username, f"wrong-{n}")
        ok = sign_in(Client(), "/console/login/", organiser_user.username, PASSWORD)
        assert ok.status_code == 302


def test_sign_in_without_a_request_still_works(organiser_user):
    # Client.login() calls authenticate() without a request: not a guess from the internet.
    client = Client()
    assert client.login(username=organiser_user.username, password=PASSWORD)
    assert client.get("/console/").status_code == 200


# -- gallery passcodes (django-ratelimit) ------------------------------------------------


@pytest.fixture
def passcode_event(tenant_a) -> Event:
    event = services.set_gallery_passcode(tenant_a.event, "smile")
    event.gallery_visibility = Event.GalleryVisibility.PASSCODE
    event.save()
    return event


def try_passcode(client: Client, event: Event, passcode: str, address: str = "127.0.0.1"):
    return client.post(event.gallery_path(), {"passcode": passcode}, REMOTE_ADDR=address)


def test_passcode_is_stored_as_a_password_hash(passcode_event):
    stored = Event.objects.get(pk=passcode_event.pk).gallery_passcode_hash
    assert "smile" not in stored
    assert identify_hasher(stored).algorithm
    assert check_password("smile", stored)
    assert not any(field.name == "gallery_passcode" for field in Event._meta.get_fields())


def test_right_passcode_after_30_wrong_ones_waits(passcode_event, settings):
    client = Client()
    answers = [try_passcode(client, passcode_event, f"guess{n}").status_code for n in range(30)]
    per_ip = int(settings.BOOTHSITE_PASSCODE_RATE_PER_IP.split("/")[0])
    assert answers[:per_ip] == [403] * per_ip
    assert set(answers[per_ip:]) == {429}
    right = try_passcode(client, passcode_event, "smile")
    assert right.status_code == 429
    assert 0 < int(right["Retry-After"]) <= 15 * 60
    assert b"too many wrong passcodes" in right.content
    assert right["X-Robots-Tag"] == "noindex, nofollow"
    assert b'name="passcode"' in client.get(passcode_event.gallery_path()).content  # still locked


def test_passcode_guesses_from_many_addresses_are_limited_per_gallery(
    passcode_event, tenant_b, settings
):
    per_gallery = int(settings.BOOTHSITE_PASSCODE_RATE_PER_GALLERY.split("/")[0])
    for n in range(per_gallery):
        assert try_passcode(Client(), passcode_event, "wrong", f"198.51.100.{n}").status_code == 403
    fresh_address = try_passcode(Client(), passcode_event, "smile", "203.0.113.5")
    assert fresh_address.status_code == 429
    # Another gallery is not affected.
    other = services.set_gallery_passcode(tenant_b.event, "cheese")
    other.gallery_visibility = Event.GalleryVisibility.PASSCODE
    other.save()
    assert try_passcode(Client(), other, "cheese", "203.0.113.5").status_code == 200


def test_right_passcode_opens_the_gallery_after_the_window(passcode_event, time_machine):
    client = Client()
    for n in range(30):
        try_passcode(client, passcode_event, f"guess{n}")
    assert try_passcode(client, passcode_event, "smile").status_code == 429
    time_machine.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31))
    assert try_passcode(client, passcode_event, "smile").status_code == 200
    assert b"No photos yet" in client.get(passcode_event.gallery_path()).content


def test_a_guest_who_mistypes_once_gets_in(passcode_event):
    client = Client()
    assert try_passcode(client, passcode_event, "simle").status_code == 403
    assert try_passcode(client, passcode_event, " smile ").status_code == 200


# -- guessed capability links --------------------------------------------------------------


def guessed_urls():
    for n in itertools.count():
        token = secrets.token_urlsafe(16)
        yield ("/s/{}/", "/g/{}/", "/s/{}/photos.zip")[n % 3].format(token)


def test_600_guessed_link_tokens_get_429(db, settings):
    client = Client()
    answers = [client.get(url).status_code for url in itertools.islice(guessed_urls(), 600)]
    misses = int(settings.BOOTHSITE_LINK_MISS_RATE.split("/")[0])
    assert answers[:misses] == [404] * misses
    assert set(answers[misses:]) == {429}
    limited = client.get(next(guessed_urls()))
    assert limited["Retry-After"].isdigit()
    assert b"did not lead to any photos" in limited.content


def test_an_address_over_the_miss_limit_waits_for_real_links_too(tenant_a, settings):
    session = factories.make_session(tenant_a.booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    misses = int(settings.BOOTHSITE_LINK_MISS_RATE.split("/")[0])
    for url in itertools.islice(guessed_urls(), misses):
        Client().get(url)
    # Answering real tokens would still tell a guesser which ones exist.
    assert Client().get(session.share_path()).status_code == 429
    assert Client().get(session.share_path(), REMOTE_ADDR="192.0.2.44").status_code == 200


def test_real_links_are_never_counted(tenant_a, settings):
    session = factories.make_session(tenant_a.booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    client = Client()
    misses = int(settings.BOOTHSITE_LINK_MISS_RATE.split("/")[0])
    for _ in range(misses * 2):
        assert client.get(session.share_path()).status_code == 200
        assert client.get(tenant_a.event.gallery_path()).status_code == 200
    assert client.get(session.download_path()).status_code == 200


def test_guessing_limits_fail_open_while_redis_is_down(tenant_a, settings):
    # Nothing listens on this port: the cache's Redis is down, as in an outage.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    try:
        assert Client().get(next(guessed_urls())).status_code == 404
        assert Client().get(tenant_a.event.gallery_path()).status_code == 200
    finally:
        caches["default"].close()


# -- the pairing throttle and X-Forwarded-For ----------------------------------------------


@pytest.fixture
def pairing_rate_3(monkeypatch):
    # DRF reads the rates once, into the class; the test's own small rate goes there.
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "pairing": "3/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


def pair(**headers: Any):
    return APIClient().post(
        "/api/v1/booth/pair/", {"code": "pair_" + "x" * 24}, format="json", **headers
    )


def test_rotating_x_forwarded_for_does_not_escape_the_pairing_throttle(db, pairing_rate_3):
    answers = [pair(HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(10)]
    assert answers[:3] == [400, 400, 400]
    assert set(answers[3:]) == {429}


def test_behind_one_proxy_the_address_it_saw_is_the_client(db, pairing_rate_3, settings):
    settings.BOOTHSITE_TRUSTED_PROXIES = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    # The client writes the left part; the proxy appends the address it saw.
    spoofed = [pair(HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 203.0.113.7").status_code for n in range(5)]
    assert spoofed[3:] == [429, 429]
    assert pair(HTTP_X_FORWARDED_FOR="10.0.0.1, 203.0.113.8").status_code == 400


@pytest.mark.parametrize("proxies", [0, 1, 2, 5])
@pytest.mark.parametrize(
    "forwarded", [None, "", "203.0.113.7", "10.0.0.1, 203.0.113.7", "1.1.1.1,2.2.2.2, 3.3.3.3"]
)
def test_client_ip_is_drf_get_ident(settings, proxies, forwarded):
    settings.BOOTHSITE_TRUSTED_PROXIES = proxies
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    extra = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    request = APIRequestFactory().get("/", REMOTE_ADDR="192.0.2.1", **extra)
    if forwarded == "" and proxies:
        assert client_ip(request) == "192.0.2.1"  # DRF would give ""; no key is better
        return
    assert client_ip(request) == BaseThrottle().get_ident(Request(request))


# -- the migration that hashes existing passcodes ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_migration_hashes_existing_plain_passcodes():
    executor = MigrationExecutor(connection)
    before = [("events", "0005_event_logo")]
    after = [("events", "0006_event_gallery_passcode_hash")]
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    organiser = old_apps.get_model("events", "Organiser").objects.create(name="Old", slug="old")
    old_event_model = old_apps.get_model("events", "Event")
    kept = old_event_model.objects.create(
        organiser=organiser, name="Kept", slug="kept", gallery_token="t1", gallery_passcode="smile"
    )
    old_event_model.objects.create(
        organiser=organiser, name="None", slug="none", gallery_token="t2"
    )
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    hashes = dict(Event.objects.values_list("slug", "gallery_passcode_hash"))
    assert hashes["none"] == ""
    assert check_password("smile", hashes["kept"])
    assert "smile" not in hashes["kept"]
    assert Event.objects.get(pk=kept.pk).check_gallery_passcode("smile")


# -- the admin sets a passcode from a plain input and never shows it ---------------------


def admin_form_data(response) -> dict[str, object]:
    """The admin form's current values as a browser would post them back."""
    from django.forms import MultiWidget

    form = response.context["adminform"].form
    data: dict[str, object] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field.widget, MultiWidget):
            parts = list(field.widget.decompress(value) or []) if value else [None, None]
            for index, part in enumerate(parts):
                data[f"{name}_{index}"] = "" if part is None else part.isoformat()
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:  # BoundField.value() is already prepared for the widget
            data[name] = "" if value is None else value
    return data


@pytest.fixture
def staff_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("staff", "staff@example.com", "pw"))
    return client


def test_admin_sets_the_passcode_from_a_plain_input_and_never_shows_it(staff_client, tenant_a):
    url = f"/admin/events/event/{tenant_a.event.pk}/change/"
    page = staff_client.get(url)
    assert b'name="gallery_passcode" autocomplete="new-password"' in page.content
    data = admin_form_data(page)
    missing = staff_client.post(url, data | {"gallery_visibility": "passcode"})
    assert missing.status_code == 200
    assert missing.context["adminform"].form.errors["gallery_visibility"]
    saved = staff_client.post(
        url, data | {"gallery_visibility": "passcode", "gallery_passcode": "cheese"}
    )
    assert saved.status_code == 302
    event = Event.objects.get(pk=tenant_a.event.pk)
    assert event.gallery_visibility == "passcode"
    assert event.check_gallery_passcode("cheese")
    again = staff_client.get(url)
    assert b"cheese" not in again.content
    assert event.gallery_passcode_hash.encode() not in again.content
    kept = staff_client.post(url, admin_form_data(again))  # empty input keeps the passcode
    assert kept.status_code == 302
    assert Event.objects.get(pk=event.pk).check_gallery_passcode("cheese")
    short = staff_client.post(url, admin_form_data(again) | {"gallery_passcode": "abc"})
    assert short.context["adminform"].form.errors["gallery_passcode"]
    assert Event.objects.get(pk=event.pk).check_gallery_passcode("cheese")


@pytest.mark.parametrize(
    ("name", "value"),
    [("BOOTHSITE_LINK_MISS_RATE", "sixty"), ("BOOTHSITE_TRUSTED_PROXIES", "-1")],
)
def test_a_bad_limit_setting_stops_start_up(name, value):
    from tests.test_settings import run_manage

    result = run_manage("check", env_vars={"DEBUG": "true", name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr
