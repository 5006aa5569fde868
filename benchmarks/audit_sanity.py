"""Cascading randomisation sanity check on phantom valid images, with seeds and CIs.

Randomises the classifier's blocks from the logits down (``fc``, ``layer4``, ...,
``conv1``; :mod:`medxai.metrics.sanity`), ``--seeds`` independent cascades, recomputes
every method's map for the abnormal class at each step and prints one markdown table per
figure: mean [bootstrap 95 % CI over seeds × images] of SSIM and Spearman ρ to the trained
map, ρ (and SSIM) to the class-agnostic map, and the class contrast. The curves go to
``--figure`` and the maps of the first image and seed to ``--maps``.

    python benchmarks/audit_sanity.py --root PHANTOMS --checkpoint CKPT --threads 1

Every block is randomised by default (``--blocks N``: the top ``N`` only).
``--channel-budget`` (default 0 = exact) runs Poly-CAM in fast mode.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

from medxai.audit.samples import inputs_of, load_images
from medxai.checkpoint import load_classifier
from medxai.metrics.sanity import (
    BATCHNORM_CHOICES,
    FIGURES,
    SanityResult,
    cascading_randomisation,
    default_randomisation_blocks,
    plot_cascading_randomisation,
    plot_randomisation_curves,
)

METHODS = "cam,gradcam,ig,pcam+,pcam-,pcam±"
DOCS = Path(__file__).resolve().parents[1] / "docs/images"
TITLES = {
    "ssim": "SSIM to the trained map",
    "spearman": "Spearman ρ to the trained map",
    "agnostic_ssim": "SSIM to the class-agnostic map (same step)",
    "agnostic_spearman": "Spearman ρ to the class-agnostic map (same step)",
    "contrast": "class contrast: ρ with the opposite class's map",
}


def cell(row: dict, figure: str) -> str:
    mean, low, high = row[figure], row[f"{figure}_low"], row[f"{figure}_high"]
    if mean != mean:
        return "—"
    return f"{mean:.2f} [{low:.2f}, {high:.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", help="phantom dataset root (MURA layout)")
    parser.add_argument("--checkpoint", help="medxai checkpoint")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--images", type=int, default=8, help="abnormal annotated images used")
    parser.add_argument("--seeds", type=int, default=5, help="cascades (weight draws)")
    parser.add_argument("--methods", default=METHODS)
    parser.add_argument("--batchnorm", choices=BATCHNORM_CHOICES, default="keep")
    parser.add_argument("--channel-budget", type=int, default=0, help="0 = exact Poly-CAM")
    parser.add_argument(
        "--option", action="append", default=[], metavar="METHOD:KEY=VALUE",
        help="a method setting (a number), e.g. ig:n_steps=20; repeatable",
    )  # fmt: skip
    parser.add_argument("--blocks", type=int, default=0, help="first N blocks only (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--cascades", default=None, metavar="K,K,...",
        help="run only these of the --seeds cascades (0-based), to --combine later",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's)")
    parser.add_argument("--figure", default=str(DOCS / "sanity_randomisation_curves.png"))
    parser.add_argument("--maps", default=str(DOCS / "sanity_cascading.png"))
    parser.add_argument("--json", default=None, help="write the table rows here")
    parser.add_argument("--save", default=None, help="write the raw result here (.npz)")
    parser.add_argument(
        "--combine", nargs="+", default=None, metavar="NPZ",
        help="print and plot these saved runs (same seeds, other methods) instead of running",
    )  # fmt: skip
    parser.add_argument("--dpi", type=int, default=70)
    args = parser.parse_args()
    if not args.combine and not (args.root and args.checkpoint):
        parser.error("--root and --checkpoint are needed unless --combine is given")

    if args.combine:
        result = SanityResult.combine([SanityResult.load(path) for path in args.combine])
        print(f"combined {', '.join(args.combine)}: {result.seeds} seeds, BatchNorm "
              f"{result.batchnorm}, {result.targets.numel()} images")  # fmt: skip
    else:
        result = run(args)
    methods = result.methods
    rows = result.table()
    steps = ["original", *result.steps]
    for figure in FIGURES:
        print(f"\n**{TITLES[figure]}**, mean [95 % CI]\n")
        print("| step | randomised | " + " | ".join(methods) + " |")
        print("|---|---|" + "---|" * len(methods))
        for s, step in enumerate(steps):
            cells = [cell(rows[m * len(steps) + s], figure) for m in range(len(methods))]
            print(f"| {s} | {step} | " + " | ".join(cells) + " |")

    for path, figure in (
        (args.figure, plot_randomisation_curves(result)),
        (args.maps, plot_cascading_randomisation(result, sample=0)),
    ):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=args.dpi, bbox_inches="tight")
        print(f"\nfigure: {path} ({Path(path).stat().st_size / 1024:.0f} KB)")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")


def run(args: argparse.Namespace) -> SanityResult:
    """The cascade of ``args`` on the first ``--images`` annotated abnormal images."""
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    clf = load_classifier(args.checkpoint)
    images = load_images(args.root, args.split, size=clf.input_size, mean=clf.mean, std=clf.std)
    chosen = [im for im in images if im.label == 1 and im.annotation is not None][: args.images]
    x = inputs_of(chosen)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    budget = args.channel_budget or None
    options = {m: {"channel_budget": budget} for m in methods if m.startswith("pcam")}
    for text in args.option:
        method, _, setting = text.partition(":")
        key, _, value = setting.partition("=")
        options.setdefault(method, {})[key] = float(value) if "." in value else int(value)

    blocks = default_randomisation_blocks(clf.model)
    blocks = blocks[: args.blocks] if args.blocks else blocks
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    load = os.getloadavg()
    result = cascading_randomisation(
        clf.model, x, methods, targets=1, blocks=blocks, seed=args.seed, seeds=args.seeds,
        batchnorm=args.batchnorm, method_options=options,
        cascades=None if args.cascades is None else [int(k) for k in args.cascades.split(",")],
    )  # fmt: skip
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    mode = "exact Poly-CAM" if budget is None else f"Poly-CAM channel budget {budget}"
    print(
        f"{len(chosen)} abnormal {args.split} images, cascades {result.cascades} of "
        f"{args.seeds}, BatchNorm "
        f"{args.batchnorm}, {mode}; target class 1 (abnormal); options {options}"
    )
    print(f"wall {wall:.0f} s, CPU {cpu:.0f} s, load average at start {load[0]:.1f}")
    if args.save:
        result.save(args.save)
        print(f"saved: {args.save}")
    return result


if __name__ == "__main__":
    main()
