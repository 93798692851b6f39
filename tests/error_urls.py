"""The site's URLs plus views that fail on purpose, to see the error pages (ROOT_URLCONF).

Used by tests/test_error_pages.py and by the DEBUG-off daphne of tests/browser/test_edges.py.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

#: In the message of the crash, so a test can check that the 500 page never shows it.
CRASH_DETAIL = "SECRET-DETAIL"


def crash(request: HttpRequest) -> HttpResponse:
    msg = f"a bug in a view, with {CRASH_DETAIL} in its message"
    raise RuntimeError(msg)


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def suspicious(request: HttpRequest) -> HttpResponse:
    msg = f"a tampered request ({CRASH_DETAIL})"
    raise SuspiciousOperation(msg)


urlpatterns = [
    path("test-errors/400/", suspicious),
    path("test-errors/403/", forbidden),
    path("test-errors/500/", crash),
    path("", include("boothsite.urls")),
]
