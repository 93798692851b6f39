"""Forms of the accounts and team pages: sign-in, sign-up, organisers, invitations, roles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import phonenumbers
from allauth.account.forms import LoginForm, SignupForm  # type: ignore[import-untyped]
from django import forms
from django.conf import settings
from phonenumbers import geocoder

from events import services
from events.auth import remember_organiser
from events.models import Invitation
from events.roles import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

ORGANISER_NAME_HELP = (
    "Your company or team, as guests and colleagues know it (e.g. Bright Booths). "
    "It also makes your console's address."
)
COUNTRY_HELP = (
    "Where your events take place. New events text guests' numbers of this country "
    "unless you choose others."
)
ROLE_HELP = (
    "Viewers see events, booths and captures; managers also change them; owners also "
    "manage the team, SMS, deletion and erasure."
)


def country_name(code: str) -> str:
    """Return the English name of an ISO 3166 alpha-2 country ("GB": "United Kingdom").

    Taken from phonenumbers' geocoder; the code itself when it has no name there.
    """
    example = phonenumbers.example_number(code)
    return (geocoder.country_name_for_number(example, "en") if example else "") or code


def country_choices() -> list[tuple[str, str]]:
    """Return the platform's countries (``BOOTHSITE_SMS_COUNTRIES``) as (code, name), by name."""
    codes = {code.strip().upper() for code in settings.BOOTHSITE_SMS_COUNTRIES if code.strip()}
    return sorted(((code, country_name(code)) for code in codes), key=lambda item: item[1])


def default_country() -> str:
    """Return GB when the platform texts the UK, else its first country by name."""
    codes = [code for code, _name in country_choices()]
    return "GB" if "GB" in codes or not codes else codes[0]


def country_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Country",
        choices=country_choices,
        initial=default_country,
        help_text=COUNTRY_HELP,
    )


def organiser_name_field() -> forms.CharField:
    return forms.CharField(
        label="Organiser name",
        max_length=200,
        help_text=ORGANISER_NAME_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )


class ConsoleLoginForm(LoginForm):  # type: ignore[misc]
    """allauth's sign-in form, with its login field sent as ``username``.

    One field takes a username or an email address. Its HTML name stays ``username``
    (``id_username``), as on the console's earlier sign-in page, so django-axes counts
    failures by the same name (``AXES_USERNAME_FORM_FIELD``) and existing clients and
    password managers keep working; the form itself still calls it ``login``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = "Username or email"
        login.widget.attrs.update({"autocomplete": "username", "placeholder": ""})
        login.help_text = ""
        self.fields["password"].widget.attrs["placeholder"] = ""

    def add_prefix(self, field_name: str) -> str:
        prefixed: str = super().add_prefix("username" if field_name == "login" else field_name)
        return prefixed


def _plain_signup_fields(form: SignupForm) -> None:
    """Label the sign-up fields in words, with help, and without placeholders."""
    labels = {"email": "Email address", "password1": "Password", "password2": "Password again"}
    helps = {
        "email": "We send a link to this address: follow it to open your console.",
        "password2": "Type the same password again, to be sure of it.",
    }
    for name, label in labels.items():
        field = form.fields.get(name)
        if field is not None:
            field.label = label
            field.widget.attrs.pop("placeholder", None)
            if name in helps:
                field.help_text = helps[name]


class OrganiserSignupForm(SignupForm):  # type: ignore[misc]
    """Sign-up: email, password, and the organiser's name and country.

    ``signup()`` (called by allauth once the user is saved) creates the organiser and
    the owner's membership (``services.create_organiser``) and makes it the console's
    current organiser.
    """

    organiser_name = organiser_name_field()
    country = country_field()

    field_order = ["organiser_name", "country", "email", "password1", "password2"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_signup_fields(self)
        self.order_fields(self.field_order)

    def clean_organiser_name(self) -> str:
        name = " ".join(str(self.cleaned_data["organiser_name"]).split())
        if not name:
            raise forms.ValidationError("Enter your organiser's name.")
        return name

    def signup(self, request: HttpRequest, user: AbstractBaseUser) -> None:
        organiser = services.create_organiser(
            user, name=self.cleaned_data["organiser_name"], country=self.cleaned_data["country"]
        )
        remember_organiser(request, organiser)


class InviteeSignupForm(SignupForm):  # type: ignore[misc]
    """Sign-up from an invitation: email and password; the invitation gives the organiser.

    ``signup()`` accepts the invitation (``services.accept_invitation``). The email
    field starts with the invited address; an account opened with that address counts
    as verified (the link reached its inbox).
    """

    def __init__(self, *args: Any, invitation: Invitation, **kwargs: Any) -> None:
        self.invitation = invitation
        kwargs.setdefault("initial", {}).setdefault("email", invitation.email)
        super().__init__(*args, **kwargs)
        _plain_signup_fields(self)

    def signup(self, request: HttpRequest, user: AbstractBaseUser) -> None:
        services.accept_invitation(self.invitation, user)
        remember_organiser(request, self.invitation.organiser)


class OrganiserForm(forms.Form):
    """Another organiser, made from the console by a signed-in user (who owns it)."""

    name = organiser_name_field()
    country = country_field()

    def clean_name(self) -> str:
        name = " ".join(str(self.cleaned_data["name"]).split())
        if not name:
            raise forms.ValidationError("Enter the organiser's name.")
        return name


class InviteForm(forms.Form):
    """Invite someone to the team by email, with a role."""

    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="We email a link to this address. It works once, for "
        f"{settings.BOOTHSITE_INVITATION_DAYS} days.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label="Role", choices=Role.choices, initial=Role.VIEWER, help_text=ROLE_HELP
    )


class RoleForm(forms.Form):
    """A member's new role."""

    # No help text: the team page explains the roles once, above its table.
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class SwitchOrganiserForm(forms.Form):
    """The organiser switcher: the slug of one of the user's organisers."""

    organiser = forms.SlugField(label="Organiser", max_length=60)
