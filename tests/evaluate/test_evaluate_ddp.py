"""Two DDP processes on CPU (gloo) give the same tables as one process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from runs import assert_tables_equal, evaluate_args, read_csv


def _run_ddp(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``python -m medxai.cli ARGS --strategy ddp`` in a subprocess (Lightning starts rank 1)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "medxai.cli", *args, "--strategy", "ddp"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=cwd,
    )


def test_two_cpu_processes_match_one(
    fresh: Path, tiny_root: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ddp"
    done = _run_ddp(evaluate_args(tiny_root, tiny_checkpoint, out, "--devices", "2"), tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    shards = sorted(p.name for p in (out / "shards").iterdir())
    assert shards == ["rank0.csv", "rank1.csv"]  # both ranks wrote their own part
    lines = [len((out / "shards" / s).read_text().splitlines()) - 1 for s in shards]
    assert sum(lines) == 8 and min(lines) > 0
    assert_tables_equal(read_csv(out / "per_image.csv"), read_csv(fresh / "per_image.csv"))
    assert_tables_equal(read_csv(out / "summary.csv"), read_csv(fresh / "summary.csv"))
    assert done.stdout.count("# medxai evaluation") == 1  # only rank 0 reports


@pytest.mark.slow
def test_resume_with_fewer_pending_images_than_ranks(
    fresh: Path, tiny_root: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ddp"
    shutil.copytree(fresh, out)
    shard = out / "shards" / "rank0.csv"
    shard.write_text("".join(shard.read_text().splitlines(keepends=True)[:8]))  # 7 rows
    (out / "per_image.csv").unlink()
    done = _run_ddp(evaluate_args(tiny_root, tiny_checkpoint, out, "--devices", "2"), tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "1 rows computed, 7 already done" in done.stderr
    assert_tables_equal(read_csv(out / "per_image.csv"), read_csv(fresh / "per_image.csv"))
