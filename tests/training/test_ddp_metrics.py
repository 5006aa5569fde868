"""Validation metrics under DDP (2 CPU processes, gloo) equal the 1-process metrics.

The valid split has 13 images in 7 studies (1, 2 or 3 images each): the non-shuffled
DistributedSampler deals images alternately to the two ranks, so studies with several
images are split across ranks, and it pads rank 1 with a duplicate of image 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tiny_mura import write_tiny_mura

from medxai.models import build_classifier
from training.datamodule import MuraDataModule

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _validate(root: Path, weights: Path, out: Path, devices: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    env.pop("MASTER_PORT", None)
    proc = subprocess.run(
        [sys.executable, str(HERE / "ddp_validate.py"), str(root), str(weights), str(out),
         str(devices)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


def _spread_model(root: Path) -> torch.nn.Module:
    """A random ResNet-18 whose logits on the valid images straddle 0 (mixed predictions)."""
    torch.manual_seed(0)
    model = build_classifier("resnet18", weights=None).eval()
    data = MuraDataModule(str(root), size=32, num_workers=0, pin_memory=False)
    data.setup("validate")
    with torch.no_grad():
        images = torch.stack([data.val_set[i][0] for i in range(len(data.val_set))])
        logits = model(images).squeeze(1)
        model.fc.weight *= 4.0 / float(logits.std())
        model.fc.bias -= float(model(images).squeeze(1).median())
    return model


@pytest.mark.slow
def test_ddp_metrics_equal_single_process(tmp_path: Path) -> None:
    root = write_tiny_mura(
        tmp_path / "MURA-v1.1", studies_per_split=7, size=32, images_per_study=3, ragged=True
    )
    weights = tmp_path / "model.pt"
    torch.save(_spread_model(root).state_dict(), weights)
    from ddp_validate import main as validate_here

    validate_here(str(root), str(weights), str(tmp_path / "one.json"), 1)  # reference, in-process
    one = json.loads((tmp_path / "one.json").read_text())
    two = _validate(root, weights, tmp_path / "two.json", 2)
    assert one["world_size"] == 1 and two["world_size"] == 2
    assert one["rank_images"] == 13 and two["rank_images"] == 7  # 14 served: 1 duplicate
    keys = {k for k in one if k.startswith("val/")}
    assert {"val/image_auroc", "val/study_kappa", "val/study_auroc"} <= keys
    assert keys == {k for k in two if k.startswith("val/")}
    assert 0.0 < one["val/study_auroc"] < 1.0 and one["val/study_kappa"] != 0.0
    for key in keys:
        assert two[key] == pytest.approx(one[key], abs=1e-6, nan_ok=True), key
