"""Average drop / increase in confidence on a constructed case."""

from __future__ import annotations

import math

import pytest
import torch
from metric_models import RegionSum

from medxai.metrics.confidence import confidence_change


def sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v))


def test_average_drop_and_increase_by_hand() -> None:
    model = RegionSum(torch.ones(2, 2), a=1.0, b=0.0)  # z = Σ x
    x = torch.ones(3, 1, 2, 2)  # z = 4 for every sample
    maps = torch.stack(
        [
            torch.tensor([[1.0, 0.5], [0.0, 0.0]]),  # masked z = 1.5
            torch.ones(2, 2),  # masked z = 4: unchanged
            torch.tensor([[1.0, 0.5], [0.0, 0.0]]),  # target 0: score rises
        ]
    )[:, None]
    result = confidence_change(model, x, maps, targets=[1, 1, 0])
    y1, o1 = sigmoid(4), sigmoid(1.5)
    drops = [(y1 - o1) / y1, 0.0, 0.0]
    assert result.average_drop == pytest.approx(100 * sum(drops) / 3, rel=1e-5)
    assert result.increase_in_confidence == pytest.approx(100 / 3)
    assert result.original[2].item() == pytest.approx(1 - y1, rel=1e-5)
    assert result.masked[2].item() == pytest.approx(1 - o1, rel=1e-5)


def test_maps_outside_unit_interval_rejected() -> None:
    model = RegionSum(torch.ones(2, 2))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        confidence_change(model, torch.ones(1, 1, 2, 2), torch.full((1, 1, 2, 2), 2.0))
