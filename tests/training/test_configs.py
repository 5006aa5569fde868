"""The shipped configs parse, and the defaults of ``python train.py`` are the recipe."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from training.cli import build_cli

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _resolved(args: list[str], capsys) -> dict:
    with pytest.raises(SystemExit) as info:
        build_cli([*args, "--print_config"])
    assert info.value.code in (0, None)
    return yaml.safe_load(capsys.readouterr().out)


def test_defaults_are_the_recipe(capsys) -> None:
    config = _resolved([], capsys)
    assert config["model"]["arch"] == "resnet50"
    assert config["model"]["weights"] == "IMAGENET1K_V1"
    assert config["model"]["lr"] == pytest.approx(6e-5)
    assert config["model"]["weight_decay"] == pytest.approx(1e-5)
    assert config["data"]["size"] == 320 and config["data"]["rotation"] == 15.0
    assert config["trainer"]["max_epochs"] == 50
    assert config["checkpoint"]["monitor"] == "val/study_kappa"
    assert config["checkpoint"]["mode"] == "max" and config["checkpoint"]["save_last"]


@pytest.mark.parametrize(
    "files",
    [["mura_resnet50.yaml", "mura_resnet50_ddp.yaml"], ["demo_phantoms.yaml"]],
)
def test_configs_parse(files: list[str], capsys) -> None:
    args = [a for f in files for a in ("--config", str(CONFIGS / f))]
    config = _resolved([*args, "--data.batch_size", "5"], capsys)
    assert config["data"]["batch_size"] == 5  # command line overrides the files
    if "mura_resnet50_ddp.yaml" in files:
        assert config["trainer"]["strategy"] == "ddp"
        assert config["trainer"]["sync_batchnorm"] is True
    if files == ["demo_phantoms.yaml"]:
        assert config["model"]["weights"] is None and config["model"]["arch"] == "resnet18"
