"""Choosing and running a multi-step neuron backend: ``"torch"``, ``"cupy"`` or ``"auto"``.

* ``"torch"``: :mod:`eventpipe.snn.fused`, on any device and dtype.
* ``"cupy"``: :mod:`eventpipe.snn.cuda.backend`, fused CUDA kernels (float32, float16, bfloat16 on a GPU).
  Asking for it explicitly where it cannot run is an error, never a silent fallback.
* ``"auto"``: ``"cupy"`` when CuPy and a CUDA device are present, the input is on the GPU and the kernels
  implement the neuron and dtype; ``"torch"`` otherwise. Both give the same spikes (see the parity tests).
"""

from __future__ import annotations

import torch

from eventpipe.errors import ConfigError, MissingDependencyError
from eventpipe.snn.cuda import backend as cuda_backend
from eventpipe.snn.dynamics import NeuronSpec
from eventpipe.snn.fused import fused_multistep

__all__ = ["BACKENDS", "check_backend", "run_multistep", "select_backend"]

BACKENDS = ("auto", "torch", "cupy")


def check_backend(backend: str, spec: NeuronSpec | None = None) -> str:
    """Validate a backend name; for an explicit ``"cupy"`` also check it can run here (and run ``spec``).

    Raises
    ------
    ConfigError
        Unknown name, or a neuron the CUDA kernels do not implement.
    MissingDependencyError
        ``"cupy"`` without CuPy or without a CUDA device.
    """
    if backend not in BACKENDS:
        raise ConfigError(
            f"Unknown value {backend!r} for argument backend. Valid values are {set(BACKENDS)}."
        )
    if backend == "cupy":
        reason = cuda_backend.unavailable_reason()
        if reason is not None:
            raise MissingDependencyError(
                f"backend='cupy' cannot be used: {reason}. Use backend='torch' or 'auto'."
            )
        if spec is not None:
            cuda_backend.check_supported(spec)
    return backend


def select_backend(backend: str, x_seq: torch.Tensor, spec: NeuronSpec) -> str:
    """The concrete backend (``"torch"`` or ``"cupy"``) that runs ``x_seq`` for the requested ``backend``."""
    check_backend(backend)
    if backend != "auto":
        return backend
    if (
        x_seq.is_cuda
        and cuda_backend.unsupported_reason(spec, x_seq.dtype) is None
        and cuda_backend.is_available()
    ):
        return "cupy"
    return "torch"


def run_multistep(
    x_seq: torch.Tensor,
    spec: NeuronSpec,
    *,
    v_init: torch.Tensor | None = None,
    k: torch.Tensor | None = None,
    backend: str = "auto",
    need_v_seq: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Run a neuron over ``x_seq`` ``[T, N, ...]`` from ``v_init`` (default: rest).

    Returns ``(spikes [T, N, ...], v_seq [T, N, ...] or None, v_last [N, ...])``, all differentiable;
    ``k`` is the PLIF decay ``sigmoid(w)``.
    """
    if x_seq.dim() < 2:
        raise ConfigError(
            f"Expected a [T, N, ...] input with at least 2 dimensions. Got shape {tuple(x_seq.shape)}."
        )
    if not x_seq.is_floating_point():
        raise ConfigError(f"Expected a floating-point input. Got dtype {x_seq.dtype}.")
    if v_init is not None and v_init.shape != x_seq.shape[1:]:
        raise ConfigError(
            f"Expected v_init of shape {tuple(x_seq.shape[1:])} (one time step). "
            f"Got {tuple(v_init.shape)} instead."
        )
    if select_backend(backend, x_seq, spec) == "cupy":
        return cuda_backend.cupy_multistep(x_seq, spec, v_init, k, need_v_seq)
    return fused_multistep(x_seq, spec, v_init, k, need_v_seq)
