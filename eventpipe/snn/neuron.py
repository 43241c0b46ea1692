"""Spiking neuron modules: IF, LIF and parametric LIF, with SpikingJelly's numerics and argument names.

The nonlinear, adaptive and analog neurons (``QIFNode``, ``EIFNode``, ``IzhikevichNode``, ``LIAFNode``,
``KLIFNode``, ``AdaptBaseNode``) are defined in :mod:`eventpipe.snn.neuron_extra` and available here too.

A module is a thin shell over :mod:`eventpipe.snn.dynamics` (the equations) and
:mod:`eventpipe.snn.backends` (the fused torch / CUDA implementations):

* single-step (``step_mode="s"``, the default, as in SpikingJelly): ``forward(x [N, ...]) -> spikes [N, ...]``;
* multi-step (``step_mode="m"``): ``forward(x_seq [T, N, ...]) -> spikes [T, N, ...]`` through the fused
  backends.

In both modes the membrane potential is carried on the module (``self.state``, differentiable) from one
call to the next until :meth:`BaseNode.reset` (or :func:`eventpipe.snn.functional.reset_net`): a sequence
fed step by step, or in chunks, gives the spikes of one multi-step call. Reset between samples. A call whose
step shape differs from the carried state's is an error (see :mod:`eventpipe.snn.base`). The pure forms
take and return the state explicitly: :meth:`BaseNode.step` (one step) and :meth:`BaseNode.run` (a sequence).

Potentials are in units of the input current (``v_threshold`` defaults to 1); ``tau`` is in time steps.

>>> import torch
>>> lif = LIFNode(tau=2.0, step_mode="m")
>>> lif(torch.full((4, 1), 1.5)).flatten().tolist()
[0.0, 1.0, 0.0, 1.0]
>>> lif.reset()
>>> lif.step_mode = "s"
>>> [lif(torch.full((1,), 1.5)).item() for _ in range(4)]
[0.0, 1.0, 0.0, 1.0]
"""

from __future__ import annotations

import importlib
import math
from typing import Any, ClassVar

import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn.backends import check_backend, run_multistep, run_step
from eventpipe.snn.base import StepModule, check_sequence, check_step_shape
from eventpipe.snn.dynamics import (
    NeuronSpec,
    NeuronState,
    neuron_charge,
    neuron_fire,
    neuron_reset,
    rest_state,
)
from eventpipe.snn.surrogate import Sigmoid, Surrogate

# defined in eventpipe.snn.neuron_extra, which builds on BaseNode: loaded on first access (no import cycle)
_EXTRA = ("AdaptBaseNode", "EIFNode", "IzhikevichNode", "KLIFNode", "LIAFNode", "QIFNode")

__all__ = ["BaseNode", "IFNode", "LIFNode", "ParametricLIFNode", *_EXTRA]

_HOOKS = ("neuronal_charge", "neuronal_fire", "neuronal_reset")


def __getattr__(name: str) -> Any:
    if name in _EXTRA:
        return getattr(importlib.import_module("eventpipe.snn.neuron_extra"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class BaseNode(StepModule, nn.Module):
    """Common shell of the neurons, and the base of custom ones.

    A custom neuron is written as in SpikingJelly: subclass ``BaseNode`` (or ``IFNode``, ``LIFNode``,
    ``ParametricLIFNode``) and override :meth:`neuronal_charge` (and optionally :meth:`neuronal_fire`,
    :meth:`neuronal_reset`), which update ``self.v`` in place of the built-in equations. A module that
    overrides any of the three runs them step by step in both step modes (a torch loop with autograd through
    time, not the fused kernels), carrying ``self.v`` across calls until :meth:`reset` like every neuron.

    >>> class MyLIF(BaseNode):
    ...     def __init__(self, tau: float = 2.0, **kwargs: Any) -> None:
    ...         super().__init__(**kwargs)
    ...         self.tau = tau
    ...     def neuronal_charge(self, x: torch.Tensor) -> None:
    ...         self.v = self.v + (x - (self.v - self.v_reset)) / self.tau
    >>> MyLIF(step_mode="m")(torch.full((4, 1), 1.5)).flatten().tolist()
    [0.0, 1.0, 0.0, 1.0]

    Parameters
    ----------
    v_threshold:
        Firing threshold.
    v_reset:
        Potential after a spike (hard reset), or ``None`` to subtract ``v_threshold`` (soft reset).
    surrogate_function:
        Surrogate gradient (default ``Sigmoid(alpha=4)``).
    detach_reset:
        Do not backpropagate through the reset.
    step_mode:
        ``"s"`` (``[N, ...]`` per call, the default) or ``"m"`` (``[T, N, ...]`` per call); the state is
        carried across calls in both until :meth:`reset`.
    backend:
        ``"auto"``, ``"torch"``, ``"cupy"`` or ``"triton"`` (see :mod:`eventpipe.snn.backends`).
    store_v_seq:
        Keep the potential after each step's reset as ``self.v_seq`` (``[T, N, ...]``, differentiable) for
        monitors or membrane read-outs (multi-step mode).
    store_h_seq:
        Keep the charged potential before the spike, ``H``, as ``self.h_seq`` (``[T, N, ...]``, multi-step)
        and its last step as ``self.h`` (both modes); differentiable. In multi-step mode it is recomputed from
        the stored potentials (for 16-bit inputs it may differ from the kernels' rounded value in the last bit).
    """

    kind: ClassVar[str] = ""

    def __init__(
        self,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        surrogate_function: Surrogate | None = None,
        detach_reset: bool = False,
        step_mode: str = "s",
        store_v_seq: bool = False,
        store_h_seq: bool = False,
    ) -> None:
        nn.Module.__init__(self)
        self.v_threshold = v_threshold
        self.v_reset = v_reset
        self.surrogate_function = surrogate_function if surrogate_function is not None else Sigmoid()
        self.detach_reset = detach_reset
        self.step_mode = step_mode
        self.store_v_seq = store_v_seq
        self.store_h_seq = store_h_seq
        self.state: NeuronState | None = None
        self.v_seq: torch.Tensor | None = None
        self.h_seq: torch.Tensor | None = None
        self.h: torch.Tensor | None = None
        self._backend = "auto"

    # -- configuration -------------------------------------------------------------------------------------

    def _spec_kwargs(self) -> dict[str, Any]:
        return {}

    @property
    def spec(self) -> NeuronSpec:
        """The (validated) dynamics this module runs (IF's for a custom subclass without a ``kind``)."""
        return NeuronSpec(
            kind=self.kind or "if",
            v_threshold=self.v_threshold,
            v_reset=self.v_reset,
            detach_reset=self.detach_reset,
            surrogate=self.surrogate_function,
            **self._spec_kwargs(),
        )

    def decay(self) -> float | torch.Tensor | None:
        """The decay ``k`` of one step (``None`` for IF)."""
        return self.spec.decay()

    @property
    def backend(self) -> str:
        """``"auto"``, ``"torch"`` or ``"cupy"``; an explicit ``"cupy"`` is checked when set."""
        return self._backend

    @backend.setter
    def backend(self, name: str) -> None:
        self._backend = check_backend(name, self.spec)

    # -- SpikingJelly's hooks: override them to write a custom neuron -------------------------------------

    def neuronal_charge(self, x: torch.Tensor) -> None:
        """Charge: set ``self.v`` from the potential after the previous step to ``H`` for input ``x``
        (here: this neuron's own equation)."""
        self.v = neuron_charge(x, self.v, self.spec, self.decay())

    def neuronal_fire(self) -> torch.Tensor:
        """Fire: the spikes ``S = Θ(H - V_th)`` of the charged ``self.v``, with the surrogate's gradient."""
        return neuron_fire(self.v, self.spec)

    def neuronal_reset(self, spike: torch.Tensor) -> None:
        """Reset: set ``self.v`` after ``spike`` (hard to ``v_reset``, or soft with ``v_reset=None``;
        the spike detached first when ``detach_reset``)."""
        self.v = neuron_reset(self.v, spike, self.spec)

    @property
    def custom_dynamics(self) -> bool:
        """Whether this class overrides one of the hooks (then they run step by step)."""
        return any(getattr(type(self), name) is not getattr(BaseNode, name) for name in _HOOKS)

    def _hook_step(self, x: torch.Tensor, state: NeuronState) -> tuple[torch.Tensor, torch.Tensor, NeuronState]:
        """One step through the hooks: ``(spikes, H, next state)``; the carried state is left as it was."""
        carried, self.state = self.state, state
        try:
            self.neuronal_charge(x)
            h = self.v
            spike = self.neuronal_fire()
            self.neuronal_reset(spike)
            return spike, h, self.state
        finally:
            self.state = carried

    def _hook_run(self, x_seq: torch.Tensor, state: NeuronState | None) -> tuple[torch.Tensor, NeuronState]:
        if len(x_seq) == 0:
            return torch.empty_like(x_seq), state
        state = rest_state(x_seq[0], self.spec) if state is None else state
        spikes, vs, hs = [], [], []
        for x in x_seq:
            spike, h, state = self._hook_step(x, state)
            spikes.append(spike)
            vs.append(state.v)
            hs.append(h)
        if self.store_v_seq:
            self.v_seq = torch.stack(vs)
        if self.store_h_seq:
            self.h_seq = torch.stack(hs)
            self.h = hs[-1]
        return torch.stack(spikes), state

    # -- computation ---------------------------------------------------------------------------------------

    def run(self, x_seq: torch.Tensor, state: NeuronState | None = None) -> tuple[torch.Tensor, NeuronState]:
        """Multi-step: ``(spikes [T, N, ...], state after the last step)``, from ``state`` (default: rest)."""
        if self.custom_dynamics:
            return self._hook_run(x_seq, state)
        k = self.decay()
        s_seq, v_seq, v_last = run_multistep(
            x_seq,
            self.spec,
            v_init=None if state is None else state.v,
            k=k if isinstance(k, torch.Tensor) else None,
            backend=self.backend,
            need_v_seq=self.store_v_seq or self.store_h_seq,
        )
        if self.store_v_seq:
            self.v_seq = v_seq
        if self.store_h_seq and v_seq is not None:
            v0 = (state if state is not None else rest_state(x_seq[0], self.spec)).v
            self.h_seq = neuron_charge(x_seq, torch.cat([v0.unsqueeze(0), v_seq[:-1]]), self.spec, k)
            self.h = self.h_seq[-1] if len(self.h_seq) else None
        return s_seq, NeuronState(v_last)

    def step(self, x: torch.Tensor, state: NeuronState | None = None) -> tuple[torch.Tensor, NeuronState]:
        """Single step, pure: ``(spikes [N, ...], next state)``; ``state=None`` starts from rest."""
        if self.custom_dynamics:
            spike, h, state = self._hook_step(x, rest_state(x, self.spec) if state is None else state)
            if self.store_h_seq:
                self.h = h
            return spike, state
        k = self.decay()
        if self.store_h_seq:
            self.h = neuron_charge(x, (state if state is not None else rest_state(x, self.spec)).v, self.spec, k)
        s, v = run_step(x, self.spec, None if state is None else state.v,
                        k=k if isinstance(k, torch.Tensor) else None, backend=self.backend)
        return s, NeuronState(v)

    def rest_attribute(self, name: str, x: torch.Tensor) -> torch.Tensor | None:
        """What attribute ``name`` holds at rest for input ``x``: the rest potential for ``"v"``, else
        ``None`` (a pre-forward monitor records it before the first call instead of ``None``)."""
        if name != "v":
            return None
        return rest_state(x[0] if self.step_mode == "m" else x, self.spec).v

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.step_mode == "m":
            check_sequence(self, x)
            if self.state is not None:
                check_step_shape(self, self.state.v.shape, x.shape[1:])
            s_seq, self.state = self.run(x, self.state)
            return s_seq
        if self.state is not None:
            check_step_shape(self, self.state.v.shape, x.shape)
        s, self.state = self.step(x, self.state)
        return s

    @property
    def v(self) -> torch.Tensor | None:
        """Membrane potential carried from the last call (``None`` at rest); settable (the other state
        variables, e.g. an adaptive neuron's ``w``, are kept)."""
        return None if self.state is None else self.state.v

    @v.setter
    def v(self, value: torch.Tensor) -> None:
        self.state = NeuronState(value) if self.state is None else self.state._replace(v=value)

    def reset(self) -> None:
        self.state = None
        self.v_seq = None
        self.h_seq = None
        self.h = None

    def detach(self) -> None:
        if self.state is not None:
            self.state = NeuronState(self.state.v.detach())

    def extra_repr(self) -> str:
        extra = "".join(f", {k}={v}" for k, v in self._spec_kwargs().items())
        return (
            f"v_threshold={self.v_threshold}, v_reset={self.v_reset}, detach_reset={self.detach_reset}, "
            f"step_mode={self.step_mode}, backend={self.backend}, surrogate={self.surrogate_function}{extra}"
        )


class IFNode(BaseNode):
    """Integrate-and-fire: ``H = V + X`` (no leak)."""

    kind: ClassVar[str] = "if"

    def __init__(
        self,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        surrogate_function: Surrogate | None = None,
        detach_reset: bool = False,
        step_mode: str = "s",
        backend: str = "auto",
        store_v_seq: bool = False,
        store_h_seq: bool = False,
    ) -> None:
        super().__init__(
            v_threshold, v_reset, surrogate_function, detach_reset, step_mode, store_v_seq, store_h_seq
        )
        self.backend = backend


class LIFNode(BaseNode):
    """Leaky integrate-and-fire with time constant ``tau`` (time steps, >= 1).

    ``decay_input=True``: ``H = V + (X - (V - V_reset)) / tau``; else ``H = V - (V - V_reset) / tau + X``.
    """

    kind: ClassVar[str] = "lif"

    def __init__(
        self,
        tau: float = 2.0,
        decay_input: bool = True,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        surrogate_function: Surrogate | None = None,
        detach_reset: bool = False,
        step_mode: str = "s",
        backend: str = "auto",
        store_v_seq: bool = False,
        store_h_seq: bool = False,
    ) -> None:
        super().__init__(
            v_threshold, v_reset, surrogate_function, detach_reset, step_mode, store_v_seq, store_h_seq
        )
        self.tau = tau
        self.decay_input = decay_input
        self.backend = backend

    def _spec_kwargs(self) -> dict[str, Any]:
        return {"tau": self.tau, "decay_input": self.decay_input}


class ParametricLIFNode(BaseNode):
    """LIF whose decay ``1/tau = sigmoid(w)`` is learned (Fang et al., ICCV 2021), from ``init_tau``.

    ``init_tau`` is in time steps and must be > 1 (``w = -log(init_tau - 1)``).
    """

    kind: ClassVar[str] = "plif"

    def __init__(
        self,
        init_tau: float = 2.0,
        decay_input: bool = True,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        surrogate_function: Surrogate | None = None,
        detach_reset: bool = False,
        step_mode: str = "s",
        backend: str = "auto",
        store_v_seq: bool = False,
        store_h_seq: bool = False,
    ) -> None:
        if not (isinstance(init_tau, (int, float)) and math.isfinite(init_tau) and init_tau > 1):
            raise ConfigError(
                f"Expected a number > 1 (time steps) for argument init_tau. Got {init_tau!r} instead."
            )
        super().__init__(
            v_threshold, v_reset, surrogate_function, detach_reset, step_mode, store_v_seq, store_h_seq
        )
        self.decay_input = decay_input
        self.w = nn.Parameter(torch.tensor(-math.log(init_tau - 1.0)))
        self.backend = backend

    def _spec_kwargs(self) -> dict[str, Any]:
        return {"decay_input": self.decay_input}

    def decay(self) -> torch.Tensor:
        return torch.sigmoid(self.w)

    @property
    def tau(self) -> float:
        """The current time constant ``1 / sigmoid(w)`` in time steps."""
        return float(1.0 / torch.sigmoid(self.w.detach()))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, tau={self.tau:.4g}"
