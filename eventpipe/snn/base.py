"""The step-mode mixin shared by neurons, layers and containers.

As in SpikingJelly, every module defaults to single-step mode:

* ``step_mode="s"`` (default): one time step ``[N, ...]`` per call;
* ``step_mode="m"``: a whole sequence ``[T, N, ...]`` per call (the fast path: fused neurons, one large
  batch for stateless layers).

A stateful module (neuron, delay, dropout mask, recurrent container, synapse filter) keeps its state across
calls in both modes until :meth:`StepModule.reset` (:func:`eventpipe.snn.functional.reset_net` resets a whole
network), so a long sequence can be fed step by step or chunk by chunk with the same result as at once; the
carried state stays in the autograd graph until :meth:`StepModule.detach` or the reset.

Shape rules that catch an input fed in the wrong mode:

* a module that carries state for steps ``[N, ...]`` rejects an input whose step shape differs
  (:func:`check_step_shape`): a sequence after a step, a step after a sequence, or a new batch without a
  reset;
* a multi-step call needs at least the ``T`` and ``N`` axes (:func:`check_sequence`);
* convolution, batch-norm and pooling layers accept only their step's number of axes, plus one for ``T`` in
  multi-step mode (:mod:`eventpipe.snn.layer`).

What no rule can tell, as in SpikingJelly: the first call of a module at rest whose input has any number of
axes (a neuron, a linear layer) takes ``[T, N, ...]`` as one step in single-step mode, and ``[N, F]`` as
``N`` steps in multi-step mode. Build networks in one mode (:func:`eventpipe.snn.functional.set_step_mode`).

A custom stateful module can keep its state as in SpikingJelly: subclass :class:`MemoryModule` (or
``StepModule`` and ``nn.Module``), call :meth:`StepModule.register_memory` for each state variable with its
value at rest, and the inherited :meth:`~StepModule.reset` and :meth:`~StepModule.detach` (hence ``reset_net``
and ``detach_net``) restore and detach it.

>>> class Counter(MemoryModule):
...     def __init__(self) -> None:
...         super().__init__()
...         self.register_memory("count", 0)
...     def forward(self, x: torch.Tensor) -> torch.Tensor:
...         self.count += 1
...         return x * self.count
>>> counter = Counter()
>>> [counter(torch.ones(1)).item() for _ in range(3)], dict(counter.named_memories())
([1.0, 2.0, 3.0], {'count': 3})
>>> counter.reset()
>>> counter.count
0
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import nn

from eventpipe.errors import ConfigError

__all__ = ["STEP_MODES", "MemoryModule", "StepModule", "check_sequence", "check_step_shape"]

STEP_MODES = ("s", "m")


class StepModule:
    """Mixin for ``torch.nn.Module`` subclasses with a ``step_mode`` (``"s"``, the default, or ``"m"``)."""

    supported_step_modes: tuple[str, ...] = STEP_MODES
    _step_mode: str = "s"

    @property
    def step_mode(self) -> str:
        """``"s"``: ``[N, ...]`` per call; ``"m"``: ``[T, N, ...]`` per call (state carried in both)."""
        return self._step_mode

    @step_mode.setter
    def step_mode(self, mode: str) -> None:
        if mode not in self.supported_step_modes:
            raise ConfigError(
                f"Unknown value {mode!r} for argument step_mode of {type(self).__name__}. "
                f"Valid values are {set(self.supported_step_modes)}."
            )
        self._step_mode = mode

    def register_memory(self, name: str, value: Any) -> None:
        """Keep attribute ``name`` as state, set to ``value`` now and by every :meth:`reset` (a deep copy).

        Raises
        ------
        ConfigError
            ``name`` is already an attribute of the module.
        """
        if hasattr(self, name):
            raise ConfigError(
                f"{type(self).__name__} already has an attribute {name!r}: register_memory needs a new name."
            )
        self.__dict__.setdefault("_memory_defaults", {})[name] = copy.deepcopy(value)
        setattr(self, name, value)

    def named_memories(self) -> Iterator[tuple[str, Any]]:
        """``(name, current value)`` of every registered memory, in registration order."""
        for name in self.__dict__.get("_memory_defaults", {}):
            yield name, getattr(self, name)

    def memories(self) -> Iterator[Any]:
        """The current value of every registered memory."""
        for _, value in self.named_memories():
            yield value

    def reset(self) -> None:
        """Forget the carried state: restore the registered memories' values at rest (nothing else here;
        modules with other state override it)."""
        for name, value in self.__dict__.get("_memory_defaults", {}).items():
            setattr(self, name, copy.deepcopy(value))

    def detach(self) -> None:
        """Cut the carried state from the autograd graph (truncated BPTT in streaming use): here, the
        registered memories that are tensors."""
        for name, value in list(self.named_memories()):
            if isinstance(value, torch.Tensor):
                setattr(self, name, value.detach())


class MemoryModule(StepModule, nn.Module):
    """SpikingJelly's base of stateful modules: an ``nn.Module`` with a step mode and registered memories."""

    def __init__(self) -> None:
        nn.Module.__init__(self)


def check_sequence(module: object, x: torch.Tensor, min_dims: int = 2) -> None:
    """Reject a multi-step input with fewer than ``min_dims`` axes (``[T, N, ...]`` needs two)."""
    if x.dim() < min_dims:
        raise ConfigError(
            f"{type(module).__name__}(step_mode='m') takes a sequence [T, N, ...] with at least {min_dims} "
            f"axes; got shape {tuple(x.shape)}. For one step [N, ...] per call use step_mode='s'."
        )


def check_step_shape(module: object, carried: Sequence[int], step: Sequence[int]) -> None:
    """Reject a time step whose shape differs from the carried state's (a new batch, or the wrong mode)."""
    if tuple(carried) != tuple(step):
        raise ConfigError(
            f"{type(module).__name__}(step_mode={getattr(module, 'step_mode', '?')!r}) carries state for "
            f"steps of shape {tuple(carried)} but got a step of shape {tuple(step)}: call "
            "functional.reset_net(net) between samples, or set step_mode='m' (functional.set_step_mode) "
            "to feed [T, N, ...] sequences."
        )
