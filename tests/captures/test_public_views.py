"""Guest pages: the session link, the event gallery and local media."""

from __future__ import annotations

import pytest

from captures import services
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_session(tenant_a, django_capture_on_commit_callbacks):
    session = factories.make_session(tenant_a.booth)
    with django_capture_on_commit_callbacks(execute=True):
        for color in [(250, 10, 10), (10, 250, 10)]:
            services.record_capture(session, factories.image_bytes("PNG", color=color))
        services.finish_session(session)
    return session


def test_session_page_shows_captures_variants_and_strip(anon_client, finished_session):
    response = anon_client.get(finished_session.share_path())
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="card"') == 2
    assert html.count('class="card strip"') == 1
    assert html.count("version") == 8
    assert 'name="viewport"' in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in html


def test_session_page_refreshes_while_rendering(anon_client, tenant_a):
    session = factories.make_session(tenant_a.booth)
    services.record_capture(session, factories.image_bytes("PNG"))
    html = anon_client.get(session.share_path()).content.decode()
    assert 'http-equiv="refresh"' in html
    assert "still being made" in html


def test_gallery_lists_sessions_with_bounded_queries(
    anon_client, tenant_a, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    for _ in range(3):
        session = factories.make_session(tenant_a.booth)
        with django_capture_on_commit_callbacks(execute=True):
            services.record_capture(session, factories.image_bytes("PNG"))
            services.finish_session(session)
    with django_assert_max_num_queries(8):
        response = anon_client.get(tenant_a.event.gallery_path())
    assert response.status_code == 200
    assert response.content.decode().count('class="card strip"') == 3


def test_gallery_hides_hidden_captures(anon_client, tenant_a):
    session = factories.make_session(tenant_a.booth)
    capture = services.record_capture(session, factories.image_bytes("PNG"))
    capture.hidden = True
    capture.save()
    html = anon_client.get(tenant_a.event.gallery_path()).content.decode()
    assert capture.image.url not in html
    assert "No photos yet" in html


def test_gallery_with_passcode(anon_client, tenant_a):
    from events import services as event_services

    event = event_services.set_gallery_passcode(tenant_a.event, "smile")
    event.gallery_visibility = "passcode"
    event.save()
    gate = anon_client.get(event.gallery_path())
    assert gate.status_code == 200
    assert b'name="passcode"' in gate.content
    wrong = anon_client.post(event.gallery_path(), {"passcode": "frown"})
    assert wrong.status_code == 403
    assert anon_client.post(event.gallery_path(), {"passcode": "smile"}).status_code == 200
    assert b"No photos yet" in anon_client.get(event.gallery_path()).content


def test_media_is_served_without_sniffing(anon_client, tenant_a):
    session = factories.make_session(tenant_a.booth)
    capture = services.record_capture(session, factories.image_bytes("JPEG"))
    response = anon_client.get(capture.image.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    download = anon_client.get(capture.image.url + "?download=1")
    assert download["Content-Disposition"].startswith("attachment")


def test_media_path_traversal_is_404(anon_client, db):
    assert anon_client.get("/media/../boothsite/settings.py").status_code == 404
    assert anon_client.get("/media/a/../../manage.py").status_code == 404
    assert anon_client.get("/media/no/such/file.jpg").status_code == 404


def test_booth_page_renders(anon_client, db):
    response = anon_client.get("/booth/")
    assert response.status_code == 200
    assert b"booth.js" in response.content


def test_session_qr_code_is_svg_for_the_booth(booth_client_a, tenant_a):
    session = factories.make_session(tenant_a.booth)
    response = booth_client_a.get(f"/api/v1/booth/sessions/{session.public_id}/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg")
