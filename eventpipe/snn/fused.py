"""The ``torch`` backend: a fused multi-step neuron with a hand-written backward pass through time.

The forward pass loops over T without recording autograd and keeps only the charged potential ``h_seq``
(``[T, N, ...]``, in the input dtype), which is all BPTT needs: spikes, resets and surrogate gradients are
recomputed from it. The backward pass walks the steps in reverse:

``dL/dH[t] = dL/dS[t] g'[t] + dL/dV[t] dV/dH[t]``, with ``dL/dV[t] = dL/dv_seq[t] + dL/dH[t+1] dH/dV``,

``dL/dX[t] = dL/dH[t] dH/dX``, and for PLIF ``dL/dk = sum over t, i of dL/dH[t] dH/dk[t]``.

Both passes work on preallocated one-step buffers with in-place operations and allocate nothing per step;
on the CPU they run over chunks of neurons whose buffers stay in cache (see ``_CPU_CHUNK``), so only the
``[T, N]`` sequences stream through memory, and the chunks are shared out over PyTorch's threads
(:func:`_each_chunk`; the gain from more threads is bounded by the steps' Python dispatch).
``eventpipe bench neurons`` compares them with autograd through an explicit step loop (figures in
``docs/benchmarks.md``).

Half-precision inputs (float16, bfloat16) are integrated in float32; ``H`` is rounded to the input dtype
once per step (the stored value) and the spike and reset use that rounded value, exactly like the CUDA
kernels in ``snn/cuda/neuron.cu``. Both backends write the charge in the same operation order, so for float32
they produce bit-identical spikes.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import torch
from torch.autograd.function import once_differentiable

from eventpipe.snn.dynamics import NeuronSpec

__all__ = ["compute_dtype", "fused_multistep"]

T = TypeVar("T")

# Neurons per chunk on the CPU. A chunk's ~6 one-step buffers (128 KiB each in float32) stay in L2, so the
# per-step operations run from cache and only the [T, N] sequences stream through memory; and 32768 elements
# is PyTorch's parallel grain, so each operation runs on one core without a thread barrier. Whole-tensor
# (multi-threaded) operations per step lost to this: each one streams the whole state through memory and
# waits at a thread barrier (``eventpipe bench neurons`` times the fused backend).
_CPU_CHUNK = 1 << 15


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the membrane is integrated in: float32 for 16-bit floats, else ``dtype`` itself."""
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def _charge_into(
    out: torch.Tensor, x: torch.Tensor, v: torch.Tensor, tmp: torch.Tensor, spec: NeuronSpec, k: Any
) -> None:
    """``out = H(x, v)`` in the operation order of ``neuron.cu`` (``tmp`` is scratch)."""
    if spec.kind == "if":
        torch.add(v, x, out=out)
        return
    vr = spec.v_rest
    if spec.decay_input:  # H = V + (X - (V - Vr)) * k
        if vr:
            torch.sub(v, vr, out=tmp)
            torch.sub(x, tmp, out=tmp)
        else:
            torch.sub(x, v, out=tmp)
        tmp.mul_(k)
        torch.add(v, tmp, out=out)
    else:  # H = (V - (V - Vr) * k) + X
        torch.sub(v, vr, out=tmp) if vr else tmp.copy_(v)
        tmp.mul_(k)
        torch.sub(v, tmp, out=tmp)
        torch.add(tmp, x, out=out)


def _reset(h: torch.Tensor, s: torch.Tensor, spec: NeuronSpec) -> torch.Tensor:
    """The potential after the reset for spikes ``s`` (binary, or in [0, 1] with a smooth surrogate)."""
    if spec.v_reset is None:
        return h - s * spec.v_threshold
    return h * (1.0 - s) + spec.v_reset * s


def _forward(
    x_seq: torch.Tensor,
    spec: NeuronSpec,
    v0: torch.Tensor,
    k: Any,
    h_seq: torch.Tensor | None,
    s_seq: torch.Tensor,
    v_seq: torch.Tensor | None,
) -> torch.Tensor:
    """Fill ``s_seq`` (and ``h_seq``, ``v_seq`` if given) for ``x_seq`` ``[T, M]``; return ``v_last``."""
    cd = v0.dtype
    rounds = cd != x_seq.dtype
    v = v0.clone()
    tmp = torch.empty_like(v)
    h_step = torch.empty_like(v)
    x_step = torch.empty_like(v) if rounds else None
    fired = torch.empty(v.shape, dtype=torch.bool, device=v.device)
    v_reset = torch.tensor(spec.v_rest, dtype=cd, device=v.device)
    spiking = spec.surrogate.spiking

    for t in range(x_seq.shape[0]):
        xt = x_step.copy_(x_seq[t]) if x_step is not None else x_seq[t]
        # write H straight into the saved buffer when no rounding is needed
        h = h_seq[t] if (h_seq is not None and not rounds) else h_step
        _charge_into(h, xt, v, tmp, spec, k)
        if rounds:  # the spike and reset see H as stored in the input dtype
            if h_seq is not None:
                h_seq[t].copy_(h)
                h.copy_(h_seq[t])
            else:
                h.copy_(h.to(x_seq.dtype))
        if spiking:
            torch.ge(h, spec.v_threshold, out=fired)
            s_seq[t].copy_(fired)
            if spec.v_reset is None:
                torch.sub(h, s_seq[t], alpha=spec.v_threshold, out=v)
            else:
                torch.where(fired, v_reset, h, out=v)
        else:
            s = spec.surrogate.primitive(h - spec.v_threshold)
            s_seq[t].copy_(s)
            v.copy_(_reset(h, s, spec))
        if v_seq is not None:
            v_seq[t].copy_(v)
    return v


def _backward(
    h_seq: torch.Tensor,
    v0: torch.Tensor,
    spec: NeuronSpec,
    k: Any,
    grad_s_seq: torch.Tensor | None,
    grad_v_seq: torch.Tensor | None,
    grad_v_last: torch.Tensor | None,
    grad_x: torch.Tensor,
    want_k: bool,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Fill ``grad_x`` (``[T, M]``, input dtype) walking t = T-1 .. 0; return ``(dL/dv_init, dL/dk)``."""
    cd = v0.dtype
    rounds = cd != h_seq.dtype
    steps = h_seq.shape[0]
    sg = spec.surrogate
    vth, vr = spec.v_threshold, spec.v_rest
    hard = spec.v_reset is not None
    dh_dx = None if (spec.kind == "if" or not spec.decay_input) else k
    dh_dv = None if spec.kind == "if" else 1.0 - k

    h_step = torch.empty_like(v0) if rounds else None
    g = torch.empty_like(v0)  # surrogate gradient at this step
    not_fired = torch.empty_like(v0)  # 1 - S (spiking surrogates)
    gh = torch.empty_like(v0)  # dL/dH[t]
    tmp = torch.empty_like(v0)
    grad_v = torch.zeros_like(v0)  # dL/dV[t] from the steps after t
    has_grad_v = grad_v_last is not None
    if grad_v_last is not None:
        grad_v.copy_(grad_v_last)
    grad_k = torch.zeros((), dtype=cd, device=v0.device) if want_k else None

    for t in range(steps - 1, -1, -1):
        h = h_step.copy_(h_seq[t]) if h_step is not None else h_seq[t]
        if grad_v_seq is not None:
            grad_v.add_(grad_v_seq[t])
            has_grad_v = True
        torch.sub(h, vth, out=g)
        sg.derivative_(g)
        if grad_s_seq is not None:
            torch.mul(grad_s_seq[t], g, out=gh)
        else:
            gh.zero_()
        if has_grad_v:  # gh += dL/dV[t] * dV/dH[t]
            if not sg.spiking:
                s = sg.primitive(h - vth)
                if hard:
                    dv_dh = (1.0 - s) if spec.detach_reset else (1.0 - s) + (vr - h) * g
                else:
                    dv_dh = torch.ones_like(h) if spec.detach_reset else 1.0 - vth * g
                gh.addcmul_(grad_v, dv_dh)
            elif hard:  # (1 - S) + (Vr - H) g
                torch.lt(h, vth, out=not_fired)
                gh.addcmul_(grad_v, not_fired)
                if not spec.detach_reset:
                    torch.mul(g, grad_v, out=tmp)
                    gh.addcmul_(tmp, h, value=-1.0)
                    if vr:
                        gh.add_(tmp, alpha=vr)
            else:  # 1 - Vth g
                gh.add_(grad_v)
                if not spec.detach_reset:
                    gh.addcmul_(grad_v, g, value=-vth)
        if dh_dx is None:
            grad_x[t].copy_(gh)
        else:
            torch.mul(gh, dh_dx, out=grad_x[t])
        if grad_k is not None:
            grad_k.add_(torch.sum(gh * _dh_dk(h_seq, t, v0, spec, k)))
        if dh_dv is None:
            grad_v.copy_(gh)
        else:
            torch.mul(gh, dh_dv, out=grad_v)
        has_grad_v = True
    return grad_v, grad_k


def _dh_dk(h_seq: torch.Tensor, t: int, v0: torch.Tensor, spec: NeuronSpec, k: torch.Tensor) -> torch.Tensor:
    """``dH[t]/dk`` of a parametric LIF neuron: ``(H - V[t-1]) / k`` (decay_input) or ``Vr - V[t-1]``."""
    cd = v0.dtype
    if t == 0:
        v_prev = v0
    else:
        h_prev = h_seq[t - 1].to(cd)
        u = h_prev - spec.v_threshold
        s_prev = (u >= 0).to(cd) if spec.surrogate.spiking else spec.surrogate.primitive(u)
        v_prev = _reset(h_prev, s_prev, spec)
    if spec.decay_input:  # H - V = (X - (V - Vr)) k
        return (h_seq[t].to(cd) - v_prev) / k
    return spec.v_rest - v_prev


def _column_chunks(columns: int, device: torch.device) -> list[slice]:
    """Neuron ranges processed one after the other: on the CPU a chunk's one-step buffers stay in cache."""
    size = _CPU_CHUNK if device.type == "cpu" else max(columns, 1)
    return [slice(start, min(start + size, columns)) for start in range(0, columns, size)]


def _each_chunk(fn: Callable[[slice], T], chunks: list[slice]) -> list[T]:
    """``fn(c)`` for every chunk, in order of the result list. On the CPU the chunks are shared out
    over ``torch.get_num_threads()`` threads: neurons are independent, each chunk's operations are
    too small for PyTorch to split over cores, and PyTorch releases the GIL while it computes. A chunk
    gives the same result on any thread, so the outputs do not depend on the thread count."""
    threads = min(torch.get_num_threads(), len(chunks))
    if threads <= 1:
        return [fn(c) for c in chunks]
    grad_mode = torch.is_grad_enabled()  # thread-local: off inside autograd functions

    def run(c: slice) -> T:
        with torch.set_grad_enabled(grad_mode):
            return fn(c)

    with ThreadPoolExecutor(threads, thread_name_prefix="eventpipe-neurons") as pool:
        return list(pool.map(run, chunks))


def _cols(t: torch.Tensor | None, c: slice) -> torch.Tensor | None:
    """Columns ``c`` (neurons) of a ``[T, M]`` or ``[M]`` tensor, or ``None``."""
    return None if t is None else t[..., c]


class _FusedNeuron(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        x_seq: torch.Tensor,
        v_init: torch.Tensor | None,
        k_tensor: torch.Tensor | None,
        spec: NeuronSpec,
        need_v_seq: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        ctx.set_materialize_grads(False)
        cd = compute_dtype(x_seq.dtype)
        steps, shape = x_seq.shape[0], x_seq.shape[1:]
        x2 = x_seq.reshape(steps, shape.numel())
        k = k_tensor.detach().to(cd) if k_tensor is not None else spec.decay()
        v0 = (
            torch.full(shape, spec.v_rest, dtype=cd, device=x_seq.device)
            if v_init is None
            else v_init.detach().to(cd)
        )
        v0 = v0.reshape(-1)
        h2 = torch.empty_like(x2) if any(ctx.needs_input_grad[:3]) else None
        s2 = torch.empty_like(x2)
        v2 = torch.empty_like(x2) if need_v_seq else None
        v_last = v0.clone()

        def forward_chunk(c: slice) -> None:
            v_last[c] = _forward(x2[:, c], spec, v0[c], k, _cols(h2, c), s2[:, c], _cols(v2, c))

        _each_chunk(forward_chunk, _column_chunks(x2.shape[1], x2.device))
        ctx.spec = spec
        ctx.x_shape = x_seq.shape
        ctx.v_init_dtype = None if v_init is None else v_init.dtype
        if h2 is not None:
            ctx.save_for_backward(h2, v0, k_tensor)
        return (
            s2.view(x_seq.shape),
            None if v2 is None else v2.view(x_seq.shape),
            v_last.view(shape).to(x_seq.dtype),
        )

    @staticmethod
    @once_differentiable
    def backward(
        ctx: Any,
        grad_s_seq: torch.Tensor | None,
        grad_v_seq: torch.Tensor | None,
        grad_v_last: torch.Tensor | None,
    ) -> tuple[torch.Tensor | None, ...]:
        h2, v0, k_tensor = ctx.saved_tensors
        spec: NeuronSpec = ctx.spec
        k = k_tensor.to(v0.dtype) if k_tensor is not None else spec.decay()
        want_x, want_v0, want_k = ctx.needs_input_grad[:3]

        gs2 = None if grad_s_seq is None else grad_s_seq.reshape(h2.shape)
        gv2 = None if grad_v_seq is None else grad_v_seq.reshape(h2.shape)
        gl = None if grad_v_last is None else grad_v_last.reshape(-1)
        grad_x = torch.empty_like(h2)
        grad_v = torch.empty_like(v0)
        grad_k = torch.zeros((), dtype=v0.dtype, device=v0.device) if want_k else None

        def backward_chunk(c: slice) -> torch.Tensor | None:
            grad_v[c], chunk_k = _backward(
                h2[:, c], v0[c], spec, k, _cols(gs2, c), _cols(gv2, c), _cols(gl, c), grad_x[:, c], want_k
            )
            return chunk_k

        for chunk_k in _each_chunk(backward_chunk, _column_chunks(h2.shape[1], h2.device)):
            if grad_k is not None and chunk_k is not None:  # summed in chunk order: deterministic
                grad_k += chunk_k
        return (
            grad_x.view(ctx.x_shape) if want_x else None,
            grad_v.view(ctx.x_shape[1:]).to(ctx.v_init_dtype) if want_v0 else None,
            grad_k.reshape(k_tensor.shape).to(k_tensor.dtype)
            if (grad_k is not None and k_tensor is not None)
            else None,
            None,
            None,
        )


def fused_multistep(
    x_seq: torch.Tensor,
    spec: NeuronSpec,
    v_init: torch.Tensor | None = None,
    k: torch.Tensor | None = None,
    need_v_seq: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Run ``spec`` over ``x_seq`` ``[T, N, ...]``: ``(spikes, v_seq or None, v_last)`` in the input dtype.

    Parameters
    ----------
    x_seq:
        Input current per step, time first.
    spec:
        The neuron.
    v_init:
        Initial membrane potential ``[N, ...]`` (default: rest). Gradients flow into it.
    k:
        PLIF only: the decay ``sigmoid(w)`` as a tensor (gradients flow into it).
    need_v_seq:
        Also return the potential after each step's reset, ``[T, N, ...]`` (differentiable).
    """
    return _FusedNeuron.apply(x_seq, v_init, spec.learned_decay(k), spec, need_v_seq)
