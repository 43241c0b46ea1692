"""Network-level helpers: state and mode management, losses, delays, conv-BN fusion and initialisation.

The neuron equations themselves (pure step functions and the state tuple) live in
:mod:`eventpipe.snn.dynamics` and are re-exported here, so ``functional.neuron_step`` works as in Norse.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Sequence
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
from eventpipe.snn.online import (
    fptt_online_training,
    fptt_online_training_init_w_ra,
    ottt_online_training,
)

__all__ = [
    "NeuronSpec",
    "NeuronState",
    "chunk_multi_step_forward",
    "delay",
    "detach_net",
    "firing_rate",
    "first_spike_index",
    "fptt_online_training",
    "fptt_online_training_init_w_ra",
    "fuse_conv_bn",
    "fuse_conv_bn_check",
    "fuse_conv_bn_in_net",
    "fused_conv2d_bias_of_convbn2d",
    "fused_conv2d_weight_of_convbn2d",
    "kaiming_init",
    "kernel_dot_product",
    "multi_step_forward",
    "multistep_loop",
    "neuron_charge",
    "neuron_fire",
    "neuron_reset",
    "neuron_step",
    "ottt_online_training",
    "redundant_one_hot",
    "reset_net",
    "rest_state",
    "scale_fused_conv2d_bias_of_convbn2d",
    "scale_fused_conv2d_weight_of_convbn2d",
    "set_backend",
    "set_step_mode",
    "set_threshold_margin",
    "spike_similar_loss",
    "tet_loss",
]


def _step_modules(net: nn.Module) -> Iterator[StepModule]:
    return (m for m in net.modules() if isinstance(m, StepModule))


def reset_net(net: nn.Module) -> None:
    """Forget the state carried by every module of ``net``: call ``reset()`` on each module that has one.

    Stateful modules carry their state across calls in both step modes, so reset between samples (the
    trainer does after every batch); custom modules defining ``reset()`` are reset too, as in SpikingJelly.
    """
    for m in net.modules():
        reset = getattr(m, "reset", None)
        if callable(reset):
            reset()


def detach_net(net: nn.Module) -> None:
    """Cut the carried state from the autograd graph: call ``detach()`` on each module that has one
    (truncated BPTT while streaming)."""
    for m in net.modules():
        detach = getattr(m, "detach", None)
        if callable(detach):
            detach()


def set_step_mode(net: nn.Module, step_mode: str) -> None:
    """Set ``step_mode`` (``"s"`` or ``"m"``) on every step-mode module of ``net`` and reset their state.

    The modules inside a container that fixes its children's mode (:class:`~eventpipe.snn.layer.StepModeContainer`
    and the recurrent containers) keep theirs; the container itself is set.
    """
    from eventpipe.snn.layer import KEEPS_CHILD_STEP_MODE

    kept: set[int] = set()
    for m in net.modules():
        if isinstance(m, KEEPS_CHILD_STEP_MODE):
            kept.update(id(c) for c in m.modules() if c is not m)
    for m in _step_modules(net):
        if id(m) not in kept:
            m.step_mode = step_mode
            m.reset()


def multi_step_forward(
    x_seq: torch.Tensor,
    single_step_module: nn.Module
    | Sequence[Callable[[torch.Tensor], torch.Tensor]]
    | Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """Run a single-step module (or a list of them, applied in order) over ``x_seq`` ``[T, N, ...]``,
    one step at a time, and stack the outputs ``[T, N, ...]``."""
    if x_seq.dim() < 1 or x_seq.shape[0] == 0:
        raise ConfigError(f"Expected a [T, N, ...] input with T >= 1. Got shape {tuple(x_seq.shape)}.")
    chain = (
        list(single_step_module)
        if isinstance(single_step_module, (list, tuple, nn.Sequential))
        else [single_step_module]
    )
    out = []
    for x in x_seq:
        for fn in chain:
            x = fn(x)
        out.append(x)
    return torch.stack(out)


def chunk_multi_step_forward(
    split_size: int, x_seq: torch.Tensor, multi_step_module: nn.Module
) -> torch.Tensor:
    """Feed ``x_seq`` ``[T, ...]`` to a multi-step module in chunks of ``split_size`` steps and concatenate
    the outputs. Stateful modules carry their state from chunk to chunk, so the result (and its gradient)
    equals one call on the whole sequence; under ``torch.no_grad()`` only one chunk's activations are alive
    at a time (inference with a large T)."""
    if not (isinstance(split_size, int) and split_size >= 1):
        raise ConfigError(f"Expected an integer >= 1 for argument split_size. Got {split_size!r} instead.")
    return torch.cat([multi_step_module(x) for x in torch.split(x_seq, split_size)])


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
        Per-step logits or firing outputs ``[T, N, C]``, or ``[T, N, C, ...]`` for dense predictions (one
        class per pixel: the cross-entropy is averaged over the trailing axes too).
    target:
        Class indices ``[N]`` (int64), or ``[N, ...]`` matching the trailing axes of ``x_seq``.
    mask:
        Optional bool ``[T, N]`` marking valid steps of padded sequences; padded steps are ignored.
    lamb, means:
        Weight and target value of the MSE regulariser on the outputs (0 disables it).
    """
    if x_seq.dim() < 3:
        raise ConfigError(f"Expected x_seq of shape [T, N, C, ...]. Got {tuple(x_seq.shape)} instead.")
    steps, batch = x_seq.shape[:2]
    spatial = tuple(x_seq.shape[3:])
    if tuple(target.shape) != (batch, *spatial):
        raise ConfigError(
            f"Expected target of shape {[batch, *spatial]} (class indices). Got {tuple(target.shape)} instead."
        )
    per_element = F.cross_entropy(
        x_seq.flatten(0, 1), target.repeat(steps, *([1] * len(spatial))), reduction="none"
    )
    ce = per_element.view(steps, batch, -1).mean(-1)
    if mask is None:
        loss = ce.mean()
        reg = F.mse_loss(x_seq, torch.full_like(x_seq, means)) if lamb else None
    else:
        if mask.shape != (steps, batch):
            raise ConfigError(f"Expected mask of shape [{steps}, {batch}]. Got {tuple(mask.shape)} instead.")
        weight = mask.to(ce.dtype)
        count = weight.sum().clamp_min(1.0)
        loss = (ce * weight).sum() / count
        reg = ((x_seq - means).square().flatten(2).mean(-1) * weight).sum() / count if lamb else None
    return loss if reg is None else (1.0 - lamb) * loss + lamb * reg


def first_spike_index(spikes: torch.Tensor) -> torch.Tensor:
    """Bool mask of each neuron's first spike: ``spikes`` is ``[..., T]`` (time last, as in SpikingJelly)."""
    with torch.no_grad():
        fired = spikes != 0
        return fired & (fired.cumsum(-1) == 1)


def redundant_one_hot(labels: torch.Tensor, num_classes: int, n: int) -> torch.Tensor:
    """One-hot codes with ``n`` ones per class: ``[N] -> [N, num_classes * n]`` (class ``c`` sets
    columns ``c * n .. c * n + n - 1``), a target for output layers with ``n`` neurons per class."""
    if not (isinstance(n, int) and n >= 1 and isinstance(num_classes, int) and num_classes >= 1):
        raise ConfigError(
            f"Expected integers >= 1 for num_classes and n. Got {num_classes!r}, {n!r} instead."
        )
    return F.one_hot(labels.long(), num_classes).float().repeat_interleave(n, dim=-1)


_KERNELS = ("linear", "polynomial", "sigmoid", "gaussian")


def kernel_dot_product(
    x: torch.Tensor, y: torch.Tensor, kernel: str = "linear", *args: float
) -> torch.Tensor:
    """Pairwise kernel values ``K[i, j] = k(x[i], y[j])`` for ``x`` ``[N, M]`` and ``y`` ``[K, M]``.

    ``"linear"``: ``x.y``; ``"polynomial"``: ``(x.y) ** d`` (``args = (d,)``); ``"sigmoid"``:
    ``sigmoid(alpha x.y)`` (``args = (alpha,)``); ``"gaussian"``: ``exp(-|x - y|^2 / (2 sigma^2))``
    (``args = (sigma,)``).
    """
    if kernel not in _KERNELS:
        raise ConfigError(f"Unknown value {kernel!r} for argument kernel. Valid values are {set(_KERNELS)}.")
    if kernel != "linear" and len(args) != 1:
        raise ConfigError(f"The {kernel!r} kernel takes one extra argument. Got {len(args)}.")
    dot = x @ y.t()
    if kernel == "linear":
        return dot
    if kernel == "polynomial":
        return dot.pow(args[0])
    if kernel == "sigmoid":
        return torch.sigmoid(args[0] * dot)
    squared = x.square().sum(1, keepdim=True) + y.square().sum(1).unsqueeze(0) - 2 * dot
    return torch.exp(-squared / (2 * args[0] ** 2))


_SIMILARITY_LOSSES = ("mse", "l1", "bce")


def spike_similar_loss(
    spikes: torch.Tensor,
    labels: torch.Tensor,
    kernel_type: str = "linear",
    loss_type: str = "mse",
    *args: float,
) -> torch.Tensor:
    """Make the spike trains of samples that share a label similar and the others dissimilar.

    ``spikes`` ``[N, ...]`` (flattened per sample) and multi-hot ``labels`` ``[N, C]``: the target similarity
    of samples ``i, j`` is 1 when they share a label, else 0; the predicted one is the kernel value
    (:func:`kernel_dot_product`), normalised by the norms for the linear kernel. ``loss_type`` compares the
    two ``[N, N]`` matrices: ``"mse"``, ``"l1"`` or ``"bce"``.
    """
    if loss_type not in _SIMILARITY_LOSSES:
        raise ConfigError(
            f"Unknown value {loss_type!r} for argument loss_type. Valid values are {set(_SIMILARITY_LOSSES)}."
        )
    flat = spikes.flatten(1)
    predicted = kernel_dot_product(flat, flat, kernel_type, *args)
    if kernel_type == "linear":
        norms = flat.norm(dim=1, keepdim=True)
        predicted = predicted / (norms @ norms.t() + 1e-8)
    labels = labels.float()
    target = (labels @ labels.t()).clamp_max(1.0)
    if loss_type == "mse":
        return F.mse_loss(predicted, target)
    if loss_type == "l1":
        return F.l1_loss(predicted, target)
    return F.binary_cross_entropy(predicted, target)


def set_threshold_margin(
    output_layer: nn.Module,
    label_one_hot: torch.Tensor,
    eval_threshold: float = 1.0,
    threshold0: float = 0.9,
    threshold1: float = 1.1,
) -> None:
    """Train the output neurons with a threshold margin: while ``output_layer.training``, the neuron of each
    sample's class gets ``threshold1`` and the others ``threshold0`` (a tensor threshold shaped like
    ``label_one_hot`` ``[N, C]``); in eval mode every neuron gets ``eval_threshold``."""
    if output_layer.training:
        threshold = torch.full(label_one_hot.shape, float(threshold0), device=label_one_hot.device)
        output_layer.v_threshold = threshold.masked_fill(label_one_hot == 1, float(threshold1))
    else:
        output_layer.v_threshold = eval_threshold


def delay(x_seq: torch.Tensor, delay_steps: int | None = None, *, steps: int | None = None) -> torch.Tensor:
    """Shift ``x_seq`` ``[T, ...]`` later in time by ``delay_steps``: ``y[t] = x[t - delay_steps]``, zeros
    before. ``steps`` is an alias of ``delay_steps`` (eventpipe's earlier name); give one of them."""
    from eventpipe.snn.layer import delay_steps_argument

    delay_steps = delay_steps_argument(delay_steps, steps, "delay")
    total = x_seq.shape[0]
    if delay_steps == 0:
        return x_seq
    if delay_steps >= total:
        return torch.zeros_like(x_seq)
    return torch.cat([x_seq.new_zeros((delay_steps, *x_seq.shape[1:])), x_seq[: total - delay_steps]])


_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def fuse_conv_bn_check(conv: nn.Module, bn: nn.Module) -> None:
    """Check that ``bn`` (with running statistics) can be folded into ``conv``."""
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


def fuse_conv_bn(conv: nn.Module, bn: nn.Module) -> nn.Module:
    """A convolution equal to ``bn(conv(x))`` with ``bn`` in eval mode (running statistics).

    The result has the same class as ``conv`` (so multi-step wrappers stay multi-step) and always a bias:
    ``W' = W * gamma / sqrt(var + eps)``, ``b' = (b - mean) * gamma / sqrt(var + eps) + beta``.
    """
    fused = copy.deepcopy(conv)
    with torch.no_grad():
        fused.weight.copy_(fused_conv2d_weight_of_convbn2d(conv, bn))
        new_bias = fused_conv2d_bias_of_convbn2d(conv, bn)
        if fused.bias is None:
            fused.bias = nn.Parameter(new_bias.to(conv.weight.dtype))
        else:
            fused.bias.copy_(new_bias)
    return fused


def _bn_scale(conv: nn.Module, bn: nn.Module) -> torch.Tensor:
    """``gamma / sqrt(var + eps)`` per output channel, checked against ``conv``."""
    fuse_conv_bn_check(conv, bn)
    scale = torch.rsqrt(bn.running_var + bn.eps)
    return scale * bn.weight if bn.weight is not None else scale


def fused_conv2d_weight_of_convbn2d(conv2d: nn.Module, bn2d: nn.Module) -> torch.Tensor:
    """The weight of the convolution equal to ``bn2d(conv2d(x))`` in eval mode: ``W gamma / sqrt(var + eps)``."""
    with torch.no_grad():
        scale = _bn_scale(conv2d, bn2d)
        return conv2d.weight * scale.reshape(-1, *([1] * (conv2d.weight.dim() - 1)))


def fused_conv2d_bias_of_convbn2d(conv2d: nn.Module, bn2d: nn.Module) -> torch.Tensor:
    """The bias of that convolution: ``(b - mean) gamma / sqrt(var + eps) + beta``."""
    with torch.no_grad():
        scale = _bn_scale(conv2d, bn2d)
        bias = conv2d.bias if conv2d.bias is not None else torch.zeros_like(bn2d.running_mean)
        shift = bn2d.bias if bn2d.bias is not None else torch.zeros_like(bn2d.running_mean)
        return (bias - bn2d.running_mean) * scale + shift


def scale_fused_conv2d_weight_of_convbn2d(
    conv2d: nn.Module,
    bn2d: nn.Module,
    k: float | torch.Tensor | None = None,
    b: float | torch.Tensor | None = None,
) -> None:
    """Change ``conv2d`` in place so that the fused weight of conv-BN becomes ``k * weight + b``.

    ``k`` and ``b`` are numbers or tensors broadcast against the weight; the batch norm is unchanged
    (``b`` is divided by its per-channel scale ``gamma / sqrt(var + eps)``, which must not be zero).
    """
    with torch.no_grad():
        scale = _bn_scale(conv2d, bn2d).reshape(-1, *([1] * (conv2d.weight.dim() - 1)))
        if k is not None:
            conv2d.weight.mul_(k)
        if b is not None:
            conv2d.weight.add_(torch.as_tensor(b, dtype=scale.dtype, device=scale.device) / scale)


def scale_fused_conv2d_bias_of_convbn2d(
    conv2d: nn.Module,
    bn2d: nn.Module,
    k: float | torch.Tensor | None = None,
    b: float | torch.Tensor | None = None,
) -> None:
    """Change the batch norm (and ``conv2d.bias``) in place so that the fused bias becomes ``k * bias + b``:
    ``k`` scales the running mean, the BN bias and the convolution's bias, ``b`` is added to the BN bias."""
    fuse_conv_bn_check(conv2d, bn2d)
    if bn2d.bias is None and b is not None:
        raise ConfigError("Cannot add to the fused bias of a BatchNorm without a bias (affine=False).")
    with torch.no_grad():
        if k is not None:
            bn2d.running_mean.mul_(k)
            if bn2d.bias is not None:
                bn2d.bias.mul_(k)
            if conv2d.bias is not None:
                conv2d.bias.mul_(k)
        if b is not None:
            bn2d.bias.add_(b)


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
