"""The localisation table on a constructed case: known maps, known annotations.

The two methods are replaced by stand-ins that return fixed maps at the model's 64×64
input, and the image is 64×64, so the maps reach the image unchanged and every metric
can be computed by hand. The same annotations are given as native JSON and as CVAT XML.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from report_helpers import FAST, write_png

from medxai.cams.result import SaliencyResult
from medxai.io.annotations import load_annotations
from medxai.io.shapes import annotation_mask
from medxai.report import ReportOptions, build_report, pipeline

NATIVE = {
    "images": {
        "image1.png": [
            {
                "shape": "ellipse",
                "cx": 48,
                "cy": 16,
                "rx": 6,
                "ry": 3,
                "angle": 30,
                "label": "cortical irregularity",
            },
            {"shape": "box", "x0": 16, "y0": 16, "x1": 32, "y1": 48, "label": "fracture"},
        ]
    }
}
CVAT = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <image id="0" name="image1.png" width="64" height="64">
    <ellipse label="cortical irregularity" occluded="0" cx="48" cy="16" rx="6" ry="3"
             rotation="330"/>
    <box label="fracture" occluded="0" xtl="16" ytl="16" xbr="32" ybr="48" rotation="0"/>
  </image>
</annotations>
"""


def pcam_map() -> np.ndarray:
    """0.5 on rows 24–39 × cols 24–39 (256 px), peak 1.0 at row 30, col 28."""
    m = np.zeros((64, 64), np.float32)
    m[24:40, 24:40] = 0.5
    m[30, 28] = 1.0
    return m


def cam_map() -> np.ndarray:
    """1.0 on a 3×3 block centred on the ellipse's centre pixel (row 16, col 48)."""
    m = np.zeros((64, 64), np.float32)
    m[15:18, 47:50] = 1.0
    return m


class FixedMap:
    """A stand-in explainer that always returns the same map."""

    def __init__(self, name: str, saliency: np.ndarray) -> None:
        self.name, self.saliency = name, torch.from_numpy(saliency)[None, None]

    def __call__(self, x: torch.Tensor, targets=None) -> SaliencyResult:
        return SaliencyResult(
            saliency=self.saliency,
            levels=[self.saliency],
            targets=torch.ones(1, dtype=torch.long),
            scores=torch.full((1,), 0.5),
            method=self.name,
        )


@pytest.fixture
def fixed_maps(monkeypatch: pytest.MonkeyPatch) -> None:
    maps = {"cam": cam_map(), "pcam±": pcam_map()}
    monkeypatch.setattr(pipeline.cams, "create", lambda key, model, **_: FixedMap(key, maps[key]))


@pytest.fixture
def study(tmp_path: Path) -> Path:
    folder = tmp_path / "constructed"
    folder.mkdir()
    write_png(folder / "image1.png", 64, 64)
    (folder / "annotations.json").write_text(json.dumps(NATIVE))
    (tmp_path / "cvat.xml").write_text(CVAT)
    return folder


def test_native_and_cvat_give_the_same_masks(study: Path) -> None:
    native = load_annotations(study / "annotations.json")
    cvat = load_annotations(study.parent / "cvat.xml")
    mask_native = annotation_mask(native["image1.png"], 64, 64)
    mask_cvat = annotation_mask(cvat["image1.png"], 64, 64)
    np.testing.assert_array_equal(mask_native, mask_cvat)
    box = np.zeros((64, 64), bool)
    box[16:48, 16:32] = True
    assert (mask_native & box).sum() == 512  # the box, by hand: 16 wide × 32 tall


def test_metrics_equal_hand_computed_values(
    study: Path, tiny_checkpoint: Path, fixed_maps: None
) -> None:
    mask = annotation_mask(load_annotations(study / "annotations.json")["image1.png"], 64, 64)
    annotated = int(mask.sum())
    ellipse_px = annotated - 512
    assert ellipse_px > 9

    results = {}
    out = study.parent / "report"
    for name, annotation_file in (("native", None), ("cvat", study.parent / "cvat.xml")):
        # the second run replaces the first report: --force
        options = ReportOptions(
            study=study,
            checkpoint=tiny_checkpoint,
            annotations=annotation_file,
            out=out,
            force=name == "cvat",
            **FAST,
        )
        results[name] = build_report(options).summary
        stored = json.loads((out / "summary.json").read_text())
        assert stored == results[name]
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []

    metrics = results["native"]["images"][0]["metrics"]
    assert metrics == results["cvat"]["images"][0]["metrics"]
    # PCAM±: peak (30, 28) lies in the box → hit. The square overlaps the box on
    # rows 24–39 × cols 24–31 = 128 px, 127 of them 0.5 and the peak 1.0:
    # mass inside = (127·0.5 + 1) / (255·0.5 + 1) = 64.5 / 128.5.
    # Otsu separates 0 from {0.5, 1}: B = the 256-px square; IoU = 128 / (256 + |M| − 128).
    assert metrics["PCAM±"]["pointing_game"] is True
    assert metrics["PCAM±"]["relevance_mass"] == pytest.approx(64.5 / 128.5)
    assert metrics["PCAM±"]["iou_otsu"] == pytest.approx(128 / (256 + annotated - 128))
    # CAM: the 3×3 block lies inside the ellipse → hit, all mass inside, IoU = 9 / |M|.
    assert metrics["CAM"]["pointing_game"] is True
    assert metrics["CAM"]["relevance_mass"] == pytest.approx(1.0)
    assert metrics["CAM"]["iou_otsu"] == pytest.approx(9 / annotated)

    mean = results["native"]["localisation_mean"]
    assert mean["PCAM±"]["relevance_mass"] == pytest.approx(64.5 / 128.5)
    assert mean["CAM"]["pointing_game"] == pytest.approx(1.0)
    # PCAM±'s one salient region holds the square (and its peak)
    region = results["native"]["images"][0]["regions"][0]
    assert region["peak"] == {"row": 30, "col": 28}
    assert region["mass_share"] == pytest.approx(1.0)
    inputs = {e["role"]: Path(e["path"]).name for e in results["cvat"]["inputs"]}
    assert inputs["annotations"] == "cvat.xml"
