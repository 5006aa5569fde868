"""Atomic output: a result is either complete at its final path or absent.

Files are written to a temporary sibling and renamed with :func:`os.replace`, which is
atomic on POSIX within one file system. Folders are built in a temporary sibling folder
and renamed into place by :func:`publish_dir` only when complete.

Two rules protect what is already on disk:

- **Replacement.** ``--force`` replaces only what medxai wrote. An existing folder is
  replaced only when it is empty, or when it holds the *marker* file of the output that
  replaces it (``summary.json`` for a report, ``phantoms.json`` for a phantom set) and
  nothing else than that output's own files (:func:`check_replaceable`). Which files
  those are is recorded when the folder is published: :func:`staged_dir` writes the list
  of every file and folder it holds to :data:`MANIFEST` inside it. A folder without that
  list (written by an older medxai) qualifies only when every entry matches the known
  layout of its kind (the caller's ``layout``; by default the marker alone). A file the
  user added later, a symbolic link or a device anywhere inside, or an unreadable list,
  is refused with a one-line error naming the folder and the first such entry, and the
  folder is left untouched. An evaluation folder, which is added to rather than
  replaced, needs only its marker ``run.json`` (:func:`check_marked`); its ``--force``
  removes its own files and leaves others alone.
- **Stale temporaries.** A temporary sibling is named
  ``.<target>.<host>-<pid>.<random>.partial`` (a folder), ``….tmp`` (a file) or
  ``.<target>.<host>-<pid>.old`` (the previous output while it is being replaced), where
  ``host`` is a short hash of the machine's name and ``pid`` the writing process. A killed
  run leaves one behind; the next write of the same target removes it, and says so on
  stderr, when it is provably stale: written on this machine by a process that no longer
  runs, or (written on another machine, or by an older medxai that did not record its
  process) untouched for :data:`STALE_AFTER_S`. Another live run's temporaries are never
  touched (:func:`clean_stale_temporaries`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from medxai.errors import OutputError

#: Age (seconds since the last change) after which a temporary whose process cannot be
#: checked (another machine, or no process recorded) counts as stale: one day, far
#: longer than any medxai write.
STALE_AFTER_S = 24 * 3600

#: Suffixes of the temporary siblings, by kind.
PARTIAL, TMP, OLD = ".partial", ".tmp", ".old"

#: The list of what a published output folder holds, written inside it by
#: :func:`staged_dir`: JSON ``{"format": "medxai-manifest", "entries": [...]}``, the
#: relative paths of every file and folder (folders end in ``/``), sorted; the list itself
#: is not among them.
MANIFEST = ".medxai-manifest.json"
_MANIFEST_FORMAT = "medxai-manifest"

#: Largest manifest read: a million entries of 100 characters.
_MANIFEST_MAX_BYTES = 100 * 2**20

#: What follows ``.<target>.`` in a temporary's name: ``<host>-<pid>[.<random>]``, or an
#: older medxai's ``<random>`` (8 characters of :mod:`tempfile`'s alphabet) or
#: ``old-<pid>`` (a previous output being replaced; no suffix).
_OWNED = re.compile(r"(?P<host>[0-9a-f]{8})-(?P<pid>[0-9]+)(?:\.[a-z0-9_]+)?")
_LEGACY = re.compile(r"[a-z0-9_]{8}")
_LEGACY_OLD = re.compile(r"old-[0-9]+")


def host_tag() -> str:
    """This machine and PID namespace, as 8 hex digits of a SHA-256.

    The PID namespace is part of it so that two containers sharing an output folder never
    take each other's process numbers for their own.
    """
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    key = f"{socket.gethostname()}\0{namespace}".encode("utf-8", "replace")
    return hashlib.sha256(key).hexdigest()[:8]


def owner_tag() -> str:
    """``<host>-<pid>``: which process on which machine wrote a temporary."""
    return f"{host_tag()}-{os.getpid()}"


def _process_running(pid: int) -> bool:
    """Whether a process ``pid`` runs here (a process we may not signal does run)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _temporary_kind(name: str, target_name: str) -> tuple[str, re.Match[str] | None] | None:
    """``(suffix, owner match or None)`` when ``name`` is a temporary sibling of
    ``target_name``, else ``None``."""
    prefix = f".{target_name}."
    if not name.startswith(prefix):
        return None
    rest = name[len(prefix) :]
    if _LEGACY_OLD.fullmatch(rest):
        return OLD, None
    suffix = next((s for s in (PARTIAL, TMP, OLD) if rest.endswith(s)), None)
    if suffix is None:
        return None
    middle = rest[: -len(suffix)]
    owned = _OWNED.fullmatch(middle)
    if owned is not None:
        return suffix, owned
    if suffix != OLD and _LEGACY.fullmatch(middle):
        return suffix, None
    return None


def stale_reason(path: Path, target: Path, now: float | None = None) -> str | None:
    """Why the temporary sibling ``path`` of ``target`` is stale, or ``None`` if it is not
    one of ``target``'s temporaries or may belong to a live run (see the module's rules)."""
    kind = _temporary_kind(path.name, target.name)
    if kind is None:
        return None
    suffix, owned = kind
    if path.is_symlink() or not (path.is_file() if suffix == TMP else path.is_dir()):
        return None
    if owned is not None and owned["host"] == host_tag():
        pid = int(owned["pid"])
        if pid == os.getpid() or _process_running(pid):
            return None
        return f"left by process {pid}, which no longer runs"
    try:
        age = (time.time() if now is None else now) - path.lstat().st_mtime
    except OSError:
        return None
    if age < STALE_AFTER_S:
        return None
    return f"untouched for {age / 3600:.0f} h"


def clean_stale_temporaries(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the stale temporaries of ``target`` left by killed runs; returns them.

    A stale ``.old`` folder (the previous output of a run killed while replacing it) is
    put back at ``target`` when ``target`` is missing, else removed. Each action is
    reported on stderr in one line; a temporary that cannot be removed is reported and kept.
    """
    final = Path(target)
    prefix = f".{final.name}."
    try:
        siblings = sorted(p for p in final.parent.iterdir() if p.name.startswith(prefix))
    except OSError:
        return []
    cleaned = []
    for path in siblings:
        reason = stale_reason(path, final)
        if reason is None:
            continue
        try:
            if path.name.endswith(OLD) and not final.exists() and not final.is_symlink():
                os.replace(path, final)
                _say(f"restored the previous output {final} from {path.name} ({reason})")
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        except FileNotFoundError:  # another run cleaned it first
            continue
        except OSError as exc:
            _say(f"could not remove the stale temporary {path} ({exc.strerror or exc})")
            continue
        _say(f"removed the stale temporary {path} ({reason})")
        cleaned.append(path)
    return cleaned


def _say(message: str) -> None:
    print(f"medxai: {message}", file=sys.stderr, flush=True)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(target)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.{owner_tag()}.", suffix=TMP, dir=target.parent
    )
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


def check_marked(target: str | os.PathLike[str], marker: str | None) -> None:
    """Raise :class:`OutputError` unless ``target`` is absent, an empty folder, or a folder
    (not a link) that holds the regular file ``marker``, the file every output of that kind
    writes. Anything else (a file, a link, a folder of other files) is refused. With
    ``marker=None`` only an absent target or an empty folder qualifies.
    """
    final = Path(target)
    if _empty_or_absent(final):
        return
    mark = final / marker if marker else None
    if mark is not None and mark.is_file() and not mark.is_symlink():
        return
    what = f"it has no {marker}" if marker else "it is not empty"
    raise OutputError(
        final,
        f"is not a medxai output folder ({what}); medxai replaces only its own outputs, "
        "so nothing was changed: choose another output folder or move this one away",
    )


def _empty_or_absent(final: Path) -> bool:
    """True for an absent ``final`` or an empty folder; False for a folder with entries;
    an OutputError for a link, a file or a folder that cannot be listed."""
    if not final.exists() and not final.is_symlink():
        return True
    if final.is_symlink():
        raise OutputError(final, "is a symbolic link; medxai replaces only its own output folders")
    if not final.is_dir():
        raise OutputError(final, "exists and is not a folder")
    try:
        return next(final.iterdir(), None) is None
    except OSError as exc:
        raise OutputError(final, f"cannot list the folder ({exc.strerror or exc})") from exc


def check_replaceable(
    target: str | os.PathLike[str],
    marker: str | None,
    layout: re.Pattern[str] | None = None,
) -> None:
    """Raise :class:`OutputError` unless ``--force`` may replace ``target`` whole.

    The rule (see the module notes): :func:`check_marked`, and every entry inside is part
    of the output that the marker describes, the entries listed in its :data:`MANIFEST`
    or, without one, entries that ``layout`` matches (a regular expression over relative
    paths, folders ending in ``/``; the marker always matches). The error names the
    folder and the first entry, in sorted order, that medxai did not write.
    """
    final = Path(target)
    check_marked(final, marker)
    if _empty_or_absent(final):
        return
    listed = _manifest_entries(final)
    for relative, kind in _walk(final):
        if relative == MANIFEST and listed is not None:
            continue
        if kind in ("file", "folder"):
            if listed is not None and relative in listed:
                continue
            if listed is None and (
                relative == marker or (layout is not None and layout.fullmatch(relative))
            ):
                continue
        what = {"link": "a symbolic link", "other": "a device, FIFO or socket"}.get(kind)
        whose = f"{what} medxai did not write" if what else "which medxai did not write"
        raise OutputError(
            final,
            f"holds {relative.rstrip('/')}, {whose}; --force replaces only medxai's own "
            "outputs, so nothing was changed: move it away or choose another output folder",
        )


def _walk(folder: Path, prefix: str = "") -> Iterator[tuple[str, str]]:
    """``(relative path, kind)`` of every entry under ``folder``, links not followed, in
    sorted order; ``kind`` is ``"file"``, ``"folder"`` (path ending in ``/``), ``"link"``
    or ``"other"``."""
    try:
        with os.scandir(folder) as found:
            entries = sorted(found, key=lambda e: e.name)
    except OSError as exc:
        raise OutputError(folder, f"cannot list the folder ({exc.strerror or exc})") from exc
    for entry in entries:
        relative = prefix + entry.name
        if entry.is_symlink():
            yield relative, "link"
        elif entry.is_dir(follow_symlinks=False):
            yield relative + "/", "folder"
            yield from _walk(Path(entry.path), relative + "/")
        elif entry.is_file(follow_symlinks=False):
            yield relative, "file"
        else:
            yield relative, "other"


def _manifest_entries(final: Path) -> set[str] | None:
    """The entries :data:`MANIFEST` in ``final`` lists; ``None`` when there is none; an
    :class:`OutputError` when it is there but not a readable list."""
    path = final / MANIFEST
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(path, f"cannot read the file list ({exc.strerror or exc})") from exc
    unreadable = OutputError(
        path, "the file list of this output folder is unreadable, so medxai cannot tell its "
        "own files from others; nothing was changed: move the folder away or choose another"
    )
    if not stat.S_ISREG(status.st_mode) or status.st_size > _MANIFEST_MAX_BYTES:
        raise unreadable
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as handle:
            data = json.loads(handle.read(_MANIFEST_MAX_BYTES + 1).decode("utf-8"))
    except (OSError, ValueError):
        raise unreadable from None
    if not isinstance(data, dict) or data.get("format") != _MANIFEST_FORMAT:
        raise unreadable
    entries = data.get("entries")
    if (
        not isinstance(entries, list)
        or not all(isinstance(e, str) for e in entries)
    ):
        raise unreadable
    return set(entries)


def write_manifest(folder: Path) -> Path:
    """Write :data:`MANIFEST` into ``folder``, listing everything it holds now."""
    entries = [relative for relative, _ in _walk(folder) if relative != MANIFEST]
    data = {"format": _MANIFEST_FORMAT, "entries": entries}
    path = folder / MANIFEST
    path.write_text(json.dumps(data, indent=0) + "\n", encoding="utf-8")
    return path


@contextlib.contextmanager
def staged_dir(
    target: str | os.PathLike[str],
    force: bool = False,
    *,
    marker: str | None = None,
    layout: re.Pattern[str] | None = None,
) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success, list what it holds in
    :data:`MANIFEST` and rename it to ``target``.

    Stale temporaries of earlier, killed runs are cleaned first
    (:func:`clean_stale_temporaries`). Then, if ``target`` exists and ``force`` is false,
    :class:`OutputError` is raised before anything is written; with ``force`` it must
    pass :func:`check_replaceable` with ``marker`` and ``layout``. On any exception the
    temporary folder is removed and ``target`` is left exactly as it was.
    """
    final = Path(target)
    check_writable_parent(final)
    clean_stale_temporaries(final)  # first: it may put back a previous output
    if final.exists() or final.is_symlink():
        if not force:
            raise OutputError(final, "already exists; pass --force to replace it")
        check_replaceable(final, marker, layout)
    try:
        tmp = Path(
            tempfile.mkdtemp(
                prefix=f".{final.name}.{owner_tag()}.", suffix=PARTIAL, dir=final.parent
            )
        )
    except OSError as exc:
        raise OutputError(final.parent, f"cannot write here ({exc.strerror or exc})") from exc
    try:
        yield tmp
        write_manifest(tmp)
        publish_dir(tmp, final, force=force, marker=marker, layout=layout)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def publish_dir(
    tmp: Path,
    final: Path,
    force: bool,
    *,
    marker: str | None = None,
    layout: re.Pattern[str] | None = None,
) -> None:
    """Rename the complete folder ``tmp`` to ``final``, replacing it only when ``force`` and
    :func:`check_replaceable` allows (checked again here: the folder may have changed)."""
    if final.exists() or final.is_symlink():
        if not force:
            raise OutputError(final, "already exists; pass --force to replace it")
        check_replaceable(final, marker, layout)
        old = final.with_name(f".{final.name}.{owner_tag()}{OLD}")
        os.replace(final, old)
        try:
            os.replace(tmp, final)
        except BaseException:
            os.replace(old, final)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)
