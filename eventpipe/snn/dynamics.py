r"""Neuron dynamics as pure functions: parameters and state go in, spikes and the next state come out.

Every neuron here follows SpikingJelly's three-stage discrete update (so its hyper-parameters carry over).
For input current ``X[t]`` and membrane potential ``V[t-1]`` (both in units of the threshold, typically 1):

* charge, with decay ``k = 1/tau`` (LIF) or ``k = sigmoid(w)`` (parametric LIF):

  - IF: ``H = V + X``
  - LIF, ``decay_input=True``: ``H = V + (X - (V - V_reset)) * k``
  - LIF, ``decay_input=False``: ``H = V - (V - V_reset) * k + X``

* fire: ``S = Θ(H - V_th)`` (the surrogate decides the backward pass);
* reset: hard ``V = H (1 - S) + V_reset S``; soft (``v_reset=None``) ``V = H - S V_th``, and ``V_reset``
  counts as 0 in the charge. ``detach_reset`` cuts the gradient through ``S`` in the reset.

The rest state is ``V = V_reset`` (hard) or ``0`` (soft). Time steps are unitless: ``tau`` is in steps.

:func:`neuron_step` is the single-step form for streaming (state in, state out, nothing hidden) and
:func:`multistep_loop` runs it over ``[T, N, ...]`` with autograd through every step: the reference the fused
backends are tested against and the baseline of ``eventpipe bench neurons``.

>>> import torch
>>> spec = NeuronSpec(kind="lif", tau=2.0)
>>> s, state = neuron_step(torch.tensor([1.5]), None, spec)
>>> s.item(), state.v.item()          # H = 0 + (1.5 - 0) / 2 = 0.75: below threshold
(0.0, 0.75)
>>> s, state = neuron_step(torch.tensor([1.5]), state, spec)
>>> s.item(), state.v.item()          # H = 0.75 + (1.5 - 0.75) / 2 = 1.125: spike, hard reset to 0
(1.0, 0.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import torch

from eventpipe.errors import ConfigError
from eventpipe.snn.surrogate import Sigmoid, Surrogate

__all__ = [
    "NEURON_KINDS",
    "NeuronSpec",
    "NeuronState",
    "multistep_loop",
    "neuron_charge",
    "neuron_fire",
    "neuron_reset",
    "neuron_step",
    "rest_state",
]

NEURON_KINDS = ("if", "lif", "plif")


class NeuronState(NamedTuple):
    """State carried between steps: ``v``, the membrane potential after the last reset (threshold units)."""

    v: torch.Tensor


@dataclass(frozen=True)
class NeuronSpec:
    """What a neuron computes (everything except a learned decay).

    Parameters
    ----------
    kind:
        ``"if"``, ``"lif"`` or ``"plif"`` (parametric LIF: the decay ``k = sigmoid(w)`` is passed separately).
    tau:
        Membrane time constant of ``"lif"``, in time steps (``>= 1``); ``k = 1 / tau``. Ignored otherwise.
    decay_input:
        Whether the input is scaled by ``k`` too (LIF and PLIF only).
    v_threshold:
        Firing threshold: a number, or a tensor broadcast against one step ``[N, ...]`` (per-neuron or
        per-sample thresholds, e.g. :func:`eventpipe.snn.functional.set_threshold_margin`; these run on the
        per-step torch path).
    v_reset:
        Hard-reset potential, or ``None`` for a soft reset (subtract ``v_threshold``).
    detach_reset:
        Cut the gradient through the spike in the reset.
    surrogate:
        Surrogate gradient of the Heaviside fire function.
    """

    kind: str = "lif"
    tau: float = 2.0
    decay_input: bool = True
    v_threshold: float | torch.Tensor = 1.0
    v_reset: float | None = 0.0
    detach_reset: bool = False
    surrogate: Surrogate = field(default_factory=Sigmoid)

    def __post_init__(self) -> None:
        if self.kind not in NEURON_KINDS:
            raise ConfigError(
                f"Unknown value {self.kind!r} for argument kind. Valid values are {set(NEURON_KINDS)}."
            )
        if self.kind == "lif" and not (
            isinstance(self.tau, (int, float)) and math.isfinite(self.tau) and self.tau >= 1
        ):
            raise ConfigError(
                f"Expected a number >= 1 (time steps) for argument tau. Got {self.tau!r} instead."
            )
        if isinstance(self.v_threshold, torch.Tensor):
            if not (self.v_threshold.is_floating_point() and bool(torch.isfinite(self.v_threshold).all())):
                raise ConfigError(
                    "Expected a finite floating-point tensor for argument v_threshold. "
                    f"Got {self.v_threshold!r} instead."
                )
        elif not (isinstance(self.v_threshold, (int, float)) and math.isfinite(self.v_threshold)):
            raise ConfigError(
                f"Expected a finite number or tensor for argument v_threshold. Got {self.v_threshold!r} instead."
            )
        if self.v_reset is not None and not (
            isinstance(self.v_reset, (int, float)) and math.isfinite(self.v_reset)
        ):
            raise ConfigError(
                "Expected None (soft reset) or a finite number for argument v_reset. "
                f"Got {self.v_reset!r} instead."
            )
        if not isinstance(self.surrogate, Surrogate):
            raise ConfigError(
                "Expected an eventpipe.snn.surrogate.Surrogate for argument surrogate. "
                f"Got {self.surrogate!r} instead."
            )

    @property
    def tensor_threshold(self) -> bool:
        """True when ``v_threshold`` is a tensor (the fused kernels take a number only)."""
        return isinstance(self.v_threshold, torch.Tensor)

    @property
    def hard_reset(self) -> bool:
        """True when spikes reset to ``v_reset``; False for a soft (subtractive) reset."""
        return self.v_reset is not None

    @property
    def v_rest(self) -> float:
        """The initial membrane potential: ``v_reset`` (hard reset) or 0 (soft reset)."""
        return 0.0 if self.v_reset is None else float(self.v_reset)

    def decay(self, w: torch.Tensor | None = None) -> float | torch.Tensor | None:
        """The decay ``k``: ``1/tau`` (LIF), ``sigmoid(w)`` (PLIF, needs ``w``) or ``None`` (IF)."""
        if self.kind == "lif":
            return 1.0 / self.tau
        if self.kind == "plif":
            if w is None:
                raise ConfigError(
                    "A parametric LIF neuron needs its weight w to compute the decay sigmoid(w)."
                )
            return torch.sigmoid(w)
        return None

    def learned_decay(self, k: torch.Tensor | None) -> torch.Tensor | None:
        """The decay tensor a fused backend differentiates: ``k = sigmoid(w)`` for PLIF (required), else ``None``."""
        if self.kind != "plif":
            return None
        if k is None:
            raise ConfigError("A parametric LIF neuron needs its decay k = sigmoid(w) as a tensor.")
        return k


def rest_state(like: torch.Tensor, spec: NeuronSpec) -> NeuronState:
    """The rest state shaped like one time step ``like`` (``[N, ...]``)."""
    return NeuronState(torch.full_like(like, spec.v_rest))


def neuron_charge(
    x: torch.Tensor, v: torch.Tensor, spec: NeuronSpec, k: float | torch.Tensor | None = None
) -> torch.Tensor:
    """The potential ``H`` after integrating input ``x`` into ``v`` (see the module docstring)."""
    if spec.kind == "if":
        return v + x
    if k is None:
        raise ConfigError(f"A {spec.kind!r} neuron needs its decay k to charge.")
    if spec.decay_input:
        return v + (x - (v - spec.v_rest)) * k
    return v - (v - spec.v_rest) * k + x


def neuron_fire(h: torch.Tensor, spec: NeuronSpec) -> torch.Tensor:
    """Spikes ``S = Θ(H - V_th)`` with the surrogate's gradient."""
    return spec.surrogate(h - spec.v_threshold)


def neuron_reset(h: torch.Tensor, s: torch.Tensor, spec: NeuronSpec) -> torch.Tensor:
    """The potential after the reset; ``s`` is detached first when ``spec.detach_reset``."""
    if spec.detach_reset:
        s = s.detach()
    if spec.v_reset is None:
        return h - s * spec.v_threshold
    return h * (1.0 - s) + spec.v_reset * s


def neuron_step(
    x: torch.Tensor,
    state: NeuronState | None,
    spec: NeuronSpec,
    k: float | torch.Tensor | None = None,
) -> tuple[torch.Tensor, NeuronState]:
    """One time step: ``(spikes, next state)``; ``state=None`` starts from rest.

    ``k`` is the decay (``spec.decay()`` is used when omitted; a PLIF neuron must pass ``sigmoid(w)``).
    """
    if state is None:
        state = rest_state(x, spec)
    if k is None:
        k = spec.decay()
    h = neuron_charge(x, state.v, spec, k)
    s = neuron_fire(h, spec)
    return s, NeuronState(neuron_reset(h, s, spec))


def multistep_loop(
    x_seq: torch.Tensor,
    spec: NeuronSpec,
    state: NeuronState | None = None,
    k: float | torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run :func:`neuron_step` over ``x_seq`` ``[T, N, ...]``: ``(spikes [T, N, ...], v_seq [T, N, ...])``.

    Autograd records every step (memory and time grow with T); this is the reference implementation.
    """
    spikes, vs = [], []
    for x in x_seq:
        s, state = neuron_step(x, state, spec, k)
        spikes.append(s)
        vs.append(state.v)
    return torch.stack(spikes), torch.stack(vs)
