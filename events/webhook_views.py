"""The console's webhooks pages: owners register, edit and watch endpoints (issue 15.3).

``webhooks_page`` lists the organiser's endpoints and adds one; ``webhook_page`` shows
one endpoint (edit, enable or disable, rotate its secret, send a test event, delete) and
its deliveries log, newest first, 50 a page. Owners only (``Perm.ADMIN``): viewers and
managers get 403, another organiser's endpoint answers exactly like a missing one (404).
A secret is shown once, in the answer to the POST that created or rotated it (never in
a URL, a redirect or the session).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from events import access, webhooks
from events.event_forms import add_service_errors
from events.models import Organiser, WebhookDelivery, WebhookEndpoint
from events.roles import Perm

#: Rows a page of endpoints or of deliveries shows.
PER_PAGE = 50

TYPE_CHOICES = [(t, t) for t in webhooks.EVENT_TYPES]


class WebhookForm(forms.Form):
    """An endpoint's URL, description and event types."""

    url = forms.CharField(
        label="URL",
        max_length=webhooks.MAX_URL_LENGTH,
        help_text="An https:// address on the public internet that accepts POST requests.",
        widget=forms.URLInput(attrs={"autocomplete": "off"}),
    )
    description = forms.CharField(label="Description", max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=TYPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event type."},
    )


def _never_cache(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    return response


def _list_page(
    request: HttpRequest,
    organiser: Organiser,
    *,
    form: WebhookForm | None = None,
    status: int = 200,
) -> HttpResponse:
    page = Paginator(
        WebhookEndpoint.objects.for_organiser(organiser).order_by("-created_at", "-pk"), PER_PAGE
    ).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "organiser": organiser,
        "page": page,
        "endpoints": page.object_list,
        "form": form or WebhookForm(initial={"event_types": list(webhooks.EVENT_TYPES)}),
    }
    return _never_cache(render(request, "console/webhooks.html", context, status=status))


def _detail_page(
    request: HttpRequest,
    organiser: Organiser,
    endpoint: WebhookEndpoint,
    *,
    form: WebhookForm | None = None,
    secret: str = "",
    status: int = 200,
) -> HttpResponse:
    page = Paginator(
        WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-pk"), PER_PAGE
    ).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "organiser": organiser,
        "endpoint": endpoint,
        "page": page,
        "deliveries": page.object_list,
        "form": form
        or WebhookForm(
            initial={
                "url": endpoint.url,
                "description": endpoint.description,
                "event_types": endpoint.event_types,
            }
        ),
        "secret": secret,
    }
    return _never_cache(render(request, "console/webhook.html", context, status=status))


@login_required
@require_http_methods(["GET", "POST"])
def webhooks_page(request: HttpRequest, organiser_slug: str) -> HttpResponse:
    """List the organiser's endpoints (GET) or add one (POST).

    The POST takes ``url``, ``description`` and ``event_types`` (repeated).
    A created endpoint answers 200 with its page showing the signing secret once; an
    invalid form (a refused or malformed URL, no type) answers 400 with its errors.
    Owners only: others get 403, non-members 404.
    """
    organiser = access.access_organiser(request.user, organiser_slug, perm=Perm.ADMIN)
    if request.method != "POST":
        return _list_page(request, organiser)
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return _list_page(request, organiser, form=form, status=400)
    try:
        endpoint = webhooks.create_endpoint(
            organiser,
            url=form.cleaned_data["url"],
            event_types=form.cleaned_data["event_types"],
            description=form.cleaned_data["description"],
            user=request.user,
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return _list_page(request, organiser, form=form, status=400)
    return _detail_page(request, organiser, endpoint, secret=endpoint.secret)


@login_required
@require_http_methods(["GET", "POST"])
def webhook_page(request: HttpRequest, organiser_slug: str, webhook_id: str) -> HttpResponse:
    """Show one endpoint and its deliveries (GET), or act on it (POST ``action``).

    Actions: ``update`` (the form's fields; 400 with errors when invalid), ``enable``,
    ``disable``, ``rotate`` (answers 200 with the new secret shown once), ``test``
    (queues a ``webhook.test`` delivery), ``delete`` (back to the list). Other actions
    answer 400. Another organiser's, a missing or a malformed id answers 404 (to members
    of any role); managers and viewers get 403 for an endpoint of their organiser.
    """
    organiser = access.access_organiser(request.user, organiser_slug, perm=Perm.VIEW)
    endpoint = (
        WebhookEndpoint.objects.for_organiser(organiser)
        .filter(public_id=access.public_id_or_404(webhook_id))
        .first()
    )
    if endpoint is None:
        raise Http404
    access.access_organiser(request.user, organiser_slug, perm=Perm.ADMIN)
    if request.method != "POST":
        return _detail_page(request, organiser, endpoint)
    action = request.POST.get("action", "")
    back = redirect("events:webhook", organiser.slug, endpoint.public_id)
    if action == "update":
        form = WebhookForm(request.POST)
        if not form.is_valid():
            return _detail_page(request, organiser, endpoint, form=form, status=400)
        try:
            webhooks.update_endpoint(
                endpoint,
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return _detail_page(request, organiser, endpoint, form=form, status=400)
        messages.success(request, "The endpoint is saved.")
        return back
    if action in ("enable", "disable"):
        webhooks.update_endpoint(endpoint, enabled=action == "enable")
        messages.success(request, f"The endpoint is {action}d.")
        return back
    if action == "rotate":
        secret = webhooks.rotate_secret(endpoint)
        return _detail_page(request, organiser, endpoint, secret=secret)
    if action == "test":
        webhooks.send_test_event(endpoint)
        messages.success(request, "A test event is on its way: see the deliveries below.")
        return back
    if action == "delete":
        webhooks.delete_endpoint(endpoint)
        messages.success(request, f"The endpoint {endpoint.url} is deleted.")
        return redirect("events:webhooks", organiser.slug)
    return HttpResponseBadRequest("Unknown action.", content_type="text/plain")
