"""URLs of the ``events`` namespace: sign-in, the console's shell, team and invitations.

Fixed console pages come before ``/console/<organiser>/`` and ``/console/<organiser>/
<event>/``; organiser slugs never take their words (``RESERVED_ORGANISER_SLUGS``), and
event slugs never take the words of the fixed pages under an organiser (the ``event``
converter). allauth's own pages (sign-up, email, password) live under ``/accounts/``
(``boothsite.urls``).
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

import events.converters  # noqa: F401  (registers the <event:…> converter)
from events import token_views, views, webhook_views

app_name = "events"

ORGANISER = "console/<slug:organiser_slug>/"

urlpatterns = [
    path("", include("events.event_urls")),
    path("", include("events.booth_urls")),
    path("console/login/", views.login, name="login"),
    path("console/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("console/", views.console, name="console"),
    path("console/new/", views.organiser_create, name="organiser-create"),
    path("console/switch/", views.switch_organiser, name="switch-organiser"),
    path("invite/<str:token>/", views.accept_invite, name="accept-invite"),
    path("invite/<str:token>/signup/", views.invite_signup, name="invite-signup"),
    path(ORGANISER, views.organiser_home, name="organiser-home"),
    path(ORGANISER + "team/", views.team, name="team"),
    path(ORGANISER + "team/members/<str:member_id>/", views.team_member, name="team-member"),
    path(
        ORGANISER + "team/invitations/<str:invitation_id>/",
        views.team_invitation,
        name="team-invitation",
    ),
    path(ORGANISER + "api-tokens/", token_views.api_tokens_page, name="api-tokens"),
    path(ORGANISER + "api-tokens/<str:token_id>/", token_views.api_token_revoke, name="api-token"),
    path(ORGANISER + "webhooks/", webhook_views.webhooks_page, name="webhooks"),
    path(ORGANISER + "webhooks/<str:webhook_id>/", webhook_views.webhook_page, name="webhook"),
    path(ORGANISER + "<event:event_slug>/", views.event_detail, name="event-detail"),
    path("", views.home, name="home"),
]
