"""The live slideshow in chromium against a real daphne (issue 14.3).

The projector's page watches the demo event's gallery. A booth uploads through the booth
API to the same daphne (renders run there, eagerly, and are pushed over its channel
layer): the new photo goes on screen without a reload. An organiser hides it in the
console (another browser context): it leaves the screen. The server restarts: the page
reconnects by itself and the next photo arrives too.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import SCREENS, axe_problems, screenshot
from tests.browser.test_console import sign_in

pytestmark = pytest.mark.browser

CURRENT = "() => document.getElementById('slideshow').dataset.current"


def awake_axe_problems(page) -> list[str]:
    """Run axe with the controls awake (they fade out, by design, after 3 s idle)."""
    page.mouse.move(640, 400)
    page.mouse.move(650, 410)
    page.wait_for_function(  # the fade back in, to the end (contrast is checked on it)
        "() => getComputedStyle(document.getElementById('show-bar')).opacity === '1'"
    )
    return axe_problems(page, "slideshow")


def upload(api: Any, site, token: str, photo: bytes) -> str:
    """Take one photo through the booth API; return its capture's public id."""
    headers = {"Authorization": f"Booth {token}"}
    session = api.post(site.url + "/api/v1/booth/sessions/", headers=headers, data={})
    assert session.status == 201, session.text()
    taken = api.post(
        site.url + f"/api/v1/booth/sessions/{session.json()['id']}/captures/",
        headers=headers,
        multipart={"image": {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": photo}},
    )
    assert taken.status == 201, taken.text()
    return str(taken.json()["id"])


def current_image_loaded(page) -> bool:
    return bool(
        page.evaluate(
            "() => { const img = document.querySelector('.show-slide.is-current');"
            " return !!img && img.complete && img.naturalWidth > 0; }"
        )
    )


def test_the_slideshow_gets_new_photos_drops_hidden_ones_and_survives_a_restart(site, browser_for):
    photos = factories.genki_photos(4)
    if len(photos) < 4:
        pytest.skip("../shared/data/genki4k-dev is not beside this checkout")
    out = site.manage("seed_demo")
    token = re.search(r"Booth token:\s+(bth_\S+)", out)
    gallery = re.search(r"Event gallery:\s+(\S+)", out)
    assert token, out
    assert gallery, out
    site.manage("snap", "--event", "demo-party", *map(str, photos[:2]))  # a session + strip

    page = browser_for(smiling=False)
    page.goto(gallery.group(1) + "live/?seconds=3")
    show = page.locator("#slideshow")
    expect(page.locator("#show-status")).to_have_text("Live")
    expect(show).to_have_attribute("data-count", "3")  # two photos and their strip
    page.wait_for_function(CURRENT)
    page.wait_for_function("() => document.querySelector('.show-slide.is-current')")
    assert current_image_loaded(page)
    fit = page.evaluate(
        "() => { const s = getComputedStyle(document.querySelector('.show-slide.is-current'));"
        " return [s.objectFit, getComputedStyle(document.body).backgroundColor]; }"
    )
    assert fit == ["contain", "rgb(0, 0, 0)"]
    assert page.locator("#show-fullscreen").is_visible()
    assert awake_axe_problems(page) == []
    screenshot(page, "slideshow-1280x800")

    # It cycles by itself (3 s a slide), and by keyboard: Space pauses, arrows move.
    first = page.evaluate(CURRENT)
    page.wait_for_function(
        f"() => document.getElementById('slideshow').dataset.current !== {first!r}", timeout=10_000
    )
    page.keyboard.press("Space")
    expect(show).to_have_attribute("data-paused", "true")
    expect(page.locator("#show-pause")).to_have_attribute("aria-pressed", "true")
    paused_on = page.evaluate(CURRENT)
    page.wait_for_timeout(4000)
    assert page.evaluate(CURRENT) == paused_on
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        f"() => document.getElementById('slideshow').dataset.current !== {paused_on!r}"
    )
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        f"() => document.getElementById('slideshow').dataset.current === {paused_on!r}"
    )
    page.keyboard.press("Space")
    expect(show).to_have_attribute("data-paused", "false")

    # A photo taken now goes on screen at once (the socket's push, no reload).
    api = page.context.browser.new_context().request
    new_id = upload(api, site, token.group(1), photos[2].read_bytes())
    expect(show).to_have_attribute("data-current", new_id, timeout=5_000)
    expect(show).to_have_attribute("data-count", "4")
    page.wait_for_function(
        "() => { const i = document.querySelector('.show-slide.is-current');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    page.keyboard.press("Space")  # hold it for the shots
    page.wait_for_timeout(1200)  # the cross-fade
    screenshot(page, "slideshow-new-photo-1280x800")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    screenshot(page, "slideshow-390x844")
    assert awake_axe_problems(page) == []
    page.set_viewport_size({"width": 1280, "height": 800})
    page.keyboard.press("Space")

    # The organiser hides it in the console: it leaves the screen.
    console = page.context.browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    console.set_default_timeout(20_000)
    sign_in(console, site)
    console.goto(site.url + "/console/demo/demo-party/captures/")
    console.locator("li.capture-item").first.get_by_role("button", name=re.compile("^Hide")).click()
    expect(console.locator(".messages")).to_contain_text("Photo hidden.")
    expect(show).to_have_attribute("data-count", "3", timeout=5_000)
    assert page.evaluate(CURRENT) != new_id
    assert page.locator(f".show-slide[data-slide='{new_id}']").count() == 0

    # The server restarts: the page says so, reconnects by itself, and goes on.
    site.stop()
    expect(page.locator("#show-status")).to_have_text("Reconnecting…")
    site.start()
    expect(page.locator("#show-status")).to_have_text("Live", timeout=40_000)
    expect(show).to_have_attribute("data-count", "3")
    after = upload(api, site, token.group(1), photos[3].read_bytes())
    expect(show).to_have_attribute("data-current", after, timeout=5_000)
    expect(show).to_have_attribute("data-count", "4")
    assert (SCREENS / "slideshow-390x844.png").exists()

    # The organiser makes a new gallery link: the open slideshow ends at once (the link's
    # news on the slideshow's group, not its 30 s check) and says the link is gone.
    console.goto(site.url + "/console/demo/demo-party/gallery/")
    console.get_by_role("button", name="Make a new gallery link").click()
    expect(console.locator(".messages")).to_contain_text("The gallery has a new link")
    expect(page.locator("#show-ended")).to_be_visible(timeout=5_000)
    expect(page.locator("#show-status")).to_have_text("Ended")
    expect(show).to_have_attribute("data-count", "0")
    screenshot(page, "slideshow-ended-1280x800")
