"""How Poly-CAM's variants turn three scores into a channel weight.

``s0 = s(X)``, ``sp = s(X ⊙ M)``, ``sm = s(X ⊙ (1 - M))``:

=========  ============================
PCAM+      ``w = sp``
PCAM−      ``w = ReLU(s0 - sm)``
PCAM±      ``w = ReLU(sp + s0 - sm)``
=========  ============================

The variants differ only here; everything else is shared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class WeightRule:
    """A variant's weight function and which masked scores it reads."""

    name: str
    needs_plus: bool
    needs_minus: bool
    weight: Callable[[Tensor, Tensor, Tensor], Tensor]  # (s0[B,1], sp[B,K], sm[B,K]) -> w


PLUS = WeightRule("pcam+", True, False, lambda s0, sp, sm: sp)
MINUS = WeightRule("pcam-", False, True, lambda s0, sp, sm: torch.relu(s0 - sm))
PLUS_MINUS = WeightRule("pcam±", True, True, lambda s0, sp, sm: torch.relu(sp + s0 - sm))
