"""The ``cupy`` backend: fused CUDA kernels from ``neuron.cu``, compiled with NVRTC through CuPy.

CuPy is optional (``pip install 'eventpipe[cuda]'``) and is imported only when a kernel is first needed.
Tensors stay PyTorch tensors: kernels receive their device pointers and run on PyTorch's current stream,
so they order correctly with the surrounding layers and with CUDA graphs or AMP.

Each combination of storage dtype, neuron kind, reset, ``decay_input`` (and for the backward pass
``detach_reset`` and surrogate) is one template instance of ``neuron_forward`` / ``neuron_backward``,
compiled once per process on first use and cached (a warm-up step keeps compilation out of timings).
"""

from __future__ import annotations

import functools
import importlib.resources
import itertools
from typing import Any

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from eventpipe.errors import ConfigError, MissingDependencyError
from eventpipe.snn.dynamics import NEURON_KINDS, NeuronSpec
from eventpipe.snn.kernel_io import backward_outputs, fixed_decay, forward_buffers, run_kernels, save_forward
from eventpipe.snn.surrogate import Surrogate

__all__ = [
    "CUDA_DTYPES",
    "COMPILE_OPTIONS",
    "check_supported",
    "cupy_multistep",
    "is_available",
    "kernel_names",
    "kernel_source",
    "unavailable_reason",
    "unsupported_reason",
]

# torch dtype -> storage type name in neuron.cu
CUDA_DTYPES: dict[torch.dtype, str] = {torch.float32: "float", torch.float16: "f16", torch.bfloat16: "bf16"}
_KIND_CODES = {"if": 0, "lif": 1, "plif": 2}
# --fmad=false: no contracted multiply-adds, so the charge rounds exactly like the torch backend's
COMPILE_OPTIONS = ("--std=c++14", "--fmad=false")
_THREADS = 256


def kernel_source() -> str:
    """The text of ``neuron.cu`` (shipped as package data)."""
    return importlib.resources.files(__package__).joinpath("neuron.cu").read_text(encoding="utf-8")


def _bool(b: bool) -> str:
    return "true" if b else "false"


def forward_kernel_name(dtype: str, kind: str, hard_reset: bool, decay_input: bool) -> str:
    """NVRTC name expression of one forward instance, e.g. ``neuron_forward<float, 1, true, true>``."""
    decay_input = decay_input or kind == "if"  # IF ignores it: one instance
    return f"neuron_forward<{dtype}, {_KIND_CODES[kind]}, {_bool(hard_reset)}, {_bool(decay_input)}>"


def backward_kernel_name(
    dtype: str, kind: str, hard_reset: bool, decay_input: bool, detach_reset: bool, surrogate_code: int
) -> str:
    """NVRTC name expression of one backward instance."""
    decay_input = decay_input or kind == "if"
    return (
        f"neuron_backward<{dtype}, {_KIND_CODES[kind]}, {_bool(hard_reset)}, {_bool(decay_input)}, "
        f"{_bool(detach_reset)}, {surrogate_code}>"
    )


def kernel_names(dtypes: tuple[str, ...] = tuple(CUDA_DTYPES.values())) -> list[str]:
    """Every template instance the backend can launch (the compile test instantiates all of them)."""
    from eventpipe.snn.surrogate import surrogate_from_name, surrogate_names

    codes = sorted(
        {c for c in (type(surrogate_from_name(n)).cuda_code for n in surrogate_names()) if c is not None}
    )
    names: set[str] = set()
    for dtype, kind, hard, decay in itertools.product(dtypes, NEURON_KINDS, (True, False), (True, False)):
        names.add(forward_kernel_name(dtype, kind, hard, decay))
        for detach, code in itertools.product((True, False), codes):
            names.add(backward_kernel_name(dtype, kind, hard, decay, detach, code))
    return sorted(names)


@functools.lru_cache(maxsize=1)
def _cupy() -> Any:
    try:
        import cupy
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            "backend='cupy' needs CuPy: pip install 'eventpipe[cuda]' (or the cupy-cudaXXx wheel "
            f"matching your CUDA), or use backend='torch' ({exc})"
        ) from exc
    return cupy


@functools.lru_cache(maxsize=1)
def unavailable_reason() -> str | None:
    """Why the backend cannot run here (no CUDA device, no CuPy), or ``None`` when it can."""
    if not torch.cuda.is_available():
        return "PyTorch sees no CUDA device"
    try:
        _cupy()
    except MissingDependencyError:
        return "CuPy is not installed (pip install 'eventpipe[cuda]')"
    return None


def is_available() -> bool:
    """True when CuPy imports and PyTorch sees a CUDA device."""
    return unavailable_reason() is None


def unsupported_reason(spec: NeuronSpec, dtype: torch.dtype | None = None) -> str | None:
    """Why the kernels cannot run ``spec`` (on ``dtype``), or ``None`` when they can."""
    sg: Surrogate = spec.surrogate
    if sg.cuda_code is None:
        return f"surrogate {type(sg).__name__} has no CUDA implementation"
    if not sg.spiking:
        return "surrogate functions with spiking=False are only implemented by the torch backend"
    if dtype is not None and dtype not in CUDA_DTYPES:
        valid = ", ".join(str(d).replace("torch.", "") for d in CUDA_DTYPES)
        return f"dtype {str(dtype).replace('torch.', '')} is not supported (valid: {valid})"
    return None


def _surrogate_code(spec: NeuronSpec) -> int:
    code = spec.surrogate.cuda_code
    if code is None:
        raise ConfigError(
            f"backend='cupy' cannot run surrogate {type(spec.surrogate).__name__}; use backend='torch'."
        )
    return code


def check_supported(spec: NeuronSpec, dtype: torch.dtype | None = None) -> None:
    """Raise :class:`ConfigError` when the kernels cannot run ``spec``."""
    reason = unsupported_reason(spec, dtype)
    if reason is not None:
        raise ConfigError(f"backend='cupy' cannot run this neuron: {reason}; use backend='torch'.")


@functools.cache
def _kernel(name: str, device_index: int) -> Any:
    """One compiled instance, loaded on one device (call inside ``cupy.cuda.Device(device_index)``)."""
    cupy = _cupy()
    module = cupy.RawModule(code=kernel_source(), options=COMPILE_OPTIONS, name_expressions=[name])
    return module.get_function(name)


def _ptr(t: torch.Tensor | None) -> np.uint64:
    """A tensor's device address as a kernel argument (0 is the null pointer)."""
    return np.uint64(0 if t is None else t.data_ptr())


def _launch(name: str, device: torch.device, numel: int, args: tuple[Any, ...]) -> None:
    cupy = _cupy()
    index = device.index if device.index is not None else torch.cuda.current_device()
    blocks = (numel + _THREADS - 1) // _THREADS
    with cupy.cuda.Device(index):
        kernel = _kernel(name, index)
        with cupy.cuda.ExternalStream(torch.cuda.current_stream(index).cuda_stream):
            kernel((blocks,), (_THREADS,), args)


class _CupyNeuron(torch.autograd.Function):
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
        dtype = CUDA_DTYPES[x_seq.dtype]
        b = forward_buffers(x_seq, None if v_init is None else v_init.to(x_seq.dtype), k_tensor, need_v_seq)
        name = forward_kernel_name(dtype, spec.kind, spec.hard_reset, spec.decay_input)
        args = (
            _ptr(b.x_seq), _ptr(b.v0), _ptr(b.h_seq), _ptr(b.s_seq), _ptr(b.v_seq), _ptr(b.v_last), _ptr(b.k_dev),
            np.float32(fixed_decay(spec)), np.float32(spec.v_threshold), np.float32(spec.v_rest),
            np.int32(b.steps), np.int64(b.numel),
        )  # fmt: skip
        _launch(name, b.x_seq.device, b.numel, args)
        ctx.backward_name = backward_kernel_name(
            dtype, spec.kind, spec.hard_reset, spec.decay_input, spec.detach_reset, _surrogate_code(spec)
        )
        return save_forward(ctx, spec, v_init, k_tensor, b)

    @staticmethod
    @once_differentiable
    def backward(
        ctx: Any,
        grad_s_seq: torch.Tensor | None,
        grad_v_seq: torch.Tensor | None,
        grad_v_last: torch.Tensor | None,
    ) -> tuple[torch.Tensor | None, ...]:
        h_seq, v0, k_dev = ctx.saved_tensors
        spec: NeuronSpec = ctx.spec
        steps, numel = h_seq.shape[0], h_seq[0].numel()

        def prepared(g: torch.Tensor | None) -> torch.Tensor | None:
            return None if g is None else g.to(h_seq.dtype).contiguous()

        # keep every argument tensor referenced until the launch: a temporary freed earlier could hand its
        # memory to the next allocation and two pointers would alias
        grad_s, grad_v, grad_last = prepared(grad_s_seq), prepared(grad_v_seq), prepared(grad_v_last)
        grad_x = torch.empty_like(h_seq)
        grad_v_init = torch.empty_like(h_seq[0]) if ctx.needs_input_grad[1] else None
        grad_decay = torch.zeros(1, dtype=torch.float32, device=h_seq.device) if k_dev is not None else None
        args = (
            _ptr(grad_s), _ptr(grad_v), _ptr(grad_last), _ptr(h_seq),
            _ptr(v0), _ptr(grad_x), _ptr(grad_v_init), _ptr(grad_decay), _ptr(k_dev),
            np.float32(fixed_decay(spec)), np.float32(spec.v_threshold), np.float32(spec.v_rest),
            np.float32(spec.surrogate.alpha), np.int32(steps), np.int64(numel),
        )  # fmt: skip
        _launch(ctx.backward_name, h_seq.device, numel, args)
        return backward_outputs(ctx, grad_x, grad_v_init, grad_decay)


def cupy_multistep(
    x_seq: torch.Tensor,
    spec: NeuronSpec,
    v_init: torch.Tensor | None = None,
    k: torch.Tensor | None = None,
    need_v_seq: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Same contract as :func:`eventpipe.snn.fused.fused_multistep`, on CUDA tensors."""
    if not x_seq.is_cuda:
        raise ConfigError(
            f"backend='cupy' needs CUDA tensors, got a tensor on {x_seq.device}; move the model and data "
            "to a GPU or use backend='torch'."
        )
    check_supported(spec, x_seq.dtype)
    return run_kernels(_CupyNeuron.apply, x_seq, spec, v_init, k, need_v_seq)
