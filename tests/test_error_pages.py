"""What guests see at the edges (issue 12.8): the favicon and the styled error pages.

Every error page is checked with DEBUG off, as production serves it: Django shows its own
technical pages instead while DEBUG is on.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.test import Client, override_settings
from PIL import Image

from tests.error_urls import CRASH_DETAIL

ERROR_URLS = "tests.error_urls"

STYLESHEET = re.compile(r'<link rel="stylesheet" href="/static/boothsite\.css')
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def assert_styled_error(html: str, *, code: str, heading: str) -> None:
    """The page has the site's look (stylesheet, viewport, top bar), its message and a way home."""
    assert STYLESHEET.search(html), "the error page does not load the site's stylesheet"
    assert VIEWPORT in html
    assert 'class="brand" href="/"' in html
    assert 'class="error-page"' in html
    assert f'<p class="error-code">{code}</p>' in html
    assert f'<h1 id="error-title">{heading}</h1>' in html
    assert re.search(r'<a class="button" href="/">[^<]+</a>', html), "no way back"


@pytest.fixture
def client_debug_off() -> Client:
    return Client(raise_request_exception=False)


@override_settings(DEBUG=False)
@pytest.mark.django_db
def test_favicon_ico_answers_with_an_icon(client_debug_off):
    response = client_debug_off.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert "max-age=" in response["Cache-Control"]
    icon = Image.open(io.BytesIO(response.content))
    assert icon.format == "ICO"
    assert {(16, 16), (32, 32), (48, 48)} <= set(icon.info["sizes"])
    assert client_debug_off.head("/favicon.ico").status_code == 200
    assert client_debug_off.post("/favicon.ico").status_code == 405


@override_settings(DEBUG=False)
@pytest.mark.django_db
def test_every_page_links_the_icons(client_debug_off):
    html = client_debug_off.get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    assert '<link rel="icon" href="/static/favicon.ico" sizes="32x32">' in html
    assert '<link rel="apple-touch-icon" href="/static/apple-touch-icon.png">' in html


def test_the_linked_icons_are_real_images():
    from django.contrib.staticfiles import finders

    svg = finders.find("favicon.svg")
    assert isinstance(svg, str)
    assert "<svg" in Path(svg).read_text(encoding="utf-8")
    touch_path = finders.find("apple-touch-icon.png")
    assert isinstance(touch_path, str)
    touch = Image.open(touch_path)
    assert (touch.format, touch.size) == ("PNG", (180, 180))


@override_settings(DEBUG=False)
@pytest.mark.django_db
def test_unknown_page_gets_the_styled_404(client_debug_off):
    response = client_debug_off.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert_styled_error(html, code="404", heading="We can't find that page")
    assert "no-such-page" not in html  # nothing of the address is echoed


@override_settings(DEBUG=False)
@pytest.mark.django_db
def test_guest_links_that_lead_nowhere_share_one_styled_404(client_debug_off):
    share = client_debug_off.get("/s/" + "x" * 22 + "/")
    gallery = client_debug_off.get("/g/" + "y" * 22 + "/")
    assert share.status_code == gallery.status_code == 404
    assert share.content == gallery.content
    assert "photo link" in share.content.decode()


@override_settings(DEBUG=False)
@pytest.mark.django_db
def test_member_without_the_permission_gets_the_styled_403(tenant_a):
    viewer = Client(raise_request_exception=False)
    viewer.force_login(tenant_a.viewer)
    response = viewer.get(f"/console/{tenant_a.organiser.slug}/privacy/erase-number/")
    assert response.status_code == 403
    assert_styled_error(
        response.content.decode(), code="403", heading="This page is not open to you"
    )


@override_settings(DEBUG=False)
@pytest.mark.django_db
def test_form_without_its_csrf_cookie_gets_the_styled_403(tenant_a):
    guest = Client(enforce_csrf_checks=True)
    response = guest.post(f"/g/{tenant_a.event.gallery_token}/", {"passcode": "x"})
    assert response.status_code == 403
    html = response.content.decode()
    assert_styled_error(html, code="403", heading="This form has expired")
    assert "CSRF" not in html


@override_settings(DEBUG=False, ROOT_URLCONF=ERROR_URLS)
@pytest.mark.django_db
def test_a_crash_gets_the_styled_500_without_details(client_debug_off):
    response = client_debug_off.get("/test-errors/500/")
    assert response.status_code == 500
    html = response.content.decode()
    assert_styled_error(html, code="500", heading="Something went wrong on our side")
    assert CRASH_DETAIL not in html
    assert "Traceback" not in html
    assert "RuntimeError" not in html


@override_settings(DEBUG=False, ROOT_URLCONF=ERROR_URLS)
@pytest.mark.django_db
def test_permission_denied_anywhere_gets_the_styled_403(client_debug_off):
    response = client_debug_off.get("/test-errors/403/")
    assert response.status_code == 403
    assert_styled_error(
        response.content.decode(), code="403", heading="This page is not open to you"
    )


def test_the_500_page_renders_without_a_request_or_the_database():
    """As Django's server_error renders it: no context, no request (and no DB: no marker)."""
    html = render_to_string("500.html")
    assert_styled_error(html, code="500", heading="Something went wrong on our side")


@override_settings(DEBUG=False)
@pytest.mark.django_db
def test_unknown_host_gets_the_styled_400(client_debug_off):
    response = client_debug_off.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    html = response.content.decode()
    assert_styled_error(html, code="400", heading="The browser sent a request we can't read")
    assert "evil.example" not in html
    assert "ALLOWED_HOSTS" not in html


@override_settings(DEBUG=False, ROOT_URLCONF=ERROR_URLS)
@pytest.mark.django_db
def test_a_tampered_request_gets_the_styled_400_without_details(client_debug_off):
    response = client_debug_off.get("/test-errors/400/")
    assert response.status_code == 400
    html = response.content.decode()
    assert_styled_error(html, code="400", heading="The browser sent a request we can't read")
    assert CRASH_DETAIL not in html
