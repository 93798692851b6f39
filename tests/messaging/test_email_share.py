"""Share by email (issue 14.5): validation, caps, the ledger, the message, masking, erasure.

Mail goes to Django's locmem outbox, or over real SMTP to a small in-process server
(``SmtpStub``) that accepts or refuses recipients, or to a port where nothing listens
(a dead mail server).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import socket
import socketserver
import threading
from collections.abc import Iterator
from email.message import EmailMessage as MimeMessage
from typing import Any, ClassVar

import pytest
from django.contrib.auth.models import Permission, User
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client

from boothsite import logs
from boothsite.celery import app as celery_app
from captures import services as capture_services
from captures.models import BoothSession, RenderStatus, Strip
from events.access import retention_cutoff
from messaging import emails, services
from messaging.exceptions import TransientEmailError
from messaging.models import AuditEntry, EmailMessage, SendingPause
from tests import factories

pytestmark = pytest.mark.django_db

ADDRESS = "Guest.Name@Example.COM"
STORED = "Guest.Name@example.com"
LEDGER = "/admin/messaging/emailmessage/"


def share(client: Any, session: BoothSession, address: object) -> Any:
    return client.post(
        f"/api/v1/booth/sessions/{session.public_id}/share/email/",
        {"email": address},
        format="json",
    )


def html_part(outgoing: object) -> str:
    """Return the HTML alternative of a sent message."""
    assert isinstance(outgoing, EmailMultiAlternatives)
    content = outgoing.alternatives[0][0]
    assert isinstance(content, str)
    return content


def new_session(booth: Any, *, finish: bool, on_commit: Any) -> BoothSession:
    session = factories.make_session(booth)
    with on_commit(execute=True):
        capture_services.record_capture(session, factories.image_bytes("PNG"))
        if finish:
            capture_services.finish_session(session, ["horizontal_4"])
    return session


@pytest.fixture
def finished(tenant_a, django_capture_on_commit_callbacks) -> BoothSession:
    """A finished session of tenant A with its strip rendered."""
    session = new_session(tenant_a.booth, finish=True, on_commit=django_capture_on_commit_callbacks)
    assert Strip.objects.get(session=session).status == RenderStatus.READY
    return session


@pytest.fixture
def sent(booth_client_a, finished, django_capture_on_commit_callbacks) -> EmailMessage:
    with django_capture_on_commit_callbacks(execute=True):
        response = share(booth_client_a, finished, ADDRESS)
    assert response.status_code == 202, response.content
    return EmailMessage.objects.get()


# -- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("", "Enter an email address."),
        ("   ", "Enter an email address."),
        ("guest", emails.INVALID_MESSAGE),
        ("guest@", emails.INVALID_MESSAGE),
        ("guest@localhost", emails.INVALID_MESSAGE),
        ("gu est@example.com", emails.INVALID_MESSAGE),
        ("guest@example.com\nBcc: x@example.com", emails.INVALID_MESSAGE),
        ("guest@exa mple.com", emails.INVALID_MESSAGE),
        ("a" * 250 + "@example.com", emails.INVALID_MESSAGE),
        (12, emails.INVALID_MESSAGE),
    ],
)
def test_bad_address_is_400_and_nothing_is_queued(booth_client_a, finished, address, message):
    response = share(booth_client_a, finished, address)
    assert response.status_code == 400
    assert response.json() == {"email": [message]}
    assert EmailMessage.objects.count() == 0
    assert mail.outbox == []


def test_missing_address_is_400(booth_client_a, finished):
    response = booth_client_a.post(
        f"/api/v1/booth/sessions/{finished.public_id}/share/email/", {}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"email": ["Enter an email address."]}


def test_normalise_lower_cases_the_domain_only():
    assert emails.normalise_email("  Ann.Lee@MAIL.Example.ORG ") == "Ann.Lee@mail.example.org"
    assert emails.email_hash("Ann@example.com") == emails.email_hash("ann@example.com")


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("jane.doe@example.com", "j***@e***.com"),
        ("j@mail.example.co.uk", "j***@m***.uk"),
        ("", "(erased)"),
        ("nonsense", "***"),
    ],
)
def test_mask_email(address, masked):
    assert emails.mask_email(address) == masked


def test_session_without_photos_is_409(booth_client_a, tenant_a):
    session = factories.make_session(tenant_a.booth)
    response = share(booth_client_a, session, ADDRESS)
    assert response.status_code == 409
    assert EmailMessage.objects.count() == 0


def test_archived_event_is_409(booth_client_a, finished, tenant_a):
    from django.utils import timezone

    tenant_a.event.archived_at = timezone.now()
    tenant_a.event.save()
    response = share(booth_client_a, finished, ADDRESS)
    assert response.status_code == 409
    assert "archived" in response.json()["detail"]


def test_paused_event_is_503(booth_client_a, finished, tenant_a):
    SendingPause.objects.create(event=tenant_a.event, reason="Pumping")
    response = share(booth_client_a, finished, ADDRESS)
    assert response.status_code == 503
    assert EmailMessage.objects.count() == 0


# -- the message -------------------------------------------------------------------------


def test_share_is_202_and_sends_text_html_and_the_strip_inline(sent, finished, tenant_a):
    assert sent.status == EmailMessage.Status.SENT
    assert (sent.to, sent.attempts, sent.error_text) == (STORED, 1, "")
    assert sent.sent_at is not None
    assert (sent.session, sent.requested_by, sent.organiser) == (
        finished,
        tenant_a.booth,
        tenant_a.organiser,
    )
    assert sent.to_hash == emails.email_hash(STORED)
    [outgoing] = mail.outbox
    assert outgoing.to == [STORED]
    assert outgoing.subject == f"Your photos from {tenant_a.event.name}"
    link = finished.share_url()
    assert link in outgoing.body
    parsed = email.message_from_bytes(outgoing.message().as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, MimeMessage)
    assert parsed.get_content_type() == "multipart/related"
    alternative, image = parsed.iter_parts()
    text, html = alternative.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert link in text.get_content()
    html_text = html.get_content()
    assert f'href="{link}"' in html_text
    assert 'src="cid:strip@boothsite"' in html_text
    assert image.get_content_type() == "image/jpeg"
    assert image["Content-ID"] == "<strip@boothsite>"
    assert image.get_content_disposition() == "inline"
    assert image.get_filename() == "photo-strip.jpg"
    payload = image.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.startswith(b"\xff\xd8")  # a JPEG
    strip = Strip.objects.get(session=finished)
    with strip.image.open("rb") as file:
        assert payload == file.read()
    for part in (outgoing.subject, text.get_content(), html_text):
        assert "guest.name" not in part.lower()


def test_event_subject_and_text_are_used(booth_client_a, finished, tenant_a, settings):
    tenant_a.event.email_subject = "Thanks for coming!"
    tenant_a.event.email_template = "Hello <b>friend</b>,\n\nyour photos: {link}\n\nBye."
    tenant_a.event.save()
    assert share(booth_client_a, finished, ADDRESS).status_code == 202
    message = EmailMessage.objects.get()
    services.send_email_message(message)
    [outgoing] = mail.outbox
    assert outgoing.subject == message.subject == "Thanks for coming!"
    link = finished.share_url()
    assert outgoing.body == f"Hello <b>friend</b>,\n\nyour photos: {link}\n\nBye.\n"
    html = html_part(outgoing)
    assert "Hello &lt;b&gt;friend&lt;/b&gt;," in html
    assert "<b>" not in html


def test_a_session_without_a_strip_sends_without_the_image(
    booth_client_a, tenant_a, django_capture_on_commit_callbacks
):
    session = new_session(
        tenant_a.booth, finish=False, on_commit=django_capture_on_commit_callbacks
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert share(booth_client_a, session, ADDRESS).status_code == 202
    [outgoing] = mail.outbox
    assert outgoing.message().get_content_type() == "multipart/alternative"
    assert "cid:" not in html_part(outgoing)


def test_a_strip_still_rendering_is_waited_for(tenant_a, django_capture_on_commit_callbacks):
    session = new_session(
        tenant_a.booth, finish=False, on_commit=django_capture_on_commit_callbacks
    )
    capture_services.finish_session(session, ["horizontal_4"])  # on_commit not run: pending
    message = services.queue_share_email(tenant_a.booth, session, ADDRESS)
    with pytest.raises(services.StripNotReady):
        services.send_email_message(message)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (EmailMessage.Status.QUEUED, 0)
    services.send_email_message(message, wait_for_strip=False)
    assert message.status == EmailMessage.Status.SENT


def test_a_message_sent_twice_goes_once(sent):
    services.send_email_message(sent)
    assert len(mail.outbox) == 1


def test_idempotency_key_sends_one_email(
    booth_client_a, finished, django_capture_on_commit_callbacks
):
    url = f"/api/v1/booth/sessions/{finished.public_id}/share/email/"
    with django_capture_on_commit_callbacks(execute=True):
        first = booth_client_a.post(
            url, {"email": ADDRESS}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
        )
        again = booth_client_a.post(
            url, {"email": ADDRESS}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
        )
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert EmailMessage.objects.count() == len(mail.outbox) == 1


# -- caps ---------------------------------------------------------------------------------


def test_per_session_cap(booth_client_a, finished, settings):
    settings.BOOTHSITE_EMAIL_PER_SESSION = 2
    assert share(booth_client_a, finished, "a@example.com").status_code == 202
    assert share(booth_client_a, finished, "b@example.com").status_code == 202
    refused = share(booth_client_a, finished, "c@example.com")
    assert refused.status_code == 429
    assert refused.json()["code"] == "email_limit"
    assert EmailMessage.objects.count() == 2


def test_per_address_daily_cap_counts_any_case_and_says_when(
    booth_client_a, tenant_a, settings, django_capture_on_commit_callbacks
):
    settings.BOOTHSITE_EMAIL_PER_ADDRESS_PER_DAY = 2
    for address in ("ann@example.com", "ANN@EXAMPLE.COM"):
        session = new_session(
            tenant_a.booth, finish=False, on_commit=django_capture_on_commit_callbacks
        )
        assert share(booth_client_a, session, address).status_code == 202
    session = new_session(
        tenant_a.booth, finish=False, on_commit=django_capture_on_commit_callbacks
    )
    refused = share(booth_client_a, session, "Ann@Example.com")
    assert refused.status_code == 429
    assert 86000 < int(refused["Retry-After"]) <= 86401
    assert share(booth_client_a, session, "bob@example.com").status_code == 202


def test_per_event_daily_cap(
    booth_client_a, tenant_a, settings, django_capture_on_commit_callbacks
):
    settings.BOOTHSITE_EMAIL_PER_EVENT_PER_DAY = 1
    session = new_session(
        tenant_a.booth, finish=False, on_commit=django_capture_on_commit_callbacks
    )
    assert share(booth_client_a, session, "a@example.com").status_code == 202
    refused = share(booth_client_a, session, "b@example.com")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert refused.json()["detail"] == "Email quota for this event reached."


def test_sms_caps_still_refuse_after_the_generalisation(booth_client_a, finished, settings):
    settings.BOOTHSITE_SMS_PER_NUMBER_PER_DAY = 1
    url = f"/api/v1/booth/sessions/{finished.public_id}/share/sms/"
    assert booth_client_a.post(url, {"phone": "+447400123456"}, format="json").status_code == 202
    refused = booth_client_a.post(url, {"phone": "+447400123456"}, format="json")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 86000


# -- SMTP: a real mail server, a refusing one, a dead one ---------------------------------


class SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: refuses recipients listed in ``refuse``."""

    refuse: ClassVar[set[str]] = set()
    received: ClassVar[list[bytes]] = []

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 stub ESMTP")
        while line := self.rfile.readline():
            command = line.decode(errors="replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in {"EHLO", "HELO"}:
                self.reply("250 stub")
            elif verb == "RCPT":
                refused = any(address in command for address in self.refuse)
                self.reply("550 5.1.1 No such user" if refused else "250 OK")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) not in {b".\r\n", b""}:
                    data += chunk
                self.received.append(data)
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


@pytest.fixture
def smtp_server(settings) -> Iterator[type[SmtpHandler]]:
    SmtpHandler.refuse = set()
    SmtpHandler.received = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.server_address[:2]
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield SmtpHandler
    server.shutdown()
    server.server_close()


def test_sent_over_real_smtp(smtp_server, sent):
    assert sent.status == EmailMessage.Status.SENT
    [data] = smtp_server.received
    assert b"multipart/related" in data
    assert b"Content-ID: <strip@boothsite>" in data


def test_an_address_the_server_refuses_fails_at_once(
    smtp_server, booth_client_a, finished, caplog, django_capture_on_commit_callbacks
):
    smtp_server.refuse = {"example.com"}
    caplog.set_level(logging.INFO)
    with django_capture_on_commit_callbacks(execute=True):
        response = share(booth_client_a, finished, ADDRESS)
    assert response.status_code == 202
    message = EmailMessage.objects.get()
    assert (message.status, message.attempts) == (EmailMessage.Status.FAILED, 1)
    assert message.error_text == "The mail server refused the address."
    assert "example.com" not in caplog.text.lower()


def test_a_dead_mail_server_is_retried_then_failed_and_never_a_500(
    booth_client_a, finished, settings, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    # Eager runs retry in-process only when their exceptions do not propagate.
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", False)
    monkeypatch.setattr("messaging.tasks.backoff", lambda retries: 0.0)
    caplog.set_level(logging.INFO)
    with django_capture_on_commit_callbacks(execute=True):
        response = share(booth_client_a, finished, ADDRESS)
    assert response.status_code == 202
    message = EmailMessage.objects.get()
    assert message.status == EmailMessage.Status.FAILED
    assert message.attempts == services.EMAIL_MAX_ATTEMPTS
    assert "ConnectionRefusedError" in message.error_text
    assert "Gave up after 5 tries." in message.error_text
    assert "example.com" not in caplog.text.lower()


def test_a_transient_error_leaves_the_message_queued_for_the_retry(finished, tenant_a, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # discard: nothing listens
    message = services.queue_share_email(tenant_a.booth, finished, ADDRESS)
    with pytest.raises(TransientEmailError):
        services.send_email_message(message)
    assert (message.status, message.attempts) == (EmailMessage.Status.QUEUED, 1)


# -- masking: admin and console ----------------------------------------------------------


def staff_client(*, can_reveal: bool) -> tuple[Client, User]:
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    codenames = ["view_emailmessage"] + (["view_full_email"] if can_reveal else [])
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client, user


def test_admin_masks_and_reveals_only_with_the_permission_audited(sent):
    client, _ = staff_client(can_reveal=False)
    listing = client.get(LEDGER).content.decode()
    assert "G***@e***.com" in listing
    assert "guest.name" not in listing.lower()
    detail = client.get(f"{LEDGER}{sent.pk}/change/").content.decode()
    assert "G***@e***.com" in detail
    assert "guest.name" not in detail.lower()
    assert "Reveal address" not in detail
    assert client.post(f"{LEDGER}{sent.pk}/reveal/", {"reason": "x"}).status_code == 403
    revealer, user = _revealer()
    assert "Reveal address" in revealer.get(f"{LEDGER}{sent.pk}/change/").content.decode()
    no_reason = revealer.post(f"{LEDGER}{sent.pk}/reveal/", {"reason": ""})
    assert STORED not in no_reason.content.decode()
    response = revealer.post(f"{LEDGER}{sent.pk}/reveal/", {"reason": "Guest asked"})
    assert STORED in response.content.decode()
    entry = AuditEntry.objects.get(action="reveal_email")
    assert (entry.actor, entry.email, entry.reason) == (user, sent, "Guest asked")
    assert entry.detail == {"email_hash": emails.email_hash(STORED)}


def _revealer() -> tuple[Client, User]:
    user = User.objects.create_user("revealer", password="pw", is_staff=True)
    codenames = ["view_emailmessage", "view_full_email"]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client, user


def test_admin_search_finds_a_full_address_by_hash_only(sent):
    client, _ = staff_client(can_reveal=False)
    found = client.get(LEDGER, {"q": "guest.name@EXAMPLE.com"}).content.decode()
    assert "G***@e***.com" in found
    assert "G***@e***.com" not in client.get(LEDGER, {"q": "example.com"}).content.decode()


def test_console_ledger_masks_and_viewers_get_no_form(sent, tenant_a):
    url = f"/console/{tenant_a.organiser.slug}/party/email/"
    viewer = Client()
    viewer.force_login(tenant_a.viewer)
    page = viewer.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "G***@e***.com" in html
    assert "guest.name" not in html.lower()
    assert "Sent" in html
    assert 'name="email_subject"' not in html
    assert viewer.post(url, {"email_subject": "x"}).status_code == 403


def test_console_email_settings_save_and_validate(client_owner_a, tenant_a):
    url = f"/console/{tenant_a.organiser.slug}/party/email/"
    page = client_owner_a.get(url).content.decode()
    assert 'for="id_email_subject"' in page
    assert f"Your photos from {tenant_a.event.name}" in page
    bad = client_owner_a.post(url, {"email_subject": "Hi", "email_template": "No link here"})
    assert bad.status_code == 400
    assert "Put {link} in the text" in bad.content.decode()
    two_lines = client_owner_a.post(url, {"email_subject": "Hi\nthere", "email_template": ""})
    assert two_lines.status_code == 400
    saved = client_owner_a.post(
        url, {"email_subject": "Our party", "email_template": "See {link} soon"}
    )
    assert saved.status_code == 302
    tenant_a.event.refresh_from_db()
    assert (tenant_a.event.email_subject, tenant_a.event.email_template) == (
        "Our party",
        "See {link} soon",
    )


# -- erasure and retention ---------------------------------------------------------------


def test_erase_page_erases_an_address_inside_the_tenant_only(
    sent, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    session_b = new_session(
        tenant_b.booth, finish=False, on_commit=django_capture_on_commit_callbacks
    )
    other = services.queue_share_email(tenant_b.booth, session_b, ADDRESS)
    owner = Client()
    owner.force_login(tenant_a.owner)
    url = f"/console/{tenant_a.organiser.slug}/privacy/erase-number/"
    response = owner.post(url, {"phone": " guest.name@example.com "})
    assert response.status_code == 200
    assert "the address was erased from 1 message" in response.content.decode()
    sent.refresh_from_db()
    other.refresh_from_db()
    assert (sent.to, sent.to_hash) == ("", emails.email_hash(STORED))
    assert sent.erased_at is not None
    assert other.to == STORED
    entry = AuditEntry.objects.get(action="erase_email")
    assert entry.detail == {"emails": 1, "email_hash": emails.email_hash(STORED)}
    assert "guest" not in str(entry.detail).lower()
    listing = Client()
    listing.force_login(tenant_a.owner)
    assert (
        "(erased)"
        in listing.get(f"/console/{tenant_a.organiser.slug}/party/email/").content.decode()
    )


def test_erase_page_refuses_a_bad_address(tenant_a):
    owner = Client()
    owner.force_login(tenant_a.owner)
    url = f"/console/{tenant_a.organiser.slug}/privacy/erase-number/"
    response = owner.post(url, {"phone": "guest@"})
    assert response.status_code == 400
    assert emails.INVALID_MESSAGE in response.content.decode()


def test_an_erased_queued_email_is_never_sent(tenant_a, finished):
    message = services.queue_share_email(tenant_a.booth, finished, ADDRESS)
    services.erase_email(tenant_a.organiser, ADDRESS, None)
    message.refresh_from_db()
    services.send_email_message(message)
    assert message.status == EmailMessage.Status.FAILED
    assert mail.outbox == []


def test_retention_erases_addresses_once(sent, tenant_a, time_machine):
    event = tenant_a.event
    time_machine.move_to(retention_cutoff(event) - dt.timedelta(days=1))
    assert services.purge_expired_personal_data() == []
    time_machine.move_to(retention_cutoff(event) + dt.timedelta(days=1))
    assert services.purge_expired_personal_data() == [event]
    sent.refresh_from_db()
    assert sent.to == ""
    assert sent.erased_at is not None
    assert services.purge_expired_personal_data() == []
    entry = AuditEntry.objects.get(action="retention_purge")
    assert entry.detail["emails"] == 1


# -- logs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "sending to guest.name@example.com now",
        "GET /x/?to=guest.name%40example.com",
        "Bounce from <Guest+tag@mail.example.co.uk>",
    ],
)
def test_log_lines_lose_email_addresses(line):
    redacted = logs.redact_text(line)
    assert "example" not in redacted
    assert logs.REDACTED in redacted
