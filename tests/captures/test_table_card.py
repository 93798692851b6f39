"""The console's printable QR table card (issue 14.7): access, sizes, logo and a QR that scans."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from captures import services
from events import services as event_services
from events.roles import Role
from tests import factories

pytestmark = pytest.mark.django_db


def card_url(tenant, query: str = "") -> str:
    path = reverse("captures:event-table-card", args=[tenant.organiser.slug, tenant.event.slug])
    return path + query


def member(tenant, role: Role = Role.VIEWER) -> Client:
    client = Client()
    client.force_login(factories.make_member(tenant.organiser, role))
    return client


def page_qr(html: str) -> str:
    """The page's segno SVG."""
    match = re.search(r'<svg viewBox="[^"]*" class="segno">.*?</svg>', html, re.S)
    assert match, "no QR code on the page"
    return match.group(0)


def rasterise(svg: str, scale: int = 10) -> np.ndarray:
    """Draw segno's inline SVG (a white square, then one stroked path of 1-module lines).

    Its dark path is made of ``M x y``, ``m dx dy`` and ``h n`` commands: each ``h``
    draws modules from x to x+n on the row y - 0.5.
    """
    square = re.search(r'd="M0 0h(\d+)v', svg)  # the white square, the code's side
    path = re.search(r'class="qrline"[^>]*d="([^"]+)"', svg)
    assert square, svg
    assert path, svg
    side, dark = int(square.group(1)), path.group(1)
    modules = np.zeros((side, side), dtype=bool)
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHhVv])([-\d. ]+)", dark):
        values = [float(n) for n in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        elif command == "h":
            modules[int(y - 0.5), int(x) : int(x + values[0])] = True
            x += values[0]
        else:
            raise AssertionError(f"unexpected SVG command {command}")
    pixels = np.where(modules, 0, 255).astype(np.uint8)
    return np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))


def decode(image: np.ndarray) -> str:
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert points is not None, "opencv found no QR code"
    return str(text)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MANAGER, Role.OWNER])
def test_every_member_gets_the_card(tenant_a, role):
    response = member(tenant_a, role).get(card_url(tenant_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert tenant_a.event.name in html
    assert "Scan with your phone" in html
    assert "table-card-a6" in html  # A6 unless asked otherwise
    assert 'name="size"' in html
    assert "Print this card" in html


def test_the_qr_decodes_to_the_gallery_url(tenant_a, settings):
    settings.SITE_URL = "https://photos.example.org"
    html = member(tenant_a).get(card_url(tenant_a)).content.decode()
    expected = f"https://photos.example.org/g/{tenant_a.event.gallery_token}/"
    assert expected == tenant_a.event.gallery_url()
    assert decode(rasterise(page_qr(html))) == expected


def test_a_rotated_link_gets_a_new_code(tenant_a):
    client = member(tenant_a)
    before = decode(rasterise(page_qr(client.get(card_url(tenant_a)).content.decode())))
    event_services.rotate_gallery_token(tenant_a.event)
    after = decode(rasterise(page_qr(client.get(card_url(tenant_a)).content.decode())))
    assert before != after
    assert after.endswith(f"/g/{tenant_a.event.gallery_token}/")


@pytest.mark.parametrize(("query", "size"), [("?size=a6", "a6"), ("?size=a4", "a4")])
def test_both_sizes(tenant_a, query, size):
    response = member(tenant_a).get(card_url(tenant_a, query))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"table-card-{size}" in html
    assert f'value="{size}" selected' in html


@pytest.mark.parametrize("query", ["?size=letter", "?size=", "?size=A4%00"])
def test_an_unknown_size_is_refused_by_name(tenant_a, query):
    response = member(tenant_a).get(card_url(tenant_a, query))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose A6 or A4" in html
    assert "table-card-a6" in html  # the default card is still shown


def test_the_logo_is_on_the_card(tenant_a):
    assert "table-card-logo" not in member(tenant_a).get(card_url(tenant_a)).content.decode()
    event = services.update_branding(
        tenant_a.event,
        welcome_text="",
        brand_color="#d6336c",
        logo=factories.image_bytes("PNG", (120, 40)),
    )
    html = member(tenant_a).get(card_url(tenant_a)).content.decode()
    assert f'class="table-card-logo" src="{event.logo.url}"' in html


def test_a_closed_gallery_is_warned_about(tenant_a):
    client = member(tenant_a)
    assert 'class="notice"' not in client.get(card_url(tenant_a)).content.decode()
    tenant_a.event.gallery_visibility = "off"
    tenant_a.event.save(update_fields=["gallery_visibility"])
    assert "The gallery is turned off" in client.get(card_url(tenant_a)).content.decode()
    tenant_a.event.gallery_visibility = "link"
    tenant_a.event.gallery_revoked_at = timezone.now()
    tenant_a.event.save(update_fields=["gallery_visibility", "gallery_revoked_at"])
    assert "This gallery link is revoked" in client.get(card_url(tenant_a)).content.decode()


def test_another_organisers_event_answers_like_a_missing_one(tenant_a, tenant_b):
    client = Client()
    client.force_login(tenant_b.owner)
    foreign = client.get(card_url(tenant_a))
    missing = client.get(
        reverse("captures:event-table-card", args=[tenant_a.organiser.slug, "no-such-event"])
    )
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    own_slug = reverse("captures:event-table-card", args=[tenant_b.organiser.slug, "party"])
    assert tenant_a.event.gallery_token not in client.get(own_slug).content.decode()


def test_signed_out_goes_to_sign_in_and_post_is_refused(tenant_a):
    response = Client().get(card_url(tenant_a))
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert member(tenant_a).post(card_url(tenant_a)).status_code == 405
