"""The team (issue 13.2): invitations by email, roles, removing members, the last owner."""

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
from events.models import Invitation, Membership
from events.roles import Role
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-party-password-7"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def invite(client: Client, email: str = "vic@example.com", role: str = "viewer", org="alpha"):
    return client.post(f"/console/{org}/team/", {"email": email, "role": role})


def invitation_path() -> str:
    match = re.search(r"https?://\S+?(/invite/\S+/)", str(mail.outbox[-1].body))
    assert match, mail.outbox[-1].body
    return match.group(1)


def member_url(membership: Membership, org: str = "alpha") -> str:
    return f"/console/{org}/team/members/{membership.public_id}/"


def membership_of(user: User) -> Membership:
    return Membership.objects.get(user=user)


def test_an_owner_invites_by_email_and_only_a_hash_is_kept(tenant_a):
    response = invite(client_for(tenant_a.owner))
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.organiser) == (
        "vic@example.com",
        "viewer",
        tenant_a.organiser,
    )
    assert mail.outbox[-1].to == ["vic@example.com"]
    assert "Organiser alpha" in mail.outbox[-1].subject
    token = invitation_path().split("/")[2]
    assert token.startswith("inv_")
    assert token not in str(list(Invitation.objects.values()))
    assert len(invitation.token_hash) == 64
    expected = timezone.now() + dt.timedelta(days=7)
    assert abs((invitation.expires_at - expected).total_seconds()) < 60


def test_a_bad_address_or_an_existing_member_is_refused_in_words(tenant_a):
    owner = client_for(tenant_a.owner)
    bad = invite(owner, email="not-an-address")
    assert bad.status_code == 400
    assert "Enter a valid email address." in bad.content.decode()
    EmailAddress.objects.create(user=tenant_a.viewer, email="vee@example.com", verified=True)
    member = invite(owner, email="Vee@Example.com")
    assert member.status_code == 400
    assert "vee@example.com is already a member of Organiser alpha." in member.content.decode()
    assert not Invitation.objects.exists()


def test_a_signed_in_user_accepts_once_with_the_role_given(tenant_a):
    invite(client_for(tenant_a.owner), role="manager")
    path = invitation_path()
    newcomer = factories.make_user(username="vic")
    client = client_for(newcomer)
    page = client.get(path)
    assert page.status_code == 200
    assert "Join Organiser alpha" in page.content.decode()
    assert page["Cache-Control"] == "no-store"
    accepted = client.post(path)
    assert accepted["Location"] == "/console/alpha/"
    assert membership_of(newcomer).role == Role.MANAGER
    again = client_for(factories.make_user()).post(path)
    assert again.status_code == 410
    assert "This invitation no longer works" in again.content.decode()
    assert client.get(path).status_code == 410


def test_an_expired_or_cancelled_link_answers_410_and_an_unknown_one_404(tenant_a, time_machine):
    owner = client_for(tenant_a.owner)
    invite(owner)
    expired_path = invitation_path()
    invite(owner, email="other@example.com")
    cancelled_path = invitation_path()
    cancelled = Invitation.objects.get(email="other@example.com")
    url = f"/console/alpha/team/invitations/{cancelled.public_id}/"
    assert owner.post(url, {"action": "cancel"}).status_code == 302
    assert Client().get(cancelled_path).status_code == 410
    time_machine.move_to(timezone.now() + dt.timedelta(days=8))
    user = client_for(factories.make_user())
    assert user.get(expired_path).status_code == 410
    assert user.post(expired_path).status_code == 410
    assert Client().get("/invite/inv_no-such-token/").status_code == 404
    assert Client().get("/invite/anything/signup/").status_code == 404
    assert (
        not Membership.objects.filter(organiser=tenant_a.organiser, role="viewer")
        .exclude(user=tenant_a.viewer)
        .exists()
    )


def test_sending_again_replaces_the_link(tenant_a):
    owner = client_for(tenant_a.owner)
    invite(owner)
    old_path = invitation_path()
    invitation = Invitation.objects.get()
    url = f"/console/alpha/team/invitations/{invitation.public_id}/"
    assert owner.post(url, {"action": "resend"}).status_code == 302
    new_path = invitation_path()
    assert new_path != old_path
    assert Client().get(old_path).status_code == 404
    assert Client().get(new_path).status_code == 200


def test_an_invited_person_signs_up_with_the_invited_address_and_is_in(tenant_a):
    invite(client_for(tenant_a.owner))
    path = invitation_path()
    visitor = Client()
    page = visitor.get(path).content.decode()
    assert f'href="{path}signup/"' in page
    form = visitor.get(path + "signup/").content.decode()
    assert 'value="vic@example.com"' in form
    assert "Organiser name" not in form  # joining, not creating an organiser
    body = {"email": "vic@example.com", "password1": PASSWORD, "password2": PASSWORD}
    signed_up = visitor.post(path + "signup/", body)
    assert signed_up.status_code == 302
    user = User.objects.get(email="vic@example.com")
    assert membership_of(user).role == Role.VIEWER
    assert EmailAddress.objects.get(user=user).verified  # the link reached that inbox
    home = visitor.get("/console/")
    assert home.status_code == 200
    assert "<h1>Organiser alpha</h1>" in home.content.decode()
    assert Client().get(path).status_code == 410


def test_an_invited_person_with_another_address_verifies_it_first(tenant_a):
    invite(client_for(tenant_a.owner))
    path = invitation_path()
    visitor = Client()
    body = {"email": "vic@elsewhere.example", "password1": PASSWORD, "password2": PASSWORD}
    response = visitor.post(path + "signup/", body)
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="vic@elsewhere.example")
    assert membership_of(user).role == Role.VIEWER
    assert mail.outbox[-1].to == ["vic@elsewhere.example"]
    assert list(EmailAddress.objects.values_list("email", "verified")) == [
        ("vic@elsewhere.example", False)  # the invited address is not added
    ]
    visitor.force_login(user)
    assert visitor.get("/console/").status_code == 403


def test_an_owner_changes_a_role_and_removes_a_member(tenant_a):
    owner = client_for(tenant_a.owner)
    viewer = membership_of(tenant_a.viewer)
    prefix = str(viewer.public_id)
    changed = owner.post(member_url(viewer), {"action": "role", f"{prefix}-role": "manager"})
    assert changed.status_code == 302
    viewer.refresh_from_db()
    assert viewer.role == Role.MANAGER
    bad = owner.post(member_url(viewer), {"action": "role", f"{prefix}-role": "emperor"})
    assert bad.status_code == 400
    assert owner.post(member_url(viewer), {"action": "remove"}).status_code == 302
    assert not Membership.objects.filter(pk=viewer.pk).exists()
    assert client_for(tenant_a.viewer).get("/console/alpha/").status_code == 404


def test_the_last_owner_can_neither_leave_nor_be_demoted(tenant_a):
    owner = client_for(tenant_a.owner)
    mine = membership_of(tenant_a.owner)
    prefix = str(mine.public_id)
    for body in [{"action": "remove"}, {"action": "role", f"{prefix}-role": "viewer"}]:
        refused = owner.post(member_url(mine), body)
        assert refused.status_code == 409
        assert "An organiser needs at least one owner" in refused.content.decode()
    mine.refresh_from_db()
    assert mine.role == Role.OWNER
    second = factories.make_member(tenant_a.organiser, Role.OWNER)
    assert owner.post(member_url(mine), {"action": "remove"})["Location"] == "/console/"
    assert membership_of(second).role == Role.OWNER


def test_viewers_and_managers_see_the_team_but_cannot_change_it(tenant_a):
    manager = factories.make_member(tenant_a.organiser, Role.MANAGER)
    owner = membership_of(tenant_a.owner)
    for user in [tenant_a.viewer, manager]:
        client = client_for(user)
        page = client.get("/console/alpha/team/")
        assert page.status_code == 200
        assert "owner-alpha" in page.content.decode()
        assert "Invite someone" not in page.content.decode()
        body = {"action": "role", f"{owner.public_id}-role": "viewer"}
        assert client.post(member_url(owner), body).status_code == 403
        assert client.post(member_url(owner), {"action": "remove"}).status_code == 403
        assert invite(client).status_code == 403
    owner.refresh_from_db()
    assert owner.role == Role.OWNER
    assert not Invitation.objects.exists()
    # Anyone may leave.
    leave = client_for(tenant_a.viewer).post(
        member_url(membership_of(tenant_a.viewer)), {"action": "remove"}
    )
    assert leave["Location"] == "/console/"


def test_another_organisers_team_members_and_invitations_answer_404(tenant_a, tenant_b):
    services.invite_member(
        tenant_a.organiser, email="x@example.com", role=Role.VIEWER, invited_by=None
    )
    invitation = Invitation.objects.get()
    outsider = client_for(tenant_b.owner)
    viewer_a = membership_of(tenant_a.viewer)
    pages = [
        ("get", "/console/alpha/team/", {}),
        ("post", "/console/alpha/team/", {"email": "y@example.com", "role": "owner"}),
        ("post", member_url(viewer_a), {"action": "remove"}),
        # A's member through B's own team page: not B's member, so missing.
        ("post", member_url(viewer_a, org="bravo"), {"action": "remove"}),
        ("post", f"/console/bravo/team/invitations/{invitation.public_id}/", {"action": "cancel"}),
        ("post", "/console/bravo/team/members/not-a-uuid/", {"action": "remove"}),
    ]
    answers = [getattr(outsider, method)(url, body) for method, url, body in pages]
    assert [answer.status_code for answer in answers] == [404] * len(pages)
    assert Membership.objects.filter(pk=viewer_a.pk).exists()
    invitation.refresh_from_db()
    assert invitation.cancelled_at is None
    assert Invitation.objects.count() == 1


def test_invitation_and_account_links_are_redacted_in_logs():
    from boothsite.logs import redact_path

    for path, kept in [
        ("/invite/inv_ZH5Ou-U4jTzm9oY5-meeTA/", "/invite/"),
        ("/invite/inv_ZH5Ou-U4jTzm9oY5-meeTA/signup/", "/invite/"),
        ("/accounts/confirm-email/MQ:1tH3x:abcdefghijkl/", "/accounts/confirm-email/"),
        ("/accounts/password/reset/key/1-ab12cd-0123abcdef/", "/accounts/password/reset/key/"),
    ]:
        redacted = redact_path(path)
        assert redacted.startswith(kept + "<redacted>"), redacted
        assert path[len(kept) : len(kept) + 6] not in redacted
