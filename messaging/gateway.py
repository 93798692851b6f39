"""The SMS gateway seam: the only module that imports the Vonage SDK.

``get_gateway()`` returns the gateway chosen by ``BOOTHSITE_SMS_GATEWAY``: ``console``
(the embedded default, which records the message as sent and prints it without the
number) or ``vonage`` (the Vonage SMS API through the v4 SDK, with an explicit timeout).
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GatewayResult:
    """What the provider said about one message.

    ``outcome`` is ``submitted`` (accepted for delivery, not yet delivered), ``retry``
    (transient: try again later), ``retry_bounded`` (retry a few times only),
    ``failed`` (permanent for this message), ``halt`` (permanent for the account:
    credentials, barred, quota) or ``unknown`` (the request may have left; never resend
    automatically). ``error_text`` is ours, in words, never the provider's raw text.
    """

    outcome: str
    gateway: str
    message_id: str = ""
    error_code: str = ""
    error_text: str = ""
    price: Decimal | None = None
    network: str = ""


class SmsGateway(Protocol):
    name: str

    def send_sms(self, to: str, text: str, *, client_ref: str, callback_url: str) -> GatewayResult:
        """Send ``text`` to the E.164 number ``to``; never raises for provider errors."""
        ...


class ConsoleSmsGateway:
    """Development gateway: prints the message (with the number masked) and accepts it."""

    name = "console"

    def send_sms(self, to: str, text: str, *, client_ref: str, callback_url: str) -> GatewayResult:
        from messaging.phones import mask_phone

        print(f"[console SMS to {mask_phone(to)} ref {client_ref}] {text}")  # noqa: T201
        return GatewayResult(
            outcome="submitted",
            gateway=self.name,
            message_id=f"console-{uuid.uuid4().hex[:16]}",
            price=Decimal("0"),
            network="console",
        )


# Vonage SMS API status codes (https://developer.vonage.com/en/api-errors/sms) and what
# we do with each (RELIABILITY.md section 1, "Classification that the tests enforce").
RETRY_STATUSES = frozenset({"1", "10"})  # throttled, too many binds: back off and retry
BOUNDED_RETRY_STATUSES = frozenset({"5"})  # internal error: a few retries, then failed
HALT_STATUSES = frozenset({"4", "8", "9", "14"})  # credentials, barred, quota, signature
STATUS_TEXT = {
    "1": "Throttled: the account sent faster than its limit.",
    "2": "Missing parameters.",
    "3": "Invalid parameters.",
    "4": "Invalid credentials: check VONAGE_API_KEY and VONAGE_API_SECRET.",
    "5": "Internal error at Vonage.",
    "6": "Invalid message: the number's prefix is not routable.",
    "7": "Number barred: the recipient is on the blocklist.",
    "8": "Partner account barred.",
    "9": "Partner quota exceeded: top up the account.",
    "10": "Too many existing binds.",
    "11": "Account not enabled for HTTP.",
    "12": "Message too long.",
    "14": "Invalid signature.",
    "15": "Invalid sender address.",
    "http-401": "Vonage refused the credentials (HTTP 401).",
    "http-403": "Vonage refused the request (HTTP 403).",
    "http-429": "Vonage rate-limited the request (HTTP 429).",
    "http-5xx": "Vonage answered with a server error.",
    "connection": "Could not connect to Vonage; nothing was sent.",
    "timeout": "No answer from Vonage in time; the message may or may not have been sent.",
    "dropped": "Vonage closed the connection after the request; it may have been sent.",
}


class VonageSmsGateway:
    """Send through the Vonage SMS API with the API key and secret.

    The HTTP timeout is explicit (``VONAGE_TIMEOUT_SECONDS``; the SDK's default is none).
    The SDK's own resending is switched off: it resends a request whose connection was
    dropped, which would text a guest twice (Vonage does not de-duplicate), so
    ``pool_maxsize=1`` and ``max_retries=0``; the task alone decides what is retried.
    """

    name = "vonage"

    def __init__(self) -> None:
        from vonage import Auth, HttpClientOptions, Vonage  # type: ignore[import-untyped]

        options = HttpClientOptions(
            rest_host=settings.VONAGE_REST_HOST,
            timeout=settings.VONAGE_TIMEOUT_SECONDS,
            max_retries=0,
            pool_connections=1,
            pool_maxsize=1,
        )
        self.client = Vonage(
            Auth(api_key=settings.VONAGE_API_KEY, api_secret=settings.VONAGE_API_SECRET),
            http_client_options=options,
        )

    def send_sms(self, to: str, text: str, *, client_ref: str, callback_url: str) -> GatewayResult:
        import requests
        from vonage_http_client import (  # type: ignore[import-untyped]
            AuthenticationError,
            ForbiddenError,
            HttpRequestError,
            RateLimitedError,
            ServerError,
        )
        from vonage_sms import SmsError, SmsMessage  # type: ignore[import-untyped]

        message = SmsMessage(
            to=to.lstrip("+"),
            from_=settings.VONAGE_FROM,
            text=text,
            client_ref=client_ref,
            callback=callback_url or None,
        )
        try:
            response = self.client.sms.send(message)
        except SmsError as exc:
            return self._classify_status(str(exc))
        except (AuthenticationError, ForbiddenError) as exc:
            code = "http-401" if isinstance(exc, AuthenticationError) else "http-403"
            return self._result("halt", code)
        except RateLimitedError:
            return self._result("retry", "http-429")
        except ServerError:
            return self._result("retry", "http-5xx")
        except HttpRequestError as exc:
            status = getattr(getattr(exc, "response", None), "status_code", 0) or 0
            outcome = "retry" if status >= 500 else "failed"
            return self._result(outcome, "http-5xx" if status >= 500 else f"http-{status}")
        except (requests.ConnectTimeout, requests.exceptions.SSLError):
            return self._result("retry", "connection")
        except requests.Timeout:
            return self._result("unknown", "timeout")
        except requests.ConnectionError as exc:
            # Refused or unreachable: nothing left. Reset or closed mid-answer: it may have.
            sent = "RemoteDisconnected" in str(exc.args) or "Connection aborted" in str(exc)
            return (
                self._result("unknown", "dropped") if sent else self._result("retry", "connection")
            )
        first = response.messages[0]
        return GatewayResult(
            outcome="submitted",
            gateway=self.name,
            message_id=first.message_id or "",
            price=_decimal(first.message_price),
            network=first.network or "",
        )

    def _result(self, outcome: str, code: str) -> GatewayResult:
        return GatewayResult(
            outcome, self.name, error_code=code, error_text=STATUS_TEXT.get(code, "")
        )

    def _classify_status(self, text: str) -> GatewayResult:
        # The SDK raises a bare SmsError whose text holds the status code.
        match = re.search(r"error code (\d+)", text)
        code = match.group(1) if match else ""
        if code in RETRY_STATUSES:
            outcome = "retry"
        elif code in BOUNDED_RETRY_STATUSES:
            outcome = "retry_bounded"
        elif code in HALT_STATUSES:
            outcome = "halt"
        else:
            outcome = "failed"
        return self._result(outcome, code)


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def get_gateway() -> SmsGateway:
    """Return the configured gateway."""
    if settings.BOOTHSITE_SMS_GATEWAY == "vonage":
        return VonageSmsGateway()
    return ConsoleSmsGateway()


class TransientGatewayError(Exception):
    """The provider asked us to try again later (throttled, busy, 5xx, refused).

    ``max_attempts`` is how many tries the message gets in all.
    """

    def __init__(self, code: str, *, max_attempts: int) -> None:
        super().__init__(code)
        self.code = code
        self.max_attempts = max_attempts


def check_signature(params: dict[str, str]) -> bool:
    """Return whether a Vonage webhook's ``sig`` matches its other parameters.

    Uses the SDK's HMAC check with ``VONAGE_SIGNATURE_SECRET`` and
    ``VONAGE_SIGNATURE_METHOD``. Freshness is not checked here (the SDK does not check
    it either): the caller compares ``timestamp`` with the clock. False when no secret
    is configured or ``sig`` is missing.
    """
    from vonage_http_client import Auth

    secret = settings.VONAGE_SIGNATURE_SECRET
    if not secret or not params.get("sig"):
        return False
    # The SDK insists on an API key next to a signature secret, though it signs without it.
    auth = Auth(
        api_key=settings.VONAGE_API_KEY or "unused",
        signature_secret=secret,
        signature_method=settings.VONAGE_SIGNATURE_METHOD,
    )
    return bool(auth.check_signature(dict(params)))
