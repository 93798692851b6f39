"""Personal data in the ledger: audited reveals, CSV export, erasure, retention (64-68)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from captures.models import Capture, CaptureVariant
from events.access import retention_cutoff
from messaging import phones, services
from messaging.models import AuditEntry, SmsMessage
from tests import factories
from tests.conftest import stored_files

pytestmark = pytest.mark.django_db
PHONE = "+447400123456"
LEDGER = "/admin/messaging/smsmessage/"


@pytest.fixture
def sms(tenant_a, shareable_session):
    message = services.queue_share_sms(tenant_a.booth, shareable_session, PHONE)
    services.send_sms_message(message)
    message.refresh_from_db()
    return message


def staff_client(*, can_reveal: bool) -> tuple[Client, User]:
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    codenames = ["view_smsmessage"] + (["view_full_phone"] if can_reveal else [])
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client, user


def test_reveal_needs_the_permission(sms):
    client, _ = staff_client(can_reveal=False)
    assert client.get(f"{LEDGER}{sms.pk}/change/").status_code == 200
    assert client.post(f"{LEDGER}{sms.pk}/reveal/", {"reason": "x"}).status_code == 403
    assert AuditEntry.objects.count() == 0


def test_reveal_is_audited_with_actor_and_reason(sms):
    client, user = staff_client(can_reveal=True)
    assert b"Reveal number" in client.get(f"{LEDGER}{sms.pk}/change/").content
    no_reason = client.post(f"{LEDGER}{sms.pk}/reveal/", {"reason": ""})
    assert PHONE.encode() not in no_reason.content
    response = client.post(f"{LEDGER}{sms.pk}/reveal/", {"reason": "Guest asked for a resend"})
    assert PHONE.encode() in response.content
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.sms) == (user, "reveal_phone", sms)
    assert entry.reason == "Guest asked for a resend"
    assert entry.phone_hash == phones.phone_hash(PHONE)


def test_audit_entries_cannot_be_edited(sms):
    services.reveal_phone(sms, User.objects.create_user("x"), reason="check")
    entry = AuditEntry.objects.get()
    superuser = User.objects.create_superuser("root", "r@example.com", "pw")
    client = Client()
    client.force_login(superuser)
    assert client.get("/admin/messaging/auditentry/add/").status_code == 403
    assert client.post(f"/admin/messaging/auditentry/{entry.pk}/delete/").status_code == 403


def test_csv_export_follows_the_filters_and_masks_numbers(sms, tenant_b):
    superuser = User.objects.create_superuser("root", "r@example.com", "pw")
    client = Client()
    client.force_login(superuser)
    response = client.get(f"{LEDGER}export.csv", {"status__exact": "submitted"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    lines = body.strip().splitlines()
    assert lines[0].startswith("created_at,public_id,organiser")
    assert len(lines) == 2
    assert "+44 74** ***456" in body
    assert "7400123456" not in body
    empty = client.get(f"{LEDGER}export.csv", {"status__exact": "failed"})
    empty_body = b"".join(empty.streaming_content).decode()  # type: ignore[attr-defined]
    assert len(empty_body.strip().splitlines()) == 1
    assert b"Export these as CSV" in client.get(LEDGER).content


def test_admin_ledger_shows_the_timeline_in_words(sms, client):
    client.get(f"/hooks/sms/dlr/{sms.callback_token}/", {"status": "failed", "err-code": "6"})
    superuser = User.objects.create_superuser("root", "r@example.com", "pw")
    admin = Client()
    admin.force_login(superuser)
    html = admin.get(f"{LEDGER}{sms.pk}/change/").content.decode()
    assert "Submitted to the provider" in html
    assert "Anti-spam rejection by the carrier." in html


def test_console_ledger_is_masked_and_tenant_scoped(sms, tenant_a, tenant_b):
    own = Client()
    own.force_login(tenant_a.viewer)
    url = f"/console/{tenant_a.organiser.slug}/party/sms/"
    html = own.get(url).content.decode()
    assert "+44 74** ***456" in html
    assert "7400123456" not in html
    other = Client()
    other.force_login(tenant_b.owner)
    foreign = other.get(url)
    missing = other.get(f"/console/{tenant_a.organiser.slug}/nope/sms/")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content


def test_erase_number_stays_inside_the_tenant(sms, tenant_a, tenant_b):
    session_b = factories.make_session(tenant_b.booth)
    from captures import services as capture_services

    capture_services.record_capture(session_b, factories.image_bytes("PNG"))
    sms_b = services.queue_share_sms(tenant_b.booth, session_b, PHONE)
    owner = Client()
    owner.force_login(tenant_a.owner)
    url = f"/console/{tenant_a.organiser.slug}/privacy/erase-number/"
    response = owner.post(url, {"phone": "+44 7400 123456"})
    assert response.status_code == 200
    sms.refresh_from_db()
    sms_b.refresh_from_db()
    assert sms.to == ""
    assert sms_b.to == PHONE
    entry = AuditEntry.objects.get(action="erase_number")
    assert entry.phone_hash == phones.phone_hash(PHONE)
    assert PHONE not in str(entry.detail)
    assert services.messages_for_number(tenant_a.organiser, PHONE).exclude(to="").count() == 0


def test_erase_number_is_for_owners_only(tenant_a):
    viewer = Client()
    viewer.force_login(tenant_a.viewer)
    url = f"/console/{tenant_a.organiser.slug}/privacy/erase-number/"
    assert viewer.post(url, {"phone": PHONE}).status_code == 403


def test_retention_purges_numbers_once(sms, tenant_a, time_machine):
    event = tenant_a.event
    time_machine.move_to(retention_cutoff(event) - dt.timedelta(days=1))
    assert services.purge_expired_personal_data() == []
    time_machine.move_to(retention_cutoff(event) + dt.timedelta(days=1))
    assert services.purge_expired_personal_data() == [event]
    sms.refresh_from_db()
    assert sms.to == ""
    assert sms.to_hash == phones.phone_hash(PHONE)
    assert services.purge_expired_personal_data() == []
    assert AuditEntry.objects.filter(action="retention_purge").count() == 1


def test_retention_can_purge_photos_and_their_files(
    tenant_a, media_root, time_machine, django_capture_on_commit_callbacks
):
    from captures import services as capture_services

    event = tenant_a.event
    event.retention_purges_photos = True
    event.save()
    session = factories.make_session(tenant_a.booth)
    with django_capture_on_commit_callbacks(execute=True):
        capture_services.record_capture(session, factories.image_bytes("PNG"))
        capture_services.finish_session(session)
    assert stored_files(media_root)
    time_machine.move_to(retention_cutoff(event) + dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.purge_expired_personal_data() == [event]
    assert Capture.objects.count() == CaptureVariant.objects.count() == 0
    assert stored_files(media_root) == []


def test_stored_message_holds_no_number_outside_its_to_field(sms):
    assert "7400123456" not in sms.body + sms.client_ref + sms.callback_token
    assert sms.to == PHONE
    assert SmsMessage.objects.filter(to_hash=phones.phone_hash(PHONE)).count() == 1
