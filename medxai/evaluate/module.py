"""The LightningModule whose ``predict_step`` explains a batch and measures the maps."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from medxai.checkpoint import require_finite
from medxai.evaluate import measures
from medxai.evaluate.options import EvaluationOptions
from medxai.evaluate.selection import WorkItem
from medxai.evaluate.values import format_curve
from medxai.metrics.localisation import localisation_row


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
        *,
        target_class: int | None,
    ) -> None:
        super().__init__()
        self.classifier = classifier
        self.target_class = target_class  # None: each image's predicted class
        self.work = list(work)
        self.options = options
        self.input_size = int(input_size)
        self.steps = options.resolved_steps(input_size)
        self._explainers: dict[str, Any] = {}

    def explainer(self, method: str) -> Any:
        """The explainer of ``method`` for the classifier (built on first use)."""
        if method not in self._explainers:
            from medxai import cams
            from medxai.cams.presets import method_options

            opts = method_options(
                method,
                mode=self.options.mode(),
                device=self.device,
                input_size=self.input_size,
                batch_size=int(self.options.forward_batch),
                seed=int(self.options.seed),
            )
            self._explainers[method] = cams.create(method, self.classifier, **opts)
        return self._explainers[method]

    def predict_step(self, batch: dict[str, Any], batch_idx: int) -> BatchOutput:
        """Explain and measure every pending (image, method) pair of the batch.

        Each image goes through the classifier, the explainers and the metrics on its
        own (a batch of one; the explainers and metrics batch their own inner passes), so
        its row does not depend on which images share its batch or its rank: one process
        and many give the same table.
        """
        from medxai.cams.targets import class_probability

        output = BatchOutput()
        for j, index in enumerate(batch["index"]):
            item = self.work[index]
            x = batch["x"][j : j + 1]
            with torch.no_grad():
                logits = self.classifier(x)
            require_finite(
                logits, self.options.checkpoint, f"the model's output for {item.image}"
            )
            target = measures.explained_targets(logits, self.target_class)
            score = float(class_probability(logits, target)[0])
            for method in self.options.methods:
                if method in item.methods:
                    truth = (batch["annotation"][j], batch["cast"][j])
                    self._measure(method, item, x, target, score, truth, output)
        return output

    def _measure(
        self,
        method: str,
        item: WorkItem,
        x: Tensor,
        target: Tensor,
        score: float,
        truth: tuple[Any, Any],
        output: BatchOutput,
    ) -> None:
        """One row (and its curves) for ``item`` explained by ``method``; ``x`` is ``1×C×S×S``."""
        opts = self.options
        wanted = set(opts.metrics)
        explainer = self.explainer(method)
        start = time.perf_counter()
        with torch.enable_grad():  # gradient-based methods need it; the others ignore it
            result = explainer(x, targets=target)
        seconds = time.perf_counter() - start
        require_finite(
            result.saliency, self.options.checkpoint, f"the {method} map of {item.image}"
        )
        saliency = result.saliency.detach()
        values: dict[str, Any] = {}

        if wanted & {"insertion", "deletion"}:
            rows, ins, dele = measures.faithfulness(
                self.classifier,
                x,
                saliency,
                target,
                steps=self.steps,
                batch_size=opts.forward_batch,
            )
            values.update(rows[0])
            for kind, curve in (("insertion", ins[0]), ("deletion", dele[0])):
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
            values.update(
                measures.confidence(
                    self.classifier, x, saliency, target, batch_size=opts.forward_batch
                )[0]
            )
        if "sensitivity-max" in wanted:
            values.update(
                measures.sensitivity(
                    explainer,
                    self.classifier,
                    x,
                    target,
                    [item.image],
                    seed=opts.seed,
                    radius=opts.sensitivity_radius,
                    samples=opts.sensitivity_samples,
                )[0]
            )
        if "localisation" in wanted:
            values.update(localisation_row(saliency[0], *truth))
        if "sanity" in wanted:
            values.update(measures.sanity(result)[0])

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
                "target": int(target[0]),
                "score": score,
                "approximate": bool(result.approximate),
                "seconds": seconds,
                **values,
            }
        )
