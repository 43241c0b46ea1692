r"""Nonlinear, adaptive and analog neurons under SpikingJelly's names: QIF, EIF, Izhikevich, LIAF, KLIF.

Every neuron follows the charge / fire / reset update of :mod:`eventpipe.snn.dynamics` with its own charge;
``tau`` and ``tau_w`` are in time steps, potentials in units of the input current. For input ``X[t]`` and the
potential ``V[t-1]``:

* QIF: ``H = V + (X + a0 (V - V_rest)(V - V_c)) / tau``;
* EIF: ``H = V + (X - (V - V_rest) + delta_T exp((V - theta_rh) / delta_T)) / tau``;
* Izhikevich (adaptive, current ``W``): ``H = V + (X + a0 (V - V_rest)(V - V_c) - W) / tau``;
* LIAF: LIF's charge; the output is the analog ``act(H)`` (or ``act(H - V_th)``), the reset follows the spike;
* KLIF: ``H = ReLU(k H_LIF)`` with a learned ``k`` (initially 1); optionally the reset rescales by ``1 / k``.

Then ``S = Θ(H - V_th)`` and the reset of :func:`eventpipe.snn.dynamics.neuron_reset` (hard to ``v_reset``, or
soft with ``v_reset=None``). An adaptive neuron (:class:`AdaptBaseNode`) also updates, between charge and
fire, ``W' = W + (a (H - V_rest) - W) / tau_w`` and after the spike ``W = W' + b S``; as in SpikingJelly the
jump ``b S`` and the hard reset's ``V_reset S`` keep their gradient under ``detach_reset``.

The potential starts at ``v_reset`` (``0`` with a soft reset), as in SpikingJelly, and ``W`` at ``w_rest``.
These neurons run a per-step torch loop in both step modes (``backend="torch"``; the fused kernels implement
IF/LIF/PLIF only) and carry their state across calls until :meth:`reset`, like the other neurons. The trainer's
``[model] neuron`` selects them by their ``kind``: ``"qif"``, ``"eif"``, ``"izhikevich"``, ``"liaf"``, ``"klif"``.

>>> import torch
>>> qif = QIFNode(tau=2.0)
>>> [qif(torch.tensor([1.0])).item() for _ in range(3)]  # V: -0.1 -> 0.445 -> 0.866 -> H 1.39, spike
[0.0, 0.0, 1.0]
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn.dynamics import NeuronSpec, NeuronState, neuron_charge, neuron_fire, neuron_reset
from eventpipe.snn.neuron import BaseNode
from eventpipe.snn.surrogate import Surrogate

__all__ = [
    "AdaptBaseNode",
    "AdaptState",
    "EIFNode",
    "IzhikevichNode",
    "KLIFNode",
    "LIAFNode",
    "QIFNode",
    "adapt_update",
    "eif_charge",
    "izhikevich_charge",
    "qif_charge",
]

TORCH_BACKENDS = ("auto", "torch")
ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "identity": lambda h: h,
}


class AdaptState(NamedTuple):
    """State of an adaptive neuron: potential ``v`` and adaptation current ``w``."""

    v: torch.Tensor
    w: torch.Tensor


# -- the equations ------------------------------------------------------------------------------------------


def qif_charge(
    x: torch.Tensor, v: torch.Tensor, tau: float, a0: float, v_rest: float, v_c: float
) -> torch.Tensor:
    """Quadratic integrate-and-fire charge ``V + (X + a0 (V - V_rest)(V - V_c)) / tau``."""
    return v + (x + a0 * (v - v_rest) * (v - v_c)) / tau


def eif_charge(
    x: torch.Tensor, v: torch.Tensor, tau: float, delta_t: float, theta_rh: float, v_rest: float
) -> torch.Tensor:
    """Exponential integrate-and-fire charge ``V + (X - (V - V_rest) + dT exp((V - theta_rh) / dT)) / tau``."""
    return v + (x - (v - v_rest) + delta_t * torch.exp((v - theta_rh) / delta_t)) / tau


def izhikevich_charge(
    x: torch.Tensor, v: torch.Tensor, w: torch.Tensor, tau: float, a0: float, v_rest: float, v_c: float
) -> torch.Tensor:
    """Izhikevich charge: the QIF charge with the adaptation current ``w`` subtracted from the input."""
    return qif_charge(x - w, v, tau, a0, v_rest, v_c)


def adapt_update(w: torch.Tensor, h: torch.Tensor, tau_w: float, a: float, v_rest: float) -> torch.Tensor:
    """Subthreshold adaptation ``W + (a (H - V_rest) - W) / tau_w`` (before the spike-triggered jump)."""
    return w + (a * (h - v_rest) - w) / tau_w


# -- argument checks ----------------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _number(owner: str, name: str, value: Any, above: float | None = None, what: str = "") -> float:
    """``value`` as a float, or a one-line ConfigError naming the argument and the allowed range."""
    if not _is_number(value) or (above is not None and value <= above):
        bound = "finite number" if above is None else f"number > {above:g}"
        raise ConfigError(f"Expected a {bound}{what} for argument {name} of {owner}. Got {value!r} instead.")
    return float(value)


def _boolean(owner: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"Expected True or False for argument {name} of {owner}. Got {value!r} instead.")
    return value


def _reset_order(owner: str, v_threshold: Any, v_reset: float | None, v_rest: float) -> None:
    """SpikingJelly's rule for the nonlinear neurons: with a hard reset, ``v_reset < v_threshold`` and
    ``v_reset <= v_rest``."""
    if v_reset is None or not (_is_number(v_threshold) and _is_number(v_reset)):
        return
    if not v_reset < v_threshold:
        raise ConfigError(
            f"{owner} needs v_reset < v_threshold; got v_reset={v_reset!r}, v_threshold={v_threshold!r}."
        )
    if not v_reset <= v_rest:
        raise ConfigError(f"{owner} needs v_reset <= v_rest; got v_reset={v_reset!r}, v_rest={v_rest!r}.")


# -- the shells ---------------------------------------------------------------------------------------------


class _LoopNode(BaseNode, abc.ABC):
    """A neuron run step by step on the torch path: a subclass gives :meth:`charge` (and may change the fire,
    reset and output rules); multi-step calls loop over ``T`` with autograd through every step."""

    def __init__(
        self,
        v_threshold: float,
        v_reset: float | None,
        surrogate_function: Surrogate | None,
        detach_reset: bool,
        step_mode: str,
        backend: str,
        store_v_seq: bool,
        store_h_seq: bool,
    ) -> None:
        if self.custom_dynamics:
            raise ConfigError(
                f"{type(self).__name__} overrides neuronal_charge/neuronal_fire/neuronal_reset, which the "
                "QIF/EIF/Izhikevich/LIAF/KLIF neurons do not call: subclass neuron.BaseNode (or IFNode, "
                "LIFNode, ParametricLIFNode) for a custom neuron."
            )
        super().__init__(
            v_threshold, v_reset, surrogate_function, detach_reset, step_mode, store_v_seq, store_h_seq
        )
        self.backend = backend
        NeuronSpec(  # validates the threshold, reset and surrogate now
            kind="if", v_threshold=v_threshold, v_reset=v_reset, surrogate=self.surrogate_function
        )

    @property
    def spec(self) -> NeuronSpec:
        """Threshold, reset and surrogate (the fire and reset rules); the charge is :meth:`charge`."""
        return NeuronSpec(
            kind="if",
            v_threshold=self.v_threshold,
            v_reset=self.v_reset,
            detach_reset=self.detach_reset,
            surrogate=self.surrogate_function,
        )

    @property
    def backend(self) -> str:
        """``"torch"`` (or ``"auto"``, which means it here): a per-step loop, no fused kernel."""
        return self._backend

    @backend.setter
    def backend(self, name: str) -> None:
        if name not in TORCH_BACKENDS:
            raise ConfigError(
                f"Unknown value {name!r} for argument backend of {type(self).__name__} (a per-step torch "
                f"loop). Valid values are {set(TORCH_BACKENDS)}."
            )
        self._backend = name

    def rest(self, like: torch.Tensor) -> NeuronState | AdaptState:
        """The state at rest shaped like one step ``like``."""
        return NeuronState(torch.full_like(like, self.spec.v_rest))

    @abc.abstractmethod
    def charge(self, x: torch.Tensor, state: Any) -> torch.Tensor:
        """The charged potential ``H`` from input ``x`` and the state after the previous step."""

    def fire(self, h: torch.Tensor, spec: NeuronSpec) -> torch.Tensor:
        """Spikes ``S = Θ(H - V_th)`` with the surrogate gradient."""
        return neuron_fire(h, spec)

    def output(self, h: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """What the module returns for a step: the spikes."""
        return s

    def advance(
        self, x: torch.Tensor, state: Any, spec: NeuronSpec
    ) -> tuple[torch.Tensor, torch.Tensor, Any]:
        """One step: ``(output, H, next state)``."""
        h = self.charge(x, state)
        s = self.fire(h, spec)
        return self.output(h, s), h, NeuronState(neuron_reset(h, s, spec))

    def step(self, x: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """Single step, pure: ``(output [N, ...], next state)``; ``state=None`` starts from rest."""
        out, h, state = self.advance(x, self.rest(x) if state is None else state, self.spec)
        if self.store_h_seq:
            self.h = h
        return out, state

    def run(self, x_seq: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """Multi-step: ``(outputs [T, N, ...], state after the last step)``, from ``state`` (default: rest)."""
        if len(x_seq) == 0:
            return torch.empty_like(x_seq), state
        spec = self.spec
        state = self.rest(x_seq[0]) if state is None else state
        outs, vs, hs = [], [], []
        for x in x_seq:
            out, h, state = self.advance(x, state, spec)
            outs.append(out)
            if self.store_v_seq:
                vs.append(state.v)
            if self.store_h_seq:
                hs.append(h)
        if self.store_v_seq:
            self.v_seq = torch.stack(vs)
        if self.store_h_seq:
            self.h_seq = torch.stack(hs)
            self.h = hs[-1]
        return torch.stack(outs), state

    def rest_attribute(self, name: str, x: torch.Tensor) -> torch.Tensor | None:
        """What state variable ``name`` (``"v"``, or ``"w"`` for adaptive neurons) holds at rest for input
        ``x``, else ``None``."""
        rest = self.rest(x[0] if self.step_mode == "m" else x)
        return getattr(rest, name, None)

    def detach(self) -> None:
        if self.state is not None:
            self.state = type(self.state)(*(t.detach() for t in self.state))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, store_v_seq={self.store_v_seq}"


class QIFNode(_LoopNode):
    """Quadratic integrate-and-fire: ``H = V + (X + a0 (V - V_rest)(V - V_c)) / tau``.

    ``tau > 1`` (time steps), ``a0 > 0``; with a hard reset ``v_reset < v_threshold`` and ``v_reset <= v_rest``.
    """

    kind: ClassVar[str] = "qif"

    def __init__(
        self,
        tau: float = 2.0,
        v_c: float = 0.8,
        a0: float = 1.0,
        v_threshold: float = 1.0,
        v_rest: float = 0.0,
        v_reset: float | None = -0.1,
        surrogate_function: Surrogate | None = None,
        detach_reset: bool = False,
        step_mode: str = "s",
        backend: str = "torch",
        store_v_seq: bool = False,
        store_h_seq: bool = False,
    ) -> None:
        name = type(self).__name__
        tau = _number(name, "tau", tau, 1.0, " (time steps)")
        v_c, a0, v_rest = (
            _number(name, "v_c", v_c),
            _number(name, "a0", a0, 0.0),
            _number(name, "v_rest", v_rest),
        )
        _reset_order(name, v_threshold, v_reset, v_rest)
        super().__init__(
            v_threshold,
            v_reset,
            surrogate_function,
            detach_reset,
            step_mode,
            backend,
            store_v_seq,
            store_h_seq,
        )
        self.tau, self.v_c, self.a0, self.v_rest = tau, v_c, a0, v_rest

    def charge(self, x: torch.Tensor, state: NeuronState) -> torch.Tensor:
        return qif_charge(x, state.v, self.tau, self.a0, self.v_rest, self.v_c)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, tau={self.tau}, v_c={self.v_c}, a0={self.a0}, v_rest={self.v_rest}"


class EIFNode(_LoopNode):
    """Exponential integrate-and-fire: ``H = V + (X - (V - V_rest) + delta_T exp((V - theta_rh)/delta_T)) / tau``.

    Tends to LIF as ``delta_T -> 0``. ``tau > 1`` (time steps), ``delta_T > 0``; with a hard reset
    ``v_reset < v_threshold`` and ``v_reset <= v_rest``.
    """

    kind: ClassVar[str] = "eif"

    def __init__(
        self,
        tau: float = 2.0,
        delta_T: float = 1.0,  # noqa: N803 - SpikingJelly's argument name
        theta_rh: float = 0.8,
        v_threshold: float = 1.0,
        v_rest: float = 0.0,
        v_reset: float | None = -0.1,
        surrogate_function: Surrogate | None = None,
        detach_reset: bool = False,
        step_mode: str = "s",
        backend: str = "torch",
        store_v_seq: bool = False,
        store_h_seq: bool = False,
    ) -> None:
        name = type(self).__name__
        tau = _number(name, "tau", tau, 1.0, " (time steps)")
        delta_T, theta_rh = _number(name, "delta_T", delta_T, 0.0), _number(name, "theta_rh", theta_rh)  # noqa: N806
        v_rest = _number(name, "v_rest", v_rest)
        _reset_order(name, v_threshold, v_reset, v_rest)
        super().__init__(
            v_threshold,
            v_reset,
            surrogate_function,
            detach_reset,
            step_mode,
            backend,
            store_v_seq,
            store_h_seq,
        )
        self.tau, self.delta_T, self.theta_rh, self.v_rest = tau, delta_T, theta_rh, v_rest

    def charge(self, x: torch.Tensor, state: NeuronState) -> torch.Tensor:
        return eif_charge(x, state.v, self.tau, self.delta_T, self.theta_rh, self.v_rest)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, tau={self.tau}, delta_T={self.delta_T}, theta_rh={self.theta_rh}"


class AdaptBaseNode(_LoopNode):
    """Base of neurons with an adaptation current ``W`` (state :class:`AdaptState`); a subclass gives
    :meth:`charge`, which may use ``state.w``.

    After the charge, ``W' = W + (a (H - V_rest) - W) / tau_w`` (``a``: subthreshold coupling); after the spike,
    ``W = W' + b S`` (``b``: spike-triggered jump). ``W`` starts at ``w_rest``; ``tau_w > 0`` (time steps).
    """

    def __init__(
        self,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        v_rest: float = 0.0,
        w_rest: float = 0.0,
        tau_w: float = 2.0,
        a: float = 0.0,
        b: float = 0.0,
        surrogate_function: Surrogate | None = None,
        detach_reset: bool = False,
        step_mode: str = "s",
        backend: str = "torch",
        store_v_seq: bool = False,
        store_h_seq: bool = False,
    ) -> None:
        name = type(self).__name__
        v_rest, w_rest = _number(name, "v_rest", v_rest), _number(name, "w_rest", w_rest)
        tau_w = _number(name, "tau_w", tau_w, 0.0, " (time steps)")
        a, b = _number(name, "a", a), _number(name, "b", b)
        super().__init__(
            v_threshold,
            v_reset,
            surrogate_function,
            detach_reset,
            step_mode,
            backend,
            store_v_seq,
            store_h_seq,
        )
        self.v_rest, self.w_rest, self.tau_w, self.a, self.b = v_rest, w_rest, tau_w, a, b

    def rest(self, like: torch.Tensor) -> AdaptState:
        return AdaptState(torch.full_like(like, self.spec.v_rest), torch.full_like(like, self.w_rest))

    def advance(
        self, x: torch.Tensor, state: AdaptState, spec: NeuronSpec
    ) -> tuple[torch.Tensor, torch.Tensor, AdaptState]:
        h = self.charge(x, state)
        w = adapt_update(state.w, h, self.tau_w, self.a, self.v_rest)
        s = self.fire(h, spec)
        if spec.v_reset is None:
            v = neuron_reset(h, s, spec)
        else:
            s_reset = s.detach() if spec.detach_reset else s
            v = h * (1.0 - s_reset) + spec.v_reset * s
        return self.output(h, s), h, AdaptState(v, w + self.b * s)

    @property
    def w(self) -> torch.Tensor | None:
        """Adaptation current carried from the last call (``None`` at rest)."""
        return self.state.w if isinstance(self.state, AdaptState) else None

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, v_rest={self.v_rest}, w_rest={self.w_rest}, tau_w={self.tau_w}, "
            f"a={self.a}, b={self.b}"
        )


class IzhikevichNode(AdaptBaseNode):
    """Izhikevich neuron (discrete form): ``H = V + (X + a0 (V - V_rest)(V - V_c) - W) / tau`` with the adaptation
    of :class:`AdaptBaseNode`. ``tau > 1`` (time steps), ``a0 > 0``."""

    kind: ClassVar[str] = "izhikevich"

    def __init__(
        self,
        tau: float = 2.0,
        v_c: float = 0.8,
        a0: float = 1.0,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        v_rest: float = -0.1,
        w_rest: float = 0.0,
        tau_w: float = 2.0,
        a: float = 0.0,
        b: float = 0.0,
        surrogate_function: Surrogate | None = None,
        detach_reset: bool = False,
        step_mode: str = "s",
        backend: str = "torch",
        store_v_seq: bool = False,
        store_h_seq: bool = False,
    ) -> None:
        name = type(self).__name__
        tau, v_c, a0 = (
            _number(name, "tau", tau, 1.0, " (time steps)"),
            _number(name, "v_c", v_c),
            _number(name, "a0", a0, 0.0),
        )
        super().__init__(
            v_threshold, v_reset, v_rest, w_rest, tau_w, a, b, surrogate_function, detach_reset, step_mode,
            backend, store_v_seq, store_h_seq,
        )  # fmt: skip
        self.tau, self.v_c, self.a0 = tau, v_c, a0

    def charge(self, x: torch.Tensor, state: AdaptState) -> torch.Tensor:
        return izhikevich_charge(x, state.v, state.w, self.tau, self.a0, self.v_rest, self.v_c)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, tau={self.tau}, v_c={self.v_c}, a0={self.a0}"


class _LeakyNode(_LoopNode):
    """LIF's charge (:func:`eventpipe.snn.dynamics.neuron_charge`, ``tau > 1``), for LIAF and KLIF."""

    def __init__(
        self,
        tau: float,
        decay_input: bool,
        v_threshold: float,
        v_reset: float | None,
        surrogate_function: Surrogate | None,
        detach_reset: bool,
        step_mode: str,
        backend: str,
        store_v_seq: bool,
        store_h_seq: bool,
    ) -> None:
        name = type(self).__name__
        tau, decay_input = (
            _number(name, "tau", tau, 1.0, " (time steps)"),
            _boolean(name, "decay_input", decay_input),
        )
        super().__init__(
            v_threshold,
            v_reset,
            surrogate_function,
            detach_reset,
            step_mode,
            backend,
            store_v_seq,
            store_h_seq,
        )
        self.tau, self.decay_input = tau, decay_input

    @property
    def spec(self) -> NeuronSpec:
        """The LIF dynamics this neuron charges with, and its threshold, reset and surrogate."""
        return NeuronSpec(
            kind="lif",
            tau=self.tau,
            decay_input=self.decay_input,
            v_threshold=self.v_threshold,
            v_reset=self.v_reset,
            detach_reset=self.detach_reset,
            surrogate=self.surrogate_function,
        )

    def leaky_charge(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """LIF's charge of ``x`` into ``v``."""
        return neuron_charge(x, v, self.spec, 1.0 / self.tau)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, tau={self.tau}, decay_input={self.decay_input}"


class LIAFNode(_LeakyNode):
    """Leaky integrate and analog fire (Wu et al., 2021): LIF whose output is ``act(H)`` (``act(H - V_th)`` with
    ``threshold_related``) instead of the spike; the potential still resets by the spike.

    ``act`` is a callable (e.g. ``nn.ReLU()``) or one of ``"relu"``, ``"sigmoid"``, ``"tanh"``, ``"identity"``.
    The outputs are not binary; gradients flow through ``act`` and, via the reset, the surrogate.
    """

    kind: ClassVar[str] = "liaf"

    def __init__(
        self,
        act: Callable[[torch.Tensor], torch.Tensor] | str = "relu",
        threshold_related: bool = False,
        tau: float = 2.0,
        decay_input: bool = True,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        surrogate_function: Surrogate | None = None,
        detach_reset: bool = False,
        step_mode: str = "s",
        backend: str = "torch",
        store_v_seq: bool = False,
        store_h_seq: bool = False,
    ) -> None:
        name = type(self).__name__
        if isinstance(act, str):
            if act not in ACTIVATIONS:
                raise ConfigError(
                    f"Unknown value {act!r} for argument act of {name}. Valid values are {set(ACTIVATIONS)} "
                    "or a callable."
                )
        elif not callable(act):
            raise ConfigError(
                f"Expected a callable or a name for argument act of {name}. Got {act!r} instead."
            )
        threshold_related = _boolean(name, "threshold_related", threshold_related)
        super().__init__(
            tau, decay_input, v_threshold, v_reset, surrogate_function, detach_reset, step_mode, backend,
            store_v_seq, store_h_seq,
        )  # fmt: skip
        self.act = act
        self.threshold_related = threshold_related

    def charge(self, x: torch.Tensor, state: NeuronState) -> torch.Tensor:
        return self.leaky_charge(x, state.v)

    def output(self, h: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        act = ACTIVATIONS[self.act] if isinstance(self.act, str) else self.act
        return act(h - self.v_threshold if self.threshold_related else h)

    def extra_repr(self) -> str:
        act = self.act if isinstance(self.act, str) else type(self.act).__name__
        return f"{super().extra_repr()}, act={act}, threshold_related={self.threshold_related}"


class KLIFNode(_LeakyNode):
    """K-based LIF (Jiang and Zhang, 2023): ``F = ReLU(k H_LIF)`` with a learned ``k`` (``self.k``, initially 1),
    ``S = Θ(F - V_th)`` and the reset applied to ``F``. With ``scale_reset`` the reset potential is divided by
    ``k``: hard ``V = F/k (1 - S) + V_reset S``, soft ``V = (F - S V_th) / k``. A soft reset charges towards 0.
    """

    kind: ClassVar[str] = "klif"

    def __init__(
        self,
        scale_reset: bool = False,
        tau: float = 2.0,
        decay_input: bool = True,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        surrogate_function: Surrogate | None = None,
        detach_reset: bool = False,
        step_mode: str = "s",
        backend: str = "torch",
        store_v_seq: bool = False,
        store_h_seq: bool = False,
    ) -> None:
        scale_reset = _boolean(type(self).__name__, "scale_reset", scale_reset)
        super().__init__(
            tau, decay_input, v_threshold, v_reset, surrogate_function, detach_reset, step_mode, backend,
            store_v_seq, store_h_seq,
        )  # fmt: skip
        self.scale_reset = scale_reset
        self.k = nn.Parameter(torch.tensor(1.0))

    def charge(self, x: torch.Tensor, state: NeuronState) -> torch.Tensor:
        return torch.relu(self.k * self.leaky_charge(x, state.v))

    def advance(
        self, x: torch.Tensor, state: NeuronState, spec: NeuronSpec
    ) -> tuple[torch.Tensor, torch.Tensor, NeuronState]:
        f = self.charge(x, state)
        s = self.fire(f, spec)
        if not self.scale_reset:
            v = neuron_reset(f, s, spec)
        elif spec.v_reset is None:
            v = neuron_reset(f, s, spec) / self.k
        else:
            v = neuron_reset(f / self.k, s, spec)
        return s, f, NeuronState(v)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, scale_reset={self.scale_reset}, k={float(self.k.detach()):.4g}"
