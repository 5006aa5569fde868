"""Study folders for the report tests, and one report built per session on each."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from medxai.report import ReportOptions, build_report

#: Fast settings: PCAM± fast mode with 2 channels per layer.
FAST = {"channel_budget": 2, "batch_size": 16, "progress": False}


def write_png(path: Path, height: int, width: int, seed: int = 0) -> Path:
    """An 8-bit gray "radiograph": dark field, a bright vertical bone, a little noise."""
    rng = np.random.default_rng(seed)
    cols = np.arange(width)[None, :]
    bone = 0.65 * np.exp(-(((cols - width / 2) / (width / 7)) ** 2))
    pixels = 0.1 + bone + 0.05 * rng.random((height, width))
    Image.fromarray((np.clip(pixels, 0, 1) * 255).astype(np.uint8)).save(path)
    return path


def load_dicom_factory() -> ModuleType:
    """``tests/io/dicom_factory.py``, the shared DICOM fixture builder."""
    path = Path(__file__).parents[1] / "io" / "dicom_factory.py"
    spec = importlib.util.spec_from_file_location("medxai_tests_dicom_factory", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
