"""Sign-in: django-axes in front of the password check, allauth's flows, verified email.

``settings.AUTHENTICATION_BACKENDS`` lists ``LoginLockoutBackend`` first, then Django's
``ModelBackend`` and allauth's (which also takes an email address). Failed sign-ins to
the console (``/console/login/``, allauth's login view) and the admin (``/admin/login/``)
are counted per username and client address together (``AXES_LOCKOUT_PARAMETERS``; the
address from ``events.clientip``). After ``AXES_FAILURE_LIMIT`` failures that pair is
refused, even with the right password, for ``AXES_COOLOFF_TIME``, and the sign-in page
answers 429 with ``Retry-After`` (``events.views.login_locked_out``).

Email verification: allauth refuses a password sign-in until the user's address is
verified (``ACCOUNT_EMAIL_VERIFICATION = "mandatory"``), and ``VerifiedEmailMiddleware``
keeps a session that was opened some other way (the admin's sign-in) out of the console.
Accounts that have no allauth address at all were made by staff (admin, shell,
``seed_demo``'s older runs) and are exempt from both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from allauth.account.adapter import DefaultAccountAdapter  # type: ignore[import-untyped]
from allauth.account.internal.flows.email_verification import (  # type: ignore[import-untyped]
    send_verification_email_for_user,
)
from allauth.account.models import EmailAddress  # type: ignore[import-untyped]
from allauth.account.stages import EmailVerificationStage  # type: ignore[import-untyped]
from axes.backends import AxesStandaloneBackend  # type: ignore[import-untyped]
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject

from events import clientip
from events.models import Membership, Organiser

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

#: The session key holding the primary key of the organiser the console shows.
CURRENT_ORGANISER_SESSION_KEY = "boothsite_organiser"

#: Console paths a signed-in user with an unverified address may still open.
_OPEN_CONSOLE_PATHS = ("/console/login/", "/console/logout/")


class LoginLockoutBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """django-axes' lockout check, for sign-ins that come with a request.

    Every sign-in over HTTP passes its request to ``authenticate()`` (allauth's and
    Django's login views, the admin, DRF). A call without one (``Client.login`` in tests,
    a shell) is no guess from the internet: this backend then steps aside (returns None)
    and the next backend checks the password, where axes' own backend would raise
    ValueError. Returns None or raises ``AxesBackendPermissionDenied`` (a
    PermissionDenied, which stops ``authenticate()``) for a locked-out username and
    address.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return
        super().authenticate(request, username=username, password=password, **kwargs)
        return


def needs_verified_email(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Return whether ``user`` has allauth addresses and none of them is verified.

    False for anonymous users and for accounts with no allauth address (made by staff).
    """
    if not user.is_authenticated:
        return False
    verified = list(EmailAddress.objects.filter(user_id=user.pk).values_list("verified", flat=True))
    return bool(verified) and not any(verified)


class StaffAccountAwareEmailVerificationStage(EmailVerificationStage):  # type: ignore[misc]
    """allauth's mandatory-verification stage, skipped for accounts with no address.

    A user created in the admin or the shell has no allauth ``EmailAddress``; allauth
    would send them nowhere and refuse the sign-in forever. Everyone else (every sign-up
    and every invited member) must have verified an address before signing in.
    """

    def handle(self) -> tuple[HttpResponse | None, bool]:
        user = self.login.user
        if user is not None and not EmailAddress.objects.filter(user_id=user.pk).exists():
            return None, True
        response, carry_on = super().handle()
        return response, carry_on


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    """allauth's adapter with the project's rules.

    - Client addresses (allauth's rate limits) come from ``events.clientip``, the one
      rule every limit uses; PermissionDenied (403) when the server gave none.
    - The email-verification stage exempts staff-made accounts (see above).
    """

    def get_client_ip(self, request: HttpRequest) -> str:
        address = clientip.client_ip(request)
        if not address:
            msg = "Unable to determine the client's address."
            raise PermissionDenied(msg)
        return address

    def get_login_stages(self) -> list[str]:
        allauths = "allauth.account.stages.EmailVerificationStage"
        ours = f"{__name__}.StaffAccountAwareEmailVerificationStage"
        return [ours if stage == allauths else stage for stage in super().get_login_stages()]


class VerifiedEmailMiddleware:
    """Keep users whose address is not verified out of the console (403 and a new link).

    Applies to ``/console/…`` except sign-in and sign-out, for signed-in users for whom
    ``needs_verified_email`` holds: allauth sends the verification email again (its own
    cooldown limits how often) and the page says so. Place after
    ``AuthenticationMiddleware``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.path.startswith("/console/")
            and not request.path.startswith(_OPEN_CONSOLE_PATHS)
            and needs_verified_email(request.user)
        ):
            send_verification_email_for_user(request, request.user)
            return render(request, "account/verified_email_required.html", status=403)
        return self.get_response(request)


def current_organiser(request: HttpRequest) -> Organiser | None:
    """Return the organiser the console shows ``request.user``, or None.

    The one remembered in the session (``events:switch-organiser``, or the last
    organiser home opened) while the user is still its member; else the user's only
    organiser; else None (no organiser, or several and none chosen).
    """
    if not request.user.is_authenticated:
        return None
    memberships = list(
        Membership.objects.filter(user_id=request.user.pk).select_related("organiser")
    )
    remembered = request.session.get(CURRENT_ORGANISER_SESSION_KEY)
    for membership in memberships:
        if membership.organiser_id == remembered:
            return membership.organiser
    return memberships[0].organiser if len(memberships) == 1 else None


def remember_organiser(request: HttpRequest, organiser: Organiser) -> None:
    """Make ``organiser`` the one the console shows next (stored in the session)."""
    if request.session.get(CURRENT_ORGANISER_SESSION_KEY) != organiser.pk:
        request.session[CURRENT_ORGANISER_SESSION_KEY] = organiser.pk


def console_context(request: HttpRequest) -> dict[str, Any]:
    """Template context for the console's navigation (a context processor).

    ``console_memberships``: the signed-in user's memberships with their organisers, by
    organiser name; ``console_organiser``: ``current_organiser(request)``. Both are
    lazy: pages that do not show the navigation run no query.
    """
    return {
        "console_memberships": SimpleLazyObject(
            lambda: (
                list(
                    Membership.objects.filter(user_id=request.user.pk)
                    .select_related("organiser")
                    .order_by("organiser__name")
                )
                if request.user.is_authenticated
                else []
            )
        ),
        "console_organiser": SimpleLazyObject(lambda: current_organiser(request)),
    }
