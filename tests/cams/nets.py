"""Tiny CNNs shared by the saliency tests (32×32 inputs, a few channels per layer)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn


class TinyNet(nn.Module):
    """conv-relu ×3 (32 → 16 → 8 pixels; 4, 6, 8 channels), global average pool, linear.

    Channel 0 of the second ReLU is dead (constant zero) so that the shared score of
    constant channels is exercised.
    """

    def __init__(self, n_out: int = 3, *, inplace: bool = False, seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.body = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1),
            nn.ReLU(inplace=inplace),
            nn.Conv2d(4, 6, 3, stride=2, padding=1),
            nn.ReLU(inplace=inplace),
            nn.Conv2d(6, 8, 3, stride=2, padding=1),
            nn.ReLU(inplace=inplace),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, n_out)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=generator) * 0.5)
            self.body[2].bias[0] = -100.0

    LAYERS = ("body.1", "body.3", "body.5")

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.pool(self.body(x)).flatten(1))


class PatchNet(nn.Module):
    """A classifier whose evidence is known: class 1 (or the single logit) reads only the
    response of bright-patch detectors; class 0 reads a dark-background detector.

    Input: 1×32×32, background ≈ 0, a bright square of value 1 somewhere.
    """

    def __init__(self, n_out: int = 2) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 4, 3, padding=1)
        self.r1 = nn.ReLU()
        self.c2 = nn.Conv2d(4, 4, 3, stride=2, padding=1)
        self.r2 = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, n_out)
        with torch.no_grad():
            box = torch.full((3, 3), 1.0 / 9.0)
            self.c1.weight.zero_()
            self.c1.weight[0, 0] = box
            self.c1.weight[1, 0] = box
            self.c1.weight[2, 0] = -box
            self.c1.weight[3, 0, 1, 1] = 0.3  # a weak pixel-level channel
            self.c1.bias.copy_(torch.tensor([-0.3, -0.6, 0.2, 0.0]))
            self.c2.weight.zero_()
            for k in range(4):
                self.c2.weight[k, k] = box
            self.c2.bias.zero_()
            self.fc.weight.zero_()
            self.fc.bias.zero_()
            if n_out == 1:
                self.fc.weight[0] = torch.tensor([40.0, 40.0, -2.0, 0.0])
                self.fc.bias[0] = -1.0
            else:
                self.fc.weight[1] = torch.tensor([40.0, 40.0, 0.0, 0.0])
                self.fc.weight[0] = torch.tensor([0.0, 0.0, 5.0, 0.0])

    LAYERS = ("r1", "r2")

    def forward(self, x: Tensor) -> Tensor:
        a = self.r2(self.c2(self.r1(self.c1(x))))
        return self.fc(self.pool(a).flatten(1))


def patch_image(row: int, col: int, size: int = 8, generator: torch.Generator | None = None):
    """A 1×1×32×32 image with a bright ``size``² patch at ``(row, col)`` on faint noise."""
    x = torch.rand(1, 1, 32, 32, generator=generator) * 0.05
    x[..., row : row + size, col : col + size] = 1.0
    return x


#: Every per-module hook registry an explainer could leave something in.
HOOK_DICTS = (
    "_forward_hooks",
    "_forward_pre_hooks",
    "_backward_hooks",
    "_backward_pre_hooks",
    "_forward_hooks_with_kwargs",
    "_forward_pre_hooks_with_kwargs",
    "_state_dict_hooks",
)


def no_hooks(model: nn.Module) -> bool:
    """True when no module of ``model`` holds any hook."""
    return all(not getattr(m, d, {}) for m in model.modules() for d in HOOK_DICTS)


def literal_normalise(a: Tensor) -> Tensor:
    """N(a) of docs/polycam.md with numpy percentiles, one 2-D map (the literal readings)."""
    arr = a.double().numpy()
    lo, hi = np.percentile(arr, [0.1, 99.9])
    return torch.from_numpy(np.clip((arr - lo) / max(hi, 1e-12), 0.0, 1.0)).float()


def literal_resize(m: Tensor, size) -> Tensor:
    """One 2-D map resized bilinearly to ``size`` (the literal readings)."""
    return F.interpolate(m[None, None], size=tuple(size), mode="bilinear", align_corners=False)[
        0, 0
    ]
