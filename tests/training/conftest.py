"""Fixtures for the training tests: a tiny MURA-shaped folder and helpers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

from tiny_mura import write_tiny_mura  # noqa: E402


@pytest.fixture(scope="session")
def tiny_mura(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 studies per split, 2 images each, 64 px."""
    return write_tiny_mura(tmp_path_factory.mktemp("tiny") / "MURA-v1.1")
