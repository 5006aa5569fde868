"""End to end on a PNG study: files, verdict, inputs, warnings, self-containment."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from report_helpers import require_browser

from medxai.checkpoint import load_classifier
from medxai.data.transforms import to_model_input
from medxai.errors import OutputError
from medxai.io.images import scan_study
from medxai.report import ReportOptions, build_report
from medxai.report.render_pdf import find_browser

VERDICT = re.compile(r"^(abnormal|normal) — \d\.\d\d \(\d{1,3}%\)$")


def test_files_beside_the_study(png_report, png_study: Path) -> None:
    out = png_report.out
    # no identifier in the default folder: the hex digits of the study's label
    label = png_report.summary["study"]["id"]
    assert out == png_study.parent / f"report-{label.removeprefix('study-')}"
    assert not any(p.name.startswith("report-") for p in png_study.iterdir())
    assert png_report.html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    if find_browser() is None:  # without Chromium the report is written without its PDF
        assert not png_report.pdf.exists()
    else:
        assert png_report.pdf.read_bytes().startswith(b"%PDF")
    on_disk = json.loads(png_report.json.read_text(encoding="utf-8"))
    assert on_disk == png_report.summary
    leftovers = [p for p in out.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # no staging folder left behind


def test_figures_are_listed_and_decode(png_report) -> None:
    for image in png_report.summary["images"]:
        assert set(image["figures"]) == {"overview", "zoom", "references"}
        for relative in image["figures"].values():
            with Image.open(png_report.out / relative) as png:
                png.load()
                assert png.width > 300 and png.height > 200
    overview = png_report.summary["images"][0]["figures"]["overview"]
    assert overview.startswith("figures/") and overview.endswith("_overview.png")


def test_verdict_is_the_mean_of_the_images(png_report, tiny_checkpoint: Path, png_study) -> None:
    summary = png_report.summary
    verdict = summary["verdict"]
    probabilities = [image["probability"] for image in summary["images"]]
    assert verdict["probability"] == pytest.approx(float(np.mean(probabilities)))
    assert verdict["decision"] == ("abnormal" if verdict["probability"] >= 0.5 else "normal")
    assert VERDICT.match(verdict["text"])
    assert verdict["text"].startswith(verdict["decision"])
    assert f"{verdict['probability']:.2f}" in verdict["text"]

    classifier = load_classifier(tiny_checkpoint)
    for image, radiograph in zip(summary["images"], scan_study(png_study).images, strict=True):
        x = to_model_input(radiograph.pixels, 64, classifier.mean, classifier.std)[None]
        with torch.no_grad():
            expected = torch.sigmoid(classifier.model(x)).item()
        assert image["probability"] == pytest.approx(expected, abs=1e-5)
        assert VERDICT.match(image["verdict"])


def test_model_identity_and_methods(png_report) -> None:
    summary = png_report.summary
    assert summary["model"]["arch"] == "resnet18"
    assert summary["model"]["checkpoint"] == "tiny_resnet18.ckpt"
    assert summary["model"]["metrics"]["best"]["val/study_kappa"] == pytest.approx(0.71)
    methods = {m["label"]: m for m in summary["explanation"]["methods"]}
    assert list(methods) == ["CAM", "PCAM±"]
    assert methods["PCAM±"]["mode"] == "fast" and methods["PCAM±"]["approximate"] is True
    assert methods["PCAM±"]["settings"]["channel_budget"] == 1
    assert methods["CAM"]["mode"] == "exact"
    assert summary["explanation"]["device"] == "cpu"
    html = png_report.html.read_text(encoding="utf-8")
    assert "fast (1 channel per layer)" in html
    (warning,) = [w for w in summary["warnings"] if w.startswith("PCAM± maps are approximate")]
    assert "(fast mode, 1 channel per layer)" in warning and "--exact" in warning
    assert not any(w.startswith("CAM maps") for w in summary["warnings"])
    assert "rerun with --exact before relying on their detail" in html


def test_inputs_have_paths_and_checksums(png_report, png_study: Path, tiny_checkpoint) -> None:
    entries = {Path(e["path"]).name: e for e in png_report.summary["inputs"]}
    expected = {"image1.png", "image2.png", "annotations.json", tiny_checkpoint.name}
    assert set(entries) == expected
    for name, entry in entries.items():
        # without --show-identifiers: files of the study relative to it, others by name
        assert not Path(entry["path"]).is_absolute()
        path = tiny_checkpoint if entry["role"] == "checkpoint" else png_study / entry["path"]
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest(), name
    assert entries["annotations.json"]["role"] == "annotations"


def test_corrupt_and_other_files_are_listed(png_report) -> None:
    summary = png_report.summary
    skipped = {Path(s["path"]).name: s["reason"] for s in summary["skipped"]}
    assert list(skipped) == ["image3.png"]
    assert skipped["image3.png"]
    assert [Path(p).name for p in summary["ignored"]] == ["notes.txt"]
    assert any(w.startswith("image3.png: skipped") for w in summary["warnings"])
    html = png_report.html.read_text(encoding="utf-8")
    assert "image3.png" in html and "notes.txt" in html


def test_html_is_self_contained_and_shows_the_numbers(png_report) -> None:
    html = png_report.html.read_text(encoding="utf-8")
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)
    assert len(sources) == 6  # per image: overview, zoom, reference maps
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    assert not re.search(r'(src|href)="(https?:|//|file:)', html)
    assert "<script" not in html.lower()
    summary = png_report.summary
    assert summary["verdict"]["text"] in html
    metrics = summary["images"][0]["metrics"]
    assert set(metrics) == {"CAM", "PCAM±"}
    for values in metrics.values():
        assert f"{values['relevance_mass']:.0%}" in html
        assert f"{values['iou_otsu']:.2f}" in html
    assert summary["images"][1]["metrics"] is None
    assert "cortical irregularity" in html


def test_regions_are_square_boxes_inside_the_image(png_report) -> None:
    for image in png_report.summary["images"]:
        assert 1 <= len(image["regions"]) <= 3
        h, w = image["size"]["height"], image["size"]["width"]
        for region in image["regions"]:
            box = region["box"]
            assert box["row1"] - box["row0"] == box["col1"] - box["col0"] > 0
            assert box["row0"] >= 0 and box["row1"] <= h
            assert box["col0"] >= 0 and box["col1"] <= w
            assert box["row0"] <= region["peak"]["row"] < box["row1"]
            assert region["size_mm"] is None  # PNG: spacing unknown


def test_existing_report_needs_force(png_report, png_study, tiny_checkpoint) -> None:
    before = {p: p.read_bytes() for p in png_report.out.rglob("*") if p.is_file()}
    with pytest.raises(OutputError, match="already exists; pass --force"):
        build_report(ReportOptions(study=png_study, checkpoint=tiny_checkpoint, progress=False))
    after = {p: p.read_bytes() for p in png_report.out.rglob("*") if p.is_file()}
    assert after == before


def test_pdf_has_a_summary_page_then_one_page_per_figure(png_report) -> None:
    require_browser()
    data = png_report.pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    figures = sum(len(image["figures"]) for image in png_report.summary["images"])
    assert pages == 1 + figures
    assert "medxai report".encode("utf-16-be") in data  # the title (UTF-16: it holds a dash)
