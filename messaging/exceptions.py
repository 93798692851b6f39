"""Expected messaging errors."""

from __future__ import annotations

from events.exceptions import DomainError


class SmsUnavailable(DomainError):
    status_code = 409
    code = "sms_unavailable"
