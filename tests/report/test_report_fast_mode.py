"""The report's warning for fast-mode maps states each map's estimated error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medxai.cams.presets import DEFAULT_BUDGET_FIDELITY, DEFAULT_CHANNEL_BUDGET
from medxai.cli import main
from medxai.report.summary import approximation_warnings


def test_fast_mode_warning_states_the_estimate_per_map() -> None:
    estimates = {
        "image1.png": {"spearman": 0.987, "max_abs": 0.081, "mean_abs": 0.01},
        "image2.png": None,
    }
    methods = [
        {"label": "CAM", "approximate": False, "settings": {}},
        {
            "label": "PCAM±",
            "approximate": True,
            "settings": {"channel_budget": 8},
            "error_estimates": estimates,
        },
    ]
    (warning,) = approximation_warnings(methods)
    assert warning.startswith("PCAM± maps are approximate (fast mode, 8 channels per layer)")
    assert "image1.png: 0.99, max abs difference 0.08" in warning
    assert "image2.png: not estimated" in warning
    assert warning.endswith("rerun with --exact before relying on their detail")
    assert "not a bound" in warning and DEFAULT_BUDGET_FIDELITY not in warning  # budget 8


def test_the_default_budget_states_its_measured_fidelity() -> None:
    method = {
        "key": "pcam±",
        "label": "PCAM±",
        "approximate": True,
        "settings": {"channel_budget": DEFAULT_CHANNEL_BUDGET, "tolerance": None},
        "error_estimates": {"a.png": {"spearman": 0.97, "max_abs": 0.1, "mean_abs": 0.01}},
    }
    (warning,) = approximation_warnings([method])
    assert f"; at this budget, {DEFAULT_BUDGET_FIDELITY}; estimated" in warning
    with_tolerance = {**method, "settings": {**method["settings"], "tolerance": 0.1}}
    (warning,) = approximation_warnings([with_tolerance])
    assert DEFAULT_BUDGET_FIDELITY not in warning and "mask tolerance 0.1" in warning


# --- the fast-mode flags on the command line ----------------------------------------------


@pytest.mark.slow
def test_tolerance_flag_reaches_the_maps_and_summary(
    png_study: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    def pcam_settings(out: Path, *flags: str) -> tuple[dict, list[str]]:
        code = main(["report", str(png_study), "--checkpoint", str(tiny_checkpoint), "--out",
                     str(out), "--regions", "0", "--device", "cpu", "--no-progress",
                     *flags])  # fmt: skip
        assert code == 0
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        (pcam,) = [m for m in summary["explanation"]["methods"] if m["label"] == "PCAM±"]
        assert pcam["mode"] == "fast" and pcam["approximate"] is True
        return pcam["settings"], summary["warnings"]

    # the tolerance alone: no budget, and every unscored channel is within it
    alone, warnings = pcam_settings(tmp_path / "alone", "--tolerance", "0.3")
    assert alone["tolerance"] == 0.3 and alone["channel_budget"] is None
    assert 0 < max(d for layer in alone["max_cluster_distance"] for d in layer) <= 0.3
    (warning,) = [w for w in warnings if w.startswith("PCAM± maps are approximate")]
    assert "(fast mode, mask tolerance 0.3)" in warning
    # with a budget: the budget caps the scored channels per layer and image
    both, warnings = pcam_settings(
        tmp_path / "both", "--channel-budget", "2", "--tolerance", "0.01"
    )
    assert both["tolerance"] == 0.01 and both["channel_budget"] == 2
    assert max(c for layer in both["clusters"] for c in layer) == 1  # 2 minus the check
    (warning,) = [w for w in warnings if w.startswith("PCAM± maps are approximate")]
    assert "(fast mode, 2 channels per layer, mask tolerance 0.01)" in warning


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--exact", "--tolerance", "0.1"], "--exact contradicts --tolerance"),
        (["--exact", "--channel-budget", "4"], "--exact contradicts --channel-budget"),
        (["--tolerance", "1.5"], "--tolerance must be in [0, 1], got 1.5"),
        (["--tolerance", "-0.1"], "--tolerance must be in [0, 1], got -0.1"),
        (["--channel-budget", "0"], "--channel-budget must be at least 1, got 0"),
    ],
)
def test_inconsistent_fast_mode_flags_are_refused(
    png_study: Path, tiny_checkpoint: Path, tmp_path: Path, capsys, flags, message
) -> None:
    out = tmp_path / "report"
    code = main(["report", str(png_study), "--checkpoint", str(tiny_checkpoint), "--out",
                 str(out), "--no-progress", *flags])  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0
    assert len(err.strip().splitlines()) == 1 and message in err
    assert "Traceback" not in err and not out.exists()
