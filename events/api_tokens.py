"""Organiser API tokens (``bsk_…``): create, revoke, the role they carry, DRF auth (issue 15.1).

An owner creates a token in the console (``events.token_views``) or with
``manage.py create_api_token``; it is shown once and only its 8-character lookup prefix
and its SHA-256 are stored. A request made with it acts for the token's user in the
token's organiser with the lower of the token's role and the user's current role there
(``token_role``), and with none once the user has left the team, been deactivated, or
the token has been revoked.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from events import tokens
from events.models import ApiToken, Membership, Organiser
from events.roles import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

TOKEN_PREFIX = tokens.API_TOKEN_PREFIX
#: What every bad ``bsk_`` token gets (401): unknown, revoked and powerless look alike.
INVALID_TOKEN_MESSAGE = "Invalid or revoked API token."  # noqa: S105  (a message)
#: ``last_used_at`` is written at most once per this interval.
LAST_USED_INTERVAL = dt.timedelta(seconds=60)

#: Roles from least to most powerful.
_RANK: dict[str, int] = {Role.VIEWER: 0, Role.MANAGER: 1, Role.OWNER: 2}


def new_api_token() -> tuple[str, str, str]:
    """Return ``(token, lookup_prefix, token_hash)`` for a new ``bsk_`` token."""
    return tokens.new_api_token()


def lower_role(a: str, b: str) -> Role:
    """Return the less powerful of two roles (values of ``Role``)."""
    return Role(a) if _RANK[a] <= _RANK[b] else Role(b)


def role_exceeds(role: str, ceiling: str) -> bool:
    """Tell whether ``role`` grants more than ``ceiling`` (both values of ``Role``)."""
    return _RANK[role] > _RANK[ceiling]


def create_api_token(
    organiser: Organiser,
    user: AbstractBaseUser,
    *,
    name: str,
    role: str = Role.MANAGER,
) -> tuple[ApiToken, str]:
    """Create a token acting for ``user`` in ``organiser``; return ``(row, clear_token)``.

    The clear token is returned once and never stored. ``name`` is stripped and must
    be 1-100 characters. Raises ValidationError when the name is empty or too long,
    the role is not a ``Role``, the user is not a member of the organiser, or ``role``
    is above the user's own role there.
    """
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. “CRM sync”."})
    if len(name) > ApiToken._meta.get_field("name").max_length:  # type: ignore[operator]
        raise ValidationError({"name": "The name is too long (100 characters at most)."})
    if role not in _RANK:
        raise ValidationError({"role": f"Unknown role “{role}”: owner, manager or viewer."})
    membership = Membership.objects.filter(user_id=user.pk, organiser=organiser).first()
    if membership is None:
        raise ValidationError(f"{user} is not a member of {organiser}.")
    if role_exceeds(role, membership.role):
        raise ValidationError(
            {
                "role": f"A token cannot have more rights than its user: {user} is "
                f"{membership.get_role_display().lower()} in {organiser}."
            }
        )
    token, prefix, token_hash = tokens.new_api_token()
    row = ApiToken.objects.create(
        organiser=organiser,
        user_id=user.pk,
        name=name,
        role=role,
        token_prefix=prefix,
        token_hash=token_hash,
    )
    return row, token


def revoke_api_token(token: ApiToken) -> None:
    """Revoke the token now (sets ``revoked_at``); revoking it again changes nothing."""
    if token.revoked_at is not None:
        return
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    token.refresh_from_db(fields=["revoked_at"])


def token_role(token: ApiToken) -> Role | None:
    """Return the role a request made with ``token`` has, or None when it has none.

    The lower of ``token.role`` and the user's current membership role in
    ``token.organiser``; None when the token is revoked, the user is inactive, or the
    user is no longer a member. One query (the membership).
    """
    if token.revoked_at is not None or not token.user.is_active:
        return None
    member_role = (
        Membership.objects.filter(user_id=token.user_id, organiser_id=token.organiser_id)
        .values_list("role", flat=True)
        .first()
    )
    if member_role is None or member_role not in _RANK:
        return None
    return lower_role(token.role, member_role)


def find_api_token(value: str) -> ApiToken | None:
    """Return the unrevoked token whose clear value is ``value``, or None.

    Looked up by its 8-character prefix, compared by hash in constant time. Malformed,
    unknown and revoked tokens all give None.
    """
    if not value.startswith(TOKEN_PREFIX):
        return None
    prefix = value[len(TOKEN_PREFIX) :][:8]
    if len(prefix) < 8:
        return None
    wanted = tokens.hash_secret(value)
    for token in (
        ApiToken.objects.usable().select_related("user", "organiser").filter(token_prefix=prefix)
    ):
        if hmac.compare_digest(token.token_hash, wanted):
            return token
    return None


def touch_api_token(token: ApiToken) -> None:
    """Set ``last_used_at`` to now unless it was set within ``LAST_USED_INTERVAL``.

    One conditional UPDATE at most (none when the in-memory value is recent), so a
    busy token does not write on every request.
    """
    now = timezone.now()
    cutoff = now - LAST_USED_INTERVAL
    if token.last_used_at is not None and token.last_used_at >= cutoff:
        return
    updated = ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=cutoff), pk=token.pk
    ).update(last_used_at=now)
    if updated:
        token.last_used_at = now


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Authenticate ``Authorization: Bearer bsk_…`` (or ``Token bsk_…``).

    Returns ``(token.user, token)``, so ``request.auth`` is the ``ApiToken``; views
    get its effective role from ``token_role``. No header, another scheme, or a
    Bearer/Token value that is not a ``bsk_`` token gives None, so session and booth
    authentication can try. A ``bsk_`` token that is unknown, revoked or without a role
    (user left or inactive) raises AuthenticationFailed (401, ``INVALID_TOKEN_MESSAGE``).
    """

    keywords = ("Bearer", "Token")

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        parts = header.split()
        if not parts or parts[0] not in self.keywords:
            return None
        if len(parts) == 1:
            return None
        if not parts[1].startswith(TOKEN_PREFIX):
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN_MESSAGE)
        token = find_api_token(parts[1])
        if token is None or token_role(token) is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN_MESSAGE)
        touch_api_token(token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Documents ``ApiTokenAuthentication`` as the http bearer scheme ``ApiToken``."""

    target_class = "events.api_tokens.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        definition: dict[str, Any] = build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Bearer",  # noqa: S106  (a scheme name)
        )
        definition["description"] = (
            "An organiser API token: `Authorization: Bearer bsk_…`. Owners create "
            "tokens in the console (API tokens) or with `manage.py create_api_token`."
        )
        return definition
