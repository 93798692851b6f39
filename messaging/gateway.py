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
    (transient: try again later), ``failed`` (permanent for this message), ``halt``
    (permanent for the account: credentials, barred, quota) or ``unknown`` (the request
    may have left; never resend automatically).
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


# Vonage SMS API status codes (https://developer.vonage.com/en/api-errors/sms).
RETRY_STATUSES = frozenset({"1", "5", "10"})
HALT_STATUSES = frozenset({"4", "8", "9", "14"})


class VonageSmsGateway:
    """Send through the Vonage SMS API with the API key and secret.

    The HTTP timeout is explicit (``VONAGE_TIMEOUT_SECONDS``; the SDK's default is none)
    and the SDK's own retries are off, so the task alone decides what is retried.
    """

    name = "vonage"

    def __init__(self) -> None:
        from vonage import Auth, HttpClientOptions, Vonage  # type: ignore[import-untyped]

        options = HttpClientOptions(
            rest_host=settings.VONAGE_REST_HOST,
            timeout=settings.VONAGE_TIMEOUT_SECONDS,
            max_retries=0,
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
            return self._classify_error(str(exc))
        except (AuthenticationError, ForbiddenError):
            return GatewayResult("halt", self.name, error_code="http-401", error_text="Auth")
        except RateLimitedError:
            return GatewayResult("retry", self.name, error_code="http-429")
        except ServerError:
            return GatewayResult("retry", self.name, error_code="http-5xx")
        except HttpRequestError:
            return GatewayResult("failed", self.name, error_code="http")
        except requests.ConnectionError:
            return GatewayResult("retry", self.name, error_code="connection")
        except requests.Timeout:
            return GatewayResult("unknown", self.name, error_code="timeout")
        first = response.messages[0]
        return GatewayResult(
            outcome="submitted",
            gateway=self.name,
            message_id=first.message_id or "",
            price=_decimal(first.message_price),
            network=first.network or "",
        )

    def _classify_error(self, text: str) -> GatewayResult:
        # The SDK raises a bare SmsError whose text holds the status code.
        match = re.search(r"error code (\d+)", text)
        code = match.group(1) if match else ""
        outcome = (
            "retry" if code in RETRY_STATUSES else "halt" if code in HALT_STATUSES else "failed"
        )
        return GatewayResult(outcome, self.name, error_code=code, error_text=text[:200])


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
    """The provider asked us to try again later (throttled, busy, 5xx, refused)."""


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
