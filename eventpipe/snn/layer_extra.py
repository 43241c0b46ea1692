"""Layers with their own math for spiking networks (re-exported by :mod:`eventpipe.snn.layer`).

* :class:`DropConnectLinear`: a linear layer whose connections are dropped per sample (Wan et al. 2013),
  with the Gaussian moment-matching inference of that paper;
* :class:`NeuNorm`: subtracts a learned multiple of a running average of the channel-summed spikes
  (Wu et al. 2019), state carried across calls until :meth:`NeuNorm.reset`;
* ``ThresholdDependentBatchNorm1d/2d/3d``: tdBN (Zheng et al. 2021), batch norm over time and batch together
  whose scale starts at ``alpha * v_th``;
* :class:`TemporalWiseAttention` (Yao et al. 2021) and :class:`MultiDimensionalAttention` (Yao et al. 2023):
  gates computed from the whole sequence ``[T, N, C, ...]``.

tdBN and the attention layers need every time step of a sample at once, so they are multi-step only (as
in SpikingJelly): asking them for ``step_mode="s"`` is an error. Argument names and defaults, and the
parameter names in ``state_dict``, follow SpikingJelly so that its checkpoints load.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn.base import StepModule, check_sequence, check_step_shape

__all__ = [
    "DropConnectLinear",
    "MultiDimensionalAttention",
    "NeuNorm",
    "TemporalWiseAttention",
    "ThresholdDependentBatchNorm1d",
    "ThresholdDependentBatchNorm2d",
    "ThresholdDependentBatchNorm3d",
]


def _check_int(name: str, value: Any, minimum: int = 1) -> None:
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= minimum):
        raise ConfigError(f"Expected an integer >= {minimum} for argument {name}. Got {value!r} instead.")


def _check_reduction(name: str, value: Any, size_name: str, size: int) -> None:
    if not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= size):
        raise ConfigError(
            f"Expected an integer in [1, {size_name}={size}] for argument {name} (the gate's hidden size is "
            f"{size_name} // {name}). Got {value!r} instead."
        )


def _as_steps(module: StepModule, x: torch.Tensor) -> torch.Tensor:
    """The input as a sequence ``[T, N, ...]`` (one step gets ``T = 1``)."""
    if module.step_mode == "m":
        check_sequence(module, x)
        return x
    return x.unsqueeze(0)


class DropConnectLinear(StepModule, nn.Module):
    """``y = activation((W * M) x + b * m)`` with a fresh 0/1 mask per sample (Wan et al. 2013).

    Training: each connection of each sample is kept with probability ``1 - p`` (``M``, ``m``; no rescaling);
    a new mask is drawn at every time step, or with ``invariant=True`` once after a reset and kept until
    :meth:`reset`. Inference: each output is ``mean_k activation(z_k)`` over ``samples_num`` draws of
    ``z ~ Normal(mu, sigma^2)`` with ``mu = (1 - p)(W x + b)`` and ``sigma^2 = p (1 - p)(W^2 x^2 + b^2)``
    (Algorithm 2 of the paper). Steps are ``[N, in_features]``; multi-step runs them in order, so a loop of
    single steps under the same seed gives the same result.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        p: float = 0.5,
        samples_num: int = 1024,
        invariant: bool = False,
        activation: Callable[[torch.Tensor], torch.Tensor] | None = nn.ReLU(),  # noqa: B008  (stateless)
        step_mode: str = "s",
    ) -> None:
        _check_int("in_features", in_features)
        _check_int("out_features", out_features)
        _check_int("samples_num", samples_num)
        if not (isinstance(p, (int, float)) and 0.0 <= p < 1.0):
            raise ConfigError(f"Expected a probability in [0, 1) for argument p. Got {p!r} instead.")
        if activation is not None and not callable(activation):
            raise ConfigError(
                f"Expected a module, a callable or None for argument activation. Got {activation!r}."
            )
        nn.Module.__init__(self)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.reset_parameters()
        self.p = float(p)
        self.samples_num = samples_num
        self.invariant = invariant
        self.activation = activation
        self.step_mode = step_mode
        self.mask_w: torch.Tensor | None = None  # [N, out, in] while a mask is kept
        self.mask_b: torch.Tensor | None = None  # [N, out]

    def reset_parameters(self) -> None:
        """Initialise ``weight`` and ``bias`` as ``torch.nn.Linear`` does."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features)
            nn.init.uniform_(self.bias, -bound, bound)

    def _drop(self, batch: int) -> None:
        self.mask_w = torch.rand((batch, *self.weight.shape), device=self.weight.device) > self.p
        if self.bias is not None:
            self.mask_b = torch.rand((batch, *self.bias.shape), device=self.bias.device) > self.p

    def _step(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.in_features:
            raise ConfigError(
                f"DropConnectLinear(step_mode={self.step_mode!r}) takes steps [N, {self.in_features}]; got a step "
                f"of shape {tuple(x.shape)}. A sequence [T, N, {self.in_features}] needs step_mode='m'."
            )
        if not self.training:
            return self._infer(x)
        if self.mask_w is None or not self.invariant:
            self._drop(x.shape[0])
        else:
            check_step_shape(self, (self.mask_w.shape[0], self.in_features), x.shape)
        assert self.mask_w is not None
        y = torch.einsum("noi,ni->no", self.weight * self.mask_w, x)
        if self.bias is not None and self.mask_b is not None:
            y = y + self.bias * self.mask_b
        return y if self.activation is None else self.activation(y)

    def _infer(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias
        mu = (1.0 - self.p) * nn.functional.linear(x, self.weight, bias)
        var = nn.functional.linear(x.square(), self.weight.square(), None if bias is None else bias.square())
        sigma = (self.p * (1.0 - self.p) * var).sqrt()
        z = mu + sigma * torch.randn((self.samples_num, *mu.shape), device=mu.device, dtype=mu.dtype)
        return (z if self.activation is None else self.activation(z)).mean(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.step_mode == "s":
            return self._step(x)
        return torch.stack([self._step(xt) for xt in _as_steps(self, x)])

    def reset(self) -> None:
        self.mask_w = None
        self.mask_b = None
        reset = getattr(self.activation, "reset", None)
        if callable(reset):
            reset()

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}, "
            f"p={self.p}, invariant={self.invariant}, step_mode={self.step_mode}"
        )


class NeuNorm(StepModule, nn.Module):
    """``a[t] = k a[t-1] + (1 - k) / C^2 * sum_c s[t, c]``, ``y[t] = s[t] - w * a[t]`` (Wu et al. 2019).

    Placed after the spiking neurons of a convolution, on steps ``[N, C, H, W]`` with ``C = in_channels``.
    ``a`` (``[N, 1, H, W]``, zero at rest) is an auxiliary neuron carried across calls in both step modes
    until :meth:`reset`; ``w`` is learned, ``[C, H, W]`` or, with ``shared_across_channels``, ``[1, H, W]``.
    ``(1 - k) / C^2`` is the paper's ``v / F`` given ``k + v F = 1``.
    """

    def __init__(
        self,
        in_channels: int,
        height: int,
        width: int,
        k: float = 0.9,
        shared_across_channels: bool = False,
        step_mode: str = "s",
    ) -> None:
        _check_int("in_channels", in_channels)
        _check_int("height", height)
        _check_int("width", width)
        if not (isinstance(k, (int, float)) and 0.0 <= k <= 1.0):
            raise ConfigError(f"Expected a momentum in [0, 1] for argument k. Got {k!r} instead.")
        nn.Module.__init__(self)
        self.k0 = float(k)
        self.k1 = (1.0 - self.k0) / in_channels**2
        self.step_shape = (in_channels, height, width)
        self.w = nn.Parameter(torch.empty(1 if shared_across_channels else in_channels, height, width))
        nn.init.kaiming_uniform_(self.w, a=math.sqrt(5))
        self.step_mode = step_mode
        self.x: torch.Tensor | None = None  # the auxiliary neuron a, [N, 1, H, W]

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        s_seq = _as_steps(self, s)
        if s_seq.dim() != 5 or tuple(s_seq.shape[2:]) != self.step_shape:
            raise ConfigError(
                f"NeuNorm(step_mode={self.step_mode!r}) takes steps [N, {', '.join(map(str, self.step_shape))}]; "
                f"got shape {tuple(s.shape)}."
            )
        a = self.x
        if a is None:
            a = s_seq.new_zeros((s_seq.shape[1], 1, *self.step_shape[1:]))
        else:
            check_step_shape(self, (a.shape[0], *self.step_shape), s_seq.shape[1:])
        out = []
        for st in s_seq:
            a = self.k0 * a + self.k1 * st.sum(dim=1, keepdim=True)
            out.append(st - self.w * a)
        self.x = a
        return torch.stack(out) if self.step_mode == "m" else out[0]

    def reset(self) -> None:
        self.x = None

    def detach(self) -> None:
        if self.x is not None:
            self.x = self.x.detach()

    def extra_repr(self) -> str:
        return f"shape={tuple(self.w.shape)}, k={self.k0}, step_mode={self.step_mode}"


class _MultiStepOnly(StepModule):
    """A layer that needs a whole sequence per call: ``step_mode`` is ``"m"`` and nothing else."""

    supported_step_modes = ("m",)
    _step_mode = "m"


class _ThresholdDependentBatchNorm(_MultiStepOnly):
    """tdBN: ``y = alpha V_th (x - mean) / sqrt(var + eps) * lambda + beta`` over ``T * N`` (and space).

    ``lambda`` and ``beta`` are the affine ``weight`` and ``bias`` of the batch norm, so ``weight`` starts at
    ``alpha * v_th`` (``lambda = 1``) and stays learnable. ``alpha`` is set by the network's structure (1,
    or ``1 / sqrt(2)`` before a residual sum); ``v_th`` is the threshold of the next spiking layer.
    """

    seq_dims: ClassVar[tuple[int, ...]]

    def __init__(self, alpha: float, v_th: float, *args: Any, **kwargs: Any) -> None:
        for name, value in (("alpha", alpha), ("v_th", v_th)):
            if not (isinstance(value, (int, float)) and value > 0):
                raise ConfigError(f"Expected a number > 0 for argument {name}. Got {value!r} instead.")
        super().__init__(*args, **kwargs)
        if not self.affine:  # type: ignore[attr-defined]
            raise ConfigError(
                f"{type(self).__name__} scales by its affine weight (alpha * v_th); use affine=True."
            )
        self.alpha = float(alpha)
        self.v_th = float(v_th)
        nn.init.constant_(self.weight, self.alpha * self.v_th)  # type: ignore[attr-defined]

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        if x_seq.dim() not in self.seq_dims:
            raise ConfigError(
                f"{type(self).__name__} takes a sequence [T, N, C, ...] with "
                f"{' or '.join(map(str, self.seq_dims))} axes; got shape {tuple(x_seq.shape)}."
            )
        y = super().forward(x_seq.flatten(0, 1))  # type: ignore[misc]
        return y.unflatten(0, x_seq.shape[:2])

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, alpha={self.alpha}, v_th={self.v_th}"  # type: ignore[misc]


class ThresholdDependentBatchNorm1d(_ThresholdDependentBatchNorm, nn.BatchNorm1d):
    """tdBN over ``[T, N, C]`` or ``[T, N, C, L]``; ``*args, **kwargs`` are ``torch.nn.BatchNorm1d``'s."""

    seq_dims = (3, 4)


class ThresholdDependentBatchNorm2d(_ThresholdDependentBatchNorm, nn.BatchNorm2d):
    """tdBN over ``[T, N, C, H, W]``; ``*args, **kwargs`` are ``torch.nn.BatchNorm2d``'s."""

    seq_dims = (5,)


class ThresholdDependentBatchNorm3d(_ThresholdDependentBatchNorm, nn.BatchNorm3d):
    """tdBN over ``[T, N, C, D, H, W]``; ``*args, **kwargs`` are ``torch.nn.BatchNorm3d``'s."""

    seq_dims = (6,)


def _check_sequence_shape(module: nn.Module, x_seq: torch.Tensor, dims: int, sizes: dict[int, int]) -> None:
    if x_seq.dim() != dims or any(x_seq.shape[axis] != size for axis, size in sizes.items()):
        layout = {3: "[T, N, L]", 5: "[T, N, C, H, W]"}[dims]
        fixed = ", ".join(f"axis {axis} = {size}" for axis, size in sizes.items())
        raise ConfigError(
            f"{type(module).__name__} takes a whole sequence {layout} with {fixed}; got shape {tuple(x_seq.shape)}."
        )


class TemporalWiseAttention(_MultiStepOnly, nn.Module):
    """Weights each time step of a sample by a score from its whole sequence (TA, Yao et al. 2021).

    ``d = sigmoid(MLP(avg_t) + MLP(max_t))`` where ``avg_t`` and ``max_t`` are the mean and maximum of
    ``x[t, n]`` over its non-time axes, and the shared ``MLP`` is ``T -> T // reduction -> T`` (no bias,
    ReLU between); ``y[t, n] = d[n, t] x[t, n]``. Input ``[T, N, C, H, W]`` (``dimension=4``) or
    ``[T, N, L]`` (``dimension=2``), placed before the spiking neurons.
    """

    def __init__(self, T: int, reduction: int = 16, dimension: int = 4) -> None:
        _check_int("T", T)
        _check_reduction("reduction", reduction, "T", T)
        if dimension not in (2, 4):
            raise ConfigError(
                f"Expected 4 ([T, N, C, H, W]) or 2 ([T, N, L]) for argument dimension. Got {dimension!r} instead."
            )
        nn.Module.__init__(self)
        self.T = T
        self.reduction = reduction
        self.dimension = dimension
        hidden = T // reduction
        self.sharedMLP = nn.Sequential(
            nn.Linear(T, hidden, bias=False), nn.ReLU(), nn.Linear(hidden, T, bias=False)
        )

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        _check_sequence_shape(self, x_seq, self.dimension + 1, {0: self.T})
        flat = x_seq.flatten(2)  # [T, N, F]
        scores = torch.sigmoid(self.sharedMLP(flat.mean(2).t()) + self.sharedMLP(flat.amax(2).t()))  # [N, T]
        return x_seq * scores.t().reshape(*scores.t().shape, *[1] * (x_seq.dim() - 2))

    def extra_repr(self) -> str:
        return f"T={self.T}, reduction={self.reduction}, dimension={self.dimension}"


class _PooledGate(nn.Module):
    """``sigmoid(MLP(avg) + MLP(max))`` per channel of ``[N, K, a, b, c]``, pooled over the last three axes.

    The MLP is ``K -> K // reduction -> K`` as 1x1x1 convolutions (no bias, ReLU between).
    """

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        hidden = channels // reduction
        self.sharedMLP = nn.Sequential(
            nn.Conv3d(channels, hidden, 1, bias=False), nn.ReLU(), nn.Conv3d(hidden, channels, 1, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        avg = x.mean(dim=(2, 3, 4), keepdim=True)
        top = x.amax(dim=(2, 3, 4), keepdim=True)
        return torch.sigmoid(self.sharedMLP(avg) + self.sharedMLP(top))


class _SpatialGate(nn.Module):
    """``sigmoid(conv([mean, max]))`` over the pixels of ``[N, T, C, H, W]``, pooled over T and C."""

    def __init__(self, kernel_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1, 2)
        pooled = torch.cat([flat.mean(1, keepdim=True), flat.amax(1, keepdim=True)], dim=1)
        return torch.sigmoid(self.conv(pooled)).unsqueeze(1)  # [N, 1, 1, H, W]


class MultiDimensionalAttention(_MultiStepOnly, nn.Module):
    """Temporal, channel and spatial gates applied in turn, then ReLU (MA-SNN, Yao et al. 2023).

    On ``x`` ``[T, N, C, H, W]``: ``x1 = g_t * x`` with ``g_t[n, t]`` from the mean and max of ``x[t, n]``
    (shared MLP ``T -> T // reduction_t -> T``); ``x2 = g_c * x1`` with ``g_c[n, c]`` from the mean and max of
    ``x1[:, n, c]`` (MLP ``C -> C // reduction_c -> C``); ``x3 = g_s * x2`` with ``g_s[n, h, w]`` a
    ``kernel_size`` convolution (3 or 7) of the mean and max of ``x2[:, n, :, h, w]``; ``y = relu(x3)``.
    """

    def __init__(
        self,
        T: int,
        C: int,
        reduction_t: int = 16,
        reduction_c: int = 16,
        kernel_size: int = 3,
    ) -> None:
        _check_int("T", T)
        _check_int("C", C)
        _check_reduction("reduction_t", reduction_t, "T", T)
        _check_reduction("reduction_c", reduction_c, "C", C)
        if kernel_size not in (3, 7):
            raise ConfigError(f"Expected 3 or 7 for argument kernel_size. Got {kernel_size!r} instead.")
        nn.Module.__init__(self)
        self.T = T
        self.C = C
        self.ta = _PooledGate(T, reduction_t)
        self.ca = _PooledGate(C, reduction_c)
        self.sa = _SpatialGate(kernel_size)

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        _check_sequence_shape(self, x_seq, 5, {0: self.T, 2: self.C})
        x = x_seq.transpose(0, 1)  # [N, T, C, H, W]
        x = self.ta(x) * x
        x = self.ca(x.transpose(1, 2)).transpose(1, 2) * x
        x = self.sa(x) * x
        return torch.relu(x).transpose(0, 1)

    def extra_repr(self) -> str:
        return f"T={self.T}, C={self.C}"
