"""The guest pages' lightbox in Chromium (issue 14.1), at 390x844 and 1280x800.

A guest opens the share page and the event gallery, opens a photo in the lightbox,
moves by keyboard (arrows, Tab kept inside, Escape gives the focus back) and by swipe
(touch on the phone, a mouse drag on the laptop), switches a filter, and finds the
download named after the event and a number. Screens go to test-artifacts/screens/
(``gallery-*.png``) and axe-core finds no serious or critical violation.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import axe_problems, screenshot
from tests.browser.test_console_captures import snap_session

pytestmark = pytest.mark.browser

SIZES = {"390x844": (390, 844), "1280x800": (1280, 800)}
DOWNLOAD = re.compile(r"^demo-party-\d{4}(-[a-z0-9_]+)?\.(jpg|png)$")


#: The page's images, not the lightbox's own (empty while it is closed).
PAGE_IMAGES = "[...document.images].filter((i) => !i.closest('dialog'))"
LOADED = "(i) => i.complete && i.naturalWidth > 0"


def wait_for_images(page: Any) -> None:
    """Load every lazy image of the page (for the screenshot); fail naming any broken."""
    page.evaluate(
        "() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')"
    )
    try:
        page.wait_for_function(f"() => {PAGE_IMAGES}.every({LOADED})")
    except PlaywrightTimeout:
        broken = page.evaluate(
            f"() => {PAGE_IMAGES}.filter((i) => !({LOADED})(i)).map((i) => i.src)"
        )
        pytest.fail(f"images that did not load: {broken}")


def caption(page: Any) -> str:
    return str(page.locator(".lightbox-caption").inner_text())


def swipe(page: Any, *, touch: bool, left: bool) -> None:
    """Drag across the lightbox's stage: a finger (CDP touch events) or the mouse."""
    box = page.locator(".lightbox-stage").bounding_box()
    y = box["y"] + box["height"] / 2
    x0, x1 = box["x"] + box["width"] * 0.8, box["x"] + box["width"] * 0.2
    if not left:
        x0, x1 = x1, x0
    steps = [x0 + (x1 - x0) * n / 8 for n in range(9)]
    if touch:
        cdp = page.context.new_cdp_session(page)
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y}]}
        )
        for x in steps[1:]:
            cdp.send(
                "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
            )
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        cdp.detach()
    else:
        page.mouse.move(x0, y)
        page.mouse.down()
        for x in steps[1:]:
            page.mouse.move(x, y)
        page.mouse.up()


def walk_lightbox(page: Any, name: str, *, touch: bool) -> list[str]:
    """Open the first photo, move, swipe, switch a filter, close; return axe's problems."""
    wait_for_images(page)
    screenshot(page, f"{name}-page")
    problems = axe_problems(page, f"{name} page")
    opener = page.locator("[data-item]:not(.strip) a.open").first
    opener.click()
    dialog = page.get_by_role("dialog", name="Photo viewer")
    expect(dialog).to_be_visible()
    total = page.locator("[data-item]").count()
    first = caption(page)
    assert f"of {total}" in first
    # The download follows the photo and is named after the event and a number.
    download = page.locator(".lightbox-download")
    assert DOWNLOAD.match(download.get_attribute("download") or ""), download.get_attribute(
        "download"
    )
    assert "name=" in (download.get_attribute("href") or "")
    # Keyboard: → then ← come back; the focus never leaves the dialog.
    page.keyboard.press("ArrowRight")
    second = caption(page)
    assert second != first
    page.keyboard.press("ArrowLeft")
    assert caption(page) == first
    for _ in range(12):
        page.keyboard.press("Tab")
        assert page.evaluate(
            "() => document.querySelector('dialog.lightbox').contains(document.activeElement)"
        )
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(
        "() => document.querySelector('dialog.lightbox').contains(document.activeElement)"
    )
    # A filter: the image and the download switch to it.
    versions = page.locator(".lightbox-versions button")
    if versions.count() > 1:
        versions.nth(1).click()
        expect(versions.nth(1)).to_have_attribute("aria-pressed", "true")
        assert re.search(r"-[a-z0-9_]+\.(jpg|png)$", download.get_attribute("download") or "")
        assert "·" in caption(page)
    page.wait_for_function(
        "() => { const i = document.querySelector('.lightbox-image');"
        " return i.complete && i.naturalWidth > 0 && i.src === i.dataset.full; }"
    )
    screenshot(page, f"{name}-lightbox")
    problems += axe_problems(page, f"{name} lightbox")
    # Swipe left: the next photo; swipe right: back.
    swipe(page, touch=touch, left=True)
    expect(page.locator(".lightbox-caption")).to_have_text(
        re.compile(re.escape(second.split(" — ")[0]))
    )
    swipe(page, touch=touch, left=False)
    expect(page.locator(".lightbox-caption")).to_have_text(first)
    # A short drag is no swipe.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate("() => document.activeElement.classList.contains('open')")
    assert page.evaluate("(el) => el === document.activeElement", opener.element_handle())
    return problems


@pytest.mark.parametrize("size", SIZES)
def test_lightbox_on_the_share_page_and_the_gallery(site, pairing_url, browser_for, size):
    share_url = snap_session(site, 3)
    snap_session(site, 2)
    gallery = re.search(r"Event gallery:\s+(\S+)", site.manage("seed_demo"))
    assert gallery
    width, height = SIZES[size]
    touch = width < 600
    browser = browser_for(smiling=False).context.browser
    context = browser.new_context(
        viewport={"width": width, "height": height}, has_touch=touch, is_mobile=touch
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(share_url)
    expect(page.locator("h1")).to_have_text("Your photos")
    problems = walk_lightbox(page, f"gallery-share-{size}", touch=touch)
    page.goto(gallery.group(1))
    expect(page.locator(".session")).to_have_count(2)
    problems += walk_lightbox(page, f"gallery-event-{size}", touch=touch)
    # Without the lightbox a thumbnail is a plain link to its image.
    href = page.locator("[data-item] a.open").first.get_attribute("href")
    assert href
    assert href.startswith("/media/")
    assert page.request.get(site.url + href).ok
    context.close()
    assert not errors, errors
    assert not problems, "\n".join(problems)


def test_back_closes_the_lightbox_and_expired_urls_are_fetched_again(
    site, pairing_url, browser_for
):
    share_url = snap_session(site, 2)
    gallery = re.search(r"Event gallery:\s+(\S+)", site.manage("seed_demo"))
    assert gallery
    browser = browser_for(smiling=False).context.browser
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(share_url)
    page.goto(gallery.group(1))
    wait_for_images(page)
    dialog = page.get_by_role("dialog", name="Photo viewer")
    opener = page.locator("[data-item]:not(.strip) a.open").first
    # Back on a phone closes the lightbox and stays on the gallery.
    opener.click()
    expect(dialog).to_be_visible()
    page.go_back()
    expect(dialog).to_be_hidden()
    assert page.url == gallery.group(1)
    # Closing by Escape or ✕ takes its history entry back: Back then leaves the gallery.
    opener.click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    opener.click()
    page.locator(".lightbox-close").click()
    expect(dialog).to_be_hidden()
    page.wait_for_function("() => !(history.state && history.state.lightbox)")
    page.go_back()
    page.wait_for_url(share_url)
    # A page left open past the URLs' lifetime: its images fail, it fetches fresh URLs.
    page.goto(gallery.group(1))
    wait_for_images(page)
    stale = page.evaluate(
        """() => [...document.querySelectorAll('[data-lightbox] img')].map((img) => {
             img.removeAttribute('srcset');
             img.loading = 'eager';
             img.src = img.getAttribute('src').replace(/^\\/media\\/(\\d+)\\.[^/]+\\//,
               (all, expiry) => '/media/' + (Number(expiry) - 3600) + '.AAAAAAAAAAAAAAAAAAAAAA/');
             return img.getAttribute('src');
           })"""
    )
    assert stale
    assert all(page.request.get(site.url + url).status == 404 for url in stale[:3])
    wait_for_images(page)
    fresh = page.evaluate(
        "() => [...document.querySelectorAll('[data-lightbox] img')]"
        ".map((i) => i.getAttribute('src'))"
    )
    assert len(fresh) == len(stale)
    assert not set(fresh) & set(stale)
    assert all(re.match(r"^/media/\d+\.[A-Za-z0-9_-]{22}/", url) for url in fresh)
    context.close()
    assert not errors, errors
