import torch
from nets import TinyNet

import medxai
from medxai.cams.cam import CAM
from medxai.cams.normalize import percentile_normalize


def _literal_cam(model: TinyNet, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        a = model.body(x)
    maps = torch.relu(torch.einsum("bk,bkhw->bhw", weights, a))[:, None]
    return torch.nn.functional.interpolate(
        percentile_normalize(maps), size=(32, 32), mode="bilinear", align_corners=False
    )


def test_cam_finds_head_and_feature_layer() -> None:
    model = TinyNet(3)
    cam = medxai.cams.create("cam", model)
    assert cam.fc_layer == "fc"
    assert cam.target_layers == ["body"]  # the same tensor as body.5, last before pooling
    named = CAM(model, feature_layer="body.5", fc_layer="fc")
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(cam(x, [0, 2]).saliency, named(x, [0, 2]).saliency)


def test_cam_multi_logit_equals_formula() -> None:
    model = TinyNet(3)
    x = torch.randn(3, 3, 32, 32)
    result = CAM(model, feature_layer="body.5")(x, targets=[2, 0, 1])
    expected = _literal_cam(model, x, model.fc.weight.detach()[[2, 0, 1]])
    torch.testing.assert_close(result.saliency, expected, atol=1e-6, rtol=0)
    assert result.levels == [result.saliency]
    assert result.method == "cam" and result.settings["baseline_passes"] == 1


def test_cam_single_logit_negative_class_negates_weights() -> None:
    model = TinyNet(1)
    x = torch.randn(2, 3, 32, 32)
    w = model.fc.weight.detach()[0]
    result = CAM(model, feature_layer="body.5")(x, targets=[1, 0])
    expected = _literal_cam(model, x, torch.stack([w, -w]))
    torch.testing.assert_close(result.saliency, expected, atol=1e-6, rtol=0)
    p = torch.sigmoid(model(x)[:, 0]).detach()
    torch.testing.assert_close(result.scores, torch.stack([p[0], 1 - p[1]]))
