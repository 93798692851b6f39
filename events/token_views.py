"""The console's API tokens page: owners list, create and revoke ``bsk_`` tokens (issue 15.1).

Owners only (``Perm.ADMIN``): viewers and managers get 403 on every method, another
organiser's page or token answers exactly like a missing one (404). A new token is shown
once, in the answer to the POST that created it (never in a URL, a redirect or the
session); the list shows only its 8-character prefix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from events import access, api_tokens
from events.event_forms import add_service_errors
from events.models import ApiToken, Organiser
from events.roles import Perm, Role

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

#: Tokens per page of the list.
TOKENS_PER_PAGE = 50

ROLE_HELP = (
    "A token never has more rights than the person who created it: if your own role is "
    "lowered, or you leave the team, the token's role drops with it."
)


class ApiTokenForm(forms.Form):
    """A new token's name and role."""

    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What the token is for, e.g. “CRM sync”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label="Role", choices=Role.choices, initial=Role.MANAGER, help_text=ROLE_HELP
    )


def _page(
    request: HttpRequest,
    organiser: Organiser,
    *,
    form: ApiTokenForm | None = None,
    created: ApiToken | None = None,
    secret: str = "",
    status: int = 200,
) -> HttpResponse:
    tokens = Paginator(
        ApiToken.objects.for_organiser(organiser)
        .select_related("user")
        .order_by("-created_at", "-pk"),
        TOKENS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "organiser": organiser,
        "page": tokens,
        "tokens": tokens.object_list,
        "form": form or ApiTokenForm(),
        "created": created,
        "secret": secret,
        "prefix": api_tokens.TOKEN_PREFIX,
    }
    response = render(request, "console/api_tokens.html", context, status=status)
    add_never_cache_headers(response)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens_page(request: HttpRequest, organiser_slug: str) -> HttpResponse:
    """List the organiser's API tokens (GET) or create one (POST ``name``, ``role``).

    A created token answers 200 with the page showing the clear token once, with a
    copy button; an invalid form (empty name, a role above the owner's) answers 400
    with its errors. Owners only: others get 403, non-members 404.
    """
    organiser = access.access_organiser(request.user, organiser_slug, perm=Perm.ADMIN)
    if request.method != "POST":
        return _page(request, organiser)
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _page(request, organiser, form=form, status=400)
    try:
        created, secret = api_tokens.create_api_token(
            organiser,
            cast("AbstractBaseUser", request.user),  # login_required: a user
            name=form.cleaned_data["name"],
            role=form.cleaned_data["role"],
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return _page(request, organiser, form=form, status=400)
    return _page(request, organiser, created=created, secret=secret)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, organiser_slug: str, token_id: str) -> HttpResponse:
    """Revoke one of the organiser's API tokens, then back to the list (302).

    Requests made with it fail (401) from now on; revoking a revoked token changes
    nothing. Another organiser's, a missing or a malformed token id answers 404 (to
    members of any role); managers and viewers get 403 for a token of their organiser.
    """
    organiser = access.access_organiser(request.user, organiser_slug, perm=Perm.VIEW)
    token = (
        ApiToken.objects.for_organiser(organiser)
        .filter(public_id=access.public_id_or_404(token_id))
        .first()
    )
    if token is None:
        raise Http404
    access.access_organiser(request.user, organiser_slug, perm=Perm.ADMIN)
    if token.revoked_at is not None:
        messages.info(request, f"The token “{token.name}” was already revoked.")
    else:
        api_tokens.revoke_api_token(token)
        messages.success(
            request, f"The token “{token.name}” is revoked: requests made with it now fail."
        )
    return redirect("events:api-tokens", organiser.slug)
