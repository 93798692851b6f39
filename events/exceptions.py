"""Expected domain errors; entry points turn them into 4xx answers."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected, user-facing error. ``message`` is safe to show."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PairingFailed(DomainError):
    code = "pairing_failed"
