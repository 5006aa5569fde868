"""Merging the ranks' shards into one table, the same whatever the number of ranks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from medxai.atomic import write_text_atomic
from medxai.evaluate.shards import read_shards, shard_paths
from medxai.evaluate.values import parse_curve
from medxai.io.images import natural_key

Key = tuple[str, str]


def merge_rows(
    rows: Iterable[Mapping[str, str]], wanted: Sequence[Key], methods: Sequence[str]
) -> list[dict[str, str]]:
    """The rows whose (image, method) key is in ``wanted``, one per key, in a fixed order.

    The first row seen for a key is kept (a key appears twice only when a batch was
    made again after a kill, with the same values). Rows are sorted by method in the
    order of ``methods``, then by image path in natural order, so the table does not
    depend on how the images were sharded across ranks.
    """
    keep = set(wanted)
    merged: dict[Key, dict[str, str]] = {}
    for row in rows:
        key = (row.get("image", ""), row.get("method", ""))
        if key in keep and key not in merged:
            merged[key] = dict(row)
    rank = {m: i for i, m in enumerate(methods)}
    order = sorted(merged, key=lambda k: (rank.get(k[1], len(rank)), natural_key(k[0])))
    return [merged[k] for k in order]


def merged_table(shards: Path, wanted: Sequence[Key], methods: Sequence[str]) -> list[dict]:
    """:func:`merge_rows` over every ``rank*.csv`` in the folder ``shards``."""
    return merge_rows(read_shards(shard_paths(shards)), wanted, methods)


def table_csv(rows: Sequence[Mapping[str, str]], columns: Sequence[str]) -> str:
    """The rows as CSV text with a header line (``\\n`` line ends)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([row.get(c, "") for c in columns] for row in rows)
    return buffer.getvalue()


def write_table(path: Path, rows: Sequence[Mapping[str, str]], columns: Sequence[str]) -> Path:
    """Write the rows to ``path`` atomically."""
    return write_text_atomic(path, table_csv(rows, columns))


def merged_curves(
    curve_shards: Path, rows: Sequence[Mapping[str, str]], kinds: Sequence[str]
) -> dict[str, dict[str, np.ndarray]]:
    """Per kind and method, the ``N×(n+1)`` curves of the merged ``rows``, in row order.

    A row whose curve is missing is left out of its method's stack.
    """
    found: dict[tuple[str, str, str], str] = {}
    for row in read_shards(shard_paths(curve_shards)):
        key = (row["image"], row["method"], row["kind"])
        found.setdefault(key, row["values"])
    curves: dict[str, dict[str, list[list[float]]]] = {k: {} for k in kinds}
    for row in rows:
        for kind in kinds:
            text = found.get((row["image"], row["method"], kind))
            if text is not None:
                curves[kind].setdefault(row["method"], []).append(parse_curve(text))
    return {
        kind: {m: np.asarray(v, dtype=np.float64) for m, v in per.items()}
        for kind, per in curves.items()
    }
