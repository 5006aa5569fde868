"""``medxai report`` on a study that also holds hostile files: the report is written for
the good image, and every bad file is listed as skipped with its reason."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.uid import RLELossless

from medxai.cli import main


def _dicom_factory():
    path = Path(__file__).parents[1] / "io" / "dicom_factory.py"
    spec = importlib.util.spec_from_file_location("dicom_factory_for_report", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_bad_files_are_skipped_and_listed(
    tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    factory = _dicom_factory()
    study = tmp_path / "study"
    study.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((48, 40)) * 255).astype(np.uint8)).save(study / "image1.png")
    ramp = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    factory.damage_rle(factory.write_dicom(
        study / "rle.dcm", ramp, transfer_syntax=RLELossless, bits_stored=12
    ))  # fmt: skip
    factory.png_header_only(study / "bomb.png", 20_000, 20_000)
    (study / "zero.dcm").symlink_to("/dev/zero")
    (study / "loop1.dcm").symlink_to("loop2.dcm")
    (study / "loop2.dcm").symlink_to("loop1.dcm")
    (study / "loop").symlink_to("loop")  # no image suffix: ignored, still listed
    out = tmp_path / "report"

    code = main([
        "report", str(study), "--checkpoint", str(tiny_checkpoint), "--out", str(out),
        "--no-progress", "--channel-budget", "1", "--regions", "1",  # the cheapest report
    ])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Traceback" not in err
    summary = json.loads((out / "summary.json").read_text())
    assert [image["name"] for image in summary["images"]] == ["image1.png"]
    skipped = {entry["path"]: entry["reason"] for entry in summary["skipped"]}
    assert skipped.pop("rle.dcm").startswith(
        "unreadable RLE Lossless pixel data (PanicException: index out of bounds"
    )
    assert skipped == {
        "bomb.png": "image of 400,000,000 pixels exceeds the 100,000,000-pixel limit "
        "(possible decompression bomb)",
        "zero.dcm": "symbolic link to a character device, not a regular file (refused)",
        "loop1.dcm": "symbolic link loop",
        "loop2.dcm": "symbolic link loop",
    }
    assert summary["ignored"] == ["loop"]
