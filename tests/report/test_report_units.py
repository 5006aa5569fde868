"""Small pieces of the report: options, method modes, geometry, verdict text, HTML filters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from medxai.report import ReportOptions
from medxai.report.pipeline import (
    abnormal_index,
    abnormal_probability,
    method_specs,
    to_original_geometry,
)
from medxai.report.render_html import environment, format_metric
from medxai.report.summary import clean, validation_metrics, verdict_text


def test_default_output_is_beside_the_study(tmp_path: Path) -> None:
    """With identifiers shown, ``<study>_report``; without, ``report-<hex>``
    (tests/report/test_output_rules.py checks the digits)."""
    study = tmp_path / "patient1" / "study1"
    study.mkdir(parents=True)
    (study / "image1.png").write_bytes(b"not decoded here")
    shown = ReportOptions(study=study, checkpoint="m.ckpt", show_identifiers=True)
    assert shown.output_dir() == tmp_path / "patient1" / "study1_report"
    hidden = ReportOptions(study=study, checkpoint="m.ckpt").output_dir()
    assert hidden.parent == study.parent and hidden.name.startswith("report-")
    assert "study1" not in hidden.name
    explicit = ReportOptions(study="s", checkpoint="m.ckpt", out=tmp_path / "r")
    assert explicit.output_dir() == tmp_path / "r"


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="device"):
        ReportOptions(study="s", checkpoint="c", device="tpu")
    with pytest.raises(ValueError, match="target"):
        ReportOptions(study="s", checkpoint="c", target="fracture")


def test_pcam_is_fast_on_cpu_unless_exact_and_exact_on_gpu() -> None:
    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    fast = method_specs(cpu, exact=False, channel_budget=16, batch_size=8, input_size=64)
    assert [(m.key, m.label, m.mode) for m in fast] == [
        ("cam", "CAM", "exact"),
        ("pcam±", "PCAM±", "fast"),
    ]
    assert fast[1].options["channel_budget"] == 16 and fast[1].options["batch_size"] == 8
    for specs in (
        method_specs(cpu, exact=True, channel_budget=16, batch_size=8, input_size=64),
        method_specs(gpu, exact=False, channel_budget=16, batch_size=8, input_size=64),
    ):
        assert specs[1].mode == "exact" and "channel_budget" not in specs[1].options


def test_maps_return_to_the_original_geometry() -> None:
    square = torch.zeros(1, 1, 8, 8)
    square[..., :, 4:] = 1.0  # right half salient
    back = to_original_geometry(square, 30, 90)
    assert back.shape == (30, 90) and back.dtype == np.float32
    assert back[:, :40].max() < 0.05 and back[:, 50:].min() > 0.95
    assert back.min() >= 0.0 and back.max() <= 1.0


def test_abnormal_probability_for_one_and_two_logits() -> None:
    assert abnormal_probability(torch.tensor([0.0]), ("normal", "abnormal")) == 0.5
    p = abnormal_probability(torch.tensor([0.0, np.log(3.0)]), ("normal", "abnormal"))
    assert p == pytest.approx(0.75)
    assert abnormal_index(("abnormal", "normal"), 2) == 0
    assert abnormal_index(("normal", "abnormal"), 1) == 1


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.83, "abnormal — 0.83 (83%)"),
        (0.5, "abnormal — 0.50 (50%)"),
        (0.049, "normal — 0.05 (5%)"),
    ],
)
def test_verdict_in_words_and_numbers(p: float, text: str) -> None:
    assert verdict_text(p) == text


def test_json_cleaning_and_metric_formatting() -> None:
    cleaned = clean({"a": np.float32(0.5), "b": float("nan"), "c": (np.int64(2), Path("x"))})
    assert cleaned == {"a": 0.5, "b": None, "c": [2, "x"]}
    assert format_metric(162.0) == "162" and format_metric(0.71234) == "0.712"
    chosen = validation_metrics(
        {"latest": {"auc": 0.7, "epoch": 9}, "best": {"auc": 0.8, "epoch": 4}}, epoch=9
    )
    assert chosen == {"group": "latest", "epoch": 9, "metrics": {"auc": 0.7}}
    assert validation_metrics({}, None) is None


def test_templates_autoescape_every_string() -> None:
    env = environment()
    assert env.from_string("{{ x }}").render(x="<b>&") == "&lt;b&gt;&amp;"
    assert env.autoescape is not False


def test_approximation_warnings_name_only_the_approximate_methods() -> None:
    from medxai.report.methods import approximation_warnings

    def entry(label: str, approximate: bool, settings: dict) -> dict:
        return {"label": label, "approximate": approximate, "settings": settings}

    exact = [entry("CAM", False, {}), entry("PCAM±", False, {"channel_budget": None})]
    assert approximation_warnings(exact) == []
    fast = [entry("CAM", False, {}), entry("PCAM±", True, {"channel_budget": 32})]
    (warning,) = approximation_warnings(fast)
    assert warning.startswith("PCAM± maps are approximate (fast mode, 32 channels per layer)")
    bf16 = [entry("PCAM±", True, {"autocast": "bf16"})]
    assert "(reduced precision)" in approximation_warnings(bf16)[0]
