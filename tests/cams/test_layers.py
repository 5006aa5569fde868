import pytest
import torch
from torch import nn
from torchvision import models

from medxai.cams.layers import discover_target_layers
from medxai.cams.polycam import PolyCAM

RESNET = ["relu", "layer1", "layer2", "layer3", "layer4"]


@pytest.mark.parametrize("build", [models.resnet18, models.resnet50])
def test_resnets(build) -> None:
    assert discover_target_layers(build(weights=None), (64, 64)) == RESNET


def test_vgg16() -> None:
    model = models.vgg16(weights=None)
    expected = ["features.3", "features.8", "features.15", "features.22", "features.29"]
    assert discover_target_layers(model, (64, 64)) == expected


def test_explainer_lists_layers_shallow_to_deep() -> None:
    explainer = PolyCAM(models.resnet18(weights=None), input_size=(64, 64))
    assert explainer.target_layers == RESNET


def test_one_layer_per_resolution_for_a_plain_cnn() -> None:
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 2),
    )
    assert discover_target_layers(model, (16, 16)) == ["3", "6"]
    result = PolyCAM(model, input_size=(16, 16))(torch.randn(1, 3, 16, 16))
    assert torch.isfinite(result.saliency).all()
