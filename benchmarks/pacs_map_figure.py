"""The README's PACS figure: a study's DICOM map objects over their source, drawn from the
DICOM files read back, with the report's own figure code.

    python benchmarks/pacs_map_figure.py STUDY_DIR --checkpoint CKPT --out FIGURE.png

``STUDY_DIR`` is a phantom study (PNG images and ``annotations.json``, as written by
``medxai phantoms`` or ``medxai demo``). Its first image is wrapped in a CR MONOCHROME1
DICOM file (12-bit, no Frame of Reference, like a real CR), reported on with
``medxai report --dicom --exact``; then the source is read back with medxai's DICOM reader
and the CAM and PCAM± map objects (FRACTIONAL Segmentations) with pydicom, and drawn with
:func:`medxai.viz.figures.overview_figure` next to the annotations.

The README's figure (``docs/images/pacs_map.png``) is the demo checkpoint on the demo's
validation study ``valid/XR_FINGER/patient00519/study1_positive``::

    python benchmarks/pacs_map_figure.py \
        PHANTOMS/valid/XR_FINGER/patient00519/study1_positive \
        --checkpoint DEMO.ckpt --out docs/images/pacs_map.png
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from medxai.io.annotations import load_annotations
from medxai.io.dicom import load_dicom
from medxai.pacs.maps import decoded_values
from medxai.report import ReportOptions, build_report
from medxai.viz.figures import ImagePanels, figure_png, overview_figure
from medxai.viz.outlines import label_styles

CR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.1"


def cr_from_png(png: Path, target: Path) -> None:
    """``png`` (8-bit grey, bright = dense) as a 12-bit CR MONOCHROME1 DICOM file."""
    grey = np.asarray(Image.open(png).convert("L"), dtype=np.float64) / 255.0
    stored = np.round((1.0 - grey) * 4095).astype(np.uint16)  # MONOCHROME1: low = bright
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CR_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = CR_IMAGE_STORAGE, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.BodyPartExamined = "CR", "HAND"
    ds.PatientName, ds.PatientID = "Phantom^Demo", "PHANTOM-1"
    ds.StudyDate, ds.StudyTime, ds.StudyID = "20260101", "120000", "1"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME1"
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelSpacing = [0.2, 0.2]
    ds.PixelData = stored.tobytes()
    ds.save_as(target, enforce_file_format=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study", type=Path, help="phantom study folder (PNG + annotations.json)")
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="PNG figure to write")
    args = parser.parse_args()
    png = sorted(args.study.glob("*.png"))[0]
    shapes = json.loads((args.study / "annotations.json").read_text())["images"].get(png.name)
    with tempfile.TemporaryDirectory() as tmp:
        study = Path(tmp) / "cr_study"
        study.mkdir()
        cr_from_png(png, study / "image.dcm")
        annotations = Path(tmp) / "annotations.json"
        annotations.write_text(json.dumps({"images": {"image.dcm": shapes or []}}))
        result = build_report(
            ReportOptions(
                study=study,
                checkpoint=args.checkpoint,
                annotations=annotations,
                out=Path(tmp) / "report",
                exact=True,
                dicom=True,
                progress=False,
            )
        )
        # read back: the source with medxai's reader, the map objects with pydicom
        (source,) = load_dicom(study / "image.dcm")
        maps = {}
        for entry in result.summary["dicom"]:
            if entry["object"] in ("segmentation", "parametric-map"):
                ds = pydicom.dcmread(result.out / entry["file"])
                kind = "SEG" if ds.Modality == "SEG" else "PM"
                maps[f"{entry['method']} ({kind} {ds.ContentLabel})"] = decoded_values(ds)[0]
        outlined = load_annotations(annotations)["image.dcm"]
        panels = ImagePanels(
            name="image.dcm (CR, MONOCHROME1)",
            image=source.pixels,
            maps=maps,
            shapes=outlined,
            styles=label_styles(shape.label for shape in outlined),
            spacing_mm=source.pixel_spacing_mm,
            caption=f"{result.summary['verdict']['text']} · maps read back from OUT/dicom/",
        )
        png = Image.open(io.BytesIO(figure_png(overview_figure(panels), 110)))
        png.convert("RGB").quantize(256).save(args.out, optimize=True)  # 256-colour palette
    print(args.out)


if __name__ == "__main__":
    main()
