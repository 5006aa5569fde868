import math

import pytest
import torch

from medxai.audit.methods import SMALL_SETTINGS, build_explainers, explainer_options
from medxai.audit.tables import format_estimate, format_table
from medxai.metrics.bootstrap import Estimate
from medxai.models import build_classifier


def test_format_estimate_and_table():
    assert format_estimate(Estimate(3, 0.5, 0.25, 0.75)) == "0.500 [0.250, 0.750]"
    assert format_estimate(Estimate(1, 0.5, math.nan, math.nan)) == "0.500"
    assert format_estimate(Estimate(0, math.nan, math.nan, math.nan)) == "–"
    text = format_table([{"method": "cam", "auc": 0.51234}, {"method": "pcam±", "auc": math.nan}])
    lines = text.splitlines()
    assert lines[0].split() == ["method", "auc"]
    assert lines[2].split() == ["cam", "0.512"] and lines[3].split() == ["pcam±", "–"]
    assert format_table([]) == "(no rows)"


def test_small_settings_build_every_registered_method():
    torch.manual_seed(0)
    model = build_classifier("resnet18", 1, weights=None).eval()
    explainers = build_explainers(model, 64)
    import medxai.cams

    assert list(explainers) == medxai.cams.available()
    assert set(SMALL_SETTINGS) <= set(explainers)
    assert explainer_options("pcampm", 32, channel_budget=4)["channel_budget"] == 4
    assert "input_size" not in explainer_options("rise", 32)
    x = torch.randn(1, 3, 64, 64)
    for name in ("cam", "pcam±", "rise"):
        saliency = explainers[name](x, targets=1).saliency
        assert saliency.shape == (1, 1, 64, 64)
        assert float(saliency.min()) >= 0.0 and float(saliency.max()) <= 1.0 + 1e-6


def test_unknown_method_is_an_error():
    with pytest.raises(ValueError):
        explainer_options("no-such-method", 32)
