"""``medxai evaluate`` end to end on a tiny set: outputs, NaN rules, resume, settings check."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
from runs import assert_tables_equal, evaluate, read_csv

from medxai.cli import main
from medxai.evaluate.catalog import table_columns
from medxai.io.images import natural_key


def _data_lines(path: Path) -> int:
    return len(path.read_text().splitlines()) - 1


def test_fresh_run_writes_every_output(fresh: Path) -> None:
    rows = read_csv(fresh / "per_image.csv")
    assert list(rows[0]) == table_columns(["insertion", "deletion", "localisation", "confidence"])
    assert len(rows) == 8 and {r["method"] for r in rows} == {"cam"}
    assert [r["image"] for r in rows] == sorted((r["image"] for r in rows), key=natural_key)
    assert all(r["image"].startswith("valid/") for r in rows)
    for row in rows:
        assert math.isclose(
            float(row["ins_del"]),
            float(row["insertion_auc"]) - float(row["deletion_auc"]),
            abs_tol=1e-6,
        )
        assert 0 <= float(row["score"]) <= 1 and row["target"] == "1"
    annotated = [r for r in rows if r["relevance_mass"] != "nan"]
    assert sorted(r["image"].rsplit("/", 1)[1] for r in annotated) == ["image1.png"] * 2
    assert all(r["pointing_game"] in ("0", "1") for r in annotated)
    cast = [r for r in rows if r["cast_mass"] != "nan"]
    assert len(cast) == 1 and cast[0]["image"].endswith("patient11186/study1_positive/image2.png")
    assert 0 <= float(cast[0]["cast_mass"]) <= 1

    summary = read_csv(fresh / "summary.csv")
    groups = {r["group"] for r in summary}
    assert groups == {"all", "XR_HAND", "XR_WRIST"}
    mass = next(r for r in summary if r["group"] == "all" and r["metric"] == "relevance_mass")
    assert mass["n"] == "2" and float(mass["ci_low"]) <= float(mass["mean"]) <= float(
        mass["ci_high"]
    )
    assert "## all" in (fresh / "summary.md").read_text()
    assert (fresh / "curves.png").read_bytes()[:4] == b"\x89PNG"
    with np.load(fresh / "curves.npz") as curves:
        assert curves["insertion:cam"].shape == (5,) and curves["fractions"][-1] == 1.0
    assert _data_lines(fresh / "shards" / "rank0.csv") == 8
    assert _data_lines(fresh / "curves" / "rank0.csv") == 16


def test_rerun_with_a_larger_limit_extends_to_the_fresh_table(
    fresh: Path, tiny_root: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert evaluate(tiny_root, tiny_checkpoint, out, "--limit", "3") == 0
    assert len(read_csv(out / "per_image.csv")) == 3
    assert evaluate(tiny_root, tiny_checkpoint, out) == 0
    assert _data_lines(out / "shards" / "rank0.csv") == 8  # the first 3 were not redone
    assert_tables_equal(read_csv(out / "per_image.csv"), read_csv(fresh / "per_image.csv"))
    assert_tables_equal(read_csv(out / "summary.csv"), read_csv(fresh / "summary.csv"))


def test_a_killed_run_loses_only_its_partial_line(
    fresh: Path, tiny_root: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(fresh, out)
    for name in ("per_image.csv", "summary.csv", "summary.md", "curves.png", "curves.npz"):
        (out / name).unlink()
    shard = out / "shards" / "rank0.csv"
    lines = shard.read_bytes().splitlines(keepends=True)
    shard.write_bytes(b"".join(lines[:4]) + lines[4][:20])  # header, 3 rows, a partial row
    assert evaluate(tiny_root, tiny_checkpoint, out) == 0
    assert _data_lines(shard) == 8 and shard.read_bytes().endswith(b"\n")
    assert_tables_equal(read_csv(out / "per_image.csv"), read_csv(fresh / "per_image.csv"))
    assert_tables_equal(read_csv(out / "summary.csv"), read_csv(fresh / "summary.csv"))
    with np.load(out / "curves.npz") as a, np.load(fresh / "curves.npz") as b:
        assert np.allclose(a["deletion:cam"], b["deletion:cam"], atol=1e-5)


def test_changed_settings_are_refused_unless_forced(
    fresh: Path, tiny_root: Path, tiny_checkpoint: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    shutil.copytree(fresh, out)
    capsys.readouterr()
    assert evaluate(tiny_root, tiny_checkpoint, out, "--steps", "3", "--limit", "2") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "steps differ" in err and "--force" in err
    assert evaluate(tiny_root, tiny_checkpoint, out, "--steps", "3", "--limit", "2", "--force") == 0
    assert len(read_csv(out / "per_image.csv")) == 2
    assert _data_lines(out / "shards" / "rank0.csv") == 2


def test_poly_cam_fast_mode_is_marked_approximate(
    tiny_root: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "evaluate", str(tiny_root), "--checkpoint", str(tiny_checkpoint), "--out", str(out),
            "--methods", "cam,pcam+-", "--metrics", "deletion", "--steps", "2",
            "--channel-budget", "2", "--limit", "2", "--target", "predicted", "--no-progress",
        ]
    )  # fmt: skip
    assert code == 0
    rows = read_csv(out / "per_image.csv")
    assert [(r["method"], r["approximate"]) for r in rows] == [
        ("cam", "0"),
        ("cam", "0"),
        ("pcam±", "1"),
        ("pcam±", "1"),
    ]
    assert list(rows[0])[-1] == "deletion_auc"


def test_sensitivity_max_is_opt_in_and_seeded_per_image(
    tiny_root: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    extra = ("--metrics", "sensitivity-max", "--sensitivity-samples", "2", "--limit", "2")
    assert evaluate(tiny_root, tiny_checkpoint, tmp_path / "a", *extra) == 0
    assert evaluate(tiny_root, tiny_checkpoint, tmp_path / "b", *extra, "--batch-size", "1") == 0
    a, b = read_csv(tmp_path / "a" / "per_image.csv"), read_csv(tmp_path / "b" / "per_image.csv")
    assert list(a[0])[-1] == "sensitivity_max" and all(float(r["sensitivity_max"]) >= 0 for r in a)
    assert_tables_equal(a, b)


def test_a_phantom_set_is_evaluated_against_its_own_truth_files(
    tiny_checkpoint: Path, tmp_path: Path
) -> None:
    root = tmp_path / "phantoms"
    assert (
        main(["phantoms", str(root), "--studies", "3", "--valid-studies", "2", "--size", "96"]) == 0
    )
    assert evaluate(root, tiny_checkpoint, tmp_path / "out", "--steps", "2") == 0
    rows = read_csv(tmp_path / "out" / "per_image.csv")
    annotated = set()
    for path in (root / "valid").glob("*/*/*/annotations.json"):
        shapes = json.loads(path.read_text())["images"]
        study = path.parent.relative_to(root).as_posix()
        annotated |= {f"{study}/{name}" for name, items in shapes.items() if items}
    assert annotated  # the set holds abnormal studies with fracture ellipses
    assert {r["image"] for r in rows if r["relevance_mass"] != "nan"} == annotated
