"""The console's captures and stats pages in Chromium: hide a photo, and it is gone (13.6-7)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import check_fits
from tests.browser.test_console import sign_in

pytestmark = pytest.mark.browser

EVENT = "/console/demo/demo-party/"


def snap_session(site, count: int) -> str:
    """Run one booth session of ``count`` GENKI-4K photos (strip made); return its share URL."""
    photos = factories.genki_photos(count)
    if len(photos) < count:
        pytest.skip("../shared/data/genki4k-dev is not beside this checkout")
    out = site.manage("snap", "--event", "demo-party", *map(str, photos))
    match = re.search(r"Share URL:\s+(\S+)", out)
    assert match, out
    return match.group(1)


def with_images(url: str):
    """Open ``url`` and wait until its images have loaded (they are lazy), for the shots."""

    def open_page(page):
        response = page.goto(url)
        page.wait_for_function(
            "() => [...document.images].every((i) => i.complete && i.naturalWidth > 0)"
        )
        return response

    return open_page


def strip_widths(site) -> list[int]:
    return [width for (width,) in site.query("SELECT width FROM captures_strip ORDER BY id")]


def test_a_hidden_photo_leaves_the_gallery_its_link_and_the_strip(site, pairing_url, browser_for):
    share_url = snap_session(site, 3)
    gallery = re.search(r"Event gallery:\s+(\S+)", site.manage("seed_demo"))
    assert gallery
    assert strip_widths(site) == [3 * 640]
    page = browser_for(smiling=False)
    sign_in(page, site)
    page.goto(site.url + EVENT)
    page.get_by_role("link", name="Captures", exact=True).click()
    expect(page.locator("h1")).to_have_text("Photos of Demo Party")
    items = page.locator("li.capture-item")
    expect(items).to_have_count(3)
    listing = site.url + EVENT + "captures/"
    check_fits(page, listing, "console-captures", open_page=with_images(listing))

    newest = items.first
    thumbnail = newest.locator("img").get_attribute("src")
    original = newest.locator(".capture-thumb a").get_attribute("href")
    assert thumbnail
    assert original
    assert page.request.get(site.url + original).status == 200
    page.goto(gallery.group(1))
    expect(page.locator(f"img[src='{thumbnail}']")).to_have_count(1)

    page.goto(site.url + EVENT + "captures/")
    page.locator("li.capture-item").first.get_by_role("button", name=re.compile("^Hide")).click()
    expect(page.locator(".messages")).to_contain_text("Photo hidden.")
    expect(page.locator("li.capture-item.is-hidden")).to_have_count(1)
    expect(page.locator("li.capture-item.is-hidden .hidden-badge")).to_have_text("Hidden")
    hidden = site.url + EVENT + "captures/?show=hidden"
    check_fits(page, hidden, "console-captures-hidden", open_page=with_images(hidden))

    assert page.request.get(site.url + original).status == 404
    assert page.request.get(site.url + thumbnail).status == 404
    page.goto(gallery.group(1))
    expect(page.locator(".card:not(.strip)")).to_have_count(2)
    expect(page.locator(f"img[src='{thumbnail}']")).to_have_count(0)
    page.goto(share_url)
    expect(page.locator(".card:not(.strip)")).to_have_count(2)
    assert strip_widths(site) == [2 * 640]  # rendered again from the two left

    page.goto(site.url + EVENT + "captures/?show=hidden")
    page.get_by_role("button", name=re.compile("^Show the photo")).click()
    expect(page.locator(".messages")).to_contain_text("Photo shown again.")
    assert page.request.get(site.url + original).status == 200
    assert strip_widths(site) == [3 * 640]


def test_a_photo_is_deleted_after_a_confirmation(site, pairing_url, browser_for):
    snap_session(site, 2)
    page = browser_for(smiling=False)
    sign_in(page, site)
    page.goto(site.url + EVENT + "captures/")
    page.locator("li.capture-item").first.get_by_role("link", name=re.compile("^Delete")).click()
    expect(page.locator("h1")).to_have_text("Delete this photo?")
    check_fits(page, page.url, "console-captures-delete", open_page=with_images(page.url))
    page.get_by_role("button", name="Delete this photo").click()
    expect(page.locator(".messages")).to_contain_text("Photo deleted")
    expect(page.locator("li.capture-item")).to_have_count(1)
    assert site.query("SELECT COUNT(*) FROM captures_capture") == [(1,)]
    assert strip_widths(site) == [640]


def test_the_stats_page_draws_its_chart(site, pairing_url, browser_for):
    snap_session(site, 2)
    page = browser_for(smiling=False)
    sign_in(page, site)
    page.goto(site.url + EVENT)
    page.get_by_role("link", name="Stats", exact=True).click()
    expect(page.locator("h1")).to_have_text("Stats of Demo Party")
    chart = page.get_by_role("img", name=re.compile("^Sessions, photos and SMS sent per hour"))
    expect(chart).to_be_visible()
    expect(page.locator("svg g.bucket rect.bar-captures")).to_have_count(1)
    expect(page.locator(".stat-tiles")).to_contain_text("2")
    box = chart.bounding_box()
    assert box
    assert box["width"] > 600
    check_fits(page, site.url + EVENT + "stats/", "console-stats")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(site.url + EVENT + "stats/")
    box = chart.bounding_box()
    assert box
    assert 300 < box["width"] <= 390
