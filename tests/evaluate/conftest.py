"""Fixtures for the evaluation tests: a tiny dataset and checkpoint, built once."""

import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from evaluate_data import write_tiny_checkpoint, write_tiny_set  # noqa: E402


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_set(tmp_path_factory.mktemp("tiny") / "MURA-v1.1")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.ckpt")


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: the tiny model gains nothing from more on a shared, busy CPU."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def fresh(tmp_path_factory: pytest.TempPathFactory, tiny_root: Path, tiny_checkpoint: Path) -> Path:
    """The output folder of one uninterrupted single-process run (the reference)."""
    import torch
    from runs import evaluate

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("fresh") / "out"
    try:
        assert evaluate(tiny_root, tiny_checkpoint, out) == 0
    finally:
        torch.set_num_threads(threads)
    return out
