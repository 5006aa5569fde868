"""The report's warning for fast-mode maps states each map's estimated error."""

from __future__ import annotations

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
