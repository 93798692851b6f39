"""SMS share: phone validation, the text, the console gateway and the ledger admin."""

from __future__ import annotations

import pytest
from django.test import Client

from captures import services as capture_services
from messaging import phones
from messaging.models import SmsMessage
from tests import factories

pytestmark = pytest.mark.django_db

INVALID = "Enter a valid mobile number in international format, e.g. +447400123456."


@pytest.fixture
def session_a(tenant_a):
    session = factories.make_session(tenant_a.booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    return session


def share(client, session, phone):
    return client.post(
        f"/api/v1/booth/sessions/{session.public_id}/share/sms/", {"phone": phone}, format="json"
    )


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("", "Enter a mobile number."),
        ("07400123456", phones.NATIONAL_MESSAGE),
        ("+4474001234567890", INVALID),
        ("+447700901000", INVALID),
        ("+00447400123456", INVALID),
        ("+447400123456\n", INVALID),
        ("+447400;123456", INVALID),
        ("+44 seven", INVALID),
        ("+449098790000", "This number cannot receive SMS from this service."),
        (
            "+33612345678",
            "SMS to FR numbers is not enabled on this site. "
            "Its operator can allow FR in BOOTHSITE_SMS_COUNTRIES.",
        ),
    ],
)
def test_bad_phone_is_400_and_nothing_is_queued(booth_client_a, session_a, phone, message):
    response = share(booth_client_a, session_a, phone)
    assert response.status_code == 400
    assert response.json() == {"phone": [message]}
    assert SmsMessage.objects.count() == 0


def test_missing_phone_is_400(booth_client_a, session_a):
    response = booth_client_a.post(
        f"/api/v1/booth/sessions/{session_a.public_id}/share/sms/", {}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"phone": ["Enter a mobile number."]}


def test_share_sends_through_the_console_gateway(
    booth_client_a, session_a, capsys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = share(booth_client_a, session_a, "+44 7400 123456")
    assert response.status_code == 202
    sms = SmsMessage.objects.get(public_id=response.json()["id"])
    assert sms.to == "+447400123456"
    assert sms.status == SmsMessage.Status.SUBMITTED
    assert sms.gateway == "console"
    assert sms.provider_message_id.startswith("console-")
    assert session_a.share_url() in sms.body
    printed = capsys.readouterr().out
    assert "+44 74** ***456" in printed
    assert "7400123456" not in printed


def test_sms_body_holds_no_phone_number(booth_client_a, session_a):
    share(booth_client_a, session_a, "+447400123456")
    sms = SmsMessage.objects.get()
    assert "7400123456" not in sms.body
    assert "7400123456" not in sms.client_ref
    assert len(sms.body) <= 160
    assert sms.body.startswith("Your photos from ")


def test_event_template_is_used_without_control_characters(booth_client_a, session_a):
    session_a.event.sms_template = "Hi!\x07 Photos: {link} \r\nThanks"
    session_a.event.save()
    share(booth_client_a, session_a, "+447400123456")
    body = SmsMessage.objects.get().body
    assert "\x07" not in body
    assert "\n" not in body
    assert session_a.share_url() in body


def test_event_country_list_only_narrows_the_platform_list(booth_client_a, session_a):
    session_a.event.sms_allowed_countries = ["FR"]
    session_a.event.save()
    response = share(booth_client_a, session_a, "+33612345678")
    assert response.status_code == 400
    assert SmsMessage.objects.count() == 0


def test_sending_twice_sends_once(booth_client_a, session_a, capsys):
    from messaging import tasks

    share(booth_client_a, session_a, "+447400123456")
    sms = SmsMessage.objects.get()
    tasks.send_sms_message(sms.pk)
    tasks.send_sms_message(sms.pk)
    assert capsys.readouterr().out.count("[console SMS") == 1
    sms.refresh_from_db()
    assert sms.attempts == 1


@pytest.mark.parametrize(
    ("e164", "masked"),
    [("+447400123456", "+44 74** ***456"), ("+33612345678", "+33 61** **678"), ("", "(erased)")],
)
def test_mask_phone(e164, masked):
    assert phones.mask_phone(e164) == masked


@pytest.fixture
def admin_client_logged_in():
    from django.contrib.auth.models import User

    user = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def test_admin_ledger_masks_numbers_and_filters(
    admin_client_logged_in, booth_client_a, session_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        share(booth_client_a, session_a, "+447400123456")
    sms = SmsMessage.objects.get()
    url = "/admin/messaging/smsmessage/"
    listing = admin_client_logged_in.get(url)
    assert listing.status_code == 200
    assert b"+44 74** ***456" in listing.content
    assert b"7400123456" not in listing.content
    assert b"console" in listing.content
    for query in ("?status__exact=submitted", f"?event__id__exact={sms.event_id}", "?o=1"):
        assert admin_client_logged_in.get(url + query).status_code == 200
    found = admin_client_logged_in.get(url, {"q": sms.provider_message_id})
    assert sms.provider_message_id.encode() in found.content
    by_number = admin_client_logged_in.get(url, {"q": "+447400123456"})
    assert b"+44 74** ***456" in by_number.content
    detail = admin_client_logged_in.get(f"{url}{sms.pk}/change/")
    assert detail.status_code == 200
    assert b"7400123456" not in detail.content


def test_admin_ledger_is_read_only(admin_client_logged_in, booth_client_a, session_a):
    share(booth_client_a, session_a, "+447400123456")
    sms = SmsMessage.objects.get()
    url = "/admin/messaging/smsmessage/"
    assert admin_client_logged_in.get(url + "add/").status_code == 403
    assert admin_client_logged_in.post(f"{url}{sms.pk}/delete/").status_code == 403
    admin_client_logged_in.post(f"{url}{sms.pk}/change/", {"body": "changed"})
    sms.refresh_from_db()
    assert sms.body != "changed"


def test_a_drama_number_is_shared_to_with_the_console_gateway(booth_client_a, session_a, settings):
    settings.BOOTHSITE_SMS_GATEWAY = "console"
    response = share(booth_client_a, session_a, "447700900123")
    assert response.status_code == 202
    assert SmsMessage.objects.get().to == "+447700900123"


def test_a_drama_number_is_refused_with_the_vonage_gateway(booth_client_a, session_a, settings):
    settings.BOOTHSITE_SMS_GATEWAY = "vonage"
    response = share(booth_client_a, session_a, "+447700900123")
    assert response.status_code == 400
    assert response.json() == {"phone": [phones.FICTIONAL_MESSAGE]}
    assert SmsMessage.objects.count() == 0
