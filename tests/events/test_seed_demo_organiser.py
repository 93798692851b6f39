"""``seed_demo --organiser SLUG``: a further demo organiser, owner, event and booth (issue 15.5)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from events.models import Booth, Event, Membership, Organiser
from events.roles import Role
from tests.conftest import booth_client

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def find(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in output:\n{text}"
    return match.group(1)


def can_sign_in(username: str, password: str) -> bool:
    client = Client()
    return client.login(username=username, password=password) and (
        client.get(f"/console/{username}/").status_code == 200
    )


def test_seeds_a_further_organiser_with_its_owner_event_and_booth():
    out = run("--organiser", "acme")
    organiser = Organiser.objects.get(slug="acme")
    owner = get_user_model().objects.get(username="acme")
    assert Membership.objects.get(organiser=organiser).user == owner
    assert Membership.objects.get(organiser=organiser).role == Role.OWNER
    assert Event.objects.filter(organiser=organiser).count() == 1
    assert Booth.objects.filter(organiser=organiser).count() == 1
    password = find(r"user acme\s+password (\S+)", out)
    assert password != "boothsite-demo"
    assert len(password) >= 16
    assert can_sign_in("acme", password)
    token = find(r"Booth token:\s+(bth_\S+)", out)
    assert booth_client(token).get("/api/v1/booth/me/").status_code == 200
    assert re.search(r"/booth/#pair=pair_\S+", out)
    assert "Organiser:      Demo acme (acme)" in out
    assert not Organiser.objects.filter(slug="demo").exists()


def test_running_it_again_keeps_the_user_password_and_booth_token():
    first = run("--organiser", "acme")
    password = find(r"user acme\s+password (\S+)", first)
    token = find(r"Booth token:\s+(bth_\S+)", first)
    second = run("--organiser", "acme")
    assert password not in second
    assert "bth_" not in second
    assert "password (set when the user was created)" in second
    assert "Booth token:    unchanged" in second
    assert Organiser.objects.filter(slug="acme").count() == 1
    assert get_user_model().objects.filter(username="acme").count() == 1
    assert Booth.objects.filter(organiser__slug="acme").count() == 1
    assert can_sign_in("acme", password)
    assert booth_client(token).get("/api/v1/booth/me/").status_code == 200


def test_two_demo_organisers_live_side_by_side():
    run()
    run("--organiser", "acme")
    assert set(Organiser.objects.values_list("slug", flat=True)) == {"demo", "acme"}
    assert can_sign_in("demo", "boothsite-demo")
    demo = get_user_model().objects.get(username="demo")
    assert not Membership.objects.filter(user=demo, organiser__slug="acme").exists()


def test_the_demo_slug_is_the_plain_demo():
    out = run("--organiser", "demo")
    assert "user demo  password boothsite-demo" in out
    assert Organiser.objects.get().slug == "demo"


@pytest.mark.parametrize("slug", ["switch", "new", "not a slug"])
def test_a_slug_that_cannot_be_an_organiser_is_refused(slug):
    with pytest.raises(CommandError, match="Cannot create the organiser"):
        run("--organiser", slug)
    assert not Organiser.objects.exists()
    assert not get_user_model().objects.exists()
