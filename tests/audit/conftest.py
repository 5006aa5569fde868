"""A small phantom data set shared by the audit tests (every study has a cast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medxai.data.phantoms import PhantomConfig, generate


@pytest.fixture(scope="session")
def cast_phantoms(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 valid studies at 64 px, half abnormal, all with a cast (seed 3)."""
    config = PhantomConfig(
        train_studies=0, valid_studies=12, size=64, p_cast_abnormal=1.0, p_cast_normal=1.0,
        p_marker=0.0, p_hardware=0.0, seed=3,
    )
    return generate(tmp_path_factory.mktemp("phantoms") / "root", config)
