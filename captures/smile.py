"""Offline smile detection on camera frames: pure numpy, Pillow and onnxruntime.

Contract (DESIGN.md section 5): ``detect_smile(frame) -> SmileResult`` for an HxWx3
``uint8`` RGB frame. ``SmileResult.score`` is the smile probability of the largest face
found, 0.0 when there is none; ``SmileResult.faces`` lists the faces found, largest
first, with a box in frame pixels and each face's own smile probability.

The default detector (``"blazeface-cnn"``):

1. Faces: MediaPipe's BlazeFace short-range detector (128x128 input) on the letterboxed
   frame; when it finds nothing, BlazeFace full-range (192x192, smaller and farther
   faces) runs as a fallback. Both are the Apache-2.0 MediaPipe models converted to
   ONNX (``captures/smile_models/README.md`` says how).
2. Smile: each face is aligned by a similarity transform of its eyes and mouth key
   points onto a 64x64 greyscale crop (eyebrows to chin), and our own CNN (two small
   members whose logits are averaged, trained by ``tools/train_smile.py`` on
   SMILEsmileD and the training part of GENKI-4K dev) scores the crop and its mirror
   image; the probability is the sigmoid of the mean of the two logits. The CNN runs
   quantised to int8 (``smile_cnn_int8.onnx``: faster than float32, with the same
   validation accuracy); ``"blazeface-cnn-float32"`` runs the float32 model.

Every model runs on one onnxruntime thread, so a server can score several streams on
its cores without oversubscription. Nothing is downloaded at run time: the weights ship
in ``captures/smile_models/``. Accuracy and latency are measured by ``bench/smile.py``.

``set_default_detector(name)`` picks another registered detector (``DETECTORS``).
"""

from __future__ import annotations

import importlib
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Protocol

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float32]
    Float64Array = npt.NDArray[np.float64]
    UInt8Array = npt.NDArray[np.uint8]

__all__ = [
    "DEFAULT_DETECTOR",
    "DETECTORS",
    "BlazeFace",
    "BlazeFaceCnnDetector",
    "Face",
    "FaceDetection",
    "FaceFinder",
    "SmileDetector",
    "SmileNet",
    "SmileResult",
    "align_face",
    "check_frame",
    "clip_box",
    "detect_smile",
    "get_detector",
    "grey_region",
    "set_default_detector",
]

#: Where the shipped model weights live.
MODEL_DIR: Final = Path(__file__).resolve().parent / "smile_models"

#: Side of the aligned greyscale face crop the smile CNN reads, in pixels.
CROP_SIZE: Final = 64

#: Where the aligned crop puts the key points, in crop pixels (x, y): the eye on the
#: image's left, the eye on the image's right, the mouth centre. Chosen to match the
#: eyebrows-to-chin framing of the SMILEsmileD crops used in training.
CANONICAL_POINTS: Final = np.array([[19.5, 20.0], [44.5, 20.0], [32.0, 48.0]], np.float64)

#: BlazeFace detections below this face probability are dropped (MediaPipe's default).
MIN_FACE_SCORE: Final = 0.5

#: Faces narrower than this, in frame pixels, are ignored: too small to read a smile.
MIN_FACE_SIZE: Final = 24

#: At most this many faces (the largest) are scored per frame, to bound the latency.
MAX_FACES: Final = 4

_NMS_IOU: Final = 0.3
_RAW_SCORE_LIMIT: Final = 80.0


@dataclass(frozen=True)
class Face:
    """One face found in a frame.

    ``box`` is ``(x, y, w, h)`` in frame pixels, clipped to the frame; ``score`` is this
    face's smile probability in [0, 1].
    """

    box: tuple[int, int, int, int]
    score: float


@dataclass(frozen=True)
class SmileResult:
    """Smile score of a frame.

    ``score`` is the largest face's smile probability in [0, 1], 0.0 when no face was
    found; ``faces`` holds the scored faces, largest first.
    """

    score: float
    faces: tuple[Face, ...]


NO_FACE: Final = SmileResult(score=0.0, faces=())


class SmileDetector(Protocol):
    """What a smile detector provides; ``detect`` must be safe to call from threads."""

    name: str

    def detect(self, frame: UInt8Array) -> SmileResult:
        """Score the smile of an HxWx3 uint8 RGB frame; ValueError for other frames."""
        ...


def check_frame(frame: object) -> UInt8Array:
    """Return ``frame`` if it is an HxWx3 uint8 RGB array; raise ValueError otherwise.

    Frames must also be at least 16x16 pixels.
    """
    if not isinstance(frame, np.ndarray):
        raise ValueError(f"frame must be a numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise ValueError(f"frame must have dtype uint8, got {frame.dtype}")
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"frame must have shape (height, width, 3) RGB, got {frame.shape}")
    if frame.shape[0] < 16 or frame.shape[1] < 16:
        raise ValueError(f"frame must be at least 16x16 pixels, got {frame.shape[:2]}")
    return frame


def _session(path: Path) -> Any:
    """Open an ONNX model for single-threaded CPU inference (an InferenceSession)."""
    # Imported here, and by name: onnxruntime ships no type information, and importing
    # it only on first use keeps `import captures.smile` cheap.
    onnxruntime = importlib.import_module("onnxruntime")
    if not path.is_file():
        raise FileNotFoundError(f"smile model file missing: {path}")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )


# ---------------------------------------------------------------------- BlazeFace


@dataclass(frozen=True)
class FaceDetection:
    """A BlazeFace detection in frame pixels.

    ``box`` is ``(x0, y0, x1, y1)``, not clipped to the frame; ``keypoints`` is a 6x2
    array of (x, y): eye, eye, nose tip, mouth centre, ear, ear (MediaPipe's order);
    ``confidence`` is the face probability.
    """

    box: tuple[float, float, float, float]
    keypoints: Float64Array
    confidence: float

    @property
    def width(self) -> float:
        """Box width in pixels."""
        return self.box[2] - self.box[0]


def _ssd_anchors(size: int, strides: tuple[int, ...], two_per_cell: bool) -> FloatArray:
    """Anchor centres (x, y) in [0, 1], laid out as MediaPipe's SsdAnchorsCalculator."""
    centres: list[tuple[float, float]] = []
    layer = 0
    while layer < len(strides):
        repeats = 0
        last = layer
        while last < len(strides) and strides[last] == strides[layer]:
            last += 1
            repeats += 2 if two_per_cell else 1
        cells = size // strides[layer]
        for y in range(cells):
            for x in range(cells):
                centres.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * repeats)
        layer = last
    return np.array(centres, np.float32)


_BLAZEFACE: Final[dict[str, tuple[str, int, tuple[int, ...], bool]]] = {
    # file, input side, anchor strides, two anchors per cell: MediaPipe's
    # face_detection_short_range_common and face_detection_full_range_common graphs.
    "short": ("blazeface_short_range.onnx", 128, (8, 16, 16, 16), True),
    "full": ("blazeface_full_range.onnx", 192, (4,), False),
}


class BlazeFace:
    """MediaPipe BlazeFace face detector on onnxruntime (one thread).

    ``kind`` is ``"short"`` (128x128 input, faces within about 2 m of a webcam: the
    booth case, and the cheaper model) or ``"full"`` (192x192 input, faces down to a few
    percent of the frame). Safe to call from several threads.
    """

    def __init__(self, kind: str = "short", model_dir: Path = MODEL_DIR) -> None:
        filename, self.size, strides, two_per_cell = _BLAZEFACE[kind]
        self.kind = kind
        self._session = _session(model_dir / filename)
        self._input = self._session.get_inputs()[0].name
        self._anchors = _ssd_anchors(self.size, strides, two_per_cell).astype(np.float64)

    def _tensor(self, frame: UInt8Array) -> tuple[FloatArray, float, int, int]:
        """Letterbox ``frame`` into the model input; return it, the scale and the offsets."""
        height, width = frame.shape[:2]
        size = self.size
        scale = size / max(height, width)
        new_w = max(1, round(width * scale))
        new_h = max(1, round(height * scale))
        image = Image.fromarray(frame)
        # reduce() by an integer factor is a cheap box filter: it does most of the
        # scaling, and the bilinear resize of what is left costs little.
        factor = int(min(width / new_w, height / new_h))
        if factor >= 2:
            image = image.reduce(factor)
        if image.size != (new_w, new_h):
            image = image.resize((new_w, new_h), Image.Resampling.BILINEAR)
        tensor = np.zeros((1, 3, size, size), np.float32)
        x0 = (size - new_w) // 2
        y0 = (size - new_h) // 2
        pixels = np.asarray(image, np.float32).transpose(2, 0, 1)
        tensor[0, :, y0 : y0 + new_h, x0 : x0 + new_w] = pixels * (2.0 / 255.0) - 1.0
        return tensor, scale, x0, y0

    def detect(self, frame: UInt8Array) -> list[FaceDetection]:
        """Find faces in an HxWx3 uint8 RGB frame, most confident first."""
        tensor, scale, x0, y0 = self._tensor(frame)
        regressors, classifiers = self._session.run(None, {self._input: tensor})
        logits = np.clip(np.asarray(classifiers).reshape(-1), -_RAW_SCORE_LIMIT, _RAW_SCORE_LIMIT)
        keep = np.nonzero(logits > math.log(MIN_FACE_SCORE / (1.0 - MIN_FACE_SCORE)))[0]
        if keep.size == 0:
            return []
        confidences = 1.0 / (1.0 + np.exp(-logits[keep].astype(np.float64)))
        raw = np.asarray(regressors).reshape(-1, 8, 2)[keep].astype(np.float64)
        # raw[:, 0] is the box centre and raw[:, 1] its (w, h), in input pixels;
        # raw[:, 2:] are the key points; centres and key points are anchor-relative.
        anchors = self._anchors[keep] * self.size
        centres = raw[:, 0] + anchors
        half = raw[:, 1] / 2.0
        offset = np.array([x0, y0], np.float64)
        boxes = (
            np.concatenate([centres - half, centres + half], axis=1) - np.tile(offset, 2)
        ) / scale
        points = (raw[:, 2:] + anchors[:, None, :] - offset) / scale
        return _weighted_nms(boxes, points, confidences)


def _weighted_nms(
    boxes: Float64Array, points: Float64Array, confidences: Float64Array
) -> list[FaceDetection]:
    """Merge overlapping detections by confidence-weighted averaging, as MediaPipe does."""
    order = np.argsort(-confidences)
    widths = np.clip(boxes[:, 2] - boxes[:, 0], 0, None)
    heights = np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    areas = widths * heights
    used = np.zeros(len(order), bool)
    faces: list[FaceDetection] = []
    for index in order:
        if used[index]:
            continue
        box = boxes[index]
        inter_w = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
        inter_h = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
        inter = np.clip(inter_w, 0, None) * np.clip(inter_h, 0, None)
        iou = inter / np.maximum(areas[index] + areas - inter, 1e-9)
        group = (iou > _NMS_IOU) & ~used
        group[index] = True
        used |= group
        weights = confidences[group] / confidences[group].sum()
        merged = (boxes[group] * weights[:, None]).sum(axis=0)
        if merged[2] > merged[0] and merged[3] > merged[1]:
            faces.append(
                FaceDetection(
                    box=(float(merged[0]), float(merged[1]), float(merged[2]), float(merged[3])),
                    keypoints=(points[group] * weights[:, None, None]).sum(axis=0),
                    confidence=float(confidences[index]),
                )
            )
    return faces


# ---------------------------------------------------------------------- alignment


def _similarity(source: Float64Array, target: Float64Array) -> tuple[float, float, float, float]:
    """Least-squares similarity (a, b, tx, ty): target ~ [[a, -b], [b, a]] @ source + t."""
    src_mean = source.mean(axis=0)
    dst_mean = target.mean(axis=0)
    src = source - src_mean
    dst = target - dst_mean
    norm = float((src**2).sum())
    a = float((src * dst).sum()) / norm
    b = float((src[:, 0] * dst[:, 1] - src[:, 1] * dst[:, 0]).sum()) / norm
    tx = float(dst_mean[0] - (a * src_mean[0] - b * src_mean[1]))
    ty = float(dst_mean[1] - (b * src_mean[0] + a * src_mean[1]))
    return a, b, tx, ty


def align_face(grey: Image.Image, keypoints: Float64Array, size: int = CROP_SIZE) -> UInt8Array:
    """Cut the aligned ``size`` x ``size`` crop of one face from a greyscale image.

    ``keypoints`` are BlazeFace's six points in ``grey``'s pixels. The two eyes (taken
    left to right in the image) and the mouth centre are mapped by a least-squares
    similarity onto ``CANONICAL_POINTS`` (scaled to ``size``); pixels from outside the
    image are black.
    """
    eyes = keypoints[:2]
    if eyes[0, 0] > eyes[1, 0]:
        eyes = eyes[::-1]
    source = np.vstack([eyes, keypoints[3:4]])
    target = CANONICAL_POINTS * (size / CROP_SIZE)
    # PIL's AFFINE transform wants the map from output (crop) to input (image) pixels.
    a, b, tx, ty = _similarity(target + 0.5, source)
    crop = grey.transform(
        (size, size),
        Image.Transform.AFFINE,
        (a, -b, tx, b, a, ty),
        resample=Image.Resampling.BILINEAR,
    )
    return np.asarray(crop, np.uint8)


def grey_region(frame: UInt8Array, faces: list[FaceDetection]) -> tuple[Image.Image, Float64Array]:
    """Greyscale image of the part of ``frame`` around ``faces``, and its (x, y) origin.

    Converting only the faces' surroundings saves most of a full-frame conversion.
    """
    height, width = frame.shape[:2]
    boxes = np.array([f.box for f in faces])
    pad = float((boxes[:, 2] - boxes[:, 0]).max()) * 0.6
    x0 = int(max(0, boxes[:, 0].min() - pad))
    y0 = int(max(0, boxes[:, 1].min() - pad))
    x1 = int(min(width, boxes[:, 2].max() + pad + 1))
    y1 = int(min(height, boxes[:, 3].max() + pad + 1))
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
    region = Image.fromarray(np.ascontiguousarray(frame[y0:y1, x0:x1])).convert("L")
    return region, np.array([x0, y0], np.float64)


def normalise_crops(crops: UInt8Array) -> FloatArray:
    """N x 64 x 64 uint8 crops to N x 1 x 64 x 64 float32, each zero-mean, unit-variance."""
    data = crops.astype(np.float32)
    mean = data.mean(axis=(1, 2), keepdims=True)
    std = data.std(axis=(1, 2), keepdims=True)
    normalised: FloatArray = ((data - mean) / np.maximum(std, 4.0))[:, None, :, :]
    return normalised


#: The smile CNN's weights: int8 (what runs by default) and the float32 original.
SMILE_MODEL_INT8: Final = "smile_cnn_int8.onnx"
SMILE_MODEL_FLOAT32: Final = "smile_cnn.onnx"


class SmileNet:
    """Our smile CNN (``model``, a file in ``model_dir``): aligned 64x64 grey crops to P(smile).

    Each crop is scored with its mirror image; the probability is the sigmoid of the
    mean of the two logits. Safe to call from several threads.
    """

    def __init__(self, model_dir: Path = MODEL_DIR, model: str = SMILE_MODEL_INT8) -> None:
        self._session = _session(model_dir / model)
        self._input = self._session.get_inputs()[0].name

    def predict(self, crops: UInt8Array) -> Float64Array:
        """Return P(smile) in [0, 1] for each of N x 64 x 64 uint8 crops."""
        both = np.concatenate([crops, crops[:, :, ::-1]], axis=0)
        (logits,) = self._session.run(None, {self._input: normalise_crops(both)})
        mean = np.asarray(logits, np.float64).reshape(2, -1).mean(axis=0)
        probabilities: Float64Array = 1.0 / (1.0 + np.exp(-np.clip(mean, -30.0, 30.0)))
        return probabilities


# ---------------------------------------------------------------------- detectors


def clip_box(
    box: tuple[float, float, float, float], width: int, height: int
) -> tuple[int, int, int, int]:
    """Clip an (x0, y0, x1, y1) box to a ``width`` x ``height`` frame; return (x, y, w, h)."""
    x0 = min(max(round(box[0]), 0), width - 1)
    y0 = min(max(round(box[1]), 0), height - 1)
    x1 = min(max(round(box[2]), x0 + 1), width)
    y1 = min(max(round(box[3]), y0 + 1), height)
    return (x0, y0, x1 - x0, y1 - y0)


class FaceFinder:
    """BlazeFace short range, with full range as the fallback when it finds nothing."""

    def __init__(self, model_dir: Path = MODEL_DIR) -> None:
        self.short = BlazeFace("short", model_dir)
        self.full = BlazeFace("full", model_dir)

    def find_faces(self, frame: UInt8Array) -> list[FaceDetection]:
        """Faces at least ``MIN_FACE_SIZE`` wide, largest first, at most ``MAX_FACES``."""
        faces = [f for f in self.short.detect(frame) if f.width >= MIN_FACE_SIZE]
        if not faces:
            faces = [f for f in self.full.detect(frame) if f.width >= MIN_FACE_SIZE]
        faces.sort(key=lambda f: -f.width)
        return faces[:MAX_FACES]


class BlazeFaceCnnDetector(FaceFinder):
    """The default detector: BlazeFace faces, our CNN for the smile (module docstring)."""

    name = "blazeface-cnn"

    def __init__(self, model_dir: Path = MODEL_DIR, model: str = SMILE_MODEL_INT8) -> None:
        super().__init__(model_dir)
        self.net = SmileNet(model_dir, model)

    def score_faces(self, frame: UInt8Array, faces: list[FaceDetection]) -> SmileResult:
        """Score faces already found in ``frame`` (largest first)."""
        if not faces:
            return NO_FACE
        height, width = frame.shape[:2]
        grey, origin = grey_region(frame, faces)
        crops = np.stack([align_face(grey, f.keypoints - origin) for f in faces])
        probabilities = self.net.predict(crops)
        scored = tuple(
            Face(box=clip_box(f.box, width, height), score=float(p))
            for f, p in zip(faces, probabilities, strict=True)
        )
        return SmileResult(score=scored[0].score, faces=scored)

    def detect(self, frame: UInt8Array) -> SmileResult:
        """Score the smile of an HxWx3 uint8 RGB frame; ValueError for other frames."""
        frame = check_frame(frame)
        return self.score_faces(frame, self.find_faces(frame))


# ----------------------------------------------------------------------- registry

#: The detector ``detect_smile`` uses until ``set_default_detector`` changes it.
DEFAULT_DETECTOR: Final = "blazeface-cnn"

#: Lazy constructors of the available detectors, by name.
DETECTORS: Final[Mapping[str, Callable[[], SmileDetector]]] = MappingProxyType(
    {
        "blazeface-cnn": BlazeFaceCnnDetector,
        "blazeface-cnn-float32": partial(BlazeFaceCnnDetector, model=SMILE_MODEL_FLOAT32),
    }
)

_lock = threading.Lock()
_instances: dict[str, SmileDetector] = {}
_default = {"name": DEFAULT_DETECTOR}


def get_detector(name: str) -> SmileDetector:
    """Return the shared instance of detector ``name``, building it on first use.

    Thread-safe, and the instances are safe to call from several threads. Raises
    ValueError for a name not in ``DETECTORS``.
    """
    detector = _instances.get(name)
    if detector is not None:
        return detector
    if name not in DETECTORS:
        known = ", ".join(sorted(DETECTORS))
        raise ValueError(f"unknown smile detector {name!r}; known: {known}")
    with _lock:
        detector = _instances.get(name)
        if detector is None:
            detector = DETECTORS[name]()
            _instances[name] = detector
        return detector


def set_default_detector(name: str) -> None:
    """Make ``detect_smile`` use detector ``name``; ValueError for unknown names.

    The detector is built now, so a bad setting fails at start-up rather than on the
    first frame.
    """
    get_detector(name)
    _default["name"] = name


def detect_smile(frame: UInt8Array) -> SmileResult:
    """Score the smile in one HxWx3 uint8 RGB frame with the current default detector.

    Stateless and thread-safe. Raises ValueError for frames of another shape or dtype.
    """
    return get_detector(_default["name"]).detect(check_frame(frame))
