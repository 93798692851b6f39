"""One way for console settings pages to show a form and save it (events, captures).

A settings page shows its form to every member who may see the object, read-only for
those who may not change it, and saves a valid POST through a service. The service's
ValidationError lands on the form by field (``add_service_errors``). An invalid form
answers 400 with its errors; a saved one redirects with a message (post/redirect/get).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from events import access
from events.event_forms import add_service_errors, make_read_only
from events.models import Event
from events.roles import Perm

T = TypeVar("T")


def posted(request: HttpRequest) -> Any:
    """Return the POST data to bind a form to, or None for any other method."""
    return request.POST if request.method == "POST" else None


def may(request: HttpRequest, organiser_slug: str, perm: Perm) -> bool:
    """Return whether the signed-in member of the organiser holds ``perm`` (no 403)."""
    try:
        access.access_organiser(request.user, organiser_slug, perm=perm)
    except PermissionDenied:
        return False
    return True


def event_for_settings(
    request: HttpRequest, organiser_slug: str, event_slug: str
) -> tuple[Event, bool]:
    """Return the event and whether the user may change it (``Perm.MANAGE``).

    A GET needs ``Perm.VIEW``, a POST ``Perm.MANAGE``. Raises Http404 for another
    organiser's or a missing event, and PermissionDenied for a viewer's POST.
    """
    if request.method == "POST":
        event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.MANAGE)
        return event, True
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.VIEW)
    return event, may(request, organiser_slug, Perm.MANAGE)


def settings_form_page(
    request: HttpRequest,
    *,
    form: forms.BaseForm,
    template: str,
    context: Mapping[str, Any],
    save: Callable[[dict[str, Any]], T],
    saved: str | Callable[[T], str],
    next_url: str | Callable[[T], str],
    can_manage: bool = True,
) -> HttpResponse:
    """Serve a settings ``form``: show it unbound, or save it when it is bound (a POST).

    - Unbound: render ``template`` with ``context``, ``form`` and ``can_manage`` (200);
      the form is read-only when ``can_manage`` is false.
    - Bound and valid: ``save(form.cleaned_data)``; on success the message ``saved`` and
      a redirect (302) to ``next_url`` (either may be a function of what ``save``
      returned: a new slug). A ValidationError raised by ``save`` goes on the form, by
      field where the form has it.
    - Otherwise: the form with its errors, status 400.
    The caller checks permissions first: a bound form must only reach here from a user
    who may change the object.
    """
    page = {**context, "form": form, "can_manage": can_manage}
    if not form.is_bound:
        if not can_manage:
            make_read_only(form)
        return render(request, template, page)
    if form.is_valid():
        try:
            result = save(form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, saved(result) if callable(saved) else saved)
            return redirect(next_url(result) if callable(next_url) else next_url)
    return render(request, template, page | {"can_manage": True}, status=400)
