"""Fixtures shared across the test suite. Keep them small, generic and fast."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A medxai checkpoint (``train.py``'s format) of a random ResNet-18 at 64×64 input.

    Deterministic (seed 0), one "abnormal" logit, with validation metrics and provenance.
    """
    from medxai.checkpoint import make_metadata
    from medxai.data.transforms import IMAGENET_MEAN, IMAGENET_STD
    from medxai.models import build_classifier

    generator_state = torch.random.get_rng_state()
    torch.manual_seed(0)
    try:
        model = build_classifier("resnet18", 1, weights=None)
    finally:
        torch.random.set_rng_state(generator_state)
    metadata = make_metadata(
        arch="resnet18",
        input_size=64,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        metrics={"best": {"val/study_kappa": 0.71, "val/auroc": 0.88, "epoch": 3}},
        provenance={"epoch": 3, "global_step": 120},
    )
    path = tmp_path_factory.mktemp("checkpoint") / "tiny_resnet18.ckpt"
    state = {f"model.{key}": value for key, value in model.state_dict().items()}
    torch.save({"state_dict": state, "medxai": metadata}, path)
    return path
