import json

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from medxai.audit.counterfactual import (
    inpaint_cast,
    probability_drop,
    render_without_cast,
    spec_from_dict,
)
from medxai.data.phantoms import StudySpec, render


def studies(root):
    return sorted(p.parent for p in root.glob("valid/*/*/*/phantom.json"))


def test_spec_round_trip_renders_the_saved_image(cast_phantoms):
    study = studies(cast_phantoms)[0]
    spec = spec_from_dict(json.loads((study / "phantom.json").read_text())["spec"])
    assert isinstance(spec, StudySpec) and spec.cast is not None
    assert isinstance(spec.views, tuple) and isinstance(spec.views[0].shift, tuple)
    saved = np.asarray(Image.open(study / "image1.png"))
    np.testing.assert_array_equal(render(spec, 0).pixels, saved)


def test_render_without_cast_changes_only_the_cast_region(cast_phantoms):
    for study in studies(cast_phantoms)[:4]:
        original = np.asarray(Image.open(study / "image1.png")).astype(int)
        mask = np.asarray(Image.open(study / "masks" / "image1_cast.png")) > 0
        clean = render_without_cast(study, "image1.png").astype(int)
        changed = np.abs(clean - original) > 2
        near = ndimage.binary_dilation(mask, iterations=3)
        assert changed[mask].mean() > 0.5  # the cast is gone
        assert not changed[~near].any()  # nothing else moved
        assert clean[mask].mean() < original[mask].mean()  # plaster is dense


def test_inpaint_cast_fills_with_surrounding_tissue():
    image = np.full((40, 40), 10, dtype=np.uint8)  # background
    image[:, 10:30] = 80  # soft tissue
    mask = np.zeros((40, 40), bool)
    mask[10:30, 14:26] = True
    image[mask] = 200  # plaster
    out = inpaint_cast(image, mask)
    assert out.dtype == np.uint8
    assert (out[mask] == 80).all()
    np.testing.assert_array_equal(out[~mask], image[~mask])
    np.testing.assert_array_equal(inpaint_cast(image, np.zeros_like(mask)), image)
    with pytest.raises(ValueError):
        inpaint_cast(image, mask[:10])


def test_probability_drop_sign():
    np.testing.assert_allclose(probability_drop([0.9, 0.2], [0.3, 0.25]), [0.6, -0.05])
