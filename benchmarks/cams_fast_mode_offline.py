"""Fast-mode variants evaluated offline from cached exact PCAM± runs (no masked passes).

    python benchmarks/cams_fast_mode_offline.py --checkpoint PATH --images 'GLOB' \\
        --limit 8 --exact-cache CACHE [--budgets 8 16 20 32]

Run ``benchmarks/cams_fast_mode.py`` first with the same ``--checkpoint``, ``--images``,
``--limit`` and ``--exact-cache``: it saves, per image, the exact map and every layer's
per-channel weights ``w_lk`` and activations ``A_lk``. A fast map scores only a set
``S_l`` of channels per layer; with the scored channels' weights equal to the exact ones,
it is the exact computation with the weights of ``k ∉ S_l`` replaced by a fill value
``ŵ_l``. This script recomputes such maps for:

- fill ``0`` (what fast mode does) and fill = the mean weight of the scored channels of
  the layer (the estimate of an unscored weight that minimises the expected squared error
  if weights and activations are independent);
- every weight set to 1 (no masked pass at all: LNorm-fused activations), a floor that
  shows how much of the exact map the activations alone already fix;
- one layer budgeted at a time, the others exact (which layer the map is sensitive to).

and prints the Spearman correlation with the exact map (mean over images, worst image).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from _cams_common import checkpoint_parser, spearman
from cams_fast_mode import cache_path, load_inputs, load_model
from torch import Tensor

from medxai.cams.fusion import fuse, layer_map, resize
from medxai.cams.normalize import percentile_normalize


def final_map(weights: list[Tensor], activations: list[Tensor], size: int) -> Tensor:
    """PCAM's final level from per-layer weights ``B×K`` and activations ``B×K×h×w``."""
    maps = [layer_map(w, a) for w, a in zip(weights, activations)]
    return resize(percentile_normalize(fuse(maps, lnorm=True)[-1]), (size, size))


def budgeted(weight: Tensor, acts: Tensor, budget: int, fill: str) -> Tensor:
    """``weight`` with all but the ``budget`` largest-peak channels set to the fill value."""
    if budget >= weight.shape[1]:
        return weight
    top = acts.abs().flatten(2).amax(-1).topk(budget, dim=1).indices  # peak ranking
    keep = torch.zeros_like(weight).scatter_(1, top, 1.0)
    value = (weight * keep).sum(1, keepdim=True) / budget if fill == "mean" else 0.0
    return weight * keep + value * (1 - keep)


def summary(values: list[float]) -> str:
    return f"{np.mean(values):.3f} ({np.min(values):.2f})"


def main() -> None:
    parser = checkpoint_parser(__doc__.splitlines()[0])
    parser.add_argument("--exact-cache", type=Path, required=True)
    parser.add_argument("--budgets", type=int, nargs="+", default=[8, 16, 20, 32])
    parser.add_argument("--size", type=int, default=224, help="unused with a checkpoint")
    args = parser.parse_args()
    _, size, mean, std = load_model(args)
    _, names = load_inputs(args, size, mean, std)
    fills: dict[tuple[str, int], list[float]] = {}
    layers: dict[tuple[int, int], list[float]] = {}
    flat: list[float] = []
    channels: list[int] = []
    for name in names:
        path = cache_path(args.exact_cache, f"{args.checkpoint}|{name}|{size}")
        if not path.is_file():
            raise SystemExit(f"{path}: no cached exact run for {name}; run cams_fast_mode.py")
        record = torch.load(path, weights_only=True)
        weights, acts, exact = record["weights"], record["activations"], record["saliency"]
        channels = [w.shape[1] for w in weights]
        for budget in args.budgets:
            for fill in ("zero", "mean"):
                approx = [budgeted(w, a, budget, fill) for w, a in zip(weights, acts)]
                fills.setdefault((fill, budget), []).append(
                    spearman(final_map(approx, acts, size), exact)
                )
            for layer in range(len(weights)):
                approx = list(weights)
                approx[layer] = budgeted(weights[layer], acts[layer], budget, "zero")
                layers.setdefault((layer, budget), []).append(
                    spearman(final_map(approx, acts, size), exact)
                )
        flat.append(spearman(final_map([torch.ones_like(w) for w in weights], acts, size), exact))

    print(f"{len(names)} images at {size}², channels per target layer {channels}")
    print("Spearman with the exact map: mean (worst image)\n")
    print("| channels per layer | " + " | ".join(f"{b}" for b in args.budgets) + " |")
    print("|---|" + "---|" * len(args.budgets))
    for fill, label in (("zero", "fill 0 (fast mode)"), ("mean", "fill = mean scored weight")):
        print(f"| {label} | " + " | ".join(summary(fills[(fill, b)]) for b in args.budgets) + " |")
    print(f"\nall weights 1 (no masked pass): {summary(flat)}\n")
    print("| layer budgeted alone (fill 0) | " + " | ".join(f"{b}" for b in args.budgets) + " |")
    print("|---|" + "---|" * len(args.budgets))
    for layer, count in enumerate(channels):
        cells = " | ".join(summary(layers[(layer, b)]) for b in args.budgets)
        print(f"| {layer + 1} (shallow → deep), {count} channels | {cells} |")


if __name__ == "__main__":
    main()
