"""Online training steps for the trainer: ``[train] online = "fptt"`` or ``"ottt"`` (:mod:`eventpipe.snn.online`).

An :class:`OnlineStep` replaces the forward-loss-backward-step of one batch: it runs the model one time
step at a time (single-step mode, restored afterwards), takes the configured loss of every step's output
(padded steps excluded) and steps the optimizer online, so the autograd memory does not grow with ``T``.
Evaluation stays multi-step. The FPTT running average of the weights lives on the step object for the
whole run (:meth:`OnlineStep.state_dict` to checkpoint it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from eventpipe.errors import ConfigError, TrainingError
from eventpipe.snn.online import fptt_init_running_average, fptt_sequence, ottt_sequence, single_step
from eventpipe.train.config import LossConfig
from eventpipe.train.data import DataBundle, batch_seed, to_device
from eventpipe.train.losses import predict

__all__ = ["MODES", "OnlineSettings", "OnlineStep", "fit_online", "online_step", "step_loss"]

MODES = ("none", "fptt", "ottt")
"""Values of ``[train] online``: ``"none"`` is backpropagation through time over the whole sequence."""


@dataclass(frozen=True)
class OnlineSettings:
    """The online mode and its hyper-parameters (the ``[train]`` keys of the same names).

    ``fptt_alpha``: weight of FPTT's dynamic regulariser. ``ottt_decay``: decay of OTTT's presynaptic
    traces (``1 - 1/tau`` of the neurons). ``ottt_per_step``: OTTT steps the optimizer at every time step
    (OTTT_O) or once per batch with the summed gradients (OTTT_A). ``grad_clip``: maximum gradient norm
    before each optimizer step (0 = off).
    """

    online: str = "none"
    fptt_alpha: float = 0.5
    ottt_decay: float = 0.5
    ottt_per_step: bool = True
    grad_clip: float = 0.0

    def __post_init__(self) -> None:
        if self.online not in MODES:
            raise ConfigError(f"Unknown value {self.online!r} for train.online. Valid values are {set(MODES)}.")
        if not self.fptt_alpha > 0:
            raise ConfigError(f"train.fptt_alpha must be positive; got {self.fptt_alpha!r} (e.g. 0.5).")
        if not 0.0 <= self.ottt_decay < 1.0:
            raise ConfigError(f"train.ottt_decay must be in [0, 1); got {self.ottt_decay!r} (1 - 1/tau, e.g. 0.5).")

    @classmethod
    def of(cls, train: Any) -> OnlineSettings:
        """The settings of a ``[train]`` section object (missing keys take their defaults)."""
        return cls(**{k: getattr(train, k) for k in cls.__dataclass_fields__ if hasattr(train, k)})


def step_loss(cfg: LossConfig) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss ``cfg.name`` of one step's output ``[N, C]`` against labels ``[N]`` (``-1``: padded, left out)."""

    def loss_t(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        valid = target >= 0
        if not bool(valid.any()):
            return out.sum() * 0.0
        out, target = out[valid].float(), target[valid]
        if cfg.name == "mse":
            return F.mse_loss(out, F.one_hot(target, out.shape[-1]).to(out.dtype))
        if cfg.name == "cross_entropy":
            return F.cross_entropy(out, target)
        if cfg.name == "tet":
            reg = (out - cfg.tet_phi).pow(2).mean()
            return (1.0 - cfg.tet_lambda) * F.cross_entropy(out, target) + cfg.tet_lambda * reg
        raise ConfigError(f"train.online needs a per-step loss; loss.name={cfg.name!r} has none (use 'mse', "
                          "'cross_entropy' or 'tet').")

    return loss_t


class OnlineStep:
    """One batch of online training: ``step(x [T, N, ...], y [N], mask [T, N]) -> (loss, out [T, N, C])``."""

    def __init__(self, settings: OnlineSettings, model: nn.Module, optimizer: torch.optim.Optimizer,
                 loss: LossConfig) -> None:
        if settings.online == "none":
            raise ConfigError("OnlineStep needs train.online = 'fptt' or 'ottt'.")
        self.settings = settings
        self.model = model
        self.optimizer = optimizer
        self.loss_t = step_loss(loss)
        self.w_ra = fptt_init_running_average(optimizer) if settings.online == "fptt" else []

    def _clip(self) -> None:
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.settings.grad_clip)

    def __call__(self, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> tuple[float, torch.Tensor]:
        """Train on one batch; returns the mean step loss and the detached outputs ``[T, N, C]``."""
        s = self.settings
        target = torch.where(mask, y.unsqueeze(0).expand_as(mask), torch.full_like(mask, -1, dtype=y.dtype))
        clip = self._clip if s.grad_clip > 0 else None
        with single_step(self.model):
            if s.online == "fptt":
                loss, out = fptt_sequence(self.model, self.optimizer, x, target, self.loss_t, s.fptt_alpha,
                                          self.w_ra, before_step=clip)
            else:
                loss, out = ottt_sequence(self.model, self.optimizer, x, target, self.loss_t, decay=s.ottt_decay,
                                          online=s.ottt_per_step, before_step=clip)
        value = float(loss.item())
        if not math.isfinite(value):
            raise TrainingError(
                f"loss is {value} in online training ({s.online}): training diverged. Lower optimizer.lr, set "
                "train.grad_clip, or check the input data; the last good checkpoint is checkpoints/latest.pt"
            )
        return value, out

    step = __call__

    def state_dict(self) -> dict[str, Any]:
        """What must survive a resume: FPTT's running average of the weights."""
        return {"w_ra": [w.clone() for w in self.w_ra]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with torch.no_grad():
            for w, saved in zip(self.w_ra, state["w_ra"], strict=True):
                w.copy_(saved)


def online_step(train: Any, model: nn.Module, optimizer: torch.optim.Optimizer, loss: LossConfig) -> OnlineStep | None:
    """The online step of a ``[train]`` section (``train.online``), or ``None`` for BPTT."""
    settings = OnlineSettings.of(train)
    return None if settings.online == "none" else OnlineStep(settings, model, optimizer, loss)


def _accuracy(model: nn.Module, batches: Iterable[Any], bundle: DataBundle, device: torch.device) -> float:
    from eventpipe.snn.functional import reset_net

    model.eval()
    correct = total = 0
    with torch.no_grad():
        for i, batch in enumerate(batches):
            x, y, mask = to_device(batch, device, bundle.transform, batch_seed(-1, i))
            correct += int((predict(model(x), mask) == y).sum())
            total += int(y.shape[0])
            reset_net(model)
    return correct / max(total, 1)


def fit_online(bundle: DataBundle, model: nn.Module, step: OnlineStep, *,
               epochs: int, batch_size: int, seed: int = 0, device: torch.device | None = None) -> list[float]:
    """Train ``epochs`` epochs of ``bundle.train`` with ``step``; the test accuracy after each epoch.

    A small loop for scripts and checks; ``eventpipe train`` with ``[train] online`` is the full trainer.
    """
    from eventpipe.snn.functional import reset_net

    device = device or torch.device("cpu")
    model.to(device)
    test: DataLoader[Any] = DataLoader(cast(Dataset[Any], bundle.test), batch_size=batch_size, collate_fn=bundle.collate)
    accuracies = []
    for epoch in range(epochs):
        order = torch.Generator().manual_seed(seed * 1009 + epoch)
        train: DataLoader[Any] = DataLoader(cast(Dataset[Any], bundle.train), batch_size=batch_size, shuffle=True,
                                            generator=order, collate_fn=bundle.collate)
        model.train()
        for i, batch in enumerate(train):
            x, y, mask = to_device(batch, device, bundle.transform, batch_seed(seed, epoch, i))
            step(x, y, mask)
            reset_net(model)
        accuracies.append(_accuracy(model, test, bundle, device))
    return accuracies
