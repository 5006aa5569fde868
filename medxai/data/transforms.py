"""Radiograph decoding and the model-input transforms of the MURA recipe.

Pixels travel as a float32 ``H×W`` array in ``[0, 1]`` (0 = black). The model input is
``3×S×S``: the gray image resized to ``S×S`` (bilinear, antialiased, aspect ratio not
kept, as in the MURA recipe that squashes every image to 320×320), copied to three
channels and normalised with the ImageNet mean and standard deviation.

Training adds a random rotation of up to ``±rotation`` degrees after the resize. The
corners the rotation uncovers are filled with 0 (black) *before* normalisation, which is
the value of the dark background of a radiograph.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from medxai.io.decode import pil_image
from medxai.io.radiograph import finite_pixels

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)

#: ITU-R BT.601 luma weights, the ones Pillow uses for ``convert("L")``.
LUMA_WEIGHTS: tuple[float, float, float] = (0.299, 0.587, 0.114)

def read_radiograph_png(
    path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None
) -> np.ndarray:
    """Decode a radiograph to a float32 ``H×W`` array in ``[0, 1]``.

    8-bit gray is divided by 255 and 16-bit gray by 65535. RGB and RGBA become their
    BT.601 luminance (alpha ignored); palette and 1-bit images are expanded first; a
    gray+alpha image keeps its gray channel. The file is opened under the access rule
    of :mod:`medxai.io.files` (``root``: the dataset folder the file must lie in,
    default its own folder), refused above
    :data:`~medxai.io.radiograph.MAX_PIXELS` before decoding, and decoded inside the
    boundary of :mod:`medxai.io.decode`. Raises :class:`~medxai.errors.InputError`
    naming the file when it is missing, refused, not an image, too large, truncated or
    corrupt.
    """
    with pil_image(path, root) as image:
        image.load()
        pixels = _to_gray_float(image)
    return finite_pixels(path, pixels)


def _to_gray_float(image: Image.Image) -> np.ndarray:
    """Pixels of an opened Pillow image as float32 gray in ``[0, 1]``."""
    mode = image.mode
    if mode == "L":
        return np.asarray(image, dtype=np.float32) / 255.0
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(image).astype(np.float32) / 65535.0
    if mode == "I":  # 32-bit container; PNG stores at most 16 bits per sample
        return np.clip(np.asarray(image, dtype=np.float32) / 65535.0, 0.0, 1.0)
    if mode == "F":
        return np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    if mode == "LA":
        return np.asarray(image.getchannel("L"), dtype=np.float32) / 255.0
    if mode in ("P", "PA", "1", "CMYK", "YCbCr", "LAB", "HSV"):
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    rgb = np.asarray(image, dtype=np.float32)[..., :3]
    weights = np.asarray(LUMA_WEIGHTS, dtype=np.float32)
    return np.ascontiguousarray(rgb @ weights) / 255.0


def _size_pair(size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, int):
        pair = (size, size)
    else:
        pair = tuple(int(s) for s in size)
        if len(pair) != 2:
            raise ValueError(f"size must be an int or (height, width), got {size!r}")
    if min(pair) < 1:
        raise ValueError(f"size must be positive, got {size!r}")
    return pair  # type: ignore[return-value]


def _as_gray_tensor(pixels: np.ndarray | torch.Tensor) -> torch.Tensor:
    """``H×W`` (or ``1×H×W``) float pixels as a float32 ``1×1×H×W`` tensor."""
    tensor = torch.as_tensor(pixels)
    if not tensor.is_floating_point():
        raise ValueError(f"pixels must be float in [0, 1], got dtype {tensor.dtype}")
    if tensor.ndim == 3 and tensor.shape[0] == 1:
        tensor = tensor[0]
    if tensor.ndim != 2:
        raise ValueError(f"pixels must be H×W gray, got shape {tuple(tensor.shape)}")
    return tensor.to(torch.float32)[None, None]


def resize_gray(pixels: np.ndarray | torch.Tensor, size: int | Sequence[int]) -> torch.Tensor:
    """Bilinear antialiased resize of ``H×W`` gray pixels to ``1×h×w`` (aspect not kept)."""
    out = F.interpolate(
        _as_gray_tensor(pixels), size=_size_pair(size), mode="bilinear",
        align_corners=False, antialias=True,
    )
    return out[0]


def rotate_gray(gray: torch.Tensor, degrees: float) -> torch.Tensor:
    """Rotate ``1×h×w`` gray counter-clockwise about its centre; uncovered corners are 0."""
    if gray.ndim != 3 or gray.shape[0] != 1:
        raise ValueError(f"expected a 1×h×w gray tensor, got shape {tuple(gray.shape)}")
    # Pillow's float ("F") rotation is bilinear like grid_sample and about 3× faster here.
    image = Image.fromarray(gray[0].detach().cpu().numpy().astype(np.float32, copy=False))
    turned = image.rotate(float(degrees), resample=Image.Resampling.BILINEAR, fillcolor=0.0)
    return torch.from_numpy(np.array(turned, dtype=np.float32))[None]


def normalise_gray(
    gray: torch.Tensor,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> torch.Tensor:
    """``1×h×w`` gray in ``[0, 1]`` to ``C×h×w`` with ``(gray - mean[c]) / std[c]`` per channel."""
    if len(mean) != len(std):
        raise ValueError(f"mean and std differ in length: {len(mean)} vs {len(std)}")
    m = torch.as_tensor(mean, dtype=gray.dtype).view(-1, 1, 1)
    s = torch.as_tensor(std, dtype=gray.dtype).view(-1, 1, 1)
    return ((gray - m) / s).contiguous()


def to_model_input(
    pixels: np.ndarray | torch.Tensor,
    size: int | tuple[int, int],
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> torch.Tensor:
    """The evaluation transform: ``H×W`` float gray in ``[0, 1]`` to a normalised ``3×S×S`` tensor.

    ``size`` is an int (square) or ``(height, width)``. The resize is bilinear with
    antialiasing and squashes the image (the aspect ratio is not kept).
    """
    return normalise_gray(resize_gray(pixels, size), mean, std)


def to_train_input(
    pixels: np.ndarray | torch.Tensor,
    size: int | tuple[int, int],
    degrees: float,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> torch.Tensor:
    """The training transform: resize, rotate by ``degrees`` (0 fill), then normalise."""
    return normalise_gray(rotate_gray(resize_gray(pixels, size), degrees), mean, std)
