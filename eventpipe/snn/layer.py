"""Layers for spike tensors, one step ``[N, ...]`` or a time-first sequence ``[T, N, ...]`` per call.

The classes here are the PyTorch layers plus a ``step_mode`` (see :mod:`eventpipe.snn.base`), so their
parameters keep PyTorch's names: ``"s"`` (the default, as in SpikingJelly) is exactly the PyTorch layer on
``[N, ...]``; ``"m"`` applies it to ``[T, N, ...]`` by merging the time and batch axes (``[T * N, ...]``)
and splitting them again, one large call instead of T small ones with the same result. Convolution, batch
norm and pooling layers check the number of axes in both modes, so a sequence fed in the wrong mode is an
error. :class:`Dropout` (and the channel-wise :class:`Dropout2d`) keeps one mask per sample, shared by all
time steps, until it is reset;
:class:`Delay`, :class:`RecurrentSpiking`, :class:`SynapseFilter` and the recurrent containers carry their
state across calls in both modes. The containers run single-step modules in multi-step mode
(:class:`MultiStepContainer`, :class:`StepModeContainer`) or add feedback around them
(:class:`ElementWiseRecurrentContainer`, :class:`LinearRecurrentContainer`), as in SpikingJelly. The layers
with their own math (DropConnect, NeuNorm, tdBN, temporal and multi-dimensional attention) live in
:mod:`eventpipe.snn.layer_extra` and are importable from here.

>>> import torch
>>> conv = Conv2d(2, 4, kernel_size=3, padding=1, step_mode="m")
>>> conv(torch.zeros(5, 8, 2, 16, 16)).shape
torch.Size([5, 8, 4, 16, 16])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn.base import StepModule, check_sequence, check_step_shape
from eventpipe.snn.layer_extra import (
    DropConnectLinear,
    MultiDimensionalAttention,
    NeuNorm,
    TemporalWiseAttention,
    ThresholdDependentBatchNorm1d,
    ThresholdDependentBatchNorm2d,
    ThresholdDependentBatchNorm3d,
)
from eventpipe.snn.neuron import BaseNode

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "Delay",
    "DropConnectLinear",
    "Dropout",
    "Dropout2d",
    "ElementWiseRecurrentContainer",
    "Flatten",
    "GroupNorm",
    "KEEPS_CHILD_STEP_MODE",
    "Linear",
    "LinearRecurrentContainer",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "MultiDimensionalAttention",
    "MultiStepContainer",
    "NeuNorm",
    "RecurrentSpiking",
    "SeqToANNContainer",
    "StepModeContainer",
    "SynapseFilter",
    "TemporalWiseAttention",
    "ThresholdDependentBatchNorm1d",
    "ThresholdDependentBatchNorm2d",
    "ThresholdDependentBatchNorm3d",
    "VotingLayer",
    "seq_to_ann_forward",
]


def seq_to_ann_forward(
    x_seq: torch.Tensor,
    fn: Callable[[torch.Tensor], torch.Tensor] | Sequence[Callable[[torch.Tensor], torch.Tensor]],
) -> torch.Tensor:
    """Apply stateless ``fn`` (one callable, or several applied in order) to ``x_seq`` ``[T, N, ...]`` as one
    batch of ``T * N``; restore T and N."""
    if x_seq.dim() < 2:
        raise ConfigError(f"Expected a [T, N, ...] input in multi-step mode. Got shape {tuple(x_seq.shape)}.")
    y = x_seq.flatten(0, 1)
    for f in fn if isinstance(fn, (list, tuple, nn.Sequential)) else (fn,):
        y = f(y)
    return y.reshape(x_seq.shape[0], x_seq.shape[1], *y.shape[1:])


class SeqToANNContainer(StepModule, nn.Sequential):
    """``nn.Sequential`` of stateless modules, applied to ``[T, N, ...]`` by merging T and N.

    A multi-step container by purpose (as in SpikingJelly), so ``step_mode`` defaults to ``"m"`` here.
    """

    def __init__(self, *modules: nn.Module, step_mode: str = "m") -> None:
        nn.Sequential.__init__(self, *modules)
        self.step_mode = step_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.step_mode == "s":
            return nn.Sequential.forward(self, x)
        return seq_to_ann_forward(x, lambda y: nn.Sequential.forward(self, y))


class _MultiStep(StepModule):
    """Mixin making a stateless PyTorch layer a step-mode layer (keyword ``step_mode``, default ``"s"``).

    ``step_dims``: the numbers of axes one step may have (``None``: any); a sequence has one more.
    """

    step_dims: ClassVar[tuple[int, ...] | None] = None

    def __init__(self, *args: Any, step_mode: str = "s", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.step_mode = step_mode

    def _check_dims(self, x: torch.Tensor) -> None:
        if self.step_dims is None:
            return
        extra = 1 if self.step_mode == "m" else 0
        allowed = [d + extra for d in self.step_dims]
        if x.dim() not in allowed:
            layout = "[T, N, ...] (a sequence)" if extra else "[N, ...] (one step)"
            other = "s" if extra else "m"
            raise ConfigError(
                f"{type(self).__name__}(step_mode={self.step_mode!r}) takes {layout} with "
                f"{' or '.join(map(str, allowed))} axes; got shape {tuple(x.shape)}. "
                f"Use step_mode={other!r} (functional.set_step_mode) if the input is "
                f"{'one step' if extra else 'a sequence'}."
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_dims(x)
        if self.step_mode == "s":
            return super().forward(x)  # type: ignore[misc]
        return seq_to_ann_forward(x, super().forward)  # type: ignore[misc]

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, step_mode={self.step_mode}"  # type: ignore[misc]


class Conv1d(_MultiStep, nn.Conv1d):
    """``nn.Conv1d`` over ``[T, N, C, L]`` (multi-step) or ``[N, C, L]``."""

    step_dims = (3,)


class Conv2d(_MultiStep, nn.Conv2d):
    """``nn.Conv2d`` over ``[T, N, C, H, W]`` (multi-step) or ``[N, C, H, W]``."""

    step_dims = (4,)


class BatchNorm1d(_MultiStep, nn.BatchNorm1d):
    """``nn.BatchNorm1d``; statistics are taken over time and batch together."""

    step_dims = (2, 3)


class BatchNorm2d(_MultiStep, nn.BatchNorm2d):
    """``nn.BatchNorm2d``; statistics are taken over time and batch together."""

    step_dims = (4,)


class MaxPool2d(_MultiStep, nn.MaxPool2d):
    """``nn.MaxPool2d`` per time step."""

    step_dims = (4,)


class AvgPool2d(_MultiStep, nn.AvgPool2d):
    """``nn.AvgPool2d`` per time step."""

    step_dims = (4,)


class AdaptiveAvgPool2d(_MultiStep, nn.AdaptiveAvgPool2d):
    """``nn.AdaptiveAvgPool2d`` per time step."""

    step_dims = (4,)


class Conv3d(_MultiStep, nn.Conv3d):
    """``nn.Conv3d`` over ``[T, N, C, D, H, W]`` (multi-step) or ``[N, C, D, H, W]``."""

    step_dims = (5,)


class _TransposedStep(_MultiStep):
    """:class:`_MultiStep` for transposed convolutions, which also take PyTorch's ``output_size`` (the
    spatial size of one step's output, needed when ``stride > 1`` leaves it ambiguous)."""

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        self._check_dims(x)
        run = super(_MultiStep, self).forward  # type: ignore[misc]  # the PyTorch layer's forward
        if self.step_mode == "s":
            return run(x, output_size)
        return seq_to_ann_forward(x, lambda y: run(y, output_size))


class ConvTranspose1d(_TransposedStep, nn.ConvTranspose1d):
    """``nn.ConvTranspose1d`` over ``[T, N, C, L]`` (multi-step) or ``[N, C, L]``."""

    step_dims = (3,)


class ConvTranspose2d(_TransposedStep, nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` over ``[T, N, C, H, W]`` (multi-step) or ``[N, C, H, W]``."""

    step_dims = (4,)


class ConvTranspose3d(_TransposedStep, nn.ConvTranspose3d):
    """``nn.ConvTranspose3d`` over ``[T, N, C, D, H, W]`` (multi-step) or ``[N, C, D, H, W]``."""

    step_dims = (5,)


class BatchNorm3d(_MultiStep, nn.BatchNorm3d):
    """``nn.BatchNorm3d``; statistics are taken over time and batch together."""

    step_dims = (5,)


class GroupNorm(_MultiStep, nn.GroupNorm):
    """``nn.GroupNorm`` per sample and time step (``[N, C, ...]`` per step, ``C = num_channels``)."""

    step_dims = (2, 3, 4, 5)

    def _check_dims(self, x: torch.Tensor) -> None:
        super()._check_dims(x)
        axis = 2 if self.step_mode == "m" else 1
        if x.shape[axis] != self.num_channels:
            layout = "[T, N, C, ...]" if axis == 2 else "[N, C, ...]"
            raise ConfigError(
                f"GroupNorm(num_channels={self.num_channels}, step_mode={self.step_mode!r}) takes {layout}; got "
                f"shape {tuple(x.shape)}. Use step_mode={'s' if axis == 2 else 'm'!r} if the input is "
                f"{'one step' if axis == 2 else 'a sequence'}."
            )


class MaxPool1d(_MultiStep, nn.MaxPool1d):
    """``nn.MaxPool1d`` per time step."""

    step_dims = (3,)


class MaxPool3d(_MultiStep, nn.MaxPool3d):
    """``nn.MaxPool3d`` per time step."""

    step_dims = (5,)


class AvgPool1d(_MultiStep, nn.AvgPool1d):
    """``nn.AvgPool1d`` per time step."""

    step_dims = (3,)


class AvgPool3d(_MultiStep, nn.AvgPool3d):
    """``nn.AvgPool3d`` per time step."""

    step_dims = (5,)


class AdaptiveAvgPool1d(_MultiStep, nn.AdaptiveAvgPool1d):
    """``nn.AdaptiveAvgPool1d`` per time step."""

    step_dims = (3,)


class AdaptiveAvgPool3d(_MultiStep, nn.AdaptiveAvgPool3d):
    """``nn.AdaptiveAvgPool3d`` per time step."""

    step_dims = (5,)


class Linear(_MultiStep, nn.Linear):
    """``nn.Linear`` on the last axis (any leading axes, so both modes run it directly)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.step_mode == "m":
            check_sequence(self, x)
        return nn.Linear.forward(self, x)


class Flatten(_MultiStep, nn.Flatten):
    """``nn.Flatten`` per sample: ``[T, N, C, H, W] -> [T, N, C*H*W]`` (default ``start_dim=1``)."""


class Dropout(StepModule, nn.Dropout):
    """Dropout with one mask per sample, shared by every time step.

    The mask is drawn at the first call after a reset (for one step's shape ``[N, ...]``) and kept until
    :meth:`reset`, in both step modes, so streaming, chunked and whole-sequence runs drop the same neurons
    for a whole sample.
    """

    def __init__(self, p: float = 0.5, step_mode: str = "s") -> None:
        if not 0.0 <= p < 1.0:
            raise ConfigError(f"Expected a probability in [0, 1) for argument p. Got {p!r} instead.")
        nn.Dropout.__init__(self, p)
        self.step_mode = step_mode
        self.mask: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.step_mode == "m":
            check_sequence(self, x)
        step_shape = x.shape[1:] if self.step_mode == "m" else x.shape
        if self.mask is None:
            self.mask = self._new_mask(x[0] if self.step_mode == "m" else x)
        else:
            check_step_shape(self, self.mask.shape, step_shape)
        return x * self.mask

    def _new_mask(self, like: torch.Tensor) -> torch.Tensor:
        """A mask for one step shaped like ``like``: 0 with probability ``p``, else ``1 / (1 - p)``."""
        return torch.nn.functional.dropout(torch.ones_like(like), self.p, training=True)

    def reset(self) -> None:
        self.mask = None

    def extra_repr(self) -> str:
        return f"p={self.p}, step_mode={self.step_mode}"


class Dropout2d(Dropout):
    """Channel dropout: whole channels ``x[n, c]`` of a step ``[N, C, ...]`` are zeroed together.

    As :class:`Dropout`, one mask per sample is drawn at the first call after a reset and kept for every
    time step until :meth:`reset`; kept channels are scaled by ``1 / (1 - p)``. The default ``p`` is 0.2.
    """

    def __init__(self, p: float = 0.2, step_mode: str = "s") -> None:
        super().__init__(p, step_mode)

    def _new_mask(self, like: torch.Tensor) -> torch.Tensor:
        if like.dim() < 2:
            raise ConfigError(
                f"Dropout2d drops channels of steps [N, C, ...]; got a step of shape {tuple(like.shape)}."
            )
        keep = torch.rand(like.shape[:2], device=like.device) >= self.p
        per_channel = keep.to(like.dtype) / (1.0 - self.p)
        return per_channel.reshape(*like.shape[:2], *[1] * (like.dim() - 2)).expand(like.shape)


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


def delay_steps_argument(delay_steps: int | None, steps: int | None, owner: str) -> int:
    """The delay from SpikingJelly's ``delay_steps`` or its alias ``steps`` (exactly one of them, >= 0)."""
    if (delay_steps is None) == (steps is None):
        raise ConfigError(f"{owner} takes the delay as delay_steps (or its alias steps), exactly one of them.")
    value = delay_steps if steps is None else steps
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        raise ConfigError(f"Expected an integer >= 0 for argument delay_steps of {owner}. Got {value!r} instead.")
    return value


class Delay(StepModule, nn.Module):
    """Delay the input by ``delay_steps`` time steps: ``y[t] = x[t - delay_steps]``, zeros first.

    The last ``delay_steps`` inputs are carried across calls in both step modes until :meth:`reset`, so a
    chunked sequence is delayed as a whole (from rest, a multi-step call equals
    :func:`eventpipe.snn.functional.delay`). ``steps`` is an alias of ``delay_steps`` (eventpipe's earlier
    name, as argument and attribute); give one of them.
    """

    def __init__(self, delay_steps: int | None = None, step_mode: str = "s", *, steps: int | None = None) -> None:
        super().__init__()
        self.delay_steps = delay_steps_argument(delay_steps, steps, "Delay")
        self.step_mode = step_mode
        self.queue: torch.Tensor | None = None  # the last `delay_steps` inputs, [delay_steps, N, ...]

    @property
    def steps(self) -> int:
        """Alias of :attr:`delay_steps`."""
        return self.delay_steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_seq = x if self.step_mode == "m" else x.unsqueeze(0)
        if self.step_mode == "m":
            check_sequence(self, x)
        if self.delay_steps == 0:
            return x
        if self.queue is None:
            self.queue = x_seq.new_zeros((self.delay_steps, *x_seq.shape[1:]))
        else:
            check_step_shape(self, self.queue.shape[1:], x_seq.shape[1:])
        full = torch.cat([self.queue, x_seq])
        self.queue = full[x_seq.shape[0] :]
        out = full[: x_seq.shape[0]]
        return out if self.step_mode == "m" else out[0]

    def reset(self) -> None:
        self.queue = None

    def detach(self) -> None:
        if self.queue is not None:
            self.queue = self.queue.detach()

    def extra_repr(self) -> str:
        return f"delay_steps={self.delay_steps}, step_mode={self.step_mode}"


class RecurrentSpiking(StepModule, nn.Module):
    """A recurrently connected spiking layer: ``I[t] = W x[t] + U s[t-1]``, ``s[t] = neuron(I[t])``.

    The input projection runs over all steps at once; the recurrence is a Python loop over
    :meth:`~eventpipe.snn.neuron.BaseNode.step` with autograd through time, since each step's input depends
    on the previous spikes (the fused multi-step backends need the whole input up front). The last spikes
    and the neuron state are carried across calls in both step modes until :meth:`reset`.

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
        self, in_features: int, out_features: int, neuron: nn.Module, bias: bool = True, step_mode: str = "s"
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
        self.state: tuple[torch.Tensor, tuple[torch.Tensor, ...] | None] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.step_mode == "m" and x.dim() < 3:
            raise ConfigError(
                f"RecurrentSpiking(step_mode='m') takes a sequence [T, N, features]; got shape "
                f"{tuple(x.shape)}. For one step [N, features] per call use step_mode='s'."
            )
        currents = self.input(x if self.step_mode == "m" else x.unsqueeze(0))
        spikes, state = self.state if self.state is not None else (None, None)
        if spikes is not None:
            check_step_shape(self, spikes.shape, currents.shape[1:])
        out = []
        for current in currents:
            if spikes is not None:
                current = current + self.recurrent(spikes)
            spikes, state = self.neuron.step(current, state)
            out.append(spikes)
        self.state = (spikes, state)
        return torch.stack(out) if self.step_mode == "m" else out[0]

    def reset(self) -> None:
        self.state = None

    def detach(self) -> None:
        if self.state is not None:
            spikes, neuron_state = self.state
            self.state = (
                spikes.detach(),
                None if neuron_state is None else type(neuron_state)(*(t.detach() for t in neuron_state)),
            )  # every field of the neuron's state (adaptive neurons carry w as well as v)


def _require_single_step(container: str, modules: Any) -> None:
    for m in modules:
        if getattr(m, "step_mode", "s") != "s":
            raise ConfigError(
                f"{container} runs its modules one step at a time, so they need step_mode='s'; "
                f"{type(m).__name__} has step_mode={m.step_mode!r}."
            )


class MultiStepContainer(StepModule, nn.Sequential):
    """Run single-step modules over ``[T, N, ...]``, one step at a time (always multi-step).

    For stateful modules that have no multi-step form; their state is carried as usual until reset.
    """

    supported_step_modes = ("m",)
    _step_mode = "m"

    def __init__(self, *modules: nn.Module) -> None:
        nn.Sequential.__init__(self, *modules)
        _require_single_step(type(self).__name__, self)

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        check_sequence(self, x_seq)
        return torch.stack([nn.Sequential.forward(self, x) for x in x_seq])


class StepModeContainer(StepModule, nn.Sequential):
    """Single-step modules used in either step mode.

    ``"s"``: the modules as they are; ``"m"``: one step at a time when ``stateful``, else as one batch of
    ``T * N`` (like :class:`SeqToANNContainer`). :func:`~eventpipe.snn.functional.set_step_mode` changes the
    container's mode and leaves its modules single-step.
    """

    def __init__(self, stateful: bool, *modules: nn.Module, step_mode: str = "s") -> None:
        nn.Sequential.__init__(self, *modules)
        _require_single_step(type(self).__name__, self)
        self.stateful = stateful
        self.step_mode = step_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.step_mode == "s":
            return nn.Sequential.forward(self, x)
        check_sequence(self, x)
        if self.stateful:
            return torch.stack([nn.Sequential.forward(self, xt) for xt in x])
        return seq_to_ann_forward(x, lambda y: nn.Sequential.forward(self, y))


class _RecurrentContainer(StepModule, nn.Module):
    """Feedback ``y[t] = sub_module(combine(x[t], y[t-1]))`` with ``y[-1] = 0``; ``y`` carried until reset."""

    def __init__(self, sub_module: nn.Module, step_mode: str) -> None:
        nn.Module.__init__(self)
        _require_single_step(type(self).__name__, [sub_module])
        self.sub_module = sub_module
        self.step_mode = step_mode
        self.y: torch.Tensor | None = None

    def _initial(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _combine(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.step_mode == "m":
            check_sequence(self, x)
        x_seq = x if self.step_mode == "m" else x.unsqueeze(0)
        y = self.y if self.y is not None else self._initial(x_seq[0])
        out = []
        for xt in x_seq:
            y = self.sub_module(self._combine(xt, y))
            out.append(y)
        self.y = y
        return torch.stack(out) if self.step_mode == "m" else out[0]

    def reset(self) -> None:
        self.y = None

    def detach(self) -> None:
        if self.y is not None:
            self.y = self.y.detach()


class ElementWiseRecurrentContainer(_RecurrentContainer):
    """``y[t] = sub_module(f(y[t-1], x[t]))`` with an element-wise ``f`` (e.g. ``torch.add``), ``y[-1] = 0``.

    ``sub_module`` keeps the shape of its input and runs single-step; its own state is kept as usual.
    """

    def __init__(
        self,
        sub_module: nn.Module,
        element_wise_function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        step_mode: str = "s",
    ) -> None:
        super().__init__(sub_module, step_mode)
        self.element_wise_function = element_wise_function

    def _initial(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)

    def _combine(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        check_step_shape(self, y.shape, x.shape)
        return self.element_wise_function(y, x)

    def extra_repr(self) -> str:
        return f"element_wise_function={self.element_wise_function}, step_mode={self.step_mode}"


class LinearRecurrentContainer(_RecurrentContainer):
    """``y[t] = sub_module(rc(cat(x[t], y[t-1])))`` where ``rc`` is a learned ``Linear(in + out, in)``.

    ``sub_module`` maps ``[N, in_features]`` to ``[N, out_features]`` and runs single-step; ``y[-1] = 0``.
    """

    def __init__(
        self,
        sub_module: nn.Module,
        in_features: int,
        out_features: int,
        bias: bool = True,
        step_mode: str = "s",
    ) -> None:
        super().__init__(sub_module, step_mode)
        self.out_features = out_features
        self.rc = nn.Linear(in_features + out_features, in_features, bias)

    def _initial(self, x: torch.Tensor) -> torch.Tensor:
        return x.new_zeros((*x.shape[:-1], self.out_features))

    def _combine(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        check_step_shape(self, y.shape[:-1], x.shape[:-1])
        return self.rc(torch.cat((x, y), dim=-1))

    def extra_repr(self) -> str:
        return f"out_features={self.out_features}, step_mode={self.step_mode}"


class SynapseFilter(StepModule, nn.Module):
    """First-order synaptic current of a spike train: ``I[t] = I[t-1] - (1 - S[t]) I[t-1] / tau + S[t]``.

    The current decays with time constant ``tau`` (steps, > 1) and is set to ``I[t-1] + 1`` by a spike.
    With ``learnable=True`` the decay ``1 / tau = sigmoid(w)`` is learned, from ``w = -log(tau - 1)``.
    ``I`` is carried across calls in both step modes until :meth:`reset`.
    """

    def __init__(self, tau: float = 100.0, learnable: bool = False, step_mode: str = "s") -> None:
        nn.Module.__init__(self)
        if not (isinstance(tau, (int, float)) and tau > 1):
            raise ConfigError(f"Expected a number > 1 (time steps) for argument tau. Got {tau!r} instead.")
        self.learnable = learnable
        self.tau = float(tau)
        self.w = nn.Parameter(torch.tensor(-math.log(tau - 1.0))) if learnable else None
        self.step_mode = step_mode
        self.out_i: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.step_mode == "m":
            check_sequence(self, x)
        x_seq = x if self.step_mode == "m" else x.unsqueeze(0)
        inv_tau = torch.sigmoid(self.w) if self.w is not None else 1.0 / self.tau
        i = self.out_i
        if i is None:
            i = torch.zeros_like(x_seq[0])
        else:
            check_step_shape(self, i.shape, x_seq.shape[1:])
        out = []
        for s in x_seq:
            i = i - (1.0 - s) * i * inv_tau + s
            out.append(i)
        self.out_i = i
        return torch.stack(out) if self.step_mode == "m" else out[0]

    def reset(self) -> None:
        self.out_i = None

    def detach(self) -> None:
        if self.out_i is not None:
            self.out_i = self.out_i.detach()

    def extra_repr(self) -> str:
        tau = float(1.0 / torch.sigmoid(self.w.detach())) if self.w is not None else self.tau
        return f"tau={tau:.4g}, learnable={self.learnable}, step_mode={self.step_mode}"


KEEPS_CHILD_STEP_MODE = (
    StepModeContainer,
    MultiStepContainer,
    ElementWiseRecurrentContainer,
    LinearRecurrentContainer,
)
"""Containers whose modules stay single-step when :func:`~eventpipe.snn.functional.set_step_mode` runs."""
