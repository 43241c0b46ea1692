"""Network-level helpers: state and mode management, losses, delays, conv-BN fusion and initialisation.

The neuron equations themselves (pure step functions and the state tuple) live in
:mod:`eventpipe.snn.dynamics` and are re-exported here, so ``functional.neuron_step`` works as in Norse.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn.backends import check_backend
from eventpipe.snn.base import StepModule
from eventpipe.snn.dynamics import (
    NeuronSpec,
    NeuronState,
    multistep_loop,
    neuron_charge,
    neuron_fire,
    neuron_reset,
    neuron_step,
    rest_state,
)

__all__ = [
    "NeuronSpec",
    "NeuronState",
    "delay",
    "detach_net",
    "firing_rate",
    "fuse_conv_bn",
    "fuse_conv_bn_in_net",
    "kaiming_init",
    "multistep_loop",
    "neuron_charge",
    "neuron_fire",
    "neuron_reset",
    "neuron_step",
    "reset_net",
    "rest_state",
    "set_backend",
    "set_step_mode",
    "tet_loss",
]


def _step_modules(net: nn.Module) -> Iterator[StepModule]:
    return (m for m in net.modules() if isinstance(m, StepModule))


def reset_net(net: nn.Module) -> None:
    """Forget the state every module of ``net`` carries in single-step mode (and stored ``v_seq``).

    Multi-step modules never carry state between calls, so this is only needed for streaming use.
    """
    for m in _step_modules(net):
        m.reset()


def detach_net(net: nn.Module) -> None:
    """Cut the carried state of every module from the autograd graph (truncated BPTT while streaming)."""
    for m in _step_modules(net):
        m.detach()


def set_step_mode(net: nn.Module, step_mode: str) -> None:
    """Set ``step_mode`` (``"s"`` or ``"m"``) on every step-mode module of ``net`` and reset their state."""
    for m in _step_modules(net):
        m.step_mode = step_mode
        m.reset()


def set_backend(net: nn.Module, backend: str, instance: type | tuple[type, ...] | None = None) -> None:
    """Set ``backend`` on every neuron of ``net`` (or every module of type ``instance`` with a backend)."""
    from eventpipe.snn.neuron import BaseNode

    check_backend(backend)
    types = instance if instance is not None else BaseNode
    for m in net.modules():
        if isinstance(m, types):
            if not hasattr(m, "backend"):
                raise ConfigError(f"{type(m).__name__} has no backend to set.")
            setattr(m, "backend", backend)  # noqa: B010 - validated by the module's own setter


def firing_rate(spikes: torch.Tensor) -> torch.Tensor:
    """Mean of a spike tensor (spikes per neuron per step), as a 0-d tensor; a monitor reduction."""
    return spikes.detach().float().mean()


def tet_loss(
    x_seq: torch.Tensor,
    target: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    lamb: float = 0.0,
    means: float = 1.0,
) -> torch.Tensor:
    """Temporal efficient training (TET) loss: the cross-entropy of every time step, averaged.

    ``(1 - lamb) * mean_t CE(x_seq[t], target) + lamb * MSE(x_seq, means)`` (Deng et al., ICLR 2022).

    Parameters
    ----------
    x_seq:
        Per-step logits or firing outputs ``[T, N, C]``.
    target:
        Class indices ``[N]`` (int64).
    mask:
        Optional bool ``[T, N]`` marking valid steps of padded sequences; padded steps are ignored.
    lamb, means:
        Weight and target value of the MSE regulariser on the outputs (0 disables it).
    """
    if x_seq.dim() != 3:
        raise ConfigError(f"Expected x_seq of shape [T, N, C]. Got {tuple(x_seq.shape)} instead.")
    steps, batch, _ = x_seq.shape
    if target.shape != (batch,):
        raise ConfigError(
            f"Expected target of shape [{batch}] (class indices). Got {tuple(target.shape)} instead."
        )
    ce = F.cross_entropy(x_seq.reshape(steps * batch, -1), target.repeat(steps), reduction="none").view(
        steps, batch
    )
    if mask is None:
        loss = ce.mean()
        reg = F.mse_loss(x_seq, torch.full_like(x_seq, means)) if lamb else None
    else:
        if mask.shape != (steps, batch):
            raise ConfigError(f"Expected mask of shape [{steps}, {batch}]. Got {tuple(mask.shape)} instead.")
        weight = mask.to(ce.dtype)
        count = weight.sum().clamp_min(1.0)
        loss = (ce * weight).sum() / count
        reg = ((x_seq - means).square().mean(-1) * weight).sum() / count if lamb else None
    return loss if reg is None else (1.0 - lamb) * loss + lamb * reg


def delay(x_seq: torch.Tensor, steps: int) -> torch.Tensor:
    """Shift ``x_seq`` ``[T, ...]`` later in time by ``steps``: ``y[t] = x[t - steps]``, zeros before."""
    if not (isinstance(steps, int) and steps >= 0):
        raise ConfigError(f"Expected an integer >= 0 for argument steps. Got {steps!r} instead.")
    total = x_seq.shape[0]
    if steps == 0:
        return x_seq
    if steps >= total:
        return torch.zeros_like(x_seq)
    return torch.cat([x_seq.new_zeros((steps, *x_seq.shape[1:])), x_seq[: total - steps]])


_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def fuse_conv_bn(conv: nn.Module, bn: nn.Module) -> nn.Module:
    """A convolution equal to ``bn(conv(x))`` with ``bn`` in eval mode (running statistics).

    The result has the same class as ``conv`` (so multi-step wrappers stay multi-step) and always a bias:
    ``W' = W * gamma / sqrt(var + eps)``, ``b' = (b - mean) * gamma / sqrt(var + eps) + beta``.
    """
    if not isinstance(conv, _CONV) or not isinstance(bn, _BN):
        raise ConfigError(
            "Expected a Conv1d/2d/3d and a BatchNorm1d/2d/3d. "
            f"Got {type(conv).__name__}, {type(bn).__name__}."
        )
    if bn.num_features != conv.out_channels:
        raise ConfigError(
            f"BatchNorm has {bn.num_features} features but the convolution {conv.out_channels} channels."
        )
    if bn.running_mean is None or bn.running_var is None:
        raise ConfigError("Cannot fuse a BatchNorm without running statistics (track_running_stats=False).")
    fused = copy.deepcopy(conv)
    with torch.no_grad():
        scale = torch.rsqrt(bn.running_var + bn.eps)
        if bn.weight is not None:
            scale = scale * bn.weight
        bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
        shift = bn.bias if bn.bias is not None else torch.zeros_like(bn.running_mean)
        fused.weight.copy_(conv.weight * scale.reshape(-1, *([1] * (conv.weight.dim() - 1))))
        new_bias = (bias - bn.running_mean) * scale + shift
        if fused.bias is None:
            fused.bias = nn.Parameter(new_bias.to(conv.weight.dtype))
        else:
            fused.bias.copy_(new_bias)
    return fused


def fuse_conv_bn_in_net(net: nn.Module) -> nn.Module:
    """Fuse every convolution directly followed by a batch norm inside ``nn.Sequential`` containers.

    Works in place on ``net`` (the batch norms become ``nn.Identity``) and returns it; call it in eval mode,
    for inference or export.
    """
    for container in net.modules():
        if not isinstance(container, nn.Sequential):
            continue
        names = list(container._modules)
        for first, second in zip(names[:-1], names[1:], strict=True):
            conv, bn = container._modules[first], container._modules[second]
            if isinstance(conv, _CONV) and isinstance(bn, _BN):
                container._modules[first] = fuse_conv_bn(conv, bn)
                container._modules[second] = nn.Identity()
    return net


def kaiming_init(
    net: nn.Module,
    *,
    a: float = math.sqrt(5.0),
    mode: Literal["fan_in", "fan_out"] = "fan_in",
    nonlinearity: Literal["linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu"] = "leaky_relu",
    zero_bias: bool = False,
) -> None:
    """Kaiming-normal initialisation of the weights of every convolution and linear layer of ``net``.

    The defaults (``a = sqrt(5)``) reproduce SpikingJelly's ``kaiming_normal_conv_linear_weight``;
    ``zero_bias`` also zeroes the biases.
    """
    if mode not in ("fan_in", "fan_out"):
        raise ConfigError(
            f"Unknown value {mode!r} for argument mode. Valid values are {{'fan_in', 'fan_out'}}."
        )
    for m in net.modules():
        if isinstance(m, (*_CONV, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, a=a, mode=mode, nonlinearity=nonlinearity)
            if zero_bias and m.bias is not None:
                nn.init.zeros_(m.bias)
