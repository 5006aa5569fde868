"""Append-only CSV shards: one file per rank, crash-safe line by line.

A shard is a CSV file with a header line, then one line per finished row. Rows are
appended in blocks; each block is flushed and ``fsync``'d before the writer returns, so a
killed process leaves every complete line on disk and, at worst, one partial last line
(no trailing newline). Readers ignore that partial line; a writer that reopens the file
cuts it off before appending, so it never glues a new row onto a broken one.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path


def _complete_text(path: Path) -> str:
    """The file's text up to and including its last newline ('' if there is none)."""
    data = path.read_bytes()
    end = data.rfind(b"\n")
    return data[: end + 1].decode("utf-8", errors="replace") if end >= 0 else ""


def read_shard(path: str | os.PathLike[str]) -> Iterator[dict[str, str]]:
    """The complete rows of one shard as dicts keyed by its header.

    A partial last line, and any line whose field count differs from the header's, are
    skipped. A missing or empty file yields nothing.
    """
    path = Path(path)
    if not path.is_file():
        return
    reader = csv.reader(io.StringIO(_complete_text(path), newline=""))
    header = next(reader, None)
    if not header:
        return
    for fields in reader:
        if len(fields) == len(header):
            yield dict(zip(header, fields))


def read_shards(paths: Iterable[str | os.PathLike[str]]) -> Iterator[dict[str, str]]:
    """The complete rows of several shards, file after file."""
    for path in paths:
        yield from read_shard(path)


def shard_paths(folder: str | os.PathLike[str]) -> list[Path]:
    """The ``rank*.csv`` shards in ``folder``, sorted by name (empty if there is none)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(folder.glob("rank*.csv"))


class ShardWriter:
    """Appends rows to one shard file; every :meth:`append` is durable when it returns.

    On open, a partial last line left by a killed writer is cut off, and a header is
    written to a new or empty file. A file whose header differs from ``columns`` is an
    error: its rows were made with other settings.
    """

    def __init__(self, path: str | os.PathLike[str], columns: Sequence[str]) -> None:
        self.path = Path(path)
        self.columns = list(columns)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.path, "a+b")  # noqa: SIM115 - closed in close()
        self._repair()

    def _repair(self) -> None:
        handle = self._handle
        handle.seek(0)
        data = handle.read()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            handle.truncate(end)
        if end == 0:
            self._write([self.columns])
            return
        header = next(csv.reader(io.StringIO(data[:end].decode("utf-8", errors="replace"))))
        if header != self.columns:
            self.close()
            raise ValueError(
                f"{self.path}: columns {header} differ from {self.columns}; "
                "it was written with other settings"
            )

    def _write(self, lines: Iterable[Sequence[str]]) -> None:
        buffer = io.StringIO(newline="")
        csv.writer(buffer, lineterminator="\n").writerows(lines)
        self._handle.seek(0, os.SEEK_END)
        self._handle.write(buffer.getvalue().encode("utf-8"))
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def append(self, rows: Iterable[Mapping[str, str]]) -> None:
        """Append ``rows`` (dicts of already formatted fields) and make them durable."""
        lines = [[row.get(c, "") for c in self.columns] for row in rows]
        if lines:
            self._write(lines)

    def close(self) -> None:
        """Close the file (idempotent)."""
        if not self._handle.closed:
            self._handle.close()

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
