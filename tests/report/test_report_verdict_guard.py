"""Broken checkpoints never give a verdict: bad metadata, NaN weights, NaN outputs or maps,
and classes that do not say which logit is "abnormal" stop ``medxai report`` and
``medxai evaluate`` with one line naming the checkpoint, a non-zero exit and no output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from loaders import load_test_module
from report_helpers import write_png

from medxai.cli import main

#: Fast report settings on the command line (1 PCAM± channel per layer, no progress bars).
FAST_ARGS = ("--device", "cpu", "--channel-budget", "1", "--batch-size", "16", "--no-progress")


def _evaluate_data() -> Any:
    """``tests/evaluate/evaluate_data.py``: the tiny MURA-layout set builder."""
    return load_test_module("evaluate/evaluate_data.py", "medxai_tests_evaluate_data")


def edited_checkpoint(
    good: Path, path: Path, edit: Callable[[dict[str, Any], dict[str, torch.Tensor]], None]
) -> Path:
    """A copy of checkpoint ``good`` whose metadata and weights ``edit(meta, state)`` changed."""
    data = torch.load(good, map_location="cpu", weights_only=True)
    edit(data["medxai"], data["state_dict"])
    torch.save(data, path)
    return path


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 64×48 PNG study: small, so each refused run costs a fraction of a second."""
    folder = tmp_path_factory.mktemp("guard") / "study1_positive"
    folder.mkdir()
    write_png(folder / "image1.png", 64, 48, seed=3)
    return folder


def run_report(study: Path, checkpoint: Path, out: Path, capsys) -> tuple[int, str]:
    """``medxai report`` in this process: (exit code, stderr)."""
    capsys.readouterr()
    code = main(["report", str(study), "--checkpoint", str(checkpoint), "--out", str(out),
                 *FAST_ARGS])
    return code, capsys.readouterr().err


def assert_refused(code: int, err: str, checkpoint: Path, out: Path, problem: str) -> None:
    """One line naming the checkpoint and ``problem``, exit 2, and no report written."""
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"medxai report: error: {checkpoint}: "), err
    assert problem in lines[0], err
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]


# Each case: (id, edit of the metadata/weights, words the error must hold).
BAD_METADATA: list[tuple[str, Callable[[dict, dict], None], str]] = [
    ("input_size-str", lambda m, s: m.update(input_size="big"), "input_size must be a whole"),
    ("input_size-0", lambda m, s: m.update(input_size=0), "input_size 0 is outside 32 to 2048"),
    ("input_size-huge", lambda m, s: m.update(input_size=60_000), "input_size 60000 is outside"),
    ("mean-length", lambda m, s: m.update(mean=[0.5, 0.5]), "mean must be 3 numbers"),
    ("mean-nan", lambda m, s: m.update(mean=[0.5, float("nan"), 0.5]), "mean must be 3 finite"),
    ("std-zero", lambda m, s: m.update(std=[0.2, 0.0, 0.2]), "std must be positive"),
    ("std-str", lambda m, s: m.update(std="0.2"), "std must be 3 numbers"),
    ("class_names-int", lambda m, s: m.update(class_names=2), "class_names must be a list"),
    ("class_names-repeat", lambda m, s: m.update(class_names=["abnormal", "Abnormal"]),
     "repeat a name"),
    ("num_outputs-str", lambda m, s: m.update(num_outputs="2"), "num_outputs must be a whole"),
    ("num_outputs-huge", lambda m, s: m.update(num_outputs=10**9), "num_outputs 1000000000"),
    ("threshold-str", lambda m, s: m.update(threshold="0.5"), "threshold must be a probability"),
    ("threshold-range", lambda m, s: m.update(threshold=1.5), "threshold must be a probability"),
    ("arch-int", lambda m, s: m.update(arch=50), "unknown architecture 50"),
    ("format-str", lambda m, s: m.update(format="1"), "format must be a whole"),
    ("metrics-list", lambda m, s: m.update(metrics=[1, 2]), "metrics must be a dict"),
    ("metadata-empty", lambda m, s: m.clear(), "medxai metadata lacks format, arch"),
    # No class says which logit is "abnormal", or names and logits disagree.
    ("three-classes", lambda m, s: m.update(num_outputs=3,
                                            class_names=["fracture", "normal", "implant"]),
     "name no 'abnormal' class"),
    ("names-vs-logits", lambda m, s: m.update(class_names=["normal", "abnormal", "implant"]),
     "3 class names for 1 logit (2 classes)"),
    ("names-vs-logits-2", lambda m, s: m.update(num_outputs=2, class_names=["abnormal"]),
     "1 class names for 2 logits"),
    ("binary-without-abnormal", lambda m, s: m.update(class_names=["negative", "fracture"]),
     "name no 'abnormal' class"),
]


@pytest.mark.parametrize(("edit", "problem"), [c[1:] for c in BAD_METADATA],
                         ids=[c[0] for c in BAD_METADATA])
def test_report_refuses_bad_metadata(study, tiny_checkpoint, tmp_path, capsys, edit, problem):
    bad = edited_checkpoint(tiny_checkpoint, tmp_path / "bad.ckpt", edit)
    out = tmp_path / "report"
    code, err = run_report(study, bad, out, capsys)
    assert_refused(code, err, bad, out, problem)


def _nan_weight(meta: dict, state: dict) -> None:
    state["model.fc.weight"] = state["model.fc.weight"].clone()
    state["model.fc.weight"][0, 5] = float("nan")


def _negative_variance(meta: dict, state: dict) -> None:
    # Finite weights, but sqrt(var + eps) of a negative variance is NaN at run time.
    state["model.bn1.running_var"] = torch.full_like(state["model.bn1.running_var"], -1.0)


def test_report_refuses_nan_weights(study, tiny_checkpoint, tmp_path, capsys):
    bad = edited_checkpoint(tiny_checkpoint, tmp_path / "nan.ckpt", _nan_weight)
    out = tmp_path / "report"
    code, err = run_report(study, bad, out, capsys)
    assert_refused(code, err, bad, out, "weights hold NaN or infinite values")
    assert "model.fc.weight" not in err and "fc.weight" in err


def test_report_refuses_a_nan_probability(study, tiny_checkpoint, tmp_path, capsys):
    """The weights and metadata pass, but the model computes NaN: no "normal — nan" verdict."""
    bad = edited_checkpoint(tiny_checkpoint, tmp_path / "var.ckpt", _negative_variance)
    out = tmp_path / "report"
    code, err = run_report(study, bad, out, capsys)
    assert_refused(code, err, bad, out, "the model's output for image1.png is NaN or infinite")


def test_report_refuses_a_nan_map(study, tiny_checkpoint, tmp_path, capsys, monkeypatch):
    """A finite probability but a non-finite map also stops the report."""
    import medxai.report.pipeline as pipeline

    create = pipeline.cams.create

    def nan_maps(key: str, model: Any, **options: Any) -> Any:
        explainer = create(key, model, **options)

        def explain(x: torch.Tensor, targets: Any = None) -> Any:
            result = explainer(x, targets=targets)
            result.saliency[..., 0, 0] = float("nan")
            return result

        return explain

    monkeypatch.setattr(pipeline.cams, "create", nan_maps)
    out = tmp_path / "report"
    code, err = run_report(study, tiny_checkpoint, out, capsys)
    assert_refused(code, err, tiny_checkpoint, out, "the CAM map of image1.png is NaN or infinite")


def test_abnormal_class_position_is_honoured(study, tiny_checkpoint, tmp_path):
    """Valid layouts keep working: "abnormal" as class 0 of one logit gives 1 − σ(z) (case
    and spacing of the names ignored, no stored threshold means 0.5), and CAM explains it."""
    from medxai.report.inputs import load_inputs
    from medxai.report.pipeline import analyse_study, method_specs

    def flipped(meta: dict, state: dict) -> None:
        meta["class_names"] = [" Abnormal", "normal"]
        del meta["threshold"]

    flipped_ckpt = edited_checkpoint(tiny_checkpoint, tmp_path / "flipped.ckpt", flipped)
    cpu = torch.device("cpu")
    analyses = {}
    for name, checkpoint in (("good", tiny_checkpoint), ("flipped", flipped_ckpt)):
        inputs = load_inputs(study, checkpoint, None, cpu)
        cam = method_specs(cpu, False, 1, 16, inputs.classifier.input_size)[:1]
        analyses[name] = analyse_study(inputs.images, inputs.classifier, {}, cam, cpu,
                                       progress=False)
    good, other = analyses["good"], analyses["flipped"]
    assert 0.0 < good.probability < 1.0
    assert other.probability == pytest.approx(1.0 - good.probability, abs=1e-6)
    assert other.threshold == 0.5
    assert good.images[0].explained_class == "abnormal"
    assert other.images[0].explained_class == " Abnormal"
    assert int(other.images[0].results["CAM"].targets[0]) == 0


# -- medxai evaluate ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def mura_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-study MURA-layout tree (two images)."""
    data = _evaluate_data()
    return data.write_tiny_set(tmp_path_factory.mktemp("mura") / "MURA-v1.1", studies=1)


def run_evaluate(root: Path, checkpoint: Path, out: Path, capsys) -> tuple[int, str]:
    """``medxai evaluate`` with CAM and one cheap metric: (exit code, stderr)."""
    capsys.readouterr()
    code = main(["evaluate", str(root), "--checkpoint", str(checkpoint), "--out", str(out),
                 "--methods", "cam", "--metrics", "localisation", "--limit", "1",
                 "--accelerator", "cpu", "--bootstrap", "10", "--no-progress"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (_nan_weight, "weights hold NaN or infinite values"),
        (lambda m, s: m.update(std=[0.0, 0.0, 0.0]), "std must be positive"),
        (lambda m, s: m.update(input_size="big"), "input_size must be a whole"),
        (lambda m, s: m.update(num_outputs=3, class_names=["fracture", "normal", "implant"]),
         "name no 'abnormal' class"),
    ],
    ids=["nan-weights", "std-zero", "input_size-str", "three-classes"],
)
def test_evaluate_refuses_broken_checkpoints(mura_root, tiny_checkpoint, tmp_path, capsys,
                                             edit, problem):
    bad = edited_checkpoint(tiny_checkpoint, tmp_path / "bad.ckpt", edit)
    out = tmp_path / "evaluation"
    code, err = run_evaluate(mura_root, bad, out, capsys)
    lines = err.strip().splitlines()
    assert code == 2 and "Traceback" not in err, err
    assert lines[-1].startswith(f"medxai evaluate: error: {bad}: ") and problem in lines[-1]
    assert not out.exists()


@pytest.mark.slow
def test_evaluate_refuses_a_nan_output(mura_root, tiny_checkpoint, tmp_path, capsys):
    """Finite weights that compute NaN: the run stops before any result is published."""
    bad = edited_checkpoint(tiny_checkpoint, tmp_path / "var.ckpt", _negative_variance)
    out = tmp_path / "evaluation"
    code, err = run_evaluate(mura_root, bad, out, capsys)
    assert code == 2 and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"medxai evaluate: error: {bad}: the model's output for ")
    assert "is NaN or infinite" in last
    assert not [name for name in ("per_image.csv", "summary.csv", "summary.md")
                if (out / name).exists()]


@pytest.mark.slow
def test_evaluate_target_follows_the_abnormal_class(mura_root, tiny_checkpoint, tmp_path, capsys):
    """``--target 1`` explains the class named "abnormal" wherever the checkpoint puts it."""
    import csv

    def flipped(meta: dict, state: dict) -> None:
        meta["class_names"] = ["abnormal", "normal"]

    flipped_ckpt = edited_checkpoint(tiny_checkpoint, tmp_path / "flipped.ckpt", flipped)
    rows = {}
    for name, checkpoint in (("good", tiny_checkpoint), ("flipped", flipped_ckpt)):
        out = tmp_path / name
        code, err = run_evaluate(mura_root, checkpoint, out, capsys)
        assert code == 0, err
        with open(out / "per_image.csv", newline="") as handle:
            (rows[name],) = list(csv.DictReader(handle))
    assert (rows["good"]["target"], rows["flipped"]["target"]) == ("1", "0")
    good, other = float(rows["good"]["score"]), float(rows["flipped"]["score"])
    assert 0.0 < good < 1.0 and other == pytest.approx(1.0 - good, abs=1e-6)
