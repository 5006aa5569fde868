"""The dataset reader and the model-input transforms of the MURA recipe.

Images are decoded by :func:`medxai.io.images.read_pixels`, the decoder the report uses
too, and :func:`to_model_input` is the one evaluation transform of training's
validation, evaluation and the report. Pixels travel as a float32 ``H×W`` array in
``[0, 1]`` (0 = black). The model input is ``3×S×S``: the gray image resized to ``S×S``
(bilinear, antialiased, aspect ratio not kept, as in the MURA recipe that squashes every
image to 320×320), copied to three channels and normalised with the ImageNet mean and
standard deviation.

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

from medxai.io.images import read_pixels

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)


def read_radiograph_png(
    path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None
) -> np.ndarray:
    """Decode a dataset radiograph (PNG or JPEG) to a float32 ``H×W`` array in ``[0, 1]``.

    This is :func:`medxai.io.images.read_pixels` with its defaults: the decoder the
    report uses for its PNG and JPEG images, so a model sees the same pixels in training,
    evaluation and a report (EXIF orientation applied; 8-bit gray divided by 255, 16-bit
    by 65535; colour to BT.601 luminance, alpha dropped). The one deliberate difference is
    the choice of reader, not the pixels: dataset images are PNG or JPEG and both Pillow
    openers are tried (messages speak of an "image"), while a report first recognises
    each file (PNG, JPEG, or DICOM with its display chain, :mod:`medxai.io.dicom`).
    ``root`` is the dataset folder the file must lie in (default: its own folder; see
    :mod:`medxai.io.files`). Raises :class:`~medxai.errors.InputError` naming the file
    when it is missing, refused, not an image, too large, truncated or corrupt.
    """
    return read_pixels(path, root)


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
