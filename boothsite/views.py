"""Site-wide pages outside the apps: the favicon at the address browsers ask for on their own."""

from __future__ import annotations

import functools
from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

#: The icon in ``static/`` that ``/favicon.ico`` answers with (base.html links it too).
FAVICON = "favicon.ico"
#: How long browsers may keep the icon, in seconds (a day).
FAVICON_MAX_AGE = 86_400


@functools.cache
def _favicon_bytes() -> bytes:
    """Return the icon's bytes, read once from the static folders (with DEBUG on or off)."""
    found = finders.find(FAVICON)
    if not isinstance(found, str):
        msg = f"static/{FAVICON} is missing"
        raise FileNotFoundError(msg)
    return Path(found).read_bytes()


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Answer ``/favicon.ico`` (GET or HEAD) with the site's icon, ``image/x-icon``, 200.

    Browsers ask for it on every site whatever the page links, so it must not be a 404
    (issue 12.8). Served from the source's ``static/`` through the staticfiles finders,
    so it needs no ``collectstatic`` and works with DEBUG off. Other methods get 405.
    """
    response = HttpResponse(_favicon_bytes(), content_type="image/x-icon")
    response["Cache-Control"] = f"public, max-age={FAVICON_MAX_AGE}"
    return response
