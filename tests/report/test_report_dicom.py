"""End to end on DICOM studies built with pydicom, and on pydicom's own CR files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom.data
import pytest
from PIL import Image
from pydicom.uid import JPEG2000Lossless, generate_uid
from report_helpers import FAST, load_dicom_factory, pdf_text

from medxai.io.images import scan_study
from medxai.report import ReportOptions, build_report

factory = load_dicom_factory()
PATIENT_VALUES = [v for v in factory.PATIENT.values()]
H, W = 64, 48
SPACING = (0.2, 0.2)


def bone_mask() -> np.ndarray:
    """A vertical "bone" band in the middle third of the columns."""
    mask = np.zeros((H, W), bool)
    mask[:, W // 3 : 2 * W // 3] = True
    return mask


def stored(dense: int, air: int, dtype=np.uint16) -> np.ndarray:
    """Stored values: ``dense`` on the bone, ``air`` elsewhere, with a gentle ramp."""
    ramp = np.linspace(0, 40, W)[None, :].astype(np.int64)
    values = np.where(bone_mask(), dense, air) + ramp
    return values.astype(dtype)


def make_study(folder: Path) -> dict[str, str]:
    """Four files of one study; returns image name → what it exercises."""
    folder.mkdir(parents=True)
    uid = generate_uid()
    common = {"study_uid": uid, "pixel_spacing": SPACING}
    # CR MONOCHROME1, 12-bit, with a window: low stored values are bright (dense).
    factory.write_dicom(
        folder / "cr_mono1.dcm",
        stored(600, 3400),
        photometric="MONOCHROME1",
        bits_stored=12,
        window=(2000, 3600),
        **common,
    )
    # A VOI LUT sequence mapping 0..4095 to 0..255, linearly.
    lut = (np.arange(4096) // 16).tolist()
    factory.write_dicom(
        folder / "voi_lut.dcm",
        stored(3300, 500),
        bits_stored=12,
        voi_lut=(lut, 0, 8),
        **common,
    )
    # JPEG 2000 lossless, MONOCHROME2, 12-bit, no window (full range).
    factory.write_dicom(
        folder / "j2k.dcm",
        stored(3500, 300),
        bits_stored=12,
        transfer_syntax=JPEG2000Lossless,
        **common,
    )
    # Two frames: the second is the first mirrored.
    frame = stored(3000, 600)
    factory.write_dicom(
        folder / "two_frames.dcm",
        np.stack([frame, frame[:, ::-1]]),
        bits_stored=12,
        **common,
    )
    return {
        "cr_mono1.dcm": "MONOCHROME1",
        "voi_lut.dcm": "VOI LUT",
        "j2k.dcm": "JPEG 2000",
        "two_frames.dcm#frame1": "frame 1",
        "two_frames.dcm#frame2": "frame 2",
    }


@pytest.fixture(scope="module")
def dicom_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("dicom") / "wrist_study"
    return folder, make_study(folder)


@pytest.fixture(scope="module")
def dicom_report(dicom_study, tiny_checkpoint: Path):
    folder, _ = dicom_study
    return build_report(ReportOptions(study=folder, checkpoint=tiny_checkpoint, **FAST))


def test_displayed_arrays_have_the_right_polarity_and_range(dicom_study) -> None:
    folder, expected = dicom_study
    images = {image.name: image for image in scan_study(folder).images}
    assert set(images) == set(expected)
    bone = bone_mask()
    for name, image in images.items():
        pixels = image.pixels
        assert pixels.dtype == np.float32 and pixels.shape == (H, W), name
        assert pixels.min() >= 0.0 and pixels.max() <= 1.0, name
        if name.endswith("#frame2"):
            bone_px, air_px = pixels[:, ::-1][bone], pixels[:, ::-1][~bone]
        else:
            bone_px, air_px = pixels[bone], pixels[~bone]
        # bright = dense in every file, whatever its photometric interpretation
        assert bone_px.mean() > air_px.mean() + 0.3, (name, expected[name])
        assert pixels.max() - pixels.min() > 0.5, name
        assert image.pixel_spacing_mm == pytest.approx(SPACING), name
    # the two frames are mirror images of each other
    np.testing.assert_allclose(
        images["two_frames.dcm#frame1"].pixels[:, ::-1], images["two_frames.dcm#frame2"].pixels
    )


def test_dicom_report(dicom_report, dicom_study) -> None:
    folder, expected = dicom_study
    summary = dicom_report.summary
    assert sorted(image["name"] for image in summary["images"]) == sorted(expected)
    # without --show-identifiers the folder's name is replaced by a neutral label
    assert summary["study"]["id"].startswith("study-") and "wrist_study" not in str(summary)
    assert summary["study"]["study_instance_uid"]
    assert "identifiers" not in summary["study"]
    frames = {image["name"]: image["frame"] for image in summary["images"]}
    assert frames["two_frames.dcm#frame1"] == 0 and frames["two_frames.dcm#frame2"] == 1
    assert frames["j2k.dcm"] is None
    for image in summary["images"]:
        assert image["pixel_spacing_mm"] == pytest.approx(SPACING)
        for region in image["regions"]:  # spacing known → crop size in mm
            side = region["box"]["col1"] - region["box"]["col0"]
            assert region["size_mm"] == pytest.approx(side * SPACING[1])
    inputs = [e for e in summary["inputs"] if e["role"] == "image"]
    assert sorted(Path(e["path"]).name for e in inputs) == sorted(p.name for p in folder.iterdir())


def assert_no_identifiers(out: Path, values: list[str]) -> None:
    """No identifier value in any file of the report (PDF streams inflated, PNG text)."""
    for path in out.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".pdf":
            data = pdf_text(data)
        if path.suffix == ".png":
            with Image.open(path) as png:
                data += repr(png.info).encode()
        for value in values:
            for form in {value, value.replace("^", " ")}:
                assert form.encode() not in data, (path.name, value)


def test_no_patient_identifiers_by_default(dicom_report) -> None:
    assert_no_identifiers(dicom_report.out, PATIENT_VALUES)
    if dicom_report.pdf.exists():  # the search reads the PDF's text: it finds the verdict
        verdict = dicom_report.summary["verdict"]["text"]
        assert verdict.encode() in pdf_text(dicom_report.pdf.read_bytes())


def test_pydicom_cr_files(tmp_path: Path, tiny_checkpoint: Path) -> None:
    """pydicom's own CR files (one study, three series) give a report without identifiers."""
    root = Path(pydicom.data.__file__).parent / "test_files" / "dicomdirtests" / "77654033"
    files = sorted(root.glob("CR*/*"))
    if not files:
        pytest.skip(f"pydicom's CR test files are not installed under {root}")
    study = tmp_path / "pydicom_cr"
    study.mkdir()
    for path in files:
        shutil.copy(path, study / f"{path.parent.name}_{path.name}")
    images = scan_study(study).images
    assert len(images) == len(files)
    for image in images:
        assert image.pixels.dtype == np.float32
        assert 0.0 <= image.pixels.min() < image.pixels.max() <= 1.0
    result = build_report(
        ReportOptions(study=study, checkpoint=tiny_checkpoint, top_regions=1, **FAST)
    )
    assert len(result.summary["images"]) == len(files)
    names = {image.identifiers.get("PatientName") for image in images} - {None}
    ids = {image.identifiers.get("PatientID") for image in images} - {None}
    assert names and ids
    assert_no_identifiers(result.out, sorted(names | ids))
