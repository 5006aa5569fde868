"""Helpers for the report tests: fast settings, PNG writer, the shared DICOM factory."""

from __future__ import annotations

import io
from pathlib import Path
from types import ModuleType

import numpy as np
from loaders import load_test_module
from PIL import Image
from system_tools import skip_or_fail

from medxai.report.render_pdf import find_browser

#: Fast settings: PCAM± fast mode with 1 channel per layer (10 masked passes per image).
FAST = {"channel_budget": 1, "batch_size": 16, "progress": False}


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
    return load_test_module("io/dicom_factory.py", "medxai_tests_dicom_factory")


def require_browser() -> Path:
    """The browser that prints report.pdf, or skip (fail under CI) when there is none."""
    browser = find_browser()
    if browser is None:
        skip_or_fail("printing report.pdf needs Chromium")
    return browser


def pdf_text(data: bytes) -> bytes:
    """A PDF's text as a reader sees it: its metadata and every page's text (UTF-8)."""
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    parts = [str(value) for value in (reader.metadata or {}).values()]
    parts += [page.extract_text() for page in reader.pages]
    return "\n".join(parts).encode("utf-8")
