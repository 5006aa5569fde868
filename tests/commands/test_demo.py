"""``medxai demo``'s parts: its phantom set (reused or regenerated), study choice, summary line.

The whole demo (phantoms, 5 epochs of training, report) runs in CI as the README's first
command; these tests check the decisions it makes, on a small phantom set.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from medxai.commands import demo
from medxai.data.phantoms import PhantomConfig
from medxai.errors import MedxaiError

SMALL = {"train_studies": 4, "valid_studies": 6, "size": 64, "body_parts": ("XR_FINGER",)}


def test_demo_phantoms_are_fingers_without_a_planted_shortcut() -> None:
    config = PhantomConfig(seed=0, **demo.DEMO_PHANTOMS)
    assert config.body_parts == ("XR_FINGER",)
    assert config.p_cast_abnormal == config.p_cast_normal
    assert (config.train_studies, config.valid_studies) == (600, 160)


@pytest.fixture()
def small_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "DEMO_PHANTOMS", SMALL)


def test_phantoms_are_reused_only_when_settings_match(small_demo, tmp_path: Path) -> None:
    root = demo._phantoms(tmp_path, seed=3)
    recorded = json.loads((root / "phantoms.json").read_text())
    assert recorded["config"]["seed"] == 3 and recorded["config"]["size"] == 64
    image = next(root.glob("train/XR_FINGER/*/*/image1.png"))
    marker = image.stat().st_mtime_ns

    assert demo._phantoms(tmp_path, seed=3) == root
    assert image.stat().st_mtime_ns == marker  # reused, not rewritten

    demo._phantoms(tmp_path, seed=4)
    assert json.loads((root / "phantoms.json").read_text())["config"]["seed"] == 4


def test_damaged_record_regenerates(small_demo, tmp_path: Path) -> None:
    root = demo._phantoms(tmp_path, seed=0)
    (root / "phantoms.json").write_text("{not json")
    demo._phantoms(tmp_path, seed=0)
    assert json.loads((root / "phantoms.json").read_text())["config"]["seed"] == 0


def test_pick_study_is_the_first_abnormal_annotated_valid_study(small_demo, tmp_path) -> None:
    root = demo._phantoms(tmp_path, seed=0)
    study = demo.pick_study(root)
    assert study.parts[-4] == "valid" and study.name.endswith("_positive")
    shapes = json.loads((study / "annotations.json").read_text())["images"]
    assert any(shapes.values())
    earlier = [
        s for s in sorted((root / "valid").glob("XR_*/patient*/study*_positive")) if s < study
    ]
    for other in earlier:  # every earlier abnormal study lacks annotations
        path = other / "annotations.json"
        assert not path.is_file() or not any(json.loads(path.read_text())["images"].values())


def test_pick_study_without_abnormal_studies_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "valid" / "XR_FINGER" / "patient00001" / "study1_negative").mkdir(parents=True)
    with pytest.raises(MedxaiError, match="no abnormal study with annotations"):
        demo.pick_study(tmp_path)


def test_validation_line_reads_the_checkpoint_metrics(tmp_path: Path) -> None:
    path = tmp_path / "best.ckpt"
    metrics = {"val/study_auroc": 0.9512, "val/study_kappa": 0.875, "epoch": 4, "studies": 160}
    torch.save({"medxai": {"metrics": {"best": metrics, "latest": {}}}}, path)
    assert demo.validation_line(path) == (
        "best.ckpt: validation study AUROC 0.951, study kappa 0.875 (epoch 4, 160 studies)"
    )
    torch.save({"medxai": {"metrics": {}}}, path)
    assert demo.validation_line(path) == "best.ckpt: no validation metrics recorded"


def test_demo_config_documents_the_demo_phantoms() -> None:
    """The ``medxai phantoms`` command in the config's header makes the demo's phantom set."""
    from medxai.cli import build_parser
    from training.cli import DEMO_CONFIG

    (line,) = [ln for ln in DEMO_CONFIG.read_text().splitlines() if "medxai phantoms" in ln]
    args = build_parser().parse_args(line.split("medxai ", 1)[1].split())
    assert (args.studies, args.valid_studies) == (
        demo.DEMO_PHANTOMS["train_studies"], demo.DEMO_PHANTOMS["valid_studies"]
    )
    assert tuple(args.body_parts) == demo.DEMO_PHANTOMS["body_parts"]


def test_run_reports_with_exact_pcam(monkeypatch, tmp_path: Path, capsys) -> None:
    """``run`` chains phantoms → training → report and asks the report for exact PCAM±."""
    import argparse

    import medxai.report as report

    study = tmp_path / "phantoms" / "valid" / "XR_FINGER" / "patient00001" / "study1_positive"
    study.mkdir(parents=True)
    (study / "annotations.json").write_text(json.dumps({"images": {"image1.png": [{}]}}))
    checkpoint = tmp_path / "best.ckpt"
    torch.save({"medxai": {"metrics": {"best": {"val/study_auroc": 0.99}}}}, checkpoint)
    seen = {}

    def fake_report(options):
        seen["options"] = options
        return argparse.Namespace(html=options.out / "report.html", notes=("a note",))

    monkeypatch.setattr(demo, "_phantoms", lambda out, seed: tmp_path / "phantoms")
    monkeypatch.setattr(demo, "_train", lambda out, root, seed, epochs: checkpoint)
    monkeypatch.setattr(report, "build_report", fake_report)
    args = argparse.Namespace(out=tmp_path / "demo", seed=0, max_epochs=None)
    assert demo.run(args) == 0
    options = seen["options"]
    assert options.exact is True and options.device == "cpu" and options.study == study
    captured = capsys.readouterr()
    assert captured.out.strip() == str(tmp_path / "demo" / "report" / "report.html")
    assert "[demo] a note" in captured.err.splitlines()  # the report's notes are passed on


def test_validation_line_takes_the_group_of_the_checkpoints_own_epoch(tmp_path: Path) -> None:
    """A last.ckpt reports its own epoch's metrics, not the best epoch's."""
    path = tmp_path / "last.ckpt"
    best = {"val/study_auroc": 0.95, "val/study_kappa": 0.9, "epoch": 2, "studies": 160}
    latest = {"val/study_auroc": 0.93, "val/study_kappa": 0.8, "epoch": 4, "studies": 160}
    torch.save({"epoch": 4, "medxai": {"metrics": {"best": best, "latest": latest},
                                       "provenance": {"epoch": 4}}}, path)
    assert demo.validation_line(path) == (
        "last.ckpt: validation study AUROC 0.930, study kappa 0.800 (epoch 4, 160 studies)"
    )
    with pytest.raises(MedxaiError, match="checkpoint file not found"):
        demo.validation_line(tmp_path / "absent.ckpt")


def test_train_uses_the_cached_demo_trainer(monkeypatch, tmp_path: Path) -> None:
    """Seed and epochs reach the training, which keeps the best epoch under out/runs."""
    import training.demo

    seen = {}

    def fake(data_root, cache_dir, options, keep):
        seen.update(data_root=data_root, cache_dir=cache_dir, options=options, keep=keep)
        return tmp_path / "model.ckpt"

    monkeypatch.setattr(training.demo, "train_demo_model", fake)
    assert demo._train(tmp_path / "out", tmp_path / "data", 7, 2) == tmp_path / "model.ckpt"
    assert seen == {"data_root": tmp_path / "data", "cache_dir": tmp_path / "out" / "runs",
                    "options": {"seed_everything": 7, "trainer.max_epochs": 2}, "keep": "best"}
    demo._train(tmp_path / "out", tmp_path / "data", 0, None)
    assert seen["options"] == {"seed_everything": 0}  # the config's epochs
