"""Pure tests of captures.smile: real GENKI-4K faces, blank frames, bad input, registry.

Also the Haar reference detector of ``bench/smile.py`` (``bench.haar``), and a tracker
built only from the detector's public parts (``SmileTracker``, test code).
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from captures import smile

GENKI = Path(__file__).resolve().parents[3] / "shared" / "data" / "genki4k-dev"
# Clearly labelled, near-frontal photos (|yaw|, |pitch|, |roll| < 0.1 rad in labels.csv).
SMILING = "file1711.jpg"
NEUTRAL = "file2825.jpg"

needs_data = pytest.mark.skipif(
    not (GENKI / "files").is_dir(), reason="GENKI-4K dev data absent (../shared/data)"
)


def in_frame(name: str, height: int = 300, at: tuple[int, int] | None = None) -> np.ndarray:
    """The GENKI photo ``name`` scaled to ``height`` px over a grey 640x480 frame."""
    with Image.open(GENKI / "files" / name) as photo:
        width = round(photo.width * height / photo.height)
        scaled = np.asarray(photo.convert("RGB").resize((width, height)))
    frame = np.full((480, 640, 3), 128, np.uint8)
    x, y = at if at is not None else ((640 - width) // 2, (480 - height) // 2)
    visible = frame[max(y, 0) : y + height, max(x, 0) : x + width]
    visible[:] = scaled[
        max(-y, 0) : max(-y, 0) + visible.shape[0], max(-x, 0) : max(-x, 0) + visible.shape[1]
    ]
    return frame


def assert_valid(result: smile.SmileResult, frame: np.ndarray) -> None:
    height, width = frame.shape[:2]
    assert 0.0 <= result.score <= 1.0
    for face in result.faces:
        x, y, w, h = face.box
        assert x >= 0
        assert y >= 0
        assert w > 0
        assert h > 0
        assert x + w <= width
        assert y + h <= height
        assert 0.0 <= face.score <= 1.0
    if result.faces:
        assert result.score == result.faces[0].score
        areas = [f.box[2] * f.box[3] for f in result.faces]
        assert areas == sorted(areas, reverse=True)


@needs_data
def test_real_smiling_photo_scores_at_least_half():
    frame = in_frame(SMILING)
    result = smile.detect_smile(frame)
    assert len(result.faces) == 1
    assert result.score >= 0.5
    assert_valid(result, frame)


@needs_data
def test_real_neutral_photo_scores_below_half():
    frame = in_frame(NEUTRAL)
    result = smile.detect_smile(frame)
    assert len(result.faces) == 1
    assert result.score < 0.5
    assert_valid(result, frame)


@needs_data
def test_face_box_covers_the_face():
    frame = in_frame(SMILING, height=240, at=(60, 200))
    (face,) = smile.detect_smile(frame).faces
    x, y, w, h = face.box
    # The photo spans x 60..~285, y 200..440; the face is inside it.
    assert x >= 60
    assert y >= 200
    assert x + w <= 300
    assert y + h <= 440
    assert 60 <= w <= 200


@needs_data
@pytest.mark.parametrize("at", [(-60, 100), (420, -40), (500, 300)])
def test_faces_cut_by_the_frame_edge_give_boxes_inside_the_frame(at):
    frame = in_frame(SMILING, height=320, at=at)
    assert_valid(smile.detect_smile(frame), frame)


@needs_data
def test_two_faces_are_both_scored_largest_first():
    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[:, :320] = in_frame(NEUTRAL, height=300, at=(10, 90))[:, :320]
    frame[:, 320:] = in_frame(SMILING, height=200, at=(380, 140))[:, 320:]
    result = smile.detect_smile(frame)
    assert len(result.faces) == 2
    assert result.faces[0].box[0] < 320 < result.faces[1].box[0]
    assert result.score == result.faces[0].score < 0.5 <= result.faces[1].score
    assert_valid(result, frame)


@pytest.mark.parametrize("fill", [0, 128, 255])
def test_blank_frame_has_no_face_and_scores_zero(fill):
    result = smile.detect_smile(np.full((480, 640, 3), fill, np.uint8))
    assert result == smile.SmileResult(score=0.0, faces=())


def test_noise_frame_scores_in_range():
    frame = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert_valid(smile.detect_smile(frame), frame)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (np.zeros((480, 640), np.uint8), "shape"),
        (np.zeros((480, 640, 4), np.uint8), "shape"),
        (np.zeros((480, 640, 1), np.uint8), "shape"),
        (np.zeros((2, 480, 640, 3), np.uint8), "shape"),
        (np.zeros((480, 640, 3), np.float32), "dtype"),
        (np.zeros((480, 640, 3), np.uint16), "dtype"),
        (np.zeros((8, 8, 3), np.uint8), "at least"),
        ([[[0, 0, 0]]], "numpy array"),
        (None, "numpy array"),
    ],
)
def test_bad_frames_raise_value_error(frame, message):
    with pytest.raises(ValueError, match=message):
        smile.detect_smile(frame)


@needs_data
def test_other_frame_sizes_and_non_contiguous_frames_work():
    frame = in_frame(SMILING)
    mirrored = frame[:, ::-1]
    assert not mirrored.flags.c_contiguous
    assert smile.detect_smile(mirrored).score >= 0.5
    small = np.asarray(Image.fromarray(frame).resize((320, 240)))
    assert_valid(smile.detect_smile(small), small)
    tall = np.ascontiguousarray(frame.transpose(1, 0, 2))
    assert_valid(smile.detect_smile(tall), tall)


def test_results_are_frozen():
    result = smile.SmileResult(score=0.5, faces=(smile.Face(box=(1, 2, 3, 4), score=0.5),))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.score = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.faces[0].score = 1.0  # type: ignore[misc]


def test_registry_names_and_errors():
    assert smile.DEFAULT_DETECTOR in smile.DETECTORS
    with pytest.raises(ValueError, match="unknown smile detector 'nope'"):
        smile.get_detector("nope")
    with pytest.raises(ValueError, match="unknown smile detector"):
        smile.set_default_detector("nope")
    with pytest.raises(TypeError):
        smile.DETECTORS["other"] = smile.BlazeFaceCnnDetector  # type: ignore[index]


def test_get_detector_builds_one_shared_instance_across_threads():
    with ThreadPoolExecutor(4) as pool:
        detectors = list(pool.map(lambda _: smile.get_detector(smile.DEFAULT_DETECTOR), range(8)))
    assert all(d is detectors[0] for d in detectors)
    assert detectors[0].name == smile.DEFAULT_DETECTOR


@needs_data
def test_detect_smile_from_threads_matches_sequential():
    frames = [in_frame(SMILING), in_frame(NEUTRAL), np.zeros((480, 640, 3), np.uint8)] * 3
    sequential = [smile.detect_smile(f) for f in frames]
    with ThreadPoolExecutor(3) as pool:
        threaded = list(pool.map(smile.detect_smile, frames))
    for a, b in zip(sequential, threaded, strict=True):
        assert a.faces == b.faces or a.score == pytest.approx(b.score, abs=1e-6)


def test_set_default_detector_switches_detect_smile(monkeypatch):
    other = "blazeface-cnn-float32"
    marker = smile.SmileResult(score=0.25, faces=())
    monkeypatch.setattr(smile.get_detector(other), "detect", lambda frame: marker)
    try:
        smile.set_default_detector(other)
        assert smile.detect_smile(np.zeros((480, 640, 3), np.uint8)) is marker
    finally:
        smile.set_default_detector(smile.DEFAULT_DETECTOR)
    assert smile.get_detector(smile.DEFAULT_DETECTOR).name == smile.DEFAULT_DETECTOR
    assert smile.detect_smile(np.zeros((480, 640, 3), np.uint8)) == smile.NO_FACE


def test_bench_haar_reference_finds_no_face_in_a_blank_frame():
    pytest.importorskip("cv2")
    from bench.haar import HaarSmileDetector

    detector = HaarSmileDetector()
    assert "haar" not in smile.DETECTORS
    assert detector.detect(np.zeros((480, 640, 3), np.uint8)).faces == ()
    with pytest.raises(ValueError, match="dtype"):
        detector.detect(np.zeros((480, 640, 3), np.float32))


class SmileTracker:
    """Scores one stream of frames, reusing the last face's position.

    While the previous frame had a face, only a square about 2.2 face-widths around it
    is searched with the short-range detector; a full-frame search runs when that finds
    nothing, and at least every ``refresh`` frames (so a second, larger face is picked
    up). Results have the same meaning as ``detect_smile``'s. Not thread-safe: use one
    tracker per stream.
    """

    def __init__(self, detector: smile.BlazeFaceCnnDetector | None = None, refresh: int = 10):
        found = detector if detector is not None else smile.get_detector("blazeface-cnn")
        assert isinstance(found, smile.BlazeFaceCnnDetector)
        self.detector = found
        self.refresh = refresh
        self._last: smile.FaceDetection | None = None
        self._age = 0

    def reset(self) -> None:
        """Forget the last face (a new stream, or a scene change)."""
        self._last = None
        self._age = 0

    def update(self, frame: np.ndarray) -> smile.SmileResult:
        """Score the next frame of the stream; ValueError for frames of another shape."""
        frame = smile.check_frame(frame)
        faces: list[smile.FaceDetection] = []
        if self._last is not None and self._age < self.refresh:
            faces = self._search_near(frame, self._last)
            self._age += 1
        if not faces:
            faces = self.detector.find_faces(frame)
            self._age = 0
        self._last = faces[0] if faces else None
        return self.detector.score_faces(frame, faces)

    def _search_near(
        self, frame: np.ndarray, last: smile.FaceDetection
    ) -> list[smile.FaceDetection]:
        height, width = frame.shape[:2]
        cx = (last.box[0] + last.box[2]) / 2
        cy = (last.box[1] + last.box[3]) / 2
        half = last.width * 1.1
        x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
        x1, y1 = int(min(width, cx + half)), int(min(height, cy + half))
        if x1 - x0 < 16 or y1 - y0 < 16:
            return []
        found = self.detector.short.detect(np.ascontiguousarray(frame[y0:y1, x0:x1]))
        shift = np.array([x0, y0], np.float64)
        return [
            smile.FaceDetection(
                box=(f.box[0] + x0, f.box[1] + y0, f.box[2] + x0, f.box[3] + y0),
                keypoints=f.keypoints + shift,
                confidence=f.confidence,
            )
            for f in found[:1]
            if f.width >= smile.MIN_FACE_SIZE
        ]


@needs_data
def test_tracker_follows_a_moving_face_like_detect_smile():
    tracker = SmileTracker()
    for step in range(6):
        frame = in_frame(SMILING, height=280, at=(100 + 15 * step, 90 + 5 * step))
        tracked = tracker.update(frame)
        direct = smile.detect_smile(frame)
        assert_valid(tracked, frame)
        assert len(tracked.faces) == 1
        assert (tracked.score >= 0.5) == (direct.score >= 0.5)
        assert abs(tracked.faces[0].box[0] - direct.faces[0].box[0]) <= 6
    assert tracker.update(np.zeros((480, 640, 3), np.uint8)).faces == ()
    tracker.reset()
