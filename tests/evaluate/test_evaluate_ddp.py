"""Two DDP processes on CPU (gloo) give the same tables as one process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from runs import assert_tables_equal, evaluate_args, read_csv


def test_two_cpu_processes_match_one(
    fresh: Path, tiny_root: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ddp"
    args = evaluate_args(tiny_root, tiny_checkpoint, out, "--devices", "2", "--strategy", "ddp")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "medxai.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    shards = sorted(p.name for p in (out / "shards").iterdir())
    assert shards == ["rank0.csv", "rank1.csv"]  # both ranks wrote their own part
    lines = [len((out / "shards" / s).read_text().splitlines()) - 1 for s in shards]
    assert sum(lines) == 8 and min(lines) > 0
    assert_tables_equal(read_csv(out / "per_image.csv"), read_csv(fresh / "per_image.csv"))
    assert_tables_equal(read_csv(out / "summary.csv"), read_csv(fresh / "summary.csv"))
    assert done.stdout.count("# medxai evaluation") == 1  # only rank 0 reports
