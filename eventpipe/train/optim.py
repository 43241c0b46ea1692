"""Optimiser and learning-rate schedule from their config sections."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, LRScheduler, SequentialLR, StepLR

from eventpipe.train.config import OptimizerConfig, ScheduleConfig


def build_optimizer(cfg: OptimizerConfig, params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
    """``adam``, ``adamw`` or ``sgd`` (with ``momentum``) over ``params``."""
    params = [p for p in params if p.requires_grad]
    if cfg.name == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.name == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def _constant(epoch: int) -> float:
    return 1.0


def build_scheduler(cfg: ScheduleConfig, optimizer: torch.optim.Optimizer, epochs: int) -> LRScheduler:
    """Per-epoch schedule: call ``step()`` once after every epoch.

    ``cosine`` anneals to ``min_lr`` at the end of the last epoch's step (``T_max`` = epochs after warm-up);
    a warm-up of ``w`` epochs rises linearly from lr / (w + 1) and joins the cosine at full lr.
    """
    if cfg.name == "constant":
        main: LRScheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _constant)
    elif cfg.name == "step":
        main = StepLR(optimizer, step_size=cfg.step_size, gamma=cfg.gamma)
    else:
        main = CosineAnnealingLR(optimizer, T_max=max(1, epochs - cfg.warmup_epochs), eta_min=cfg.min_lr)
    if cfg.warmup_epochs == 0:
        return main
    warm = LinearLR(optimizer, start_factor=1.0 / (cfg.warmup_epochs + 1), end_factor=1.0,
                    total_iters=cfg.warmup_epochs)
    return SequentialLR(optimizer, [warm, main], milestones=[cfg.warmup_epochs])
