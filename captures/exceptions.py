"""Expected capture errors, each with the HTTP status entry points answer with."""

from __future__ import annotations

from events.exceptions import DomainError


class BoothNotAssigned(DomainError):
    status_code = 409
    code = "booth_not_assigned"


class SessionClosed(DomainError):
    status_code = 409
    code = "session_closed"


class CaptureLimitReached(DomainError):
    status_code = 409
    code = "capture_limit"


class NothingToFinish(DomainError):
    status_code = 409
    code = "no_captures"


class StorageUnavailable(DomainError):
    """The file storage (local disk or S3) failed; nothing was stored (503, retry)."""

    status_code = 503
    code = "storage_unavailable"
