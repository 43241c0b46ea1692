"""Encoders from analog inputs in ``[0, 1]`` (e.g. normalised pixels) to spike trains ``[T, N, ...]``.

Event-camera frames are spikes already; these are for static data and baselines. Random encoders take an
optional ``torch.Generator`` so that runs are reproducible.

>>> import torch
>>> LatencyEncoder(steps=5)(torch.tensor([[1.0, 0.5, 0.0]])).squeeze(1).T.tolist()
[[1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0]]
"""

from __future__ import annotations

import math

import torch
from torch import nn

from eventpipe.errors import ConfigError

__all__ = ["LatencyEncoder", "PoissonEncoder", "RepeatEncoder"]


def _check_steps(steps: int) -> int:
    if not (isinstance(steps, int) and steps >= 1):
        raise ConfigError(f"Expected an integer >= 1 for argument steps. Got {steps!r} instead.")
    return steps


class PoissonEncoder(nn.Module):
    """Rate coding: at each of ``steps`` steps a neuron spikes with probability equal to its input.

    Inputs are probabilities per step (values above 1 always spike, below 0 never).
    """

    def __init__(self, steps: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.steps = _check_steps(steps)
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        noise = torch.rand((self.steps, *x.shape), generator=self.generator, device=x.device, dtype=x.dtype)
        return (noise < x).to(x.dtype)

    def extra_repr(self) -> str:
        return f"steps={self.steps}"


class LatencyEncoder(nn.Module):
    """Time-to-first-spike coding: one spike per neuron, earlier for larger inputs.

    ``"linear"``: spike at step ``round((T - 1) (1 - x))``; ``"log"``: at ``round(T - 1 - ln(a x + 1))`` with
    ``a = e^(T - 1) - 1`` (so ``x = 1`` fires at step 0 and ``x = 0`` at step ``T - 1`` in both). Inputs are
    clamped to ``[0, 1]``.
    """

    def __init__(self, steps: int, function: str = "linear") -> None:
        super().__init__()
        self.steps = _check_steps(steps)
        if function not in ("linear", "log"):
            raise ConfigError(
                f"Unknown value {function!r} for argument function. Valid values are {{'linear', 'log'}}."
            )
        self.function = function

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.clamp(0.0, 1.0)
        last = self.steps - 1
        if self.function == "linear":
            t_fire = (last * (1.0 - x)).round()
        else:
            t_fire = (last - torch.log(math.expm1(last) * x + 1.0)).round()
        t_fire = t_fire.long().clamp(0, last)
        steps = torch.arange(self.steps, device=x.device).reshape(-1, *([1] * x.dim()))
        return (steps == t_fire.unsqueeze(0)).to(x.dtype)

    def extra_repr(self) -> str:
        return f"steps={self.steps}, function={self.function!r}"


class RepeatEncoder(nn.Module):
    """Direct coding: the analog input repeated at every step (the first layer then acts as the encoder)."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.steps = _check_steps(steps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(0).expand(self.steps, *x.shape)

    def extra_repr(self) -> str:
        return f"steps={self.steps}"
