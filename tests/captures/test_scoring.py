"""captures.scoring: frames scored in real worker processes, and in threads."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from captures import imaging, scoring, smile
from tests.captures.test_consumers import frame_from, labelled


def run_with(scorer: scoring.FrameScorer, *frames: bytes) -> list[smile.SmileResult]:
    """Score ``frames`` concurrently on one event loop, then stop the workers."""

    async def go() -> list[smile.SmileResult]:
        try:
            return list(await asyncio.gather(*(scorer.score(f) for f in frames)))
        finally:
            await scorer.aclose()

    return asyncio.run(go())


def test_worker_processes_score_like_this_process():
    data = [frame_from(labelled("1")), frame_from(labelled("0"))]
    remote = run_with(scoring.FrameScorer(processes=2), *data, *data)
    local = [scoring.score_frame(d) for d in data]
    assert remote == local + local
    assert remote[0].score >= 0.5 > remote[1].score


def test_warm_up_starts_every_worker_before_the_first_frame():
    scorer = scoring.FrameScorer(processes=2)

    async def go() -> tuple[list[int], list[int], smile.SmileResult]:
        try:
            await scorer.warm_up()
            warmed = scorer.worker_pids()
            result = await scorer.score(frame_from(labelled("1")))
            return warmed, scorer.worker_pids(), result
        finally:
            await scorer.aclose()

    warmed, after, result = asyncio.run(go())
    assert len(warmed) == 2
    assert after == warmed  # the frame went to a worker already running
    assert result.score >= 0.5


def test_a_killed_worker_is_replaced_and_the_frame_still_scored():
    scorer = scoring.FrameScorer(processes=1)
    data = frame_from(labelled("0"))

    async def go() -> tuple[smile.SmileResult, smile.SmileResult, int, list[int]]:
        try:
            first = await scorer.score(data)
            (pid,) = scorer.worker_pids()
            os.kill(pid, signal.SIGKILL)
            again = await scorer.score(data)
            return first, again, pid, scorer.worker_pids()
        finally:
            await scorer.aclose()

    first, again, killed, now = asyncio.run(go())
    assert again == first
    assert len(now) == 1
    assert killed not in now


def test_a_disconnecting_booth_leaves_the_worker_usable():
    scorer = scoring.FrameScorer(processes=1)
    data = frame_from(labelled("1"))

    async def go() -> smile.SmileResult:
        try:
            await scorer.score(data)
            pending = asyncio.ensure_future(scorer.score(data))
            await asyncio.sleep(0)
            pending.cancel()  # the booth went away while its frame was being scored
            return await scorer.score(data)
        finally:
            await scorer.aclose()

    assert asyncio.run(go()) == scoring.score_frame(data)


def test_bad_bytes_raise_invalid_image_from_a_worker():
    with pytest.raises(imaging.InvalidImage) as caught:
        run_with(scoring.FrameScorer(processes=1), b"not a jpeg")
    assert caught.value.code == "invalid_image"


def test_workers_that_cannot_start_make_scoring_unavailable():
    scorer = scoring.FrameScorer(processes=1, detector="no-such-detector")
    with pytest.raises(scoring.ScoringUnavailable):
        run_with(scorer, frame_from(labelled("1")))


def test_threads_score_concurrent_frames_alike():
    data = frame_from(labelled("1"))
    results = run_with(scoring.FrameScorer(processes=0), *[data] * 4)
    assert results == [scoring.score_frame(data)] * 4


def test_negative_process_count_is_refused():
    with pytest.raises(ValueError, match="processes"):
        scoring.FrameScorer(processes=-1)
