"""Mean insertion and deletion curves per method, as ``curves.png`` and ``curves.npz``."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from medxai.atomic import write_bytes_atomic
from medxai.viz.text import plain_text


def mean_curves(
    curves: Mapping[str, Mapping[str, np.ndarray]],
) -> dict[str, dict[str, np.ndarray]]:
    """Per kind and method, the mean curve over images (methods with no curve left out)."""
    return {
        kind: {m: stack.mean(axis=0) for m, stack in per.items() if stack.size}
        for kind, per in curves.items()
    }


def write_curves_npz(path: Path, means: Mapping[str, Mapping[str, np.ndarray]]) -> Path:
    """Save the mean curves as ``"<kind>:<method>"`` arrays plus ``fractions``, atomically."""
    arrays: dict[str, np.ndarray] = {}
    for kind, per in means.items():
        for method, curve in per.items():
            arrays[f"{kind}:{method}"] = curve
            arrays.setdefault("fractions", np.linspace(0.0, 1.0, curve.size))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return write_bytes_atomic(path, buffer.getvalue())


@plain_text()
def plot_curves(path: Path, means: Mapping[str, Mapping[str, np.ndarray]], title: str) -> Path:
    """Draw one panel per kind (insertion, deletion) with a line per method, atomically.

    The x axis is the fraction of pixels moved, ``k/n``; the legend gives each mean
    curve's AUC (the mean of its points, as in the per-image AUCs). Text is drawn as
    written (:mod:`medxai.viz.text`).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    kinds = [k for k in ("insertion", "deletion") if means.get(k)]
    figure = Figure(figsize=(5.0 * max(1, len(kinds)), 4.0), layout="constrained")
    axes = figure.subplots(1, max(1, len(kinds)), squeeze=False)[0]
    for ax, kind in zip(axes, kinds):
        for method, curve in means[kind].items():
            x = np.linspace(0.0, 1.0, curve.size)
            ax.plot(x, curve, label=f"{method} (AUC {curve.mean():.3f})")
        ax.set_title(kind)
        ax.set_xlabel("fraction of pixels " + ("inserted" if kind == "insertion" else "deleted"))
        ax.set_ylabel("score of the explained class")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.legend(loc="best", fontsize="small")
    figure.suptitle(title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return write_bytes_atomic(path, buffer.getvalue())
