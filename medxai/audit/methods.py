"""Every registered saliency method with settings small enough for a CPU notebook.

The registry's defaults follow the papers (RISE with 6000 masks, SmoothGrad with 50
samples, exact Poly-CAM, ...), which takes minutes per image on a CPU. The notebooks'
CI runs use :data:`SMALL_SETTINGS` instead; pass ``small=False`` to
:func:`build_explainers` for the defaults. Numbers from the small settings are noisier
(fewer samples: RISE draws 256 masks, Score-CAM variants 2 noise samples or iterations)
and Poly-CAM runs in its fast mode with the default budget
(:data:`medxai.cams.presets.DEFAULT_CHANNEL_BUDGET`); a ``channel_budget`` asks for fast
mode with that budget in either case. The options come from
:func:`medxai.cams.presets.method_options`, like the report's and the evaluation's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

import medxai.cams
from medxai.cams.presets import Mode, method_options

__all__ = ["SMALL_SETTINGS", "build_explainers", "explainer_options"]

#: Options per method for quick runs (methods not listed use their defaults).
SMALL_SETTINGS: dict[str, dict[str, Any]] = {
    "smoothgradcam++": {"num_samples": 4},
    "scorecam": {"batch_size": 64},
    "sscam": {"batch_size": 64, "num_samples": 2},
    "iscam": {"batch_size": 64, "num_samples": 2},
    "ig": {"n_steps": 16},
    "smoothgrad": {"nt_samples": 8},
    "occlusion": {"window": 16, "stride": 8},
    "rise": {"n_masks": 256, "batch_size": 128},
}


def explainer_options(
    name: str, input_size: int, *, small: bool = True, channel_budget: int | None = None
) -> dict[str, Any]:
    """The options :func:`medxai.cams.create` gets for ``name`` (see the module doc)."""
    canonical = medxai.cams.canonical_name(name)
    fast = small or channel_budget is not None
    return method_options(
        canonical,
        mode=Mode("fast" if fast else "exact", channel_budget),
        device="cpu",
        input_size=input_size,
        extra=SMALL_SETTINGS.get(canonical, {}) if small else {},
    )


def build_explainers(
    model: nn.Module,
    input_size: int,
    names: Sequence[str] | None = None,
    *,
    small: bool = True,
    channel_budget: int | None = None,
) -> dict[str, Any]:
    """``{name: explainer}`` for ``names`` (default: every registered method)."""
    names = list(names) if names is not None else medxai.cams.available()
    return {
        medxai.cams.canonical_name(n): medxai.cams.create(
            n, model, **explainer_options(n, input_size, small=small,
                                          channel_budget=channel_budget)
        )
        for n in names
    }
