"""Once a session's snaps are taken, the kiosk stops streaming frames and snapping (12.4).

A real smiling face stays in front of the camera on the share screen: the socket would
score it and trigger every cool-down (5 s), so a kiosk still streaming would send frames
and try captures the server refuses (409). The next guest's session streams and snaps
again.
"""

from __future__ import annotations

import pytest

from tests.browser.test_booth_kiosk import open_booth

pytestmark = pytest.mark.browser


def test_the_share_screen_sends_no_frames_and_no_snaps_and_the_next_guest_gets_both(
    site, pairing_url, browser_for
):
    site.set_event(captures_per_session=1)
    page = browser_for(smiling=True)
    frames: list[bytes] = []
    uploads: list[int] = []  # the answers' statuses, in order
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framesent", lambda data: frames.append(data) if isinstance(data, bytes) else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            uploads.append(r.status)
            if r.request.method == "POST" and r.url.endswith("/captures/")
            else None
        ),
    )
    open_booth(page, pairing_url)
    for guest in (1, 2):
        page.click("#start")
        page.wait_for_selector("#share:not([hidden])", timeout=30_000)
        page.wait_for_selector("#strip-box img.strip-image")
        assert uploads == [201] * guest, "each guest's smile is snapped once"
        streamed = len(frames)
        assert streamed > 0, "the session streamed frames for the smile score"
        # The first guest smiles on for longer than the cool-down: a trigger would come.
        page.wait_for_timeout(6_000 if guest == 1 else 2_000)
        assert len(frames) == streamed, "frames were sent from the share screen"
        assert uploads == [201] * guest, "captures were tried from the share screen"
        page.click("#done")
        page.wait_for_selector("#attract:not([hidden])")
        frames.clear()
    sessions = site.query("SELECT COUNT(DISTINCT session_id), COUNT(*) FROM captures_capture")
    assert sessions == [(2, 2)]
