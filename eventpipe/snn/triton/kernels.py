"""Triton kernels of the fused IF / LIF / parametric-LIF neurons: the forward pass over T and BPTT.

One program owns a block of neurons and loops over the T steps with the membrane in registers; every
sequence buffer is ``[T, N]`` flattened, as for the CUDA kernels. The arithmetic is that of
``snn/cuda/neuron.cu`` (see its header), operation by operation, in float32 for every storage dtype: ``H`` is
rounded to the storage dtype once per step and the spike and reset use the rounded value, so float32 spikes
match the torch backend bit for bit and the backward pass recomputes them from ``h_seq`` alone.

Codes: ``KIND`` 0 IF, 1 LIF, 2 PLIF; ``SG`` is :attr:`eventpipe.snn.surrogate.Surrogate.cuda_code`.
Importing this module imports Triton; with ``TRITON_INTERPRET=1`` set before Triton is imported, the
kernels run on CPU tensors through Triton's interpreter.
"""

from __future__ import annotations

import triton
import triton.language as tl

__all__ = ["neuron_backward", "neuron_forward"]


@triton.jit
def _charge(x, v, k, v_reset, KIND: tl.constexpr, DECAY_INPUT: tl.constexpr):
    if KIND == 0:
        h = v + x
    elif DECAY_INPUT:
        h = v + (x - (v - v_reset)) * k
    else:
        h = (v - (v - v_reset) * k) + x
    return h


@triton.jit
def _reset(h, s, v_threshold, v_reset, HARD_RESET: tl.constexpr):
    v = tl.where(s != 0.0, v_reset, h) if HARD_RESET else h - s * v_threshold
    return v


@triton.jit
def _surrogate_grad(x, alpha, SG: tl.constexpr):
    if SG == 0:  # sigmoid
        sg = 1.0 / (1.0 + tl.exp(-alpha * x))
        g = alpha * sg * (1.0 - sg)
    elif SG == 1:  # atan
        z = 1.57079632679489662 * alpha * x
        g = 0.5 * alpha / (1.0 + z * z)
    elif SG == 2:  # piecewise quadratic
        ax = tl.abs(x)
        g = tl.where(ax > 1.0 / alpha, 0.0, alpha - alpha * alpha * ax)
    elif SG == 3:  # soft sign
        d = 1.0 / alpha + tl.abs(x)
        g = 1.0 / (2.0 * alpha * d * d)
    elif SG == 4:  # erf
        z = alpha * x
        g = tl.exp(-z * z) * alpha * 0.56418958354775628
    else:  # piecewise exp
        g = 0.5 * alpha * tl.exp(-alpha * tl.abs(x))
    return g


@triton.jit
def neuron_forward(
    x_ptr, v_init_ptr, h_ptr, s_ptr, v_seq_ptr, v_last_ptr, k_ptr,
    decay, v_threshold, v_reset, steps, numel,
    KIND: tl.constexpr, HARD_RESET: tl.constexpr, DECAY_INPUT: tl.constexpr,
    HAS_V_INIT: tl.constexpr, STORE_V_SEQ: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    """Fill ``h_ptr``, ``s_ptr`` (and ``v_seq_ptr``) ``[T, numel]`` and ``v_last_ptr`` ``[numel]``."""
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < numel
    k = tl.load(k_ptr) if KIND == 2 else decay
    if HAS_V_INIT:
        v = tl.load(v_init_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    else:
        v = tl.zeros([BLOCK], dtype=tl.float32) + v_reset
    j = offs
    for _ in range(steps):
        x = tl.load(x_ptr + j, mask=mask, other=0.0).to(tl.float32)
        h_stored = _charge(x, v, k, v_reset, KIND, DECAY_INPUT).to(h_ptr.dtype.element_ty)
        tl.store(h_ptr + j, h_stored, mask=mask)
        h = h_stored.to(tl.float32)
        s = tl.where(h - v_threshold >= 0.0, 1.0, 0.0)
        tl.store(s_ptr + j, s.to(s_ptr.dtype.element_ty), mask=mask)
        v = _reset(h, s, v_threshold, v_reset, HARD_RESET)
        if STORE_V_SEQ:
            tl.store(v_seq_ptr + j, v.to(v_seq_ptr.dtype.element_ty), mask=mask)
        j += numel
    tl.store(v_last_ptr + offs, v.to(v_last_ptr.dtype.element_ty), mask=mask)


@triton.jit
def neuron_backward(
    grad_s_ptr, grad_v_seq_ptr, grad_v_last_ptr, h_ptr, v_init_ptr, grad_x_ptr, grad_v_init_ptr,
    grad_decay_ptr, k_ptr, decay, v_threshold, v_reset, alpha, steps, numel,
    KIND: tl.constexpr, HARD_RESET: tl.constexpr, DECAY_INPUT: tl.constexpr, DETACH_RESET: tl.constexpr,
    SG: tl.constexpr, HAS_GRAD_S: tl.constexpr, HAS_GRAD_V_SEQ: tl.constexpr,
    HAS_GRAD_V_LAST: tl.constexpr, HAS_V_INIT: tl.constexpr, STORE_GRAD_V_INIT: tl.constexpr,
    BLOCK: tl.constexpr,
):  # fmt: skip
    """Fill ``grad_x_ptr`` (and ``grad_v_init_ptr``) walking t = T-1 .. 0; PLIF adds dL/dk to ``grad_decay_ptr``."""
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < numel
    k = tl.load(k_ptr) if KIND == 2 else decay
    dh_dv = 1.0 if KIND == 0 else 1.0 - k
    dh_dx = k if KIND != 0 and DECAY_INPUT else 1.0
    if HAS_GRAD_V_LAST:
        grad_v = tl.load(grad_v_last_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    else:
        grad_v = tl.zeros([BLOCK], dtype=tl.float32)
    if HAS_V_INIT:
        v0 = tl.load(v_init_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    else:
        v0 = tl.zeros([BLOCK], dtype=tl.float32) + v_reset
    grad_k = tl.zeros([BLOCK], dtype=tl.float32)  # this block's share of dL/dk (PLIF)
    j = offs + (tl.zeros([BLOCK], dtype=tl.int64) + (steps - 1)) * numel  # int64: T * N may pass 2**31
    h = tl.load(h_ptr + j, mask=mask, other=0.0).to(tl.float32)
    for i in range(steps):
        t = steps - 1 - i
        # the charge of step t - 1 (its reset gives V[t-1] for PLIF); loaded once, reused next iteration
        has_prev = (tl.zeros([BLOCK], dtype=tl.int32) + t) > 0
        h_prev = tl.load(h_ptr + j - numel, mask=mask & has_prev, other=0.0).to(tl.float32)
        u = h - v_threshold
        s = tl.where(u >= 0.0, 1.0, 0.0)
        g = _surrogate_grad(u, alpha, SG)
        if HAS_GRAD_V_SEQ:
            grad_v += tl.load(grad_v_seq_ptr + j, mask=mask, other=0.0).to(tl.float32)
        if HARD_RESET:
            dv_dh = 1.0 - s if DETACH_RESET else 1.0 - s + (v_reset - h) * g
        else:
            dv_dh = tl.zeros([BLOCK], dtype=tl.float32) + 1.0 if DETACH_RESET else 1.0 - v_threshold * g
        if HAS_GRAD_S:
            grad_s = tl.load(grad_s_ptr + j, mask=mask, other=0.0).to(tl.float32)
        else:
            grad_s = tl.zeros([BLOCK], dtype=tl.float32)
        grad_h = grad_s * g + grad_v * dv_dh
        tl.store(grad_x_ptr + j, (grad_h * dh_dx).to(grad_x_ptr.dtype.element_ty), mask=mask)
        if KIND == 2:
            s_prev = tl.where(h_prev - v_threshold >= 0.0, 1.0, 0.0)
            v_before = tl.where(has_prev, _reset(h_prev, s_prev, v_threshold, v_reset, HARD_RESET), v0)
            if DECAY_INPUT:
                grad_k += tl.where(mask, grad_h * ((h - v_before) / k), 0.0)
            else:
                grad_k += tl.where(mask, grad_h * (v_reset - v_before), 0.0)
        grad_v = grad_h * dh_dv
        h = h_prev
        j -= numel
    if STORE_GRAD_V_INIT:
        tl.store(grad_v_init_ptr + offs, grad_v.to(grad_v_init_ptr.dtype.element_ty), mask=mask)
    if KIND == 2:
        tl.atomic_add(grad_decay_ptr, tl.sum(grad_k, axis=0))
