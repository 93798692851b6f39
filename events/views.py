"""Organiser console pages (login required): the shell, organisers, the team, invitations.

Every page fetches its organiser through ``events.access``: another organiser's page (or
member, or invitation) answers exactly like a missing one (404); a member whose role
lacks the permission gets 403. Form errors answer 400 with the form again, a change the
rules refuse (the last owner) 409, a used or expired invitation 410.
"""

from __future__ import annotations

import math
import smtplib
from typing import Any

from allauth.account import views as allauth_views  # type: ignore[import-untyped]
from allauth.account.adapter import get_adapter  # type: ignore[import-untyped]
from axes.decorators import axes_dispatch  # type: ignore[import-untyped]
from axes.helpers import get_cool_off  # type: ignore[import-untyped]
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from events import access, forms, services
from events.auth import current_organiser, remember_organiser
from events.exceptions import InvitationGone, LastOwner
from events.models import Booth, Event, Invitation, Membership, Organiser
from events.roles import Perm, Role

#: Events per page on an organiser's home, and booths shown in its summary.
EVENTS_PER_PAGE = 20
BOOTHS_IN_SUMMARY = 12
#: Members and invitations shown per page of the team page.
MEMBERS_PER_PAGE = 50


def home(request: HttpRequest) -> HttpResponse:
    """Show the landing page, or the console to a signed-in organiser."""
    if request.user.is_authenticated:
        return redirect("events:console")
    return render(request, "events/home.html")


# django-axes refuses a locked-out username and address before allauth's view runs (its
# backend and middleware also catch a lockout reached during this very sign-in).
login = axes_dispatch(allauth_views.LoginView.as_view(template_name="account/login.html"))


def _membership(request: HttpRequest, organiser: Organiser) -> Membership:
    """Return the signed-in user's membership of ``organiser`` (already authorised)."""
    membership = (
        Membership.objects.for_organiser(organiser).filter(user_id=_user(request).pk).first()
    )
    if membership is None:
        raise Http404
    return membership


def _user(request: HttpRequest) -> AbstractBaseUser:
    """Return the signed-in user (every caller is behind ``login_required``)."""
    user = request.user
    if isinstance(user, AnonymousUser):
        raise PermissionDenied
    return user


def _url_or_empty(name: str, *args: object) -> str:
    """Reverse ``name``, or "" while another area has not built that page yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _organiser_home(request: HttpRequest, organiser: Organiser) -> HttpResponse:
    membership = _membership(request, organiser)
    remember_organiser(request, organiser)
    events = (
        Event.objects.for_organiser(organiser)
        .annotate(session_count=Count("sessions", distinct=True))
        .order_by("archived_at", "-starts_at", "pk")
    )
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    booths = Booth.objects.for_organiser(organiser).select_related("current_event")
    counts = booths.aggregate(
        total=Count("pk"),
        revoked=Count("pk", filter=Q(revoked_at__isnull=False)),
        serving=Count("pk", filter=Q(revoked_at__isnull=True, current_event__isnull=False)),
    )
    can_manage = membership.allows(Perm.MANAGE)
    context: dict[str, Any] = {
        "organiser": organiser,
        "membership": membership,
        "page": page,
        "events": page.object_list,
        "booths": booths.order_by("name")[:BOOTHS_IN_SUMMARY],
        "booth_counts": counts,
        "more_booths": max(0, counts["total"] - BOOTHS_IN_SUMMARY),
        "country": forms.country_name(organiser.country),
        "new_event_url": _url_or_empty("events:event-create", organiser.slug) if can_manage else "",
        "booths_url": _url_or_empty("events:booths", organiser.slug),
    }
    return render(request, "console/organiser_home.html", context)


@login_required
def console(request: HttpRequest) -> HttpResponse:
    """Show the current organiser's home, or a choice of organisers, or a way to make one.

    With one organiser, or one remembered in the session, its home (events and booths);
    with several and none chosen, the list of them; with none, the page to create one.
    """
    organiser = current_organiser(request)
    if organiser is not None:
        return _organiser_home(request, organiser)
    memberships = sorted(
        access.access_console(request.user).memberships, key=lambda m: m.organiser.name
    )
    if memberships:
        return render(request, "console/organisers.html", {"memberships": memberships})
    return render(
        request,
        "console/organiser_create.html",
        {"form": forms.OrganiserForm(), "first": True},
    )


@require_GET
@login_required
def organiser_home(request: HttpRequest, organiser_slug: str) -> HttpResponse:
    """One organiser's home: its events (paginated, newest first) and a booths summary.

    Opening it makes this organiser the console's current one. 404 for an organiser the
    user is not a member of (or that does not exist).
    """
    organiser = access.access_organiser(request.user, organiser_slug, perm=Perm.VIEW)
    return _organiser_home(request, organiser)


@login_required
def organiser_create(request: HttpRequest) -> HttpResponse:
    """Create another organiser, owned by the signed-in user; then open its home."""
    form = forms.OrganiserForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            organiser = services.create_organiser(
                _user(request),
                name=form.cleaned_data["name"],
                country=form.cleaned_data["country"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            remember_organiser(request, organiser)
            messages.success(request, f"{organiser.name} is ready: you are its owner.")
            return redirect("events:organiser-home", organiser.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "console/organiser_create.html", {"form": form}, status=status)


@login_required
@require_POST
def switch_organiser(request: HttpRequest) -> HttpResponse:
    """Make another of the user's organisers the current one and open its home (POST).

    The form's ``organiser`` is a slug; one the user is not a member of answers 404, as
    a missing one does.
    """
    form = forms.SwitchOrganiserForm(request.POST)
    if not form.is_valid():
        raise Http404
    organiser = access.access_organiser(
        request.user, form.cleaned_data["organiser"], perm=Perm.VIEW
    )
    remember_organiser(request, organiser)
    return redirect("events:organiser-home", organiser.slug)


def _add_errors(form: Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _team_page(
    request: HttpRequest,
    organiser: Organiser,
    *,
    invite_form: forms.InviteForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    membership = _membership(request, organiser)
    is_owner = membership.allows(Perm.ADMIN)
    members = Paginator(
        Membership.objects.for_organiser(organiser)
        .select_related("user")
        .order_by("user__username", "pk"),
        MEMBERS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    invitations = (
        Invitation.objects.for_organiser(organiser)
        .pending()
        .select_related("invited_by")
        .order_by("-created_at")[:MEMBERS_PER_PAGE]
        if is_owner
        else []
    )
    rows = []
    for member in members.object_list:
        form = forms.RoleForm(initial={"role": member.role}, prefix=str(member.public_id))
        form.fields["role"].widget.attrs["aria-label"] = f"Role of {member.user.get_username()}"
        rows.append(
            {
                "membership": member,
                "email": member.user.email,
                "is_me": member.user_id == request.user.pk,
                "form": form,
            }
        )
    context = {
        "organiser": organiser,
        "membership": membership,
        "is_owner": is_owner,
        "page": members,
        "rows": rows,
        "invitations": invitations,
        "invite_form": invite_form or forms.InviteForm(),
        "error": error,
        "days": settings.BOOTHSITE_INVITATION_DAYS,
    }
    return render(request, "console/team.html", context, status=status)


@login_required
def team(request: HttpRequest, organiser_slug: str) -> HttpResponse:
    """Show the team (members and roles); owners also invite, change roles and remove.

    GET for every member (Perm.VIEW). POST invites someone (``email``, ``role``; owners
    only, Perm.ADMIN, else 403): the invitation is saved and emailed; a bad address
    answers 400 with the form. A mail server that refuses the email keeps the
    invitation pending, says so, and offers to send it again.
    """
    organiser = access.access_organiser(request.user, organiser_slug, perm=Perm.VIEW)
    if request.method != "POST":
        return _team_page(request, organiser)
    organiser = access.access_organiser(request.user, organiser_slug, perm=Perm.ADMIN)
    form = forms.InviteForm(request.POST)
    if not form.is_valid():
        return _team_page(request, organiser, invite_form=form, status=400)
    try:
        issued = services.invite_member(
            organiser,
            email=form.cleaned_data["email"],
            role=Role(form.cleaned_data["role"]),
            invited_by=_user(request),
        )
    except ValidationError as error:
        _add_errors(form, error)
        return _team_page(request, organiser, invite_form=form, status=400)
    _send_invitation(request, issued)
    return redirect("events:team", organiser.slug)


def _send_invitation(request: HttpRequest, issued: services.IssuedInvitation) -> None:
    email = issued.invitation.email
    try:
        services.send_invitation(issued)
    except (smtplib.SMTPException, OSError):
        messages.error(
            request,
            f"The invitation to {email} is saved, but the email could not be sent (the mail "
            "server did not take it). Try “Send again” in a moment.",
        )
    else:
        messages.success(
            request,
            f"Invitation sent to {email} as {issued.invitation.get_role_display().lower()}.",
        )


@login_required
@require_POST
def team_member(request: HttpRequest, organiser_slug: str, member_id: str) -> HttpResponse:
    """Change a member's role (``action=role``, with ``<member id>-role``) or remove them.

    Owners (Perm.ADMIN) change anyone; every member may remove themselves (leave). A
    member of another organiser answers 404; a viewer or manager changing someone else
    403; demoting or removing the last owner 409 with the team page and the reason.
    """
    organiser = access.access_organiser(request.user, organiser_slug, perm=Perm.VIEW)
    member = (
        Membership.objects.for_organiser(organiser)
        .select_related("user")
        .filter(public_id=access.public_id_or_404(member_id))
        .first()
    )
    if member is None:
        raise Http404
    action = request.POST.get("action")
    leaving = action == "remove" and member.user_id == request.user.pk
    if not leaving and not _membership(request, organiser).allows(Perm.ADMIN):
        raise PermissionDenied
    try:
        if action == "remove":
            services.remove_member(member)
        elif action == "role":
            form = forms.RoleForm(request.POST, prefix=str(member.public_id))
            if not form.is_valid():
                return _team_page(request, organiser, error="Choose a role.", status=400)
            services.change_role(member, Role(form.cleaned_data["role"]))
        else:
            return _team_page(request, organiser, error="Unknown action.", status=400)
    except LastOwner as error:
        return _team_page(request, organiser, error=error.message, status=error.status_code)
    name = member.user.get_username()
    if leaving:
        messages.success(request, f"You left {organiser.name}.")
        return redirect("events:console")
    if action == "remove":
        messages.success(request, f"{name} is no longer a member.")
    else:
        messages.success(request, f"{name} is now {member.get_role_display().lower()}.")
    return redirect("events:team", organiser.slug)


@login_required
@require_POST
def team_invitation(request: HttpRequest, organiser_slug: str, invitation_id: str) -> HttpResponse:
    """Send a pending invitation again (a new link) or cancel it (``action``); owners only."""
    organiser = access.access_organiser(request.user, organiser_slug, perm=Perm.VIEW)
    invitation = (
        Invitation.objects.for_organiser(organiser)
        .select_related("organiser", "invited_by")
        .filter(public_id=access.public_id_or_404(invitation_id))
        .first()
    )
    if invitation is None:
        raise Http404
    access.access_organiser(request.user, organiser_slug, perm=Perm.ADMIN)
    action = request.POST.get("action")
    try:
        if action == "resend":
            _send_invitation(request, services.renew_invitation(invitation))
        elif action == "cancel":
            services.cancel_invitation(invitation)
            messages.success(request, f"The invitation to {invitation.email} is cancelled.")
        else:
            return _team_page(request, organiser, error="Unknown action.", status=400)
    except InvitationGone:
        return _team_page(request, organiser, error="That invitation was already used.", status=409)
    return redirect("events:team", organiser.slug)


def _gone(request: HttpRequest, invitation: Invitation | None = None) -> HttpResponse:
    response = render(
        request,
        "events/invite_gone.html",
        {
            "invitation": invitation,
            "message": services.INVITATION_GONE_MESSAGE,
            "days": settings.BOOTHSITE_INVITATION_DAYS,
        },
        status=InvitationGone.status_code,
    )
    response["Cache-Control"] = "no-store"
    return response


def accept_invite(request: HttpRequest, token: str) -> HttpResponse:
    """Show who invites, to which organiser and with which role; accept on POST.

    Anyone with the link sees the page; signed out, it offers to create an account
    (``events:invite-signup``) or sign in and come back; signed in, a POST accepts it
    and opens the organiser's home. An unknown link answers 404; a used, cancelled or
    expired one 410 with a clear page.
    """
    invitation = services.find_invitation(token)
    if invitation is None:
        raise Http404
    if not invitation.is_usable:
        return _gone(request, invitation)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('events:login')}?next={request.path}")
        try:
            services.accept_invitation(invitation, request.user)
        except InvitationGone:
            return _gone(request, invitation)
        remember_organiser(request, invitation.organiser)
        messages.success(request, f"Welcome to {invitation.organiser.name}.")
        return redirect("events:organiser-home", invitation.organiser.slug)
    member = (
        request.user.is_authenticated
        and Membership.objects.for_organiser(invitation.organiser)
        .filter(user_id=request.user.pk)
        .exists()
    )
    response = render(
        request,
        "events/invite.html",
        {"invitation": invitation, "token": token, "already_member": member},
    )
    response["Cache-Control"] = "no-store"
    return response


class InviteSignupView(allauth_views.SignupView):  # type: ignore[misc]
    """allauth's sign-up for an invited person: no organiser to create, the invitation's.

    The form starts with the invited address, and an account opened with it counts as
    verified (the link reached that inbox). 404 for an unknown link, 410 for a used,
    cancelled or expired one.
    """

    template_name = "account/signup.html"
    invitation: Invitation

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        invitation = services.find_invitation(kwargs["token"])
        if invitation is None:
            raise Http404
        if not invitation.is_usable:
            return _gone(request, invitation)
        self.invitation = invitation
        response: HttpResponseBase = super().dispatch(request, *args, **kwargs)
        return response

    def form_valid(self, form: forms.InviteeSignupForm) -> HttpResponse:
        # The invited address is verified (the link reached it); another one typed
        # instead (a forwarded link) is verified by email as usual, and the invited one
        # is not added to the account.
        if form.cleaned_data.get("email", "").lower() == self.invitation.email.lower():
            get_adapter(self.request).stash_verified_email(self.request, self.invitation.email)
        response: HttpResponse = super().form_valid(form)
        return response

    def get_form_class(self) -> type[forms.InviteeSignupForm]:
        return forms.InviteeSignupForm

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_form_kwargs()
        kwargs["invitation"] = self.invitation
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context["invitation"] = self.invitation
        context["token"] = self.kwargs["token"]
        return context


invite_signup = InviteSignupView.as_view()


@require_GET
@login_required
def event_detail(request: HttpRequest, organiser_slug: str, event_slug: str) -> HttpResponse:
    """One event: its gallery link, booths and latest sessions."""
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.VIEW)
    sessions = (
        event.sessions.select_related("booth")
        .annotate(capture_count=Count("captures"))
        .order_by("-started_at")[:50]
    )
    return render(
        request,
        "events/event_detail.html",
        {
            "organiser": event.organiser,
            "event": event,
            "sessions": sessions,
            "booths": event.booths.all(),
        },
    )


def login_locked_out(
    request: HttpRequest, original_response: object = None, credentials: object = None
) -> HttpResponse:
    """Answer a sign-in refused by django-axes: 429, ``Retry-After`` and when to retry.

    ``settings.AXES_LOCKOUT_CALLABLE`` for both the console's and the admin's sign-in
    page. The wait is ``AXES_COOLOFF_TIME`` in seconds (each failed try while locked out
    starts it again). ``original_response`` and ``credentials`` come from axes and are
    not used: the page never repeats the username.
    """
    cool_off = get_cool_off(request)
    seconds = max(1, int(cool_off.total_seconds())) if cool_off else 3600
    context: dict[str, Any] = {"minutes": math.ceil(seconds / 60)}
    response = render(
        request, "events/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE
    )
    response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    return response
