"""What guests see at the edges (issue 12.8), in chromium, from a daphne with DEBUG off.

Each error page (400, 403, the CSRF 403, 404, 500) must fit a 390x844 phone without
sideways scrolling, with its message and its way back on the first screen; the favicon
must answer at ``/favicon.ico`` and at the address the pages link.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import (
    CHROMIUM,
    PAGE_VIEWPORTS,
    Site,
    check_fits,
)
from tests.error_urls import CRASH_DETAIL

pytestmark = pytest.mark.browser


@pytest.fixture
def page() -> Iterator[Any]:
    """A chromium page (no camera needed) at 1280x800."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"],
        )  # fmt: skip
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(20_000)
        yield context.new_page()
        browser.close()


def post_without_csrf(site: Site) -> Any:
    """Open a guest page, then send a form to the site without its CSRF token."""

    def open_page(page: Any) -> Any:
        page.goto(site.url + "/")
        with page.expect_navigation() as navigation:
            page.evaluate(
                """(action) => {
                  const form = document.createElement("form");
                  form.method = "post";
                  form.action = action;
                  document.body.append(form);
                  form.submit();
                }""",
                site.url + "/console/login/",
            )
        return navigation.value

    return open_page


ERROR_PAGES = {
    "error-404": ("/no-such-page/", 404, "We can't find that page"),
    "error-404-guest-link": ("/s/" + "x" * 22 + "/", 404, "We can't find that page"),
    "error-403": ("/test-errors/403/", 403, "This page is not open to you"),
    "error-403-csrf": (None, 403, "This form has expired"),
    "error-500": ("/test-errors/500/", 500, "Something went wrong on our side"),
    "error-400": ("/test-errors/400/", 400, "The browser sent a request we can't read"),
}


@pytest.mark.parametrize("name", ERROR_PAGES)
def test_error_page_fits_a_phone_with_its_message_and_way_back(site_debug_off, page, name):
    path, status, heading = ERROR_PAGES[name]
    opener = post_without_csrf(site_debug_off) if path is None else None
    url = site_debug_off.url + (path or "/console/login/")
    statuses = check_fits(page, url, name, open_page=opener)
    assert statuses == [status] * len(PAGE_VIEWPORTS)
    assert page.inner_text("h1") == heading
    assert CRASH_DETAIL not in page.content()
    background = "() => getComputedStyle(document.querySelector('.error-box')).backgroundColor"
    assert page.evaluate(background) == "rgb(255, 255, 255)"  # the stylesheet applied
    page.set_viewport_size({"width": 390, "height": 844})
    for selector in (".error-code", "h1", ".error-box .lead", ".error-actions .button"):
        box = page.locator(selector).bounding_box()
        assert box, f"{name}: {selector} is missing"
        assert box["x"] >= 0, f"{name}: {selector} is cut on the left"
        assert box["x"] + box["width"] <= 390, f"{name}: {selector} is cut on the right"
        assert box["y"] + box["height"] <= 844, f"{name}: {selector} is below the fold"
    page.click(".error-actions .button")
    page.wait_for_url(site_debug_off.url + "/")


def test_favicon_answers_where_browsers_ask(site_debug_off, page):
    page.goto(site_debug_off.url + "/")
    icon = page.request.get(site_debug_off.url + "/favicon.ico")
    assert (icon.status, icon.headers["content-type"]) == (200, "image/x-icon")
    assert icon.body()[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    for link in page.locator("link[rel~=icon], link[rel=apple-touch-icon]").all():
        linked = page.request.get(site_debug_off.url + link.get_attribute("href"))
        assert linked.status == 200, link.get_attribute("href")
        assert linked.headers["content-type"].startswith("image/")
