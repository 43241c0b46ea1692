"""Layers for time-first spike tensors ``[T, N, ...]``.

Stateless PyTorch layers (convolution, batch norm, pooling, linear, flatten) are applied to a sequence by
merging the time and batch axes (``[T * N, ...]``) and splitting them again: one large call instead of T small
ones, with the same result. The classes here are the PyTorch layers plus a ``step_mode`` (``"m"``: input
``[T, N, ...]``; ``"s"``: input ``[N, ...]``, exactly the PyTorch layer), so their parameters keep PyTorch's
names. :class:`Dropout` draws one mask per sequence, shared by all time steps.

>>> import torch
>>> conv = Conv2d(2, 4, kernel_size=3, padding=1)
>>> conv(torch.zeros(5, 8, 2, 16, 16)).shape
torch.Size([5, 8, 4, 16, 16])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn.base import StepModule
from eventpipe.snn.dynamics import NeuronState
from eventpipe.snn.functional import delay
from eventpipe.snn.neuron import BaseNode

__all__ = [
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "Delay",
    "Dropout",
    "Flatten",
    "Linear",
    "MaxPool2d",
    "RecurrentSpiking",
    "SeqToANNContainer",
    "VotingLayer",
    "seq_to_ann_forward",
]


def seq_to_ann_forward(x_seq: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """Apply a stateless ``fn`` to ``x_seq`` ``[T, N, ...]`` as one batch of ``T * N``; restore T and N."""
    if x_seq.dim() < 2:
        raise ConfigError(f"Expected a [T, N, ...] input in multi-step mode. Got shape {tuple(x_seq.shape)}.")
    y = fn(x_seq.flatten(0, 1))
    return y.reshape(x_seq.shape[0], x_seq.shape[1], *y.shape[1:])


class SeqToANNContainer(StepModule, nn.Sequential):
    """``nn.Sequential`` of stateless modules, applied to ``[T, N, ...]`` by merging T and N."""

    def __init__(self, *modules: nn.Module, step_mode: str = "m") -> None:
        nn.Sequential.__init__(self, *modules)
        self.step_mode = step_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.step_mode == "s":
            return nn.Sequential.forward(self, x)
        return seq_to_ann_forward(x, lambda y: nn.Sequential.forward(self, y))


class _MultiStep(StepModule):
    """Mixin making a stateless PyTorch layer a step-mode layer (keyword ``step_mode``, default ``"m"``)."""

    def __init__(self, *args: Any, step_mode: str = "m", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.step_mode = step_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.step_mode == "s":
            return super().forward(x)  # type: ignore[misc]
        return seq_to_ann_forward(x, super().forward)  # type: ignore[misc]

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, step_mode={self.step_mode}"  # type: ignore[misc]


class Conv1d(_MultiStep, nn.Conv1d):
    """``nn.Conv1d`` over ``[T, N, C, L]`` (multi-step) or ``[N, C, L]``."""


class Conv2d(_MultiStep, nn.Conv2d):
    """``nn.Conv2d`` over ``[T, N, C, H, W]`` (multi-step) or ``[N, C, H, W]``."""


class BatchNorm1d(_MultiStep, nn.BatchNorm1d):
    """``nn.BatchNorm1d``; statistics are taken over time and batch together."""


class BatchNorm2d(_MultiStep, nn.BatchNorm2d):
    """``nn.BatchNorm2d``; statistics are taken over time and batch together."""


class MaxPool2d(_MultiStep, nn.MaxPool2d):
    """``nn.MaxPool2d`` per time step."""


class AvgPool2d(_MultiStep, nn.AvgPool2d):
    """``nn.AvgPool2d`` per time step."""


class AdaptiveAvgPool2d(_MultiStep, nn.AdaptiveAvgPool2d):
    """``nn.AdaptiveAvgPool2d`` per time step."""


class Linear(_MultiStep, nn.Linear):
    """``nn.Linear`` on the last axis (works on any leading axes)."""


class Flatten(_MultiStep, nn.Flatten):
    """``nn.Flatten`` per sample: ``[T, N, C, H, W] -> [T, N, C*H*W]`` (default ``start_dim=1``)."""


class Dropout(StepModule, nn.Dropout):
    """Dropout with one mask per sequence, shared by every time step.

    In single-step mode the mask drawn at the first step is kept until :meth:`reset`, so streaming and
    multi-step runs drop the same neurons for a whole sample.
    """

    def __init__(self, p: float = 0.5, step_mode: str = "m") -> None:
        if not 0.0 <= p < 1.0:
            raise ConfigError(f"Expected a probability in [0, 1) for argument p. Got {p!r} instead.")
        nn.Dropout.__init__(self, p)
        self.step_mode = step_mode
        self.mask: torch.Tensor | None = None

    def _new_mask(self, like: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.dropout(torch.ones_like(like), self.p, training=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.step_mode == "m":
            return x * self._new_mask(x[0])
        if self.mask is None or self.mask.shape != x.shape:
            self.mask = self._new_mask(x)
        return x * self.mask

    def reset(self) -> None:
        self.mask = None

    def extra_repr(self) -> str:
        return f"p={self.p}, step_mode={self.step_mode}"


class VotingLayer(nn.Module):
    """Average groups of ``voting_size`` consecutive neurons on the last axis: ``[..., C * v] -> [..., C]``.

    With firing outputs this gives each class the mean firing rate of its ``voting_size`` neurons.
    """

    def __init__(self, voting_size: int = 10) -> None:
        super().__init__()
        if not (isinstance(voting_size, int) and voting_size >= 1):
            raise ConfigError(
                f"Expected an integer >= 1 for argument voting_size. Got {voting_size!r} instead."
            )
        self.voting_size = voting_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % self.voting_size:
            raise ConfigError(
                f"The last axis ({x.shape[-1]}) is not a multiple of voting_size={self.voting_size}."
            )
        return x.unflatten(-1, (-1, self.voting_size)).mean(-1)

    def extra_repr(self) -> str:
        return f"voting_size={self.voting_size}"


class Delay(StepModule, nn.Module):
    """Delay the input by ``steps`` time steps (zeros first); see :func:`eventpipe.snn.functional.delay`."""

    def __init__(self, steps: int, step_mode: str = "m") -> None:
        super().__init__()
        if not (isinstance(steps, int) and steps >= 0):
            raise ConfigError(f"Expected an integer >= 0 for argument steps. Got {steps!r} instead.")
        self.steps = steps
        self.step_mode = step_mode
        self.queue: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.step_mode == "m":
            return delay(x, self.steps)
        if self.steps == 0:
            return x
        self.queue.append(x)
        if len(self.queue) <= self.steps:
            return torch.zeros_like(x)
        return self.queue.pop(0)

    def reset(self) -> None:
        self.queue = []

    def extra_repr(self) -> str:
        return f"steps={self.steps}, step_mode={self.step_mode}"


class RecurrentSpiking(StepModule, nn.Module):
    """A recurrently connected spiking layer: ``I[t] = W x[t] + U s[t-1]``, ``s[t] = neuron(I[t])``.

    The input projection runs over all steps at once; the recurrence is a Python loop over
    :meth:`~eventpipe.snn.neuron.BaseNode.step` with autograd through time, since each step's input depends
    on the previous spikes (the fused multi-step backends need the whole input up front).

    Parameters
    ----------
    in_features, out_features:
        Input and hidden sizes.
    neuron:
        The spiking neuron module (its parameters are learned with the layer).
    bias:
        Bias of the input projection.
    """

    def __init__(
        self, in_features: int, out_features: int, neuron: nn.Module, bias: bool = True, step_mode: str = "m"
    ) -> None:
        super().__init__()
        if not isinstance(neuron, BaseNode):
            raise ConfigError(
                f"RecurrentSpiking needs an eventpipe.snn.neuron.BaseNode (it calls its pure step()); "
                f"got {type(neuron).__name__}."
            )
        self.input = nn.Linear(in_features, out_features, bias=bias)
        self.recurrent = nn.Linear(out_features, out_features, bias=False)
        self.neuron: BaseNode = neuron
        self.step_mode = step_mode
        self.state: tuple[torch.Tensor, NeuronState | None] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.step_mode == "s":
            spikes, neuron_state = self.state if self.state is not None else (None, None)
            current = self.input(x)
            if spikes is not None:
                current = current + self.recurrent(spikes)
            spikes, neuron_state = self.neuron.step(current, neuron_state)
            self.state = (spikes, neuron_state)
            return spikes
        if x.dim() < 3:
            raise ConfigError(
                f"Expected a [T, N, features] input in multi-step mode. Got shape {tuple(x.shape)}."
            )
        currents = self.input(x)
        out, state, spikes = [], None, None
        for current in currents:
            if spikes is not None:
                current = current + self.recurrent(spikes)
            spikes, state = self.neuron.step(current, state)
            out.append(spikes)
        return torch.stack(out)

    def reset(self) -> None:
        self.state = None

    def detach(self) -> None:
        if self.state is not None:
            spikes, neuron_state = self.state
            self.state = (
                spikes.detach(),
                None if neuron_state is None else NeuronState(neuron_state.v.detach()),
            )
