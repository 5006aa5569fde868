"""Atomic output: a result is either complete at its final path or absent.

Files are written to a temporary sibling and renamed with :func:`os.replace`, which is
atomic on POSIX within one file system. Folders are built in a temporary sibling folder
and renamed into place by :func:`publish_dir` only when complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from medxai.errors import OutputError


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Text variant of :func:`write_bytes_atomic`."""
    return write_bytes_atomic(path, text.encode(encoding))


def check_writable_parent(target: Path) -> None:
    """Raise :class:`OutputError` unless ``target``'s parent exists (or can be made) and is
    writable."""
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(parent, f"cannot create output folder ({exc.strerror or exc})") from exc
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(parent, "output folder is not writable")


@contextlib.contextmanager
def staged_dir(target: str | os.PathLike[str], force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success, rename it to ``target``.

    If ``target`` exists and ``force`` is false, :class:`OutputError` is raised before
    anything is written. On any exception the temporary folder is removed and ``target``
    is left exactly as it was.
    """
    final = Path(target)
    if final.exists() and not force:
        raise OutputError(final, "already exists; pass --force to replace it")
    check_writable_parent(final)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent))
    except OSError as exc:
        raise OutputError(final.parent, f"cannot write here ({exc.strerror or exc})") from exc
    try:
        yield tmp
        publish_dir(tmp, final, force=force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def publish_dir(tmp: Path, final: Path, force: bool) -> None:
    """Rename the complete folder ``tmp`` to ``final``, replacing it only when ``force``."""
    if final.exists():
        if not force:
            raise OutputError(final, "already exists; pass --force to replace it")
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, old)
        try:
            os.replace(tmp, final)
        except BaseException:
            os.replace(old, final)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)
