"""Login guessing limits: django-axes in front of Django's own password check.

``settings.AUTHENTICATION_BACKENDS`` lists ``LoginLockoutBackend`` first and
``ModelBackend`` after it. Failed sign-ins to the console (``/console/login/``) and the
admin (``/admin/login/``) are counted per username and client address together
(``AXES_LOCKOUT_PARAMETERS``; the address from ``events.clientip``). After
``AXES_FAILURE_LIMIT`` failures that pair is refused, even with the right password, for
``AXES_COOLOFF_TIME``, and the sign-in page answers 429 with ``Retry-After``
(``events.views.login_locked_out``).
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend  # type: ignore[import-untyped]
from django.http import HttpRequest


class LoginLockoutBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """django-axes' lockout check, for sign-ins that come with a request.

    Every sign-in over HTTP passes its request to ``authenticate()`` (Django's login
    views, the admin, DRF). A call without one (``Client.login`` in tests, a shell) is
    no guess from the internet: this backend then steps aside (returns None) and the
    next backend checks the password, where axes' own backend would raise ValueError.
    Returns None or raises ``AxesBackendPermissionDenied`` (a PermissionDenied, which
    stops ``authenticate()``) for a locked-out username and address.
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
