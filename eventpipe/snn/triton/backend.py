"""The ``triton`` backend: the fused kernels of :mod:`eventpipe.snn.triton.kernels` behind autograd.

Triton is optional (``pip install 'eventpipe[triton]'``) and imported only when a kernel is first needed.
It runs the neurons, storage dtypes and surrogates of the ``cupy`` backend (the same support check and
surrogate codes), on CUDA tensors; with ``TRITON_INTERPRET=1`` it also runs CPU tensors through Triton's
interpreter (slow: that is for testing the kernels without a GPU). The variable must be set before Triton
itself is imported, since Triton decorates its own library functions then.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
from types import ModuleType
from typing import Any

import torch
from torch.autograd.function import once_differentiable

from eventpipe.errors import ConfigError, MissingDependencyError
from eventpipe.snn.cuda import backend as cuda_backend
from eventpipe.snn.dynamics import NeuronSpec
from eventpipe.snn.kernel_io import backward_outputs, fixed_decay, forward_buffers, run_kernels, save_forward

__all__ = [
    "check_supported",
    "interpreting",
    "is_available",
    "triton_multistep",
    "unavailable_reason",
    "unsupported_reason",
]

_KIND_CODES = {"if": 0, "lif": 1, "plif": 2}  # the KIND codes of neuron.cu and kernels.py
_BLOCK = 256
# no contracted multiply-adds, so the charge rounds exactly like the torch backend's (as --fmad=false for cupy)
_LAUNCH_OPTIONS = {"enable_fp_fusion": False}


def interpreting() -> bool:
    """True when ``TRITON_INTERPRET=1``: kernels run on CPU tensors through Triton's interpreter."""
    return os.environ.get("TRITON_INTERPRET", "") == "1"


@functools.lru_cache(maxsize=1)
def _kernels() -> ModuleType:
    try:
        from eventpipe.snn.triton import kernels
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            f"backend='triton' needs Triton: pip install 'eventpipe[triton]', or use backend='torch' ({exc})"
        ) from exc
    return kernels


def unavailable_reason() -> str | None:
    """Why the backend cannot run here (no Triton, no CUDA device outside the interpreter), or ``None``.

    Triton is looked up, not imported: it is imported with the kernels on first use.
    """
    if importlib.util.find_spec("triton") is None:
        return "Triton is not installed (pip install 'eventpipe[triton]')"
    if not interpreting() and not torch.cuda.is_available():
        return "PyTorch sees no CUDA device (TRITON_INTERPRET=1 runs the kernels on the CPU, slowly)"
    return None


def is_available() -> bool:
    """True when Triton imports and PyTorch sees a CUDA device (or Triton's interpreter is on)."""
    return unavailable_reason() is None


def unsupported_reason(spec: NeuronSpec, dtype: torch.dtype | None = None) -> str | None:
    """Why the kernels cannot run ``spec`` (on ``dtype``), or ``None``: the ``cupy`` backend's support."""
    return cuda_backend.unsupported_reason(spec, dtype)


def check_supported(spec: NeuronSpec, dtype: torch.dtype | None = None) -> None:
    """Raise :class:`ConfigError` when the kernels cannot run ``spec``."""
    reason = unsupported_reason(spec, dtype)
    if reason is not None:
        raise ConfigError(f"backend='triton' cannot run this neuron: {reason}; use backend='torch'.")


def _grid(numel: int) -> tuple[int]:
    return ((numel + _BLOCK - 1) // _BLOCK,)


def _on(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """Triton launches on the current CUDA device: make it the tensors' one (nothing to do on the CPU)."""
    return torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext()


class _TritonNeuron(torch.autograd.Function):
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
        # v_init is read in its own dtype and converted to float32 in the kernel, as the torch backend does
        b = forward_buffers(x_seq, None if v_init is None else v_init.detach(), k_tensor, need_v_seq)
        x = b.x_seq
        # v_threshold as a float: Triton types a Python int as an integer argument (and specializes 1)
        with _on(x.device):
            _kernels().neuron_forward[_grid(b.numel)](
                x, x if b.v0 is None else b.v0, b.h_seq, b.s_seq, x if b.v_seq is None else b.v_seq, b.v_last,
                x if b.k_dev is None else b.k_dev,
                fixed_decay(spec), float(spec.v_threshold), spec.v_rest, b.steps, b.numel,
                KIND=_KIND_CODES[spec.kind], HARD_RESET=spec.hard_reset, DECAY_INPUT=spec.decay_input,
                HAS_V_INIT=b.v0 is not None, STORE_V_SEQ=need_v_seq, BLOCK=_BLOCK, **_LAUNCH_OPTIONS,
            )  # fmt: skip
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

        def prepared(g: torch.Tensor | None) -> torch.Tensor:
            return h_seq if g is None else g.to(h_seq.dtype).contiguous()

        grad_x = torch.empty_like(h_seq)
        want_v0 = ctx.needs_input_grad[1]
        grad_v_init = (
            torch.empty(h_seq.shape[1:], dtype=torch.float32, device=h_seq.device) if want_v0 else None
        )
        grad_decay = torch.zeros(1, dtype=torch.float32, device=h_seq.device) if k_dev is not None else None
        with _on(h_seq.device):
            _kernels().neuron_backward[_grid(numel)](
                prepared(grad_s_seq), prepared(grad_v_seq), prepared(grad_v_last), h_seq,
                h_seq if v0 is None else v0, grad_x, h_seq if grad_v_init is None else grad_v_init,
                h_seq if grad_decay is None else grad_decay, h_seq if k_dev is None else k_dev,
                fixed_decay(spec), float(spec.v_threshold), spec.v_rest, spec.surrogate.alpha,
                steps, numel,
                KIND=_KIND_CODES[spec.kind], HARD_RESET=spec.hard_reset, DECAY_INPUT=spec.decay_input,
                DETACH_RESET=spec.detach_reset, SG=spec.surrogate.cuda_code,
                HAS_GRAD_S=grad_s_seq is not None, HAS_GRAD_V_SEQ=grad_v_seq is not None,
                HAS_GRAD_V_LAST=grad_v_last is not None, HAS_V_INIT=v0 is not None,
                STORE_GRAD_V_INIT=want_v0, BLOCK=_BLOCK, **_LAUNCH_OPTIONS,
            )  # fmt: skip
        return backward_outputs(ctx, grad_x, grad_v_init, grad_decay)


def triton_multistep(
    x_seq: torch.Tensor,
    spec: NeuronSpec,
    v_init: torch.Tensor | None = None,
    k: torch.Tensor | None = None,
    need_v_seq: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Same contract as :func:`eventpipe.snn.fused.fused_multistep`, on CUDA tensors (any tensor when interpreting)."""
    check_supported(spec, x_seq.dtype)
    if not x_seq.is_cuda and not interpreting():
        raise ConfigError(
            f"backend='triton' needs CUDA tensors, got a tensor on {x_seq.device}; move the model and data "
            "to a GPU or use backend='torch'."
        )
    return run_kernels(_TritonNeuron.apply, x_seq, spec, v_init, k, need_v_seq)
