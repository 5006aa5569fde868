"""Validate one fixed model on a tiny MURA folder with N CPU processes; write the metrics.

Usage: ``python ddp_validate.py ROOT WEIGHTS OUT.json DEVICES``. With DEVICES > 1 it runs
Lightning's ``ddp`` strategy on CPU (gloo), which re-launches this script per rank.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytorch_lightning as pl
import torch

from training.datamodule import MuraDataModule
from training.module import MuraClassifier


def main(root: str, weights: str, out: str, devices: int) -> None:
    model = MuraClassifier(arch="resnet18", weights=None)
    model.model.load_state_dict(torch.load(weights, weights_only=True))
    data = MuraDataModule(root, size=32, batch_size=3, num_workers=0, pin_memory=False)
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=devices,
        strategy="ddp" if devices > 1 else "auto",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.validate(model, datamodule=data)
    values = {k: float(v) for k, v in trainer.callback_metrics.items() if k != "val/loss"}
    values["world_size"] = trainer.world_size
    values["rank_images"] = len(list(trainer.val_dataloaders.sampler))
    if trainer.global_rank == 0:
        Path(out).write_text(json.dumps(values, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
