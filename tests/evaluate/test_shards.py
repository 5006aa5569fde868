"""Shards survive a kill: partial last lines are ignored on read and cut off on reopen."""

from __future__ import annotations

from pathlib import Path

import pytest

from medxai.evaluate.shards import ShardWriter, read_shard, read_shards, shard_paths

COLUMNS = ["image", "method", "value"]


def _rows(n: int, start: int = 0) -> list[dict[str, str]]:
    return [{"image": f"a/image{i}.png", "method": "cam", "value": str(i)} for i in range(start, n)]


def test_rows_round_trip_with_quoting(tmp_path: Path) -> None:
    path = tmp_path / "shards" / "rank0.csv"
    rows = [{"image": 'odd, "name".png', "method": "pcam±", "value": "0.5"}]
    with ShardWriter(path, COLUMNS) as writer:
        writer.append(rows)
    assert list(read_shard(path)) == rows


def test_partial_last_line_is_ignored_and_cut_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "rank0.csv"
    with ShardWriter(path, COLUMNS) as writer:
        writer.append(_rows(3))
    with open(path, "ab") as handle:  # a kill in the middle of a line
        handle.write(b"a/image3.png,ca")
    assert [r["value"] for r in read_shard(path)] == ["0", "1", "2"]
    with ShardWriter(path, COLUMNS) as writer:
        writer.append(_rows(5, start=3))
    assert [r["value"] for r in read_shard(path)] == ["0", "1", "2", "3", "4"]
    assert path.read_bytes().endswith(b"\n")


def test_header_cut_mid_line_starts_a_fresh_file(tmp_path: Path) -> None:
    path = tmp_path / "rank1.csv"
    path.write_bytes(b"image,met")
    assert list(read_shard(path)) == []
    with ShardWriter(path, COLUMNS) as writer:
        writer.append(_rows(1))
    assert path.read_text().splitlines() == ["image,method,value", "a/image0.png,cam,0"]


def test_other_columns_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "rank0.csv"
    with ShardWriter(path, COLUMNS) as writer:
        writer.append(_rows(1))
    with pytest.raises(ValueError, match="other settings"):
        ShardWriter(path, ["image", "method", "other"])


def test_shards_are_found_and_read_in_name_order(tmp_path: Path) -> None:
    for rank in (1, 0):
        with ShardWriter(tmp_path / f"rank{rank}.csv", COLUMNS) as writer:
            writer.append(_rows(rank + 1, start=rank))
    (tmp_path / "notes.txt").write_text("x")
    paths = shard_paths(tmp_path)
    assert [p.name for p in paths] == ["rank0.csv", "rank1.csv"]
    assert [r["value"] for r in read_shards(paths)] == ["0", "1"]
    assert shard_paths(tmp_path / "missing") == []
