"""``medxai report STUDY_DIR --dicom``: map objects, Secondary Captures and a TID 1500 SR
that dciodvfy accepts, that read back with pydicom and highdicom, and that reference
their sources."""

from __future__ import annotations

import json
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pacs_helpers import (
    FRACTIONAL_TOLERANCE,
    FRAMES,
    H,
    W,
    dciodvfy_errors,
    dicom_factory,
    write_cr_study,
    write_multiframe_study,
)
from pydicom.uid import XRayAngiographicImageStorage, generate_uid
from report_runs import run_report

from medxai.pacs.maps import (
    MAX_FRACTIONAL_VALUE,
    PARAMETRIC_MAP,
    SEGMENTATION,
    MapDescription,
    build_map,
    decoded_values,
    map_object_kind,
)
from medxai.pacs.outputs import describe
from medxai.pacs.sources import SourceImage, read_header
from medxai.pacs.sr import STUDY_GROUP, study_probability
from medxai.pacs.uids import UID_ROOT, is_uid, new_uid


@pytest.fixture(scope="module")
def dicom_report(cr_study, tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory):
    folder, _ = cr_study
    out = tmp_path_factory.mktemp("dicom_report") / "report"
    run = run_report(
        [str(folder), "--checkpoint", str(tiny_checkpoint), "--out", str(out), "--dicom"]
    )
    assert run.code == 0, run.stderr
    summary = json.loads((out / "summary.json").read_text())
    return out, summary, run.analyses[0]


def read(out: Path, summary: dict, kind: str) -> list[tuple[dict, pydicom.Dataset]]:
    return [(e, pydicom.dcmread(out / e["file"])) for e in summary["dicom"] if e["object"] == kind]


@pytest.mark.slow
def test_objects_written_and_valid(dicom_report, cr_study) -> None:
    out, summary, _ = dicom_report
    folder, study_uid = cr_study
    kinds = [entry["object"] for entry in summary["dicom"]]
    # 2 methods × 2 images, an overlay per image, one report
    assert sorted(kinds) == sorted(
        [SEGMENTATION] * 4 + ["secondary-capture"] * 2 + ["structured-report"]
    )
    assert sorted(p.name for p in (out / "dicom").iterdir()) == sorted(
        Path(e["file"]).name for e in summary["dicom"]
    )
    source = pydicom.dcmread(folder / "cr1.dcm")
    source_uids = {str(source.SeriesInstanceUID), str(source.SOPInstanceUID)}
    series = set()
    for entry in summary["dicom"]:
        path = out / entry["file"]
        assert dciodvfy_errors(path) == [], entry["file"]
        ds = pydicom.dcmread(path)
        # same study and patient, fresh UIDs under the documented root
        assert ds.StudyInstanceUID == study_uid
        assert (ds.PatientName, ds.PatientID) == (source.PatientName, source.PatientID)
        assert ds.SOPInstanceUID.startswith(UID_ROOT) and ds.SeriesInstanceUID.startswith(UID_ROOT)
        assert not {str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID)} & source_uids
        assert ds.Manufacturer == "medxai"
        series.add((entry["object"], entry.get("method"), str(ds.SeriesInstanceUID)))
    # one series per method's maps, one for the overlays, one for the report
    assert len({uid for _, _, uid in series}) == 4


@pytest.mark.slow
def test_identifiers_only_in_the_dicom_objects(dicom_report) -> None:
    """The objects carry the patient module; the HTML and JSON still hide identifiers."""
    out, summary, _ = dicom_report
    values = list(dicom_factory().PATIENT.values())
    for name in ("report.html", "summary.json"):
        text = (out / name).read_text(encoding="utf-8")
        for value in values:
            assert value not in text and value.replace("^", " ") not in text, (name, value)
    for entry in summary["dicom"]:
        data = (out / entry["file"]).read_bytes()
        assert all(value.encode() in data for value in values), entry["file"]


@pytest.mark.slow
def test_map_objects_hold_the_maps_and_reference_their_source(dicom_report, cr_study) -> None:
    out, summary, analysis = dicom_report
    folder, _ = cr_study
    maps = {(a.image.name, label): m for a in analysis.images for label, m in a.maps.items()}
    sources = {
        str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID): p.name
        for p in folder.glob("*.dcm")
    }
    for entry, ds in read(out, summary, SEGMENTATION):
        seg = hd.seg.Segmentation.from_dataset(ds)
        assert seg.SegmentationType == "FRACTIONAL"
        name = sources[entry["source"]]
        referenced = ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0]
        assert referenced.ReferencedSOPInstanceUID == entry["source"]
        derivation = ds.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0]
        assert derivation.SourceImageSequence[0].ReferencedSOPInstanceUID == entry["source"]
        values = decoded_values(ds)
        expected = maps[(name, entry["method"])]
        assert values.shape == (1, H, W) and ds.MaximumFractionalValue == MAX_FRACTIONAL_VALUE
        np.testing.assert_allclose(values[0], expected, atol=FRACTIONAL_TOLERANCE)
        assert expected.max() - expected.min() > 0.1  # a real map, not a constant
        label = "PCAMPM_APPROX" if entry["method"] == "PCAM±" else "CAM"
        assert ds.ContentLabel == label
        if entry["method"] == "PCAM±":
            description = "PCAM+- saliency 0-1; approx.: fast mode, 1 channel per layer"
            assert ds.ContentDescription == description
        else:
            assert ds.ContentDescription == "CAM saliency 0-1 for 'abnormal'"
        assert ds.SegmentSequence[0].SegmentLabel.endswith("saliency for 'abnormal'")


@pytest.mark.slow
def test_secondary_captures_are_overlays(dicom_report) -> None:
    out, summary, analysis = dicom_report
    captures = read(out, summary, "secondary-capture")
    assert len(captures) == len(analysis.images)
    for (entry, ds), item in zip(captures, analysis.images, strict=True):
        assert ds.BurnedInAnnotation == "YES" and ds.PhotometricInterpretation == "RGB"
        assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == entry["source"]
        rgb = ds.pixel_array.astype(np.float32) / 255.0
        assert rgb.shape == (H, W, 3)
        # where the map is 0 the overlay shows the radiograph unaltered (grey)
        cold = item.maps["PCAM±"] < 1e-6
        if cold.any():
            np.testing.assert_allclose(rgb[cold][:, 0], item.image.pixels[cold], atol=1 / 255)


def measurements(group: pydicom.Dataset) -> dict[tuple[str, str | None], float]:
    """A measurement group's numbers: (code value, method code value or None) → value."""
    found = {}
    for item in group.ContentSequence:
        if item.ValueType != "NUM":
            continue
        methods = [
            c.ConceptCodeSequence[0].CodeValue
            for c in item.get("ContentSequence", [])
            if c.ValueType == "CODE" and c.ConceptNameCodeSequence[0].CodeValue == "370129005"
        ]
        key = (item.ConceptNameCodeSequence[0].CodeValue, methods[0] if methods else None)
        found[key] = float(item.MeasuredValueSequence[0].NumericValue)
    return found


@pytest.mark.slow
def test_structured_report(dicom_report) -> None:
    out, summary, analysis = dicom_report
    ((_, ds),) = read(out, summary, "structured-report")
    hd.sr.ComprehensiveSR.from_dataset(ds)
    assert ds.SOPClassUID == pydicom.uid.ComprehensiveSRStorage
    assert study_probability(ds) == pytest.approx(summary["verdict"]["probability"], rel=1e-12)
    text = ds.to_json()
    sha = next(e["sha256"] for e in summary["inputs"] if e["role"] == "checkpoint")
    assert f"checkpoint sha256 {sha}" in text and STUDY_GROUP in text
    (container,) = [c for c in ds.ContentSequence if c.ValueType == "CONTAINER"]
    groups = [g for g in container.ContentSequence if g.ValueType == "CONTAINER"]
    assert len(groups) == len(analysis.images) + 1
    # the annotated image: its probability, and the three localisation figures of both
    # methods, each referencing the image
    values = measurements(groups[0])
    first = analysis.images[0]
    assert values.pop(("122157", None)) == pytest.approx(first.probability, rel=1e-9)
    codes = {"pointing_game": "PG", "relevance_mass": "RM", "iou_otsu": "IOU"}
    methods = {"CAM": "CAM", "PCAM±": "PCAMPM"}
    expected = {
        (codes[key], methods[label]): float(value)
        for label, row in first.metrics.items()
        for key, value in row.items()
    }
    assert values == pytest.approx(expected, rel=1e-9)
    source_uid = summary["dicom"][0]["source"]
    for number in (c for c in groups[0].ContentSequence if c.ValueType == "NUM"):
        (image,) = [c for c in number.ContentSequence if c.ValueType == "IMAGE"]
        assert image.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == source_uid
    # the second image is not annotated: its probability only
    assert measurements(groups[1]) == {
        ("122157", None): pytest.approx(analysis.images[1].probability, rel=1e-9)
    }


def test_png_inputs_with_dicom_fail_cleanly(tmp_path: Path, tiny_checkpoint: Path) -> None:
    from PIL import Image

    study = tmp_path / "png_study"
    study.mkdir()
    Image.fromarray(np.full((32, 32), 128, np.uint8)).save(study / "image.png")
    out = tmp_path / "out"
    run = run_report(
        [str(study), "--checkpoint", str(tiny_checkpoint), "--out", str(out), "--dicom"]
    )
    assert run.code == 2
    assert len(run.stderr.strip().splitlines()) == 1
    assert "image.png" in run.error and "--dicom needs DICOM inputs" in run.error
    assert not out.exists()


def test_images_of_two_studies_are_refused(tmp_path: Path, tiny_checkpoint: Path) -> None:
    study = tmp_path / "mixed"
    write_cr_study(study)
    factory = dicom_factory()
    factory.write_dicom(study / "other.dcm", np.full((H, W), 900, np.uint16), bits_stored=12)
    run = run_report(
        [str(study), "--checkpoint", str(tiny_checkpoint), "--out", str(tmp_path / "o"), "--dicom"]
    )
    assert run.code == 2 and "2 studies" in run.error
    assert not (tmp_path / "o").exists()


def placed_source(ds: pydicom.Dataset, path: Path, frames: list[int]) -> SourceImage:
    """``ds`` given a Frame of Reference and one plane (position, orientation, thickness)
    at the top level, saved to ``path`` and read back as a source of ``frames``."""
    ds.FrameOfReferenceUID = generate_uid()
    ds.ImagePositionPatient = [0.0, 0.0, 0.0]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.SliceThickness = 1.0
    ds.save_as(path, enforce_file_format=True)
    return SourceImage(path, read_header(path), frames)


def geometry_source(tmp_path: Path) -> SourceImage:
    """A CT-like single-frame source with patient geometry."""
    ds = dicom_factory().make_dicom(
        np.full((H, W), 1000, np.uint16), modality="CT", pixel_spacing=(0.5, 0.5)
    )
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = pydicom.uid.CTImageStorage
    return placed_source(ds, tmp_path / "source.dcm", [0])


def test_parametric_map_for_a_source_with_patient_geometry(tmp_path: Path) -> None:
    source = geometry_source(tmp_path)
    assert map_object_kind(source) == PARAMETRIC_MAP
    saliency = np.linspace(0, 1, H * W, dtype=np.float32).reshape(H, W)
    what = MapDescription("PCAM±", "abnormal")
    obj = build_map(source, [saliency], what, new_uid(), 9101, new_uid())
    path = tmp_path / "pm.dcm"
    obj.save_as(path, enforce_file_format=True)
    back = pydicom.dcmread(path)
    hd.pm.ParametricMap.from_dataset(back)
    np.testing.assert_array_equal(decoded_values(back)[0], saliency)  # float32, exact
    assert back.FrameOfReferenceUID == source.header.FrameOfReferenceUID
    mapping = back.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
    assert (mapping.RealWorldValueSlope, mapping.RealWorldValueIntercept) == (1.0, 0.0)
    assert mapping.LUTLabel == "PCAMPM" and back.ContentLabel == "PCAMPM"
    assert dciodvfy_errors(path) == []


@pytest.fixture(scope="module")
def multiframe_report(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory):
    """``report --dicom`` on a study of a multi-frame XA (no patient geometry) and a
    multi-frame Enhanced CT (with it)."""
    folder = tmp_path_factory.mktemp("multiframe") / "study"
    write_multiframe_study(folder)
    out = folder.parent / "report"
    run = run_report(
        [str(folder), "--checkpoint", str(tiny_checkpoint), "--out", str(out), "--dicom"]
    )
    assert run.code == 0, run.stderr
    summary = json.loads((out / "summary.json").read_text())
    return folder, out, summary, run.analyses[0]


def frame_maps(analysis, source: Path, label: str) -> dict[int, np.ndarray]:
    """The report's ``label`` maps of the frames of ``source``: frame number (1-based) → map."""
    return {
        a.image.frame + 1: a.maps[label]
        for a in analysis.images
        if Path(a.image.source).name == source.name
    }


def source_frames(ds: pydicom.Dataset) -> list[tuple[str, int]]:
    """Each frame's (referenced SOP Instance UID, referenced frame number), in frame order."""
    found = []
    for item in ds.PerFrameFunctionalGroupsSequence:
        (reference,) = item.DerivationImageSequence[0].SourceImageSequence
        uid, frame = reference.ReferencedSOPInstanceUID, reference.ReferencedFrameNumber
        found.append((str(uid), int(frame)))
    return found


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "kind", "tolerance"),
    [("ct.dcm", PARAMETRIC_MAP, 0.0), ("xa.dcm", SEGMENTATION, FRACTIONAL_TOLERANCE)],
)
def test_multi_frame_sources_get_a_map_frame_per_source_frame(
    multiframe_report, name: str, kind: str, tolerance: float
) -> None:
    """With patient geometry a Parametric Map, without a FRACTIONAL Segmentation: one
    frame per source frame, each derived from its source frame and holding its map."""
    folder, out, summary, analysis = multiframe_report
    source = pydicom.dcmread(folder / name)
    uid = str(source.SOPInstanceUID)
    entries = [e for e in summary["dicom"] if e.get("source") == uid and "map_" in e["file"]]
    assert sorted(e["method"] for e in entries) == ["CAM", "PCAM±"]
    for entry in entries:
        path = out / entry["file"]
        assert entry["object"] == kind
        assert dciodvfy_errors(path) == [], entry["file"]
        ds = pydicom.dcmread(path)
        reader = hd.pm.ParametricMap if kind == PARAMETRIC_MAP else hd.seg.Segmentation
        reader.from_dataset(ds)
        assert int(ds.NumberOfFrames) == FRAMES
        references = source_frames(ds)
        assert sorted(references) == [(uid, k) for k in range(1, FRAMES + 1)]
        referenced = ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0]
        assert referenced.ReferencedSOPInstanceUID == uid
        assert referenced.ReferencedSOPClassUID == source.SOPClassUID
        maps = frame_maps(analysis, folder / name, entry["method"])
        assert sorted(maps) == list(range(1, FRAMES + 1))
        values = decoded_values(ds)
        for index, (_, frame) in enumerate(references):
            np.testing.assert_allclose(values[index], maps[frame], rtol=0, atol=tolerance)
        # the frames differ, so a frame mixed up with another would be caught
        assert np.abs(maps[1] - maps[FRAMES]).max() > 2 * FRACTIONAL_TOLERANCE + 1e-3
        if kind == PARAMETRIC_MAP:
            assert ds.FrameOfReferenceUID == source.FrameOfReferenceUID
            positions = [
                float(item.PlanePositionSequence[0].ImagePositionPatient[2])
                for item in ds.PerFrameFunctionalGroupsSequence
            ]
            assert positions == [2.0 * (frame - 1) for _, frame in references]
        else:
            assert "FrameOfReferenceUID" not in ds
            seg = hd.seg.Segmentation.from_dataset(ds)
            for frame in range(1, FRAMES + 1):
                by_frame = seg.get_pixels_by_source_frame(
                    uid, source_frame_numbers=[frame], rescale_fractional=True
                )
                np.testing.assert_allclose(by_frame[0, ..., 0], maps[frame], atol=tolerance)


@pytest.mark.slow
def test_multi_frame_sources_get_a_secondary_capture_per_frame(multiframe_report) -> None:
    folder, out, summary, _ = multiframe_report
    captures = [e for e in summary["dicom"] if e["object"] == "secondary-capture"]
    for name in ("xa.dcm", "ct.dcm"):
        uid = str(pydicom.dcmread(folder / name, stop_before_pixels=True).SOPInstanceUID)
        frames = sorted(e["frame"] for e in captures if e["source"] == uid)
        assert frames == list(range(FRAMES))
    for entry in captures:
        assert dciodvfy_errors(out / entry["file"]) == [], entry["file"]
    (report,) = [e for e in summary["dicom"] if e["object"] == "structured-report"]
    assert dciodvfy_errors(out / report["file"]) == []


def test_multi_frame_with_one_position_for_all_frames(tmp_path: Path) -> None:
    """A multi-frame XA with a Frame of Reference and one plane position at the top level
    (no position per frame) gets a Segmentation in that Frame of Reference, frame by frame."""
    pixels = np.stack([np.full((H, W), 900 + 100 * k, np.uint16) for k in range(FRAMES)])
    ds = dicom_factory().make_dicom(pixels, modality="XA", pixel_spacing=(0.2, 0.2))
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = XRayAngiographicImageStorage
    source = placed_source(ds, tmp_path / "xa.dcm", list(range(FRAMES)))
    assert map_object_kind(source) == SEGMENTATION
    maps = [np.full((H, W), (k + 1) / (FRAMES + 1), np.float32) for k in range(FRAMES)]
    obj = build_map(source, maps, MapDescription("CAM", "abnormal"), new_uid(), 1, new_uid())
    out = tmp_path / "seg.dcm"
    obj.save_as(out, enforce_file_format=True)
    back = pydicom.dcmread(out)
    hd.seg.Segmentation.from_dataset(back)
    assert back.FrameOfReferenceUID == ds.FrameOfReferenceUID
    assert source_frames(back) == [(ds.SOPInstanceUID, k) for k in range(1, FRAMES + 1)]
    np.testing.assert_allclose(decoded_values(back), np.stack(maps), atol=FRACTIONAL_TOLERANCE)
    assert dciodvfy_errors(out) == []


def test_uids_are_fresh_and_valid() -> None:
    uids = {new_uid() for _ in range(1000)}
    assert len(uids) == 1000
    for uid in list(uids)[:50]:
        assert uid.startswith("2.25.") and len(uid) <= 64 and is_uid(uid)
    assert not is_uid("1.02.3") and not is_uid("../x") and not is_uid("1." + "2" * 64)


@pytest.mark.parametrize(
    ("settings", "approximate", "expected"),
    [
        ({"channel_budget": None}, False, "PCAM+- saliency 0-1 for 'abnormal'"),
        (
            {"channel_budget": 10},
            True,
            "PCAM+- saliency 0-1; approx.: fast mode, 10 channels per layer",
        ),
        (
            {"channel_budget": None, "tolerance": 0.05},
            True,
            "PCAM+- saliency 0-1; approx.: fast mode, mask tolerance 0.05",
        ),
        (
            {"autocast": "bf16"},
            True,
            "PCAM+- saliency 0-1 for 'abnormal'; approx.: reduced precision",
        ),
        (
            {"channel_budget": 10, "tolerance": 0.125},
            True,
            "PCAM+- saliency 0-1; approximate",  # the whole text would pass 64 characters
        ),
    ],
)
def test_map_description_says_how_a_map_is_approximate(
    settings: dict, approximate: bool, expected: str
) -> None:
    """The Content Description (≤ 64 characters) names the fast mode as the report does,
    or keeps only the flag when the whole text does not fit."""
    method = {"label": "PCAM±", "settings": settings, "approximate": approximate}
    text = describe(method, "abnormal").description
    assert text == expected
    assert len(text) <= 64
