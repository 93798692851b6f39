"""The SMS gateway seam: the only module that imports the Vonage SDK.

``get_gateway()`` returns the gateway chosen by ``BOOTHSITE_SMS_GATEWAY``: ``console``
(the embedded default, which records the message as sent and prints it without the
number) or ``vonage`` (the Vonage SMS API through the v4 SDK, with an explicit timeout).
``get_gateway(credentials)`` sends through an organiser's own Vonage account instead of
the platform's (``VONAGE_API_KEY``); ``check_credentials`` asks Vonage whether such
credentials work before they are stored.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from django.conf import settings

from messaging import segments

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


@dataclass(frozen=True)
class VonageCredentials:
    """An organiser's own Vonage API key and secret, decrypted, and its sender ("" = ours).

    Neither the key nor the secret appears in the ``repr`` (so not in a traceback either).
    """

    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)
    sender: str = ""


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
#: What the account-wide codes mean when the organiser's own account sent the message:
#: the owner, not the platform's staff, has to act.
OWN_ACCOUNT_TEXT = {
    "4": "Your Vonage account refused its API key and secret: enter them again on the "
    "console's SMS account page.",
    "8": "Your Vonage account is barred: contact Vonage.",
    "9": "Your Vonage account has no credit left: top it up at Vonage.",
    "14": "Your Vonage account refused the request's signature.",
    "http-401": "Vonage refused your account's API key and secret (HTTP 401): enter them "
    "again on the console's SMS account page.",
    "http-403": "Vonage refused a request of your account (HTTP 403).",
}


def _client(api_key: str, api_secret: str) -> Any:
    """Return a Vonage SDK client for one account, with our timeout and no resending."""
    from vonage import Auth, HttpClientOptions, Vonage  # type: ignore[import-untyped]

    options = HttpClientOptions(
        rest_host=settings.VONAGE_REST_HOST,
        timeout=settings.VONAGE_TIMEOUT_SECONDS,
        max_retries=0,
        pool_connections=1,
        pool_maxsize=1,
    )
    return Vonage(Auth(api_key=api_key, api_secret=api_secret), http_client_options=options)


class VonageSmsGateway:
    """Send through the Vonage SMS API with an API key and secret.

    The platform's (``VONAGE_API_KEY``, ``VONAGE_API_SECRET``, ``VONAGE_FROM``) unless
    ``credentials`` name an organiser's own account, whose client is built for it alone
    (its sender, or ``VONAGE_FROM`` when it has none). The HTTP timeout is explicit
    (``VONAGE_TIMEOUT_SECONDS``; the SDK's default is none). The SDK's own resending is
    switched off: it resends a request whose connection was dropped, which would text a
    guest twice (Vonage does not de-duplicate), so ``pool_maxsize=1`` and
    ``max_retries=0``; the task alone decides what is retried. A text with a character
    outside GSM-7 goes as ``type=unicode`` (Vonage garbles it as ``text``).
    """

    name = "vonage"

    def __init__(self, credentials: VonageCredentials | None = None) -> None:
        self.own_account = credentials is not None
        if credentials is None:
            self.client = _client(settings.VONAGE_API_KEY, settings.VONAGE_API_SECRET)
            self.sender = settings.VONAGE_FROM
        else:
            self.client = _client(credentials.api_key, credentials.api_secret)
            self.sender = credentials.sender or settings.VONAGE_FROM

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
            from_=self.sender,
            text=text,
            client_ref=client_ref,
            callback=callback_url or None,
            type="unicode" if segments.is_unicode(text) else None,
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
        text = (OWN_ACCOUNT_TEXT.get(code) if self.own_account else None) or STATUS_TEXT.get(
            code, ""
        )
        return GatewayResult(outcome, self.name, error_code=code, error_text=text)

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


def get_gateway(credentials: VonageCredentials | None = None) -> SmsGateway:
    """Return the configured gateway, sending through ``credentials``' account if given.

    The console gateway sends nothing whichever account is named.
    """
    if settings.BOOTHSITE_SMS_GATEWAY == "vonage":
        return VonageSmsGateway(credentials)
    return ConsoleSmsGateway()


@dataclass(frozen=True)
class CredentialsCheck:
    """What Vonage said of an API key and secret.

    ``outcome`` is ``accepted`` (``balance`` is the account's, in EUR), ``refused``
    (Vonage refused them: do not store them) or ``unchecked`` (nothing could be asked:
    the console gateway, or Vonage unreachable). ``message`` says it in words.
    """

    outcome: str
    message: str
    balance: Decimal | None = None


REFUSED_MESSAGE = "Vonage refused this API key and secret. Check them in Vonage's dashboard."
UNREACHABLE_MESSAGE = "Vonage could not be reached to check them; they are saved unchecked."
CONSOLE_MESSAGE = (
    "Not checked with Vonage: this site's SMS gateway is the console (BOOTHSITE_SMS_GATEWAY), "
    "which sends nothing."
)


def check_credentials(credentials: VonageCredentials) -> CredentialsCheck:
    """Ask Vonage for the account's balance with ``credentials``: a free, read-only call.

    Never raises: HTTP 401 or 403 is ``refused``; a timeout, a connection or TLS error,
    another HTTP error or an unexpected answer is ``unchecked``; so is every call while
    ``BOOTHSITE_SMS_GATEWAY`` is ``console``.
    """
    import requests
    from vonage_http_client import (
        AuthenticationError,
        ForbiddenError,
        HttpRequestError,
    )

    if settings.BOOTHSITE_SMS_GATEWAY != "vonage":
        return CredentialsCheck("unchecked", CONSOLE_MESSAGE)
    client = _client(credentials.api_key, credentials.api_secret)
    try:
        balance = client.account.get_balance()
    except (AuthenticationError, ForbiddenError):
        return CredentialsCheck("refused", REFUSED_MESSAGE)
    except (HttpRequestError, requests.RequestException, ValueError) as exc:
        logger.warning("Vonage credentials not checked (%s).", type(exc).__name__)
        return CredentialsCheck("unchecked", UNREACHABLE_MESSAGE)
    value = _decimal(balance.value)
    shown = f" (balance €{value:.2f})" if value is not None else ""
    return CredentialsCheck("accepted", f"Vonage accepted the API key and secret{shown}.", value)


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
