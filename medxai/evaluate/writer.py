"""The prediction writer: each rank appends its finished rows to its own shard.

Curves are appended before the rows they belong to, so a row on disk always has its
curves; a curve whose row was lost with a killed batch is simply made again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import BasePredictionWriter

from medxai.atomic import write_text_atomic
from medxai.evaluate.layout import RunLayout
from medxai.evaluate.module import BatchOutput
from medxai.evaluate.shards import ShardWriter
from medxai.evaluate.values import format_value

#: Columns of a curve shard.
CURVE_COLUMNS: tuple[str, ...] = ("image", "method", "kind", "values")


class ShardPredictionWriter(BasePredictionWriter):
    """Writes ``BatchOutput`` rows to ``shards/rank{r}.csv`` and curves to ``curves/rank{r}.csv``.

    With ``force``, global rank 0 clears the earlier run's files during ``setup``; Lightning's
    barrier after ``setup`` keeps every rank from writing before that is done. ``run_info``
    is written to ``run.json`` by rank 0 at the same point.
    """

    def __init__(
        self, layout: RunLayout, columns: Sequence[str], run_info: dict[str, Any], force: bool
    ) -> None:
        super().__init__(write_interval="batch")
        self.layout = layout
        self.columns = list(columns)
        self.run_info = run_info
        self.force = force
        self._rows: ShardWriter | None = None
        self._curves: ShardWriter | None = None

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        if trainer.is_global_zero:
            if self.force:
                self.layout.clear()
            write_text_atomic(self.layout.run_json, json.dumps(self.run_info, indent=2) + "\n")

    def _open(self, rank: int) -> tuple[ShardWriter, ShardWriter]:
        if self._rows is None or self._curves is None:
            self._curves = ShardWriter(self.layout.curve_shard(rank), CURVE_COLUMNS)
            self._rows = ShardWriter(self.layout.shard(rank), self.columns)
        return self._rows, self._curves

    def write_on_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        prediction: Any,
        batch_indices: Sequence[int] | None,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        if not isinstance(prediction, BatchOutput):
            return
        rows, curves = self._open(trainer.global_rank)
        curves.append(prediction.curves)
        rows.append({k: format_value(v) for k, v in row.items()} for row in prediction.rows)

    def close(self) -> None:
        """Close the shard files (idempotent)."""
        for writer in (self._rows, self._curves):
            if writer is not None:
                writer.close()
        self._rows = self._curves = None

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self.close()
