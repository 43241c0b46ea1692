"""Losses and predictions on spiking outputs ``[T, N, C]`` with a padding mask ``[T, N]``.

Padded time steps (past a sample's length) count neither in the firing rate nor in the loss, so a
sample's result does not depend on the other samples of its batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from eventpipe.errors import ConfigError
from eventpipe.train.config import LOSSES, LossConfig


def _check(out: torch.Tensor, mask: torch.Tensor) -> None:
    if out.ndim != 3 or mask.shape != out.shape[:2]:
        raise ConfigError(
            f"Expected model output [T, N, classes] and mask [T, N]. Got output {tuple(out.shape)} and "
            f"mask {tuple(mask.shape)} instead (does the model return time-first outputs?)."
        )


def firing_rate(out: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``out`` over each sample's valid steps: ``[N, C]`` (float32)."""
    _check(out, mask)
    m = mask.to(torch.float32).unsqueeze(-1)
    steps = m.sum(0).clamp_min(1.0)
    return (out.float() * m).sum(0) / steps


def _masked_time_mean(per_step: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``[T, N]`` -> mean over valid steps, then over samples."""
    m = mask.to(per_step.dtype)
    return ((per_step * m).sum(0) / m.sum(0).clamp_min(1.0)).mean()


def compute_loss(cfg: LossConfig, out: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The loss ``cfg.name`` of outputs ``[T, N, C]`` against integer labels ``[N]``, averaged over samples."""
    _check(out, mask)
    num_classes = out.shape[-1]
    if cfg.name == "mse":
        onehot = F.one_hot(target, num_classes).to(torch.float32)
        return F.mse_loss(firing_rate(out, mask), onehot)
    if cfg.name == "cross_entropy":
        return F.cross_entropy(firing_rate(out, mask), target)
    if cfg.name == "tet":
        T, N, C = out.shape
        logits = out.float()
        ce = F.cross_entropy(logits.reshape(T * N, C), target.repeat(T), reduction="none").view(T, N)
        reg = (logits - cfg.tet_phi).pow(2).mean(-1)
        return (1.0 - cfg.tet_lambda) * _masked_time_mean(ce, mask) + cfg.tet_lambda * _masked_time_mean(reg, mask)
    valid = ", ".join(repr(n) for n in LOSSES)
    raise ConfigError(f"Unknown value {cfg.name!r} for loss.name. Valid values are {{{valid}}}.")


def predict(out: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Predicted class per sample: the arg-max of the firing rate, ``[N]``."""
    return firing_rate(out, mask).argmax(-1)
