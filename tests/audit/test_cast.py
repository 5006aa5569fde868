import json

import numpy as np
import pytest
from PIL import Image

from medxai.audit.cast import cast_mass, disc, segment_cast


def synthetic_radiograph() -> np.ndarray:
    """Dark field, a thin bright bone on the left, a broad bright sleeve on the right."""
    image = np.full((96, 96), 0.05)
    image[10:90, 12:16] = 0.8  # bone: 4 px wide
    image[20:80, 50:80] = 0.7  # cast: 30 px wide
    return image


def test_segment_cast_keeps_broad_sleeve_and_drops_thin_bone():
    mask = segment_cast(synthetic_radiograph())
    truth = np.zeros((96, 96), bool)
    truth[20:80, 50:80] = True
    iou = (mask & truth).sum() / (mask | truth).sum()
    assert iou > 0.85
    assert not mask[:, :20].any()


def test_segment_cast_flat_image_is_empty():
    assert not segment_cast(np.full((40, 50), 0.3)).any()
    with pytest.raises(ValueError):
        segment_cast(np.zeros((2, 3, 4)))


def test_segment_cast_finds_phantom_casts(cast_phantoms):
    ious = []
    for truth_file in sorted(cast_phantoms.glob("valid/*/*/*/phantom.json")):
        study = truth_file.parent
        for name in json.loads(truth_file.read_text())["views"]:
            pixels = np.asarray(Image.open(study / name))
            truth = np.asarray(Image.open(study / "masks" / name.replace(".png", "_cast.png"))) > 0
            mask = segment_cast(pixels)
            ious.append((mask & truth).sum() / max(1, (mask | truth).sum()))
    assert len(ious) >= 12
    assert float(np.mean(ious)) > 0.5


def test_disc_shape():
    d = disc(2)
    assert d.shape == (5, 5) and d[2, 2] and not d[0, 0] and d.sum() == 13


def test_cast_mass_and_excess():
    cast = np.zeros((10, 10), bool)
    cast[:, :5] = True
    even = cast_mass(np.ones((10, 10)), cast)
    assert even.mass == pytest.approx(0.5) and even.area == 0.5 and even.excess == pytest.approx(0)
    on_cast = cast_mass(cast.astype(float), cast)
    assert on_cast.mass == 1.0 and on_cast.excess == pytest.approx(0.5)
    with pytest.raises(ValueError):
        cast_mass(np.ones((10, 10)), np.zeros((10, 10), bool))
