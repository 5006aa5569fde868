import json

import numpy as np
import pytest
import torch
from torch import nn

from medxai.audit.plaster import (
    audit_cast,
    inpainted_counterfactual,
    predict_pixels,
    rendered_counterfactual,
)
from medxai.audit.samples import load_images
from medxai.audit.verdict import ShortcutRule
from medxai.cams.result import SaliencyResult
from medxai.data.transforms import IMAGENET_MEAN, IMAGENET_STD


class Brightness(nn.Module):
    """Logit grows with the mean input: a model that reads how much plaster there is."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (20.0 * (x.mean(dim=(1, 2, 3)) + 1.0))[:, None]


class Constant(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bias.expand(len(x))[:, None]


class BrightMap:
    """A stand-in explainer whose map is the (min-max scaled) image itself."""

    def __call__(self, x: torch.Tensor, targets=None) -> SaliencyResult:
        g = x.mean(dim=1, keepdim=True)
        lo = g.amin(dim=(2, 3), keepdim=True)
        hi = g.amax(dim=(2, 3), keepdim=True)
        s = (g - lo) / (hi - lo)
        n = len(x)
        return SaliencyResult(s, [s], torch.ones(n, dtype=torch.long), torch.ones(n), "bright")


@pytest.fixture(scope="module")
def images(cast_phantoms):
    return load_images(cast_phantoms, "valid", size=64)


def run(model, images, rule=None):
    return audit_cast("m", model, images, {"bright": BrightMap()}, rendered_counterfactual,
                      size=64, mean=IMAGENET_MEAN, std=IMAGENET_STD, rule=rule,
                      resamples=200)


def test_a_model_that_reads_plaster_loses_probability_without_the_cast(images):
    audit = run(Brightness(), images, ShortcutRule(min_drop=0.01, min_excess=0.01))
    assert audit.has_cast.all()
    assert (audit.drop > 0).all()
    sel = audit.audited
    assert sel.sum() == (audit.labels == 1).sum() > 0
    assert np.isfinite(audit.mass["bright"][sel]).all()
    assert np.isnan(audit.mass["bright"][~sel]).all()  # maps only for abnormal with a cast
    assert (audit.mass["bright"][sel] > audit.area[sel]).all()
    assert audit.verdict.shortcut
    summary = json.loads(json.dumps(audit.summary(), default=float))
    assert summary["verdict"]["shortcut"] is True
    assert set(summary["subgroup_auroc"]) == {"all", "cast", "no cast"}


def test_a_model_that_ignores_the_image_is_not_flagged(images):
    audit = run(Constant(), images)
    np.testing.assert_allclose(audit.drop, 0.0, atol=1e-6)
    assert not audit.verdict.shortcut


def test_inpainted_counterfactual_and_pixel_predictions(images):
    cf = inpainted_counterfactual(images[0])
    assert cf.shape == images[0].pixels.shape
    assert np.ptp(cf[images[0].cast]) == 0.0
    p = predict_pixels(Brightness(), [images[0].pixels, cf], 64, IMAGENET_MEAN, IMAGENET_STD)
    assert p.shape == (2,) and p[0] >= p[1]
    assert predict_pixels(Brightness(), [], 64, IMAGENET_MEAN, IMAGENET_STD).shape == (0,)
