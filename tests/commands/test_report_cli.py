"""``medxai report``: every bad input gives one line on stderr and a non-zero exit code.

Each case fails before any model runs, so these tests are fast.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from medxai.cli import main
from medxai.report.writer import default_output

DICOM_FACTORY = Path(__file__).parents[1] / "io" / "dicom_factory.py"


def dicom_factory():
    import importlib.util

    spec = importlib.util.spec_from_file_location("medxai_tests_dicom_factory", DICOM_FACTORY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def png(path: Path, height: int = 48, width: int = 40) -> Path:
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((height, width)) * 255).astype(np.uint8)).save(path)
    return path


def bomb_png(path: Path, side: int = 20_000) -> Path:
    """A PNG header declaring ``side``×``side`` pixels (400 MP), with almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def run_report(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    """Run ``medxai report`` in-process; returns (exit code, stderr)."""
    code = main(["report", *map(str, args), "--no-progress"])
    return code, capsys.readouterr().err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("medxai report: error: ")
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture
def study(tmp_path: Path) -> Path:
    folder = tmp_path / "study1"
    folder.mkdir()
    png(folder / "image1.png")
    return folder


def test_help_lists_the_contract_flags(capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["report", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for flag in (
        "--checkpoint",
        "--annotations",
        "--out",
        "--device",
        "--force",
        "--exact",
        "--show-identifiers",
    ):
        assert flag in text


def test_empty_folder(tmp_path, tiny_checkpoint, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, err = run_report(capsys, empty, "--checkpoint", tiny_checkpoint)
    assert_one_line_error(code, err, str(empty), "empty")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_no_readable_image(tmp_path, tiny_checkpoint, capsys) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    (folder / "readme.txt").write_text("hello")
    code, err = run_report(capsys, folder, "--checkpoint", tiny_checkpoint)
    assert_one_line_error(code, err, str(folder), "no readable image", "scan.png")


def write_bad_dicom(folder: Path, kind: str) -> Path:
    factory = dicom_factory()
    pixels = np.tile(np.arange(48, dtype=np.uint16) * 80, (64, 1))
    path = folder / f"{kind}.dcm"
    if kind == "truncated":
        data = factory.write_dicom(path, pixels, bits_stored=12).read_bytes()
        path.write_bytes(data[: len(data) - 2000])
    elif kind == "nopixels":
        ds = factory.make_dicom(pixels)
        del ds.PixelData
        ds.save_as(path, enforce_file_format=True)
    elif kind == "mpeg2":
        from pydicom.encaps import encapsulate
        from pydicom.uid import UID

        ds = factory.make_dicom(pixels, bits_stored=12)
        ds.file_meta.TransferSyntaxUID = UID("1.2.840.10008.1.2.4.100")
        ds.PixelData = encapsulate([b"\x00" * 64])
        ds["PixelData"].VR = "OB"
        ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize(
    ("kind", "needles"),
    [
        ("truncated", ["truncated"]),
        ("nopixels", ["no pixel data"]),
        ("mpeg2", ["unsupported transfer syntax", "MPEG2", "python-gdcm"]),
    ],
)
def test_bad_dicom(tmp_path, tiny_checkpoint, capsys, kind, needles) -> None:
    folder = tmp_path / "dicom_study"
    folder.mkdir()
    path = write_bad_dicom(folder, kind)
    code, err = run_report(capsys, folder, "--checkpoint", tiny_checkpoint)
    assert_one_line_error(code, err, path.name, *needles)


def test_decompression_bomb(tmp_path, tiny_checkpoint, capsys) -> None:
    folder = tmp_path / "bomb_study"
    folder.mkdir()
    bomb_png(folder / "huge.png")
    code, err = run_report(capsys, folder, "--checkpoint", tiny_checkpoint)
    assert_one_line_error(code, err, "huge.png", "decompression")


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        ("{not json", ["annotations.json"]),
        (
            json.dumps(
                {
                    "images": {
                        "nope.png": [
                            {
                                "shape": "box",
                                "x0": 1,
                                "y0": 1,
                                "x1": 5,
                                "y1": 5,
                                "label": "fracture",
                            }
                        ]
                    }
                }
            ),
            ["annotations.json", "images['nope.png']", "no such image"],
        ),
        (
            json.dumps(
                {
                    "images": {
                        "image1.png": [
                            {
                                "shape": "box",
                                "x0": 10,
                                "y0": 10,
                                "x1": 400,
                                "y1": 30,
                                "label": "fracture",
                            }
                        ]
                    }
                }
            ),
            ["annotations.json", "images['image1.png'][0]", "outside"],
        ),
    ],
    ids=["malformed", "unknown-image", "outside"],
)
def test_bad_annotations(study, tiny_checkpoint, capsys, content, needles) -> None:
    (study / "annotations.json").write_text(content)
    code, err = run_report(capsys, study, "--checkpoint", tiny_checkpoint)
    assert_one_line_error(code, err, *needles)
    assert sorted(p.name for p in study.parent.iterdir()) == ["study1"]


def test_explicit_annotation_file_missing(study, tiny_checkpoint, capsys) -> None:
    missing = study.parent / "marks.xml"
    code, err = run_report(capsys, study, "--checkpoint", tiny_checkpoint, "--annotations", missing)
    assert_one_line_error(code, err, "marks.xml", "not found")


@pytest.mark.parametrize("kind", ["state-dict", "text", "missing"])
def test_checkpoint_of_the_wrong_kind(study, tmp_path, capsys, kind) -> None:
    path = tmp_path / "model.ckpt"
    if kind == "missing":
        needle = "not found"
    elif kind == "state-dict":
        torch.save({"weight": torch.zeros(2, 2)}, path)
        needle = "without medxai metadata"
    else:
        path.write_text("this is not a checkpoint")
        needle = "not a PyTorch checkpoint"
    assert path.exists() == (kind != "missing")
    code, err = run_report(capsys, study, "--checkpoint", path)
    assert_one_line_error(code, err, str(path), needle)


def test_output_not_writable(study, tiny_checkpoint, tmp_path, capsys) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("a file where a folder should be")
    code, err = run_report(
        capsys, study, "--checkpoint", tiny_checkpoint, "--out", blocker / "report"
    )
    assert_one_line_error(code, err, "a_file", "cannot create output folder")


def test_output_inside_the_study_is_refused(study, tiny_checkpoint, capsys) -> None:
    code, err = run_report(capsys, study, "--checkpoint", tiny_checkpoint, "--out", study / "r")
    assert_one_line_error(code, err, "inside the study folder")
    assert sorted(p.name for p in study.iterdir()) == ["image1.png"]


def test_existing_output_needs_force(study, tiny_checkpoint, capsys) -> None:
    out = default_output(study, show_identifiers=False)  # report-<hex> beside the study
    out.mkdir()
    (out / "report.html").write_bytes(b"<p>first report</p>")
    code, err = run_report(capsys, study, "--checkpoint", tiny_checkpoint)
    assert_one_line_error(code, err, out.name, "--force")
    assert (out / "report.html").read_bytes() == b"<p>first report</p>"
    assert sorted(p.name for p in out.iterdir()) == ["report.html"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_without_a_gpu(study, tiny_checkpoint, capsys) -> None:
    code, err = run_report(capsys, study, "--checkpoint", tiny_checkpoint, "--device", "cuda")
    assert_one_line_error(code, err, "--device cuda", "no CUDA device")


def test_a_real_process_exits_non_zero_without_traceback(tmp_path, tiny_checkpoint) -> None:
    empty = tmp_path / "nothing_here"
    empty.mkdir()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "medxai.cli",
            "report",
            str(empty),
            "--checkpoint",
            str(tiny_checkpoint),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr and "nothing_here" in proc.stderr
