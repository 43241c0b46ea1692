"""What the fused GPU kernel backends (``cupy``, ``triton``) share around their launches.

Both kernels take the same buffers and scalars and return the same gradients, so the autograd
functions differ only in how they launch: the buffers, the saved context, the gradients handed back
and the entry point (learned decay, empty input) are built here once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch

from eventpipe.snn.dynamics import NeuronSpec

MultistepResult = tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]


class ForwardBuffers(NamedTuple):
    """The forward kernel's inputs (``x_seq`` contiguous, ``v0``, ``k_dev``) and outputs."""

    x_seq: torch.Tensor
    v0: torch.Tensor | None
    k_dev: torch.Tensor | None
    h_seq: torch.Tensor
    s_seq: torch.Tensor
    v_seq: torch.Tensor | None
    v_last: torch.Tensor
    steps: int
    numel: int


def fixed_decay(spec: NeuronSpec) -> float:
    """The decay passed by value: ``1/tau`` for LIF (PLIF reads ``k`` from memory, IF ignores it)."""
    return 1.0 / spec.tau if spec.kind == "lif" else 1.0


def forward_buffers(x_seq: torch.Tensor, v0: torch.Tensor | None, k_tensor: torch.Tensor | None,
                    need_v_seq: bool) -> ForwardBuffers:
    """Contiguous inputs, ``k`` as one float32, and empty outputs shaped like ``x_seq``.

    ``v0`` is the initial potential as the backend's kernel reads it (its dtype is the backend's choice).
    """
    x_seq = x_seq.contiguous()
    k_dev = None if k_tensor is None else k_tensor.detach().to(torch.float32).reshape(1).contiguous()
    return ForwardBuffers(
        x_seq=x_seq, v0=None if v0 is None else v0.contiguous(), k_dev=k_dev,
        h_seq=torch.empty_like(x_seq), s_seq=torch.empty_like(x_seq),
        v_seq=torch.empty_like(x_seq) if need_v_seq else None, v_last=torch.empty_like(x_seq[0]),
        steps=x_seq.shape[0], numel=x_seq[0].numel(),
    )


def save_forward(ctx: Any, spec: NeuronSpec, v_init: torch.Tensor | None, k_tensor: torch.Tensor | None,
                 buffers: ForwardBuffers) -> MultistepResult:
    """Keep what the backward pass needs; return the forward outputs ``(s_seq, v_seq, v_last)``."""
    ctx.spec = spec
    ctx.v_init_dtype = None if v_init is None else v_init.dtype
    ctx.k_meta = None if k_tensor is None else (k_tensor.shape, k_tensor.dtype)
    ctx.save_for_backward(buffers.h_seq, buffers.v0, buffers.k_dev)
    return buffers.s_seq, buffers.v_seq, buffers.v_last


def backward_outputs(ctx: Any, grad_x: torch.Tensor, grad_v_init: torch.Tensor | None,
                     grad_decay: torch.Tensor | None) -> tuple[torch.Tensor | None, ...]:
    """The gradients for ``(x_seq, v_init, k, spec, need_v_seq)`` in the inputs' shapes and dtypes."""
    grad_k = None
    if ctx.needs_input_grad[2] and grad_decay is not None:
        shape, kdtype = ctx.k_meta
        grad_k = grad_decay.reshape(shape).to(kdtype)
    if grad_v_init is not None:
        grad_v_init = grad_v_init.to(ctx.v_init_dtype)
    return (grad_x if ctx.needs_input_grad[0] else None), grad_v_init, grad_k, None, None


def run_kernels(apply: Callable[..., MultistepResult], x_seq: torch.Tensor, spec: NeuronSpec,
                v_init: torch.Tensor | None, k: torch.Tensor | None, need_v_seq: bool) -> MultistepResult:
    """``apply(x_seq, v_init, k, spec, need_v_seq)`` with the learned decay resolved; an empty input
    goes to the torch loop, which handles empty shapes exactly (there is nothing to launch)."""
    k = spec.learned_decay(k)
    if x_seq.numel() == 0:
        from eventpipe.snn.fused import fused_multistep

        return fused_multistep(x_seq, spec, v_init, k, need_v_seq)
    return apply(x_seq, v_init, k, spec, need_v_seq)
