"""The reference smile detector ``bench/smile.py`` compares the product's against.

OpenCV's Haar frontal-face cascade, then its smile cascade. Needs
``opencv-python-headless`` 4.x (``requirements-dev.txt``), which is not a runtime
dependency of the product.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from captures import smile

if TYPE_CHECKING:
    from captures.smile import UInt8Array


class HaarSmileDetector:
    """Reference pipeline: OpenCV's Haar frontal-face cascade, then its smile cascade.

    Needs ``opencv-python-headless`` 4.x for the ``cv2.data`` cascades (OpenCV 5 wheels
    ship none). The score is a saturating function of the number of smile-cascade hits
    in the lower half of the face, so it ranks rather than calibrates. Follows
    ``captures.smile.SmileDetector``.
    """

    name = "haar"

    def __init__(self) -> None:
        try:
            import cv2  # optional: only this detector needs it
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ValueError(
                "the 'haar' smile detector needs opencv-python-headless 4.x installed"
            ) from exc
        self._cv2: Any = cv2
        root = Path(self._cv2.data.haarcascades)
        self._face = cv2.CascadeClassifier(str(root / "haarcascade_frontalface_default.xml"))
        self._smile = cv2.CascadeClassifier(str(root / "haarcascade_smile.xml"))
        if self._face.empty() or self._smile.empty():
            raise ValueError("this OpenCV build ships no Haar cascades (use 4.x)")
        self._lock = threading.Lock()

    def detect(self, frame: UInt8Array) -> smile.SmileResult:
        """Score the smile of an HxWx3 uint8 RGB frame; ValueError for other frames."""
        frame = smile.check_frame(frame)
        cv2 = self._cv2
        height, width = frame.shape[:2]
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        faces: list[smile.Face] = []
        with self._lock:  # CascadeClassifier is not documented as thread-safe
            boxes = self._face.detectMultiScale(
                grey, scaleFactor=1.1, minNeighbors=5, minSize=(40, 40)
            )
            ordered = sorted((tuple(int(v) for v in b) for b in boxes), key=lambda b: -b[2])
            for x, y, w, h in ordered[: smile.MAX_FACES]:
                mouth = grey[y + h // 2 : y + h, x : x + w]
                hits = self._smile.detectMultiScale(
                    mouth, scaleFactor=1.7, minNeighbors=0, minSize=(w // 4, h // 8)
                )
                score = 1.0 - math.exp(-len(hits) / 12.0)
                box = smile.clip_box((x, y, x + w, y + h), width, height)
                faces.append(smile.Face(box=box, score=score))
        if not faces:
            return smile.NO_FACE
        return smile.SmileResult(score=faces[0].score, faces=tuple(faces))
