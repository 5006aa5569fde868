"""Merging, bootstrap CIs and the summary tables, on hand-made rows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medxai.errors import MedxaiError
from medxai.evaluate.catalog import canonical_metrics, metric_columns, table_columns
from medxai.evaluate.merge import merge_rows, table_csv
from medxai.evaluate.summary import groups_of, summarise, summary_csv, summary_markdown
from medxai.metrics.bootstrap import bootstrap_mean, cell_rng


def _row(image: str, method: str, value: str, part: str = "XR_WRIST") -> dict[str, str]:
    return {"image": image, "method": method, "body_part": part, "relevance_mass": value}


def test_merge_keeps_wanted_keys_once_in_a_fixed_order() -> None:
    rows = [
        _row("v/p/image10.png", "cam", "1"),
        _row("v/p/image2.png", "pcam±", "2"),
        _row("v/p/image2.png", "cam", "3"),
        _row("v/p/image2.png", "cam", "3.0000001"),  # the same key made again
        _row("v/p/stale.png", "cam", "9"),  # not in this run's selection
    ]
    wanted = [(f"v/p/image{i}.png", m) for m in ("cam", "pcam±") for i in (2, 10)]
    merged = merge_rows(rows, wanted[:3], ["pcam±", "cam"])
    assert [(r["image"], r["method"], r["relevance_mass"]) for r in merged] == [
        ("v/p/image2.png", "pcam±", "2"),
        ("v/p/image2.png", "cam", "3"),
        ("v/p/image10.png", "cam", "1"),
    ]
    assert table_csv(merged, ["image", "method"]).splitlines()[0] == "image,method"


def test_bootstrap_is_seeded_and_ignores_nan() -> None:
    values = np.array([0.1, 0.4, math.nan, 0.9, 0.3, 0.5])
    a = bootstrap_mean(values, resamples=500, rng=cell_rng(0, "all/cam/x"))
    b = bootstrap_mean(values, resamples=500, rng=cell_rng(0, "all/cam/x"))
    assert a == b
    assert a.n == 5 and a.mean == pytest.approx(0.44)
    assert a.low < a.mean < a.high
    c = bootstrap_mean(values, resamples=500, rng=cell_rng(1, "all/cam/x"))
    assert (c.low, c.high) != (a.low, a.high)
    assert bootstrap_mean(np.array([0.7, 0.7]), resamples=50, rng=cell_rng(0, "c")).low == 0.7
    empty = bootstrap_mean(np.array([math.nan]), resamples=50, rng=cell_rng(0, "c"))
    assert empty.n == 0 and math.isnan(empty.mean)


def test_summary_groups_and_tables() -> None:
    rows = [
        _row("a.png", "cam", "0.2", "XR_HAND"),
        _row("b.png", "cam", "0.4", "XR_WRIST"),
        _row("c.png", "cam", "nan", "XR_WRIST"),
    ]
    assert groups_of(rows) == ["all", "XR_HAND", "XR_WRIST"]
    cells = summarise(rows, ["cam"], ["relevance_mass"], seed=0, resamples=200)
    by_group = {c.group: c.estimate for c in cells}
    assert by_group["all"].n == 2 and by_group["all"].mean == pytest.approx(0.3)
    assert by_group["XR_HAND"].mean == pytest.approx(0.2)
    text = summary_csv(cells)
    assert text.splitlines()[0] == "group,method,metric,n,mean,ci_low,ci_high"
    assert len(text.splitlines()) == 4
    markdown = summary_markdown(cells, title="t", notes=["n1"])
    assert "## XR_WRIST" in markdown and "| relevance_mass | 0.300 [" in markdown


def test_metric_names_are_validated_and_expanded() -> None:
    assert canonical_metrics(["ins-del", "Localization"]) == [
        "insertion",
        "deletion",
        "localisation",
    ]
    assert metric_columns(["insertion", "deletion"]) == ["insertion_auc", "deletion_auc", "ins_del"]
    assert metric_columns(["deletion"]) == ["deletion_auc"]
    assert table_columns(["confidence"])[-2:] == ["average_drop", "increase_in_confidence"]
    with pytest.raises(MedxaiError, match="valid metrics: insertion, deletion"):
        canonical_metrics(["insertion", "bogus"])
