"""Overlay and colormap: anatomy kept where saliency is 0, monotone lightness."""

from __future__ import annotations

import numpy as np
import pytest

from medxai.viz.overlay import SALIENCY_CMAP, overlay, saliency_colormap


def test_zero_saliency_leaves_the_radiograph_unchanged() -> None:
    image = np.linspace(0, 1, 30, dtype=np.float32).reshape(5, 6)
    out = overlay(image, np.zeros_like(image))
    assert out.shape == (5, 6, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, np.repeat(image[..., None], 3, axis=2))


def test_full_saliency_blends_the_colormap_at_alpha() -> None:
    image = np.full((2, 2), 0.25, np.float32)
    out = overlay(image, np.ones_like(image), alpha=0.6)
    top = np.asarray(saliency_colormap()(1.0)[:3], np.float32)
    np.testing.assert_allclose(out[0, 0], 0.4 * 0.25 + 0.6 * top, atol=1e-6)


def test_opacity_grows_with_saliency() -> None:
    image = np.zeros((1, 3), np.float32)
    out = overlay(image, np.array([[0.2, 0.5, 1.0]], np.float32))
    brightness = out[0].mean(axis=1)
    assert brightness[0] < brightness[1] < brightness[2]


def test_colormap_is_monotone_in_lightness() -> None:
    """Readable in greyscale print: luminance rises with saliency."""
    rgb = saliency_colormap(SALIENCY_CMAP)(np.linspace(0, 1, 256))[:, :3]
    luminance = rgb @ np.array([0.2126, 0.7152, 0.0722])
    assert np.all(np.diff(luminance) > 0)


def test_rejects_mismatched_sizes_and_bad_alpha() -> None:
    with pytest.raises(ValueError, match="differ in size"):
        overlay(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="alpha"):
        overlay(np.zeros((4, 4)), np.zeros((4, 4)), alpha=1.5)
