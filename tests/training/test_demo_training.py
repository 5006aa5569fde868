"""``training.demo.train_demo_model``: the one trainer of demo models, and its cache."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from medxai.audit import demo_models
from medxai.checkpoint import load_classifier
from medxai.data.phantoms import PhantomConfig, generate
from medxai.errors import MedxaiError
from training import demo
from training.cli import DEMO_CONFIG, build_cli

TINY = {"train_studies": 4, "valid_studies": 4, "size": 64, "body_parts": ("XR_FINGER",)}


@pytest.fixture(scope="module")
def phantoms(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("demo") / "phantoms", PhantomConfig(seed=0, **TINY))


def _resolved(args: list[str], capsys) -> dict:
    with pytest.raises(SystemExit):
        build_cli([*args, "--print_config"])
    return yaml.safe_load(capsys.readouterr().out)


class FakeTraining:
    """Stands in for ``run_training``: writes a best and a last checkpoint, a metrics log
    and a config where Lightning would, and records each command line."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, args: list[str]) -> Path:
        self.calls.append(list(args))
        save_dir = Path(args[args.index("--trainer.logger.init_args.save_dir") + 1])
        run = save_dir / "demo_phantoms" / "version_0"
        (run / "checkpoints").mkdir(parents=True)
        torch.save({"which": "best"}, run / "checkpoints" / "best-epoch001.ckpt")
        torch.save({"which": "last"}, run / "checkpoints" / "last.ckpt")
        (run / "metrics.csv").write_text("epoch,val/study_kappa\n0,0.5\n1,0.7\n")
        (run / "config.yaml").write_text("seed_everything: 0\n")
        return run / "checkpoints" / "best-epoch001.ckpt"


@pytest.fixture()
def fake_training(monkeypatch: pytest.MonkeyPatch) -> FakeTraining:
    fake = FakeTraining()
    monkeypatch.setattr(demo, "run_training", fake)
    return fake


def test_cli_values_are_what_lightningcli_reads() -> None:
    assert [demo.cli_value(v) for v in (None, True, False, 3, 1e-3, "global")] == [
        "null", "true", "false", "3", "0.001", "global"
    ]


def test_arguments_are_the_demo_config_with_the_options_on_top(tmp_path, capsys) -> None:
    args = demo.demo_arguments(
        tmp_path / "data", tmp_path / "runs",
        {"trainer.max_epochs": 2, "model.weights": None, "trainer.enable_progress_bar": False},
    )
    assert args[:2] == ["--config", str(DEMO_CONFIG)]
    config = _resolved(args, capsys)
    assert config["data"]["root"] == str(tmp_path / "data")
    assert config["trainer"]["logger"]["init_args"]["save_dir"] == str(tmp_path / "runs")
    assert config["trainer"]["max_epochs"] == 2 and config["model"]["weights"] is None
    assert config["trainer"]["enable_progress_bar"] is False
    assert config["model"]["arch"] == "resnet18" and config["data"]["size"] == 128  # config


def test_audit_options_keep_the_audit_recipe(tmp_path, capsys) -> None:
    """The audit's models: the demo config with the DemoModelConfig's knobs on top."""
    config = demo_models.DemoModelConfig(size=48, epochs=3, lr=2e-3, rotation=5.0, seed=4)
    resolved = _resolved(
        demo.demo_arguments(tmp_path, tmp_path, demo_models.training_options(config)), capsys
    )
    model, data, trainer = resolved["model"], resolved["data"], resolved["trainer"]
    assert resolved["seed_everything"] == 4
    assert (model["arch"], model["weights"], model["loss_weighting"]) == (
        "resnet18", None, "global"
    )
    assert model["lr"] == pytest.approx(2e-3) and model["weight_decay"] == pytest.approx(1e-5)
    assert (data["size"], data["rotation"], data["batch_size"], data["num_workers"]) == (
        48, 5.0, 32, 0
    )
    assert (trainer["accelerator"], trainer["devices"], trainer["max_epochs"]) == ("cpu", 1, 3)


def test_data_fingerprint_follows_names_and_bytes(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.png").write_bytes(b"123")
    first = demo.data_fingerprint(tmp_path)
    assert demo.data_fingerprint(tmp_path) == first
    (tmp_path / "a" / "x.png").write_bytes(b"124")
    changed = demo.data_fingerprint(tmp_path)
    (tmp_path / "a" / "x.png").rename(tmp_path / "a" / "y.png")
    renamed = demo.data_fingerprint(tmp_path)
    assert len({first, changed, renamed}) == 3


def test_key_changes_with_options_keep_and_data(tmp_path: Path) -> None:
    (tmp_path / "f.png").write_bytes(b"1")

    def key(options, keep="best"):
        return demo.cache_key(demo.demo_model_key(tmp_path, options, keep))

    base = key({"trainer.max_epochs": 1})
    assert key({"trainer.max_epochs": 1}) == base
    assert len(base) == 16 and int(base, 16) >= 0
    assert key({"trainer.max_epochs": 2}) != base
    assert key({"trainer.max_epochs": 1}, keep="last") != base
    (tmp_path / "f.png").write_bytes(b"2")
    assert key({"trainer.max_epochs": 1}) != base


@pytest.mark.parametrize("keep", ["best", "last"])
def test_trains_once_then_serves_the_cache(keep, fake_training, phantoms, tmp_path) -> None:
    cache = tmp_path / "cache"
    path = demo.train_demo_model(phantoms, cache, {"trainer.max_epochs": 2}, keep=keep)
    assert path.parent.parent == cache and path.name == demo.CHECKPOINT_NAME
    assert torch.load(path, weights_only=True) == {"which": keep}
    assert sorted(p.name for p in path.parent.iterdir()) == [
        ".medxai-manifest.json", "config.yaml", "metrics.csv", "model.ckpt", "training.json"
    ]
    assert sorted(p.name for p in cache.iterdir()) == [path.parent.name]  # no staging left
    assert len(fake_training.calls) == 1 and "--trainer.max_epochs" in fake_training.calls[0]

    assert demo.train_demo_model(phantoms, cache, {"trainer.max_epochs": 2}, keep=keep) == path
    assert len(fake_training.calls) == 1  # served from the cache
    other = demo.train_demo_model(phantoms, cache, {"trainer.max_epochs": 3}, keep=keep)
    assert other != path and len(fake_training.calls) == 2


def test_failed_training_leaves_no_entry(monkeypatch, phantoms, tmp_path: Path) -> None:
    def fail(args):
        raise MedxaiError("boom")

    monkeypatch.setattr(demo, "run_training", fail)
    with pytest.raises(MedxaiError, match="boom"):
        demo.train_demo_model(phantoms, tmp_path / "cache", {})
    assert list((tmp_path / "cache").iterdir()) == []


def test_missing_data_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(MedxaiError, match="data folder not found"):
        demo.train_demo_model(tmp_path / "absent", tmp_path / "cache")


def test_audit_demo_checkpoint_keeps_the_last_epoch(fake_training, tmp_path: Path) -> None:
    phantoms = PhantomConfig(seed=1, **TINY)
    config = demo_models.DemoModelConfig(phantoms=phantoms, size=64, epochs=1)
    path = demo_models.demo_checkpoint(config, tmp_path)
    assert torch.load(path, weights_only=True) == {"which": "last"}
    assert (tmp_path / f"phantoms-{demo_models.config_key(phantoms)}" / "phantoms.json").is_file()
    assert demo_models.demo_checkpoint(config, tmp_path) == path
    assert len(fake_training.calls) == 1


@pytest.mark.slow
def test_real_training_writes_a_loadable_checkpoint(phantoms, tmp_path: Path) -> None:
    options = {"trainer.max_epochs": 1, "data.size": 64, "data.num_workers": 0,
               "trainer.enable_progress_bar": False, "trainer.enable_model_summary": False}
    path = demo.train_demo_model(phantoms, tmp_path, options, keep="last")
    raw = torch.load(path, weights_only=True)
    assert raw["epoch"] == 0 and raw["medxai"]["input_size"] == 64
    assert raw["medxai"]["provenance"]["splits"]["train"]["studies"] == 4
    classifier = load_classifier(path)
    assert classifier.arch == "resnet18"
    with torch.no_grad():
        assert classifier.model(torch.zeros(1, 3, 64, 64)).shape == (1, 1)
    config = yaml.safe_load((path.parent / "config.yaml").read_text())
    assert config["data"]["root"] == str(phantoms.resolve())
