"""The console's event download (login required): the whole event as one streamed ZIP.

Every member may download (``Perm.VIEW``); the event is fetched through
``events.access.access_event``, so another organiser's event answers exactly like a
missing one (404). Archived events download too: that is when organisers take their
photos home. The guests' version of the same ZIP is ``public_views.gallery_zip``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.views.decorators.http import require_GET

from captures import archive
from events import access
from events.roles import Perm


@login_required
@require_GET
def event_download(
    request: HttpRequest, organiser_slug: str, event_slug: str
) -> StreamingHttpResponse:
    """Stream every visible photo, variant and rendered strip of the event as one ZIP.

    The download starts at once with an exact Content-Length (``archive.zip_response``);
    the file is ``<event slug>.zip`` and its names ``<slug>/0001.jpg``,
    ``<slug>/0001-sepia.jpg``, ``<slug>/strips/0001-horizontal_4.jpg``.
    """
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.VIEW)
    response = archive.zip_response(request, archive.event_archive(event))
    response["Cache-Control"] = "private, no-store"
    return response
