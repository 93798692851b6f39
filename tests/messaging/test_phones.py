"""messaging.phones.normalise_phone: the forms a guest's number may take, and refusals."""

from __future__ import annotations

import pytest

from messaging import phones
from messaging.phones import InvalidPhone

GB = ["GB"]


def refusal(raw: object, allowed: list[str] | frozenset[str] = phones.ALL_COUNTRIES) -> str:
    with pytest.raises(InvalidPhone) as caught:
        phones.normalise_phone(raw, allowed_countries=allowed)
    return caught.value.message


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+447400123456", "+447400123456"),
        ("+44 7400 123456", "+447400123456"),
        # Digits with the country code and no plus, as the seed front end sends them.
        ("447400123456", "+447400123456"),
        ("44 7400 123456", "+447400123456"),
        ("12023334455", "+12023334455"),
        (" 12023334455 ", "+12023334455"),
    ],
)
def test_international_numbers_with_or_without_the_plus(raw, e164):
    assert phones.normalise_phone(raw, allowed_countries=phones.ALL_COUNTRIES) == e164


@pytest.mark.parametrize("raw", ["07400123456", "0 7400 123456", "00447400123456", "0"])
def test_a_leading_0_asks_for_the_country_code(raw):
    message = refusal(raw)
    assert message == phones.NATIONAL_MESSAGE
    assert "country code" in message
    assert "international format" in message


@pytest.mark.parametrize(
    "raw", ["", "+", "44", "4474001234567890", "+00447400123456", "447400;123456", "44 seven", 447]
)
def test_malformed_numbers_are_refused(raw):
    assert refusal(raw) == phones.INVALID_MESSAGE


def test_a_number_that_cannot_receive_sms_is_refused():
    assert refusal("449098790000") == phones.TYPE_MESSAGE


def test_a_country_the_platform_allows_names_the_event_setting(settings):
    settings.BOOTHSITE_SMS_COUNTRIES = ["GB", "US"]
    message = refusal("12023334455", GB)
    assert message == (
        "SMS to US numbers is not enabled for this event. The organiser can allow US in "
        "the event's SMS countries (sms_allowed_countries)."
    )


def test_a_country_the_platform_refuses_names_the_platform_setting(settings):
    settings.BOOTHSITE_SMS_COUNTRIES = ["GB"]
    message = refusal("+33612345678", GB)
    assert message == (
        "SMS to FR numbers is not enabled on this site. Its operator can allow FR in "
        "BOOTHSITE_SMS_COUNTRIES."
    )


# Ofcom's drama range (https://www.ofcom.org.uk/phones-and-broadband/phone-numbers/
# numbers-for-drama): libphonenumber calls these numbers invalid.


@pytest.mark.parametrize(
    ("e164", "fictional"),
    [
        ("+447700900000", True),
        ("+447700900123", True),
        ("+447700900999", True),
        ("+447700899999", False),
        ("+447700901000", False),
        ("+4477009001234", False),
        ("+44770090012", False),
        ("+447400123456", False),
        ("", False),
    ],
)
def test_is_fictional_is_exactly_the_drama_range(e164, fictional):
    assert phones.is_fictional(e164) is fictional


@pytest.mark.parametrize("raw", ["+447700900123", "+44 7700 900000", "447700900999"])
def test_drama_numbers_are_accepted_with_the_console_gateway(settings, raw):
    settings.BOOTHSITE_SMS_GATEWAY = "console"
    e164 = phones.normalise_phone(raw, allowed_countries=GB)
    assert phones.is_fictional(e164)
    assert e164.startswith("+447700900")


def test_drama_numbers_still_need_their_country_allowed(settings):
    settings.BOOTHSITE_SMS_GATEWAY = "console"
    settings.BOOTHSITE_SMS_COUNTRIES = ["GB", "IE"]
    assert "SMS to GB numbers is not enabled" in refusal("+447700900123", ["IE"])


def test_drama_numbers_are_refused_with_the_vonage_gateway(settings):
    settings.BOOTHSITE_SMS_GATEWAY = "vonage"
    message = refusal("+447700900123", GB)
    assert message == phones.FICTIONAL_MESSAGE
    assert "console" in message


def test_just_outside_the_drama_range_is_invalid_with_either_gateway(settings):
    for gateway in ("console", "vonage"):
        settings.BOOTHSITE_SMS_GATEWAY = gateway
        assert refusal("+447700901000", GB) == phones.INVALID_MESSAGE
