"""The ``numba`` backend: the fused neuron of :mod:`eventpipe.snn.fused` as compiled CPU kernels.

Same inputs, outputs and gradients as the torch backend (float32 and float64 CPU tensors, spiking surrogates
of :mod:`eventpipe.snn.surrogate`); the charge follows the torch backend's operation order, so spikes,
``v_seq`` and ``v_last`` are bit-identical in float32. Gradients agree to rounding: the surrogate derivatives
are evaluated by the kernels' own formulas. The kernels run on ``torch.get_num_threads()`` threads (capped by
Numba's pool), and the PLIF decay gradient is summed per block of neurons in a fixed order, so results do not
depend on the thread count.

The threads are Python threads running disjoint ranges of neuron blocks (the kernels release the GIL), as
in :func:`eventpipe.snn.fused._each_chunk`: waiting threads sleep rather than spin, which matters next to
PyTorch's own OpenMP pool on a busy machine, and concurrent calls from several threads are safe.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from eventpipe.errors import ConfigError
from eventpipe.snn.cpu import kernels
from eventpipe.snn.dynamics import NeuronSpec
from eventpipe.snn.surrogate import Surrogate, surrogate_from_name

__all__ = ["DTYPES", "numba_multistep", "unsupported_reason"]

DTYPES = (torch.float32, torch.float64)

MultistepResult = tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]


def _builtin(surrogate: Surrogate) -> bool:
    """Whether ``surrogate`` is one of :mod:`eventpipe.snn.surrogate`'s classes (not a subclass)."""
    return surrogate.name in kernels.SURROGATE_CODES and type(surrogate) is type(surrogate_from_name(surrogate.name))


def unsupported_reason(spec: NeuronSpec, dtype: torch.dtype) -> str | None:
    """Why the kernels cannot run ``spec`` on CPU tensors of ``dtype``, or ``None`` when they can."""
    if dtype not in DTYPES:
        return f"the numba kernels take float32 or float64, not {str(dtype).replace('torch.', '')}"
    if spec.tensor_threshold:
        return "the numba kernels take a number for v_threshold, not a tensor"
    if not _builtin(spec.surrogate):
        return f"the numba kernels have no derivative for surrogate {type(spec.surrogate).__name__}"
    if not spec.surrogate.spiking:
        return "the numba kernels fire spikes; a surrogate with spiking=False runs on backend='torch'"
    return None


def _check(x_seq: torch.Tensor, spec: NeuronSpec) -> None:
    if x_seq.device.type != "cpu":
        raise ConfigError(
            f"backend='numba' runs CPU tensors; got one on {x_seq.device}. Use backend='auto' or move it to the CPU."
        )
    reason = unsupported_reason(spec, x_seq.dtype)
    if reason is not None:
        raise ConfigError(f"backend='numba' cannot run this neuron: {reason}. Use backend='torch' or 'auto'.")


def _surrogate_params(surrogate: Surrogate, dtype: np.dtype) -> tuple[Any, Any, Any]:
    values = [float(getattr(surrogate, n)) for n in surrogate.hyperparameters]
    values += [0.0] * (3 - len(values))
    return tuple(dtype.type(v) for v in values)


def _decay(spec: NeuronSpec, k_tensor: torch.Tensor | None, dtype: np.dtype) -> tuple[Any, Any]:
    """``(k, 1 - k)`` as the kernels' scalars (the torch backend rounds them to the dtype the same way)."""
    if spec.kind == "plif":
        assert k_tensor is not None
        k = dtype.type(k_tensor.detach().to(torch.float64).item())
        return k, dtype.type(1) - k
    if spec.kind == "lif":
        return dtype.type(1.0 / spec.tau), dtype.type(1.0 - 1.0 / spec.tau)
    return dtype.type(0), dtype.type(1)


def _over_blocks(kernel: Callable[..., None], numel: int, *args: Any) -> None:
    """``kernel(b0, b1, *args)`` over all blocks, split in contiguous ranges over ``torch.get_num_threads()``."""
    count = kernels.blocks(numel)
    threads = min(torch.get_num_threads(), count)
    if threads <= 1:
        kernel(0, count, *args)
        return
    bounds = [count * i // threads for i in range(threads + 1)]
    with ThreadPoolExecutor(threads, thread_name_prefix="eventpipe-numba") as pool:
        for future in [pool.submit(kernel, lo, hi, *args) for lo, hi in itertools.pairwise(bounds)]:
            future.result()


def _array(t: torch.Tensor | None, dtype: torch.dtype, shape: tuple[int, ...], dummy: np.ndarray) -> np.ndarray:
    """``t`` as a contiguous NumPy array of ``shape`` in ``dtype``, or ``dummy`` when absent."""
    if t is None:
        return dummy
    return t.detach().to(dtype).contiguous().reshape(shape).numpy()


class _NumbaNeuron(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        x_seq: torch.Tensor,
        v_init: torch.Tensor | None,
        k_tensor: torch.Tensor | None,
        spec: NeuronSpec,
        need_v_seq: bool,
    ) -> MultistepResult:
        ctx.set_materialize_grads(False)
        steps, shape = x_seq.shape[0], x_seq.shape[1:]
        numel = shape.numel()
        dtype = x_seq.dtype
        x2 = x_seq.detach().contiguous().reshape(steps, numel)
        v0 = (
            torch.full((numel,), spec.v_rest, dtype=dtype)
            if v_init is None
            else v_init.detach().to(dtype).contiguous().reshape(numel)
        )
        store_h = any(ctx.needs_input_grad[:3])
        s2 = torch.empty_like(x2)
        h2 = torch.empty_like(x2) if store_h else x2.new_empty(1, 1)
        v2 = torch.empty_like(x2) if need_v_seq else x2.new_empty(1, 1)
        v_last = torch.empty_like(v0)
        np_dtype = x2.numpy().dtype
        k, _ = _decay(spec, k_tensor, np_dtype)
        vr = np_dtype.type(spec.v_rest)
        _over_blocks(
            kernels.forward, numel, x2.numpy(), v0.numpy(), h2.numpy(), s2.numpy(), v2.numpy(), v_last.numpy(),
            0 if spec.kind == "if" else 1, spec.decay_input, spec.hard_reset, k, vr,
            np_dtype.type(spec.v_threshold), vr, store_h, need_v_seq,
        )  # fmt: skip
        ctx.spec = spec
        ctx.x_shape = x_seq.shape
        ctx.v_init_dtype = None if v_init is None else v_init.dtype
        if store_h:
            ctx.save_for_backward(h2, v0, k_tensor)
        return s2.view(x_seq.shape), v2.view(x_seq.shape) if need_v_seq else None, v_last.view(shape)

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
        want_x, want_v0, want_k = ctx.needs_input_grad[:3]
        steps, numel = h2.shape
        np_dtype = h2.numpy().dtype
        dummy2, dummy1 = np.zeros((1, 1), np_dtype), np.zeros(1, np_dtype)
        gs = _array(grad_s_seq, h2.dtype, (steps, numel), dummy2)
        gv = _array(grad_v_seq, h2.dtype, (steps, numel), dummy2)
        gl = _array(grad_v_last, h2.dtype, (numel,), dummy1)
        grad_x = torch.empty_like(h2)
        grad_v = torch.empty_like(v0)
        grad_k_blocks = np.zeros(kernels.blocks(numel), np.float64)
        k, one_minus_k = _decay(spec, k_tensor, np_dtype)
        leaky = spec.kind != "if"
        one = np_dtype.type(1)
        sg = spec.surrogate
        vr = np_dtype.type(spec.v_rest)
        _over_blocks(
            kernels.backward, numel, h2.numpy(), v0.numpy(), gs, gv, gl, grad_x.numpy(), grad_v.numpy(), grad_k_blocks,
            grad_s_seq is not None, grad_v_seq is not None, grad_v_last is not None,
            spec.decay_input, spec.hard_reset, spec.detach_reset,
            k if leaky else one, k if (leaky and spec.decay_input) else one, one_minus_k if leaky else one,
            vr, np_dtype.type(spec.v_threshold), vr,
            kernels.SURROGATE_CODES[sg.name], *_surrogate_params(sg, np_dtype), bool(want_k and k_tensor is not None),
        )  # fmt: skip
        grad_k = None
        if want_k and k_tensor is not None:  # blocks summed in their order: deterministic
            grad_k = torch.tensor(grad_k_blocks.sum(), dtype=h2.dtype).reshape(k_tensor.shape).to(k_tensor.dtype)
        return (
            grad_x.view(ctx.x_shape) if want_x else None,
            grad_v.view(ctx.x_shape[1:]).to(ctx.v_init_dtype) if want_v0 else None,
            grad_k,
            None,
            None,
        )


def numba_multistep(
    x_seq: torch.Tensor,
    spec: NeuronSpec,
    v_init: torch.Tensor | None = None,
    k: torch.Tensor | None = None,
    need_v_seq: bool = False,
) -> MultistepResult:
    """:func:`eventpipe.snn.fused.fused_multistep` on the compiled kernels (same arguments and results).

    Raises
    ------
    ConfigError
        A tensor on another device than the CPU, a dtype other than float32/float64, a tensor threshold,
        or a surrogate the kernels do not implement (a subclass, or ``spiking=False``).
    """
    _check(x_seq, spec)
    k = spec.learned_decay(k)
    if x_seq.numel() == 0:
        from eventpipe.snn.fused import fused_multistep

        return fused_multistep(x_seq, spec, v_init, k, need_v_seq)
    return _NumbaNeuron.apply(x_seq, v_init, k, spec, need_v_seq)
