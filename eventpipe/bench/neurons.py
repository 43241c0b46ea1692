"""Benchmark of the multi-step LIF neuron: forward + backward through time on ``[T, N, C, H, W]``.

On the CPU the fused torch backend is timed against autograd through a plain per-step loop
(:func:`eventpipe.snn.dynamics.multistep_loop`) in the same run. On a GPU the CuPy kernels are timed against
the torch backend, and their achieved memory bandwidth is reported as a fraction of the device's peak,
measured in the same run as a device-to-device copy.

Bytes moved by a fused forward + backward pass: the forward reads ``x`` and writes ``h`` and the spikes, the
backward reads ``dL/dS`` and ``h`` and writes ``dL/dx``: ``6 * T * N * C * H * W * itemsize`` (the one-step
state vectors are negligible).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

from eventpipe.bench.report import best_time
from eventpipe.errors import ConfigError
from eventpipe.snn.cuda import backend as cuda_backend
from eventpipe.snn.dynamics import NeuronSpec, multistep_loop
from eventpipe.snn.fused import fused_multistep

__all__ = ["FULL_SHAPE", "SMALL_SHAPE", "bench_neurons", "device_copy_bandwidth"]

FULL_SHAPE = (20, 16, 128, 32, 32)
SMALL_SHAPE = (20, 2, 64, 32, 32)
_PASSES = 6  # sequence-sized reads and writes of a fused forward + backward pass


def _synchronized(fn: Callable[[], Any], device: torch.device) -> Callable[[], None]:
    def run() -> None:
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    return run


def device_copy_bandwidth(device: torch.device, nbytes: int = 1 << 30, repeat: int = 10) -> float:
    """Peak memory bandwidth in bytes/s: a device-to-device copy of ``nbytes`` (read + write counted)."""
    src = torch.empty(nbytes // 4, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    run = _synchronized(lambda: dst.copy_(src), device)
    run()
    return 2 * src.numel() * 4 / best_time(run, repeat=repeat)


def _fwd_bwd(
    impl: Callable[[torch.Tensor], torch.Tensor],
    shape: tuple[int, ...],
    dtype: torch.dtype,
    device: torch.device,
) -> Callable[[], None]:
    gen = torch.Generator(device=device).manual_seed(0)
    x = (torch.rand(shape, generator=gen, device=device) * 1.5).to(dtype).requires_grad_()
    grad = torch.randn(shape, generator=gen, device=device).to(dtype)

    def run() -> None:
        x.grad = None
        torch.autograd.backward(impl(x), grad)

    return _synchronized(run, device)


def bench_neurons(
    shape: tuple[int, ...] = FULL_SHAPE,
    *,
    repeat: int = 3,
    cpu: bool = True,
    gpu: bool = True,
) -> dict[str, Any]:
    """Time LIF (tau 2, hard reset, sigmoid surrogate) forward + backward; returns a plain dict.

    Parameters
    ----------
    shape:
        ``(T, N, C, H, W)``.
    repeat:
        Timed repetitions per variant (the best is reported, after one warm-up call).
    cpu, gpu:
        Which device sections to run (the GPU one only when PyTorch sees a CUDA device).
    """
    if len(shape) != 5 or min(shape) < 1:
        raise ConfigError(
            f"Expected a shape of five positive integers (T, N, C, H, W). Got {shape!r} instead."
        )
    spec = NeuronSpec(kind="lif", tau=2.0)
    elements = 1
    for n in shape:
        elements *= n
    result: dict[str, Any] = {
        "shape": list(shape),
        "neuron": "LIF tau=2, hard reset, sigmoid surrogate",
        "rows": [],
        "cpu_speedup": None,
        "gpu": None,
    }
    rows: list[dict[str, Any]] = result["rows"]

    def add(
        device: torch.device, backend: str, dtype: torch.dtype, impl: Callable[[torch.Tensor], torch.Tensor]
    ) -> float:
        seconds = best_time(_fwd_bwd(impl, shape, dtype, device), repeat=repeat)
        moved = _PASSES * elements * torch.empty((), dtype=dtype).element_size()
        rows.append({
            "device": device.type,
            "backend": backend,
            "dtype": str(dtype).replace("torch.", ""),
            "ms": seconds * 1e3,
            "GB/s": moved / seconds / 1e9,
        })  # fmt: skip
        return seconds

    fused = lambda x: fused_multistep(x, spec)[0]  # noqa: E731
    loop = lambda x: multistep_loop(x, spec)[0]  # noqa: E731
    if cpu:
        cpu_dev = torch.device("cpu")
        t_loop = add(cpu_dev, "loop (autograd per step)", torch.float32, loop)
        t_fused = add(cpu_dev, "torch (fused)", torch.float32, fused)
        result["cpu_speedup"] = t_loop / t_fused
        rows[-1]["speedup"] = t_loop / t_fused
    if gpu and torch.cuda.is_available():
        dev = torch.device("cuda", torch.cuda.current_device())
        peak = device_copy_bandwidth(dev)
        gpu_info: dict[str, Any] = {"device": torch.cuda.get_device_name(dev), "peak_copy_GB/s": peak / 1e9}
        t_loop = add(dev, "loop (autograd per step)", torch.float32, loop)
        t_torch = add(dev, "torch (fused)", torch.float32, fused)
        rows[-1]["speedup"] = t_loop / t_torch
        if cuda_backend.is_available():
            cupy = lambda x: cuda_backend.cupy_multistep(x, spec)[0]  # noqa: E731
            t_cupy = add(dev, "cupy", torch.float32, cupy)
            rows[-1]["speedup"] = t_loop / t_cupy
            gpu_info["cupy_vs_torch"] = t_torch / t_cupy
            gpu_info["cupy_fraction_of_peak"] = rows[-1]["GB/s"] * 1e9 / peak
            add(dev, "torch (fused)", torch.float16, fused)
            add(dev, "cupy", torch.float16, cupy)
            gpu_info["cupy_fp16_fraction_of_peak"] = rows[-1]["GB/s"] * 1e9 / peak
        else:
            gpu_info["cupy"] = f"unavailable: {cuda_backend.unavailable_reason()}"
        for row in rows:
            if row["device"] == "cuda":
                row["of_peak"] = row["GB/s"] * 1e9 / peak
        result["gpu"] = gpu_info
    result["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    return result
