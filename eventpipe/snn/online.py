"""Online training: FPTT and OTTT, whose autograd memory does not grow with the number of time steps.

Both feed a network one time step per call (single-step mode), take a loss at every step and cut the
carried state from the autograd graph after it (:func:`~eventpipe.snn.functional.detach_net`), so only
one step's graph is ever alive, whatever ``T``.

**FPTT** (Forward Propagation Through Time; Kag & Saligrama 2021, for SNNs Yin et al. 2023). At step
``t`` the weights ``W`` take one optimizer step on

    ``l_t(W) + alpha / 2 * ||W - W_ra - g_{t-1} / (2 alpha)||^2``

where ``g_{t-1}`` is the gradient of the previous step's loss at the current weights (zero at the first
step of a sequence) and ``W_ra`` a running average of the weights, updated after the step as

    ``W_ra <- (W_ra + W) / 2 - g_t / (2 alpha)``,  ``g_t`` = the gradient of ``l_t`` at the new weights,

with ``l_t`` re-evaluated from the state the network had before step ``t``. The squared distance is
averaged over each parameter's elements (``reduction="mean"``, as SpikingJelly does) or summed
(``"sum"``, the paper's norm).

**OTTT** (Online Training Through Time; Xiao et al. 2022). The potential is not differentiated through
time; instead every linear or convolution layer keeps an eligibility trace of its input,
``a_t = decay * a_{t-1} + x_t`` (``decay = 1 - 1/tau`` of the neurons feeding it), and its weight gradient
at step ``t`` is that of the layer evaluated on ``a_t``, while the forward value stays that of ``x_t``
and the gradient reaching ``x_t`` is the layer's input gradient. :class:`OTTTTraces` installs this on a
network; the weights are updated at every step (``online=True``, OTTT_O) or once per sequence with the
gradients summed over the steps (OTTT_A).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn.base import StepModule

__all__ = [
    "OTTTTraces",
    "fptt_init_running_average",
    "fptt_online_training",
    "fptt_online_training_init_w_ra",
    "fptt_regularizer",
    "fptt_sequence",
    "fptt_update_running_average",
    "ottt_online_training",
    "ottt_sequence",
    "single_step",
]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Reduction = Literal["mean", "sum"]
TRACED_LAYERS: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
"""The layers whose weight gradients :class:`OTTTTraces` takes from the input trace."""


def _params(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


def _check_alpha(alpha: float) -> None:
    if not alpha > 0:
        raise ConfigError(f"Expected a positive FPTT alpha. Got {alpha!r} instead (e.g. alpha=0.5).")


# -- FPTT ------------------------------------------------------------------------------------------------


def fptt_init_running_average(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    """The running average ``W_ra`` at the start of training: a detached copy of every optimized parameter."""
    return [p.detach().clone() for p in _params(optimizer)]


def fptt_regularizer(params: Iterable[torch.Tensor], w_ra: list[torch.Tensor], grads: list[torch.Tensor | None],
                     alpha: float, reduction: Reduction = "mean") -> torch.Tensor:
    """``alpha / 2 * sum_i d(W_i, W_ra_i + g_i / (2 alpha))``, ``d`` the mean or summed squared difference.

    ``grads[i]`` is the previous step's loss gradient for parameter ``i`` (``None``: zero).
    """
    _check_alpha(alpha)
    total: torch.Tensor | None = None
    for w, ra, g in zip(params, w_ra, grads, strict=True):
        target = ra if g is None else ra + g / (2.0 * alpha)
        sq = (w - target).pow(2)
        term = sq.mean() if reduction == "mean" else sq.sum()
        total = term if total is None else total + term
    if total is None:
        raise ConfigError("FPTT got an optimizer without parameters: pass the optimizer of the trained network.")
    return total * (alpha / 2.0)


@torch.no_grad()
def fptt_update_running_average(w_ra: list[torch.Tensor], params: Iterable[torch.Tensor],
                                grads: list[torch.Tensor | None], alpha: float) -> None:
    """``W_ra <- (W_ra + W) / 2 - g / (2 alpha)`` in place (``g``: the step's loss gradient at the new weights)."""
    _check_alpha(alpha)
    for ra, w, g in zip(w_ra, params, grads, strict=True):
        ra.add_(w).mul_(0.5)
        if g is not None:
            ra.sub_(g, alpha=1.0 / (2.0 * alpha))


def _stateful(model: nn.Module) -> list[StepModule]:
    return [m for m in model.modules() if isinstance(m, StepModule)]


def _snapshot(model: nn.Module) -> tuple[list[dict[str, Any]], list[torch.Tensor]]:
    """What a forward step changes: the attributes of the stateful modules and a copy of the buffers."""
    return [dict(vars(m)) for m in _stateful(model)], [b.detach().clone() for b in model.buffers()]


def _restore(model: nn.Module, snap: tuple[list[dict[str, Any]], list[torch.Tensor]]) -> None:
    attrs, buffers = snap
    for m, saved in zip(_stateful(model), attrs, strict=True):
        vars(m).update(saved)
    with torch.no_grad():
        for b, saved_b in zip(model.buffers(), buffers, strict=True):
            b.copy_(saved_b)


def _detach_net(model: nn.Module) -> None:
    for m in _stateful(model):
        m.detach()


def _grads(params: list[torch.Tensor]) -> list[torch.Tensor | None]:
    return [None if p.grad is None else p.grad.detach().clone() for p in params]


def fptt_sequence(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x_seq: torch.Tensor,
    target_seq: torch.Tensor,
    f_loss_t: LossFn,
    alpha: float,
    w_ra: list[torch.Tensor],
    *,
    reduction: Reduction = "mean",
    before_step: Callable[[], None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One FPTT pass over ``x_seq [T, N, ...]``: ``T`` optimizer steps, ``w_ra`` updated in place.

    ``model`` takes one step ``[N, ...]`` per call and carries its state (single-step mode); ``f_loss_t``
    maps ``(output_t, target_seq[t])`` to a scalar. ``before_step`` runs after each backward pass, before
    the optimizer step (e.g. gradient clipping). Returns the mean of the ``T`` step losses and the outputs
    ``[T, N, ...]`` (both detached).
    """
    _check_alpha(alpha)
    params = _params(optimizer)
    if len(params) != len(w_ra):
        raise ConfigError(
            f"FPTT running average has {len(w_ra)} tensors but the optimizer {len(params)} parameters: "
            "build it with fptt_init_running_average(optimizer) for this optimizer."
        )
    prev: list[torch.Tensor | None] = [None] * len(params)
    losses, outs = [], []
    for t in range(x_seq.shape[0]):
        before = _snapshot(model)
        optimizer.zero_grad(set_to_none=True)
        y_t = model(x_seq[t])
        loss_t = f_loss_t(y_t, target_seq[t])
        (loss_t + fptt_regularizer(params, w_ra, prev, alpha, reduction)).backward()
        if before_step is not None:
            before_step()
        optimizer.step()
        _detach_net(model)
        losses.append(loss_t.detach())
        outs.append(y_t.detach())
        # the step's loss at the new weights, from the state before the step
        after = _snapshot(model)
        _restore(model, before)
        optimizer.zero_grad(set_to_none=True)
        f_loss_t(model(x_seq[t]), target_seq[t]).backward()
        prev = _grads(params)
        optimizer.zero_grad(set_to_none=True)
        _restore(model, after)
        fptt_update_running_average(w_ra, params, prev, alpha)
    return torch.stack(losses).mean(), torch.stack(outs)


def fptt_online_training(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x_seq: torch.Tensor,
    target_seq: torch.Tensor,
    f_loss_t: LossFn,
    alpha: float,
    w_ra: list[torch.Tensor],
) -> None:
    """SpikingJelly's name and signature for :func:`fptt_sequence` (time-first ``x_seq [T, N, ...]``)."""
    fptt_sequence(model, optimizer, x_seq, target_seq, f_loss_t, alpha, w_ra)


fptt_online_training_init_w_ra = fptt_init_running_average
"""SpikingJelly's name of :func:`fptt_init_running_average`."""


# -- OTTT ------------------------------------------------------------------------------------------------


class _ValueOf(torch.autograd.Function):
    """``value_of(grad_path, value)``: the value of ``value``; the incoming gradient goes to both inputs."""

    @staticmethod
    def forward(ctx: Any, grad_path: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        return value.view_as(value)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return grad, grad


class OTTTTraces:
    """OTTT's eligibility traces on every linear and convolution layer of ``model`` (forward hooks).

    While installed (``with OTTTTraces(net, decay):`` or :meth:`install` / :meth:`remove`), a layer in
    training mode under autograd returns its usual output, but its weight gradient is taken at its input
    trace ``a_t = decay * a_{t-1} + x_t``. Call :meth:`reset` between sequences. Combine with a network
    run step by step whose state is detached after every step (:func:`ottt_sequence` does both).
    """

    def __init__(self, model: nn.Module, decay: float = 0.5, layers: tuple[type[nn.Module], ...] = TRACED_LAYERS):
        if not 0.0 <= decay < 1.0:
            raise ConfigError(f"Expected an OTTT trace decay in [0, 1). Got {decay!r} instead (1 - 1/tau, e.g. 0.5).")
        self.model = model
        self.decay = decay
        self.layers = layers
        self.traces: dict[nn.Module, torch.Tensor] = {}
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def _hook(self, module: nn.Module, args: tuple[Any, ...], out: torch.Tensor) -> torch.Tensor:
        if not (module.training and torch.is_grad_enabled()):
            return out
        x = args[0]
        with torch.no_grad():
            prev = self.traces.get(module)
            trace = x.detach() if prev is None else prev * self.decay + x
        self.traces[module] = trace
        grad_path = type(module).forward(module, _ValueOf.apply(x, trace))  # value: layer(trace)
        return _ValueOf.apply(grad_path, out.detach())

    def install(self) -> OTTTTraces:
        """Hook every traced layer (idempotent)."""
        if not self._handles:
            self._handles = [m.register_forward_hook(self._hook) for m in self.model.modules()
                             if isinstance(m, self.layers)]
        return self

    def remove(self) -> None:
        """Unhook and forget the traces."""
        for h in self._handles:
            h.remove()
        self._handles = []
        self.reset()

    def reset(self) -> None:
        """Forget the traces (a new sequence starts)."""
        self.traces = {}

    def __enter__(self) -> OTTTTraces:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.remove()


def ottt_sequence(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x_seq: torch.Tensor,
    target_seq: torch.Tensor,
    f_loss_t: LossFn,
    *,
    decay: float = 0.5,
    online: bool = True,
    before_step: Callable[[], None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One OTTT pass over ``x_seq [T, N, ...]`` of a single-step ``model``; traces start afresh.

    ``online=True`` steps the optimizer after every time step (OTTT_O), ``False`` once with the gradients
    summed over the steps (OTTT_A). ``before_step`` runs before each optimizer step. Returns the mean step
    loss and the outputs ``[T, N, ...]`` (detached).
    """
    losses, outs = [], []
    with OTTTTraces(model, decay):
        optimizer.zero_grad(set_to_none=True)
        for t in range(x_seq.shape[0]):
            if online:
                optimizer.zero_grad(set_to_none=True)
            y_t = model(x_seq[t])
            loss_t = f_loss_t(y_t, target_seq[t])
            loss_t.backward()
            _detach_net(model)
            if online:
                if before_step is not None:
                    before_step()
                optimizer.step()
            losses.append(loss_t.detach())
            outs.append(y_t.detach())
        if not online:
            if before_step is not None:
                before_step()
            optimizer.step()
    return torch.stack(losses).mean(), torch.stack(outs)


def ottt_online_training(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x_seq: torch.Tensor,
    target_seq: torch.Tensor,
    f_loss_t: LossFn,
    online: bool,
    decay: float = 0.5,
) -> tuple[torch.Tensor, torch.Tensor]:
    """SpikingJelly's name and layout: ``x_seq`` and ``target_seq`` batch-first ``[N, T, ...]``.

    Returns the summed step losses and the outputs ``[N, T, ...]``, as SpikingJelly does; the traces are
    installed for the call (:func:`ottt_sequence`), so ``model`` is any single-step network.
    """
    mean, outs = ottt_sequence(model, optimizer, x_seq.transpose(0, 1), target_seq.transpose(0, 1), f_loss_t,
                               decay=decay, online=online)
    return mean * x_seq.shape[1], outs.transpose(0, 1)


@contextmanager
def single_step(model: nn.Module) -> Iterator[nn.Module]:
    """Run ``model`` in single-step mode inside the block, at rest on entry and exit; its modes are restored."""
    from eventpipe.snn.layer import KEEPS_CHILD_STEP_MODE

    modules = _stateful(model)
    modes = [m.step_mode for m in modules]
    kept = {id(c) for k in model.modules() if isinstance(k, KEEPS_CHILD_STEP_MODE) for c in k.modules() if c is not k}
    for m in modules:
        m.reset()
        if id(m) not in kept:
            m.step_mode = "s"
    try:
        yield model
    finally:
        for m, mode in zip(modules, modes, strict=True):
            m.step_mode = mode
            m.reset()
