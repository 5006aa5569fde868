"""The rule that names a shortcut, stated from the numbers.

For a model and a set of abnormal images that show a cast:

- ``Δ_i = p(x_i) − p(x_i without cast)``: the drop of the abnormality probability when
  the cast is painted out (:mod:`medxai.audit.counterfactual`); ``Δ̄`` its mean, with a
  95 % percentile bootstrap CI ``[Δ_lo, Δ_hi]`` over images;
- ``E_m,i = mass_m,i − area_i``: how much more of method ``m``'s saliency lies on the
  cast than the cast's share of the image (:func:`medxai.audit.cast.cast_mass`); ``Ē_m``
  its mean.

**The model relies on the cast** ⟺ ``Δ̄ ≥ δ`` **and** ``Δ_lo > 0`` **and**
``Ē_m ≥ ε`` for at least one method ``m`` (for every method with
``require_all_methods=True``); by default ``δ = 0.15`` and ``ε = 0.05``. "At least one"
because a coarse method cannot concentrate its mass: at 64 px a ResNet's last layer is
2×2, so a CAM upsampled from it spreads over the whole limb whatever the model reads.

Why both parts: the drop is the causal test (the same image, with and without the cast),
and the excess saliency says the explanation points at the cast too. The saliency part
alone cannot decide: a cast sleeve covers the fracture site, so a model that reads the
fracture also puts saliency inside the cast mask. The drop part alone could be met by a
model that reads the fracture *through* the plaster if the counterfactual damaged the
fracture, which the re-rendered phantom does not do (the inpainted one does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from medxai.metrics.bootstrap import Estimate, mean_ci

__all__ = ["ShortcutRule", "ShortcutVerdict", "shortcut_verdict"]


@dataclass(frozen=True)
class ShortcutRule:
    """Thresholds of the rule (module doc): ``min_drop`` is ``δ``, ``min_excess`` is ``ε``."""

    min_drop: float = 0.15
    min_excess: float = 0.05
    require_all_methods: bool = False

    def describe(self) -> str:
        """The rule in one sentence, with its thresholds."""
        which = "every" if self.require_all_methods else "at least one"
        return (
            f"shortcut ⟺ mean probability drop without the cast ≥ {self.min_drop:.2f} "
            f"(and its 95% CI above 0) AND, for {which} saliency method, mean saliency "
            f"mass on the cast − cast area share ≥ {self.min_excess:.2f}"
        )


@dataclass(frozen=True)
class ShortcutVerdict:
    """The decision, the numbers it was made from, and the reason in words."""

    shortcut: bool
    drop: Estimate
    excess: dict[str, Estimate]
    rule: ShortcutRule
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain JSON-ready numbers."""
        return {
            "shortcut": self.shortcut,
            "drop": asdict(self.drop),
            "excess": {m: asdict(e) for m, e in self.excess.items()},
            "rule": asdict(self.rule),
            "reasons": list(self.reasons),
        }


def shortcut_verdict(
    drops: np.ndarray,
    excess: Mapping[str, np.ndarray],
    rule: ShortcutRule | None = None,
    *,
    seed: int = 0,
) -> ShortcutVerdict:
    """Apply ``rule`` to per-image drops ``Δ_i`` and per-method excesses ``E_m,i``."""
    rule = rule or ShortcutRule()
    drop = mean_ci(np.asarray(drops, dtype=np.float64), seed=seed, name="drop")
    excess_ci = {
        m: mean_ci(np.asarray(v, dtype=np.float64), seed=seed, name=f"excess:{m}")
        for m, v in excess.items()
    }
    reasons = []
    drop_ok = bool(drop.n > 0 and drop.mean >= rule.min_drop and drop.low > 0)
    reasons.append(
        f"mean drop {drop.mean:+.3f} [{drop.low:+.3f}, {drop.high:+.3f}] "
        f"{'≥' if drop_ok else 'fails'} {rule.min_drop:.2f} (n={drop.n})"
    )
    passed = []
    for m, e in excess_ci.items():
        ok = bool(e.n > 0 and e.mean >= rule.min_excess)
        passed.append(ok)
        reasons.append(
            f"{m}: mean excess {e.mean:+.3f} [{e.low:+.3f}, {e.high:+.3f}] "
            f"{'≥' if ok else 'fails'} {rule.min_excess:.2f}"
        )
    combine = all if rule.require_all_methods else any
    excess_ok = bool(passed) and combine(passed)
    return ShortcutVerdict(
        shortcut=drop_ok and excess_ok, drop=drop, excess=excess_ci, rule=rule, reasons=reasons
    )
