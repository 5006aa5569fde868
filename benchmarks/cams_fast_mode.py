"""Fast mode (``channel_budget``) against exact PCAM± on a trained classifier.

    python benchmarks/cams_fast_mode.py --checkpoint PATH --images 'DIR/**/*positive/*.png'
        [--limit 8] [--budgets 8 16 32 64]

The model comes from ``medxai.checkpoint.load_classifier``. Images are read with
``read_radiograph_png`` and turned into model inputs by the evaluation transform
``to_model_input`` (the checkpoint's input size, mean and std). ``--limit`` images are
taken evenly spaced from the sorted matches (so a glob over several body parts samples
all of them). The map explains "abnormal" for a single-logit model (the report's
default), else the predicted class. Without ``--images`` the inputs are Gaussian noise;
without ``--checkpoint`` a randomly initialised ResNet-18 is used (smoke runs only).

For every image, exact PCAM± runs once and fast mode once per budget (and per channel
selection rule). The table averages over the images:

- passes: forward passes of the call (baseline + masked); the pass ratio exact/fast;
- s / image and the speed-up (exact seconds / fast seconds, image by image; on a loaded
  machine the pass ratio is the steadier figure);
- max and mean absolute difference and Spearman rank correlation of the final map with
  the exact map;
- ins−del: insertion AUC − deletion AUC (``medxai.metrics.insertion_deletion``, the
  Poly-CAM protocol: blurred baseline, ``max(H, W)`` steps), and |Δ ins−del|, the mean
  absolute change from the exact map's value (per image, then averaged).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from _cams_common import distances, machine, timed
from torch import Tensor, nn

import medxai
from medxai.cams import polycam
from medxai.metrics.faithfulness import insertion_deletion


def load_model(args: argparse.Namespace) -> tuple[nn.Module, int, Sequence[float], Sequence[float]]:
    """(model, input size, mean, std)."""
    if args.checkpoint is None:
        from torchvision.models import resnet18

        print("no --checkpoint: random ResNet-18, a smoke run only\n")
        return resnet18(weights=None).eval(), args.size, (0.0,) * 3, (1.0,) * 3
    from medxai.checkpoint import load_classifier

    loaded = load_classifier(args.checkpoint)
    return loaded.model, loaded.input_size, loaded.mean, loaded.std


def pick(paths: Sequence[str], limit: int) -> list[str]:
    """``limit`` paths evenly spaced over ``paths`` (all of them when there are fewer)."""
    if len(paths) <= limit:
        return list(paths)
    return [paths[i] for i in np.linspace(0, len(paths) - 1, limit).round().astype(int)]


def load_inputs(
    args: argparse.Namespace, size: int, mean: Sequence[float], std: Sequence[float]
) -> tuple[Tensor, list[str]]:
    """``N×3×S×S`` model inputs and their names."""
    if not args.images:
        noise = torch.randn(args.limit, 3, size, size, generator=torch.Generator().manual_seed(0))
        return noise, [f"noise {i}" for i in range(args.limit)]
    from medxai.data.transforms import read_radiograph_png, to_model_input

    paths = pick(sorted(glob.glob(args.images, recursive=True)), args.limit)
    if not paths:
        raise SystemExit(f"no image matches {args.images!r}")
    batch = [to_model_input(read_radiograph_png(p), size, mean, std) for p in paths]
    return torch.stack(batch), paths


def target_of(model: nn.Module, x: Tensor) -> int | None:
    """1 ("abnormal") for a single-logit model, else ``None`` (the predicted class)."""
    with torch.no_grad():
        logits = model(x[:1])
    return 1 if logits.reshape(len(logits), -1).shape[1] == 1 else None


def ins_minus_del(model: nn.Module, image: Tensor, saliency: Tensor, target: int | None) -> float:
    """Insertion AUC − deletion AUC of one map."""
    result = insertion_deletion(model, image, saliency, target, batch_size=128)
    return float(result.difference[0])


def cache_path(cache: Path, key: str) -> Path:
    """Where the exact run of ``key`` (``checkpoint|image|size``) is saved in ``cache``."""
    return cache / (hashlib.sha256(key.encode()).hexdigest()[:16] + ".pt")


def exact_run(
    explainer: nn.Module,
    model: nn.Module,
    image: Tensor,
    target: int | None,
    cache: Path | None,
    key: str,
) -> dict:
    """Exact PCAM± of one image: map, seconds, passes, ins−del and the layers' weights.

    With ``cache``, a result saved by an earlier run for the same checkpoint, image and
    input size is reused (its seconds are that run's), and a new one is saved. The saved
    per-channel weights and activations let other channel selections be evaluated
    offline: a fast map equals the exact computation with unselected weights set to 0.
    """
    path = None
    if cache is not None:
        path = cache_path(cache, key)
        if path.is_file():
            return torch.load(path, weights_only=True)
    captured: list[tuple[Tensor, Tensor]] = []
    original = polycam.layer_map

    def recording(weight: Tensor, acts: Tensor) -> Tensor:
        captured.append((weight.clone(), acts.clone()))
        return original(weight, acts)

    polycam.layer_map = recording
    try:
        seconds, result = timed(lambda: explainer(image, target))
    finally:
        polycam.layer_map = original
    record = {
        "key": key,
        "saliency": result.saliency,
        "seconds": seconds,
        "passes": result.settings["masked_passes"] + 1,
        "ins_del": ins_minus_del(model, image, result.saliency, target),
        "weights": [w for w, _ in captured],
        "activations": [a for _, a in captured],
    }
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(record, path)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--images", default=None, help="glob (** allowed)")
    parser.add_argument("--limit", type=int, default=8)
    parser.add_argument("--size", type=int, default=224, help="input size without checkpoint")
    parser.add_argument("--budgets", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--exact-cache",
        type=Path,
        default=None,
        help="folder to save exact results in and reuse them from (their seconds are "
        "those of the run that saved them)",
    )
    args = parser.parse_args()
    model, size, mean, std = load_model(args)
    x, names = load_inputs(args, size, mean, std)
    target = target_of(model, x)
    print(f"machine: {machine()}")
    with open("/proc/loadavg") as f:
        print(f"load average at start: {f.read().split()[0]}")
    print(f"images ({len(names)}): " + ", ".join(names) + "\n")
    options = {"batch_size": args.batch_size, "input_size": (size, size)}
    exact = medxai.cams.create("pcam±", model, **options)
    fast_modes = {}
    for budget in args.budgets:
        fast_modes[f"budget {budget}"] = medxai.cams.create(
            "pcam±", model, channel_budget=budget, **options
        )
    rows: dict[str, list[tuple[float, ...]]] = {}
    for i in range(len(x)):
        image = x[i : i + 1]
        key = f"{args.checkpoint}|{names[i]}|{size}"
        record = exact_run(exact, model, image, target, args.exact_cache, key)
        exact_s, exact_passes, exact_id = record["seconds"], record["passes"], record["ins_del"]
        reference_map = record["saliency"]
        rows.setdefault("exact", []).append(
            (exact_passes, 1.0, exact_s, 1.0, 0.0, 0.0, 1.0, exact_id, 0.0)
        )
        for label, fast in fast_modes.items():
            seconds, result = timed(lambda f=fast, im=image: f(im, target))
            passes = result.settings["masked_passes"] + 1
            mx, mean_diff, rho = distances(result.saliency, reference_map)
            fast_id = ins_minus_del(model, image, result.saliency, target)
            rows.setdefault(label, []).append(
                (
                    passes,
                    exact_passes / passes,
                    seconds,
                    exact_s / seconds,
                    mx,
                    mean_diff,
                    rho,
                    fast_id,
                    abs(fast_id - exact_id),
                )
            )
        print(f"image {i + 1}/{len(x)} done (exact {exact_s:.0f} s)", flush=True)
    with open("/proc/loadavg") as f:
        print(f"load average at end: {f.read().split()[0]}\n")
    print(f"PCAM± fast mode vs exact, {len(x)} images at {size}², mean over images\n")
    print(
        "| mode | passes | pass ratio | s / image | speed-up | max abs diff | mean abs diff "
        "| Spearman (min) | ins−del | abs Δ ins−del (max) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, values in rows.items():
        cols = [np.asarray(v, dtype=float) for v in zip(*values)]
        p, ratio, s, speed, mx, mn, rho, ind, dind = (float(c.mean()) for c in cols)
        print(
            f"| {label} | {p:.0f} | {ratio:.1f}× | {s:.1f} | {speed:.1f}× | {mx:.3f} | {mn:.4f} "
            f"| {rho:.3f} ({cols[6].min():.3f}) | {ind:.3f} | {dind:.3f} ({cols[8].max():.3f}) |"
        )


if __name__ == "__main__":
    main()
