"""The one place that turns a user-facing saliency mode into a method's options.

``medxai report``, ``medxai evaluate`` and the audits all describe what they want as a
:class:`Mode` (exact, fast with a channel budget or a mask tolerance, or automatic by
device; plus optional reduced precision) and call :func:`method_options` (or
:func:`method_spec`) with the device the maps are computed on. The rule:

- a method without a fast mode (everything but Poly-CAM) always runs as registered;
- Poly-CAM runs exact in an ``"exact"`` mode, and in an ``"auto"`` mode on any device
  but a CPU (a GPU affords exact Poly-CAM);
- otherwise (``"fast"``, or ``"auto"`` on a CPU) Poly-CAM runs in its fast mode: with a
  tolerance alone, bounded by ``mode.tolerance`` only (the pass count follows from it);
  else with ``mode.channel_budget`` (default :data:`DEFAULT_CHANNEL_BUDGET`) and, when
  given, the tolerance too (the budget caps the passes, and the tolerance then holds
  where the budget allows: ``settings["max_cluster_distance"]`` records whether it did).

Only the options a method accepts (:func:`medxai.cams.registry.accepted_options`) are
passed, so every explainer is built through the same checked path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from medxai.cams.core import AUTOCAST_DTYPES
from medxai.cams.explainer import FAST_OPTIONS
from medxai.cams.registry import accepted_options, canonical_name
from medxai.errors import OptionError

#: Poly-CAM fast mode's default: scored channels per layer, image and sign. The smallest
#: budget that gives at least 20× fewer passes than exact on a five-layer ResNet (1 + 2·10·5
#: passes for PCAM±, against about 2,000 for a ResNet-18 and 7,800 for a ResNet-50).
#: Measured at this budget (docs/benchmarks.md, "Clustered fast mode", "Predicted
#: scores"): PCAM± Spearman with the exact map, mean (lowest) over 8 abnormal images, on
#: three phantom-trained ResNet-18s and a ResNet-50: :data:`DEFAULT_BUDGET_FIDELITY`.
DEFAULT_CHANNEL_BUDGET = 10
#: What the report says of the default budget's measured closeness to exact PCAM±.
DEFAULT_BUDGET_FIDELITY = (
    "measured on three phantom-trained ResNet-18s and a ResNet-50, PCAM± Spearman "
    "correlation with the exact map averaged 0.973–0.997 per model (lowest image 0.939)"
)
#: Default images per masked forward pass (Poly-CAM, RISE, Score-CAM, ...).
DEFAULT_BATCH_SIZE = 32


#: How a mode picks exact or fast: ``auto`` is fast on a CPU and exact elsewhere.
KINDS = ("auto", "exact", "fast")


@dataclass(frozen=True)
class Mode:
    """How a user wants the maps computed.

    Attributes:
        kind: ``"auto"`` (fast on a CPU, exact on a GPU), ``"exact"`` or ``"fast"``.
        channel_budget: fast mode's bound on scored representatives per layer, image and
            sign; ``None`` takes :data:`DEFAULT_CHANNEL_BUDGET`. Unused when exact.
        tolerance: fast mode's bound on the mask distance within a cluster (RMS
            difference of two normalised masks, in [0, 1]); ``None``: bounded by the
            budget only. Unused when exact.
        autocast: ``None`` (full precision) or ``"bf16"``/``"fp16"``.
    """

    kind: str = "auto"
    channel_budget: int | None = None
    tolerance: float | None = None
    autocast: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"mode must be one of {KINDS}, got {self.kind!r}")
        if self.channel_budget is not None and self.channel_budget < 1:
            raise ValueError(f"channel budget must be at least 1, got {self.channel_budget}")
        if self.tolerance is not None and not 0.0 <= self.tolerance <= 1.0:
            raise ValueError(f"tolerance must be in [0, 1], got {self.tolerance}")
        if self.autocast is not None and self.autocast not in AUTOCAST_DTYPES:
            raise ValueError(
                f"autocast must be one of {sorted(AUTOCAST_DTYPES)}, got {self.autocast!r}"
            )

    def is_fast(self, device: torch.device | str) -> bool:
        """Whether a method with a fast mode runs it on ``device``."""
        if self.kind == "auto":
            return torch.device(device).type == "cpu"
        return self.kind == "fast"

    def fast_options(self) -> dict[str, Any]:
        """The fast-mode options of this mode: the tolerance alone when only it was given,
        else the budget (default :data:`DEFAULT_CHANNEL_BUDGET`) and any tolerance."""
        if self.tolerance is not None and self.channel_budget is None:
            return {"tolerance": self.tolerance}
        budget = self.channel_budget if self.channel_budget is not None else DEFAULT_CHANNEL_BUDGET
        options: dict[str, Any] = {"channel_budget": budget}
        if self.tolerance is not None:
            options["tolerance"] = self.tolerance
        return options


def command_line_mode(
    *, exact: bool, channel_budget: int | None, tolerance: float | None
) -> Mode:
    """The mode of the command-line flags ``--exact``, ``--channel-budget N`` and
    ``--tolerance T`` (``medxai report`` and ``medxai evaluate``), checked once.

    ``--exact`` is exact everywhere; otherwise the mode is ``"auto"`` (fast on a CPU with
    the budget and tolerance given, exact on a GPU). The budget and the tolerance are
    fast-mode settings, so asking for them together with ``--exact`` is a contradiction.

    Raises:
        OptionError: naming the flag: ``--exact`` with a fast-mode flag, a budget below 1,
            or a tolerance outside ``[0, 1]``.
    """
    if exact:
        given = [
            flag
            for flag, value in (("--channel-budget", channel_budget), ("--tolerance", tolerance))
            if value is not None
        ]
        if given:
            raise OptionError(
                f"--exact contradicts {' and '.join(given)} (fast-mode settings); give one"
            )
        return Mode("exact")
    if channel_budget is not None and channel_budget < 1:
        raise OptionError(f"--channel-budget must be at least 1, got {channel_budget}")
    if tolerance is not None and not 0.0 <= tolerance <= 1.0:
        raise OptionError(f"--tolerance must be in [0, 1], got {tolerance}")
    return Mode("auto", channel_budget, tolerance)


@dataclass(frozen=True)
class MethodSpec:
    """One saliency method as an application runs it."""

    key: str  # registry name
    label: str  # shown to the reader
    options: dict[str, Any] = field(default_factory=dict)
    mode: str = "exact"  # "exact" or "fast"


def method_options(
    name: str,
    *,
    mode: Mode,
    device: torch.device | str,
    input_size: int | tuple[int, int] | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The options ``medxai.cams.create(name, model, **options)`` gets for ``mode``.

    ``input_size``, ``batch_size`` and ``seed`` are passed to the methods that accept
    them (``None``: the method's own default); ``extra`` holds method-specific settings
    (e.g. RISE's ``n_masks``), passed as given.

    Raises:
        ValueError: an unknown method name.
    """
    accepted = accepted_options(name)
    options: dict[str, Any] = dict(extra or {})
    common: dict[str, Any] = {"batch_size": batch_size, "seed": seed, "autocast": mode.autocast}
    if input_size is not None:
        size = input_size if isinstance(input_size, tuple) else (input_size, input_size)
        common["input_size"] = (int(size[0]), int(size[1]))
    for key, value in common.items():
        if value is not None and key in accepted:
            options[key] = value
    if "channel_budget" in accepted and mode.is_fast(device):
        options.update({k: v for k, v in mode.fast_options().items() if k in accepted})
    return options


def method_spec(
    name: str,
    label: str,
    *,
    mode: Mode,
    device: torch.device | str,
    input_size: int | tuple[int, int] | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
) -> MethodSpec:
    """:func:`method_options` with the method's registry name, label and resolved mode."""
    options = method_options(
        name, mode=mode, device=device, input_size=input_size, batch_size=batch_size, seed=seed
    )
    fast = any(key in options for key in FAST_OPTIONS)
    return MethodSpec(canonical_name(name), label, options, "fast" if fast else "exact")


def approximation_text(settings: Mapping[str, Any]) -> str:
    """How an approximate map was made, from its method's settings: ``fast mode, 8
    channels per layer`` (with ``, mask tolerance 0.05`` when one was given; ``fast mode,
    mask tolerance 0.05`` alone), else ``reduced precision`` (autocast)."""
    budget, tolerance = settings.get("channel_budget"), settings.get("tolerance")
    parts = []
    if budget:
        parts.append(f"{budget} channel{'' if budget == 1 else 's'} per layer")
    if tolerance is not None:
        parts.append(f"mask tolerance {tolerance:g}")
    return "fast mode, " + ", ".join(parts) if parts else "reduced precision"
