"""Runs in subprocesses: two DDP processes on CPU (gloo) give the same tables as one
process, including when resuming; a run killed with SIGKILL resumes to the same tables."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
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


@pytest.mark.slow
def test_a_run_killed_with_sigkill_resumes_to_the_fresh_table(
    fresh: Path, tiny_root: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    out = tmp_path / "killed"
    args = [sys.executable, "-m", "medxai.cli"]
    args += evaluate_args(tiny_root, tiny_checkpoint, out, "--batch-size", "1")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    shard = out / "shards" / "rank0.csv"
    process = subprocess.Popen(args, env=env, cwd=tmp_path, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            if shard.is_file() and len(shard.read_bytes().splitlines()) >= 4:
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    if (out / "per_image.csv").exists():
        pytest.skip("the run finished before it could be killed")
    kept = len(shard.read_bytes().splitlines()) - 1
    assert 3 <= kept < 8
    done = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{kept} rows already" in done.stderr
    assert len(shard.read_bytes().splitlines()) - 1 == 8
    assert_tables_equal(read_csv(out / "per_image.csv"), read_csv(fresh / "per_image.csv"))
    assert_tables_equal(read_csv(out / "summary.csv"), read_csv(fresh / "summary.csv"))
