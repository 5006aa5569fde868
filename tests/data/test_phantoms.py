"""The phantom generator: determinism, MURA layout, truth files, locality, CLI."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medxai.cli import main
from medxai.data.phantoms import BODY_PARTS, PhantomConfig, generate, render, sample_study
from medxai.data.phantoms.writer import plan_split
from medxai.errors import MedxaiError, OutputError

SMALL = PhantomConfig(train_studies=8, valid_studies=4, size=80, seed=5, p_hardware=0.3)


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def csv_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def ellipse_mask(e: dict, shape: tuple[int, int]) -> np.ndarray:
    """Pixels whose centres lie inside ``e`` (angle counter-clockwise on screen)."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]] + 0.5
    a = math.radians(e["angle"])
    dx, dy = xs - e["cx"], ys - e["cy"]
    along = dx * math.cos(a) - dy * math.sin(a)
    across = dx * math.sin(a) + dy * math.cos(a)
    return (along / e["rx"]) ** 2 + (across / e["ry"]) ** 2 <= 1.0


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("ph") / "set", SMALL)


def study_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/XR_*/patient*/study*") if p.is_dir())


def test_same_seed_gives_identical_files(dataset: Path, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", SMALL)
    assert digest(again) == digest(dataset)
    other = generate(tmp_path / "other", replace(SMALL, seed=6))
    a, b = digest(dataset), digest(other)
    differing = [k for k in a if k.endswith(".png") and b.get(k) != a[k]]
    assert differing


def test_study_depends_only_on_its_own_seed() -> None:
    one = sample_study(SMALL, "train", 3, "XR_WRIST", True)
    bigger = replace(SMALL, train_studies=500, body_parts=("XR_HAND",))
    assert sample_study(bigger, "train", 3, "XR_WRIST", True) == one


def test_layout_is_mura(dataset: Path) -> None:
    patients: dict[str, set[int]] = {}
    for split in ("train", "valid"):
        images = csv_lines(dataset / f"{split}_image_paths.csv")
        studies = csv_lines(dataset / f"{split}_labeled_studies.csv")
        assert len(studies) == getattr(SMALL, f"{split}_studies")
        for line in images:
            assert line.startswith(f"MURA-v1.1/{split}/XR_") and line.endswith(".png")
            assert (dataset / line.removeprefix("MURA-v1.1/")).is_file()
        labels = {}
        for line in studies:
            folder, label = line.rsplit(",", 1)
            assert folder.startswith(f"MURA-v1.1/{split}/") and folder.endswith("/")
            assert label in ("0", "1")
            assert folder.rstrip("/").endswith("_positive" if label == "1" else "_negative")
            labels[folder] = label
        assert {line.rsplit("/", 1)[0] + "/" for line in images} == set(labels)
        on_disk = {str(p.relative_to(dataset)) for p in (dataset / split).rglob("image*.png")
                   if p.parent.name != "masks"}
        assert on_disk == {line.removeprefix("MURA-v1.1/") for line in images}
        patients[split] = {int(f.split("/")[3].removeprefix("patient")) for f in labels}
        n_abnormal = sum(v == "1" for v in labels.values())
        assert n_abnormal == round(SMALL.abnormal_fraction * len(labels))
    assert min(patients["train"]) == 1
    assert max(patients["train"]) < min(patients["valid"])
    meta = json.loads((dataset / "phantoms.json").read_text())
    assert meta["seed"] == SMALL.seed and meta["config"]["size"] == SMALL.size


def test_images_per_study_and_format(dataset: Path) -> None:
    for folder in study_folders(dataset):
        images = sorted(folder.glob("image*.png"))
        assert 1 <= len(images) <= 3
        for path in images:
            with Image.open(path) as im:
                assert im.mode == "L" and im.size == (SMALL.size, SMALL.size)


def test_annotations_match_labels_and_lie_on_bone(dataset: Path) -> None:
    for folder in study_folders(dataset):
        ann = json.loads((folder / "annotations.json").read_text())
        truth = json.loads((folder / "phantom.json").read_text())
        names = sorted(p.name for p in folder.glob("image*.png"))
        assert sorted(ann["images"]) == names
        abnormal = folder.name.endswith("_positive")
        assert truth["label"] == int(abnormal)
        spec = sample_study(SMALL, folder.parts[-4], _index(dataset, folder),
                            truth["body_part"], abnormal)
        for i, name in enumerate(names):
            shapes = ann["images"][name]
            if not abnormal:
                assert shapes == []
                continue
            assert len(shapes) >= 1
            assert {s["label"] for s in shapes} <= {
                "fracture line", "cortical irregularity", "bone fragment"}
            bone = render(spec, i).bone_mask
            for s in shapes:
                assert s["shape"] == "ellipse" and s["rx"] > 0 and s["ry"] > 0
                r = max(s["rx"], s["ry"])
                assert s["cx"] - r >= 0 and s["cx"] + r <= SMALL.size
                assert s["cy"] - r >= 0 and s["cy"] + r <= SMALL.size
                # the centre is on bone (within one pixel, for bones a few pixels wide)
                y, x = int(s["cy"]), int(s["cx"])
                assert bone[max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2].any(), (folder, s)


def _index(root: Path, folder: Path) -> int:
    """The plan index of a study folder (to re-sample its spec)."""
    split = folder.parts[-4]
    first = 1 if split == "train" else SMALL.train_studies + 1
    rel = str(folder.relative_to(root / split))
    # patient numbering of valid continues after train's last patient
    if split == "valid":
        first = max(p.patient for p in plan_split(SMALL, "train")) + 1
    return next(p.index for p in plan_split(SMALL, split, first) if p.folder == rel)


def test_cast_masks_follow_the_truth(dataset: Path) -> None:
    seen = 0
    for folder in study_folders(dataset):
        truth = json.loads((folder / "phantom.json").read_text())
        masks = sorted((folder / "masks").glob("image*_cast.png"))
        if truth["cast"]:
            seen += 1
            assert len(masks) == len(list(folder.glob("image*.png")))
            for m in masks:
                arr = np.asarray(Image.open(m))
                assert set(np.unique(arr)) <= {0, 255} and (arr == 255).any()
        else:
            assert not (folder / "masks").exists()
    assert seen > 0


def test_cast_frequency_follows_the_knobs() -> None:
    config = replace(SMALL, p_cast_abnormal=0.9, p_cast_normal=0.05, images_per_study=(1, 1))
    n = 200
    casts = {True: 0, False: 0}
    for i in range(n):
        abnormal = i % 2 == 0
        casts[abnormal] += sample_study(config, "train", i, BODY_PARTS[i % 4], abnormal).cast \
            is not None
    assert 0.8 <= casts[True] / (n / 2) <= 0.97
    assert casts[False] / (n / 2) <= 0.12


def test_fracture_is_local() -> None:
    config = replace(SMALL, size=112, p_cast_abnormal=0.5, p_hardware=0.0)
    for i, part in enumerate(BODY_PARTS):
        spec = sample_study(config, "valid", i, part, True)
        for v in range(len(spec.views)):
            with_f = render(spec, v)
            without = render(spec, v, fracture=False)
            diff = np.abs(with_f.pixels.astype(int) - without.pixels.astype(int))
            assert diff.sum() > 0
            inside = np.zeros(diff.shape, dtype=bool)
            for e in with_f.annotations:
                inside |= ellipse_mask(e, diff.shape)
            assert diff[inside].sum() / diff.sum() > 0.75, (part, v)
            assert without.annotations == []


def test_generate_refuses_existing_output(tmp_path: Path) -> None:
    out = tmp_path / "set"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(OutputError):
        generate(out, replace(SMALL, train_studies=1, valid_studies=1))
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_bad_knobs_are_user_errors() -> None:
    with pytest.raises(MedxaiError):
        PhantomConfig(subtlety=1.5)
    with pytest.raises(MedxaiError):
        PhantomConfig(body_parts=("XR_KNEE",))


def test_cli_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "phantoms"
    args = ["phantoms", str(out), "--studies", "6", "--seed", "2", "--size", "64",
            "--p-cast-abnormal", "0.9", "--p-cast-normal", "0.05"]
    assert main(args) == 0
    assert len(csv_lines(out / "train_labeled_studies.csv")) == 6
    assert len(csv_lines(out / "valid_labeled_studies.csv")) == 2  # ceil(6 / 3)
    before = digest(out)
    capsys.readouterr()
    assert main(args) != 0
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "already exists" in err
    assert digest(out) == before
    assert main([*args, "--seed", "3", "--force"]) == 0
    assert digest(out) != before
    assert main(["phantoms", str(tmp_path / "x"), "--subtlety", "2"]) != 0
    assert not (tmp_path / "x").exists()


def test_mura_index_reads_phantoms(dataset: Path) -> None:
    mura = pytest.importorskip("medxai.data.index")
    index = mura.build_index(dataset)
    assert index.problems == []
    for split in ("train", "valid"):
        listed = csv_lines(dataset / f"{split}_image_paths.csv")
        records = [r for r in index.images if r.split == split]
        assert len(records) == len(listed)
        studies = {r.study_id for r in records}
        assert len(studies) == getattr(SMALL, f"{split}_studies")
        positive = {r.study_id for r in records if r.label == 1}
        assert len(positive) == round(SMALL.abnormal_fraction * len(studies))
