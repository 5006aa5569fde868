"""Shared helpers of the saliency-engine benchmarks: options, timing, machine line, map
distances."""

from __future__ import annotations

import argparse
import platform
import subprocess
import time
from collections.abc import Callable

import torch
from torch import Tensor, nn


def checkpoint_parser(description: str) -> argparse.ArgumentParser:
    """Options of a benchmark on a trained checkpoint: the checkpoint, an image glob, a limit."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--images", required=True, help="glob (** allowed)")
    parser.add_argument("--limit", type=int, default=8)
    return parser


def machine() -> str:
    """``date · nproc · CPU model · torch version``."""
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    date = subprocess.run(["date"], capture_output=True, text=True).stdout.strip()
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{date}; nproc={nproc}; {cpu}; torch {torch.__version__}"


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Wall seconds of one call of ``fn`` and its value."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def plain_rate(
    model: nn.Module,
    batch: int,
    size: int,
    *,
    channels_last: bool,
    autocast: str | None = None,
    repeats: int = 2,
) -> float:
    """Images per second of a plain batched forward (one warm-up batch, then ``repeats``)."""
    run = model
    x = torch.randn(batch, 3, size, size)
    if channels_last:
        import copy

        run = copy.deepcopy(model).to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    ctx = (
        torch.autocast("cpu", dtype=torch.bfloat16)
        if autocast == "bf16"
        else torch.autocast("cpu", enabled=False)
    )
    with torch.no_grad(), ctx:
        run(x[: max(1, batch // 4)])
        seconds, _ = timed(lambda: [run(x) for _ in range(repeats)])
    return batch * repeats / seconds


def spearman(a: Tensor, b: Tensor) -> float:
    """Spearman rank correlation of two maps (ties broken by position)."""
    ra = a.flatten().argsort().argsort().double()
    rb = b.flatten().argsort().argsort().double()
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra * rb).sum() / (ra.norm() * rb.norm()))


def distances(a: Tensor, b: Tensor) -> tuple[float, float, float]:
    """Max abs diff, mean abs diff and Spearman of two maps."""
    diff = (a.float() - b.float()).abs()
    return float(diff.max()), float(diff.mean()), spearman(a, b)
