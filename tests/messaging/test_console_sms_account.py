"""The console's SMS account: an organiser's own Vonage credentials, encrypted, sending.

The real vonage SDK talks to the local TLS stub (tests/vonage_stub.py), which records
what it received: the Basic ``Authorization`` header tells which account's key sent.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet
from django.core import mail
from django.db import connection
from django.test import Client

from events.roles import Role
from messaging import credentials, services
from messaging.models import PLATFORM_ACCOUNT, SendingPause, SmsAccount, SmsMessage
from tests import factories
from tests.test_settings import PRODUCTION, run_manage

pytestmark = pytest.mark.django_db

PHONE = "+447400123456"
KEY = "9f8e7d6c"
SECRET = "Own5ecretValue9"
FORM = {"account": "own", "api_key": KEY, "api_secret": SECRET, "sender": "AlphaParty"}


def url(tenant) -> str:
    return f"/console/{tenant.organiser.slug}/sms-account/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def basic_auth(request) -> str:
    return base64.b64decode(request["headers"]["Authorization"].split()[1]).decode()


def own_account(tenant, vonage) -> SmsAccount:
    response = signed_in(tenant.owner).post(url(tenant), FORM)
    assert response.status_code == 302, response.content.decode()[-3000:]
    vonage.requests.clear()
    return SmsAccount.objects.live().get(organiser=tenant.organiser)


def send(tenant) -> SmsMessage:
    session = factories.make_session(tenant.booth)
    from captures import services as capture_services

    capture_services.record_capture(session, factories.image_bytes("PNG"))
    sms = services.queue_share_sms(tenant.booth, session, PHONE)
    return services.send_sms_message(sms)


def test_own_credentials_are_checked_stored_encrypted_and_never_shown(vonage, tenant_a):
    owner = signed_in(tenant_a.owner)
    response = owner.post(url(tenant_a), FORM, follow=True)
    assert response.status_code == 200
    assert "Vonage accepted the API key and secret (balance €10.00)." in response.text
    (check,) = vonage.requests
    assert check["path"] == "/account/get-balance"
    assert basic_auth(check) == f"{KEY}:{SECRET}"
    account = SmsAccount.objects.live().get(organiser=tenant_a.organiser)
    assert account.verified_at is not None
    assert (account.key_ending, account.sender) == ("7d6c", "AlphaParty")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM messaging_smsaccount")
        raw = repr(cursor.fetchall())
    assert SECRET not in raw
    assert KEY not in raw
    assert credentials.decrypt(account.api_secret_encrypted) == SECRET
    page = owner.get(url(tenant_a)).text
    assert "ending in …7d6c" in page
    assert SECRET not in page
    assert KEY not in page


def test_a_form_with_errors_renders_neither_key_nor_secret_back(vonage, tenant_a):
    form = FORM | {"sender": "!!"}
    response = signed_in(tenant_a.owner).post(url(tenant_a), form)
    assert response.status_code == 400
    assert "Use up to 11 letters" in response.text
    assert KEY not in response.text
    assert SECRET not in response.text
    assert not SmsAccount.objects.exists()
    assert vonage.requests == []


def test_refused_credentials_are_not_stored(vonage, tenant_a):
    vonage.script.append(("http", 401))
    response = signed_in(tenant_a.owner).post(url(tenant_a), FORM)
    assert response.status_code == 400
    assert "Vonage refused this API key and secret." in response.text
    assert not SmsAccount.objects.exists()


def test_unreachable_vonage_saves_the_credentials_unchecked(vonage, tenant_a):
    vonage.script.append(("http", 500))
    response = signed_in(tenant_a.owner).post(url(tenant_a), FORM, follow=True)
    assert "they are saved unchecked" in response.text
    assert SmsAccount.objects.live().get().verified_at is None


def test_the_console_gateway_saves_them_unchecked_and_asks_nobody(tenant_a, vonage, settings):
    settings.BOOTHSITE_SMS_GATEWAY = "console"
    response = signed_in(tenant_a.owner).post(url(tenant_a), FORM, follow=True)
    assert "Not checked with Vonage: this site&#x27;s SMS gateway is the console" in response.text
    assert vonage.requests == []
    assert SmsAccount.objects.live().get().verified_at is None


def test_a_send_for_the_organiser_goes_through_its_own_account(vonage, tenant_a):
    account = own_account(tenant_a, vonage)
    sms = send(tenant_a)
    assert sms.status == SmsMessage.Status.SUBMITTED
    (request,) = vonage.requests
    assert basic_auth(request) == f"{KEY}:{SECRET}"
    assert request["form"]["from"] == "AlphaParty"
    assert sms.account == str(account.public_id)


def test_other_organisers_send_through_the_platform_account(vonage, tenant_a, tenant_b):
    own_account(tenant_a, vonage)
    sms = send(tenant_b)
    (request,) = vonage.requests
    assert basic_auth(request) == "stub-key:stub-secret-value"
    assert request["form"]["from"] == "Boothsite"
    assert sms.account == PLATFORM_ACCOUNT


def test_bad_own_credentials_pause_that_organiser_only(
    vonage, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    tenant_a.owner.email = "owner@alpha.example"
    tenant_a.owner.save()
    own_account(tenant_a, vonage)
    vonage.script.append(("status", "4"))
    with django_capture_on_commit_callbacks(execute=True):  # the owners' alert
        held = send(tenant_a)
    assert held.status == SmsMessage.Status.QUEUED
    pause = SendingPause.objects.active().get()
    assert (pause.organiser, pause.event) == (tenant_a.organiser, None)
    assert "enter them again on the console's SMS account page" in pause.reason
    assert [m.to for m in mail.outbox] == [["owner@alpha.example"]]
    assert send(tenant_b).status == SmsMessage.Status.SUBMITTED  # the platform still sends
    assert services.send_sms_message(held).status == SmsMessage.Status.QUEUED  # still paused
    assert len(vonage.requests) == 2
    page = signed_in(tenant_a.owner).get(url(tenant_a)).text
    assert "Sending is paused" in page


def test_saving_the_account_again_lifts_its_pause_and_sends_what_waited(
    vonage, tenant_a, django_capture_on_commit_callbacks
):
    own_account(tenant_a, vonage)
    vonage.script.append(("status", "4"))
    held = send(tenant_a)
    with django_capture_on_commit_callbacks(execute=True):  # the held message's task
        response = signed_in(tenant_a.owner).post(url(tenant_a), FORM, follow=True)
    assert "1 message(s) held back by the pause are being sent." in response.text
    held.refresh_from_db()
    assert held.status == SmsMessage.Status.SUBMITTED
    assert not SendingPause.objects.active().exists()


def test_a_platform_pause_does_not_stop_an_organiser_with_its_own_account(vonage, tenant_a):
    own_account(tenant_a, vonage)
    SendingPause.objects.create(reason="Platform account refused")
    assert send(tenant_a).status == SmsMessage.Status.SUBMITTED


def test_credentials_no_key_opens_pause_the_organiser(vonage, tenant_a, settings):
    own_account(tenant_a, vonage)
    settings.BOOTHSITE_CREDENTIALS_KEY = Fernet.generate_key().decode()
    held = send(tenant_a)
    assert held.status == SmsMessage.Status.QUEUED
    assert vonage.requests == []
    pause = SendingPause.objects.active().get()
    assert pause.organiser == tenant_a.organiser
    assert "can no longer be read" in pause.reason


def test_back_to_the_platform_account_wipes_the_credentials(vonage, tenant_a):
    account = own_account(tenant_a, vonage)
    response = signed_in(tenant_a.owner).post(url(tenant_a), {"account": "platform"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.retired_at is not None
    assert (account.api_key_encrypted, account.api_secret_encrypted) == ("", "")
    assert send(tenant_a).account == PLATFORM_ACCOUNT


def test_empty_key_and_secret_keep_them_and_change_the_sender(vonage, tenant_a):
    account = own_account(tenant_a, vonage)
    form = {"account": "own", "api_key": "", "api_secret": "", "sender": "NewName"}
    assert signed_in(tenant_a.owner).post(url(tenant_a), form).status_code == 302
    assert vonage.requests == []
    account.refresh_from_db()
    assert (account.sender, account.retired_at) == ("NewName", None)


def test_a_first_own_account_needs_both_key_and_secret(tenant_a):
    form = {"account": "own", "api_key": KEY, "api_secret": "", "sender": ""}
    response = signed_in(tenant_a.owner).post(url(tenant_a), form)
    assert response.status_code == 400
    assert "Enter your Vonage API secret." in response.text


def test_members_see_which_account_but_no_credentials(vonage, tenant_a):
    own_account(tenant_a, vonage)
    manager = factories.make_member(tenant_a.organiser, Role.MANAGER, username="manager-a")
    for user in (manager, tenant_a.viewer):
        page = signed_in(user).get(url(tenant_a))
        assert page.status_code == 200
        assert "Your own Vonage account" in page.text
        assert "7d6c" not in page.text
        assert 'name="api_secret"' not in page.text


def test_managers_and_viewers_get_403_on_change(tenant_a):
    manager = factories.make_member(tenant_a.organiser, Role.MANAGER, username="manager-a")
    for user in (manager, tenant_a.viewer):
        assert signed_in(user).post(url(tenant_a), FORM).status_code == 403
    assert not SmsAccount.objects.exists()


def test_other_organisers_get_404(tenant_a, tenant_b):
    outsider = signed_in(tenant_b.owner)
    missing = outsider.get("/console/no-such-organiser/sms-account/")
    assert outsider.get(url(tenant_a)).status_code == 404
    assert outsider.post(url(tenant_a), FORM).status_code == 404
    assert missing.status_code == 404
    assert not SmsAccount.objects.exists()


def test_the_admin_ledger_says_which_account_sent(vonage, tenant_a, tenant_b, admin_client):
    own_account(tenant_a, vonage)
    send(tenant_a)
    send(tenant_b)
    page = admin_client.get("/admin/messaging/smsmessage/").text
    assert "Own account ending 7d6c" in page
    assert "Platform account" in page
    own = admin_client.get("/admin/messaging/smsmessage/", {"through": "own"}).text
    assert own.count("Own account ending 7d6c") >= 1
    assert '<td class="field-sent_through">Platform account' not in own


def test_keys_rotate_and_the_embedded_key_comes_from_the_secret_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.BOOTHSITE_CREDENTIALS_KEY = old
    token = credentials.encrypt("s3cret")
    settings.BOOTHSITE_CREDENTIALS_KEY = f"{new},{old}"
    assert credentials.decrypt(token) == "s3cret"
    settings.BOOTHSITE_CREDENTIALS_KEY = ""
    derived = credentials.encrypt("s3cret")
    assert Fernet(credentials.derive_key(settings.SECRET_KEY)).decrypt(derived.encode()) == (
        b"s3cret"
    )
    with pytest.raises(credentials.UnreadableCredentials):
        credentials.decrypt(token)


def test_production_needs_a_valid_credentials_key():
    values = {key: value for key, value in PRODUCTION.items() if key != "BOOTHSITE_CREDENTIALS_KEY"}
    missing = run_manage("check", env_vars=values)
    assert missing.returncode != 0
    assert "BOOTHSITE_CREDENTIALS_KEY must be set" in missing.stderr
    bad = run_manage("check", env_vars=values | {"BOOTHSITE_CREDENTIALS_KEY": "not-a-key"})
    assert "BOOTHSITE_CREDENTIALS_KEY must hold Fernet keys" in bad.stderr
    assert "not-a-key" not in bad.stderr


def test_the_sweeper_skips_only_the_paused_own_account(vonage, tenant_a, tenant_b):
    own_account(tenant_a, vonage)
    mine, theirs = send_later(tenant_a), send_later(tenant_b)
    SendingPause.objects.create(organiser=tenant_a.organiser, reason="Refused")
    SmsMessage.objects.update(enqueued_at=None)  # both tasks lost: due at once
    sweep = services.sweep_queued_sms()
    assert sweep.queued == 1
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.enqueue_attempts, theirs.enqueue_attempts) == (1, 2)


def send_later(tenant) -> SmsMessage:
    """Queue a message whose send task never runs (no on-commit callbacks in this test)."""
    from captures import services as capture_services

    session = factories.make_session(tenant.booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    return services.queue_share_sms(tenant.booth, session, PHONE)
