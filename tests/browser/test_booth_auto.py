"""Auto mode in the kiosk: a real smiling face snaps by itself, a neutral one never does.

Auto mode arms after a "Get ready" count (12.5), and every snap, by smile or by the Snap
button's countdown, shows the same cue: a count in ``#countdown``, then the flash.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_booth_kiosk import captures, open_booth

pytestmark = pytest.mark.browser

#: Watches the page without changing it: what ``#countdown`` and ``#flash`` show, in
#: order, and when each capture upload started (the Resource Timing entries).
WATCH = """
window.__cues = [];
window.addEventListener("DOMContentLoaded", () => {
  const count = document.getElementById("countdown");
  const flash = document.getElementById("flash");
  const text = (id) => (document.getElementById(id) || { textContent: "" }).textContent;
  let shown = { count: "", flash: "" };
  new MutationObserver(() => {
    const now = {
      count: count.hidden ? "" : `count:${text("countdown-label")}|${text("countdown-number")}`,
      flash: flash.hidden ? "" : "flash",
    };
    for (const key of ["count", "flash"]) {
      if (now[key] && now[key] !== shown[key]) window.__cues.push([performance.now(), now[key]]);
    }
    shown = now;
  }).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
});
performance.setResourceTimingBufferSize(100000);
"""

READ = """() => [
  ...window.__cues.map(([t, seen]) => [t, seen]),
  ...performance.getEntriesByType("resource")
    .filter((e) => e.initiatorType === "fetch" && e.name.endsWith("/captures/"))
    .map((e) => [e.startTime, "capture"]),
].sort((a, b) => a[0] - b[0]).map(([, seen]) => seen)"""


def timeline(page: Any) -> list[str]:
    """What the guest saw, in order, with ``"capture"`` where each upload started."""
    return list(page.evaluate(READ))


def cues_before_each_capture(seen: list[str]) -> list[list[str]]:
    """For each capture, the counts and flashes shown since the capture before it."""
    runs: list[list[str]] = [[]]
    for item in seen:
        if item == "capture":
            runs.append([])
        else:
            runs[-1].append(item)
    return runs[:-1]


def test_smile_snaps_without_a_click(site, pairing_url, browser_for):
    site.set_event(captures_per_session=1)
    page = browser_for(smiling=True)
    open_booth(page, pairing_url)
    page.click("#start")
    page.wait_for_selector("#share:not([hidden])", timeout=30_000)
    page.wait_for_selector("#strip-box img.strip-image")
    assert captures(site) == [("smile", "ready")]
    assert site.query("SELECT COUNT(*) FROM captures_capturevariant") == [(4,)]


def test_auto_mode_arms_only_after_the_get_ready_count(site, pairing_url, browser_for):
    site.set_event(captures_per_session=1)
    page = browser_for(smiling=True)
    page.add_init_script(WATCH)
    open_booth(page, pairing_url)
    page.click("#start")
    page.wait_for_selector("#share:not([hidden])", timeout=30_000)
    seen = timeline(page)
    assert seen.count("capture") == 1
    before = seen[: seen.index("capture")]
    ready = [item for item in before if "Get ready" in item]
    assert ready[:3] == ["count:Get ready|3", "count:Get ready|2", "count:Get ready|1"], seen
    after_ready = before[before.index(ready[-1]) + 1 :]
    assert after_ready, seen
    assert all("Get ready" not in item for item in after_ready), seen
    assert any(item.startswith("count:") for item in after_ready), "no cue before the snap"
    assert "flash" in after_ready, seen


def test_a_smile_and_the_snap_button_show_the_same_cue(site, pairing_url, browser_for):
    site.set_event(captures_per_session=2, countdown_seconds=2)
    page = browser_for(smiling=True)
    page.add_init_script(WATCH)
    open_booth(page, pairing_url)
    page.click("#start")
    page.uncheck("#auto")  # the first photo by the Snap button's countdown ...
    page.click("#snap")
    page.wait_for_selector("#drawer li")
    page.check("#auto")  # ... the second by a smile, after the get-ready count
    page.wait_for_selector("#share:not([hidden])", timeout=30_000)
    assert [trigger for trigger, _ in captures(site)] == ["countdown", "smile"]
    for cues in cues_before_each_capture(timeline(page)):
        snap_cue = [item for item in cues if item.startswith("count:|")]
        assert snap_cue, cues
        assert snap_cue[-1] == "count:|1", cues
        assert "flash" in cues[cues.index(snap_cue[-1]) :], cues


def test_neutral_face_does_not_snap(site, pairing_url, browser_for):
    page = browser_for(smiling=False)
    open_booth(page, pairing_url)
    page.click("#start")
    expect(page.locator("#connection")).to_have_text("Live")
    time.sleep(10)
    assert captures(site) == []
    assert page.locator("#drawer li").count() == 0
