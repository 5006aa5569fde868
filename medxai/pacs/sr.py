"""One TID 1500 Measurement Report (Comprehensive SR) per study.

Content (see ``docs/pacs.md``):

* observer: the medxai device; algorithm: ``medxai <arch> classifier``, medxai's version,
  and as parameters the checkpoint's file name, its SHA-256 and the decision threshold;
* one measurement group per analysed image (tracking identifier ``image <n>``): the
  probability of abnormal (DCM 122157 "Probability", unitless), the finding
  (SCT Abnormal/Normal at the threshold) and, where the image is annotated, each
  method's localisation figures (pointing game hit 1/0, relevance mass, IoU at the Otsu
  threshold; private codes of the ``99MEDXAI`` scheme, the method as the measurement
  method); every measurement references its image (and frame);
* one study group (tracking identifier ``study``): the study probability (mean of the
  images') and the decision, referencing every image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from medxai.metrics.localisation import COLUMN_TITLES
from medxai.pacs.identity import MANUFACTURER, SOFTWARE_VERSION, ascii_label, code_string
from medxai.pacs.sources import SourceImage
from medxai.pacs.uids import device_uid, new_uid

#: The private coding scheme of medxai's own concepts (``99`` marks a private scheme).
SCHEME = "99MEDXAI"
#: Localisation metric key → code value in :data:`SCHEME`.
METRIC_CODES = {"pointing_game": "PG", "relevance_mass": "RM", "iou_otsu": "IOU"}
#: Tracking identifier of the study-level group.
STUDY_GROUP = "study"


def metric_concept(key: str) -> hd.sr.CodedConcept:
    """The coded name of a localisation metric (a column of
    :func:`~medxai.metrics.localisation.localisation_row` that the report shows)."""
    return hd.sr.CodedConcept(METRIC_CODES[key], SCHEME, COLUMN_TITLES[key])


def method_concept(label: str) -> hd.sr.CodedConcept:
    """The coded saliency method, e.g. ``PCAMPM`` "PCAM+-"."""
    return hd.sr.CodedConcept(code_string(label), SCHEME, ascii_label(label))


def algorithm(summary: Mapping[str, Any]) -> hd.sr.AlgorithmIdentification:
    """The classifier: name, version, and checkpoint identity as parameters."""
    model = summary["model"]
    sha = next(e["sha256"] for e in summary["inputs"] if e["role"] == "checkpoint")
    return hd.sr.AlgorithmIdentification(
        name=f"{MANUFACTURER} {model['arch']} classifier",
        version=SOFTWARE_VERSION,
        parameters=[
            f"checkpoint {model['checkpoint']}",
            f"checkpoint sha256 {sha}",
            f"threshold {model['threshold']}",
        ],
    )


def _finding(abnormal: bool) -> hd.sr.QualitativeEvaluation:
    return hd.sr.QualitativeEvaluation(
        codes.DCM.Finding, codes.SCT.Abnormal if abnormal else codes.SCT.Normal
    )


def _probability(
    value: float, images: Sequence[hd.sr.SourceImageForMeasurement], alg
) -> hd.sr.Measurement:
    return hd.sr.Measurement(
        name=codes.DCM.Probability,
        value=float(value),
        unit=codes.UCUM.NoUnits,
        referenced_images=list(images),
        algorithm_id=alg,
    )


def image_reference(source: SourceImage, frame: int | None) -> hd.sr.SourceImageForMeasurement:
    """A measurement's reference to its image (and 1-based frame)."""
    return hd.sr.SourceImageForMeasurement(
        referenced_sop_class_uid=str(source.header.SOPClassUID),
        referenced_sop_instance_uid=str(source.header.SOPInstanceUID),
        referenced_frame_numbers=None if frame is None else [frame + 1],
    )


def build_sr(
    sources: Sequence[SourceImage],
    summary: Mapping[str, Any],
    series_uid: str,
    series_number: int,
    sop_uid: str,
) -> Dataset:
    """The study's Measurement Report, from the report's summary and its sources."""
    alg = algorithm(summary)
    threshold = float(summary["verdict"]["threshold"])
    where = {index: source for source in sources for index in source.analysed}
    groups, every = [], []
    for index, entry in enumerate(summary["images"]):
        ref = image_reference(where[index], entry["frame"])
        every.append(ref)
        measurements = [_probability(entry["probability"], [ref], alg)]
        for label, values in (entry["metrics"] or {}).items():
            for key, value in values.items():
                measurements.append(
                    hd.sr.Measurement(
                        name=metric_concept(key),
                        value=float(value),
                        unit=codes.UCUM.NoUnits,
                        method=method_concept(label),
                        referenced_images=[ref],
                        algorithm_id=alg,
                    )
                )
        groups.append(
            hd.sr.MeasurementsAndQualitativeEvaluations(
                tracking_identifier=hd.sr.TrackingIdentifier(
                    uid=new_uid(), identifier=f"image {index + 1}"
                ),
                finding_type=codes.SCT.ImagingFinding,
                algorithm_id=alg,
                measurements=measurements,
                qualitative_evaluations=[_finding(entry["probability"] >= threshold)],
            )
        )
    verdict = summary["verdict"]
    groups.append(
        hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=new_uid(), identifier=STUDY_GROUP),
            finding_type=codes.SCT.ImagingFinding,
            algorithm_id=alg,
            measurements=[_probability(verdict["probability"], every, alg)],
            qualitative_evaluations=[_finding(verdict["decision"] == "abnormal")],
        )
    )
    observer = hd.sr.ObserverContext(
        observer_type=codes.cid270.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=device_uid(),
            name=MANUFACTURER,
            manufacturer_name=MANUFACTURER,
            model_name=f"{MANUFACTURER} {SOFTWARE_VERSION}",
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=codes.SCT.PlainRadiography,
        imaging_measurements=groups,
        # no image library entries: highdicom describes a projection radiograph only
        # with Imager Pixel Spacing, which CR images need not have; the images are
        # referenced by each measurement and listed in the evidence.
    )
    return hd.sr.ComprehensiveSR(
        evidence=[source.header for source in sources],
        content=report,
        series_instance_uid=series_uid,
        series_number=series_number,
        sop_instance_uid=sop_uid,
        instance_number=1,
        manufacturer=MANUFACTURER,
        is_complete=True,
    )


def study_probability(sr: Dataset) -> float:
    """The study probability of abnormal in a report written by :func:`build_sr`."""
    for group in _groups(sr):
        if _text_of(group, "112039") == STUDY_GROUP:  # DCM 112039: Tracking Identifier
            for child in group.ContentSequence:
                if child.ValueType == "NUM" and _code(child) == ("122157", "DCM"):
                    return float(child.MeasuredValueSequence[0].NumericValue)
    raise ValueError("the report holds no study probability")


def _code(item: Dataset) -> tuple[str, str]:
    concept = item.ConceptNameCodeSequence[0]
    return str(concept.CodeValue), str(concept.CodingSchemeDesignator)


def _text_of(group: Dataset, code: str) -> str | None:
    for child in group.ContentSequence:
        if child.ValueType == "TEXT" and _code(child)[0] == code:
            return str(child.TextValue)
    return None


def _groups(sr: Dataset) -> list[Dataset]:
    """The measurement groups (DCM 125007) under Imaging Measurements (DCM 126010)."""
    found = []
    for item in sr.ContentSequence:
        if item.ValueType == "CONTAINER" and _code(item) == ("126010", "DCM"):
            found += [g for g in item.ContentSequence if _code(g) == ("125007", "DCM")]
    return found
