"""Surrogate gradients: a Heaviside step forward, the derivative of a smooth primitive backward.

A spike is ``S = Θ(x)`` with ``x = H - V_th`` (``Θ(x) = 1`` for ``x >= 0``). Θ has no useful derivative, so
backpropagation uses ``g'(x)``, the derivative of a primitive ``g`` (SpikingJelly's 14 surrogate functions of
``activation_based.surrogate``, with the same class names, argument names, defaults and formulas, so
published hyper-parameters carry over). With ``spiking=False`` the forward pass returns ``g(x)`` itself and
autograd differentiates it as usual, which makes the whole neuron differentiable; the tests use that to
check the hand-written backward passes with finite differences.

Each surrogate is a ``torch.nn.Module``: a neuron holds it as its submodule ``surrogate_function``, so
``net.modules()`` finds it and its hyper-parameters can be changed in place (a sweep over ``alpha``); the
``spiking`` switch can be flipped the same way. SpikingJelly's functional forms exist under its lower-case
names (``sigmoid``, ``atan``, ..., ``log_tailed_relu``: ``torch.autograd.Function`` classes called as
``atan.apply(x, alpha)``, and ``atan_backward(grad_output, x, alpha)``), computed by the modules. Hyper-parameters are plain Python numbers, validated when
set, and not part of ``state_dict()`` (as in SpikingJelly, so its checkpoints load unchanged); pickling and
``copy.deepcopy`` keep them. Modules compare by identity, like every ``nn.Module``.

``cuda_code`` is the surrogate's index in ``snn/cuda/neuron.cu`` (shared by the Triton kernels), ``None``
when only the ``torch`` backend implements it: ``backend="auto"`` then runs the neuron with ``torch``, and an
explicit ``"cupy"`` or ``"triton"`` is refused with an error naming the surrogate.

>>> import torch
>>> sg = ATan()
>>> x = torch.tensor([-1.0, 0.0, 0.5], requires_grad=True)
>>> sg(x)
tensor([0., 1., 1.], grad_fn=<_SurrogateSpikeBackward>)
>>> sg.alpha = 4.0
>>> sg.derivative(torch.tensor(0.0)).item()
2.0
"""

from __future__ import annotations

import abc
import math
import numbers
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar, overload

import torch
from torch import nn

from eventpipe.errors import ConfigError, UnknownNameError

__all__ = [
    "ATan",
    "Erf",
    "FakeNumericalGradient",
    "LeakyKReLU",
    "LogTailedReLU",
    "NonzeroSignLogAbs",
    "PiecewiseExp",
    "PiecewiseLeakyReLU",
    "PiecewiseQuadratic",
    "QPseudoSpike",
    "S2NN",
    "Sigmoid",
    "SoftSign",
    "SquarewaveFourierSeries",
    "Surrogate",
    "atan",
    "atan_backward",
    "erf",
    "erf_backward",
    "fake_numerical_gradient",
    "fake_numerical_gradient_backward",
    "heaviside",
    "leaky_k_relu",
    "leaky_k_relu_backward",
    "log_tailed_relu",
    "log_tailed_relu_backward",
    "nonzero_sign_log_abs",
    "nonzero_sign_log_abs_backward",
    "piecewise_exp",
    "piecewise_exp_backward",
    "piecewise_leaky_relu",
    "piecewise_leaky_relu_backward",
    "piecewise_quadratic",
    "piecewise_quadratic_backward",
    "q_pseudo_spike",
    "q_pseudo_spike_backward",
    "s2nn",
    "s2nn_backward",
    "sigmoid",
    "sigmoid_backward",
    "soft_sign",
    "soft_sign_backward",
    "squarewave_fourier_series",
    "squarewave_fourier_series_backward",
    "surrogate_from_name",
    "surrogate_names",
]


def heaviside(x: torch.Tensor) -> torch.Tensor:
    """``1`` where ``x >= 0`` else ``0``, in the dtype of ``x``."""
    return (x >= 0).to(x.dtype)


def _nonzero_sign(x: torch.Tensor) -> torch.Tensor:
    """``1`` where ``x >= 0`` else ``-1``: ``|x| = s x`` with a derivative that is right at ``x = 0`` too."""
    return heaviside(x).mul_(2.0).sub_(1.0)


# -- hyper-parameters -------------------------------------------------------------------------------------

Check = Callable[[str, Any], Any]


def _number(low: float | None = None) -> Check:
    """A check for a finite real number (``> low`` when given), stored as float."""
    bound = "" if low is None else f" > {low:g}"

    def check(what: str, value: Any) -> float:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
        if ok and low is not None:
            ok = value > low
        if not ok:
            raise ConfigError(f"Expected a finite number{bound} for argument {what}. Got {value!r} instead.")
        return float(value)

    return check


def _integer(low: int) -> Check:
    def check(what: str, value: Any) -> int:
        if not (isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= low):
            raise ConfigError(f"Expected an integer >= {low} for argument {what}. Got {value!r} instead.")
        return int(value)

    return check


def _boolean(what: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"Expected True or False for argument {what}. Got {value!r} instead.")
    return value


V = TypeVar("V")


class _Hyper(Generic[V]):
    """A hyper-parameter attribute: checked on every assignment, kept as a plain number in ``__dict__``.

    Plain numbers rather than tensors or buffers: the CUDA and Triton kernels take ``alpha`` as a scalar
    argument, it never moves between devices, and ``state_dict()`` keeps SpikingJelly's keys.
    """

    def __init__(self, check: Check) -> None:
        self.check = check
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _Hyper[V]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> V: ...
    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return obj.__dict__[self.name]

    def __set__(self, obj: Any, value: V) -> None:
        obj.__dict__[self.name] = self.check(f"{self.name} of {type(obj).__name__}", value)


# -- the base class -----------------------------------------------------------------------------------------


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


class Surrogate(nn.Module, abc.ABC):
    """Base class: ``forward`` spikes (or returns the primitive ``g(x)`` when ``spiking`` is False).

    A subclass implements :meth:`primitive` and :meth:`derivative_` and lists its hyper-parameters (plain
    attributes) in ``hyperparameters`` for ``repr`` and :func:`surrogate_from_name`.

    Parameters
    ----------
    spiking:
        Forward returns Heaviside spikes with the surrogate gradient (True) or ``g(x)`` (False).
    """

    cuda_code: ClassVar[int | None] = None
    name: ClassVar[str] = ""
    hyperparameters: ClassVar[tuple[str, ...]] = ()

    spiking = _Hyper[bool](_boolean)

    def __init__(self, spiking: bool = True) -> None:
        super().__init__()
        self.spiking = spiking

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.spiking:
            return _SurrogateSpike.apply(x, self)
        return self.primitive(x)

    def set_spiking_mode(self, spiking: bool) -> None:
        """Switch between spikes (True) and the primitive (False), as ``self.spiking = spiking``."""
        self.spiking = spiking

    def extra_repr(self) -> str:
        return ", ".join(f"{n}={getattr(self, n)!r}" for n in (*self.hyperparameters, "spiking"))

    @abc.abstractmethod
    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        """The primitive ``g(x)`` whose derivative is the surrogate gradient (differentiable by autograd)."""

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        """The surrogate gradient ``g'(x)``, elementwise."""
        return self.derivative_(x.clone())

    @abc.abstractmethod
    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        """``g'(x)`` written into ``x`` and returned (the fused backward pass reuses one buffer per step)."""


# -- the six with CUDA kernels ------------------------------------------------------------------------------


class Sigmoid(Surrogate):
    """``g(x) = sigmoid(alpha x)``, ``g'(x) = alpha sg (1 - sg)`` with ``sg = sigmoid(alpha x)``."""

    cuda_code: ClassVar[int | None] = 0
    name: ClassVar[str] = "sigmoid"
    hyperparameters: ClassVar[tuple[str, ...]] = ("alpha",)
    alpha = _Hyper[float](_number(0.0))

    def __init__(self, alpha: float = 4.0, spiking: bool = True) -> None:
        super().__init__(spiking)
        self.alpha = alpha

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.alpha * x)

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        sg = x.mul_(self.alpha).sigmoid_()
        return sg.addcmul_(sg, sg, value=-1.0).mul_(self.alpha)  # alpha (sg - sg^2)


class ATan(Surrogate):
    """``g(x) = atan(pi/2 alpha x) / pi + 1/2``, ``g'(x) = (alpha/2) / (1 + (pi/2 alpha x)^2)``."""

    cuda_code: ClassVar[int | None] = 1
    name: ClassVar[str] = "atan"
    hyperparameters: ClassVar[tuple[str, ...]] = ("alpha",)
    alpha = _Hyper[float](_number(0.0))

    def __init__(self, alpha: float = 2.0, spiking: bool = True) -> None:
        super().__init__(spiking)
        self.alpha = alpha

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return torch.atan(math.pi / 2 * self.alpha * x) / math.pi + 0.5

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul_(math.pi / 2 * self.alpha).square_().add_(1.0).reciprocal_().mul_(self.alpha / 2)


class PiecewiseQuadratic(Surrogate):
    """``g'(x) = alpha - alpha^2 |x|`` for ``|x| <= 1/alpha``, else 0 (a triangle of area 1); ``g`` is
    0 below ``-1/alpha``, 1 above ``1/alpha`` and ``-(alpha^2/2) sign(x) x^2 + alpha x + 1/2`` between."""

    cuda_code: ClassVar[int | None] = 2
    name: ClassVar[str] = "piecewise_quadratic"
    hyperparameters: ClassVar[tuple[str, ...]] = ("alpha",)
    alpha = _Hyper[float](_number(0.0))

    def __init__(self, alpha: float = 1.0, spiking: bool = True) -> None:
        super().__init__(spiking)
        self.alpha = alpha

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        a = self.alpha
        inside = (x.abs() <= 1.0 / a).to(x.dtype)
        above = (x > 1.0 / a).to(x.dtype)
        return above + inside * (-(a * a) / 2 * x.square() * x.sign() + a * x + 0.5)

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        a = self.alpha  # alpha - alpha^2 |x| is negative exactly where |x| > 1/alpha
        return x.abs_().mul_(-a * a).add_(a).clamp_(min=0.0)


class SoftSign(Surrogate):
    """``g(x) = (softsign(alpha x) + 1) / 2``, ``g'(x) = 1 / (2 alpha (1/alpha + |x|)^2)``."""

    cuda_code: ClassVar[int | None] = 3
    name: ClassVar[str] = "soft_sign"
    hyperparameters: ClassVar[tuple[str, ...]] = ("alpha",)
    alpha = _Hyper[float](_number(0.0))

    def __init__(self, alpha: float = 2.0, spiking: bool = True) -> None:
        super().__init__(spiking)
        self.alpha = alpha

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return (torch.nn.functional.softsign(self.alpha * x) + 1.0) / 2

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        return x.abs_().add_(1.0 / self.alpha).square_().mul_(2 * self.alpha).reciprocal_()


class Erf(Surrogate):
    """``g(x) = erfc(-alpha x) / 2`` (a Gaussian CDF), ``g'(x) = alpha / sqrt(pi) exp(-(alpha x)^2)``."""

    cuda_code: ClassVar[int | None] = 4
    name: ClassVar[str] = "erf"
    hyperparameters: ClassVar[tuple[str, ...]] = ("alpha",)
    alpha = _Hyper[float](_number(0.0))

    def __init__(self, alpha: float = 2.0, spiking: bool = True) -> None:
        super().__init__(spiking)
        self.alpha = alpha

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return torch.special.erfc(-self.alpha * x) / 2

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul_(self.alpha).square_().neg_().exp_().mul_(self.alpha / math.sqrt(math.pi))


class PiecewiseExp(Surrogate):
    """``g'(x) = (alpha/2) exp(-alpha |x|)`` (a Laplace density); ``g`` is its CDF."""

    cuda_code: ClassVar[int | None] = 5
    name: ClassVar[str] = "piecewise_exp"
    hyperparameters: ClassVar[tuple[str, ...]] = ("alpha",)
    alpha = _Hyper[float](_number(0.0))

    def __init__(self, alpha: float = 1.0, spiking: bool = True) -> None:
        super().__init__(spiking)
        self.alpha = alpha

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        s = _nonzero_sign(x)  # s x rather than |x|: autograd's d|x|/dx is 0 at x = 0
        half_tail = torch.exp(-self.alpha * s * x) / 2
        return torch.where(x < 0, half_tail, 1.0 - half_tail)

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        return x.abs_().mul_(-self.alpha).exp_().mul_(self.alpha / 2)


# -- the eight the torch backend runs alone -----------------------------------------------------------------


class NonzeroSignLogAbs(Surrogate):
    """``g(x) = s log(alpha |x| + 1)`` with ``s = 1`` for ``x >= 0`` else ``-1``;
    ``g'(x) = alpha / (1 + alpha |x|)``. ``g`` is not a step (``g(0) = 0``, unbounded); ``g'`` is cheap."""

    name: ClassVar[str] = "nonzero_sign_log_abs"
    hyperparameters: ClassVar[tuple[str, ...]] = ("alpha",)
    alpha = _Hyper[float](_number(0.0))

    def __init__(self, alpha: float = 1.0, spiking: bool = True) -> None:
        super().__init__(spiking)
        self.alpha = alpha

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        s = _nonzero_sign(x)  # s x rather than |x|: autograd's d|x|/dx is 0 at x = 0
        return s * torch.log1p(self.alpha * s * x)

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        return x.abs_().mul_(self.alpha).add_(1.0).reciprocal_().mul_(self.alpha)


class PiecewiseLeakyReLU(Surrogate):
    """``g'(x) = 1 / (2w)`` for ``|x| <= w``, else ``c``; ``g(x) = x / (2w) + 1/2`` for ``|x| <= w``,
    ``c x + c w`` below ``-w`` and ``c x - c w + 1`` above ``w`` (continuous).

    The slope inside is ``1 / (2w)``, the derivative of SpikingJelly's primitive (its later releases use it
    in the backward pass too; 0.0.0.0.14 used ``1 / w`` there).
    """

    name: ClassVar[str] = "piecewise_leaky_relu"
    hyperparameters: ClassVar[tuple[str, ...]] = ("w", "c")
    w = _Hyper[float](_number(0.0))
    c = _Hyper[float](_number())

    def __init__(self, w: float = 1.0, c: float = 0.01, spiking: bool = True) -> None:
        super().__init__(spiking)
        self.w = w
        self.c = c

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        w, c = self.w, self.c
        outside = torch.where(x < 0, c * x + c * w, c * x - c * w + 1.0)
        return torch.where(x.abs() <= w, x / (2 * w) + 0.5, outside)

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        inside = x.abs() <= self.w
        return x.fill_(self.c).masked_fill_(inside, 1.0 / (2 * self.w))


class SquarewaveFourierSeries(Surrogate):
    """The square wave of period ``T_period`` by its first ``n - 1`` odd Fourier terms:
    ``g(x) = 1/2 + (2/pi) sum_{i=1}^{n-1} sin((2i - 1) w x) / (2i - 1)`` with ``w = 2 pi / T_period``,
    ``g'(x) = (4 / T_period) sum_{i=1}^{n-1} cos((2i - 1) w x)``. A step near ``0`` only (it is periodic)."""

    name: ClassVar[str] = "squarewave_fourier_series"
    hyperparameters: ClassVar[tuple[str, ...]] = ("n", "T_period")
    n = _Hyper[int](_integer(2))
    T_period = _Hyper[float](_number(0.0))

    def __init__(self, n: int = 2, T_period: float = 8.0, spiking: bool = True) -> None:  # noqa: N803
        super().__init__(spiking)
        self.n = n
        self.T_period = T_period

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        w = 2 * math.pi / self.T_period
        total = torch.zeros_like(x)
        for i in range(1, self.n):
            c = 2 * i - 1
            total = total + torch.sin(c * w * x) / c
        return 0.5 + 2 / math.pi * total

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        w = 2 * math.pi / self.T_period
        total = torch.zeros_like(x)
        for i in range(1, self.n):
            total.add_(torch.cos((2 * i - 1) * w * x))
        return x.copy_(total).mul_(4 / self.T_period)


class S2NN(Surrogate):
    """S2NN (Suetake et al. 2023): ``g(x) = sigmoid(alpha x)`` for ``x < 0`` and ``beta ln(x + 1) + 1/2``
    for ``x >= 0``; ``g'(x) = alpha sg (1 - sg)`` (``sg = sigmoid(alpha x)``) and ``beta / (x + 1)``.

    ``g`` is continuous at 0 (SpikingJelly's code; its docstring's ``+ 1`` is a typo), and ``g'`` too when
    ``alpha / 4 = beta`` (the defaults).
    """

    name: ClassVar[str] = "s2nn"
    hyperparameters: ClassVar[tuple[str, ...]] = ("alpha", "beta")
    alpha = _Hyper[float](_number(0.0))
    beta = _Hyper[float](_number(0.0))

    def __init__(self, alpha: float = 4.0, beta: float = 1.0, spiking: bool = True) -> None:
        super().__init__(spiking)
        self.alpha = alpha
        self.beta = beta

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        # clamp: the unused branch stays finite, so autograd's where() passes no NaN
        right = self.beta * torch.log1p(x.clamp(min=0.0)) + 0.5
        return torch.where(x < 0, torch.sigmoid(self.alpha * x), right)

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        sg = torch.sigmoid(self.alpha * x)
        left = sg.sub_(sg.square()).mul_(self.alpha)
        right = self.beta / (x.clamp(min=0.0) + 1.0)
        return x.copy_(torch.where(x < 0, left, right))


class QPseudoSpike(Surrogate):
    """q-PseudoSpike (Herranz-Celotti & Rouat 2022), ``alpha`` = their ``q`` > 1 (tail fatness):
    ``g'(x) = (1 + 2|x| / (alpha - 1))^(-alpha)``; ``g(x) = 1/2 (1 - 2x / (alpha - 1))^(1 - alpha)`` for
    ``x < 0`` and ``1 - 1/2 (1 + 2x / (alpha - 1))^(1 - alpha)`` for ``x >= 0``."""

    name: ClassVar[str] = "q_pseudo_spike"
    hyperparameters: ClassVar[tuple[str, ...]] = ("alpha",)
    alpha = _Hyper[float](_number(1.0))

    def __init__(self, alpha: float = 2.0, spiking: bool = True) -> None:
        super().__init__(spiking)
        self.alpha = alpha

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        a = self.alpha
        s = _nonzero_sign(x)  # s x rather than |x|: autograd's d|x|/dx is 0 at x = 0
        tail = 0.5 * (1.0 + 2.0 / (a - 1.0) * s * x).pow(1.0 - a)
        return heaviside(x) - s * tail

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        a = self.alpha
        return x.abs_().mul_(2.0 / (a - 1.0)).add_(1.0).pow_(-a)


class LeakyKReLU(Surrogate):
    """``g(x) = k x`` for ``x >= 0`` and ``leak x`` below; ``g'(x) = k`` and ``leak``. Arguments in
    SpikingJelly's order (``spiking`` first)."""

    name: ClassVar[str] = "leaky_k_relu"
    hyperparameters: ClassVar[tuple[str, ...]] = ("leak", "k")
    leak = _Hyper[float](_number())
    k = _Hyper[float](_number())

    def __init__(self, spiking: bool = True, leak: float = 0.0, k: float = 1.0) -> None:
        super().__init__(spiking)
        self.leak = leak
        self.k = k

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return torch.where(x >= 0, self.k * x, self.leak * x)

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        negative = x < 0
        return x.fill_(self.k).masked_fill_(negative, self.leak)


class FakeNumericalGradient(Surrogate):
    """``g'(x) = min(1 / |x|, alpha)``: the slope ``(Θ(x) - Θ(-x)) / x`` of the step seen from ``x``, capped.

    SpikingJelly defines only the gradient (spikes always); the primitive here is its antiderivative with
    ``g(0) = 0``: ``alpha x`` for ``|x| <= 1/alpha``, else ``s (1 + ln(alpha |x|))`` (``s`` the sign of ``x``).
    """

    name: ClassVar[str] = "fake_numerical_gradient"
    hyperparameters: ClassVar[tuple[str, ...]] = ("alpha",)
    alpha = _Hyper[float](_number(0.0))

    def __init__(self, alpha: float = 0.3, spiking: bool = True) -> None:
        super().__init__(spiking)
        self.alpha = alpha

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        a = self.alpha
        s = _nonzero_sign(x)
        tail = s * (1.0 + torch.log((a * s * x).clamp(min=1.0)))  # clamp: finite where unused
        return torch.where(a * x.abs() <= 1.0, a * x, tail)

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        return x.abs_().reciprocal_().clamp_(max=self.alpha)  # 1/0 = inf is capped too


class LogTailedReLU(Surrogate):
    """Log-tailed ReLU (Cai et al. 2017): ``g'(x) = alpha`` for ``x <= 0``, ``1`` for ``0 < x <= 1`` and
    ``1 / x`` above; ``g(x) = alpha x``, ``x`` and ``ln(x) + 1``. Not a step (``g(0) = 0``, unbounded)."""

    name: ClassVar[str] = "log_tailed_relu"
    hyperparameters: ClassVar[tuple[str, ...]] = ("alpha",)
    alpha = _Hyper[float](_number())

    def __init__(self, alpha: float = 0.0, spiking: bool = True) -> None:
        super().__init__(spiking)
        self.alpha = alpha

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        tail = torch.log(x.clamp(min=1.0)) + 1.0  # clamp: finite where unused
        return torch.where(x <= 0, self.alpha * x, torch.where(x > 1, tail, x))

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        negative = x <= 0
        return x.clamp_(min=1.0).reciprocal_().masked_fill_(negative, self.alpha)


# -- names for configuration files --------------------------------------------------------------------------

_CLASSES: tuple[type[Surrogate], ...] = (
    Sigmoid, ATan, PiecewiseQuadratic, SoftSign, Erf, PiecewiseExp, NonzeroSignLogAbs, PiecewiseLeakyReLU,
    SquarewaveFourierSeries, S2NN, QPseudoSpike, LeakyKReLU, FakeNumericalGradient, LogTailedReLU,
)  # fmt: skip
_BY_NAME: dict[str, type[Surrogate]] = {cls.name: cls for cls in _CLASSES}


def _key(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


_BY_KEY: dict[str, type[Surrogate]] = {_key(cls.name): cls for cls in _CLASSES}


# -- SpikingJelly's functional forms ------------------------------------------------------------------------


def _backward_function(cls: type[Surrogate]) -> Callable[..., torch.Tensor]:
    """``name_backward(grad_output, x, *params)``: ``grad_output`` times the derivative of ``cls(*params)``."""

    def backward(grad_output: torch.Tensor, x: torch.Tensor, *params: Any) -> torch.Tensor:
        return grad_output * cls(**dict(zip(cls.hyperparameters, params, strict=False))).derivative(x)

    backward.__name__ = backward.__qualname__ = f"{cls.name}_backward"
    backward.__doc__ = (
        f"``grad_output * {cls.__name__}({', '.join(cls.hyperparameters)}).derivative(x)``; parameters left out "
        "take the module's defaults."
    )
    return backward


def _autograd_function(cls: type[Surrogate]) -> type[torch.autograd.Function]:
    """The ``torch.autograd.Function`` ``name``: ``name.apply(x, *params)`` spikes with ``cls``'s gradient."""
    grad_of = _backward_function(cls)

    def forward(ctx: Any, x: torch.Tensor, *params: Any) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.params = params
        return heaviside(x)

    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        (x,) = ctx.saved_tensors
        return (grad_of(grad, x, *ctx.params), *([None] * len(ctx.params)))

    doc = (
        f"``{cls.name}.apply(x, {', '.join(cls.hyperparameters)})``: Heaviside spikes of ``x`` with the gradient of "
        f":class:`{cls.__name__}` (SpikingJelly's functional form; parameters left out take the module's defaults)."
    )
    attributes = {"forward": staticmethod(forward), "backward": staticmethod(backward), "__doc__": doc,
                  "__module__": __name__}
    return type(cls.name, (torch.autograd.Function,), attributes)


sigmoid, sigmoid_backward = _autograd_function(Sigmoid), _backward_function(Sigmoid)
atan, atan_backward = _autograd_function(ATan), _backward_function(ATan)
piecewise_quadratic = _autograd_function(PiecewiseQuadratic)
piecewise_quadratic_backward = _backward_function(PiecewiseQuadratic)
soft_sign, soft_sign_backward = _autograd_function(SoftSign), _backward_function(SoftSign)
erf, erf_backward = _autograd_function(Erf), _backward_function(Erf)
piecewise_exp, piecewise_exp_backward = _autograd_function(PiecewiseExp), _backward_function(PiecewiseExp)
nonzero_sign_log_abs = _autograd_function(NonzeroSignLogAbs)
nonzero_sign_log_abs_backward = _backward_function(NonzeroSignLogAbs)
piecewise_leaky_relu = _autograd_function(PiecewiseLeakyReLU)
piecewise_leaky_relu_backward = _backward_function(PiecewiseLeakyReLU)
squarewave_fourier_series = _autograd_function(SquarewaveFourierSeries)
squarewave_fourier_series_backward = _backward_function(SquarewaveFourierSeries)
s2nn, s2nn_backward = _autograd_function(S2NN), _backward_function(S2NN)
q_pseudo_spike, q_pseudo_spike_backward = _autograd_function(QPseudoSpike), _backward_function(QPseudoSpike)
leaky_k_relu, leaky_k_relu_backward = _autograd_function(LeakyKReLU), _backward_function(LeakyKReLU)
fake_numerical_gradient = _autograd_function(FakeNumericalGradient)
fake_numerical_gradient_backward = _backward_function(FakeNumericalGradient)
log_tailed_relu, log_tailed_relu_backward = _autograd_function(LogTailedReLU), _backward_function(LogTailedReLU)


def surrogate_names() -> tuple[str, ...]:
    """Names accepted by :func:`surrogate_from_name` (for configuration files)."""
    return tuple(sorted(_BY_NAME))


def surrogate_from_name(
    name: str, alpha: float | None = None, spiking: bool = True, **params: Any
) -> Surrogate:
    """Build a surrogate from its configuration or class name, e.g. ``surrogate_from_name("atan", alpha=2.0)``
    or ``surrogate_from_name("PiecewiseLeakyReLU", w=0.5)`` (case, ``_`` and ``-`` are ignored).

    Raises
    ------
    UnknownNameError
        An unknown name (the valid ones are listed).
    ConfigError
        A parameter the surrogate does not have (its parameters are listed), or an invalid value.
    """
    cls = _BY_KEY.get(_key(name))
    if cls is None:
        raise UnknownNameError(
            f"Unknown value {name!r} for argument surrogate. Valid values are {set(surrogate_names())}."
        )
    if alpha is not None:
        params["alpha"] = alpha
    unknown = set(params) - set(cls.hyperparameters)
    if unknown:
        raise ConfigError(
            f"Unknown argument(s) {sorted(unknown)} for surrogate {cls.name!r}. "
            f"Valid values are {set(cls.hyperparameters)}."
        )
    return cls(spiking=spiking, **params)
