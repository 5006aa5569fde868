"""The LightningModule whose ``predict_step`` explains a batch and measures the maps."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from medxai.evaluate import measures
from medxai.evaluate.options import EvaluationOptions
from medxai.evaluate.selection import WorkItem
from medxai.evaluate.values import format_curve

#: Methods built with the Poly-CAM options (channel budget, input size).
POLYCAM_METHODS = ("pcam+", "pcam-", "pcam±")


@dataclass
class BatchOutput:
    """What one batch produced: finished rows and their curves (``kind``: insertion/deletion)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    curves: list[dict[str, str]] = field(default_factory=list)


class EvaluationModule(pl.LightningModule):
    """Explains each pending (image, method) pair of ``work`` and measures the map.

    The classifier is the loaded model; explainers are built lazily, once per method, on
    the device Lightning moved the classifier to.
    """

    allow_zero_length_dataloader_with_multiple_devices = True

    def __init__(
        self,
        classifier: nn.Module,
        work: Sequence[WorkItem],
        options: EvaluationOptions,
        input_size: int,
    ) -> None:
        super().__init__()
        self.classifier = classifier
        self.work = list(work)
        self.options = options
        self.input_size = int(input_size)
        self.steps = options.resolved_steps(input_size)
        self._explainers: dict[str, Any] = {}

    def explainer(self, method: str) -> Any:
        """The explainer of ``method`` for the classifier (built on first use)."""
        if method not in self._explainers:
            from medxai import cams

            opts: dict[str, Any] = {}
            if method == "cam" or method in POLYCAM_METHODS:
                opts["input_size"] = (self.input_size, self.input_size)
            if method in POLYCAM_METHODS and self.options.channel_budget is not None:
                opts["channel_budget"] = int(self.options.channel_budget)
            self._explainers[method] = cams.create(method, self.classifier, **opts)
        return self._explainers[method]

    def predict_step(self, batch: dict[str, Any], batch_idx: int) -> BatchOutput:
        x: Tensor = batch["x"]
        with torch.no_grad():
            logits = self.classifier(x)
        from medxai.cams.targets import class_probability

        targets = measures.explained_targets(logits, self.options.explain_target)
        scores = class_probability(logits, targets).cpu()
        output = BatchOutput()
        for method in self.options.methods:
            pick = [j for j, i in enumerate(batch["index"]) if method in self.work[i].methods]
            if pick:
                self._measure(method, batch, pick, x, targets, scores, output)
        return output

    def _measure(
        self,
        method: str,
        batch: dict[str, Any],
        pick: list[int],
        x: Tensor,
        targets: Tensor,
        scores: Tensor,
        output: BatchOutput,
    ) -> None:
        opts = self.options
        wanted = set(opts.metrics)
        index = torch.as_tensor(pick, device=x.device)
        xs, ts = x[index], targets[pick]
        items = [self.work[batch["index"][j]] for j in pick]
        explainer = self.explainer(method)
        start = time.perf_counter()
        with torch.enable_grad():  # gradient-based methods need it; the others ignore it
            result = explainer(xs, targets=ts)
        seconds = (time.perf_counter() - start) / len(pick)
        saliency = result.saliency.detach()
        values: list[dict[str, Any]] = [{} for _ in pick]

        if wanted & {"insertion", "deletion"}:
            rows, ins, dele = measures.faithfulness(
                self.classifier, xs, saliency, ts, steps=self.steps, batch_size=opts.forward_batch
            )
            for k, item in enumerate(items):
                values[k].update(rows[k])
                for kind, curve in (("insertion", ins[k]), ("deletion", dele[k])):
                    if kind in wanted:
                        output.curves.append(
                            {
                                "image": item.image,
                                "method": method,
                                "kind": kind,
                                "values": format_curve(curve.tolist()),
                            }
                        )
        if "confidence" in wanted:
            rows = measures.confidence(
                self.classifier, xs, saliency, ts, batch_size=opts.forward_batch
            )
            for k, row in enumerate(rows):
                values[k].update(row)
        if "sensitivity-max" in wanted:
            rows = measures.sensitivity(
                explainer,
                self.classifier,
                xs,
                ts,
                [item.image for item in items],
                seed=opts.seed,
                radius=opts.sensitivity_radius,
                samples=opts.sensitivity_samples,
            )
            for k, row in enumerate(rows):
                values[k].update(row)
        if "localisation" in wanted:
            for k, j in enumerate(pick):
                values[k].update(
                    measures.localisation(saliency[k], batch["annotation"][j], batch["cast"][j])
                )

        for k, (j, item) in enumerate(zip(pick, items)):
            record = item.record
            output.rows.append(
                {
                    "image": item.image,
                    "split": record.split,
                    "body_part": record.body_part,
                    "patient": record.patient,
                    "study": record.study_id,
                    "label": int(record.label),
                    "method": method,
                    "target": int(targets[j]),
                    "score": float(scores[j]),
                    "approximate": bool(result.approximate),
                    "seconds": seconds,
                    **values[k],
                }
            )
