"""Encoders from analog inputs (e.g. normalised pixels in ``[0, 1]``) to spikes, with SpikingJelly's semantics.

Event-camera frames are spikes already; these are for static data and baselines.

* :class:`PoissonEncoder` (rate coding) is stateless: by default each call draws one Bernoulli sample per
  element, ``[N, ...]`` in, ``[N, ...]`` out (SpikingJelly's, for the loop
  ``for t in range(T): out += net(encoder(img))``); with ``steps=T`` one call returns the whole train
  ``[T, N, ...]``.
* :class:`PeriodicEncoder`, :class:`WeightedPhaseEncoder` and :class:`LatencyEncoder` are stateful: they
  encode one period on the first call after a reset and emit its steps cyclically, one step per call in
  single-step mode (``step_mode="s"``, the default) or ``T`` steps per call of a ``[T, ...]`` input in
  multi-step mode, the phase carried across calls in both until :meth:`~eventpipe.snn.base.StepModule.reset`
  (:func:`eventpipe.snn.functional.reset_net` resets every encoder in a network).
* :class:`RepeatEncoder`, and :class:`LatencyEncoder` built with ``steps=T`` (like
  ``PoissonEncoder(steps=T)``), return a whole train ``[T, N, ...]`` per call.

Random encoders take an optional ``torch.Generator`` so that runs are reproducible.

>>> import torch
>>> LatencyEncoder(steps=5)(torch.tensor([[1.0, 0.5, 0.0]])).squeeze(1).T.tolist()
[[1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0]]
>>> encoder = LatencyEncoder(5)  # SpikingJelly's: one step per call
>>> [encoder(torch.tensor([0.5])).item() for _ in range(5)]
[0.0, 0.0, 1.0, 0.0, 0.0]
>>> encoder = WeightedPhaseEncoder(K=3)
>>> [encoder(torch.tensor([0.625])).item() for _ in range(4)]  # 0.625 = 0.101 in binary, then again
[1.0, 0.0, 1.0, 1.0]
"""

from __future__ import annotations

import abc
import math

import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn.base import StepModule, check_sequence, check_step_shape

__all__ = ["LatencyEncoder", "PeriodicEncoder", "PoissonEncoder", "RepeatEncoder", "WeightedPhaseEncoder"]


def _check_steps(steps: int, name: str = "steps") -> int:
    if not (isinstance(steps, int) and not isinstance(steps, bool) and steps >= 1):
        raise ConfigError(f"Expected an integer >= 1 for argument {name}. Got {steps!r} instead.")
    return steps


class PoissonEncoder(StepModule, nn.Module):
    """Rate coding: a neuron spikes with probability equal to its input (above 1 always, below 0 never).

    Parameters
    ----------
    steps:
        ``None`` (SpikingJelly's encoder): one sample per element and call, the output has the input's shape
        in either step mode (a ``[T, N, ...]`` sequence of rates gives a sequence of spikes). An integer
        ``T``: ``T`` independent samples of a static input per call, ``[T, *x.shape]``.
    generator:
        Random source (default: torch's global generator), on the input's device.
    step_mode:
        ``"s"`` or ``"m"``; it changes nothing for a stateless encoder, but lets ``set_step_mode`` treat
        the encoder like every other module.
    """

    def __init__(
        self, steps: int | None = None, generator: torch.Generator | None = None, step_mode: str = "s"
    ) -> None:
        nn.Module.__init__(self)
        self.steps = None if steps is None else _check_steps(steps)
        self.generator = generator
        self.step_mode = step_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape if self.steps is None else (self.steps, *x.shape)
        noise = torch.rand(shape, generator=self.generator, device=x.device, dtype=x.dtype)
        return (noise < x).to(x.dtype)

    def extra_repr(self) -> str:
        return f"steps={self.steps}, step_mode={self.step_mode!r}"


class _CyclicEncoder(StepModule, nn.Module, abc.ABC):
    """A period ``[T, ...]`` encoded from the first input after a reset, emitted cyclically step by step."""

    def __init__(self, step_mode: str) -> None:
        nn.Module.__init__(self)
        self.step_mode = step_mode
        self.period: torch.Tensor | None = None  # the encoded period [T, ...]; None after a reset
        self.phase = 0  # index in the period of the next step

    @abc.abstractmethod
    def encode(self, x: torch.Tensor | None) -> torch.Tensor:
        """The period ``[T, ...]`` for the first input after a reset (``x`` as given to a single step)."""

    def _period_for(self, x: torch.Tensor | None) -> torch.Tensor:
        if self.period is None:
            self.period = self.encode(x)
        elif x is not None:
            check_step_shape(self, self._input_shape(self.period), x.shape)
        return self.period

    def _input_shape(self, period: torch.Tensor) -> tuple[int, ...]:
        """The shape of one single-step input that goes with ``period``."""
        return tuple(period.shape[1:])

    def forward(self, x: torch.Tensor | None = None) -> torch.Tensor:
        if self.step_mode == "s":
            period = self._period_for(x)
            out = period[self.phase]
            self.phase = (self.phase + 1) % period.shape[0]
            return out
        if x is not None:
            check_sequence(self, x)
        period = self._period_for(None if x is None else x[0])
        steps = period.shape[0] if x is None else x.shape[0]
        index = (self.phase + torch.arange(steps, device=period.device)) % period.shape[0]
        self.phase = (self.phase + steps) % period.shape[0]
        return period[index]

    def reset(self) -> None:
        self.period = None
        self.phase = 0


class PeriodicEncoder(_CyclicEncoder):
    """Emits a given spike pattern ``[T, ...]`` cyclically: call ``t`` (counted from the last reset) returns
    ``spike[t % T]``.

    As in SpikingJelly, a call may pass the pattern (``encoder(spike)``); the first input after a reset
    then becomes the pattern of the period, later ones only advance the phase. Without an input the
    pattern given here is used. In multi-step mode a call returns ``T_in`` steps for an input
    ``[T_in, T, ...]`` (a pattern per step), or one whole period without an input.

    >>> import torch
    >>> encoder = PeriodicEncoder(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
    >>> [encoder().tolist() for _ in range(4)]
    [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [1.0, 0.0]]
    """

    spike: torch.Tensor  # the pattern given here, [T, ...] (a buffer)

    def __init__(self, spike: torch.Tensor, step_mode: str = "s") -> None:
        super().__init__(step_mode)
        self._check_pattern(spike)
        # not persistent: the pattern is configuration, and SpikingJelly's state_dict has no such key
        self.register_buffer("spike", spike.detach().clone(), persistent=False)

    def _check_pattern(self, spike: object) -> None:
        if not (isinstance(spike, torch.Tensor) and spike.dim() >= 1 and spike.shape[0] >= 1):
            got = tuple(spike.shape) if isinstance(spike, torch.Tensor) else type(spike).__name__
            raise ConfigError(
                f"Expected a tensor [T, ...] with T >= 1 for argument spike of PeriodicEncoder. Got {got} instead."
            )

    @property
    def T(self) -> int:  # noqa: N802 - SpikingJelly's name
        """The period: the steps of the pattern in use (or of the one given at construction)."""
        return (self.spike if self.period is None else self.period).shape[0]

    def encode(self, x: torch.Tensor | None) -> torch.Tensor:
        if x is None:
            return self.spike
        self._check_pattern(x)
        return x

    def _input_shape(self, period: torch.Tensor) -> tuple[int, ...]:
        return tuple(period.shape)

    def extra_repr(self) -> str:
        return f"T={self.T}, step_mode={self.step_mode!r}"


class WeightedPhaseEncoder(_CyclicEncoder):
    """Weighted phase coding (Kim et al. 2018): ``x`` in ``[0, 1 - 2^-K]`` as ``K`` binary digits.

    Phase ``k`` (``0 <= k < K``) carries bit ``k`` of the binary expansion ``x = sum_k b_k 2^-(k+1)``
    (truncated to ``K`` digits), so the receiving layer weights the spike of phase ``k`` by ``2^-(k+1)``;
    call ``t`` emits the bits of phase ``t % K``. The input is encoded on the first call after a reset
    (in multi-step mode from the first step of the sequence), as in SpikingJelly.

    Parameters
    ----------
    K:
        Phases per period (bits of precision).
    step_mode:
        ``"s"`` (one phase ``[N, ...]`` per call) or ``"m"`` (``[T, N, ...]`` in, ``T`` phases out).

    Raises
    ------
    ConfigError
        An input outside ``[0, 1 - 2^-K]`` (or NaN).
    """

    def __init__(self, K: int, step_mode: str = "s") -> None:  # noqa: N803 - SpikingJelly's name
        super().__init__(step_mode)
        self.K = _check_steps(K, "K")

    @property
    def T(self) -> int:  # noqa: N802 - SpikingJelly's name
        """The period, ``K``."""
        return self.K

    def encode(self, x: torch.Tensor | None) -> torch.Tensor:
        if x is None:
            raise ConfigError("WeightedPhaseEncoder needs an input x in [0, 1 - 2^-K] to encode.")
        top = 1.0 - 2.0**-self.K
        if not bool(((x >= 0) & (x <= top)).all()):
            raise ConfigError(
                f"WeightedPhaseEncoder(K={self.K}) encodes inputs in [0, 1 - 2^-{self.K}] = [0, {top!r}]; got "
                f"values in [{x.min().item()!r}, {x.max().item()!r}]: scale the input or clamp it "
                f"(x.clamp(0, 1 - 2**-{self.K}))."
            )
        # greedy digits: each subtraction is exact (Sterbenz), so this is the truncated binary expansion
        work = x.detach().to(torch.promote_types(x.dtype, torch.float32)).clone()
        bits = torch.empty((self.K, *x.shape), dtype=work.dtype, device=x.device)
        weight = 0.5
        for k in range(self.K):
            torch.ge(work, weight, out=bits[k])
            work.sub_(bits[k], alpha=weight)
            weight /= 2
        return bits.to(x.dtype if x.is_floating_point() else torch.float32)

    def extra_repr(self) -> str:
        return f"K={self.K}, step_mode={self.step_mode!r}"


class LatencyEncoder(_CyclicEncoder):
    """Time-to-first-spike coding: one spike per neuron and period of ``T`` steps, earlier for larger inputs.

    ``enc_function="linear"``: spike at step ``round((T - 1) (1 - x))``; ``"log"``: at
    ``round(T - 1 - ln(a x + 1))`` with ``a = e^(T - 1) - 1`` (so ``x = 1`` fires at step 0 and ``x = 0`` at
    step ``T - 1`` in both). Inputs are clamped to ``[0, 1]``.

    ``LatencyEncoder(T)`` is SpikingJelly's stateful encoder: the first input after a reset is encoded, and
    call ``t`` returns step ``t % T`` of its train (one step per call in single-step mode, ``T_in`` steps for
    a ``[T_in, N, ...]`` input in multi-step mode), until :meth:`reset`. ``LatencyEncoder(steps=T)`` is
    stateless instead and returns the whole train ``[T, *x.shape]`` per call.

    Parameters
    ----------
    T:
        Steps of a period (the latest firing step is ``T - 1``), for the stateful encoder.
    enc_function:
        ``"linear"`` or ``"log"``.
    step_mode:
        ``"s"`` or ``"m"`` (the stateful encoder's step mode).
    steps:
        Instead of ``T``: the whole-train encoder with ``steps`` steps.
    """

    def __init__(
        self, T: int | None = None, enc_function: str = "linear", step_mode: str = "s", *,  # noqa: N803
        steps: int | None = None,
    ) -> None:
        super().__init__(step_mode)
        if (T is None) == (steps is None):
            raise ConfigError(
                "LatencyEncoder takes T (one step per call, stateful) or steps (the whole train per call), "
                "exactly one of them."
            )
        self.T = _check_steps(T, "T") if steps is None else _check_steps(steps)
        self.whole_train = steps is not None
        if enc_function not in ("linear", "log"):
            raise ConfigError(
                f"Unknown value {enc_function!r} for argument enc_function. Valid values are {{'linear', 'log'}}."
            )
        self.enc_function = enc_function

    @property
    def steps(self) -> int | None:
        """The steps of the whole train returned per call, or ``None`` for the stateful encoder."""
        return self.T if self.whole_train else None

    def encode(self, x: torch.Tensor | None) -> torch.Tensor:
        if x is None:
            raise ConfigError("LatencyEncoder needs an input x in [0, 1] to encode.")
        x = x.clamp(0.0, 1.0)
        last = self.T - 1
        if self.enc_function == "linear":
            t_fire = (last * (1.0 - x)).round()
        else:
            t_fire = (last - torch.log(math.expm1(last) * x + 1.0)).round()
        t_fire = t_fire.long().clamp(0, last)
        steps = torch.arange(self.T, device=x.device).reshape(-1, *([1] * x.dim()))
        return (steps == t_fire.unsqueeze(0)).to(x.dtype)

    def forward(self, x: torch.Tensor | None = None) -> torch.Tensor:
        return self.encode(x) if self.whole_train else super().forward(x)

    def extra_repr(self) -> str:
        if self.whole_train:
            return f"steps={self.T}, enc_function={self.enc_function!r}"
        return f"T={self.T}, enc_function={self.enc_function!r}, step_mode={self.step_mode!r}"


class RepeatEncoder(nn.Module):
    """Direct coding: the analog input repeated at every step (the first layer then acts as the encoder)."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.steps = _check_steps(steps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(0).expand(self.steps, *x.shape)

    def extra_repr(self) -> str:
        return f"steps={self.steps}"
