"""``medxai evaluate`` on a tree holding an image it must refuse: one line, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from loaders import load_test_module

from medxai.cli import main

mt = load_test_module("data/mura_tree.py", "mura_tree_for_evaluate")
hostile = load_test_module("io/dicom_factory.py", "dicom_factory_for_evaluate")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["bomb", "device link"])
def test_unreadable_image_stops_evaluate_before_anything_is_written(
    tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    root = mt.build_tree(tmp_path / "copy")
    image = root / "valid/XR_HAND/patient11186/study1_negative/image1.png"
    if kind == "bomb":
        hostile.png_header_only(image, 20_000, 20_000)  # 400 MP announced in 80 bytes
        problem = (
            "image of 400,000,000 pixels exceeds the 100,000,000-pixel limit "
            "(possible decompression bomb)"
        )
    else:
        image.unlink()
        image.symlink_to("/dev/zero")  # hashing or decoding it would never end
        problem = "symbolic link to a character device, not a regular file (refused)"
    out = tmp_path / "run"
    code = main([
        "evaluate", str(root), "--checkpoint", str(tiny_checkpoint), "--out", str(out),
        "--limit", "2", "--methods", "cam", "--no-progress",
    ])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [f"medxai evaluate: error: {image}: {problem}"]
    assert not out.exists()
