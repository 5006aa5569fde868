"""Study folders for the report tests, and one report built on each per test run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_helpers import FAST, write_png

from medxai.report import ReportOptions, build_report

NATIVE_ANNOTATIONS = {
    "images": {
        "image1.png": [
            {
                "shape": "ellipse",
                "cx": 36,
                "cy": 50,
                "rx": 10,
                "ry": 6,
                "angle": 20,
                "label": "cortical irregularity",
            },
            {"shape": "box", "x0": 8, "y0": 10, "x1": 24, "y1": 30, "label": "fragment"},
        ]
    }
}


@pytest.fixture(scope="session")
def png_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``study1_positive``: two PNGs (portrait and landscape), a corrupt PNG, a text file,
    and ``annotations.json`` for the first image."""
    folder = tmp_path_factory.mktemp("png") / "study1_positive"
    folder.mkdir()
    write_png(folder / "image1.png", 96, 72, seed=1)
    write_png(folder / "image2.png", 72, 96, seed=2)
    (folder / "image3.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (folder / "notes.txt").write_text("not an image")
    (folder / "annotations.json").write_text(json.dumps(NATIVE_ANNOTATIONS))
    return folder


@pytest.fixture(scope="session")
def png_report(png_study: Path, tiny_checkpoint: Path):
    """The report of :func:`png_study`, written to the default place beside it."""
    return build_report(ReportOptions(study=png_study, checkpoint=tiny_checkpoint, **FAST))
