"""``medxai data check``: the JSON contract, the table, exit codes, and one real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from loaders import load_test_module

from medxai.cli import main

mt = load_test_module("data/mura_tree.py", "mura_tree_for_cli")
hostile = load_test_module("io/dicom_factory.py", "dicom_factory_for_cli")

CORRUPT = "train/XR_WRIST/patient00002/study1_negative/image5.png"
MISSING = "train/XR_HAND/patient00001/study1_negative/image2.png"


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    """The standard tree with a label disagreement, a corrupt PNG and a missing image."""
    root = mt.build_tree(tmp_path / "renamed_copy", header=False)
    mt.set_csv_label(root, mt.WRIST_POSITIVE, 0)
    mt.corrupt(root / CORRUPT)
    (root / MISSING).unlink()
    return root


def test_json_is_exactly_the_contract(damaged: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "check", str(damaged), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    expected = json.loads(json.dumps(mt.EXPECTED_COUNTS))
    train = expected["train"]
    train["XR_WRIST"] = {
        "studies": {"normal": 2, "abnormal": 0}, "images": {"normal": 11, "abnormal": 0}
    }
    train["XR_HAND"]["images"]["normal"] = 1
    assert out == {
        "splits": expected,
        "problems": [
            {"path": MISSING, "problem": "listed at train_image_paths.csv:6 but missing on disk"},
            {"path": mt.WRIST_POSITIVE, "problem": (
                "label disagreement: the folder name says 1 (abnormal) but "
                "train_labeled_studies.csv:1 says 0 (normal); study left out")},
            {"path": CORRUPT, "problem": "unreadable image (OSError: Truncated File Read)"},
        ],
    }


def test_clean_tree_json(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = mt.build_tree(tmp_path / "copy")
    assert main(["data", "check", str(root), "--json", "--decode", "full"]) == 0
    assert json.loads(capsys.readouterr().out) == {"splits": mt.EXPECTED_COUNTS, "problems": []}


def test_table(damaged: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "check", str(damaged)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines.index(next(x for x in lines if x.startswith("body part")))
    assert lines[header].split() == [
        "body", "part", "train", "studies", "valid", "studies", "train", "images", "valid", "images"
    ]
    assert lines[header + 1].split() == ["XR_ELBOW", "0/1", "0/0", "0/2", "0/0"]
    assert lines[header + 2].split() == ["XR_HAND", "1/0", "1/0", "1/0", "1/0"]
    assert lines[header + 3].split() == ["XR_WRIST", "2/0", "0/1", "11/0", "0/2"]
    assert lines[header + 4].split() == ["total", "4", "2", "14", "3"]
    assert lines[header + 5] == "problems (3):"
    assert lines[header + 6].startswith(f"  {MISSING}: listed at")


def test_decode_none_and_strict(damaged: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "check", str(damaged), "--json", "--decode", "none"]) == 0
    assert len(json.loads(capsys.readouterr().out)["problems"]) == 2
    assert main(["data", "check", str(damaged), "--strict"]) == 1
    capsys.readouterr()


@pytest.mark.parametrize("name", ["absent", "empty"])
def test_bad_root_is_one_line_exit_2(tmp_path: Path, name: str, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["data", "check", str(tmp_path / name)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("medxai data: error: ")


def test_subprocess_end_to_end(tmp_path: Path) -> None:
    root = mt.build_tree(tmp_path / "copy")
    done = subprocess.run(
        [sys.executable, "-m", "medxai.cli", "data", "check", str(root), "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"splits": mt.EXPECTED_COUNTS, "problems": []}


@pytest.mark.parametrize("mode", ["header", "full"])
def test_hostile_images_are_problems_not_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    root = mt.build_tree(tmp_path / "copy")
    bomb = "train/XR_WRIST/patient00002/study1_negative/image3.png"
    loop = "train/XR_WRIST/patient00002/study1_negative/image4.png"
    device = "valid/XR_HAND/patient11186/study1_negative/image1.png"
    hostile.png_header_only(root / bomb, 20_000, 20_000)  # 400 MP announced in 80 bytes
    (root / loop).unlink()
    (root / loop).symlink_to(root / loop)
    (root / device).unlink()
    (root / device).symlink_to("/dev/zero")
    assert main(["data", "check", str(root), "--decode", mode, "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert json.loads(out)["problems"] == [
        {"path": bomb, "problem": (
            "image of 400,000,000 pixels exceeds the 100,000,000-pixel limit "
            "(possible decompression bomb)"
        )},
        {"path": loop, "problem": "symbolic link loop"},
        {"path": device, "problem": (
            "symbolic link to a character device, not a regular file (refused)"
        )},
    ]  # fmt: skip
