"""Console forms of the SMS area: the SMS account, an event's SMS and email settings.

Validation only: the views call ``messaging.services`` to store what a form accepted.
"""

from __future__ import annotations

import re
from typing import Any, cast

import phonenumbers
from django import forms
from django.conf import settings
from phonenumbers import geocoder

from events.models import Event, Organiser
from messaging import segments, services
from messaging.models import SmsAccount

PLATFORM = "platform"
OWN = "own"

#: Vonage API keys are short hexadecimal strings (``a1b2c3d4``); accept a little more.
API_KEY = re.compile(r"[A-Za-z0-9_-]{4,64}")
#: A secret: visible ASCII, no spaces.
API_SECRET = re.compile(r"[!-~]{6,128}")
#: An alphanumeric sender ID (up to 11 letters, digits and spaces, one letter at least)
#: or a number in international format without the plus (up to 15 digits).
SENDER_NAME = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
SENDER_NUMBER = re.compile(r"[1-9][0-9]{5,14}")


class ValueLessTextInput(forms.TextInput):
    """A text input that never renders a value: what was typed is not sent back."""

    def format_value(self, value: Any) -> str | None:
        return None


class SmsAccountForm(forms.Form):
    """Which Vonage account sends the organiser's SMS, and the own account's credentials.

    With ``account=own`` a new API key and secret are both required, unless ``current``
    (the live own account) exists and both are left empty: the stored ones are kept and
    only the sender changes. Neither the key nor the secret is ever rendered back.
    """

    account = forms.ChoiceField(
        label="Send guests' SMS through",
        choices=[
            (PLATFORM, "Boothsite's Vonage account (the platform's)"),
            (OWN, "My own Vonage account"),
        ],
        widget=forms.RadioSelect,
    )
    api_key = forms.CharField(
        label="Vonage API key",
        required=False,
        max_length=64,
        widget=ValueLessTextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="From the Vonage API dashboard, e.g. a1b2c3d4.",
    )
    api_secret = forms.CharField(
        label="Vonage API secret",
        required=False,
        max_length=128,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
        help_text="Stored encrypted and never shown again.",
    )
    sender = forms.CharField(label="Sender", required=False, max_length=15)

    def __init__(self, *args: Any, current: SmsAccount | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current = current
        self.fields["sender"].help_text = (
            "What guests see as the sender of your own account's SMS: up to 11 letters, "
            "digits or spaces, or a number in international format without the + "
            f"(447700900123). Empty: {settings.VONAGE_FROM}. Some countries show a number "
            "whatever is set."
        )
        if current is not None:
            self.fields["api_key"].help_text = (
                f"Set, ending in …{current.key_ending}. Leave the key and the secret empty to "
                "keep them, or enter both to replace them."
            )
            self.fields["api_secret"].help_text = "Set. Stored encrypted and never shown again."
            self.fields["sender"].initial = current.sender
        self.fields["account"].initial = OWN if current is not None else PLATFORM

    def clean_api_key(self) -> str:
        key: str = self.cleaned_data.get("api_key", "")
        if key and not API_KEY.fullmatch(key):
            msg = "An API key is 4 to 64 letters, digits, - or _ (Vonage's look like a1b2c3d4)."
            raise forms.ValidationError(msg)
        return key

    def clean_api_secret(self) -> str:
        secret: str = self.cleaned_data.get("api_secret", "")
        if secret and not API_SECRET.fullmatch(secret):
            msg = "An API secret is 6 to 128 characters with no spaces."
            raise forms.ValidationError(msg)
        return secret

    def clean_sender(self) -> str:
        sender: str = self.cleaned_data.get("sender", "")
        if sender and not (SENDER_NAME.fullmatch(sender) or SENDER_NUMBER.fullmatch(sender)):
            msg = (
                "Use up to 11 letters, digits or spaces (with one letter at least), or a "
                "number of 6 to 15 digits in international format without the +."
            )
            raise forms.ValidationError(msg)
        return sender

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("account") != OWN:
            return data
        key, secret = data.get("api_key"), data.get("api_secret")
        has_errors = "api_key" in self.errors or "api_secret" in self.errors
        if has_errors or (self.current is not None and not key and not secret):
            return data
        if not key:
            self.add_error("api_key", "Enter your Vonage API key.")
        if not secret:
            self.add_error("api_secret", "Enter your Vonage API secret.")
        return data

    @property
    def replaces_credentials(self) -> bool:
        """Whether the valid form carries a new key and secret (else: keep, or the platform)."""
        return self.cleaned_data.get("account") == OWN and bool(self.cleaned_data.get("api_key"))


def country_label(code: str) -> str:
    """Return "United Kingdom (+44)" for ``GB``; the code alone for one libphonenumber lacks."""
    example = phonenumbers.example_number(code)
    if example is None:
        return code
    name = geocoder.country_name_for_number(example, "en") or code
    return f"{name} (+{phonenumbers.country_code_for_region(code)})"


def platform_countries() -> list[str]:
    """Return the platform's SMS countries (``BOOTHSITE_SMS_COUNTRIES``), upper case, once each."""
    return list(dict.fromkeys(code.upper() for code in settings.BOOTHSITE_SMS_COUNTRIES))


def default_countries(event: Event, organiser: Organiser) -> list[str]:
    """Return the countries the form ticks first: the event's, else the organiser's country.

    An event with no list of its own texts every platform country; the form then offers
    the organiser's country alone (``Organiser.country``, GB until it exists), or every
    platform country when that one is not among them.
    """
    platform = platform_countries()
    own = [code.upper() for code in (event.sms_allowed_countries or []) if code.upper() in platform]
    if own:
        return own
    home = str(getattr(organiser, "country", "GB") or "GB").upper()
    return [home] if home in platform else platform


class EventSmsSettingsForm(forms.Form):
    """An event's SMS text and allowed countries.

    The text may be empty (the default text) or must hold ``{link}`` exactly once, and
    the text as sent (``services.compose_share_text`` with a link of real length) may
    take at most ``segments.MAX_SEGMENTS`` SMS. ``count`` holds that text's segment
    count once the form is validated.
    """

    sms_template = forms.CharField(
        label="SMS text",
        required=False,
        max_length=1000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "true"}),
    )
    countries = forms.MultipleChoiceField(
        label="Countries guests may be texted in",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one country."},
        help_text="A number from any other country is refused at the booth, with a message.",
    )

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event = event
        self.link = services.example_share_link()
        self.default_text = services.compose_share_text(event, services.LINK_PLACEHOLDER, "")
        self.fields["sms_template"].help_text = (
            f"Write {services.LINK_PLACEHOLDER} where the guest's link goes (it is "
            f"{len(self.link)} characters long). Line breaks become spaces. Leave empty "
            f"for the default: “{self.default_text}”."
        )
        self.fields["sms_template"].widget.attrs["placeholder"] = self.default_text
        countries = cast(forms.MultipleChoiceField, self.fields["countries"])
        countries.choices = [(code, country_label(code)) for code in platform_countries()]
        self.fields["sms_template"].initial = event.sms_template
        self.fields["countries"].initial = default_countries(event, event.organiser)
        self.count: segments.SegmentCount | None = None

    def clean_sms_template(self) -> str:
        template: str = self.cleaned_data.get("sms_template", "")
        placeholders = template.count(services.LINK_PLACEHOLDER)
        if template and placeholders == 0:
            msg = f"Put {services.LINK_PLACEHOLDER} in the text: it is where the guest's link goes."
            raise forms.ValidationError(msg)
        if placeholders > 1:
            msg = (
                f"Use {services.LINK_PLACEHOLDER} once: each one costs {len(self.link)} characters."
            )
            raise forms.ValidationError(msg)
        count = segments.count_segments(self.preview_text(template))
        self.count = count
        if count.segments > segments.MAX_SEGMENTS:
            raise forms.ValidationError(too_long_message(count))
        return template

    def preview_text(self, template: str | None = None) -> str:
        """Return the SMS a guest would get with ``template`` (the saved one when None)."""
        return services.compose_share_text(self.event, self.link, template)


def too_long_message(count: segments.SegmentCount) -> str:
    """Say, in words, how much too long a text of ``count`` is."""
    most = segments.MAX_SEGMENTS * segments.PART[count.encoding]
    unit = "characters" if count.encoding == segments.GSM7 else "characters, an emoji 2"
    why = (
        f" It is sent as UCS-2 (70 characters an SMS, not 160) because of: "
        f"{' '.join(count.non_gsm[:5])}."
        if count.non_gsm
        else ""
    )
    return (
        f"This text takes {count.segments} SMS ({count.units} {unit} with the link); at most "
        f"{segments.MAX_SEGMENTS} are allowed ({most} {unit}). Shorten it by at least "
        f"{max(1, count.units - most)}.{why}"
    )


class EventEmailForm(forms.Form):
    """An event's share email: its subject and text (issue 14.5).

    Both may be empty (the defaults). The text, when set, must hold ``{link}`` (where the
    guest's link goes) at most three times; blank lines split it into paragraphs.
    """

    email_subject = forms.CharField(
        label="Email subject",
        required=False,
        max_length=200,
        strip=True,
    )
    email_template = forms.CharField(
        label="Email text",
        required=False,
        max_length=5000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "true"}),
    )

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event = event
        subject, text, _ = services.compose_share_email(
            event, services.LINK_PLACEHOLDER, "", subject="", template=""
        )
        self.default_subject, self.default_text = subject, text.strip()
        self.fields[
            "email_subject"
        ].help_text = f"Leave empty for the default: “{self.default_subject}”."
        self.fields["email_subject"].widget.attrs["placeholder"] = self.default_subject
        self.fields["email_template"].help_text = (
            f"Write {services.LINK_PLACEHOLDER} where the guest's link goes; a blank line starts "
            "a new paragraph. The email also shows the photo strip and a button to the "
            "photos. Leave empty for the default text."
        )
        self.fields["email_template"].widget.attrs["placeholder"] = self.default_text
        self.fields["email_subject"].initial = event.email_subject
        self.fields["email_template"].initial = event.email_template

    def clean_email_subject(self) -> str:
        subject: str = self.cleaned_data.get("email_subject", "")
        if re.search(r"[\x00-\x1f\x7f]", subject):
            raise forms.ValidationError("Write the subject on one line.")
        return subject

    def clean_email_template(self) -> str:
        template: str = self.cleaned_data.get("email_template", "")
        placeholders = template.count(services.LINK_PLACEHOLDER)
        if template and placeholders == 0:
            msg = f"Put {services.LINK_PLACEHOLDER} in the text: it is where the guest's link goes."
            raise forms.ValidationError(msg)
        if placeholders > 3:
            msg = f"Use {services.LINK_PLACEHOLDER} at most three times."
            raise forms.ValidationError(msg)
        return template
