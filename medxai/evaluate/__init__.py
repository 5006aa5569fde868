"""``medxai evaluate``: saliency methods × metrics over a MURA-layout split, at scale.

The run is a Lightning ``Trainer.predict`` job (:mod:`medxai.evaluate.module`), so
``--devices``/``--num-nodes``/``--strategy ddp`` shard the images across processes. Each
rank appends finished rows to its own shard (:mod:`medxai.evaluate.shards`); a rerun skips
rows already on disk; rank 0 merges the shards into ``per_image.csv`` and writes the
summary with bootstrap CIs and the curve plots (:mod:`medxai.evaluate.runner`).
"""

from medxai.evaluate.catalog import METRIC_COLUMNS, table_columns
from medxai.evaluate.options import EvaluationOptions
from medxai.evaluate.runner import EvaluationOutcome, run_evaluation

__all__ = [
    "METRIC_COLUMNS",
    "EvaluationOptions",
    "EvaluationOutcome",
    "run_evaluation",
    "table_columns",
]
