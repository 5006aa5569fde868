"""``medxai evaluate --tolerance``: checked with the other fast-mode flags, recorded in
run.json, part of the settings a resumed run must match."""

from __future__ import annotations

import json
from pathlib import Path

from runs import read_csv

from medxai.cli import main


def _args(root: Path, checkpoint: Path, out: Path, *extra: str) -> list[str]:
    return [
        "evaluate", str(root), "--checkpoint", str(checkpoint), "--out", str(out),
        "--methods", "pcam+-", "--metrics", "deletion", "--steps", "2", "--limit", "1",
        "--bootstrap", "50", "--no-progress", "--accelerator", "cpu", *extra,
    ]  # fmt: skip


def test_tolerance_is_recorded_and_checked_on_resume(
    tiny_root: Path, tiny_checkpoint: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    fast = ("--channel-budget", "2", "--tolerance", "0.05")
    assert main(_args(tiny_root, tiny_checkpoint, out, *fast)) == 0
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["settings"]["tolerance"] == 0.05
    assert run["fingerprint"]["fast_options"] == {"channel_budget": 2, "tolerance": 0.05}
    assert [r["approximate"] for r in read_csv(out / "per_image.csv")] == ["1"]
    capsys.readouterr()
    other = ("--channel-budget", "2", "--tolerance", "0.1")
    code = main(_args(tiny_root, tiny_checkpoint, out, *other))
    err = capsys.readouterr().err
    assert code != 0 and "fast_options differ" in err


def test_exact_with_a_tolerance_is_refused(
    tiny_root: Path, tiny_checkpoint: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    code = main(_args(tiny_root, tiny_checkpoint, out, "--exact", "--tolerance", "0.1"))
    err = capsys.readouterr().err
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert "--exact contradicts --tolerance" in err and not out.exists()
    code = main(_args(tiny_root, tiny_checkpoint, out, "--tolerance", "3"))
    err = capsys.readouterr().err
    assert code != 0 and "--tolerance must be in [0, 1], got 3.0" in err
