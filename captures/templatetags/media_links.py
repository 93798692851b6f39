"""Template filters for links to stored media."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.filter
def download_url(url: str) -> str:
    """Return a link that downloads rather than shows a locally served file.

    Signed S3 URLs are returned unchanged: an extra query parameter would break the
    signature, and the ``download`` attribute on the link does the rest.
    """
    if settings.BOOTHSITE_STORAGE == "local" and url and "?" not in url:
        return f"{url}?download=1"
    return url
