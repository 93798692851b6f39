"""Organiser API tokens (issue 15.1): the DRF authentication, the console page, the command.

The authentication is exercised end to end through a tiny DRF view in this module
(``urlpatterns`` below, used with ``@pytest.mark.urls``); the real organiser API is
tested with its own views.
"""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from events import api_tokens, services
from events.api_tokens import ApiTokenAuthentication, create_api_token, token_role
from events.models import ApiToken, Membership
from events.roles import Role
from tests import factories

pytestmark = pytest.mark.django_db

INVALID = "Invalid or revoked API token."


class WhoAmI(APIView):
    """Says who the request acts for, and with which role (a test-only view)."""

    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        token = request.auth if isinstance(request.auth, ApiToken) else None
        return Response(
            {
                "user": request.user.get_username(),
                "token": str(token.public_id) if token else None,
                "role": token_role(token) if token else None,
            }
        )


urlpatterns = [path("whoami/", WhoAmI.as_view())]
api_urls = pytest.mark.urls(__name__)


def call(header: str | None = None, client: APIClient | None = None):
    client = client or APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client.get("/whoami/")


# -- creating, roles ----------------------------------------------------------------------


def test_create_stores_only_prefix_and_hash(tenant_a):
    token, secret = create_api_token(tenant_a.organiser, tenant_a.owner, name="  CRM sync ")
    assert re.fullmatch(r"bsk_[A-Za-z0-9_-]{43}", secret)
    assert token.name == "CRM sync"
    assert token.role == Role.MANAGER
    assert token.token_prefix == secret[4:12]
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert secret not in {str(value) for value in stored.values()}
    assert api_tokens.find_api_token(secret) == token


def test_create_refuses_a_role_above_the_users(tenant_a):
    manager = factories.make_member(tenant_a.organiser, Role.MANAGER, username="mia")
    with pytest.raises(Exception, match="more rights than its user") as info:
        create_api_token(tenant_a.organiser, manager, name="x", role=Role.OWNER)
    assert type(info.value).__name__ == "ValidationError"
    assert not ApiToken.objects.exists()


def test_create_refuses_a_non_member_and_an_empty_name(tenant_a, tenant_b):
    with pytest.raises(Exception, match="not a member"):
        create_api_token(tenant_a.organiser, tenant_b.owner, name="x")
    with pytest.raises(Exception, match="name"):
        create_api_token(tenant_a.organiser, tenant_a.owner, name="   ")
    assert not ApiToken.objects.exists()


def test_revoke_is_idempotent(tenant_a):
    token, _ = create_api_token(tenant_a.organiser, tenant_a.owner, name="x")
    api_tokens.revoke_api_token(token)
    first = token.revoked_at
    assert first is not None
    api_tokens.revoke_api_token(token)
    token.refresh_from_db()
    assert token.revoked_at == first


# -- the authentication, end to end --------------------------------------------------------


@api_urls
def test_valid_bearer_token_authenticates_as_its_user(tenant_a):
    token, secret = create_api_token(tenant_a.organiser, tenant_a.owner, name="x")
    response = call(f"Bearer {secret}")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "user": tenant_a.owner.username,
        "token": str(token.public_id),
        "role": "manager",
    }


@api_urls
def test_token_scheme_is_accepted_too(tenant_a):
    _, secret = create_api_token(tenant_a.organiser, tenant_a.owner, name="x")
    assert call(f"Token {secret}").status_code == 200


@api_urls
@pytest.mark.parametrize(
    "header",
    [
        "Bearer bsk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # unknown
        "Bearer bsk_short",  # malformed
        "Bearer bsk_AAAAAAAAAAAA extra",  # two values
    ],
)
def test_unknown_or_malformed_token_is_401(tenant_a, header):
    response = call(header)
    assert response.status_code == 401
    assert response.json() == {"detail": INVALID}
    assert response["WWW-Authenticate"] == "Bearer"


@api_urls
def test_revoked_token_is_401_like_an_unknown_one(tenant_a):
    token, secret = create_api_token(tenant_a.organiser, tenant_a.owner, name="x")
    api_tokens.revoke_api_token(token)
    response = call(f"Bearer {secret}")
    assert response.status_code == 401
    assert response.json() == {"detail": INVALID}


@api_urls
def test_a_wrong_secret_with_a_real_prefix_is_401(tenant_a):
    _, secret = create_api_token(tenant_a.organiser, tenant_a.owner, name="x")
    forged = secret[:12] + ("A" if secret[12] != "A" else "B") + secret[13:]
    response = call(f"Bearer {forged}")
    assert response.status_code == 401
    assert response.json() == {"detail": INVALID}


@api_urls
@pytest.mark.parametrize(
    "header", [None, "Basic dXNlcjpwYXNz", "Booth bth_whatever", "Bearer not-a-bsk-token"]
)
def test_other_schemes_are_left_to_other_authenticators(tenant_a, header):
    anonymous = call(header)
    assert anonymous.status_code == 401
    assert anonymous.json()["detail"] != INVALID
    # Session authentication still answers for a signed-in user with such a header.
    client = APIClient()
    client.force_login(tenant_a.viewer)
    signed_in = call(header, client)
    assert signed_in.status_code == 200
    assert signed_in.json() == {"user": tenant_a.viewer.username, "token": None, "role": None}


@api_urls
def test_role_is_capped_by_the_users_current_role(tenant_a):
    _, owner_secret = create_api_token(
        tenant_a.organiser, tenant_a.owner, name="full", role=Role.OWNER
    )
    _, viewer_secret = create_api_token(
        tenant_a.organiser, tenant_a.owner, name="read", role=Role.VIEWER
    )
    assert call(f"Bearer {owner_secret}").json()["role"] == "owner"
    assert call(f"Bearer {viewer_secret}").json()["role"] == "viewer"
    factories.make_member(tenant_a.organiser, Role.OWNER, username="otto")  # not the last owner
    services.change_role(
        Membership.objects.get(user=tenant_a.owner, organiser=tenant_a.organiser), Role.MANAGER
    )
    assert call(f"Bearer {owner_secret}").json()["role"] == "manager"
    assert call(f"Bearer {viewer_secret}").json()["role"] == "viewer"


@api_urls
def test_token_stops_working_when_its_user_leaves_the_team(tenant_a):
    manager = factories.make_member(tenant_a.organiser, Role.MANAGER, username="mia")
    _, secret = create_api_token(tenant_a.organiser, manager, name="x")
    assert call(f"Bearer {secret}").status_code == 200
    services.remove_member(Membership.objects.get(user=manager))
    response = call(f"Bearer {secret}")
    assert response.status_code == 401
    assert response.json() == {"detail": INVALID}


@api_urls
def test_token_of_an_inactive_user_is_401(tenant_a):
    _, secret = create_api_token(tenant_a.organiser, tenant_a.owner, name="x")
    User.objects.filter(pk=tenant_a.owner.pk).update(is_active=False)
    assert call(f"Bearer {secret}").status_code == 401


def updates_of_tokens(queries: CaptureQueriesContext) -> list[str]:
    table = ApiToken._meta.db_table
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith(f'UPDATE "{table}"')]


@api_urls
def test_last_used_at_is_written_at_most_once_a_minute(tenant_a):
    token, secret = create_api_token(tenant_a.organiser, tenant_a.owner, name="x")
    assert token.last_used_at is None
    with CaptureQueriesContext(connection) as first:
        assert call(f"Bearer {secret}").status_code == 200
    used = ApiToken.objects.get(pk=token.pk).last_used_at
    assert used is not None
    assert len(updates_of_tokens(first)) == 1
    with CaptureQueriesContext(connection) as again:
        assert call(f"Bearer {secret}").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at == used
    assert updates_of_tokens(again) == []
    earlier = timezone.now() - dt.timedelta(seconds=61)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    assert call(f"Bearer {secret}").status_code == 200
    touched = ApiToken.objects.get(pk=token.pk).last_used_at
    assert touched is not None
    assert touched > earlier + dt.timedelta(seconds=30)


@api_urls
def test_schema_documents_an_http_bearer_scheme_named_api_token():
    schema = SchemaGenerator(patterns=urlpatterns).get_schema(request=None, public=True)
    scheme = schema["components"]["securitySchemes"]["ApiToken"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert {"ApiToken": []} in schema["paths"]["/whoami/"]["get"]["security"]


# -- the console page ----------------------------------------------------------------------


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def create(client: Client, org: str = "alpha", name: str = "CRM sync", role: str = "manager"):
    return client.post(f"/console/{org}/api-tokens/", {"name": name, "role": role})


def shown_token(response) -> str:
    match = re.search(
        r'<code id="api-token"[^>]*>(bsk_[A-Za-z0-9_-]+)</code>', response.content.decode()
    )
    assert match, response.content.decode()[:2000]
    return match.group(1)


def test_create_shows_the_token_once_and_the_list_never(tenant_a):
    client = client_for(tenant_a.owner)
    response = create(client)
    assert response.status_code == 200
    secret = shown_token(response)
    body = response.content.decode()
    assert "will not be shown again" in body
    assert 'data-copy="#api-token"' in body
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get()
    assert (token.name, token.role, token.user) == ("CRM sync", "manager", tenant_a.owner)
    assert api_tokens.find_api_token(secret) == token
    listing = client.get("/console/alpha/api-tokens/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert secret not in page
    assert secret[4:] not in page
    assert f"bsk_{token.token_prefix}…" in page
    assert "CRM sync" in page
    assert tenant_a.owner.username in page
    assert "Never" in page  # last used


def test_create_with_an_empty_name_is_400_and_stores_nothing(tenant_a):
    response = create(client_for(tenant_a.owner), name="")
    assert response.status_code == 400
    assert not ApiToken.objects.exists()
    assert 'id="api-token"' not in response.content.decode()


def test_revoke_from_the_console(tenant_a):
    client = client_for(tenant_a.owner)
    secret = shown_token(create(client))
    token = ApiToken.objects.get()
    response = client.post(f"/console/alpha/api-tokens/{token.public_id}/")
    assert response.status_code == 302
    assert response["Location"] == "/console/alpha/api-tokens/"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_tokens.find_api_token(secret) is None
    again = client.post(f"/console/alpha/api-tokens/{token.public_id}/", follow=True)
    assert "already revoked" in again.content.decode()
    assert client.get(f"/console/alpha/api-tokens/{token.public_id}/").status_code == 405


@pytest.mark.parametrize("role", [Role.MANAGER, Role.VIEWER])
def test_managers_and_viewers_get_403(tenant_a, role):
    token, _ = create_api_token(tenant_a.organiser, tenant_a.owner, name="x")
    client = client_for(factories.make_member(tenant_a.organiser, role, username=f"as-{role}"))
    assert client.get("/console/alpha/api-tokens/").status_code == 403
    assert create(client).status_code == 403
    assert client.post(f"/console/alpha/api-tokens/{token.public_id}/").status_code == 403
    assert ApiToken.objects.get().revoked_at is None
    assert ApiToken.objects.count() == 1


def test_another_organisers_token_answers_like_a_missing_one(tenant_a, tenant_b):
    foreign, _ = create_api_token(tenant_a.organiser, tenant_a.owner, name="Alpha CRM")
    client = client_for(tenant_b.owner)
    across = client.post(f"/console/bravo/api-tokens/{foreign.public_id}/")
    missing = client.post("/console/bravo/api-tokens/00000000-0000-4000-8000-000000000000/")
    malformed = client.post("/console/bravo/api-tokens/not-a-uuid/")
    other_org = client.post(f"/console/alpha/api-tokens/{foreign.public_id}/")
    assert across.status_code == missing.status_code == malformed.status_code == 404
    assert other_org.status_code == 404
    assert across.content == missing.content == malformed.content
    assert client.get("/console/alpha/api-tokens/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None
    assert b"Alpha CRM" not in client.get("/console/bravo/api-tokens/").content


def test_list_is_paginated_past_50(tenant_a):
    for n in range(51):
        create_api_token(tenant_a.organiser, tenant_a.owner, name=f"token {n:02}")
    client = client_for(tenant_a.owner)
    first = client.get("/console/alpha/api-tokens/").content.decode()
    second = client.get("/console/alpha/api-tokens/?page=2").content.decode()
    assert "Page 1 of 2" in first
    assert first.count('class="row-form"') == 50
    assert second.count('class="row-form"') == 1


# -- the management command ----------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue()


def test_command_prints_the_token_alone_on_the_first_line(tenant_a):
    out = run("owner-alpha", "--organiser", "alpha", "--role", "viewer", "--name", "Backup")
    first = out.splitlines()[0]
    assert re.fullmatch(r"bsk_[A-Za-z0-9_-]{43}", first)
    token = api_tokens.find_api_token(first)
    assert token is not None
    assert (token.name, token.role, token.user, token.organiser) == (
        "Backup",
        "viewer",
        tenant_a.owner,
        tenant_a.organiser,
    )


def test_command_defaults_to_a_manager_token(tenant_a):
    token = api_tokens.find_api_token(run("owner-alpha", "--organiser", "alpha").splitlines()[0])
    assert token is not None
    assert token.role == Role.MANAGER


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nobody", "--organiser", "alpha"), "No user named “nobody”"),
        (("owner-alpha", "--organiser", "nowhere"), "No organiser with the slug “nowhere”"),
        (("owner-bravo", "--organiser", "alpha"), "not a member"),
        (("viewer-alpha", "--organiser", "alpha"), "more rights than its user"),
        (("viewer-alpha", "--organiser", "alpha", "--role", "owner"), "more rights"),
    ],
)
def test_command_errors(tenant_a, tenant_b, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not ApiToken.objects.exists()
