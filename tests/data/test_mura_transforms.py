"""Decoding radiographs of every stored kind, and the model-input transforms."""

from __future__ import annotations

from pathlib import Path

import mura_tree as mt
import numpy as np
import pytest
import torch
from PIL import Image

from medxai.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    read_radiograph_png,
    to_model_input,
    to_train_input,
)
from medxai.errors import InputError


def test_gray8(tmp_path: Path) -> None:
    pixels = mt.gray_pixels(1)
    Image.fromarray(pixels).save(tmp_path / "g.png")
    out = read_radiograph_png(tmp_path / "g.png")
    assert out.dtype == np.float32 and out.shape == pixels.shape
    np.testing.assert_allclose(out, pixels / 255.0, atol=1e-7)


def test_gray16(tmp_path: Path) -> None:
    pixels = mt.gray16_pixels()
    Image.fromarray(pixels).save(tmp_path / "g16.png")
    out = read_radiograph_png(tmp_path / "g16.png")
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, pixels / 65535.0, atol=1e-7)
    assert out.min() == 0.0 and out.max() == 1.0


def test_rgb_and_rgba_to_luminance(tmp_path: Path) -> None:
    rgb = mt.rgb_pixels()
    Image.fromarray(rgb, mode="RGB").save(tmp_path / "rgb.png")
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 77, np.uint8)])
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "rgba.png")
    for name in ("rgb.png", "rgba.png"):
        out = read_radiograph_png(tmp_path / name)
        assert out.shape == (18, 16)
        np.testing.assert_allclose(out[0:6], 0.299, atol=1e-6)
        np.testing.assert_allclose(out[6:12], 0.587, atol=1e-6)
        np.testing.assert_allclose(out[12:18], 0.114, atol=1e-6)


def test_palette_and_gray_alpha(tmp_path: Path) -> None:
    pixels = mt.gray_pixels(3)
    Image.fromarray(pixels).convert("P").save(tmp_path / "p.png")
    np.testing.assert_allclose(read_radiograph_png(tmp_path / "p.png"), pixels / 255.0, atol=1e-6)
    Image.fromarray(pixels).convert("LA").save(tmp_path / "la.png")
    np.testing.assert_allclose(read_radiograph_png(tmp_path / "la.png"), pixels / 255.0, atol=1e-7)


def test_unreadable_files_raise_input_error(tmp_path: Path) -> None:
    Image.fromarray(mt.gray_pixels(2, (64, 64))).save(tmp_path / "cut.png")
    mt.corrupt(tmp_path / "cut.png")
    (tmp_path / "text.png").write_text("not an image")
    for name in ("cut.png", "text.png", "absent.png"):
        with pytest.raises(InputError) as info:
            read_radiograph_png(tmp_path / name)
        assert info.value.path == str(tmp_path / name)
        assert "\n" not in str(info.value)


def test_to_model_input_shape_and_normalisation() -> None:
    out = to_model_input(np.full((50, 30), 0.5, np.float32), 64)
    assert out.shape == (3, 64, 64) and out.dtype == torch.float32
    for c in range(3):
        expected = (0.5 - IMAGENET_MEAN[c]) / IMAGENET_STD[c]
        torch.testing.assert_close(out[c], torch.full((64, 64), expected), atol=1e-6, rtol=0)
    assert to_model_input(torch.rand(40, 70), (32, 48)).shape == (3, 32, 48)
    assert to_model_input(torch.rand(1, 40, 70), 16).shape == (3, 16, 16)


def test_to_model_input_squashes_without_keeping_aspect() -> None:
    pixels = np.zeros((40, 80), np.float32)
    pixels[:, 40:] = 1.0  # right half white stays the right half after squashing
    gray = to_model_input(pixels, 32, mean=(0.0,), std=(1.0,))
    assert gray.shape == (1, 32, 32)
    assert float(gray[0, :, :15].max()) < 0.01 and float(gray[0, :, 17:].min()) > 0.99


def test_to_model_input_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="float"):
        to_model_input(np.zeros((8, 8), np.uint8), 4)
    with pytest.raises(ValueError, match="H×W"):
        to_model_input(np.zeros((3, 8, 8), np.float32), 4)


def test_train_rotation_fills_corners_black() -> None:
    white = np.ones((64, 64), np.float32)
    plain = to_train_input(white, 64, 0.0, mean=(0.0,), std=(1.0,))
    torch.testing.assert_close(plain, torch.ones(1, 64, 64))
    turned = to_train_input(white, 64, 45.0, mean=(0.0,), std=(1.0,))
    assert float(turned[0, 0, 0]) == 0.0 and float(turned[0, 32, 32]) == pytest.approx(1.0)


def test_rotation_is_counter_clockwise() -> None:
    from medxai.data.transforms import rotate_gray

    gray = torch.zeros(1, 33, 33)
    gray[0, 16, 26] = 1.0  # right of centre
    turned = rotate_gray(gray, 90.0)
    assert turned.shape == (1, 33, 33)
    y, x = divmod(int(turned[0].argmax()), 33)
    assert (y, x) == (6, 16)  # now above centre
