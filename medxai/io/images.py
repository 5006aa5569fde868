"""Images (PNG, JPEG, DICOM) → display-ready radiographs, and study folders.

PNG and JPEG are decoded by :func:`read_pixels`, the one decoder of the report, of
training and of evaluation (``medxai.data.transforms.read_radiograph_png`` calls it), so a
model sees the same pixels in a report as in training: the EXIF orientation is applied;
8-bit values are divided by 255 and 16-bit values by 65535 (the nominal range, not the
image's own); colour becomes BT.601 luminance (alpha is dropped). DICOM goes through the
display chain of :mod:`medxai.io.dicom`. Every reader returns float32 H×W in [0, 1] with
bright = dense.

Files are opened under the access rule of :mod:`medxai.io.files` (regular files only;
links only to files inside the study folder; reads bounded by the size at opening), and
decoded inside the boundary of :mod:`medxai.io.decode`: whatever a decoder raises
becomes an :class:`~medxai.errors.InputError`, and a study lists such files as skipped.
Images above :data:`~medxai.io.radiograph.MAX_PIXELS` are refused before decoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps

from medxai.errors import InputError
from medxai.io.annotations import ANNOTATION_FILE_NAMES
from medxai.io.decode import PIL_FORMATS, pil_image
from medxai.io.dicom import load_dicom
from medxai.io.files import read_head
from medxai.io.radiograph import MAX_PIXELS, Radiograph, finite_pixels, luminance

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_PIXELS",
    "Radiograph",
    "StudyScan",
    "image_kind",
    "load_radiograph",
    "natural_key",
    "pil_pixels",
    "read_pixels",
    "scan_study",
    "study_entries",
]

#: File name endings read as images (content is checked too).
IMAGE_SUFFIXES: dict[str, str] = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".jpe": "jpeg",
    ".dcm": "dicom",
    ".dicom": "dicom",
    ".dic": "dicom",
}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8\xff"
_PIL_FORMATS = {"png": ("PNG",), "jpeg": ("JPEG",)}  # Pillow openers (JPEG opens MPO too)


def image_kind(path: Path, root: Path | None = None) -> str | None:
    """``"png"``, ``"jpeg"`` or ``"dicom"`` from the file's first bytes, else its suffix.

    A file the access rule refuses is judged by its suffix (reading it then says why).
    """
    try:
        head = read_head(path, 132, root)
    except InputError:
        head = b""
    if head.startswith(_PNG_SIGNATURE):
        return "png"
    if head.startswith(_JPEG_SIGNATURE):
        return "jpeg"
    if head[128:132] == b"DICM":
        return "dicom"
    return IMAGE_SUFFIXES.get(path.suffix.lower())


def natural_key(name: str) -> tuple[list[object], str]:
    """Sort key putting ``image2`` before ``image10`` (case-insensitive; ties broken by
    the name itself). The one file-name order of medxai: study folders, dataset indexes
    and their problems, and evaluation tables all sort by it."""
    parts: list[object] = [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name.lower())]
    return parts, name


def pil_pixels(image: Image.Image) -> np.ndarray:
    """A decoded Pillow image → float32 H×W in [0, 1], upright.

    * The EXIF orientation (PNG ``eXIf`` or JPEG) is applied.
    * ``1`` (bilevel) is 0 or 1; ``L`` and ``LA`` are divided by 255 (alpha dropped);
      16-bit gray (``I;16*``, or ``I`` holding 16-bit samples, the most PNG stores) is
      divided by 65535; ``F`` is taken as already in [0, 1]. Every value is then clipped
      to [0, 1]: the nominal range of the format, never the image's own minimum and
      maximum, so that an image and its crop keep their gray values.
    * Anything else (RGB, RGBA, palette, CMYK, YCbCr…) becomes the BT.601 luminance
      (:data:`~medxai.io.radiograph.LUMA_WEIGHTS`) of its RGB values, divided by 255;
      a palette's transparency is dropped with the alpha channel.
    """
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    if orientation != 1:
        image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode == "1":
        pixels = np.asarray(image, dtype=np.float32)
    elif mode in ("L", "LA"):
        pixels = np.asarray(image.getchannel(0), dtype=np.float32) / 255.0
    elif mode.startswith("I;16") or mode == "I":
        pixels = np.asarray(image).astype(np.float32) / 65535.0
    elif mode == "F":
        pixels = np.asarray(image, dtype=np.float32)
    else:
        rgb = np.asarray(image.convert("RGBA" if "transparency" in image.info else "RGB"))
        pixels = (luminance(rgb[..., :3]) / 255.0).astype(np.float32)
    return np.clip(pixels, 0.0, 1.0)


def read_pixels(
    path: str | Path,
    root: str | Path | None = None,
    formats: tuple[str, ...] = PIL_FORMATS,
    what: str = "image",
) -> np.ndarray:
    """Decode a PNG or JPEG file to float32 H×W in [0, 1] (:func:`pil_pixels`).

    The one PNG/JPEG reader: the report passes the format it recognised and names it in
    its messages (``formats=("PNG",), what="PNG image"``); training and evaluation read
    dataset images with the defaults (Pillow's PNG and JPEG openers, messages about an
    "image"). The pixels are the same either way. The file is opened under the access
    rule of :mod:`medxai.io.files` (``root``: the folder it must lie in, default its own
    folder), refused above :data:`~medxai.io.radiograph.MAX_PIXELS` before decoding, and
    decoded inside the boundary of :mod:`medxai.io.decode`. Raises
    :class:`~medxai.errors.InputError` naming the file when it is missing, refused, not
    an image, too large, truncated or corrupt.
    """
    path = Path(path)
    with pil_image(path, root, formats, what) as image:
        image.load()
        pixels = pil_pixels(image)
    if pixels.size == 0:
        raise InputError(path, "the image has no pixels")
    return finite_pixels(path, pixels)


def _load_pil(path: Path, kind: str, root: Path | None) -> Radiograph:
    pixels = read_pixels(path, root, _PIL_FORMATS[kind], f"{kind.upper()} image")
    return Radiograph(pixels=pixels, name=path.name, source=path)


def load_radiograph(path: str | Path, root: str | Path | None = None) -> list[Radiograph]:
    """Read a PNG, JPEG or DICOM file: one radiograph, or one per frame.

    ``root`` is the folder the file must lie in, links included (default: the file's own
    folder; see :mod:`medxai.io.files`). Raises :class:`~medxai.errors.InputError`
    (``"<path>: <problem>"``) for anything that cannot be shown.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(path, "is a folder, not an image file")
    base = Path(root) if root is not None else None
    kind = image_kind(path, base)
    if kind is None:
        if not path.exists() and not path.is_symlink():
            raise InputError(path, "file not found")
        raise InputError(path, "not a PNG, JPEG or DICOM file")
    if kind == "dicom":
        return load_dicom(path, base)
    return [_load_pil(path, kind, base)]


@dataclass
class StudyScan:
    """What a study folder holds.

    ``images`` in natural file-name order (frames in order); ``skipped`` lists image
    files that could not be read, with the reason; ``ignored`` lists other entries
    (non-image files, hidden files, sub-folders, DICOMDIR), sorted; the annotation file
    is in neither list.
    """

    folder: Path
    images: list[Radiograph]
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def study_uid(self) -> str | None:
        """The DICOM StudyInstanceUID when every DICOM image shares one, else None."""
        uids = {image.study_uid for image in self.images if image.study_uid}
        return uids.pop() if len(uids) == 1 else None


def _is_ignored_name(path: Path) -> bool:
    return path.name.startswith(".") or path.name.upper() == "DICOMDIR" or path.is_dir()


def study_entries(folder: str | Path) -> list[tuple[Path, str | None]]:
    """The entries directly inside the study ``folder``, in natural order, each with its
    image kind (:func:`image_kind`), or ``None`` for an entry the study ignores (hidden
    files, sub-folders, DICOMDIR, other files); the annotation file is left out.

    Raises :class:`~medxai.errors.InputError` for a missing or empty folder.
    """
    folder = Path(folder)
    if not folder.exists():
        raise InputError(folder, "no such folder")
    if not folder.is_dir():
        raise InputError(folder, "not a folder")
    try:
        entries = sorted(folder.iterdir(), key=lambda p: natural_key(p.name))
    except OSError as exc:
        raise InputError(folder, f"cannot list the folder ({exc.strerror})") from None
    if not entries:
        raise InputError(folder, "the folder is empty")
    return [
        (path, None if _is_ignored_name(path) else image_kind(path, folder))
        for path in entries
        if not (path.name in ANNOTATION_FILE_NAMES and path.is_file())
    ]


def scan_study(folder: str | Path) -> StudyScan:
    """Read every PNG, JPEG and DICOM image directly inside ``folder``
    (:func:`study_entries`).

    Unreadable image files are skipped and listed; other files are ignored and listed.
    Raises :class:`~medxai.errors.InputError` for a missing or empty folder, or one with
    no readable image.
    """
    folder = Path(folder)
    scan = StudyScan(folder=folder, images=[])
    for path, kind in study_entries(folder):
        if kind is None:
            scan.ignored.append(path)
            continue
        try:
            scan.images.extend(load_radiograph(path, folder))
        except InputError as exc:
            scan.skipped.append((path, exc.problem))

    if not scan.images:
        if scan.skipped:
            path, problem = scan.skipped[0]
            more = f" and {len(scan.skipped) - 1} more" if len(scan.skipped) > 1 else ""
            raise InputError(folder, f"no readable image: {path.name}: {problem}{more}")
        raise InputError(
            folder, f"no PNG, JPEG or DICOM image ({len(scan.ignored)} other file(s) ignored)"
        )
    uids = sorted({image.study_uid for image in scan.images if image.study_uid})
    if len(uids) > 1:
        scan.warnings.append(f"the folder mixes {len(uids)} DICOM studies: {', '.join(uids)}")
    return scan
