"""Fixtures shared across the test suite. Keep them small, generic and fast."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

#: Mutated files each fuzz test tries by default: enough to cover every decoder and parser
#: in a few seconds; ``--fuzz-iterations N`` runs longer searches.
DEFAULT_FUZZ_ITERATIONS = 60


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz-iterations",
        type=int,
        default=DEFAULT_FUZZ_ITERATIONS,
        metavar="N",
        help=f"mutated inputs per fuzz test and seed file (default {DEFAULT_FUZZ_ITERATIONS})",
    )


@pytest.fixture(scope="session")
def fuzz_iterations(request: pytest.FixtureRequest) -> int:
    """How many mutated inputs each fuzz test tries (``--fuzz-iterations N``)."""
    value = int(request.config.getoption("--fuzz-iterations"))
    if value < 1:
        raise pytest.UsageError(f"--fuzz-iterations must be at least 1, got {value}")
    return value


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
