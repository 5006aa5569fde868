"""Cascading randomisation sanity check of the Poly-CAM variants on phantom valid images.

Randomises the classifier's blocks from the logits down (``fc``, ``layer4``, ...,
``conv1``), recomputes ``pcam+``, ``pcam-`` and ``pcam±`` for the abnormal class at each
step and prints a markdown table of the mean SSIM and Spearman rho against the intact
model's maps; the figure (first image) goes to ``docs/images/sanity_cascading.png``.

    OMP_NUM_THREADS=1 python benchmarks/audit_sanity.py --root PHANTOMS --checkpoint CKPT

``--channel-budget`` (default 32) runs Poly-CAM in fast mode; ``--channel-budget 0``
runs it exactly.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from PIL import Image

from medxai.audit.samples import inputs_of, load_images
from medxai.checkpoint import load_classifier
from medxai.metrics.sanity import cascading_randomisation, plot_cascading_randomisation

METHODS = ["pcam+", "pcam-", "pcam±"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="phantom dataset root (MURA layout)")
    parser.add_argument("--checkpoint", required=True, help="medxai checkpoint")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--images", type=int, default=4, help="abnormal images used")
    parser.add_argument("--channel-budget", type=int, default=32, help="0 = exact Poly-CAM")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--figure",
        default=str(Path(__file__).resolve().parents[1] / "docs/images/sanity_cascading.png"),
    )
    parser.add_argument("--dpi", type=int, default=60)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    clf = load_classifier(args.checkpoint)
    images = load_images(args.root, args.split, size=clf.input_size, mean=clf.mean, std=clf.std)
    chosen = [im for im in images if im.label == 1 and im.annotation is not None][: args.images]
    x = inputs_of(chosen)
    budget = args.channel_budget or None
    options = {m: {"channel_budget": budget} for m in METHODS}

    start_wall, start_cpu = time.perf_counter(), time.process_time()
    result = cascading_randomisation(
        clf.model, x, METHODS, targets=1, seed=args.seed, method_options=options
    )
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu

    mode = "exact" if budget is None else f"channel budget {budget}"
    print(f"{len(chosen)} abnormal {args.split} images ({mode}); target class 1 (abnormal)")
    print(f"wall {wall:.1f} s, CPU {cpu:.1f} s")
    print()
    print(
        "| step | randomised (cumulative, top down) | "
        + " | ".join(f"{m} SSIM | {m} ρ" for m in METHODS)
        + " |"
    )
    print("|---|---|" + "---|---|" * len(METHODS))
    steps = ["original", *result.steps]
    for s, step in enumerate(steps):
        cells = []
        for m in range(len(METHODS)):
            cells += [f"{result.ssim[m, s].mean():.3f}", f"{result.spearman[m, s].mean():.3f}"]
        print(f"| {s} | {step} | " + " | ".join(cells) + " |")

    figure = plot_cascading_randomisation(result, sample=0)
    Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.figure, dpi=args.dpi, bbox_inches="tight")
    # 256-colour palette keeps the file small (~170 KB instead of ~300 KB)
    with Image.open(args.figure) as image:
        palette = image.convert("RGB").quantize(256, dither=Image.Dither.NONE)
    palette.save(args.figure, optimize=True)
    print()
    print(f"figure: {args.figure} ({Path(args.figure).stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
