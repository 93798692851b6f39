"""Expected domain errors; entry points turn them into 4xx answers."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected, user-facing error. ``message`` is safe to show.

    ``status_code`` is the HTTP status entry points answer with, ``code`` a short machine
    code, and ``retry_after`` (seconds, or None) when the client may try again.
    """

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = None if retry_after is None else max(1, retry_after)

    def headers(self) -> dict[str, str]:
        """Return the HTTP headers of the answer: ``Retry-After`` when one is known."""
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


class PairingFailed(DomainError):
    code = "pairing_failed"


class IdempotencyKeyInvalid(DomainError):
    """The ``Idempotency-Key`` header is empty, too long or not visible ASCII (400)."""

    code = "idempotency_key_invalid"


class IdempotencyKeyInUse(DomainError):
    """The first request with this key is still running (409, retry after a moment)."""

    status_code = 409
    code = "idempotency_key_in_use"


class IdempotencyKeyReused(DomainError):
    """The key was used for another route or another body (422)."""

    status_code = 422
    code = "idempotency_key_reused"


class ThrottleUnavailable(DomainError):
    """An anonymous endpoint's rate limit cannot be counted (its cache is down): 503."""

    status_code = 503
    code = "throttle_unavailable"


class InvitationGone(DomainError):
    """The invitation link was used, cancelled or has expired (410)."""

    status_code = 410
    code = "invitation_gone"


class LastOwner(DomainError):
    """The change would leave the organiser without an owner (409)."""

    status_code = 409
    code = "last_owner"


class LinkGone(DomainError):
    """A guest link that worked once no longer does (410).

    Raised for a gallery link replaced by a new one, revoked or past its expiry, and for
    a gallery, share page or photo past the event's retention. ``message`` is the same
    kind of sentence for every event: it never tells which event the link was for.
    """

    status_code = 410
    code = "link_gone"
