"""Training speed: the Lightning loop against a plain PyTorch loop, and the data loader.

Measures, in one run (the machine is shared, so compare the ratios):

1. Training images/s of :class:`training.module.MuraClassifier` under ``pl.Trainer`` and of
   a plain PyTorch loop doing the same work (same model, weighted BCE, Adam, same batches
   from the same in-memory dataset, one DataLoader in the main process). The runs
   alternate (plain, Lightning, plain, ...) and the ratio is of the medians.
2. The training step rate of the recipe's model at 320×320 (ResNet-50 by default), in
   images/s, next to the DataLoader's images/s per worker for MURA-like PNGs at 320×320
   (``benchmarks/bench_loader.py``'s images and timing).
3. A projection of the full recipe's time: 36,808 images × 50 epochs at an assumed GPU
   rate, limited by the loader rate of the given number of workers.

Usage::

    python benchmarks/bench_training.py [--arch resnet18] [--size 128] [--batch-size 16]
        [--steps 12] [--repeats 3] [--recipe-arch resnet50] [--gpu-images-per-s 1200]
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_loader import machine, time_loader, write_images

from training.module import MuraClassifier

MURA_TRAIN_IMAGES = 36_808
RECIPE_EPOCHS = 50


class InMemory(Dataset):
    """Fixed random images with MURA-style items: (image, label, study, part, path)."""

    def __init__(self, count: int, size: int, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        self.images = torch.randn(count, 3, size, size, generator=g)
        self.labels = torch.randint(0, 2, (count,), generator=g)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple:
        return self.images[i], int(self.labels[i]), f"s{i}", "XR_WRIST", f"i{i}"


class _Timer(pl.Callback):
    """Time from the first batch after ``warmup`` batches to the end of the last one."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start = 0.0
        self.end = 0.0
        self.images = 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if batch_idx == self.warmup:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if batch_idx >= self.warmup:
            self.images += len(batch[1])
            self.end = time.perf_counter()


def lightning_rate(arch: str, data: Dataset, batch: int, steps: int, warmup: int) -> float:
    torch.manual_seed(0)
    model = MuraClassifier(arch=arch, weights=None)
    model.class_weights = {"XR_WRIST": (0.5, 0.5)}
    timer = _Timer(warmup)
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=warmup + steps,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[timer],
        num_sanity_val_steps=0,
    )
    loader = DataLoader(data, batch_size=batch, shuffle=False, num_workers=0)
    trainer.fit(model, train_dataloaders=loader)
    return timer.images / (timer.end - timer.start)


def plain_rate(arch: str, data: Dataset, batch: int, steps: int, warmup: int) -> float:
    torch.manual_seed(0)
    module = MuraClassifier(arch=arch, weights=None)
    model = module.model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=6e-5, weight_decay=1e-5)
    loader = DataLoader(data, batch_size=batch, shuffle=False, num_workers=0)
    images, start, end = 0, 0.0, 0.0
    for index, (x, y, _, _, _) in enumerate(loader):
        if index == warmup:
            start = time.perf_counter()
        logits = model(x).squeeze(1)
        weight = torch.full_like(logits, 0.5)
        loss = F.binary_cross_entropy_with_logits(logits, y.float(), weight=weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if index >= warmup:
            images += len(y)
            end = time.perf_counter()
        if index + 1 >= warmup + steps:
            break
    return images / (end - start)


def step_rate(arch: str, size: int, batch: int, steps: int) -> float:
    """Training images/s of the plain loop for ``arch`` at ``size`` (one warm-up step)."""
    data = InMemory(batch * (steps + 1), size)
    return plain_rate(arch, data, batch, steps, warmup=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="resnet18")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--recipe-arch", default="resnet50")
    parser.add_argument("--recipe-batch", type=int, default=8)
    parser.add_argument("--recipe-steps", type=int, default=2)
    parser.add_argument("--loader-images", type=int, default=48)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--gpu-images-per-s",
        type=float,
        default=1200.0,
        help="assumed recipe training rate on one GPU (see docs)",
    )
    parser.add_argument("--gpu-workers", type=int, default=8)
    args = parser.parse_args()

    print(
        f"{datetime.datetime.now():%Y-%m-%d %H:%M}, {machine()}, "
        f"torch threads {torch.get_num_threads()}\n"
    )
    data = InMemory(args.batch_size * (args.warmup + args.steps), args.size)
    plain, light = [], []
    for _ in range(args.repeats):
        plain.append(plain_rate(args.arch, data, args.batch_size, args.steps, args.warmup))
        light.append(lightning_rate(args.arch, data, args.batch_size, args.steps, args.warmup))
    p, lt = statistics.median(plain), statistics.median(light)
    print(
        f"Loop overhead: {args.arch}, {args.size}×{args.size}, batch {args.batch_size}, "
        f"{args.steps} timed steps after {args.warmup} warm-up, {args.repeats} alternating "
        "repeats, in-memory data"
    )
    print()
    print("| loop | images/s (median) | runs |")
    print("|---|---|---|")
    print(f"| plain PyTorch | {p:.1f} | {', '.join(f'{v:.1f}' for v in plain)} |")
    print(f"| Lightning | {lt:.1f} | {', '.join(f'{v:.1f}' for v in light)} |")
    print(f"| **Lightning ÷ plain** | **{lt / p:.3f}** | |")
    print()

    recipe = step_rate(args.recipe_arch, 320, args.recipe_batch, args.recipe_steps)
    with tempfile.TemporaryDirectory() as tmp:
        records = write_images(Path(tmp), args.loader_images)
        loader = time_loader(
            records, train=True, workers=args.workers, size=320, batch_size=args.recipe_batch
        )
    torch.set_num_threads(max(1, torch.get_num_threads()))
    per_worker = loader / max(1, args.workers)
    print(
        f"Loader vs model at 320×320 (train transform, {args.workers} workers; "
        f"{args.recipe_arch} training step, batch {args.recipe_batch}, plain loop):"
    )
    print()
    print("| what | images/s |")
    print("|---|---|")
    print(f"| DataLoader, {args.workers} workers | {loader:.1f} |")
    print(f"| DataLoader per worker | {per_worker:.1f} |")
    print(f"| {args.recipe_arch} training step on this CPU | {recipe:.2f} |")
    print(f"| **loader ÷ model** | **{loader / recipe:.1f}** |")
    print()

    total = MURA_TRAIN_IMAGES * RECIPE_EPOCHS
    feed = per_worker * args.gpu_workers
    rate = min(args.gpu_images_per_s, feed)
    print(
        f"Projection, full recipe ({MURA_TRAIN_IMAGES:,} images × {RECIPE_EPOCHS} epochs "
        f"= {total:,} images):"
    )
    print()
    print("| setting | images/s | hours |")
    print("|---|---|---|")
    print(f"| this CPU, {args.recipe_arch} | {recipe:.2f} | {total / recipe / 3600:,.0f} |")
    print(
        f"| one GPU, assumed {args.gpu_images_per_s:.0f} images/s | "
        f"{args.gpu_images_per_s:.0f} | {total / args.gpu_images_per_s / 3600:.1f} |"
    )
    print(
        f"| one GPU fed by {args.gpu_workers} workers at this machine's per-worker rate | "
        f"{rate:.0f} | {total / rate / 3600:.1f} |"
    )


if __name__ == "__main__":
    main()
