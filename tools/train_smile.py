r"""Train Boothsite's smile CNN and export it to captures/smile_models/smile_cnn.onnx.

Data, read from ../shared/data (never shipped):

- GENKI-4K dev, training part only (``bench.smile.is_validation`` keeps 1 photo in 5
  out, by a hash of the file name): each photo is placed in ``--copies`` 640x480 frames
  exactly as ``bench/smile.py`` places them (other seeds), the product's face finder
  (BlazeFace, ``captures.smile.FaceFinder``) finds the face, and ``align_face`` cuts the
  64x64 crop, the first copy as the product does and the others with a random
  similarity jitter (scale 0.9-1.1, rotation +-8 degrees, shift +-2 px).
- SMILEsmileD (all 11,153 crops): each 64x64 crop is edge-padded, run through the same
  face finder and re-aligned the same way; the few where no face is found are used as
  they are (their framing is close to ours).

The CNN (``build_model``, about 0.44 M parameters) trains with AdamW and a one-cycle
schedule on binary cross-entropy, GENKI crops weighted ``--genki-weight`` times a
SMILEsmileD crop (in-domain, cleaner labels), classes balanced within each source, with
flip, shift, contrast, gamma and noise augmentation; half of SMILEsmileD is drawn per
epoch. The shipped ``smile_cnn.onnx`` is two such members (seeds 2026 and 2027, same
data) whose logits are averaged by ``--combine``. Seeded and single-threaded; one member
takes about 13 minutes on one core (the first run also prepares the crops, 2.5 min):

    .venv/bin/pip install -r tools/requirements-train.txt
    taskset -c 0 .venv/bin/python tools/train_smile.py --seed 2026 \
        --cache /tmp/smile-crops.npz --out /tmp/smile-2026.onnx
    taskset -c 0 .venv/bin/python tools/train_smile.py --seed 2027 \
        --cache /tmp/smile-crops.npz --out /tmp/smile-2027.onnx
    .venv/bin/python tools/train_smile.py --combine /tmp/smile-2026.onnx /tmp/smile-2027.onnx
    taskset -c 0 .venv/bin/python tools/train_smile.py \
        --quantize captures/smile_models/smile_cnn.onnx

``--combine`` writes the float32 model ``smile_cnn.onnx``; ``--quantize`` writes from it
the int8 model the product runs, ``smile_cnn_int8.onnx`` (calibrated on the GENKI
training part only).

Prints the crop-level accuracy on the validation part at the end; the whole-pipeline
figures are ``bench/smile.py``'s.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.smile import DATA, GENKI, genki_rows, is_validation, place_in_frame  # noqa: E402
from captures import smile  # noqa: E402

SEED = 2026  # data preparation; the model's seed is --seed
CALIBRATION_CROPS = 512  # activation ranges of the int8 model (--quantize)


def say(message: str) -> None:
    """Progress to stdout, flushed (training runs for minutes)."""
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


SIZE = smile.CROP_SIZE


def jitter(points: np.ndarray, rng: np.random.Generator, scale_of: float) -> np.ndarray:
    """Random similarity around the key points' centroid (image pixels)."""
    centre = points[[0, 1, 3]].mean(axis=0)
    angle = np.deg2rad(rng.uniform(-8, 8))
    scale = rng.uniform(0.9, 1.1)
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shift = rng.uniform(-2, 2, 2) * scale_of / SIZE
    moved: np.ndarray = (points - centre) @ rot.T + centre + shift
    return moved


def crop_of(
    frame: np.ndarray, face: smile.FaceDetection, rng: np.random.Generator | None
) -> np.ndarray:
    grey, origin = smile.grey_region(frame, [face])
    points = face.keypoints - origin
    if rng is not None:
        points = jitter(points, rng, face.width)
    return smile.align_face(grey, points)


def genki_crops(
    finder: smile.FaceFinder, copies: int, validation: bool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    crops, labels, missed = [], [], 0
    for name, label in genki_rows():
        if is_validation(name) != validation:
            continue
        with Image.open(GENKI / "files" / name) as photo:
            photo.load()
            for copy in range(copies):
                frame, _ = place_in_frame(photo, rng)
                faces = finder.find_faces(frame)
                if not faces:
                    missed += 1
                    continue
                crops.append(crop_of(frame, faces[0], rng if copy else None))
                labels.append(label)
    say(
        f"GENKI {'validation' if validation else 'train'}: {len(crops)} crops, "
        f"{missed} frames without a face"
    )
    return np.stack(crops), np.array(labels, np.float32)


def smilesmiled_crops(
    finder: smile.FaceFinder, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    crops, labels, raw = [], [], 0
    for label, folder in ((1, "smile"), (0, "nonsmile")):
        for path in sorted((DATA / "smilesmiled-train" / folder).glob("*.jpg")):
            with Image.open(path) as image:
                grey = np.asarray(image.convert("L").resize((SIZE, SIZE)))
            padded = np.pad(
                np.repeat(grey[:, :, None], 3, axis=2), ((48, 48), (48, 48), (0, 0)), mode="edge"
            )
            faces = finder.short.detect(padded)
            if faces and faces[0].width >= 32:
                crops.append(crop_of(padded, faces[0], rng))
            else:
                crops.append(grey)
                raw += 1
            labels.append(label)
    say(f"SMILEsmileD: {len(crops)} crops, {raw} used unaligned")
    return np.stack(crops), np.array(labels, np.float32)


def build_model(seed: int) -> Any:
    import torch
    from torch import nn

    def conv(cin: int, cout: int) -> list[nn.Module]:
        return [
            nn.Conv2d(cin, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        ]

    torch.manual_seed(seed)
    return nn.Sequential(
        *conv(1, 24), nn.MaxPool2d(2),  # 32
        *conv(24, 32), *conv(32, 32), nn.MaxPool2d(2),  # 16
        *conv(32, 64), *conv(64, 64), nn.MaxPool2d(2),  # 8
        *conv(64, 128), *conv(128, 128), nn.MaxPool2d(2),  # 4
        *conv(128, 128),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(128, 1),
    )  # fmt: skip


def augment(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Label-preserving changes: flip, shift up to 3 px, contrast, gamma, noise."""
    out = batch.copy()
    flip = rng.random(len(out)) < 0.5
    out[flip] = out[flip, :, ::-1]
    padded = np.pad(out, ((0, 0), (3, 3), (3, 3)), mode="edge")
    shifts = rng.integers(0, 7, (len(out), 2))
    for i, (dy, dx) in enumerate(shifts):
        out[i] = padded[i, dy : dy + SIZE, dx : dx + SIZE]
    data = out.astype(np.float32) / 255.0
    gamma = np.exp(rng.uniform(-0.4, 0.4, (len(out), 1, 1)))
    data = data**gamma
    gain = rng.uniform(0.6, 1.4, (len(out), 1, 1))
    data = (data - 0.5) * gain + 0.5 + rng.uniform(-0.15, 0.15, (len(out), 1, 1))
    data += rng.normal(0, 1, data.shape) * rng.uniform(0, 0.03, (len(out), 1, 1))
    return np.clip(data * 255.0, 0, 255).astype(np.uint8)


def combine(members: list[Path], out: Path) -> None:
    """Write one ONNX model whose logit is the mean of the members' logits.

    Each member's tensors are renamed with a prefix; all read the shared input.
    """
    import onnx
    from onnx import TensorProto, helper

    nodes, initialisers, outputs = [], [], []
    first = onnx.load(str(members[0]))
    input_name = first.graph.input[0].name
    for index, path in enumerate(members):
        graph = onnx.load(str(path)).graph
        prefix = f"m{index}_"

        def rename(name: str, prefix: str = prefix) -> str:
            return name if name in ("", input_name) else prefix + name

        for initialiser in graph.initializer:
            initialiser.name = rename(initialiser.name)
            initialisers.append(initialiser)
        for node in graph.node:
            node.name = prefix + node.name
            node.input[:] = [rename(name) for name in node.input]
            node.output[:] = [rename(name) for name in node.output]
            nodes.append(node)
        outputs.append(rename(graph.output[0].name))
    nodes.append(helper.make_node("Mean", outputs, ["logits"], name="mean_of_members"))
    graph = helper.make_graph(
        nodes,
        "smile_cnn_ensemble",
        [first.graph.input[0]],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", 1])],
        initialisers,
    )
    model = helper.make_model(graph, opset_imports=first.opset_import)
    model.ir_version = first.ir_version
    model.doc_string = "Boothsite smile CNN: mean logit of " + ", ".join(p.name for p in members)
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


def quantize(source: Path, out: Path, crops: np.ndarray) -> None:
    """Write an int8 copy of the ONNX model ``source`` to ``out``.

    onnxruntime's static quantisation in QDQ format: weights int8 per output channel,
    activations uint8 with ranges calibrated (min/max) on ``crops`` (N x 64 x 64 uint8
    aligned training crops) and their mirror images, as ``captures.smile.SmileNet``
    scores them. About 2.7 times faster than float32 on one x86 core.
    """
    quantization = importlib.import_module("onnxruntime.quantization")
    both = smile.normalise_crops(np.concatenate([crops, crops[:, :, ::-1]]))
    feeds = iter([{"crops": both[i : i + 1]} for i in range(len(both))])

    class Calibration(quantization.CalibrationDataReader):  # type: ignore[misc,name-defined]
        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(feeds, None)

    prepared = out.with_suffix(".pre.onnx")
    quantization.quant_pre_process(str(source), str(prepared))
    try:
        quantization.quantize_static(
            str(prepared),
            str(out),
            Calibration(),
            quant_format=quantization.QuantFormat.QDQ,
            per_channel=True,
            activation_type=quantization.QuantType.QUInt8,
            weight_type=quantization.QuantType.QInt8,
        )
    finally:
        prepared.unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=2026, help="model initialisation and batches")
    parser.add_argument("--copies", type=int, default=5, help="frames per GENKI training photo")
    parser.add_argument("--genki-weight", type=float, default=2.0)
    parser.add_argument(
        "--smilesmiled-share", type=float, default=0.5, help="part of SMILEsmileD drawn per epoch"
    )
    parser.add_argument(
        "--cache", type=Path, default=None, help="npz of prepared crops (made if absent)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default: smile_cnn_int8.onnx with --quantize, else smile_cnn.onnx, in "
        "captures/smile_models",
    )
    parser.add_argument(
        "--combine",
        type=Path,
        nargs="+",
        help="instead of training: average these member ONNX models into --out",
    )
    parser.add_argument(
        "--quantize",
        type=Path,
        metavar="MODEL",
        help="instead of training: write an int8 copy of MODEL to --out, calibrated on "
        f"{CALIBRATION_CROPS} GENKI training-part crops",
    )
    args = parser.parse_args()
    if args.out is None:
        args.out = smile.MODEL_DIR / ("smile_cnn_int8.onnx" if args.quantize else "smile_cnn.onnx")
    if args.quantize:
        finder = smile.FaceFinder()
        crops, _ = genki_crops(finder, 1, False, np.random.default_rng(SEED))
        pick = np.random.default_rng(SEED).choice(len(crops), CALIBRATION_CROPS, replace=False)
        quantize(args.quantize, args.out, crops[np.sort(pick)])
        say(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
        return 0
    if args.combine:
        combine(args.combine, args.out)
        say(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
        return 0
    if not (GENKI / "labels.csv").is_file():
        say(f"GENKI-4K dev data not found at {GENKI}")
        return 1
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    started = time.perf_counter()
    if args.cache is not None and args.cache.is_file():
        cached = np.load(args.cache)
        g_x, g_y, s_x, s_y, v_x, v_y = (
            cached[k] for k in ("g_x", "g_y", "s_x", "s_y", "v_x", "v_y")
        )
    else:
        finder = smile.FaceFinder()
        g_x, g_y = genki_crops(finder, args.copies, False, np.random.default_rng(SEED))
        v_x, v_y = genki_crops(finder, 1, True, np.random.default_rng(SEED + 1))
        s_x, s_y = smilesmiled_crops(finder, np.random.default_rng(SEED + 2))
        if args.cache is not None:
            np.savez_compressed(args.cache, g_x=g_x, g_y=g_y, s_x=s_x, s_y=s_y, v_x=v_x, v_y=v_y)
    say(
        f"data ready in {time.perf_counter() - started:.0f} s: "
        f"GENKI {len(g_x)}, SMILEsmileD {len(s_x)}"
    )

    x = np.concatenate([g_x, s_x])
    y = np.concatenate([g_y, s_y])
    weights = np.concatenate([np.full(len(g_x), args.genki_weight), np.ones(len(s_x))]).astype(
        np.float32
    )
    # Balance the classes within each source: SMILEsmileD is 1:3 smiles.
    for start, stop in ((0, len(g_x)), (len(g_x), len(x))):
        part = slice(start, stop)
        positive = y[part].mean()
        weights[part] *= np.where(y[part] == 1, 0.5 / positive, 0.5 / (1 - positive))
    rng = np.random.default_rng(args.seed)
    model = build_model(args.seed)
    say(f"model: {sum(p.numel() for p in model.parameters())} parameters")
    batch = 64
    per_epoch = len(g_x) + round(len(s_x) * args.smilesmiled_share * 1.05)
    steps = args.epochs * ((per_epoch + batch - 1) // batch) + 1
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=2e-3, total_steps=steps, pct_start=0.2
    )
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")
    for epoch in range(args.epochs):
        model.train()
        drawn = rng.random(len(s_x)) < args.smilesmiled_share
        order = rng.permutation(
            np.concatenate([np.arange(len(g_x)), len(g_x) + np.nonzero(drawn)[0]])
        )
        total = 0.0
        for start in range(0, len(order), batch):
            index = order[start : start + batch]
            inputs = torch.from_numpy(smile.normalise_crops(augment(x[index], rng)))
            logits = model(inputs).reshape(-1)
            loss = (
                loss_fn(logits, torch.from_numpy(y[index])) * torch.from_numpy(weights[index])
            ).sum() / weights[index].sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(index)
        say(
            f"epoch {epoch + 1}/{args.epochs} loss {total / len(order):.4f} "
            f"({time.perf_counter() - started:.0f} s)"
        )

    model.eval()
    with torch.no_grad():
        both = np.concatenate([v_x, v_x[:, :, ::-1]])
        logits = model(torch.from_numpy(smile.normalise_crops(both))).reshape(2, -1).mean(0).numpy()
    say(
        f"validation crops: {len(v_x)}, accuracy at 0.5: {((logits >= 0) == (v_y == 1)).mean():.3f}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(2, 1, SIZE, SIZE)
    torch.onnx.export(
        model, (dummy,), str(args.out), input_names=["crops"], output_names=["logits"],
        dynamic_axes={"crops": {0: "n"}, "logits": {0: "n"}}, opset_version=17, dynamo=False,
    )  # fmt: skip
    say(
        f"wrote {args.out} ({args.out.stat().st_size} bytes) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
