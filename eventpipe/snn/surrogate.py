"""Surrogate gradients: a Heaviside step forward, the derivative of a smooth primitive backward.

A spike is ``S = Θ(x)`` with ``x = H - V_th`` (``Θ(x) = 1`` for ``x >= 0``). Θ has no useful derivative, so
backpropagation uses ``g'(x)``, the derivative of a smooth sigmoid-like primitive ``g`` (SpikingJelly's
convention: same names, defaults and formulas, so published hyper-parameters carry over). With
``spiking=False`` the forward pass returns ``g(x)`` itself, which makes the whole neuron differentiable; the
tests use that to check the hand-written backward passes with finite differences.

Each surrogate is a frozen dataclass; ``cuda_code`` is its index in ``snn/cuda/neuron.cu`` (``None`` when the
CUDA kernels do not implement it).

>>> import torch
>>> sg = ATan()
>>> x = torch.tensor([-1.0, 0.0, 0.5], requires_grad=True)
>>> sg(x)
tensor([0., 1., 1.], grad_fn=<_SurrogateSpikeBackward>)
>>> sg.derivative(torch.tensor(0.0)).item()
1.0
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from eventpipe.errors import ConfigError, UnknownNameError

__all__ = [
    "ATan",
    "Erf",
    "PiecewiseExp",
    "PiecewiseQuadratic",
    "Sigmoid",
    "SoftSign",
    "Surrogate",
    "heaviside",
    "surrogate_from_name",
    "surrogate_names",
]


def heaviside(x: torch.Tensor) -> torch.Tensor:
    """``1`` where ``x >= 0`` else ``0``, in the dtype of ``x``."""
    return (x >= 0).to(x.dtype)


class _SurrogateSpike(torch.autograd.Function):
    """Heaviside forward, ``surrogate.derivative`` backward."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, surrogate: Surrogate) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.surrogate = surrogate
        return heaviside(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (x,) = ctx.saved_tensors
        return grad * ctx.surrogate.derivative(x), None


@dataclass(frozen=True)
class Surrogate(abc.ABC):
    """Base class: ``__call__`` spikes (or the smooth primitive when ``spiking=False``).

    Parameters
    ----------
    alpha:
        Sharpness (1 / units of ``x``, i.e. of the membrane potential): larger is closer to the step.
    spiking:
        Forward returns Heaviside spikes (True) or the smooth primitive ``g(x)`` (False).
    """

    alpha: float
    spiking: bool = True

    cuda_code: ClassVar[int | None] = None
    name: ClassVar[str] = ""

    def __post_init__(self) -> None:
        if not (isinstance(self.alpha, (int, float)) and math.isfinite(self.alpha) and self.alpha > 0):
            raise ConfigError(
                f"Expected a finite number > 0 for argument alpha of {type(self).__name__}. "
                f"Got {self.alpha!r} instead."
            )
        object.__setattr__(self, "alpha", float(self.alpha))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.spiking:
            return _SurrogateSpike.apply(x, self)
        return self.primitive(x)

    @abc.abstractmethod
    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        """The smooth step ``g(x)`` whose derivative is the surrogate gradient."""

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        """The surrogate gradient ``g'(x)``, elementwise."""
        return self.derivative_(x.clone())

    @abc.abstractmethod
    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        """``g'(x)`` computed in place in ``x`` (no temporaries; used by the fused backward pass)."""


@dataclass(frozen=True)
class Sigmoid(Surrogate):
    """``g(x) = sigmoid(alpha x)``, ``g'(x) = alpha sg (1 - sg)`` with ``sg = sigmoid(alpha x)``."""

    alpha: float = 4.0
    cuda_code: ClassVar[int | None] = 0
    name: ClassVar[str] = "sigmoid"

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.alpha * x)

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        sg = x.mul_(self.alpha).sigmoid_()
        return sg.addcmul_(sg, sg, value=-1.0).mul_(self.alpha)  # alpha (sg - sg^2)


@dataclass(frozen=True)
class ATan(Surrogate):
    """``g(x) = atan(pi/2 alpha x) / pi + 1/2``, ``g'(x) = (alpha/2) / (1 + (pi/2 alpha x)^2)``."""

    alpha: float = 2.0
    cuda_code: ClassVar[int | None] = 1
    name: ClassVar[str] = "atan"

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return torch.atan(math.pi / 2 * self.alpha * x) / math.pi + 0.5

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul_(math.pi / 2 * self.alpha).square_().add_(1.0).reciprocal_().mul_(self.alpha / 2)


@dataclass(frozen=True)
class PiecewiseQuadratic(Surrogate):
    """``g'(x) = alpha - alpha^2 |x|`` for ``|x| <= 1/alpha``, else 0 (a triangle of area 1)."""

    alpha: float = 1.0
    cuda_code: ClassVar[int | None] = 2
    name: ClassVar[str] = "piecewise_quadratic"

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        a = self.alpha
        inside = (x.abs() <= 1.0 / a).to(x.dtype)
        above = (x > 1.0 / a).to(x.dtype)
        return above + inside * (-(a * a) / 2 * x.square() * x.sign() + a * x + 0.5)

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        a = self.alpha  # alpha - alpha^2 |x| is negative exactly where |x| > 1/alpha
        return x.abs_().mul_(-a * a).add_(a).clamp_(min=0.0)


@dataclass(frozen=True)
class SoftSign(Surrogate):
    """``g(x) = (softsign(alpha x) + 1) / 2``, ``g'(x) = 1 / (2 alpha (1/alpha + |x|)^2)``."""

    alpha: float = 2.0
    cuda_code: ClassVar[int | None] = 3
    name: ClassVar[str] = "soft_sign"

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return (torch.nn.functional.softsign(self.alpha * x) + 1.0) / 2

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        return x.abs_().add_(1.0 / self.alpha).square_().mul_(2 * self.alpha).reciprocal_()


@dataclass(frozen=True)
class Erf(Surrogate):
    """``g(x) = erfc(-alpha x) / 2`` (a Gaussian CDF), ``g'(x) = alpha / sqrt(pi) exp(-(alpha x)^2)``."""

    alpha: float = 2.0
    cuda_code: ClassVar[int | None] = 4
    name: ClassVar[str] = "erf"

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return torch.special.erfc(-self.alpha * x) / 2

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul_(self.alpha).square_().neg_().exp_().mul_(self.alpha / math.sqrt(math.pi))


@dataclass(frozen=True)
class PiecewiseExp(Surrogate):
    """``g'(x) = (alpha/2) exp(-alpha |x|)`` (a Laplace density); ``g`` is its CDF."""

    alpha: float = 1.0
    cuda_code: ClassVar[int | None] = 5
    name: ClassVar[str] = "piecewise_exp"

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        half_tail = torch.exp(-self.alpha * x.abs()) / 2
        return torch.where(x < 0, half_tail, 1.0 - half_tail)

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        return x.abs_().mul_(-self.alpha).exp_().mul_(self.alpha / 2)


_BY_NAME: dict[str, type[Surrogate]] = {
    cls.name: cls for cls in (Sigmoid, ATan, PiecewiseQuadratic, SoftSign, Erf, PiecewiseExp)
}


def surrogate_names() -> tuple[str, ...]:
    """Names accepted by :func:`surrogate_from_name` (for configuration files)."""
    return tuple(sorted(_BY_NAME))


def surrogate_from_name(name: str, alpha: float | None = None, spiking: bool = True) -> Surrogate:
    """Build a surrogate from its configuration name, e.g. ``surrogate_from_name("atan", alpha=2.0)``."""
    key = name.lower().replace("-", "_")
    if key not in _BY_NAME:
        raise UnknownNameError(
            f"Unknown value {name!r} for argument surrogate. Valid values are {set(surrogate_names())}."
        )
    options: dict[str, Any] = {"spiking": spiking}
    if alpha is not None:
        options["alpha"] = alpha
    return _BY_NAME[key](**options)
