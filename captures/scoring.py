"""Scoring live booth frames off the event loop, in threads or in worker processes.

``score_frame(data)`` decodes one JPEG/PNG frame at ``SCORING_SIZE`` and scores it with
``captures.smile.detect_smile``. ``FrameScorer`` runs it where it cannot stall the
server's event loop:

- ``FrameScorer(processes=0)``: in worker threads of this process. onnxruntime and
  Pillow release the GIL, but the Python around them does not, so one process scoring
  many booths is held back by the GIL, not by the number of cores.
- ``FrameScorer(processes=N)``: in N worker processes (``python -m captures.scoring``),
  each holding its own copy of the detector and scoring one frame at a time. This is
  what uses every core for 16 booths at 5 frames/s (``bench/smile_load.py``).

The worker processes talk to the server over their stdin and stdout through the event
loop's own non-blocking pipes: ``concurrent.futures.ProcessPoolExecutor`` was tried
first, and its feeder and manager threads fought the event loop for the GIL, slowing
every round trip when 16 frames arrived together.

Wire format, both ways: a 4-byte big-endian length, then that many bytes. A request is
the frame's bytes; a reply is a pickled ``("ok", SmileResult)`` or ``("invalid", code)``
(the frame is not an image). Only the server writes requests, to its own children.

This module imports nothing from Django, so the workers start quickly and need no
settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import struct
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from captures import imaging

if TYPE_CHECKING:
    from captures.smile import SmileResult

logger = logging.getLogger(__name__)

# Frames are decoded at reduced scale (libjpeg's DCT scaling) to about 320x240: a guest
# at a booth is far larger than the detector needs, and decoding is a large share of
# the work per frame.
SCORING_SIZE = (320, 240)

#: A worker that takes longer than this over one frame is killed and replaced, in s.
FRAME_TIMEOUT = 10.0

_HEADER = struct.Struct(">I")
_PROJECT_ROOT = Path(__file__).resolve().parents[1]


class ScoringUnavailable(Exception):
    """A frame could not be scored: its worker died or hung twice in a row."""


def score_frame(data: bytes) -> SmileResult:
    """Decode a JPEG/PNG frame at ``SCORING_SIZE`` and score its smile.

    The detector (numpy, onnxruntime, model weights) loads on the first call.

    :raises captures.imaging.InvalidImage: for bytes that are not a JPEG or PNG frame of
        at most 1920x1080.
    """
    from captures import smile

    return smile.detect_smile(imaging.decode_frame(data, target=SCORING_SIZE))


class _Worker:
    """One scoring process and its pipes; one frame at a time."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, detector: str | None) -> _Worker:
        path = [str(_PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))}
        if detector:
            env["BOOTHSITE_SMILE_DETECTOR"] = detector
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "captures.scoring",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
            cwd=_PROJECT_ROOT,
        )
        return cls(process)

    async def score(self, data: bytes) -> SmileResult:
        stdin, stdout = self.process.stdin, self.process.stdout
        if stdin is None or stdout is None:  # pragma: no cover - started with pipes
            raise ScoringUnavailable("worker has no pipes")
        stdin.write(_HEADER.pack(len(data)) + data)
        await stdin.drain()
        (length,) = _HEADER.unpack(await stdout.readexactly(_HEADER.size))
        kind, value = pickle.loads(await stdout.readexactly(length))  # noqa: S301 - our child
        if kind == "invalid":
            raise imaging.InvalidImage(value)
        result: SmileResult = value
        return result

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()


class FrameScorer:
    """Runs ``score_frame`` off the event loop; share one per server process.

    ``processes`` is the number of worker processes (0: at most ``threads`` threads of
    this process). ``detector`` names the detector the workers use (None: the default).
    Workers start on the first frame and belong to the event loop that started them (a
    frame scored from another loop starts fresh workers). A worker that dies (killed,
    out of memory) or takes over ``FRAME_TIMEOUT`` s is replaced and the frame retried
    once; a second failure raises ``ScoringUnavailable``.
    """

    def __init__(self, processes: int = 0, detector: str | None = None, threads: int = 4) -> None:
        if processes < 0:
            raise ValueError(f"processes must be 0 or more, got {processes}")
        self.processes = processes
        self.detector = detector
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="smile")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: asyncio.Queue[_Worker | None] | None = None
        self._workers: list[_Worker] = []
        self._dead: list[_Worker] = []  # killed, to be reaped by aclose()

    def worker_pids(self) -> list[int]:
        """Process ids of the running worker processes (for monitoring and tests)."""
        return [w.process.pid for w in self._workers if w.process.returncode is None]

    async def score(self, data: bytes) -> SmileResult:
        """Score one frame's bytes (see ``score_frame``) without blocking the loop.

        :raises captures.imaging.InvalidImage: for a frame that is not an image.
        :raises ScoringUnavailable: when the frame's worker died or hung twice.
        """
        loop = asyncio.get_running_loop()
        if not self.processes:
            return await loop.run_in_executor(self._threads, score_frame, data)
        idle = self._idle_queue(loop)
        # Shielded: a booth that disconnects mid-frame must not leave a worker with an
        # unread reply in its pipe. The request finishes and returns its worker.
        return await asyncio.shield(self._score_in_worker(idle, data))

    async def warm_up(self) -> None:
        """Start the worker processes not running yet, so the first frames are fast.

        A worker loads its models as it starts; a booth that has just connected will
        send frames within moments.
        """
        if not self.processes:
            return
        idle = self._idle_queue(asyncio.get_running_loop())
        slots = [idle.get_nowait() for _ in range(idle.qsize())]
        try:
            for index, worker in enumerate(slots):
                if worker is None:
                    slots[index] = started = await _Worker.start(self.detector)
                    self._workers.append(started)
        finally:
            for worker in slots:
                idle.put_nowait(worker)

    def _idle_queue(self, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[_Worker | None]:
        if self._loop is not loop or self._idle is None:
            self.close()
            self._loop = loop
            self._idle = asyncio.Queue()
            for _ in range(self.processes):
                self._idle.put_nowait(None)  # a slot; its worker starts when first used
        return self._idle

    async def _score_in_worker(
        self, idle: asyncio.Queue[_Worker | None], data: bytes
    ) -> SmileResult:
        worker = await idle.get()
        try:
            for attempt in (1, 2):
                if worker is None:
                    worker = await _Worker.start(self.detector)
                    self._workers.append(worker)
                try:
                    return await asyncio.wait_for(worker.score(data), FRAME_TIMEOUT)
                except (OSError, EOFError, asyncio.IncompleteReadError, TimeoutError) as exc:
                    logger.warning(
                        "Smile worker %s failed (%s, attempt %d); replacing it.",
                        worker.process.pid,
                        type(exc).__name__,
                        attempt,
                    )
                    self._forget(worker)
                    worker = None
            raise ScoringUnavailable("smile scoring workers keep failing")
        finally:
            idle.put_nowait(worker)

    def _forget(self, worker: _Worker) -> None:
        worker.kill()
        self._dead = [w for w in self._dead if w.process.returncode is None] + [worker]
        with contextlib.suppress(ValueError):
            self._workers.remove(worker)

    def close(self) -> None:
        """Kill the worker processes; the next frame starts new ones."""
        for worker in self._workers:
            worker.kill()
        self._workers = []
        self._idle = None
        self._loop = None

    async def aclose(self) -> None:
        """Kill the worker processes and wait until they are gone."""
        workers = self._workers + self._dead
        self.close()
        self._dead = []
        for worker in workers:
            await worker.process.wait()


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """Score frames read from ``requests`` until it closes, replying on ``replies``."""
    from captures import smile

    smile.set_default_detector(os.environ.get("BOOTHSITE_SMILE_DETECTOR") or smile.DEFAULT_DETECTOR)
    while header := requests.read(_HEADER.size):
        if len(header) < _HEADER.size:
            return
        (length,) = _HEADER.unpack(header)
        data = requests.read(length)
        try:
            reply: tuple[str, object] = ("ok", score_frame(data))
        except imaging.InvalidImage as exc:
            reply = ("invalid", exc.code)
        except ValueError:
            reply = ("invalid", "invalid_image")
        payload = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        replies.write(_HEADER.pack(len(payload)) + payload)
        replies.flush()


def main() -> None:
    """Entry point of a worker process: the protocol on stdin/stdout, logs on stderr."""
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints cannot corrupt replies
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
