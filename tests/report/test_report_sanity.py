"""The report's sanity evidence: per-map figures, readings, flags, reference panels, and
the model-level verdict note."""

from __future__ import annotations

import copy
import html

import pytest
import torch
from PIL import Image
from torch import nn

from medxai.cams.cam import CAM
from medxai.report.render_html import render_html
from medxai.report.sanity import (
    AGNOSTIC_FLAG,
    CONTRAST_FLAG,
    method_sanity,
    model_evidence,
    reference_maps_at,
    sanity_flags,
    sanity_reading,
)


def test_summary_has_the_figures_under_each_image_method(png_report) -> None:
    summary = png_report.summary
    assert summary["explanation"]["sanity_thresholds"] == {
        "class_agnostic_similarity": AGNOSTIC_FLAG,
        "class_contrast": CONTRAST_FLAG,
    }
    for image in summary["images"]:
        assert set(image["methods"]) == {"CAM", "PCAM±"}
        for entry in image["methods"].values():
            sanity = entry["sanity"]
            assert set(sanity) == {"class_agnostic_similarity", "class_contrast"}
            for value in sanity.values():
                assert isinstance(value, float) and -1.0 <= value <= 1.0
            assert entry["opposite_class"] == "normal"  # the single logit's other class
            assert entry["flags"] == sanity_flags(sanity)
            assert entry["reading"]
        with Image.open(png_report.out / image["figures"]["references"]) as png:
            png.load()
            assert png.width > 300


def test_random_model_pcam_is_flagged_and_the_page_says_so(png_report) -> None:
    """The fixture's model is an untrained ResNet: its PCAM± weights are uniform, so its
    map is the class-agnostic map."""
    page = html.unescape(png_report.html.read_text(encoding="utf-8"))
    assert "Is each map specific to the decision?" in page
    for image in png_report.summary["images"]:
        pcam = image["methods"]["PCAM±"]
        assert pcam["sanity"]["class_agnostic_similarity"] > 0.99
        assert any("class-agnostic" in flag for flag in pcam["flags"])
        assert pcam["reading"] in page
        for flag in pcam["flags"]:
            assert flag in page
    assert "⚠ check" in page
    assert "class-agnostic and other-class reference maps" in page


def test_method_sanity_reads_the_result() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 1),
    )
    result = CAM(model, feature_layer="1")(torch.randn(1, 3, 16, 16), 1)
    entry = method_sanity(result, "abnormal", ["normal", "abnormal"])
    assert entry["sanity"] == result.references.figures(0)
    assert entry["opposite_class"] == "normal"
    assert entry["reading"] == sanity_reading(entry["sanity"], "abnormal", "normal")


@pytest.mark.parametrize(
    ("similarity", "contrast", "flags", "words"),
    [
        (0.95, 0.8, 2, ["0.95 similar", "why it says 'abnormal'", "ranks the pixels alike"]),
        (0.7, -0.3, 0, ["mixed with where the features respond", "points elsewhere"]),
        (0.2, 0.3, 0, ["the decision shapes it", "only weakly specific"]),
        (None, None, 0, ["not defined", "empty or constant"]),
    ],
)
def test_flags_and_readings(similarity, contrast, flags, words) -> None:
    figures = {"class_agnostic_similarity": similarity, "class_contrast": contrast}
    assert len(sanity_flags(figures)) == flags
    reading = sanity_reading(figures, "abnormal", "normal")
    for word in words:
        assert word in reading
    empty_other = sanity_reading(
        {"class_agnostic_similarity": 0.3, "class_contrast": None}, "abnormal", "normal"
    )
    assert "The map for 'normal' is empty or constant" in empty_other
    edge = {"class_agnostic_similarity": AGNOSTIC_FLAG, "class_contrast": CONTRAST_FLAG}
    assert len(sanity_flags(edge)) == 2


@pytest.mark.parametrize(
    ("metrics", "status", "words"),
    [
        (None, "unknown", ["no validation metrics"]),
        ({}, "unknown", ["no validation metrics"]),
        ({"val/study_auroc": 0.66, "val/study_kappa": 0.0}, "near_chance", ["study AUROC 0.66"]),
        ({"val/study_auroc": 0.89, "val/study_kappa": 0.19}, "ok", ["study AUROC 0.89"]),
        ({"val/image_auroc": 0.65}, "near_chance", ["image AUROC 0.65"]),
        ({"val/study_auroc": float("nan"), "val/study_kappa": 0.02}, "near_chance", ["κ 0.02"]),
        ({"val/study_kappa": 0.6}, "ok", ["κ 0.60"]),
    ],
)
def test_model_evidence(metrics, status, words) -> None:
    validation = None if metrics is None else {"group": "best", "epoch": 1, "metrics": metrics}
    evidence = model_evidence(validation)
    assert evidence["status"] == status
    for word in words:
        assert word in evidence["text"]


def test_verdict_box_says_when_the_model_is_near_chance(png_report) -> None:
    assert png_report.summary["verdict"]["model_evidence"]["status"] == "ok"
    pngs = {
        path: (png_report.out / path).read_bytes()
        for image in png_report.summary["images"]
        for path in image["figures"].values()
    }
    summary = copy.deepcopy(png_report.summary)
    summary["verdict"]["model_evidence"] = model_evidence(None)
    page = html.unescape(render_html(summary, pngs))
    header = page[page.index("<header>") : page.index("</header>")]
    assert "carries no validation metrics" in header
    assert 'class="warn model-evidence" data-status="unknown"' in header


def _tiny(n_out: int) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, n_out),
    )


@pytest.mark.parametrize(
    ("n_out", "missing"),
    [(1, ["class_agnostic_similarity"]), (2, ["class_agnostic_similarity", "class_contrast"])],
)
def test_figures_a_method_does_not_make_are_not_computed(n_out, missing) -> None:
    """Integrated gradients has no class-agnostic map; its opposite-class map exists for a
    single logit only (medxai.cams.baselines)."""
    pytest.importorskip("captum")
    from medxai.cams.registry import create

    result = create("ig", _tiny(n_out), n_steps=4)(torch.randn(1, 3, 16, 16), 1)
    entry = method_sanity(result, "abnormal", ["normal", "abnormal"])
    assert entry["not_computed"] == missing
    assert entry["sanity"]["class_agnostic_similarity"] is None
    assert "makes no class-agnostic map" in entry["reading"]
    assert "not defined" not in entry["reading"]
    if n_out == 1:
        assert entry["sanity"]["class_contrast"] == pytest.approx(-1.0)
        assert entry["opposite_class"] == "normal"
        assert set(reference_maps_at(result, 20, 24)) == {"opposite"}
    else:
        assert entry["sanity"]["class_contrast"] is None
        assert "not computed for this method" in entry["reading"]
        assert reference_maps_at(result, 20, 24) == {}
    cam = method_sanity(CAM(_tiny(n_out), feature_layer="1")(torch.randn(1, 3, 16, 16), 1),
                        "abnormal", ["normal", "abnormal"])  # fmt: skip
    assert cam["not_computed"] == []


def test_page_says_not_computed(png_report) -> None:
    pngs = {
        path: (png_report.out / path).read_bytes()
        for image in png_report.summary["images"]
        for path in image["figures"].values()
    }
    summary = copy.deepcopy(png_report.summary)
    entry = summary["images"][0]["methods"]["CAM"]
    entry["sanity"] = {"class_agnostic_similarity": None, "class_contrast": -1.0}
    entry["not_computed"] = ["class_agnostic_similarity"]
    page = html.unescape(render_html(summary, pngs))
    table = page[page.index("Is each map specific") :]
    assert table.count("not computed") == 1
    assert png_report.summary["images"][0]["methods"]["CAM"]["not_computed"] == []
    assert "not computed" not in html.unescape(
        render_html(png_report.summary, pngs)
    ).split("Is each map specific")[1].split("</table>")[0]
