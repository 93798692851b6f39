"""Local file storage whose URLs expire: ``/media/<expiry>.<signature>/<key>``.

With S3 the bucket hands out presigned URLs that live ``BOOTHSITE_MEDIA_URL_TTL``
seconds; this gives local storage the same lifetime, so a page that stops handing out
URLs (a hidden photo, a gallery switched off, a revoked link) stops giving access to its
files within that time. The signature is in the path, not the query string, so the
pages' ``?download=1&name=…`` links keep working unchanged.

Expiries are bucketed: every URL of one file made within the same ``bucket`` seconds
(a fifth of the TTL, 60 s for 300 s) is the same, so browsers cache the image and a page
renders the same HTML, and each lives between ``ttl - bucket`` and ``ttl`` seconds. The
signature is one HMAC-SHA256 over ``<expiry>/<key>`` with a key derived once from
``SECRET_KEY`` and a salt of this purpose (the derivation of Django's ``salted_hmac``),
cut to 128 bits: ``url()`` costs a few microseconds, and a gallery page calls it about
1,600 times; the URLs of the current bucket are remembered (up to ``URL_CACHE_SIZE``), so
a page drawn again within the bucket costs a dictionary lookup per file.
``SECRET_KEY_FALLBACKS`` still verify, so rotating the secret breaks no open page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.encoding import filepath_to_uri, force_bytes

#: The salt of the media-URL key (``salted_hmac``'s ``key_salt``): one per purpose.
SALT = "boothsite.media_storage.SignedFileSystemStorage"
#: Bytes of the HMAC kept in the URL (22 characters of URL-safe base64).
SIGNATURE_BYTES = 16
DEFAULT_TTL = 300
#: URLs remembered per bucket (about 200 bytes each); past it the memory starts again.
URL_CACHE_SIZE = 50_000


def _derive(secret: str | bytes) -> bytes:
    """Return the HMAC key for ``secret``: SHA-256 of the salt and the secret."""
    return hashlib.sha256(SALT.encode() + force_bytes(secret)).digest()


def _signature(key: bytes, expiry: int, uri: str) -> str:
    """Return the URL-safe signature of ``uri`` (a key, URL-encoded) valid until ``expiry``."""
    digest = hmac.new(key, f"{expiry}/{uri}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:SIGNATURE_BYTES]).rstrip(b"=").decode()


class SignedFileSystemStorage(FileSystemStorage):
    """A FileSystemStorage whose ``url(name)`` is signed and expires (see module docstring).

    Options beyond FileSystemStorage's: ``url_ttl``, the lifetime of a URL in seconds
    (default ``settings.BOOTHSITE_MEDIA_URL_TTL``, else 300; at least 1). The files are
    served by ``captures.public_views.media``, which checks ``verify`` first.
    """

    def __init__(self, *args: Any, url_ttl: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ttl = url_ttl if url_ttl is not None else getattr(settings, "BOOTHSITE_MEDIA_URL_TTL", 0)
        self.url_ttl = max(1, int(ttl or DEFAULT_TTL))
        self.url_bucket = max(1, self.url_ttl // 5)
        self._keys: tuple[str | bytes, bytes] = ("", b"")
        # The URLs made in the current bucket, by name: a page drawn again costs a lookup.
        self._urls: dict[str | None, str] = {}
        self._urls_expiry = 0

    def _key(self) -> bytes:
        """Return the current secret's derived key, derived again only if the secret changed.

        A new secret also forgets the URLs made under the old one.
        """
        secret = settings.SECRET_KEY
        if self._keys[0] != secret:
            self._keys = (secret, _derive(secret))
            self._urls = {}
        return self._keys[1]

    def expiry(self, now: float | None = None) -> int:
        """Return the Unix time (s) at which a URL made at ``now`` (default: now) expires.

        ``now + ttl`` rounded down to the bucket: the same for ``bucket`` seconds.
        """
        moment = time.time() if now is None else now
        return int((moment + self.url_ttl) // self.url_bucket) * self.url_bucket

    def url(self, name: str | None) -> str:
        """Return ``<base_url><expiry>.<signature>/<key>``, valid until ``expiry``."""
        expiry = self.expiry()
        key = self._key()
        if expiry != self._urls_expiry or len(self._urls) >= URL_CACHE_SIZE:
            self._urls = {}
            self._urls_expiry = expiry
        elif (url := self._urls.get(name)) is not None:
            return url
        uri = filepath_to_uri(name or "").lstrip("/")
        url = f"{self.base_url}{expiry}.{_signature(key, expiry, uri)}/{uri}"
        self._urls[name] = url
        return url

    def verify(self, token: str, name: str, now: float | None = None) -> int | None:
        """Check the ``<expiry>.<signature>`` path segment of a URL for the file ``name``.

        ``name`` is the key as the URL resolver decoded it. Returns the seconds the URL
        has left (at least 1), or None when the token is malformed, its signature is not
        this file's (under ``SECRET_KEY`` or one of ``SECRET_KEY_FALLBACKS``), or it has
        expired. Constant-time comparison.
        """
        expiry_text, _, given = token.partition(".")
        if not (expiry_text.isascii() and expiry_text.isdigit()) or len(expiry_text) > 12:
            return None
        expiry = int(expiry_text)
        left = expiry - (time.time() if now is None else now)
        if left <= 0:
            return None
        uri = filepath_to_uri(name).lstrip("/")
        keys = [self._key(), *(_derive(old) for old in settings.SECRET_KEY_FALLBACKS)]
        for key in keys:
            if hmac.compare_digest(_signature(key, expiry, uri), given):
                return max(1, int(left))
        return None
