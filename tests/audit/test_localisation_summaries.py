from pathlib import Path

import numpy as np
import pytest
import torch

from medxai.audit.localisation import (
    METRICS,
    localisation_values,
    paired_difference,
    summarise_localisation,
)
from medxai.audit.plots import fracture_box
from medxai.audit.samples import AuditImage
from medxai.io.shapes import Ellipse


def image_with_fracture() -> AuditImage:
    shape = Ellipse(cx=20.5, cy=10.5, rx=3, ry=2, label="fracture")
    mask = shape.mask(32, 32)
    return AuditImage(Path("s/image1.png"), "s", "XR_WRIST", 1, np.zeros((32, 32), np.float32),
                      torch.zeros(3, 32, 32), annotation=mask, shapes=[shape])


def test_localisation_values_on_a_map_that_hits_and_one_that_misses():
    image = image_with_fracture()
    hit = image.annotation.astype(float)
    miss = np.zeros((32, 32))
    miss[28:, :4] = 1.0
    values = localisation_values([image, image], {"good": np.stack([hit, hit]),
                                                  "bad": np.stack([miss, miss])})
    assert set(values["good"]) == set(METRICS)
    assert values["good"]["pointing_game"].tolist() == [1.0, 1.0]
    assert values["good"]["relevance_mass"][0] == pytest.approx(1.0)
    assert values["bad"]["relevance_mass"][0] == 0.0
    rows = summarise_localisation(values)
    assert [r["method"] for r in rows] == ["good", "bad"]
    assert rows[0]["iou_otsu"].mean > 0.9
    diff = paired_difference(values, "good", "bad")
    assert diff["pointing_game"].mean == 1.0


def test_localisation_values_length_mismatch():
    with pytest.raises(ValueError):
        localisation_values([image_with_fracture()], {"m": np.zeros((2, 32, 32))})


def test_fracture_box_contains_the_shape():
    image = image_with_fracture()
    r0, c0, r1, c1 = fracture_box(image, min_side=12)
    assert r1 - r0 == c1 - c0 >= 12
    assert r0 <= 8 and r1 >= 13 and c0 <= 17 and c1 >= 24
