"""A resume must be over the same data: the data root and the contents of every file read
are recorded in ``run.json``; ``OUT`` must be an evaluation's own folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from runs import evaluate, read_csv

#: The first two images of the tiny set, in path order (what ``--limit 2`` reads).
FIRST = "valid/XR_HAND/patient11187/study1_negative/image1.png"
SECOND = "valid/XR_HAND/patient11187/study1_negative/image2.png"


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path → bytes)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()}


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def repaint(path: Path, seed: int) -> None:
    """The same image size and format, other pixels."""
    with Image.open(path) as image:
        height, width = image.height, image.width
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


@pytest.fixture
def two_roots(tiny_root: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Copies of the tiny set: ``A`` as it is, ``B`` with the same layout and other pixels."""
    root_a = shutil.copytree(tiny_root, tmp_path / "a" / "MURA-v1.1")
    root_b = shutil.copytree(tiny_root, tmp_path / "b" / "MURA-v1.1")
    for i, image in enumerate(sorted(root_b.rglob("image*.png"))):
        repaint(image, seed=i)
    return root_a, root_b


@pytest.mark.slow
def test_a_resume_over_other_data_is_refused(
    two_roots: tuple[Path, Path], tiny_checkpoint: Path, tmp_path: Path, capsys
) -> None:
    root_a, root_b = two_roots
    out = tmp_path / "out"
    assert evaluate(root_a, tiny_checkpoint, out, "--limit", "2") == 0
    run = json.loads((out / "run.json").read_text())
    assert run["data"]["root"] == str(root_a.resolve())
    assert sorted(run["data"]["images"]) == [FIRST, SECOND]
    before = files(out)
    capsys.readouterr()

    # ROOT_B: same layout, other images
    assert evaluate(root_b, tiny_checkpoint, out, "--limit", "2") == 2
    err = one_line(capsys)
    assert str(out) in err and "another data root" in err and str(root_b.resolve()) in err
    assert files(out) == before

    # the same root, one image rewritten in place since
    original = (root_a / FIRST).read_bytes()
    repaint(root_a / FIRST, seed=99)
    assert evaluate(root_a, tiny_checkpoint, out, "--limit", "2") == 2
    err = one_line(capsys)
    assert "other data" in err and "1 image" in err and FIRST in err and "--force" in err
    assert files(out) == before

    # restored: the resume goes on, nothing is computed again
    (root_a / FIRST).write_bytes(original)
    assert evaluate(root_a, tiny_checkpoint, out, "--limit", "2") == 0
    assert "0 to compute" in capsys.readouterr().err
    assert files(out)["shards/rank0.csv"] == before["shards/rank0.csv"]

    # --force starts again on ROOT_B
    assert evaluate(root_b, tiny_checkpoint, out, "--limit", "2", "--force") == 0
    rows = read_csv(out / "per_image.csv")
    assert [r["image"] for r in rows] == [FIRST, SECOND]
    assert json.loads((out / "run.json").read_text())["data"]["root"] == str(root_b.resolve())
    assert files(out)["per_image.csv"] != before["per_image.csv"]


def test_ground_truth_added_later_is_other_data(
    two_roots: tuple[Path, Path], tiny_checkpoint: Path, tmp_path: Path, capsys
) -> None:
    """A cast mask that appears after its image was measured changes that image's digest;
    a larger ``--limit`` over unchanged data still extends the run."""
    root_a, _ = two_roots
    out = tmp_path / "out"
    assert evaluate(root_a, tiny_checkpoint, out, "--limit", "2") == 0
    assert evaluate(root_a, tiny_checkpoint, out, "--limit", "3") == 0
    run = json.loads((out / "run.json").read_text())
    assert len(run["data"]["images"]) == 3 and len(read_csv(out / "per_image.csv")) == 3
    mask = root_a / SECOND.replace("image2.png", "masks/image2_cast.png")
    mask.parent.mkdir()
    with Image.open(root_a / SECOND) as image:
        Image.new("L", image.size, 255).save(mask)
    capsys.readouterr()
    assert evaluate(root_a, tiny_checkpoint, out, "--limit", "3") == 2
    err = one_line(capsys)
    assert "1 image" in err and SECOND in err


def test_out_must_be_an_evaluation_folder(
    tiny_root: Path, tiny_checkpoint: Path, tmp_path: Path, capsys
) -> None:
    """Neither a resume nor ``--force`` writes into (or clears) a folder of other files."""
    out = tmp_path / "results"
    (out / "shards").mkdir(parents=True)
    (out / "summary.md").write_text("my own notes")
    (out / "shards" / "rank0.csv").write_text("image,method\nmine,cam\n")
    before = files(out)
    for extra in ((), ("--force",)):
        capsys.readouterr()
        assert evaluate(tiny_root, tiny_checkpoint, out, "--limit", "1", *extra) == 2
        err = one_line(capsys)
        assert str(out) in err and "not a medxai output folder" in err and "run.json" in err
        assert files(out) == before


# --- a run stopped by a non-finite value -------------------------------------------------


def test_a_run_stopped_before_any_row_leaves_nothing(
    tiny_root: Path, tiny_checkpoint: Path, tmp_path: Path, capsys
) -> None:
    """Finite weights that compute NaN: no ``run.json`` without results is left behind."""
    data = torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)
    variance = data["state_dict"]["model.bn1.running_var"]
    data["state_dict"]["model.bn1.running_var"] = torch.full_like(variance, -1.0)
    broken = tmp_path / "broken.ckpt"
    torch.save(data, broken)
    out = tmp_path / "out"
    capsys.readouterr()
    assert evaluate(tiny_root, broken, out, "--limit", "1") == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"medxai evaluate: error: {broken}: the model's output for ")
    assert err.endswith(f"no row was finished, so the run's files were removed from {out}")
    assert not out.exists()


def test_a_run_stopped_after_some_rows_says_it_resumes(
    tiny_root: Path, tiny_checkpoint: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    """The second image's map is NaN: the first image's row stays, the error line says
    so, and the same command resumes from it once the cause is gone."""
    import medxai.evaluate.module as module

    check = module.require_finite

    def nan_for_second(values: torch.Tensor, checkpoint: object, what: str) -> None:
        if what == f"the cam map of {SECOND}":
            values = values.clone()
            values.view(-1)[0] = float("nan")
        check(values, checkpoint, what)

    monkeypatch.setattr(module, "require_finite", nan_for_second)
    out = tmp_path / "out"
    capsys.readouterr()
    assert evaluate(tiny_root, tiny_checkpoint, out, "--limit", "2", "--batch-size", "1") == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"the cam map of {SECOND} is NaN or infinite" in err
    assert err.endswith(
        f"{out} keeps the 1 row(s) finished before the stop; the same command resumes "
        "from them, --force starts again"
    )
    assert [r["image"] for r in read_csv(out / "shards" / "rank0.csv")] == [FIRST]
    assert (out / "run.json").is_file() and not (out / "per_image.csv").exists()

    monkeypatch.setattr(module, "require_finite", check)
    assert evaluate(tiny_root, tiny_checkpoint, out, "--limit", "2", "--batch-size", "1") == 0
    assert "1 rows already in" in capsys.readouterr().err
    assert [r["image"] for r in read_csv(out / "per_image.csv")] == [FIRST, SECOND]
