"""Choosing and running a multi-step neuron backend: ``"torch"``, ``"numba"``, ``"cupy"``, ``"triton"`` or
``"auto"``.

* ``"torch"``: :mod:`eventpipe.snn.fused`, on any device and dtype.
* ``"numba"``: :mod:`eventpipe.snn.cpu.backend`, the same fused neuron as compiled CPU kernels (float32 and
  float64 CPU tensors, spiking surrogates of :mod:`eventpipe.snn.surrogate`).
* ``"cupy"``: :mod:`eventpipe.snn.cuda.backend`, fused CUDA kernels (float32, float16, bfloat16 on a GPU).
* ``"triton"``: :mod:`eventpipe.snn.triton.backend`, the same kernels written in Triton (same neurons and
  dtypes as ``"cupy"``; CPU tensors only under Triton's interpreter, ``TRITON_INTERPRET=1``).
* ``"auto"``: for an input on the GPU, the first of ``"triton"``, ``"cupy"`` (:data:`AUTO_ORDER`) whose
  dependency is installed and whose kernels implement the neuron and dtype; for a CPU tensor ``"numba"`` when
  its kernels implement the neuron and dtype; ``"torch"`` otherwise. All give the same float32 spikes (see
  the parity tests).

Asking for ``"numba"``, ``"cupy"`` or ``"triton"`` explicitly where it cannot run is an error, never a silent
fallback.

What ``"auto"`` means can be overridden process-wide: :func:`set_backend` (``set_backend("torch")``), or
else the environment variable ``EVENTPIPE_NEURON_BACKEND`` (one of :data:`BACKENDS`). The override then
acts as if every ``backend="auto"`` named it, errors included; a backend passed explicitly still wins.
"""

from __future__ import annotations

import os

import torch

from eventpipe.errors import ConfigError, MissingDependencyError
from eventpipe.snn.cpu import backend as cpu_backend
from eventpipe.snn.cuda import backend as cuda_backend
from eventpipe.snn.dynamics import NeuronSpec, NeuronState, multistep_loop, neuron_step, rest_state
from eventpipe.snn.fused import fused_multistep
from eventpipe.snn.triton import backend as triton_backend

__all__ = [
    "AUTO_ORDER",
    "BACKENDS",
    "CPU_BACKENDS",
    "ENV_VAR",
    "check_backend",
    "default_backend",
    "run_multistep",
    "run_step",
    "select_backend",
    "set_backend",
]

BACKENDS = ("auto", "torch", "numba", "cupy", "triton")
AUTO_ORDER = ("triton", "cupy")  # GPU backends "auto" tries first to last before "torch"
CPU_BACKENDS = ("torch", "numba")  # backends that run CPU tensors (doctor checks them there)
ENV_VAR = "EVENTPIPE_NEURON_BACKEND"

_GPU_BACKENDS = {"cupy": cuda_backend, "triton": triton_backend}
_override: str | None = None


def _validate_name(backend: str, what: str = "argument backend") -> str:
    if backend not in BACKENDS:
        raise ConfigError(f"Unknown value {backend!r} for {what}. Valid values are {set(BACKENDS)}.")
    return backend


def set_backend(name: str | None) -> None:
    """Make ``"auto"`` mean ``name`` in this process; ``"auto"`` restores the automatic order and ``None``
    defers to the environment variable ``EVENTPIPE_NEURON_BACKEND`` again."""
    global _override
    _override = None if name is None else _validate_name(name)


def default_backend() -> str:
    """What ``"auto"`` stands for now: the :func:`set_backend` override, else ``$EVENTPIPE_NEURON_BACKEND``,
    else ``"auto"`` (the automatic order)."""
    if _override is not None:
        return _override
    env = os.environ.get(ENV_VAR, "").strip()
    return _validate_name(env, f"the environment variable {ENV_VAR}") if env else "auto"


def check_backend(backend: str, spec: NeuronSpec | None = None) -> str:
    """Validate a backend name; for an explicit GPU backend also check it can run here (and run ``spec``).

    Raises
    ------
    ConfigError
        Unknown name, or a neuron the kernels do not implement (``"numba"``: one it cannot run in any dtype).
    MissingDependencyError
        ``"cupy"`` or ``"triton"`` without its package or without a CUDA device.
    """
    _validate_name(backend)
    if backend == "numba" and spec is not None:
        reason = cpu_backend.unsupported_reason(spec, torch.float32)
        if reason is not None:
            raise ConfigError(f"backend='numba' cannot run this neuron: {reason}. Use backend='torch' or 'auto'.")
    module = _GPU_BACKENDS.get(backend)
    if module is not None:
        reason = module.unavailable_reason()
        if reason is not None:
            raise MissingDependencyError(
                f"backend={backend!r} cannot be used: {reason}. Use backend='torch' or 'auto'."
            )
        if spec is not None and spec.tensor_threshold:
            raise ConfigError(
                f"backend={backend!r} takes a number for v_threshold, not a tensor; use backend='torch' or 'auto'."
            )
        if spec is not None:
            module.check_supported(spec)
    return backend


def select_backend(backend: str, x_seq: torch.Tensor, spec: NeuronSpec) -> str:
    """The concrete backend (``"torch"``, ``"numba"``, ``"cupy"`` or ``"triton"``) that runs ``x_seq`` for
    ``backend``."""
    if backend == "auto":
        backend = default_backend()
    if backend != "auto":
        return check_backend(backend)
    if x_seq.is_cuda:
        for name in AUTO_ORDER:
            module = _GPU_BACKENDS[name]
            if module.unsupported_reason(spec, x_seq.dtype) is None and module.is_available():
                return name
    elif x_seq.device.type == "cpu" and cpu_backend.unsupported_reason(spec, x_seq.dtype) is None:
        return "numba"
    return "torch"


def _loop_multistep(
    x_seq: torch.Tensor, spec: NeuronSpec, v_init: torch.Tensor | None, k: torch.Tensor | None, backend: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A tensor threshold: the per-step autograd loop (the fused kernels take a number)."""
    if backend in _GPU_BACKENDS or backend == "numba":
        raise ConfigError(
            f"backend={backend!r} takes a number for v_threshold, not a tensor; use backend='torch' or 'auto'."
        )
    state = NeuronState(v_init) if v_init is not None else rest_state(x_seq.new_empty(x_seq.shape[1:]), spec)
    if x_seq.shape[0] == 0:
        return x_seq.clone(), x_seq.clone(), state.v
    s_seq, v_seq = multistep_loop(x_seq, spec, state, k)
    return s_seq, v_seq, v_seq[-1]


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
    ``k`` is the PLIF decay ``sigmoid(w)``. A tensor ``spec.v_threshold`` runs the per-step autograd loop.
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
    if spec.tensor_threshold:
        return _loop_multistep(x_seq, spec, v_init, k, backend)
    chosen = select_backend(backend, x_seq, spec)
    if chosen == "cupy":
        return cuda_backend.cupy_multistep(x_seq, spec, v_init, k, need_v_seq)
    if chosen == "numba":
        return cpu_backend.numba_multistep(x_seq, spec, v_init, k, need_v_seq)
    if chosen == "triton":
        return triton_backend.triton_multistep(x_seq, spec, v_init, k, need_v_seq)
    return fused_multistep(x_seq, spec, v_init, k, need_v_seq)


def run_step(
    x: torch.Tensor,
    spec: NeuronSpec,
    v: torch.Tensor | None = None,
    *,
    k: torch.Tensor | None = None,
    backend: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """One time step ``x`` ``[N, ...]`` from potential ``v`` (default: rest): ``(spikes, v after the reset)``.

    Where ``backend`` resolves to ``"numba"`` this is one fused kernel call (forward and backward), the
    single-step counterpart of :func:`run_multistep` with the same numerics; otherwise the per-step torch
    operations of :func:`eventpipe.snn.dynamics.neuron_step`. ``k`` is the PLIF decay ``sigmoid(w)``.
    """
    if x.dim() >= 1 and select_backend(backend, x.unsqueeze(0), spec) == "numba" and not spec.tensor_threshold:
        s, _, v_next = cpu_backend.numba_multistep(x.unsqueeze(0), spec, v, spec.learned_decay(k))
        return s[0], v_next
    s, state = neuron_step(x, None if v is None else NeuronState(v), spec, k if k is not None else spec.decay())
    return s, state.v
