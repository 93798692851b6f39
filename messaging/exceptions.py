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


class SendLater(Exception):
    """The global send rate is used up for now; try again in ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"send again in {seconds:.2f} s")
        self.seconds = seconds
