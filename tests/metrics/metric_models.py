"""Tiny models with known behaviour for the metric tests."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class RegionSum(nn.Module):
    """One logit ``z = a · Σ_{p∈R} x(p) + b`` over a fixed region ``R`` of channel 0."""

    def __init__(self, region: Tensor, a: float = 1.0, b: float = -2.0) -> None:
        super().__init__()
        self.register_buffer("region", region.float())
        self.a, self.b = a, b

    def forward(self, x: Tensor) -> Tensor:
        return (self.a * (x[:, 0] * self.region).sum(dim=(1, 2)) + self.b)[:, None]


class ConstantLogits(nn.Module):
    """Ignores its input; returns fixed logits for every sample."""

    def __init__(self, logits: list[float]) -> None:
        super().__init__()
        self.register_buffer("logits", torch.tensor(logits))

    def forward(self, x: Tensor) -> Tensor:
        return self.logits.expand(x.shape[0], -1)


class TinyCNN(nn.Module):
    def __init__(self, classes: int = 3, in_channels: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)
        self.fc = nn.Linear(6, classes)

    def forward(self, x: Tensor) -> Tensor:
        h = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return self.fc(h.mean(dim=(2, 3)))
