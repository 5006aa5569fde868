"""The MURA index: counts, CSV variants, folder scan, and every kind of problem."""

from __future__ import annotations

import os
from pathlib import Path

import mura_tree as mt
import pytest

from medxai.data import ImageRecord, MuraIndex, build_index
from medxai.errors import InputError


def _problems(index: MuraIndex) -> list[tuple[str, str]]:
    return [(p.path, p.problem) for p in index.problems]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The standard tree in a folder that is not named MURA-v1.1 (the CSVs say it is)."""
    return mt.build_tree(tmp_path / "renamed_copy")


@pytest.mark.parametrize("header", [True, False])
@pytest.mark.parametrize("prefix", ["MURA-v1.1", "/old/disk/MURA-v1.1", ""])
def test_exact_counts_with_and_without_header(tmp_path: Path, header: bool, prefix: str) -> None:
    root = mt.build_tree(tmp_path / "copy", header=header, csv_prefix=prefix)
    index = build_index(root)
    assert index.counts() == mt.EXPECTED_COUNTS
    assert index.problems == []
    assert len(index.images) == 22
    assert index.root == root.absolute()


def test_records_and_studies(root: Path) -> None:
    index = build_index(root)
    studies = index.studies()
    assert len(studies) == 7
    # one patient under two body parts: study numbers restart, ids stay distinct
    p1 = sorted(s for s in studies if "/patient00001/" in s)
    assert p1 == [
        "train/XR_HAND/patient00001/study1_negative",
        "train/XR_WRIST/patient00001/study1_positive",
        "train/XR_WRIST/patient00001/study2_negative",
    ]
    assert len(studies["train/XR_WRIST/patient00001/study2_negative"]) == 1
    eleven = studies["train/XR_WRIST/patient00002/study1_negative"]
    assert [r.path.name for r in eleven] == [f"image{m}.png" for m in range(1, 12)]
    first = studies[mt.WRIST_POSITIVE][0]
    assert first == ImageRecord(
        path=root.absolute() / mt.WRIST_POSITIVE / "image1.png",
        split="train", body_part="XR_WRIST", patient="patient00001",
        study_id=mt.WRIST_POSITIVE, label=1,
    )
    # masks/ and annotations.json are not images of the study
    assert all(r.path.parent.name.startswith("study") for r in index.images)


def test_folder_scan_without_csvs_gives_same_counts(tmp_path: Path) -> None:
    root = mt.build_tree(tmp_path / "copy", csvs=False)
    index = build_index(root)
    assert index.counts() == mt.EXPECTED_COUNTS
    assert len(index.images) == 22
    assert {p.path for p in index.problems} == {
        "train_image_paths.csv", "train_labeled_studies.csv",
        "valid_image_paths.csv", "valid_labeled_studies.csv",
    }
    assert all(p.problem.startswith("missing;") for p in index.problems)


def test_label_disagreement_is_reported_and_study_left_out(root: Path) -> None:
    mt.set_csv_label(root, mt.WRIST_POSITIVE, 0)
    index = build_index(root)
    assert _problems(index) == [(
        mt.WRIST_POSITIVE,
        "label disagreement: the folder name says 1 (abnormal) but "
        "train_labeled_studies.csv:2 says 0 (normal); study left out",
    )]
    assert mt.WRIST_POSITIVE not in index.studies()
    wrist = index.counts()["train"]["XR_WRIST"]
    assert wrist == {
        "studies": {"normal": 2, "abnormal": 0}, "images": {"normal": 12, "abnormal": 0}
    }


def test_label_disagreement_found_by_folder_scan_too(root: Path) -> None:
    (root / "train_image_paths.csv").unlink()
    mt.set_csv_label(root, mt.WRIST_POSITIVE, 0)
    index = build_index(root)
    assert [p.path for p in index.problems] == [mt.WRIST_POSITIVE, "train_image_paths.csv"]
    assert mt.WRIST_POSITIVE not in index.studies()


def test_missing_and_unlisted_images(root: Path) -> None:
    missing = "train/XR_HAND/patient00001/study1_negative/image2.png"
    (root / missing).unlink()
    extra = f"{mt.WRIST_POSITIVE}/image9.png"
    (root / extra).write_bytes((root / mt.WRIST_POSITIVE / "image1.png").read_bytes())
    index = build_index(root)
    assert _problems(index) == [
        (missing, "listed at train_image_paths.csv:7 but missing on disk"),
        (extra, "on disk but not listed in train_image_paths.csv; left out"),
    ]
    assert index.counts()["train"]["XR_HAND"]["images"] == {"normal": 1, "abnormal": 0}
    assert len(index.images) == 21


@pytest.mark.parametrize("mode", ["header", "full", True])
def test_corrupt_png_reported_when_checked(root: Path, mode: str | bool) -> None:
    bad = "train/XR_WRIST/patient00002/study1_negative/image5.png"
    mt.corrupt(root / bad)
    assert build_index(root).problems == []  # not opened by default
    index = build_index(root, check_readable=mode, workers=2)
    assert [p.path for p in index.problems] == [bad]
    assert index.problems[0].problem.startswith("unreadable image")
    assert index.counts()["train"]["XR_WRIST"]["images"] == {"normal": 11, "abnormal": 3}


def test_csv_oddities_are_problems(root: Path) -> None:
    with open(root / "valid_image_paths.csv", "a") as f:
        f.write("not/a/mura/path.txt\n")
        f.write("MURA-v1.1/valid/XR_HAND/patient11186/study1_negative/image1.png\n")
    with open(root / "valid_labeled_studies.csv", "a") as f:
        f.write("MURA-v1.1/valid/XR_HAND/patient11999/study1_positive/,1\n")
        f.write("MURA-v1.1/valid/XR_WRIST/patient11185/study1_positive/,2\n")
    index = build_index(root)
    assert _problems(index) == [
        ("valid/XR_HAND/patient11186/study1_negative/image1.png",
         "listed more than once (again at valid_image_paths.csv:6)"),
        ("valid/XR_HAND/patient11999/study1_positive",
         "listed at valid_labeled_studies.csv:4 but has no images"),
        ("valid/XR_WRIST/patient11185/study1_positive",
         "label '2' at valid_labeled_studies.csv:5 is not 0 or 1"),
        ("valid_image_paths.csv:5", "not a MURA image path: 'not/a/mura/path.txt'"),
    ]
    assert index.counts() == mt.EXPECTED_COUNTS


def test_study_missing_from_label_csv_keeps_folder_label(root: Path) -> None:
    csv = root / "valid_labeled_studies.csv"
    csv.write_text("".join(x + "\n" for x in csv.read_text().splitlines() if "11186" not in x))
    index = build_index(root)
    assert _problems(index) == [(
        "valid/XR_HAND/patient11186/study1_negative",
        "not listed in valid_labeled_studies.csv; label taken from the folder name (0, normal)",
    )]
    assert index.counts() == mt.EXPECTED_COUNTS


def test_patient_in_both_splits_is_reported(tmp_path: Path) -> None:
    studies = (*mt.STANDARD, mt.Study("valid", "XR_HAND", 2, 1, 0, 1))
    index = build_index(mt.build_tree(tmp_path / "copy", studies))
    assert _problems(index) == [
        ("valid/XR_HAND/patient00002", "patient also in train (train/XR_WRIST/patient00002)")
    ]


def test_filter(root: Path) -> None:
    index = build_index(root)
    train = index.filter(split="train")
    assert {r.split for r in train.images} == {"train"} and len(train.images) == 19
    assert train.counts() == {"train": mt.EXPECTED_COUNTS["train"], "valid": {}}
    wrist = index.filter(body_parts=["wrist"])
    assert wrist.counts()["valid"] == {"XR_WRIST": mt.EXPECTED_COUNTS["valid"]["XR_WRIST"]}
    both = index.filter(split="valid", body_parts=["XR_HAND", "XR_WRIST"])
    assert len(both.images) == 3
    with pytest.raises(ValueError, match="unknown split"):
        index.filter(split="test")
    with pytest.raises(ValueError, match="XR_KNEE"):
        index.filter(body_parts=["knee"])


def test_filter_keeps_matching_problems(root: Path) -> None:
    mt.set_csv_label(root, mt.WRIST_POSITIVE, 0)
    index = build_index(root)
    assert len(index.filter(split="train", body_parts=["XR_WRIST"]).problems) == 1
    assert index.filter(split="valid").problems == []
    assert index.filter(body_parts=["XR_HAND"]).problems == []


def test_bad_roots(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such folder"):
        build_index(tmp_path / "absent")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        build_index(tmp_path / "file.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"not a MURA-v1\.1 folder"):
        build_index(tmp_path / "empty")
    (tmp_path / "hollow" / "train" / "XR_WRIST").mkdir(parents=True)
    with pytest.raises(InputError, match="no images found"):
        build_index(tmp_path / "hollow")


def test_parent_folder_gets_a_hint(tmp_path: Path) -> None:
    mt.build_tree(tmp_path / "MURA-v1.1")
    with pytest.raises(InputError, match=r"did you mean .*MURA-v1\.1"):
        build_index(tmp_path)


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _outside(path: Path) -> None:
    outside = path.parent.parent / f"outside_{path.name}"
    outside.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(outside)


def _swapped(path: Path) -> None:
    """An image list that holds a label list's rows."""
    other = "valid_labeled_studies.csv" if "image" in path.name else "valid_image_paths.csv"
    path.write_bytes((path.parent / other).read_bytes())


#: (how the CSV is broken, the start of the one problem naming it)
BAD_CSVS = {
    "fifo": (_fifo, "a named pipe (FIFO), not a regular file (refused)"),
    "folder": (_folder, "a folder, not a regular file (refused)"),
    "link out of the root": (_outside, "symbolic link to a file outside"),
    "not utf-8": (
        lambda p: p.write_bytes(b"\xff\xfe\x00garbage\x81\n"),
        "not UTF-8 text (byte 0xff at offset 0)",
    ),
    "oversized": (
        lambda p: p.write_bytes(p.read_bytes() + b"\n" * 4096),
        "file of 4,",  # above the 4,096-byte limit the test sets
    ),
    "wrong columns": (_swapped, "line 2 has "),  # line 1: the header
}


@pytest.mark.parametrize("kind", sorted(BAD_CSVS))
@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("valid_image_paths.csv", "images found by scanning valid/"),
        ("valid_labeled_studies.csv", "labels taken from the study folder names"),
    ],
)
def test_each_bad_csv_is_one_problem_naming_it(
    root: Path, kind: str, name: str, fallback: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("medxai.data.mura_csv.MAX_CSV_BYTES", 4096)
    breaks, reason = BAD_CSVS[kind]
    breaks(root / name)
    index = build_index(root)
    assert [p.path for p in index.problems] == [name], _problems(index)
    problem = index.problems[0].problem
    assert problem.startswith(reason) and problem.endswith(f"; {fallback}"), problem
    assert "missing" not in problem
    assert index.counts() == mt.EXPECTED_COUNTS  # the folder scan and folder labels agree


def test_a_row_with_extra_columns_refuses_the_whole_list(root: Path) -> None:
    with open(root / "valid_image_paths.csv", "a") as f:
        f.write("MURA-v1.1/valid/XR_HAND/patient11186/study1_negative/image1.png,1\n")
    index = build_index(root)
    assert _problems(index) == [(
        "valid_image_paths.csv",
        "line 5 has 2 column(s); every row of an image list (the image path) has 1; "
        "images found by scanning valid/",
    )]
    assert index.counts() == mt.EXPECTED_COUNTS


def test_odd_folders_and_backslash_paths(root: Path) -> None:
    unlabeled = root / "train" / "XR_HAND" / "patient00009" / "study1"
    unlabeled.mkdir(parents=True)
    (unlabeled / "image1.png").write_bytes(b"")
    (root / mt.WRIST_POSITIVE / "._image1.png").write_bytes(b"")  # macOS metadata file
    (root / "train" / "README.txt").write_text("not a body part")
    csv = root / "valid_image_paths.csv"
    csv.write_text(csv.read_text().replace("/", "\\"))
    index = build_index(root)
    assert _problems(index) == [(
        "train/XR_HAND/patient00009/study1",
        "study folder name lacks the _positive/_negative suffix; skipped",
    )]
    assert index.counts() == mt.EXPECTED_COUNTS
