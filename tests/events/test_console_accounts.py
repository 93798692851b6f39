"""Accounts (issue 13.1): sign-up, email verification, password reset, email change,
sign-in limits and switching organisers, through the real allauth views and Django's
locmem email backend (tests/settings.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from allauth.account.models import EmailAddress  # type: ignore[import-untyped]
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone

from events import services
from events.models import Membership, Organiser
from events.roles import Role
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-party-password-7"


def sign_up(client: Client, **fields: str):
    body = {
        "organiser_name": "Bright Booths",
        "country": "IE",
        "email": "ana@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
    } | fields
    return client.post("/accounts/signup/", body)


def link_in_last_email(pattern: str) -> str:
    match = re.search(r"https?://\S+?(" + pattern + r")", str(mail.outbox[-1].body))
    assert match, mail.outbox[-1].body
    return match.group(1)


def verify_from_email(client: Client):
    path = link_in_last_email(r"/accounts/confirm-email/[^/\s]+/")
    assert client.get(path).status_code == 200
    return client.post(path)


def verified_user(email: str = "ben@example.com", username: str = "ben") -> User:
    user = User.objects.create_user(username, email, PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def sign_in(client: Client, login: str, password: str = PASSWORD, **extra):
    return client.post("/console/login/", {"username": login, "password": password}, **extra)


def test_sign_up_creates_the_user_the_organiser_and_the_owners_membership():
    response = sign_up(Client())
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="ana@example.com")
    organiser = Organiser.objects.get()
    assert (organiser.name, organiser.slug, organiser.country) == (
        "Bright Booths",
        "bright-booths",
        "IE",
    )
    membership = Membership.objects.get()
    assert (membership.user, membership.organiser, membership.role) == (user, organiser, "owner")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@example.com"]


def test_sign_up_offers_the_platforms_countries_with_gb_first_choice(settings):
    page = Client().get("/accounts/signup/").content.decode()
    assert '<option value="GB" selected>United Kingdom</option>' in page
    assert '<option value="IE">Ireland</option>' in page
    for label in ["Organiser name", "Country", "Email address", "Password", "Password again"]:
        assert f">{label}:</label>" in page


def test_sign_up_refuses_a_country_outside_the_platforms_list():
    response = sign_up(Client(), country="US")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not User.objects.exists()
    assert not Organiser.objects.exists()


def test_organiser_slugs_are_unique_and_never_a_console_word():
    factories.make_organiser(name="Bright Booths", slug="bright-booths")
    sign_up(Client())
    sign_up(Client(), organiser_name="Login", email="lo@example.com")
    slugs = set(Organiser.objects.values_list("slug", flat=True))
    assert slugs == {"bright-booths", "bright-booths-2", "login-2"}


def test_an_unverified_user_cannot_sign_in_or_use_the_console():
    sign_up(Client())
    client = Client()
    response = sign_in(client, "ana@example.com")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert client.get("/console/").status_code == 302  # not signed in
    # A session opened another way (the admin's sign-in) is kept out too.
    client.force_login(User.objects.get())
    blocked = client.get("/console/")
    assert blocked.status_code == 403
    assert "Verify your email address" in blocked.content.decode()
    assert client.get("/console/bright-booths/").status_code == 403


def test_the_link_in_the_email_verifies_and_opens_the_console():
    client = Client()
    sign_up(client)
    confirmed = verify_from_email(client)
    assert confirmed.status_code == 302
    assert EmailAddress.objects.get().verified
    console = client.get(confirmed["Location"], follow=True)
    assert console.status_code == 200
    assert "<h1>Bright Booths</h1>" in console.content.decode()
    # Later sign-ins take the email address or the generated username.
    username = User.objects.get().username
    for login in ["ana@example.com", username]:
        assert sign_in(Client(), login)["Location"] == "/console/"


def test_a_forged_or_expired_verification_link_says_so(time_machine):
    client = Client()
    sign_up(client)
    forged = client.get("/accounts/confirm-email/not-a-real-key/")
    assert "This link has expired or is not valid" in forged.content.decode()
    path = link_in_last_email(r"/accounts/confirm-email/[^/\s]+/")
    time_machine.move_to(timezone.now() + dt.timedelta(days=4))  # links work for 3 days
    assert "This link has expired or is not valid" in client.get(path).content.decode()
    assert client.post(path).status_code == 404
    assert not EmailAddress.objects.get().verified


def test_password_reset_by_email():
    verified_user()
    client = Client()
    asked = client.post("/accounts/password/reset/", {"email": "ben@example.com"})
    assert asked.status_code == 302
    path = link_in_last_email(r"/accounts/password/reset/key/\S+/")
    form = client.get(path, follow=True)
    assert form.status_code == 200
    new = "another-long-password-8"
    done = client.post(form.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert done.status_code == 302
    assert sign_in(Client(), "ben", new)["Location"] == "/console/"
    assert sign_in(Client(), "ben", PASSWORD).status_code == 200  # the old one is gone


def test_email_change_takes_effect_once_the_new_address_is_verified():
    user = verified_user()
    client = Client()
    client.force_login(user)
    page = client.get("/accounts/email/")
    assert page.status_code == 200
    assert "ben@example.com" in page.content.decode()
    asked = client.post("/accounts/email/", {"action_add": "", "email": "ben@new.example"})
    assert asked.status_code == 302
    assert mail.outbox[-1].to == ["ben@new.example"]
    assert set(EmailAddress.objects.values_list("email", "verified")) == {
        ("ben@example.com", True),
        ("ben@new.example", False),
    }
    verify_from_email(client)
    assert list(EmailAddress.objects.values_list("email", "verified", "primary")) == [
        ("ben@new.example", True, True)
    ]
    user.refresh_from_db()
    assert user.email == "ben@new.example"


def test_wrong_passwords_for_an_email_address_lock_it_like_a_username(settings):
    verified_user()
    answers = [sign_in(Client(), "ben@example.com", f"wrong-{n}").status_code for n in range(12)]
    assert answers[: settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert answers[-1] == 429
    locked = sign_in(Client(), "ben@example.com")
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    assert sign_in(Client(), "ben")["Location"] == "/console/"  # the username is its own key


def test_sign_in_posts_from_one_address_are_capped_across_usernames():
    """allauth's per-address cap (ACCOUNT_RATE_LIMITS "login"): a spray of usernames."""
    answers = [sign_in(Client(), f"nobody{n}", "guess").status_code for n in range(31)]
    assert answers[:30] == [200] * 30
    assert answers[30] == 429
    assert sign_in(Client(), "ben", REMOTE_ADDR="192.0.2.9").status_code == 200  # elsewhere


def test_the_demo_login_is_verified_and_signs_in_at_the_console(capsys):
    from django.core.management import call_command

    call_command("seed_demo")
    assert EmailAddress.objects.get(user__username="demo").verified
    response = sign_in(Client(), "demo", "boothsite-demo")
    assert response["Location"] == "/console/"


def two_organisers() -> tuple[User, Organiser, Organiser]:
    alpha = factories.make_organiser(name="Alpha", slug="alpha")
    bravo = factories.make_organiser(name="Bravo", slug="bravo")
    user = factories.make_member(alpha, Role.OWNER)
    services.add_member(bravo, user, Role.VIEWER)
    return user, alpha, bravo


def test_a_member_of_several_organisers_chooses_then_switches():
    user, _alpha, _bravo = two_organisers()
    client = Client()
    client.force_login(user)
    choose = client.get("/console/").content.decode()
    assert "<h1>Your organisers</h1>" in choose
    assert 'href="/console/alpha/"' in choose
    assert 'href="/console/bravo/"' in choose
    switched = client.post("/console/switch/", {"organiser": "bravo"})
    assert switched["Location"] == "/console/bravo/"
    home = client.get("/console/").content.decode()
    assert "<h1>Bravo</h1>" in home
    assert '<option value="bravo" selected>Bravo</option>' in home
    client.get("/console/alpha/")  # opening a home makes it the current one
    assert "<h1>Alpha</h1>" in client.get("/console/").content.decode()


def test_switching_to_an_organiser_one_is_not_a_member_of_is_404():
    _user, alpha, _bravo = two_organisers()
    factories.make_organiser(name="Charlie", slug="charlie")
    client = Client()
    client.force_login(factories.make_member(alpha, Role.OWNER))
    foreign = client.post("/console/switch/", {"organiser": "bravo"})
    missing = client.post("/console/switch/", {"organiser": "no-such-org"})
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    assert client.get("/console/bravo/").status_code == 404
    assert client.get("/console/switch/").status_code == 405


def test_a_user_without_an_organiser_creates_one_from_the_console():
    client = Client()
    client.force_login(factories.make_user())
    page = client.get("/console/")
    assert "<h1>Create your organiser</h1>" in page.content.decode()
    bad = client.post("/console/new/", {"name": "  ", "country": "GB"})
    assert bad.status_code == 400
    assert "This field is required." in bad.content.decode()
    made = client.post("/console/new/", {"name": "Side Gig", "country": "GB"})
    assert made["Location"] == "/console/side-gig/"
    assert Membership.objects.get(organiser__slug="side-gig").role == Role.OWNER


def test_the_organiser_home_lists_events_paginated_and_booths(tenant_a):
    for n in range(25):
        factories.make_event(tenant_a.organiser, slug=f"extra-{n:02d}")
    client = Client()
    client.force_login(tenant_a.viewer)
    first = client.get("/console/alpha/").content.decode()
    assert first.count('data-label="Event"') == 20
    assert "Page 1 of 2" in first
    assert "Booth alpha" in first
    assert "New event" not in first  # a viewer changes nothing
    second = client.get("/console/alpha/?page=2").content.decode()
    assert second.count('data-label="Event"') == 6
    owner = Client()
    owner.force_login(tenant_a.owner)
    assert 'href="/console/alpha/events/new/"' in owner.get("/console/alpha/").content.decode()
