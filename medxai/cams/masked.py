"""Scoring masked copies of the input in few, full, preallocated batches.

For each sample ``b`` and each channel mask ``M`` (at feature resolution, already
normalised by ``N``), Poly-CAM needs ``sp = s(X_b ⊙ Up(M))`` and/or
``sm = s(X_b ⊙ (1 - Up(M)))``. :class:`MaskedScorer` streams the masks of all samples
and layers through one reused input buffer of ``capacity`` images:

- a mask's ``⊙ M`` and ``⊙ (1 - M)`` copies go into the same batch;
- masks are upsampled chunk by chunk, straight into the buffer (no per-mask tensors);
- all-zero masks (constant channels) are not queued: for them ``sp = s(0)``, one pass per
  sample shared by every such channel of every layer, and ``sm = s(X) = s0``;
- a batch is run only when the buffer is full (or at the end), so every forward pass but
  the last has exactly ``capacity`` images;
- an optional second score (``extra_score``, e.g. the opposite class) is read from the
  same logits, so it costs no forward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

Forward = Callable[[Tensor], Tensor]
Score = Callable[[Tensor, Tensor], Tensor]  # (logits, sample index per row) -> scores

_ZERO_LAYER = -1


@dataclass
class MaskedScores:
    """Per-channel masked scores: ``sp[l]``, ``sm[l]`` (``B×K_l``) and the shared
    score of all-zero masks (``B``)."""

    sp: list[Tensor]
    sm: list[Tensor]
    zero_score: Tensor


class MaskedScorer:
    """Queue masks, run full batches, collect per-channel scores.

    Args:
        forward: ``images -> logits``.
        score: ``(logits, sample_index) -> score`` of each row's target.
        x: the ``B×C×H×W`` inputs being explained.
        channels: ``K_l`` for each layer ``l``.
        plus, minus: which of ``sp``, ``sm`` to compute.
        capacity: images per forward pass (the memory bound).
        channels_last: allocate the buffer in ``torch.channels_last`` memory format.
        extra_score: an optional second ``(logits, sample_index) -> score``, filed in
            ``extra.sp``/``extra.sm``/``extra.zero_score`` from the same passes.

    After :meth:`finish`, ``sp[l]`` and ``sm[l]`` are ``B×K_l`` float32 tensors (entries of
    masks never queued stay NaN) and ``passes`` counts the masked images scored.
    """

    def __init__(
        self,
        forward: Forward,
        score: Score,
        x: Tensor,
        channels: list[int],
        *,
        plus: bool,
        minus: bool,
        capacity: int,
        channels_last: bool = False,
        extra_score: Score | None = None,
    ) -> None:
        if capacity < 2 and plus and minus:
            capacity = 2
        self.forward, self.score, self.x = forward, score, x
        self.plus, self.minus = plus, minus
        self.per_mask = int(plus) + int(minus)
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        self.buffer = torch.empty(
            (capacity, *x.shape[1:]), dtype=x.dtype, device=x.device
        ).contiguous(memory_format=fmt)
        long = {"dtype": torch.long, "device": x.device}
        self.slot_sample = torch.empty(capacity, **long)
        self.slot_layer = torch.empty(capacity, **long)
        self.slot_channel = torch.empty(capacity, **long)
        self.slot_minus = torch.empty(capacity, dtype=torch.bool, device=x.device)
        self.filled = 0
        batch = x.shape[0]
        nan = {"dtype": torch.float32, "device": x.device}
        self.sp = [torch.full((batch, k), float("nan"), **nan) for k in channels]
        self.sm = [torch.full((batch, k), float("nan"), **nan) for k in channels]
        self.zero_score = torch.full((batch,), float("nan"), **nan)
        self.extra_score = extra_score
        self.extra: MaskedScores | None = None
        if extra_score is not None:
            self.extra = MaskedScores(
                [torch.full((batch, k), float("nan"), **nan) for k in channels],
                [torch.full((batch, k), float("nan"), **nan) for k in channels],
                torch.full((batch,), float("nan"), **nan),
            )
        self.passes = 0
        self.forward_calls = 0

    @property
    def capacity(self) -> int:
        return self.buffer.shape[0]

    def add_zero_mask(self, sample: int) -> None:
        """Queue ``s(X_b ⊙ 0)``, the score every all-zero mask of sample ``b`` shares."""
        if self.capacity - self.filled < 1:
            self.flush()
        i = self.filled
        self.buffer[i].zero_()
        self._label(slice(i, i + 1), sample, _ZERO_LAYER, torch.zeros(1, dtype=torch.long), False)
        self.filled += 1

    def add_masks(self, sample: int, layer: int, channels: Tensor, masks: Tensor) -> None:
        """Queue the masks ``masks`` (``n×h×w``, in [0, 1]) of ``channels`` of ``layer``."""
        start = 0
        size = self.x.shape[-2:]
        image = self.x[sample : sample + 1]
        while start < len(channels):
            room = (self.capacity - self.filled) // self.per_mask
            if room == 0:
                self.flush()
                continue
            stop = min(start + room, len(channels))
            n = stop - start
            up = F.interpolate(
                masks[start:stop, None], size=size, mode="bilinear", align_corners=False
            ).to(self.x.dtype)
            i = self.filled
            picked = channels[start:stop].to(self.x.device)
            if self.plus:
                torch.mul(image, up, out=self.buffer[i : i + n])
                self._label(slice(i, i + n), sample, layer, picked, False)
                i += n
            if self.minus:
                torch.mul(image, 1.0 - up, out=self.buffer[i : i + n])
                self._label(slice(i, i + n), sample, layer, picked, True)
                i += n
            self.filled = i
            start = stop

    def _label(self, rows: slice, sample: int, layer: int, channels: Tensor, minus: bool) -> None:
        self.slot_sample[rows] = sample
        self.slot_layer[rows] = layer
        self.slot_channel[rows] = channels.to(self.slot_channel.device)
        self.slot_minus[rows] = minus

    def flush(self) -> None:
        """Score the queued images and file each score under its sample/layer/channel."""
        n = self.filled
        if n == 0:
            return
        logits = self.forward(self.buffer[:n])
        samples = self.slot_sample[:n]
        self._file(self.score(logits, samples).float(), self.sp, self.sm, self.zero_score)
        if self.extra is not None and self.extra_score is not None:
            extra = self.extra_score(logits, samples).float()
            self._file(extra, self.extra.sp, self.extra.sm, self.extra.zero_score)
        self.passes += n
        self.forward_calls += 1
        self.filled = 0

    def _file(self, scores: Tensor, sp: list[Tensor], sm: list[Tensor], zero_score: Tensor):
        """File the queued rows' ``scores`` under their sample/layer/channel."""
        n = self.filled
        samples = self.slot_sample[:n]
        layers, chans, minus = self.slot_layer[:n], self.slot_channel[:n], self.slot_minus[:n]
        zero = layers == _ZERO_LAYER
        if bool(zero.any()):
            zero_score[samples[zero]] = scores[zero]
        for layer in range(len(sp)):
            for table, sign in ((sp, False), (sm, True)):
                rows = (layers == layer) & (minus == sign)
                if bool(rows.any()):
                    table[layer][samples[rows], chans[rows]] = scores[rows]

    def finish(self) -> None:
        """Run whatever is still queued."""
        self.flush()
