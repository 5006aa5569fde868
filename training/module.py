"""The LightningModule: a one-logit abnormality classifier trained with the MURA recipe.

Loss: binary cross-entropy on the "abnormal" logit, weighted by class frequency as in the
MURA paper (Rajpurkar et al. 2017, section 3): for an image of body part ``T``,

    L = -w_A(T) · y · log p - w_N(T) · (1 - y) · log(1 - p)
    w_A(T) = |N_T| / (|A_T| + |N_T|),   w_N(T) = |A_T| / (|A_T| + |N_T|)

where ``|A_T|`` and ``|N_T|`` are the abnormal and normal *images* of body part ``T`` in
the training split. ``loss_weighting="global"`` uses the counts of all body parts
together, ``"none"`` plain BCE. The paper's recipe does not state the loss; this choice
is medxai's. The weights come from the data module's training split when fitting;
validation without them (``trainer.validate``) reports an unweighted loss.

Optimiser: Adam with L2 weight decay (``torch.optim.Adam(weight_decay=...)``, not AdamW),
and a cosine schedule over ``trainer.max_epochs`` epochs without restart, stepped once
per epoch.

Every checkpoint gets ``checkpoint["medxai"]`` (see :mod:`medxai.checkpoint`): the
architecture, input size, normalisation, class names, the latest and best validation
metrics, and the data provenance.
"""

from __future__ import annotations

import math
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import Tensor

from medxai.checkpoint import METADATA_KEY, make_metadata, validate_metadata
from medxai.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from medxai.errors import MedxaiError
from medxai.models import build_classifier
from training.metrics import MURA_BODY_PARTS, MuraMetrics

#: The metric the best checkpoint is chosen by.
MONITOR = "val/study_kappa"
LOSS_WEIGHTINGS = ("body_part", "global", "none")


def mura_class_weights(
    counts: dict[str, tuple[int, int]], mode: str
) -> dict[str, tuple[float, float]]:
    """``{body_part: (w_normal, w_abnormal)}`` from ``{body_part: (normal, abnormal)}`` images.

    ``w_abnormal = N / (A + N)`` and ``w_normal = A / (A + N)`` (MURA paper), per body part
    (``mode="body_part"``) or over all parts (``"global"``); ``"none"`` gives (1, 1).
    A body part with a single class present falls back to the global weights.
    """
    if mode not in LOSS_WEIGHTINGS:
        raise ValueError(f"loss_weighting must be one of {LOSS_WEIGHTINGS}, got {mode!r}")
    total_n = sum(n for n, _ in counts.values())
    total_a = sum(a for _, a in counts.values())
    if mode == "none" or total_n + total_a == 0:
        return {part: (1.0, 1.0) for part in counts}

    def pair(n: int, a: int) -> tuple[float, float]:
        return a / (a + n), n / (a + n)

    overall = pair(total_n, total_a)
    if mode == "global":
        return {part: overall for part in counts}
    return {part: pair(n, a) if n and a else overall for part, (n, a) in counts.items()}


class MuraClassifier(pl.LightningModule):
    """Abnormality classifier for MURA radiographs (one logit: abnormal).

    Args:
        arch: backbone, one of :data:`medxai.models.ARCHITECTURES`.
        weights: ``"IMAGENET1K_V1"`` (read offline from the torchvision cache), a file
            path, or ``None`` for random initialisation.
        lr: Adam's initial learning rate (recipe: 6e-5).
        weight_decay: Adam's L2 term (recipe: 1e-5).
        loss_weighting: ``"body_part"`` (MURA paper), ``"global"`` or ``"none"``.
        channels_last: use the channels-last memory format (faster on GPUs with AMP).
    """

    def __init__(
        self,
        arch: str = "resnet50",
        weights: str | None = "IMAGENET1K_V1",
        lr: float = 6e-5,
        weight_decay: float = 1e-5,
        loss_weighting: str = "body_part",
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        if loss_weighting not in LOSS_WEIGHTINGS:
            raise ValueError(f"loss_weighting must be one of {LOSS_WEIGHTINGS}")
        self.save_hyperparameters()
        self.model = build_classifier(arch, num_outputs=1, weights=weights)
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.class_weights: dict[str, tuple[float, float]] = {}
        self.val_metrics = MuraMetrics(MURA_BODY_PARTS)
        self.input_size = 320
        self.mean: tuple[float, ...] = IMAGENET_MEAN
        self.std: tuple[float, ...] = IMAGENET_STD
        self.data_provenance: dict[str, Any] = {}
        self.latest_metrics: dict[str, float] = {}
        self.best_metrics: dict[str, float] = {}

    # -- set-up from the data module ---------------------------------------------------
    def setup(self, stage: str) -> None:
        """Take the loss weights, body parts, input size and provenance from the data."""
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer else None
        if datamodule is None:
            return
        if stage == "fit" and hasattr(datamodule, "class_counts"):
            self.class_weights = mura_class_weights(
                datamodule.class_counts(), self.hparams.loss_weighting
            )
        if hasattr(datamodule, "val_body_parts"):
            parts = sorted(set(MURA_BODY_PARTS) | set(datamodule.val_body_parts()))
            self.val_metrics = MuraMetrics(parts).to(self.device)
        self.input_size = int(getattr(datamodule, "size", self.input_size))
        self.mean = tuple(getattr(datamodule, "mean", self.mean))
        self.std = tuple(getattr(datamodule, "std", self.std))
        if hasattr(datamodule, "provenance"):
            self.data_provenance = datamodule.provenance()

    # -- steps -------------------------------------------------------------------------
    def forward(self, x: Tensor) -> Tensor:
        """The abnormal logit, shape (B,)."""
        if self.hparams.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.model(x).squeeze(1)

    def _loss(self, logits: Tensor, labels: Tensor, parts: list[str]) -> Tensor:
        target = labels.float()
        if not self.class_weights:
            return F.binary_cross_entropy_with_logits(logits, target)
        fallback = (1.0, 1.0)
        pairs = [self.class_weights.get(p, fallback) for p in parts]
        w = torch.tensor(pairs, dtype=logits.dtype, device=logits.device)
        weight = torch.where(labels.bool(), w[:, 1], w[:, 0])
        return F.binary_cross_entropy_with_logits(logits, target, weight=weight)

    def training_step(self, batch: tuple, batch_idx: int) -> Tensor:
        images, labels, _, parts, _ = batch
        logits = self(images)
        loss = self._loss(logits, labels, list(parts))
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True,
                 batch_size=len(labels))
        return loss

    def validation_step(self, batch: tuple, batch_idx: int) -> None:
        images, labels, studies, parts, paths = batch
        logits = self(images)
        loss = self._loss(logits, labels, list(parts))
        self.log("val/loss", loss, on_epoch=True, sync_dist=True, batch_size=len(labels))
        self.val_metrics.update(torch.sigmoid(logits.float()), labels, paths, studies, parts)

    def on_validation_epoch_end(self) -> None:
        values = self.val_metrics.compute()  # gathered from every rank, see training.metrics
        self.val_metrics.reset()
        logged = {f"val/{k}": v for k, v in values.items() if k not in ("images", "studies")}
        # Values are identical on every rank (computed from the gathered states).
        for name, value in logged.items():
            self.log(name, value, prog_bar=name in (MONITOR, "val/study_auroc"), sync_dist=False)
        if self.trainer.sanity_checking:
            return
        record = {**logged, "epoch": int(self.current_epoch), **{
            k: v for k, v in values.items() if k in ("images", "studies")}}
        self.latest_metrics = record
        best = self.best_metrics.get(MONITOR, -math.inf)
        current = record.get(MONITOR, math.nan)
        if not math.isnan(current) and (current > best or not self.best_metrics):
            self.best_metrics = dict(record)

    # -- optimiser ---------------------------------------------------------------------
    def configure_optimizers(self) -> dict[str, Any]:
        optimizer = torch.optim.Adam(
            self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay
        )
        epochs = self.trainer.max_epochs if self._trainer else None
        t_max = max(1, int(epochs)) if epochs and epochs > 0 else 1
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=t_max)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "epoch", "frequency": 1},
        }

    # -- checkpoint metadata -----------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Add ``checkpoint["medxai"]`` (primitive types only; see medxai.checkpoint)."""
        hp = self.hparams
        provenance = {
            **self.data_provenance,
            "weights_init": None if hp.weights is None else str(hp.weights),
            "epoch": int(self.current_epoch),
            "global_step": int(self.global_step),
            "training": {
                "lr": float(hp.lr),
                "weight_decay": float(hp.weight_decay),
                "optimizer": "Adam (L2 weight decay)",
                "scheduler": "CosineAnnealingLR per epoch",
                "max_epochs": int(self.trainer.max_epochs or 0) if self._trainer else 0,
                "loss": f"class-weighted BCE ({hp.loss_weighting})",
                "class_weights": {k: list(v) for k, v in self.class_weights.items()},
            },
        }
        checkpoint[METADATA_KEY] = make_metadata(
            arch=hp.arch,
            input_size=self.input_size,
            mean=self.mean,
            std=self.std,
            metrics={"latest": self.latest_metrics, "best": self.best_metrics},
            provenance=provenance,
        )

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Restore the best/latest metrics so a resumed run keeps its record.

        The metadata, when present, is checked by :func:`medxai.checkpoint.validate_metadata`.
        """
        if checkpoint.get(METADATA_KEY) is None:
            return
        try:
            metrics = validate_metadata(checkpoint[METADATA_KEY])["metrics"]
        except ValueError as exc:
            path = getattr(self._trainer, "ckpt_path", None) or "checkpoint to resume"
            raise MedxaiError(f"{path}: bad medxai metadata: {exc}") from None
        groups = {k: v for k, v in metrics.items() if isinstance(v, dict)}
        self.latest_metrics = dict(groups.get("latest") or {})
        self.best_metrics = dict(groups.get("best") or {})
