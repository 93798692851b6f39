"""Expected messaging errors, each with the HTTP status entry points answer with."""

from __future__ import annotations

from events.exceptions import DomainError


class SmsUnavailable(DomainError):
    status_code = 409
    code = "sms_unavailable"


class SmsLimitReached(DomainError):
    """A sending cap was reached; ``retry_after`` (seconds) says when to try again."""

    status_code = 429
    code = "sms_limit"


class SmsPaused(DomainError):
    status_code = 503
    code = "sms_paused"


class EmailUnavailable(DomainError):
    """Nothing to email yet, or the event is archived (409)."""

    status_code = 409
    code = "email_unavailable"


class EmailLimitReached(DomainError):
    """An email cap was reached; ``retry_after`` (seconds, or None) says when to try again."""

    status_code = 429
    code = "email_limit"


class EmailPaused(DomainError):
    """The event's sending is paused (503)."""

    status_code = 503
    code = "email_paused"


class TransientEmailError(Exception):
    """The mail server or email service failed in a way worth retrying (a dead SMTP server)."""


class SendLater(Exception):
    """The global send rate is used up for now; try again in ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"send again in {seconds:.2f} s")
        self.seconds = seconds
