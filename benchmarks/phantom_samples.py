"""Draw a grid of phantom radiographs for the README: ``docs/images/phantom_samples.png``.

Rows: normal, abnormal (fracture, ground-truth ellipses in yellow), cast (outline of the
cast mask in cyan) and hardware. Columns: the body parts. Run from the repository root::

    python benchmarks/phantom_samples.py [--out docs/images/phantom_samples.png] [--size 192]
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Ellipse

from medxai.data.phantoms import BODY_PARTS, PhantomConfig, render, sample_study
from medxai.data.phantoms.spec import StudySpec

ROWS = ("normal", "fracture", "cast", "hardware + marker")


def pick(config: PhantomConfig, body_part: str, row: str) -> StudySpec:
    """The first study (by index) of ``body_part`` that shows what ``row`` asks for."""
    for index in range(500):
        spec = sample_study(config, "train", index, body_part, row != "normal")
        if row == "normal" and spec.cast is None and spec.hardware is None:
            return spec
        if row == "fracture" and spec.cast is None and spec.hardware is None:
            return spec
        if row == "cast" and spec.cast is not None and spec.hardware is None:
            return spec
        if row.startswith("hardware") and spec.hardware is not None and spec.marker is not None:
            return replace(spec, cast=None)
    raise RuntimeError(f"no {row} study found for {body_part}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images/phantom_samples.png"))
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--subtlety", type=float, default=None)
    args = parser.parse_args()
    config = PhantomConfig(
        size=args.size,
        seed=args.seed,
        p_cast_abnormal=0.5,
        p_cast_normal=0.5,
        p_hardware=0.3,
        p_marker=0.6,
    )
    if args.subtlety is not None:
        config = replace(config, subtlety=args.subtlety)
    fig, axes = plt.subplots(
        len(ROWS), len(BODY_PARTS), figsize=(2.3 * len(BODY_PARTS), 2.45 * len(ROWS)), dpi=90
    )
    for r, row in enumerate(ROWS):
        for c, part in enumerate(BODY_PARTS):
            ax = axes[r, c]
            spec = pick(config, part, row)
            image = render(spec, 0)
            ax.imshow(image.pixels, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            for e in image.annotations:
                ax.add_patch(
                    Ellipse(
                        (e["cx"] - 0.5, e["cy"] - 0.5),
                        2 * e["rx"],
                        2 * e["ry"],
                        angle=-e["angle"],
                        fill=False,
                        color="yellow",
                        lw=0.8,
                    )
                )
            if image.cast_mask.any():
                ax.contour(image.cast_mask, levels=[0.5], colors="cyan", linewidths=0.6)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(part, fontsize=9)
            if c == 0:
                ax.set_ylabel(row, fontsize=9)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out)
    print(f"wrote {args.out} ({math.ceil(args.out.stat().st_size / 1024)} KB)")


if __name__ == "__main__":
    main()
