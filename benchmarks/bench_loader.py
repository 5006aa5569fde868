"""MURA data-loading speed: images/s per DataLoader worker at 320×320.

Writes MURA-like PNGs (8-bit gray, 512 px on the long side, varied aspect, smooth
anatomy-like content plus noise so that they compress like radiographs), then times:

- decode only (:func:`read_radiograph_png`), one thread;
- the eval and train transforms alone on decoded pixels, one thread;
- :class:`MuraDataset` through a :class:`~torch.utils.data.DataLoader` with 0, 1 and 2
  worker processes, train and eval, default collate.

Prints a markdown table. Usage::

    python benchmarks/bench_loader.py [--images 96] [--size 320] [--workers 0 1 2]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader

from medxai.data import ImageRecord, MuraDataset, read_radiograph_png, to_model_input
from medxai.data.transforms import to_train_input


def write_images(folder: Path, count: int, seed: int = 0) -> list[ImageRecord]:
    """``count`` MURA-like gray PNGs and their records."""
    rng = np.random.default_rng(seed)
    records = []
    for k in range(count):
        long_side = 512
        short_side = int(rng.integers(300, 481))
        h, w = (long_side, short_side) if k % 3 else (short_side, long_side)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        bone = np.exp(-(((xx - w / 2) / (0.12 * w)) ** 2)) * (0.5 + 0.3 * np.sin(yy / 37.0))
        tissue = np.exp(-(((xx - w / 2) / (0.3 * w)) ** 2)) * 0.3
        noise = rng.normal(0, 0.03, (h, w)).astype(np.float32)
        pixels = np.clip(0.05 + tissue + bone + noise, 0, 1)
        path = folder / f"image{k + 1}.png"
        Image.fromarray((pixels * 255).astype(np.uint8)).save(path)
        records.append(ImageRecord(path, "train", "XR_WRIST", "patient00001", "bench", k % 2))
    return records


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def time_single_thread(records: list[ImageRecord], size: int) -> dict[str, float]:
    """images/s of decode, eval transform and train transform, one thread each."""
    torch.set_num_threads(1)
    warm = read_radiograph_png(records[0].path)  # first calls pay for lazy imports
    to_model_input(warm, size)
    to_train_input(warm, size, 1.0)
    start = time.perf_counter()
    decoded = [read_radiograph_png(r.path) for r in records]
    decode = _rate(len(records), time.perf_counter() - start)
    start = time.perf_counter()
    for pixels in decoded:
        to_model_input(pixels, size)
    evaluate = _rate(len(records), time.perf_counter() - start)
    start = time.perf_counter()
    for pixels in decoded:
        to_train_input(pixels, size, float(np.random.uniform(-15, 15)))
    train = _rate(len(records), time.perf_counter() - start)
    return {"decode": decode, "eval transform": evaluate, "train transform": train}


def time_loader(
    records: list[ImageRecord], *, train: bool, workers: int, size: int, batch_size: int
) -> float:
    """images/s of a full pass through a DataLoader (after one warm-up batch)."""
    torch.set_num_threads(1)
    dataset = MuraDataset(records, train=train, size=size)
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        num_workers=workers,
        persistent_workers=workers > 0,
        shuffle=False,
    )
    iterator = iter(loader)
    next(iterator)  # warm-up: worker start-up is not loading speed
    start = time.perf_counter()
    seen = 0
    for batch in iterator:
        seen += batch[0].shape[0]
    for batch in loader:
        seen += batch[0].shape[0]
    return _rate(seen, time.perf_counter() - start)


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {load:.1f} at start, Python {platform.python_version()}, "
        f"torch {torch.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()

    print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}, {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        records = write_images(Path(tmp), args.images)
        sizes = [read_radiograph_png(r.path).shape for r in records[:1]]
        print(
            f"{args.images} gray PNGs, long side 512 px (first {sizes[0]}), "
            f"output {args.size}×{args.size}, batch {args.batch_size}\n"
        )
        single = time_single_thread(records, args.size)
        print("| step (one thread) | images/s |")
        print("|---|---|")
        for name, rate in single.items():
            print(f"| {name} | {rate:.0f} |")
        print()
        print("| transform | DataLoader workers | images/s | images/s per worker |")
        print("|---|---|---|---|")
        for train in (False, True):
            for workers in args.workers:
                rate = time_loader(
                    records,
                    train=train,
                    workers=workers,
                    size=args.size,
                    batch_size=args.batch_size,
                )
                label = "0 (main process)" if workers == 0 else str(workers)
                name = "train (resize, rotate ±15°)" if train else "eval (resize)"
                print(f"| {name} | {label} | {rate:.0f} | {rate / max(workers, 1):.0f} |")


if __name__ == "__main__":
    main()
