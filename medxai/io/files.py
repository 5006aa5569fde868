"""The file-access rule for input images: what may be opened, and how much of it is read.

Every image reader (the report's :mod:`medxai.io`, training's and evaluation's
:mod:`medxai.data`, and ``medxai data check``), the annotation and cast-mask readers
(:mod:`medxai.io.annotations`, :mod:`medxai.io.masks`) and :func:`file_sha256` open files
through :func:`open_input`:

* **Regular files only.** Folders, devices (``/dev/zero``), FIFOs and sockets are refused,
  so nothing can feed a decoder an endless stream or block it on an open.
* **Symbolic links are followed only to regular files inside the root**: the study
  folder for a report, the dataset folder for training, evaluation and ``data check``.
  A link loop, a dangling link, or a link (or a linked folder on the way) whose real
  location lies outside the root is refused, naming the link.
* **Reads are bounded by the size measured when the file is opened.** The file is opened
  without following a last-moment link and without blocking, checked again on the open
  descriptor (the same regular file as checked), and read through a reader that ends at
  that size: a file that grows while it is read is cut there, one that shrinks reads as
  truncated.
* **At most** :data:`~medxai.io.radiograph.MAX_INPUT_BYTES` per file (the input-size
  policy of :mod:`medxai.io.radiograph`).

Each refusal is an :class:`~medxai.errors.InputError` naming the path and the reason.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from medxai.errors import InputError
from medxai.io.radiograph import MAX_INPUT_BYTES

__all__ = ["checked_target", "file_sha256", "open_input", "read_head"]

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _inside(target: Path, root: Path) -> bool:
    return target == root or root in target.parents


def checked_target(
    path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None
) -> tuple[Path, os.stat_result]:
    """The real location of ``path`` and its status, once the access rule allows it.

    ``root`` defaults to the file's own folder. Raises :class:`~medxai.errors.InputError`
    (see the module notes).
    """
    path = Path(path)
    base = Path(root) if root is not None else path.parent
    try:
        link = stat.S_ISLNK(os.lstat(path).st_mode)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        target = path.resolve(strict=True)
        status = os.stat(target)
    except RuntimeError:  # Python 3.11 reports a link loop this way
        raise InputError(path, "symbolic link loop") from None
    except FileNotFoundError:
        raise InputError(path, "dangling symbolic link (its target does not exist)") from None
    except OSError as exc:
        loop = exc.errno == errno.ELOOP
        raise InputError(
            path, "symbolic link loop" if loop else f"cannot read the file ({exc.strerror})"
        ) from None
    _check_regular(path, status, link)
    try:
        real_root = base.resolve(strict=True)
    except (OSError, RuntimeError):
        raise InputError(base, "the folder cannot be resolved") from None
    if not _inside(target, real_root):
        what = "symbolic link" if link else "file reached through a linked folder"
        raise InputError(path, f"{what} to a file outside {real_root} (refused)")
    return target, status


def _check_regular(path: Path, status: os.stat_result, link: bool) -> None:
    if not stat.S_ISREG(status.st_mode):
        kind = _kind(status.st_mode)
        what = f"symbolic link to {kind}" if link else kind
        raise InputError(path, f"{what}, not a regular file (refused)")
    if status.st_size > MAX_INPUT_BYTES:
        raise InputError(
            path,
            f"file of {status.st_size:,} bytes exceeds the {MAX_INPUT_BYTES:,}-byte input limit",
        )


class _BoundedReader(io.RawIOBase):
    """A raw reader over a file descriptor that ends at ``size`` bytes."""

    def __init__(self, fd: int, size: int, name: str) -> None:
        super().__init__()
        self.name = name  # readers such as pydicom record where the data came from
        self._fd = fd
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = max(0, min(len(buffer), self._size - self._pos))
        if count == 0:
            return 0
        data = os.pread(self._fd, count, self._pos)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


@contextmanager
def open_input(
    path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None
) -> Iterator[BinaryIO]:
    """Open ``path`` for reading under the access rule; yields a seekable binary file.

    ``root`` defaults to the file's own folder. Raises :class:`~medxai.errors.InputError`
    for anything the rule refuses (see the module notes).
    """
    path = Path(path)
    target, status = checked_target(path, root)
    link = path.is_symlink()
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        raise InputError(path, f"cannot open the file ({exc.strerror or exc})") from None
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (status.st_dev, status.st_ino):
            raise InputError(path, "the file was replaced while being opened (refused)")
        _check_regular(path, opened, link)
        reader = io.BufferedReader(
            _BoundedReader(fd, opened.st_size, str(path)), buffer_size=1 << 16
        )
    except BaseException:
        os.close(fd)
        raise
    with reader:
        yield reader  # type: ignore[misc]


def read_head(
    path: str | os.PathLike[str], count: int, root: str | os.PathLike[str] | None = None
) -> bytes:
    """The first ``count`` bytes of ``path`` (fewer for a shorter file), under the rule."""
    with open_input(path, root) as handle:
        return handle.read(count)


def file_sha256(
    path: str | os.PathLike[str],
    root: str | os.PathLike[str] | None = None,
    chunk: int = 1 << 20,
) -> str:
    """Hex SHA-256 of a file's bytes (a checkpoint, an input, a ground-truth file), read
    in ``chunk``-byte blocks under the rule. Provenance records name files by this digest.

    ``root`` is the folder the file must lie in, as when it is read (an evaluation passes
    its data root). By default it is the folder the file really lies in: a digest shows
    nothing of the file, so a file named on the command line (a checkpoint) may be a link
    to anywhere, but it must still be a regular file, and only the size measured at
    opening is read. Raises :class:`~medxai.errors.InputError` naming the file.
    """
    base = root if root is not None else Path(os.path.realpath(path)).parent
    digest = hashlib.sha256()
    with open_input(path, base) as handle:
        try:
            while block := handle.read(chunk):
                digest.update(block)
        except OSError as exc:
            raise InputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    return digest.hexdigest()
