"""The QR table card in chromium (issue 14.7): one printed page of A6 or A4, a code that scans.

Chromium prints the page with its CSS page size (``page.pdf(prefer_css_page_size=True)``,
what the print dialog does by default): the card alone on exactly one sheet. The card's
QR code, as the browser draws it, decodes (opencv) to the gallery link, and axe-core
finds no serious or critical problem at the phone and laptop sizes.
"""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PAGE_VIEWPORTS, SCREENS, axe_problems, check_fits, write_logo
from tests.browser.test_console import sign_in

pytestmark = pytest.mark.browser

CARD = "/console/demo/demo-party/table-card/"
#: Paper sizes in PDF points (1/72 in): A6 is 105x148 mm, A4 210x297 mm.
PAPER = {"a6": (297.6, 419.5), "a4": (595.3, 841.9)}


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's (width, height) in points, from its /MediaBox (chromium's PDFs)."""
    text = pdf.decode("latin-1")
    pages = re.findall(r"/Type\s*/Page\b(?!s)", text)
    boxes = [
        (float(x1) - float(x0), float(y1) - float(y0))
        for x0, y0, x1, y1 in re.findall(
            r"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", text
        )
    ]
    assert len(boxes) == len(pages), (len(boxes), len(pages))
    return boxes


def test_the_table_card_prints_on_one_a6_and_one_a4_page(site, browser_for, tmp_path):
    out = site.manage("seed_demo")
    gallery = re.search(r"Event gallery:\s+(\S+)", out)
    assert gallery, out
    site.set_logo(write_logo(tmp_path / "logo.png"))
    page = browser_for(smiling=False)
    sign_in(page, site)

    page.goto(site.url + CARD)
    expect(page.get_by_role("heading", name="Table card")).to_be_visible()
    print_button = page.get_by_role("button", name="Print this card")
    expect(print_button).to_be_visible()  # shown by table-card.js
    card = page.locator(".table-card")
    expect(card.locator(".table-card-name")).to_have_text("Demo Party")
    expect(card).to_contain_text("Scan with your phone")
    logo = card.locator(".table-card-logo")
    expect(logo).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", logo.element_handle()) > 0

    # The code as chromium draws it scans to the gallery link.
    shot = card.locator(".table-card-qr").screenshot()
    image = cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert points is not None
    assert text == gallery.group(1)

    for size, (width, height) in PAPER.items():
        page.get_by_label("Card size").select_option(size)
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(f"**/table-card/?size={size}")
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        SCREENS.mkdir(parents=True, exist_ok=True)
        (SCREENS / f"table-card-{size}.pdf").write_bytes(pdf)
        pages = pdf_pages(pdf)
        assert len(pages) == 1, f"{size}: {len(pages)} pages"
        assert pages[0] == pytest.approx((width, height), abs=1.5), size

    # What the printer gets, as a picture: the card alone, nothing of the console. (Once
    # media is emulated, page.pdf() follows it, so this comes after the PDFs.)
    page.emulate_media(media="print")
    for size in PAPER:
        page.goto(site.url + CARD + f"?size={size}")
        expect(page.locator(".console-nav")).to_be_hidden()
        expect(page.locator(".table-card-controls")).to_be_hidden()
        page.screenshot(path=str(SCREENS / f"table-card-{size}-print.png"), full_page=True)
    page.emulate_media(media="screen")

    for size in PAPER:
        statuses = check_fits(page, site.url + CARD + f"?size={size}", f"table-card-{size}")
        assert statuses == [200] * len(PAGE_VIEWPORTS)

    problems = []
    for label, (width, height) in PAGE_VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        for size in PAPER:
            page.goto(site.url + CARD + f"?size={size}")
            problems += axe_problems(page, f"table card {size} at {label}")
    assert problems == []
