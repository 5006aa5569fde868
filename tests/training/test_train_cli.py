"""``python train.py`` end to end on a tiny MURA folder: checkpoints, config, resume, errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from medxai.checkpoint import load_classifier

REPO = Path(__file__).resolve().parents[2]
TINY = ["--data.size", "64", "--data.num_workers", "0", "--data.batch_size", "8",
        "--trainer.enable_model_summary", "false"]


def _train(args: list[str], cwd: Path, torch_home: Path | None = None):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "2"}
    if torch_home is not None:
        env["TORCH_HOME"] = str(torch_home)
    return subprocess.run(
        [sys.executable, str(REPO / "train.py"), *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def demo_run(tiny_mura: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One epoch of the demo config on the tiny folder; returns the run folder."""
    runs = tmp_path_factory.mktemp("runs")
    proc = _train(
        ["--config", str(REPO / "configs" / "demo_phantoms.yaml"), "--data.root", str(tiny_mura),
         "--trainer.max_epochs", "1", "--trainer.logger.init_args.save_dir", str(runs), *TINY],
        cwd=runs,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run,) = sorted(runs.glob("demo_phantoms/version_*"))
    return run


@pytest.mark.slow
def test_demo_config_end_to_end(demo_run: Path, tiny_mura: Path) -> None:
    config = yaml.safe_load((demo_run / "config.yaml").read_text())
    assert config["model"]["arch"] == "resnet18" and config["data"]["size"] == 64
    assert config["data"]["root"] == str(tiny_mura)
    assert config["checkpoint"]["monitor"] == "val/study_kappa"
    ckpts = demo_run / "checkpoints"
    best = sorted(ckpts.glob("best-*.ckpt"))
    assert len(best) == 1 and (ckpts / "last.ckpt").is_file()
    for path in (best[0], ckpts / "last.ckpt"):
        raw = torch.load(path, weights_only=True)
        meta = raw["medxai"]
        assert meta["arch"] == "resnet18" and meta["input_size"] == 64
        assert meta["class_names"] == ["normal", "abnormal"]
        assert meta["provenance"]["splits"]["train"]["studies"] == 12
        assert len(meta["provenance"]["index_sha256"]) == 64
        assert "val/study_kappa" in meta["metrics"]["latest"]
        loaded = load_classifier(path)
        assert loaded.arch == "resnet18" and not loaded.model.training
        with torch.no_grad():
            assert loaded.model(torch.zeros(1, 3, 64, 64)).shape == (1, 1)


@pytest.mark.slow
def test_resume_continues_at_next_epoch(demo_run: Path, tiny_mura: Path, tmp_path: Path) -> None:
    from training.cli import run_training

    last = demo_run / "checkpoints" / "last.ckpt"
    first = torch.load(last, weights_only=True)
    assert first["epoch"] == 0
    steps_per_epoch = first["global_step"]
    best = run_training(
        ["--config", str(REPO / "configs" / "demo_phantoms.yaml"), "--data.root", str(tiny_mura),
         "--trainer.max_epochs", "2", "--trainer.logger.init_args.save_dir", str(tmp_path),
         "--trainer.enable_progress_bar", "false", "--ckpt_path", str(last), *TINY]
    )
    assert best.is_file()
    (run,) = sorted(tmp_path.glob("demo_phantoms/version_*"))
    resumed = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert resumed["epoch"] == 1  # epoch 0 came from the checkpoint, epoch 1 was trained
    assert resumed["global_step"] == 2 * steps_per_epoch
    assert resumed["medxai"]["metrics"]["latest"]["epoch"] == 1
    trained_epochs = {
        int(float(row.split(",")[0] or -1))
        for row in (run / "metrics.csv").read_text().splitlines()[1:]
    }
    assert trained_epochs == {1}


def test_missing_imagenet_weights_fail_in_one_line(tiny_mura: Path, tmp_path: Path) -> None:
    proc = _train(["--data.root", str(tiny_mura)], cwd=tmp_path, torch_home=tmp_path / "th")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "urllib" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("train.py: error: ")
    assert "resnet50-0676ba61.pth" in last
    assert str(tmp_path / "th" / "hub" / "checkpoints") in last


def test_missing_data_root_fails_in_one_line(tmp_path: Path, capsys) -> None:
    from training.cli import main

    code = main(
        ["--config", str(REPO / "configs" / "demo_phantoms.yaml"),
         "--data.root", str(tmp_path / "absent"), "--trainer.logger", "false",
         "--trainer.enable_progress_bar", "false"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("train.py: error: ") and str(tmp_path / "absent") in err[-1]
