"""The ``sanity`` metric of ``medxai evaluate``: the two reference-map figures per row,
with bootstrap CIs in the summary."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from runs import read_csv
from torch import nn

from medxai.cams.cam import CAM
from medxai.cams.polycam import PolyCAM
from medxai.cli import main
from medxai.evaluate import measures
from medxai.evaluate.catalog import SANITY_COLUMNS, canonical_metrics, metric_columns
from medxai.evaluate.options import DEFAULT_METRICS
from medxai.report.sanity import CONTRAST_FLAG


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 5, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(5, 1),
    )


def test_the_metric_and_its_columns() -> None:
    assert canonical_metrics(["sanity"]) == ["sanity"]
    assert metric_columns(["sanity"]) == list(SANITY_COLUMNS)
    assert "sanity" in DEFAULT_METRICS.split(",")


@pytest.mark.parametrize("method", ["cam", "pcam±"])
def test_rows_are_the_results_figures(method: str) -> None:
    model = _net()
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    explainer = CAM(model, feature_layer="3") if method == "cam" else PolyCAM(
        model, "pcam±", target_layers=["1", "3"]
    )
    result = explainer(x, 1)
    rows = measures.sanity(result)
    for i, row in enumerate(rows):
        figures = result.references.figures(i)
        assert set(row) == set(SANITY_COLUMNS)
        for column in SANITY_COLUMNS:
            assert row[column] == pytest.approx(figures[column])
            assert -1.0 <= row[column] <= 1.0


def test_rows_are_nan_without_reference_maps() -> None:
    result = CAM(_net(), feature_layer="3")(torch.randn(2, 3, 16, 16), 1)
    result.references = None
    for row in measures.sanity(result):
        assert all(math.isnan(row[c]) for c in SANITY_COLUMNS)


@pytest.mark.slow
def test_evaluate_reports_the_figures_with_bootstrap_cis(
    tiny_root: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code = main([
        "evaluate", str(tiny_root), "--checkpoint", str(tiny_checkpoint), "--out", str(out),
        "--methods", "cam,pcam±,gradcam", "--metrics", "sanity", "--limit", "4",
        "--channel-budget", "2", "--bootstrap", "200", "--batch-size", "2", "--no-progress",
        "--accelerator", "cpu",
    ])  # fmt: skip
    assert code == 0
    rows = read_csv(out / "per_image.csv")
    assert {r["method"] for r in rows} == {"cam", "pcam±", "gradcam"}
    for row in rows:
        for column in SANITY_COLUMNS:
            value = float(row[column])
            if column == "class_agnostic_similarity":  # every method here has this map
                assert -1.0 <= value <= 1.0
            else:  # NaN only where the other class's map is empty (untrained model)
                assert math.isnan(value) or -1.0 <= value <= 1.0
    # an untrained model's PCAM± maps for the two classes agree: the report flags them
    contrasts = [float(r["class_contrast"]) for r in rows if r["method"] == "pcam±"]
    assert min(contrasts) >= CONTRAST_FLAG
    summary = read_csv(out / "summary.csv")
    for method in ("cam", "pcam±", "gradcam"):
        for column in SANITY_COLUMNS:
            cell = next(
                r for r in summary
                if r["group"] == "all" and r["method"] == method and r["metric"] == column
            )
            finite = [
                float(r[column]) for r in rows
                if r["method"] == method and not math.isnan(float(r[column]))
            ]
            assert int(cell["n"]) == len(finite) >= 1
            assert float(cell["mean"]) == pytest.approx(sum(finite) / len(finite), abs=1e-6)
            assert float(cell["ci_low"]) <= float(cell["mean"]) <= float(cell["ci_high"])
    assert "class_contrast" in (out / "summary.md").read_text()
